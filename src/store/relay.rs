//! What the relay asks of the store: which lead a Message-ID belongs to, the two sides of
//! a lead's conversation (for threading), recent relays (for the rate cap), and the open
//! lead of an address (for BCC logging). Reads only; writes go through `leads`/`outbox`.

use super::{Db, Result};
use sqlx::Row;

use crate::domain::notify::Purpose;

/// Purposes of outbox rows that relay someone's words (what the rate cap counts).
pub const RELAY_PURPOSES: [&str; 3] = [
    Purpose::RelayToLead.as_str(),
    Purpose::RelayToOwner.as_str(),
    Purpose::UnknownSender.as_str(),
];

/// The purpose of mail relayed to a lead: the only outbox rows a lead ever receives
/// (the domain's one constant, not a copy).
pub use crate::domain::relay::TO_LEAD;

/// One of our own outbox rows, found by its Message-ID.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwnMessage {
    pub outbox_id: i64,
    pub message_id: String,
    pub lead: Option<i64>,
    pub purpose: String,
    pub recipients: Vec<String>,
}

/// Our outbox rows with these Message-IDs (no angle brackets), in the order of `ids`.
pub async fn own_messages(db: &mut impl Db, ids: &[String]) -> Result<Vec<OwnMessage>> {
    db.flush().await?;
    let mut out = Vec::new();
    for id in ids.iter().take(50) {
        let row = sqlx::query(
            "SELECT id, message_id, lead_id, purpose, recipients FROM outbox WHERE message_id = $1",
        )
        .bind(id.trim().trim_matches(['<', '>']))
        .fetch_optional(db.raw())
        .await?;
        if let Some(r) = row {
            out.push(OwnMessage {
                outbox_id: r.get(0),
                message_id: r.get(1),
                lead: r.get(2),
                purpose: r.get(3),
                recipients: serde_json::from_str(&r.get::<String, _>(4)).unwrap_or_default(),
            });
        }
    }
    Ok(out)
}

/// Leads of stored (ingested) messages with these Message-IDs, other than `except_row`.
pub async fn leads_of_stored(
    db: &mut impl Db,
    ids: &[String],
    except_row: i64,
) -> Result<Vec<i64>> {
    db.flush().await?;
    let mut out = Vec::new();
    for id in ids.iter().take(50) {
        let rows = sqlx::query(
            "SELECT DISTINCT lead_id FROM messages WHERE message_id = $1 AND lead_id IS NOT NULL AND id <> $2",
        )
        .bind(id.trim().trim_matches(['<', '>']))
        .bind(except_row)
        .fetch_all(db.raw())
        .await?;
        out.extend(rows.into_iter().map(|r| r.get::<i64, _>(0)));
    }
    Ok(out)
}

/// The lead's side of its conversation, oldest first: what the lead sent us (message rows
/// from `lead_email` linked to the lead) and what we relayed to the lead, as
/// (Message-ID, subject).
pub async fn lead_thread(
    db: &mut impl Db,
    lead: i64,
    lead_email: &str,
) -> Result<Vec<(String, String)>> {
    db.flush().await?;
    let rows = sqlx::query(
        "SELECT at, mid, subject FROM (
             SELECT received_at AS at, message_id AS mid, COALESCE(subject, '') AS subject
               FROM messages
              WHERE lead_id = $1 AND LOWER(sender) = $2 AND message_id IS NOT NULL
                AND class IN ('relay', 'reply')
             UNION ALL
             SELECT created_at AS at, message_id AS mid, subject FROM outbox
              WHERE lead_id = $1 AND purpose = $3
         ) t ORDER BY at",
    )
    .bind(lead)
    .bind(lead_email.to_lowercase())
    .bind(TO_LEAD)
    .fetch_all(db.raw())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.get::<String, _>(1), r.get::<String, _>(2)))
        .collect())
}

/// What leadgate sent the team about this lead, oldest first, as (Message-ID, subject):
/// the owner's side of the conversation, and the subjects that must not reach the lead.
pub async fn team_thread(db: &mut impl Db, lead: i64) -> Result<Vec<(String, String)>> {
    db.flush().await?;
    let rows = sqlx::query(
        "SELECT message_id, subject FROM outbox WHERE lead_id = $1 AND purpose <> $2 ORDER BY id",
    )
    .bind(lead)
    .bind(TO_LEAD)
    .fetch_all(db.raw())
    .await?;
    Ok(rows.into_iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// When mail was relayed for this lead since `since_ms` (ms), for the per-lead cap.
pub async fn relays_for_lead(db: &mut impl Db, lead: i64, since_ms: i64) -> Result<Vec<i64>> {
    db.flush().await?;
    let rows = sqlx::query(
        "SELECT created_at FROM outbox WHERE lead_id = $1 AND created_at > $2
           AND purpose IN ($3, $4, $5)",
    )
    .bind(lead)
    .bind(since_ms)
    .bind(RELAY_PURPOSES[0])
    .bind(RELAY_PURPOSES[1])
    .bind(RELAY_PURPOSES[2])
    .fetch_all(db.raw())
    .await?;
    Ok(rows.into_iter().map(|r| r.get(0)).collect())
}

/// When this sender's earlier relay-path mail arrived since `since_ms`, for the
/// per-sender cap (the message being handled, `except_row`, is not counted); with `lead`,
/// only their mail about that lead (a team member writes to many leads in a day).
pub async fn mail_from_sender(
    db: &mut impl Db,
    sender: &str,
    since_ms: i64,
    except_row: i64,
    lead: Option<i64>,
) -> Result<Vec<i64>> {
    db.flush().await?;
    let rows = sqlx::query(
        "SELECT received_at FROM messages WHERE LOWER(sender) = $1 AND received_at > $2
           AND id <> $3 AND class IN ('relay', 'reply', 'auto_reply')
           AND ($4 = 0 OR lead_id = $4)",
    )
    .bind(sender.to_lowercase())
    .bind(since_ms)
    .bind(except_row)
    .bind(lead.unwrap_or(0))
    .fetch_all(db.raw())
    .await?;
    Ok(rows.into_iter().map(|r| r.get(0)).collect())
}

/// The opt-out of an address that holds in `scope`, if any: (when, how).
pub async fn opt_out_of(
    db: &mut impl Db,
    scope: super::state::OptOutScope<'_>,
    email_norm: &str,
) -> Result<Option<(jiff::Timestamp, String)>> {
    let row = sqlx::query(
        "SELECT at, how FROM opt_outs WHERE email_norm = $1 AND ($2 = 1 OR desk = $3)
         ORDER BY at LIMIT 1",
    )
    .bind(email_norm)
    .bind(scope.is_global() as i64)
    .bind(scope.desk())
    .fetch_optional(db.raw())
    .await?;
    row.map(|r| {
        let ms: i64 = r.get(0);
        let at = jiff::Timestamp::from_millisecond(ms)
            .map_err(|e| super::Error::unreadable("opt_outs", "at", ms, e))?;
        Ok((at, r.get(1)))
    })
    .transpose()
}
