//! The two ways to reach the database: a unit of work ([`Tx`], one transaction) and a
//! pooled connection ([`Conn`], for reads and single statements that need none). Query
//! functions take either through [`Db`], a sealed trait: only the store reaches the
//! connection inside.

use super::held::{EmailRef, Held, MessageRef};
use super::leads::NewActivity;
use super::messages::NewMessage;
use super::outbox::NewEmail;
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

        /// A message row held (not yet written) under this dedupe key.
        fn held_message(&self, _dedupe_key: &str) -> Option<super::MessageRef> {
            None
        }
    }
}

/// Something the store's queries run on: a [`Tx`] or a [`Conn`].
pub trait Db: sealed::Sealed {}

/// A unit of work: one database transaction. Dropped without [`Tx::commit`], it rolls back.
///
/// Message rows, outbox rows and history entries are written behind (see `held.rs`):
/// held until something reads their table (the store's queries of `messages`, `outbox`
/// and `activities` flush first, and a dedupe lookup answers from the held rows), a
/// savepoint, an id asked for, or the commit, then written with one multi-row statement
/// per table. So every caller batches, and "write before anyone reads" is kept here.
/// `'r` is how long the held messages' bytes are borrowed (the batch being written).
pub struct Tx<'r> {
    inner: Transaction<'static, sqlx::Any>,
    /// Savepoints taken so far, for their names (nested ones must differ).
    savepoints: u32,
    held: Held<'r>,
}

impl<'r> Tx<'r> {
    pub(super) fn new(inner: Transaction<'static, sqlx::Any>) -> Tx<'r> {
        Tx {
            inner,
            savepoints: 0,
            held: Held::default(),
        }
    }

    pub async fn commit(mut self) -> Result<()> {
        self.write_held().await?;
        Ok(self.inner.commit().await?)
    }

    /// Adds an entry to a lead's history (written behind).
    pub fn record(&mut self, entry: NewActivity) {
        self.held.record(entry);
    }

    /// Adds a message row (written behind); [`Tx::message_row`] gives its id.
    pub fn hold_message(&mut self, m: NewMessage<'r>) -> MessageRef {
        self.held.message(m)
    }

    /// Adds an email to the outbox (written behind, or now when the emails held reach a
    /// statement's worth of bytes).
    pub async fn hold_email(&mut self, e: NewEmail) -> Result<EmailRef> {
        let (r, full) = self.held.email(e);
        if full {
            self.write_held().await?;
        }
        Ok(r)
    }

    /// The row id of a message of this unit of work, written first if it is held.
    pub async fn message_row(&mut self, r: MessageRef) -> Result<i64> {
        self.written(r, Held::message_row, "messages").await
    }

    /// The id of an email of this unit of work, written first if it is held.
    pub async fn email_id(&mut self, r: EmailRef) -> Result<i64> {
        self.written(r, Held::email_id, "outbox").await
    }

    /// The id `id` finds for `r`, after writing what is held if it is not written yet.
    async fn written<R: Copy + std::fmt::Debug>(
        &mut self,
        r: R,
        id: fn(&Held<'r>, R) -> Option<i64>,
        table: &'static str,
    ) -> Result<i64> {
        if let Some(id) = id(&self.held, r) {
            return Ok(id);
        }
        self.write_held().await?;
        id(&self.held, r).ok_or_else(|| {
            super::Error::unreadable(
                table,
                "id",
                format!("{r:?}"),
                "not a row of this unit of work",
            )
        })
    }

    async fn write_held(&mut self) -> Result<()> {
        self.held.write(&mut self.inner).await
    }

    pub async fn rollback(self) -> Result<()> {
        Ok(self.inner.rollback().await?)
    }

    /// Marks a point to come back to: [`Tx::rollback_to`] undoes what was written after
    /// it and keeps what came before; [`Tx::release`] keeps both. Left open when the
    /// caller gives up on the whole unit of work (its error rolls everything back).
    pub async fn savepoint(&mut self) -> Result<Savepoint> {
        self.write_held().await?;
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
        self.write_held().await?;
        sqlx::query(&format!("ROLLBACK TO SAVEPOINT {}", sp.name))
            .persistent(false)
            .execute(&mut *self.inner)
            .await?;
        self.release(sp).await
    }

    pub async fn release(&mut self, sp: Savepoint) -> Result<()> {
        self.write_held().await?;
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

impl sealed::Sealed for Tx<'_> {
    fn raw(&mut self) -> &mut AnyConnection {
        &mut self.inner
    }

    async fn flush(&mut self) -> Result<()> {
        self.write_held().await
    }

    fn held_message(&self, dedupe_key: &str) -> Option<MessageRef> {
        self.held.waiting_message(dedupe_key)
    }
}

impl Db for Tx<'_> {}

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
