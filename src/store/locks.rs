//! Every PostgreSQL advisory lock leadgate takes, in one place: a key used twice is a lock
//! that refuses its own holder (the leader's session lock once made every sweep skip).
//! Advisory locks are per database, so deployments on separate databases of one server
//! do not contend. sqlx's migrator takes a lock of its own (a key derived from the
//! database name) while migrating.
//!
//! Single keys (`pg_*advisory*lock(bigint)`) and pairs (`(int, int)`) are separate key
//! spaces in PostgreSQL, so [`INSTANCE_CLASS`] cannot collide with the single keys.

use super::{Result, Store};
use sqlx::AnyConnection;
use std::time::{Duration, Instant};

/// Session lock held by the leader (the IMAP watcher and the scheduler run there) on a
/// connection of its own, for as long as it leads: "leadgate" in ASCII.
pub const LEADER: i64 = 0x6c65_6164_6761_7465;

/// Transaction lock of one drift sweep, so two sweeps (the leader's and a `leadgate sweep`
/// by hand) never decide from the same facts at once: "lg-sweep" in ASCII.
pub const SWEEP: i64 = 0x6c67_2d73_7765_6570;

/// First half of the pair `(INSTANCE_CLASS, id)`: a session lock each outbox sender holds
/// on a connection of its own for its whole life ("lgin"). Its outbox leases name `id`, so
/// a lease whose instance lock is gone (the process died, its connection with it) is taken
/// back at once instead of after `[outbox] lease`.
pub const INSTANCE_CLASS: i32 = 0x6c67_696e;

/// Takes the sweep lock for the rest of `tx` (PostgreSQL; SQLite's single writer already
/// serialises sweeps). `wait`: how long to queue behind a sweep in progress; None tries
/// once. False when another sweep holds it.
pub async fn sweep(tx: &mut super::Tx<'_>, wait: Option<Duration>) -> Result<bool> {
    use super::tx::sealed::Sealed;
    let tx = tx.raw();
    if tx.backend_name() == <sqlx::Sqlite as sqlx::Database>::NAME {
        return Ok(true);
    }
    let Some(wait) = wait else {
        return Ok(sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)")
            .bind(SWEEP)
            .fetch_one(&mut *tx)
            .await?);
    };
    // SET does not take bind parameters; the value is our own number.
    sqlx::query(&format!(
        "SET LOCAL lock_timeout = {}",
        wait.as_millis().max(1)
    ))
    .persistent(false)
    .execute(&mut *tx)
    .await?;
    match sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(SWEEP)
        .execute(&mut *tx)
        .await
    {
        Ok(_) => Ok(true),
        // lock_not_available: the wait ran out (the transaction is now aborted).
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("55P03") => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// An outbox sender's liveness on PostgreSQL: the session lock `(INSTANCE_CLASS, id)` on a
/// connection of its own (out of the pool), held while this value lives. When the process
/// dies its connection closes and the server drops the lock, so its leases are dead at once
/// (see `outbox::lease_due`). Liveness only ever shortens a lease, never extends it.
pub struct Instance {
    id: i32,
    conn: AnyConnection,
    checked: Instant,
}

impl Instance {
    /// Takes a free instance id (random; tried again on the rare collision).
    pub async fn register(store: &Store) -> Result<Instance> {
        let mut conn = store.acquire().await?.detach();
        loop {
            let id = rand::Rng::gen_range(&mut rand::thread_rng(), 1..i32::MAX);
            let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
                .bind(INSTANCE_CLASS)
                .bind(id)
                .fetch_one(&mut conn)
                .await?;
            if got {
                return Ok(Instance {
                    id,
                    conn,
                    checked: Instant::now(),
                });
            }
        }
    }

    pub fn id(&self) -> i32 {
        self.id
    }

    /// Whether the lock's connection still answers (checked at most once a second): if it
    /// broke, the lock is gone and the caller registers anew.
    pub async fn alive(&mut self) -> bool {
        if self.checked.elapsed() < Duration::from_secs(1) {
            return true;
        }
        let ok = sqlx::query("SELECT 1")
            .execute(&mut self.conn)
            .await
            .is_ok();
        self.checked = Instant::now();
        ok
    }
}

/// The leader's hold on [`LEADER`]: a PostgreSQL session of its own (out of the pool), so
/// that the lock lives exactly as long as this connection.
pub struct LeaderSession {
    conn: AnyConnection,
}

impl LeaderSession {
    pub async fn connect(url: &str) -> Result<LeaderSession> {
        use sqlx::Connection;
        let mut conn = AnyConnection::connect(url).await?;
        // If this host vanishes without closing the socket, the server ends the session
        // (and so frees the lock) after this; the leader pings every 5 s. PG 14+.
        let _ = sqlx::query("SET idle_session_timeout = '20s'")
            .execute(&mut conn)
            .await;
        Ok(LeaderSession { conn })
    }

    /// Takes the leader lock if it is free; true when this session holds it.
    pub async fn try_lock(&mut self) -> Result<bool> {
        Ok(sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(LEADER)
            .fetch_one(&mut self.conn)
            .await?)
    }

    /// Proves the session (and so the lock) is still alive.
    pub async fn ping(&mut self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&mut self.conn).await?;
        Ok(())
    }

    /// Ends the session: the server frees the lock for the next leader at once.
    pub async fn close(self) -> Result<()> {
        use sqlx::Connection;
        Ok(self.conn.close().await?)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn single_keys_are_distinct() {
        assert_ne!(super::LEADER, super::SWEEP);
    }
}
