//! Every ingested message with its class, once; and every sighting of it.

use super::{Db, Result};
use sqlx::Row;

pub struct NewMessage<'a> {
    pub dedupe_key: &'a str,
    pub raw_sha256: &'a str,
    pub message_id: Option<&'a str>,
    pub received_at: i64,
    pub origin: &'a str,
    pub class: &'a str,
    pub reason: &'a str,
    pub sender: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub lead_id: Option<i64>,
    pub quarantined: bool,
    pub raw: &'a [u8],
}

pub async fn find_by_dedupe_key(db: &mut impl Db, key: &str) -> Result<Option<i64>> {
    Ok(sqlx::query("SELECT id FROM messages WHERE dedupe_key = $1")
        .bind(key)
        .fetch_optional(db.raw())
        .await?
        .map(|r| r.get::<i64, _>(0)))
}

/// Bound parameters per multi-row statement: under SQLite's 32,766 and PostgreSQL's
/// 65,535, with room to spare.
const MAX_PARAMS: usize = 30_000;

/// Several messages in as few statements as the parameter limit allows; returns their
/// row ids in the order given (matched by dedupe key, which is unique).
pub async fn insert_many(db: &mut impl Db, ms: &[NewMessage<'_>]) -> Result<Vec<i64>> {
    const COLS: usize = 13;
    let mut ids = Vec::with_capacity(ms.len());
    for chunk in super::chunks(ms, MAX_PARAMS / COLS, |m| m.raw.len()) {
        let values = super::Marks::new(db.raw()).rows(chunk.len(), COLS);
        let sql = format!(
            "INSERT INTO messages (dedupe_key, raw_sha256, message_id, received_at, origin, class, reason,
                                   sender, subject, lead_id, quarantined, size, raw)
             VALUES {values} RETURNING id, dedupe_key"
        );
        let mut q = sqlx::query(&sql).persistent(false);
        for m in chunk {
            q = q
                .bind(m.dedupe_key)
                .bind(m.raw_sha256)
                .bind(m.message_id)
                .bind(m.received_at)
                .bind(m.origin)
                .bind(m.class)
                .bind(m.reason)
                .bind(m.sender)
                .bind(m.subject)
                .bind(m.lead_id)
                .bind(m.quarantined as i64)
                .bind(m.raw.len() as i64)
                .bind(m.raw);
        }
        let rows = q.fetch_all(db.raw()).await?;
        let keys = chunk.iter().map(|m| m.dedupe_key);
        ids.extend(super::ids_in_order(rows, keys, "message")?);
    }
    Ok(ids)
}

pub async fn add_sighting(db: &mut impl Db, message_row: i64, origin: &str, at: i64) -> Result<()> {
    sqlx::query("INSERT INTO sightings (message_row, origin, seen_at) VALUES ($1, $2, $3)")
        .bind(message_row)
        .bind(origin)
        .bind(at)
        .execute(db.raw())
        .await?;
    Ok(())
}

/// The rows already stored under any of `keys` (dedupe keys), in one statement.
pub async fn find_by_dedupe_keys(
    db: &mut impl Db,
    keys: &[&str],
) -> Result<std::collections::HashMap<String, i64>> {
    if keys.is_empty() {
        return Ok(Default::default());
    }
    let marks = super::Marks::new(db.raw()).list(keys.len());
    let sql = format!("SELECT dedupe_key, id FROM messages WHERE dedupe_key IN ({marks})");
    let mut q = sqlx::query(&sql).persistent(false);
    for k in keys {
        q = q.bind(*k);
    }
    Ok(q.fetch_all(db.raw())
        .await?
        .into_iter()
        .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1)))
        .collect())
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
