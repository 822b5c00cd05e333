//! The store's one error type: what went wrong in the database (its cause kept), or a
//! stored value this build cannot read, named by table, column and value.

/// A failure of the store. Callers decide on the variant; the database's own error is
/// kept as the source (its text is what `Display` shows, as before this type existed).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Database(DatabaseError),
    /// A stored value does not parse (a status this build does not know, a time out of
    /// range, an address that is not one): the row is not guessed at.
    #[error("{table}.{column} holds {value:?}, which does not parse: {why}")]
    Unreadable {
        table: &'static str,
        column: &'static str,
        value: String,
        why: String,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The database driver's error, opaque outside the store (sqlx is the store's business).
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct DatabaseError(#[from] sqlx::Error);

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Database(DatabaseError(e))
    }
}

impl Error {
    pub(crate) fn unreadable(
        table: &'static str,
        column: &'static str,
        value: impl ToString,
        why: impl ToString,
    ) -> Error {
        Error::Unreadable {
            table,
            column,
            value: value.to_string(),
            why: why.to_string(),
        }
    }
}
