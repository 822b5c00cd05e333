//! `[database]`: the store's URL, SQLite or PostgreSQL.

use super::check::Check;
use crate::config::raw::RawDatabase;

pub(super) fn validate(c: &mut Check, d: &RawDatabase) -> String {
    let database_url = d
        .url
        .clone()
        .unwrap_or_else(|| "sqlite://leadgate.db".into());
    if !(database_url.starts_with("sqlite:")
        || database_url.starts_with("postgres://")
        || database_url.starts_with("postgresql://"))
    {
        c.add(
            "database.url",
            format!("{database_url:?} is not a database URL"),
            "use \"sqlite://leadgate.db\" or \"postgres://user@host/db\"",
        );
    }
    database_url
}
