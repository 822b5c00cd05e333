//! Every ingested message with its class, once; and every sighting of it.

use super::{Db, MessageRef, Result};
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;

/// A message row to write: what was read of it, and its bytes (borrowed from the batch,
/// which outlives the unit of work that holds the row; see [`super::Tx::hold_message`]).
pub struct NewMessage<'r> {
    pub dedupe_key: String,
    pub raw_sha256: String,
    pub message_id: Option<String>,
    pub received_at: i64,
    pub origin: String,
    pub class: &'static str,
    pub reason: String,
    pub sender: Option<String>,
    pub subject: String,
    pub lead_id: Option<i64>,
    pub quarantined: bool,
    pub raw: &'r [u8],
}

/// The row stored (or held by this unit of work) under a dedupe key.
pub async fn find_by_dedupe_key(db: &mut impl Db, key: &str) -> Result<Option<MessageRef>> {
    Ok(find_by_dedupe_keys(db, &[key]).await?.remove(key))
}

/// Bound parameters per multi-row statement: under SQLite's 32,766 and PostgreSQL's
/// 65,535, with room to spare.
const MAX_PARAMS: usize = 30_000;

/// Several messages in as few statements as the parameter limit allows; returns their
/// row ids in the order given (matched by dedupe key, which is unique). The unit of
/// work's flush writes its held messages with this.
pub(super) async fn insert_many(
    conn: &mut AnyConnection,
    ms: &[NewMessage<'_>],
) -> Result<Vec<i64>> {
    const COLS: usize = 13;
    let mut ids = Vec::with_capacity(ms.len());
    for chunk in super::chunks(ms, MAX_PARAMS / COLS, |m| m.raw.len()) {
        let values = super::Marks::new(conn).rows(chunk.len(), COLS);
        let sql = format!(
            "INSERT INTO messages (dedupe_key, raw_sha256, message_id, received_at, origin, class, reason,
                                   sender, subject, lead_id, quarantined, size, raw)
             VALUES {values} RETURNING id, dedupe_key"
        );
        let mut q = sqlx::query(&sql).persistent(false);
        for m in chunk {
            q = q
                .bind(m.dedupe_key.as_str())
                .bind(m.raw_sha256.as_str())
                .bind(m.message_id.as_deref())
                .bind(m.received_at)
                .bind(m.origin.as_str())
                .bind(m.class)
                .bind(m.reason.as_str())
                .bind(m.sender.as_deref())
                .bind(m.subject.as_str())
                .bind(m.lead_id)
                .bind(m.quarantined as i64)
                .bind(m.raw.len() as i64)
                .bind(m.raw);
        }
        let rows = q.fetch_all(&mut *conn).await?;
        let keys = chunk.iter().map(|m| m.dedupe_key.as_str());
        ids.extend(super::ids_in_order(rows, keys, "message")?);
    }
    Ok(ids)
}

/// The rows stored (or held by this unit of work) under any of `keys` (dedupe keys), in
/// one statement.
pub async fn find_by_dedupe_keys(
    db: &mut impl Db,
    keys: &[&str],
) -> Result<HashMap<String, MessageRef>> {
    // A row this unit of work holds is answered from memory: asking the database would
    // mean writing it first, a statement per read instead of one per batch.
    let mut found: HashMap<String, MessageRef> = keys
        .iter()
        .filter_map(|k| db.held_message(k).map(|r| ((*k).to_owned(), r)))
        .collect();
    let ask: Vec<&str> = keys
        .iter()
        .copied()
        .filter(|k| !found.contains_key(*k))
        .collect();
    if ask.is_empty() {
        return Ok(found);
    }
    let marks = super::Marks::new(db.raw()).list(ask.len());
    let sql = format!("SELECT dedupe_key, id FROM messages WHERE dedupe_key IN ({marks})");
    let mut q = sqlx::query(&sql).persistent(false);
    for k in ask {
        q = q.bind(k);
    }
    found.extend(
        q.fetch_all(db.raw())
            .await?
            .into_iter()
            .map(|r| (r.get::<String, _>(0), MessageRef::written(r.get(1)))),
    );
    Ok(found)
}

/// Several sightings (message row, origin) in one statement.
pub async fn add_sightings(db: &mut impl Db, seen: &[(i64, String)], at: i64) -> Result<()> {
    if seen.is_empty() {
        return Ok(());
    }
    for chunk in seen.chunks(MAX_PARAMS / 3) {
        let values = super::Marks::new(db.raw()).rows(chunk.len(), 3);
        let sql = format!("INSERT INTO sightings (message_row, origin, seen_at) VALUES {values}");
        let mut q = sqlx::query(&sql).persistent(false);
        for (row, origin) in chunk {
            q = q.bind(*row).bind(origin.as_str()).bind(at);
        }
        q.execute(db.raw()).await?;
    }
    Ok(())
}

/// One row of the message listing (no raw bytes).
#[derive(Clone, Debug, serde::Serialize)]
pub struct MessageSummary {
    pub id: i64,
    pub received_at: String,
    pub class: String,
    pub reason: String,
    pub sender: Option<String>,
    pub subject: Option<String>,
    pub lead: Option<i64>,
    pub quarantined: bool,
    pub origin: String,
    pub size: i64,
    pub sightings: i64,
}

pub async fn list(
    db: &mut impl Db,
    class: Option<&str>,
    limit: i64,
) -> Result<Vec<MessageSummary>> {
    db.flush().await?;
    let rows = sqlx::query(
        "SELECT m.id, m.received_at, m.class, m.reason, m.sender, m.subject, m.lead_id, m.quarantined,
                m.origin, m.size, (SELECT COUNT(*) FROM sightings s WHERE s.message_row = m.id)
         FROM messages m WHERE ($1 = '' OR m.class = $1) ORDER BY m.id DESC LIMIT $2",
    )
    .bind(class.unwrap_or(""))
    .bind(limit)
    .fetch_all(db.raw())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| MessageSummary {
            id: r.get(0),
            received_at: super::timestamp(r.get(1)).to_string(),
            class: r.get(2),
            reason: r.get(3),
            sender: r.get(4),
            subject: r.get(5),
            lead: r.get(6),
            quarantined: r.get::<i64, _>(7) != 0,
            origin: r.get(8),
            size: r.get(9),
            sightings: r.get(10),
        })
        .collect())
}

pub async fn raw(db: &mut impl Db, id: i64) -> Result<Option<Vec<u8>>> {
    db.flush().await?;
    Ok(sqlx::query("SELECT raw FROM messages WHERE id = $1")
        .bind(id)
        .fetch_optional(db.raw())
        .await?
        .map(|r| r.get(0)))
}

pub async fn set_lead(db: &mut impl Db, id: i64, lead: i64) -> Result<()> {
    sqlx::query("UPDATE messages SET lead_id = $1 WHERE id = $2")
        .bind(lead)
        .bind(id)
        .execute(db.raw())
        .await?;
    Ok(())
}

/// Replaces a message's reason (the relay says what it did with the message).
pub async fn set_reason(db: &mut impl Db, id: i64, reason: &str) -> Result<()> {
    sqlx::query("UPDATE messages SET reason = $1 WHERE id = $2")
        .bind(reason)
        .bind(id)
        .execute(db.raw())
        .await?;
    Ok(())
}
