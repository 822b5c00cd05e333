//! The outbox: every email leadgate decided to send, until it is sent or given up.
//! Rows are leased (lease owner + expiry) so a crashed sender's rows come back, and on
//! PostgreSQL several instances can deliver without sending a row twice. A lease whose
//! holder is known dead comes back at once: on SQLite every daemon lease when the next
//! daemon starts, on PostgreSQL any lease whose instance lock is gone.

use super::{Backend, Db, Result};
use sqlx::{AnyConnection, Row};

/// An email to queue: rendered, addressed, and owned (a unit of work may hold it until
/// its next flush; see [`super::Tx::hold_email`]).
#[derive(Debug)]
pub struct NewEmail {
    pub purpose: &'static str,
    pub lead_id: Option<i64>,
    pub message_id: String,
    pub envelope_from: String,
    pub recipients: Vec<String>,
    pub subject: String,
    pub raw: Vec<u8>,
    pub now: i64,
}

/// Writes the email now unless a row with `once_key` was written before (a digest or a
/// reminder goes once however often it is decided); None when it was.
pub async fn enqueue_once(
    db: &mut impl Db,
    e: &NewEmail,
    once_key: &str,
) -> Result<Option<super::EmailRef>> {
    db.flush().await?;
    let recipients = serde_json::to_string(&e.recipients).expect("strings serialise");
    let row = sqlx::query(
        "INSERT INTO outbox (created_at, purpose, lead_id, message_id, envelope_from, recipients, subject,
                             raw, status, attempts, next_attempt_at, once_key)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, $1, $9)
         ON CONFLICT (once_key) DO NOTHING RETURNING id",
    )
    .bind(e.now)
    .bind(e.purpose)
    .bind(e.lead_id)
    .bind(e.message_id.as_str())
    .bind(e.envelope_from.as_str())
    .bind(recipients)
    .bind(e.subject.as_str())
    .bind(e.raw.as_slice())
    .bind(once_key)
    .fetch_optional(db.raw())
    .await?;
    Ok(row.map(|r| super::EmailRef::written(r.get(0))))
}

/// Several emails in as few statements as the parameter limit allows; returns their ids
/// in the order given (matched by Message-ID, which is unique: leadgate makes a new one
/// per email). The unit of work's flush writes its held emails with this.
pub(super) async fn insert_many(conn: &mut AnyConnection, emails: &[NewEmail]) -> Result<Vec<i64>> {
    const COLS: usize = 9;
    let mut ids = Vec::with_capacity(emails.len());
    for chunk in super::chunks(emails, 3_000, |e| e.raw.len()) {
        let values = super::Marks::new(conn).rows(chunk.len(), COLS);
        let sql = format!(
            "INSERT INTO outbox (created_at, purpose, lead_id, message_id, envelope_from, recipients,
                                 subject, raw, next_attempt_at)
             VALUES {values} RETURNING id, message_id"
        );
        let mut q = sqlx::query(&sql).persistent(false);
        for e in chunk {
            q = q
                .bind(e.now)
                .bind(e.purpose)
                .bind(e.lead_id)
                .bind(e.message_id.as_str())
                .bind(e.envelope_from.as_str())
                .bind(serde_json::to_string(&e.recipients).expect("strings serialise"))
                .bind(e.subject.as_str())
                .bind(e.raw.as_slice())
                .bind(e.now);
        }
        let returned = q.fetch_all(&mut *conn).await?;
        let keys = chunk.iter().map(|e| e.message_id.as_str());
        ids.extend(super::ids_in_order(returned, keys, "outbox email")?);
    }
    Ok(ids)
}

#[derive(Clone, Debug)]
pub struct Leased {
    pub id: i64,
    pub purpose: String,
    pub lead_id: Option<i64>,
    pub envelope_from: String,
    pub recipients: Vec<String>,
    pub raw: Vec<u8>,
    pub attempts: i64,
}

/// The lease owners (PostgreSQL) whose instance is alive: holds its `(INSTANCE_CLASS, id)`
/// session lock (see [`super::locks::INSTANCE_CLASS`] and [`instance_owner`]).
fn live_instances() -> String {
    format!(
        "SELECT 'pg:' || l.objid::text FROM pg_locks l
          WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid = {}
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        super::locks::INSTANCE_CLASS
    )
}

/// The lease owner of the outbox sender holding the instance lock `id` (PostgreSQL).
pub fn instance_owner(id: i32) -> String {
    format!("pg:{id}")
}

/// Lease owners on SQLite of the daemon's sender: only one daemon runs on a file (the
/// instance lock file), so when one starts every such lease is dead.
pub const DAEMON_OWNER_PREFIX: &str = "daemon:";

/// Gives back, at a daemon's start on SQLite, every lease an earlier daemon held: that
/// daemon is dead (it held the instance lock file we now hold). Leases of one-shot
/// commands (`leadgate sweep`, `digest --send`) may be alive and wait for their time.
/// Returns how many rows came back.
pub async fn reclaim_dead_daemon_leases(db: &mut impl Db) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE outbox SET lease_owner = NULL, lease_until = NULL
         WHERE status = 'pending' AND lease_owner LIKE $1",
    )
    .bind(format!("{DAEMON_OWNER_PREFIX}%"))
    .execute(db.raw())
    .await?;
    Ok(done.rows_affected())
}

