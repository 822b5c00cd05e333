//! The two ways to reach the database: a unit of work ([`Tx`], one transaction) and a
//! pooled connection ([`Conn`], for reads and single statements that need none). Query
//! functions take either through [`Db`], a sealed trait: only the store reaches the
//! connection inside.

use super::leads::NewActivity;
use super::Result;
use sqlx::pool::PoolConnection;
use sqlx::{AnyConnection, Transaction};

pub(super) mod sealed {
    use sqlx::AnyConnection;

    pub trait Sealed: Send {
        /// The connection, for a statement.
        fn raw(&mut self) -> &mut AnyConnection;

        /// Writes what the unit of work holds back, before a statement that reads it.
        fn flush(&mut self) -> impl std::future::Future<Output = super::Result<()>> + Send;
    }
}

/// Something the store's queries run on: a [`Tx`] or a [`Conn`].
pub trait Db: sealed::Sealed {}

/// A unit of work: one database transaction. Dropped without [`Tx::commit`], it rolls back.
///
/// History entries ([`Tx::record`]) are written behind: held until something reads history
/// (the store's queries of `activities` flush first), a savepoint, or the commit, then
/// written with one multi-row statement. A PostgreSQL statement is a round trip, and a
/// SQLite one a hop to its worker thread; a sweep or a batch of mail records hundreds.
pub struct Tx {
    inner: Transaction<'static, sqlx::Any>,
    /// Savepoints taken so far, for their names (nested ones must differ).
    savepoints: u32,
    /// History entries not written yet, in the order recorded.
    history: Vec<NewActivity>,
}

impl Tx {
    pub(super) fn new(inner: Transaction<'static, sqlx::Any>) -> Tx {
        Tx {
            inner,
            savepoints: 0,
            history: Vec::new(),
        }
    }

    pub async fn commit(mut self) -> Result<()> {
        self.write_history().await?;
        Ok(self.inner.commit().await?)
    }

    /// Adds an entry to a lead's history (written behind; see [`Tx`]).
    pub fn record(&mut self, entry: NewActivity) {
        self.history.push(entry);
    }

    async fn write_history(&mut self) -> Result<()> {
        if !self.history.is_empty() {
            super::leads::insert_history(&mut self.inner, &self.history).await?;
            self.history.clear();
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<()> {
        Ok(self.inner.rollback().await?)
    }

    /// Marks a point to come back to: [`Tx::rollback_to`] undoes what was written after
    /// it and keeps what came before; [`Tx::release`] keeps both. Left open when the
    /// caller gives up on the whole unit of work (its error rolls everything back).
    pub async fn savepoint(&mut self) -> Result<Savepoint> {
        self.write_history().await?;
        self.savepoints += 1;
        let sp = Savepoint {
            name: format!("lg_savepoint_{}", self.savepoints),
        };
        sqlx::query(&format!("SAVEPOINT {}", sp.name))
            .persistent(false)
            .execute(&mut *self.inner)
            .await?;
        Ok(sp)
    }

    pub async fn rollback_to(&mut self, sp: Savepoint) -> Result<()> {
        // Written first, so that what came after the savepoint is undone with the rest.
        self.write_history().await?;
        sqlx::query(&format!("ROLLBACK TO SAVEPOINT {}", sp.name))
            .persistent(false)
            .execute(&mut *self.inner)
            .await?;
        self.release(sp).await
    }

    pub async fn release(&mut self, sp: Savepoint) -> Result<()> {
        self.write_history().await?;
        sqlx::query(&format!("RELEASE SAVEPOINT {}", sp.name))
            .persistent(false)
            .execute(&mut *self.inner)
            .await?;
        Ok(())
    }
}

/// A point inside a [`Tx`] (see [`Tx::savepoint`]).
#[must_use = "a savepoint is rolled back to or released"]
#[derive(Debug)]
pub struct Savepoint {
    name: String,
}

impl sealed::Sealed for Tx {
    fn raw(&mut self) -> &mut AnyConnection {
        &mut self.inner
    }

    async fn flush(&mut self) -> Result<()> {
        self.write_history().await
    }
}

impl Db for Tx {}

/// A connection of the pool, outside any unit of work: each statement commits on its own.
pub struct Conn {
    inner: PoolConnection<sqlx::Any>,
}

impl Conn {
    pub(super) fn new(inner: PoolConnection<sqlx::Any>) -> Conn {
        Conn { inner }
    }

    /// Takes the connection out of the pool for good (a session lock held on it lives
    /// exactly as long as it).
    pub(super) fn detach(self) -> AnyConnection {
        self.inner.detach()
    }
}

impl sealed::Sealed for Conn {
    fn raw(&mut self) -> &mut AnyConnection {
        &mut self.inner
    }

    async fn flush(&mut self) -> Result<()> {
        Ok(())
    }
}

impl Db for Conn {}
