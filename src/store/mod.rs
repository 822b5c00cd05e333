//! The database behind one type: SQLite (WAL) by default, PostgreSQL by URL. Queries are
//! written once, in SQL both accept, and run through sqlx's `Any` driver; where the two
//! differ (leasing rows), [`Backend`] picks the dialect. Migrations run at open.
//!
//! Submodules hold the queries by table; each takes a [`Db`] (a unit of work, [`Tx`], or
//! a pooled connection, [`Conn`]) so callers compose them into one transaction (the
//! pipeline writes a message, its lead, activities, outbox rows and the checkpoint
//! together). This module is the only one that speaks SQL or names sqlx: what leaves it
//! is our own types and [`Error`].

pub mod board;
pub mod drift;
mod error;
mod held;
pub mod leads;
pub mod locks;
pub mod messages;
pub mod outbox;
pub mod relay;
pub mod routing;
pub mod state;
mod tx;

pub use error::{Error, Result};
pub use held::{EmailRef, MessageRef};
pub use leads::NewActivity;
pub use tx::{Conn, Db, Savepoint, Tx};

use anyhow::Context;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::ConnectOptions;
use sqlx::{AnyConnection, AnyPool};
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Connects, creating a SQLite file if needed, and runs the migrations.
    pub async fn open(url: &str) -> anyhow::Result<Store> {
        sqlx::any::install_default_drivers();
        let (backend, url) = if url.starts_with("sqlite:") {
            // rwc: create the file on first start.
            let url = if url.contains('?') || url.contains(":memory:") {
                url.to_owned()
            } else {
                format!("{url}?mode=rwc")
            };
            (Backend::Sqlite, url)
        } else {
            (Backend::Postgres, url.to_owned())
        };
        let options = AnyConnectOptions::from_str(&url)
            .with_context(|| format!("database.url {url:?} is not a database URL"))?
            // The sweep's scan of a million leads takes about a second by design; a warning
            // every minute for it would hide the statements that really are slow.
            .log_slow_statements(log::LevelFilter::Warn, std::time::Duration::from_secs(5));
        let pool = match backend {
            // SQLite has one writer; one connection per process serialises our own
            // transactions instead of failing them with SQLITE_BUSY on lock upgrades.
            Backend::Sqlite => AnyPoolOptions::new()
                .max_connections(1)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        sqlx::query("PRAGMA busy_timeout = 10000")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA foreign_keys = ON")
                            .execute(&mut *conn)
                            .await?;
                        // In WAL mode NORMAL is still safe against a crash of leadgate
                        // (kill -9); only a power loss can undo the last commits, and then
                        // the IMAP checkpoint goes back with them, so the mail is fetched
                        // again. It saves an fsync per message.
                        sqlx::query("PRAGMA synchronous = NORMAL")
                            .execute(&mut *conn)
                            .await?;
                        // 1 MiB of page cache instead of 2: a miss is a read from the
                        // kernel's page cache, and what SQLite caches stays on the heap.
                        sqlx::query("PRAGMA cache_size = -1024")
                            .execute(&mut *conn)
                            .await?;
                        Ok(())
                    })
                }),
            Backend::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(8)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // Our queries are short; when the planner overestimates one (the
                            // sweep's scan at a million leads) JIT compilation took 0.7 s of
                            // its 1.3 s.
                            sqlx::query("SET jit = off").execute(&mut *conn).await?;
                            Ok(())
                        })
                    })
            }
        }
        .connect_with(options)
        .await
        .with_context(|| format!("cannot open the database {}", redact(&url)))?;
        if backend == Backend::Sqlite {
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await
                .context("cannot switch SQLite to WAL")?;
        }
        let migrator = match backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("migrations/postgres"),
        };
        // PostgreSQL migrations hold an advisory lock; SQLite's do not, so processes
        // starting together on a new file take turns on `<file>.migrate.lock`.
        let _turn = match sqlite_file(&url) {
            Some(path) => Some(migration_turn(path).await?),
            None => None,
        };
        migrator
            .run(&pool)
            .await
            .context("cannot run the database migrations")?;
        Ok(Store { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A unit of work: everything written through it commits together or not at all.
    pub async fn begin<'r>(&self) -> Result<Tx<'r>> {
        Ok(Tx::new(self.pool.begin().await?))
    }

    /// One round trip to the database (the systemd watchdog's health check).
    pub async fn ping(&self) -> Result<()> {
        let mut c = self.pool.acquire().await?;
        sqlx::query("SELECT 1").execute(&mut *c).await?;
        Ok(())
    }

    /// A connection of the pool for reads and single statements outside a unit of work.
    pub async fn acquire(&self) -> Result<Conn> {
        Ok(Conn::new(self.pool.acquire().await?))
    }

    /// Gives back memory that only speeds up work, once there is none left to do: SQLite's
    /// page cache (up to 1 MiB) and its prepared statements. PostgreSQL keeps its caches on
    /// the server.
    pub async fn release_memory(&self) -> Result<()> {
        if self.backend == Backend::Sqlite {
            let mut conn = self.pool.acquire().await?;
            sqlx::query("PRAGMA shrink_memory")
                .persistent(false)
                .execute(&mut *conn)
                .await?;
            sqlx::Connection::clear_cached_statements(&mut *conn).await?;
        }
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await
    }
}

/// Held while a daemon runs on a SQLite database: an exclusive lock on `<file>.lock`
/// beside it. SQLite has one writer and leadgate one leader, so a second daemon on the same
/// file is refused with the lock's path. `None` for PostgreSQL (several instances are fine
/// there) and for in-memory databases.
pub fn single_instance(url: &str) -> anyhow::Result<Option<std::fs::File>> {
    let Some(path) = sqlite_file(url) else {
        return Ok(None);
    };
    let lock_path = format!("{path}.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("cannot open the instance lock {lock_path}"))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => anyhow::bail!(
            "another leadgate daemon already runs on {path} (it holds {lock_path}); \
             SQLite is single-instance: stop it, or use PostgreSQL to run several"
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {lock_path}"))
        }
    }
}

