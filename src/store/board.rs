//! The board's tables: magic login links and sessions (both kept as the SHA-256 of the
//! secret the person holds, never the secret), and the board's reads of leads: the live
//! leads with their last activity, in one statement each.

use super::{Db, Result};
use crate::domain::lead::Lead;
use sqlx::Row;
use std::collections::HashMap;

/// A magic link as the login checks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginLink {
    pub id: i64,
    pub person: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

pub async fn insert_login_link(
    db: &mut impl Db,
    token_hash: &str,
    person: &str,
    now: i64,
    expires_at: i64,
) -> Result<i64> {
    let r = sqlx::query(
        "INSERT INTO board_login_links (token_hash, person, created_at, expires_at)
         VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(token_hash)
    .bind(person)
    .bind(now)
    .bind(expires_at)
    .fetch_one(db.raw())
    .await?;
    Ok(r.get(0))
}

/// The link with this token hash, used or not, expired or not (the caller says which).
pub async fn login_link(db: &mut impl Db, token_hash: &str) -> Result<Option<LoginLink>> {
    let r = sqlx::query(
        "SELECT id, person, expires_at, used_at FROM board_login_links WHERE token_hash = $1",
    )
    .bind(token_hash)
    .fetch_optional(db.raw())
    .await?;
    Ok(r.map(|r| LoginLink {
        id: r.get(0),
        person: r.get(1),
        expires_at: r.get(2),
        used_at: r.get(3),
    }))
}

/// Marks an unused, unexpired link used; false when another request used it first (the
/// one statement decides, so two presses of the button make one session).
pub async fn use_login_link(db: &mut impl Db, id: i64, now: i64) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE board_login_links SET used_at = $1
         WHERE id = $2 AND used_at IS NULL AND expires_at > $1",
    )
    .bind(now)
    .bind(id)
    .execute(db.raw())
    .await?;
    Ok(r.rows_affected() == 1)
}

/// A board session as `leadgate sessions` lists it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Session {
    pub id: i64,
    pub person: String,
    /// Unix ms.
    pub created_at: i64,
    pub expires_at: i64,
    pub last_seen_at: i64,
    pub revoked_at: Option<i64>,
    /// `magic_link` (how it was made).
    pub how: String,
}

const SESSION_COLUMNS: &str = "id, person, created_at, expires_at, last_seen_at, revoked_at, how";

fn session(r: &sqlx::any::AnyRow) -> Session {
    Session {
        id: r.get(0),
        person: r.get(1),
        created_at: r.get(2),
        expires_at: r.get(3),
        last_seen_at: r.get(4),
        revoked_at: r.get(5),
        how: r.get(6),
    }
}

pub async fn insert_session(
    db: &mut impl Db,
    token_hash: &str,
    person: &str,
    how: &str,
    now: i64,
    expires_at: i64,
) -> Result<i64> {
    let r = sqlx::query(
        "INSERT INTO board_sessions (token_hash, person, created_at, expires_at, last_seen_at, how)
         VALUES ($1, $2, $3, $4, $3, $5) RETURNING id",
    )
    .bind(token_hash)
    .bind(person)
    .bind(now)
    .bind(expires_at)
    .bind(how)
    .fetch_one(db.raw())
    .await?;
    Ok(r.get(0))
}

/// The live session with this token hash (not revoked, not expired at `now`).
pub async fn live_session(db: &mut impl Db, token_hash: &str, now: i64) -> Result<Option<Session>> {
    let q = format!(
        "SELECT {SESSION_COLUMNS} FROM board_sessions
         WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2"
    );
    let r = sqlx::query(&q)
        .bind(token_hash)
        .bind(now)
        .fetch_optional(db.raw())
        .await?;
    Ok(r.as_ref().map(session))
}

/// Moves `last_seen_at` (at most once a minute per session, so reads stay reads).
pub async fn touch_session(db: &mut impl Db, id: i64, now: i64) -> Result<()> {
    sqlx::query("UPDATE board_sessions SET last_seen_at = $1 WHERE id = $2 AND last_seen_at < $3")
        .bind(now)
        .bind(id)
        .bind(now - 60_000)
        .execute(db.raw())
        .await?;
    Ok(())
}

/// Every session, newest first (revoked and expired ones too: the list is an audit).
pub async fn sessions(db: &mut impl Db) -> Result<Vec<Session>> {
    let q = format!("SELECT {SESSION_COLUMNS} FROM board_sessions ORDER BY id DESC");
    let rows = sqlx::query(&q).fetch_all(db.raw()).await?;
    Ok(rows.iter().map(session).collect())
}

/// Revokes a session; false when there is no such session or it was revoked already.
pub async fn revoke_session(db: &mut impl Db, id: i64, now: i64) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE board_sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(db.raw())
    .await?;
    Ok(r.rows_affected() == 1)
}

/// The last thing that happened on a lead that a person would call activity: who did it
/// and which way (mail in or out, or a team member's action).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LastActivity {
    pub at: i64,
    pub actor: String,
    pub kind: String,
}

/// Kinds that are a person's doing; leadgate's own bookkeeping (notices sent, drift
/// opened and closed, reminders) is left out of "last activity".
const HUMAN_KINDS: &str = "'captured', 'resubmitted', 'assigned', 'accepted', 'handoff',
    'message_in', 'message_out', 'logged', 'note', 'next_action_set', 'next_action_done',
    'status', 'opted_out', 'snoozed'";

/// The live leads (triage, new, contacted, qualified), `owner` only when given, in id order.
pub async fn live_leads(db: &mut impl Db, owner: Option<&str>) -> Result<Vec<Lead>> {
    let q = format!(
        "SELECT {} FROM leads
         WHERE status IN ('triage', 'new', 'contacted', 'qualified') AND ($1 = '' OR owner = $1)
         ORDER BY id",
        super::leads::COLUMNS
    );
    let rows = sqlx::query(&q)
        .bind(owner.unwrap_or_default())
        .fetch_all(db.raw())
        .await?;
    rows.iter().map(super::leads::from_row).collect()
}

/// The last activity of each of these leads, by lead id (none for a lead without one).
pub async fn last_activities(
    db: &mut impl Db,
    leads: &[i64],
) -> Result<HashMap<i64, LastActivity>> {
    db.flush().await?;
    let mut out = HashMap::new();
    // Bounded statements: the board asks for the rows it shows, a few hundred at most.
    for chunk in leads.chunks(500) {
        let marks = super::Marks::new(db.raw()).list(chunk.len());
        // The newest row per lead: the highest id among its rows of a person's kinds.
        let q = format!(
            "SELECT a.lead_id, a.at, a.actor, a.kind FROM activities a
             JOIN (SELECT lead_id, MAX(id) AS id FROM activities
                   WHERE lead_id IN ({marks}) AND kind IN ({HUMAN_KINDS})
                   GROUP BY lead_id) m ON m.id = a.id"
        );
        let mut query = sqlx::query(&q);
        for id in chunk {
            query = query.bind(*id);
        }
        for r in query.fetch_all(db.raw()).await? {
            out.insert(
                r.get(0),
                LastActivity {
                    at: r.get(1),
                    actor: r.get(2),
                    kind: r.get(3),
                },
            );
        }
    }
    Ok(out)
}