/// Takes up to `limit` of the oldest due rows for `lease_for` ms, in one statement (atomic
/// on its own: no transaction needed); in no particular order. Empty when nothing is due.
pub async fn lease_due(
    db: &mut impl Db,
    backend: Backend,
    worker: &str,
    now: i64,
    lease_for: i64,
    limit: usize,
) -> Result<Vec<Leased>> {
    db.flush().await?;
    let pick = match backend {
        Backend::Sqlite => {
            "SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1
              AND (lease_until IS NULL OR lease_until < $1) ORDER BY next_attempt_at, id LIMIT $4"
                .to_owned()
        }
        // A lease whose instance lock is gone is dead whatever its time says.
        Backend::Postgres => format!(
            "SELECT id FROM outbox WHERE status = 'pending' AND next_attempt_at <= $1
              AND (lease_until IS NULL OR lease_until < $1 OR lease_owner NOT IN ({live}))
              ORDER BY next_attempt_at, id LIMIT $4
              FOR UPDATE SKIP LOCKED",
            live = live_instances()
        ),
    };
    let q = format!(
        "UPDATE outbox SET lease_owner = $2, lease_until = $3 WHERE id IN ({pick})
         RETURNING id, purpose, lead_id, envelope_from, recipients, raw, attempts"
    );
    let rows = sqlx::query(&q)
        .bind(now)
        .bind(worker)
        .bind(now + lease_for)
        .bind(limit as i64)
        .fetch_all(db.raw())
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| Leased {
            id: r.get(0),
            purpose: r.get(1),
            lead_id: r.get(2),
            envelope_from: r.get(3),
            recipients: serde_json::from_str(&r.get::<String, _>(4)).unwrap_or_default(),
            raw: r.get(5),
            attempts: r.get(6),
        })
        .collect())
}

pub async fn mark_sent(db: &mut impl Db, id: i64, now: i64) -> Result<()> {
    sqlx::query("UPDATE outbox SET status = 'sent', sent_at = $1, attempts = attempts + 1, lease_owner = NULL, lease_until = NULL, last_error = NULL WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(db.raw())
        .await?;
    Ok(())
}

/// Gives leased rows back unsent (due again at once), if `worker` still holds them.
pub async fn release(db: &mut impl Db, worker: &str, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut marks = super::Marks::new(db.raw());
    let (owner, list) = (marks.list(1), marks.list(ids.len()));
    let sql = format!(
        "UPDATE outbox SET lease_owner = NULL, lease_until = NULL
         WHERE lease_owner = {owner} AND id IN ({list})"
    );
    let mut q = sqlx::query(&sql).persistent(false).bind(worker);
    for id in ids {
        q = q.bind(*id);
    }
    q.execute(db.raw()).await?;
    Ok(())
}

pub async fn mark_retry(
    db: &mut impl Db,
    id: i64,
    next_attempt_at: i64,
    error: &str,
) -> Result<()> {
    sqlx::query("UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, lease_owner = NULL, lease_until = NULL, last_error = $2 WHERE id = $3")
        .bind(next_attempt_at)
        .bind(error)
        .bind(id)
        .execute(db.raw())
        .await?;
    Ok(())
}

pub async fn mark_dead(db: &mut impl Db, id: i64, error: &str) -> Result<()> {
    sqlx::query("UPDATE outbox SET status = 'dead', attempts = attempts + 1, lease_owner = NULL, lease_until = NULL, last_error = $1 WHERE id = $2")
        .bind(error)
        .bind(id)
        .execute(db.raw())
        .await?;
    Ok(())
}

/// When the next pending row is due (ms), to sleep exactly that long.
pub async fn next_due(db: &mut impl Db) -> Result<Option<i64>> {
    db.flush().await?;
    let row = sqlx::query("SELECT MIN(COALESCE(CASE WHEN lease_until > next_attempt_at THEN lease_until ELSE next_attempt_at END, next_attempt_at)) FROM outbox WHERE status = 'pending'")
        .fetch_one(db.raw())
        .await?;
    Ok(row.get::<Option<i64>, _>(0))
}

#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct OutboxCounts {
    pub pending: i64,
    pub sent: i64,
    pub dead: i64,
}

pub async fn counts(db: &mut impl Db) -> Result<OutboxCounts> {
    db.flush().await?;
    let rows = sqlx::query("SELECT status, COUNT(*) FROM outbox GROUP BY status")
        .fetch_all(db.raw())
        .await?;
    let mut c = OutboxCounts::default();
    for r in rows {
        let n: i64 = r.get(1);
        match r.get::<String, _>(0).as_str() {
            "pending" => c.pending = n,
            "sent" => c.sent = n,
            _ => c.dead += n,
        }
    }
    Ok(c)
}

/// Outbox rows in creation order, for the demo and for tests.
#[derive(Clone, Debug, serde::Serialize)]
pub struct OutboxSummary {
    pub id: i64,
    pub purpose: String,
    pub lead: Option<i64>,
    pub recipients: Vec<String>,
    pub subject: String,
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
}

pub async fn list(db: &mut impl Db) -> Result<Vec<OutboxSummary>> {
    db.flush().await?;
    let rows = sqlx::query("SELECT id, purpose, lead_id, recipients, subject, status, attempts, last_error FROM outbox ORDER BY id")
        .fetch_all(db.raw())
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| OutboxSummary {
            id: r.get(0),
            purpose: r.get(1),
            lead: r.get(2),
            recipients: serde_json::from_str(&r.get::<String, _>(3)).unwrap_or_default(),
            subject: r.get(4),
            status: r.get(5),
            attempts: r.get(6),
            last_error: r.get(7),
        })
        .collect())
}

/// Every row's recipients (as stored, JSON), purpose and bytes, in creation order: what a
/// unit test reads back of the mail it queued.
#[cfg(test)]
pub(crate) async fn raw_rows(db: &mut impl Db) -> Result<Vec<(String, String, Vec<u8>)>> {
    db.flush().await?;
    let rows = sqlx::query("SELECT recipients, purpose, raw FROM outbox ORDER BY id")
        .fetch_all(db.raw())
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect())
}