/// The file behind a `sqlite:` URL; None for PostgreSQL and in-memory databases.
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite:")?;
    let path = rest.trim_start_matches("//");
    let path = path.split('?').next().unwrap_or(path);
    (!path.is_empty() && !path.contains(":memory:")).then_some(path)
}

/// Waits for an exclusive lock on `<file>.migrate.lock`; it is released when the returned
/// file is dropped.
async fn migration_turn(path: &str) -> anyhow::Result<std::fs::File> {
    let lock_path = format!("{path}.migrate.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("cannot open the migration lock {lock_path}"))?;
    tokio::task::spawn_blocking(move || file.lock().map(|()| file))
        .await?
        .with_context(|| format!("cannot lock {lock_path}"))
}

/// A URL without its password, for error messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{}:***{}", &url[..scheme + 3], user, &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Milliseconds since the epoch, the one time format in the database.
pub fn millis(t: jiff::Timestamp) -> i64 {
    t.as_millisecond()
}

pub fn timestamp(ms: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

/// Bytes of bound values per multi-row statement, roughly: a statement's buffers (sqlx's,
/// SQLite's, PostgreSQL's wire message) grow to its size and are kept or fragment the heap,
/// so a batch of 200 messages of 5 KB goes in about four statements rather than one.
pub const MAX_STATEMENT_BYTES: usize = 256 * 1024;

/// Splits `items` into runs of at most `max_rows` whose `size`s add up to at most
/// [`MAX_STATEMENT_BYTES`] (a bigger item goes alone).
pub fn chunks<T>(items: &[T], max_rows: usize, size: impl Fn(&T) -> usize) -> Vec<&[T]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (i, item) in items.iter().enumerate() {
        let n = size(item);
        if i > start && (i - start >= max_rows || bytes + n > MAX_STATEMENT_BYTES) {
            out.push(&items[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes += n;
    }
    if start < items.len() {
        out.push(&items[start..]);
    }
    out
}

/// The ids of a multi-row `INSERT ... RETURNING id, key`, in the order of `keys` (its
/// rows' unique keys, as bound): RETURNING promises no order.
fn ids_in_order<'k>(
    rows: Vec<sqlx::any::AnyRow>,
    keys: impl Iterator<Item = &'k str>,
    what: &str,
) -> sqlx::Result<Vec<i64>> {
    use sqlx::Row;
    let by_key: std::collections::HashMap<String, i64> = rows
        .into_iter()
        .map(|r| (r.get::<String, _>(1), r.get::<i64, _>(0)))
        .collect();
    keys.map(|k| {
        by_key
            .get(k)
            .copied()
            .ok_or_else(|| sqlx::Error::Protocol(format!("no row id returned for {what} {k}")))
    })
    .collect()
}

/// Placeholders for a statement with many parameters, each bound in order, none reused.
/// SQLite finds the value of a numbered `$N` by a linear scan of the statement's parameter
/// names, once per parameter: quadratic in a multi-row insert (8% of an import's CPU at
/// 200 rows), so there each is an anonymous `?`; PostgreSQL takes only `$N`.
struct Marks {
    numbered: bool,
    next: usize,
}

impl Marks {
    fn new(conn: &AnyConnection) -> Marks {
        Marks {
            numbered: conn.backend_name() != <sqlx::Sqlite as sqlx::Database>::NAME,
            next: 0,
        }
    }

    /// `n` placeholders separated by commas.
    fn list(&mut self, n: usize) -> String {
        let mut out = String::with_capacity(n * 4);
        for i in 0..n {
            if i > 0 {
                out.push_str(", ");
            }
            self.next += 1;
            if self.numbered {
                out.push('$');
                out.push_str(&self.next.to_string());
            } else {
                out.push('?');
            }
        }
        out
    }

    /// `rows` parenthesised rows of `cols` placeholders, separated by commas.
    fn rows(&mut self, rows: usize, cols: usize) -> String {
        (0..rows)
            .map(|_| format!("({})", self.list(cols)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Runs one statement as written: unit tests set up rows no store function writes.
#[cfg(test)]
pub(crate) async fn execute(db: &mut impl Db, sql: &str) -> Result<()> {
    sqlx::query(sql).execute(db.raw()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn chunks_are_bounded_by_rows_and_bytes() {
        let sizes = [100_000, 100_000, 100_000, 10, 10, 300_000, 1];
        let runs = super::chunks(&sizes, 2, |&n| n);
        let lens: Vec<usize> = runs.iter().map(|r| r.len()).collect();
        // Two rows at most, 256 KiB at most (10 + 300,000 is over), and 300,000 alone.
        assert_eq!(lens, vec![2, 2, 1, 1, 1]);
        assert_eq!(runs.concat(), sizes);
        assert!(super::chunks(&[] as &[usize], 2, |&n| n).is_empty());
    }

    #[test]
    fn status_lists_come_from_the_domain() {
        assert_eq!(
            super::leads::LIVE.to_string(),
            "'triage', 'new', 'contacted', 'qualified'"
        );
        assert_eq!(
            super::leads::WORKED.to_string(),
            "'new', 'contacted', 'qualified'"
        );
    }

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(
            super::redact("postgres://u:pw@h/db"),
            "postgres://u:***@h/db"
        );
        assert_eq!(super::redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(super::redact("sqlite://x.db"), "sqlite://x.db");
    }
}
