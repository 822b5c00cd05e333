//! The board's tables: magic login links and sessions (both kept as the SHA-256 of the
//! secret the person holds, never the secret), and the board's reads of leads: the live
//! leads with their last activity, in one statement each.

use super::leads::{light_row, LIGHT_COLUMNS, LIVE};
use super::{Db, Result};
use crate::domain::lead::Lead;
use sqlx::Row;
use std::collections::HashMap;

/// A magic link as the login checks it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginLink {
    pub id: i64,
    /// The person's email address (the same person may be on several desks).
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

/// How many of `person`'s links are still usable at `now` (the login form sends no more
/// than a few at once: it must not be a way to flood someone's mailbox).
pub async fn usable_links(db: &mut impl Db, person: &str, now: i64) -> Result<i64> {
    let r = sqlx::query(
        "SELECT COUNT(*) FROM board_login_links
         WHERE person = $1 AND used_at IS NULL AND expires_at > $2",
    )
    .bind(person)
    .bind(now)
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
    /// The person's email address.
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

/// The live leads (triage, new, contacted, qualified) of `desks`, `owner`'s only when
/// given, in id order, with every column (`/board.json`: the objects of `leads --json`).
pub async fn live_leads(
    db: &mut impl Db,
    desks: &[String],
    owner: Option<&str>,
) -> Result<Vec<Lead>> {
    live(db, super::leads::COLUMNS, desks, owner)
        .await?
        .iter()
        .map(super::leads::from_row)
        .collect()
}

async fn live(
    db: &mut impl Db,
    columns: &str,
    desks: &[String],
    owner: Option<&str>,
) -> Result<Vec<sqlx::any::AnyRow>> {
    if desks.is_empty() {
        return Ok(Vec::new());
    }
    let mut m = super::Marks::new(db.raw());
    let in_desks = m.list(desks.len());
    let (o1, o2) = (m.list(1), m.list(1));
    let q = format!(
        "SELECT {columns} FROM leads
         WHERE status IN ({LIVE}) AND desk IN ({in_desks})
           AND ({o1} = '' OR owner = {o2})
         ORDER BY id"
    );
    let mut query = sqlx::query(&q);
    for d in desks {
        query = query.bind(d.as_str());
    }
    let owner = owner.unwrap_or_default();
    Ok(query.bind(owner).bind(owner).fetch_all(db.raw()).await?)
}

/// [`live_leads`] with only [`super::leads::LIGHT_COLUMNS`]: for a drift filter, which needs the
/// drift of every live lead.
pub async fn live_rows(
    db: &mut impl Db,
    desks: &[String],
    owner: Option<&str>,
) -> Result<Vec<Lead>> {
    live(db, LIGHT_COLUMNS, desks, owner)
        .await?
        .iter()
        .map(light_row)
        .collect()
}

/// What the board's page asks for: live leads, `owner`'s or `status` only when given.
#[derive(Clone, Debug, Default)]
pub struct PageQuery<'a> {
    /// The desks in sight (a lead's owner who is not an active person of its desk, in the
    /// `people` table the daemon keeps in step with the config, leaves it needing one).
    pub desks: &'a [String],
    pub owner: Option<&'a str>,
    pub status: Option<&'a str>,
    /// Only the leads that need an owner or a decision.
    pub nobody: bool,
    /// Unix ms: a next action due before this is overdue.
    pub now: i64,
    /// The most urgent this many per group.
    pub limit: i64,
}

/// One group of the page: `owner` None for the leads that need an owner or a decision
/// (no owner, an owner who left, or a triage item), else (desk, person id).
#[derive(Clone, Debug)]
pub struct PageGroup {
    pub owner: Option<(String, String)>,
    pub total: i64,
    /// The most urgent first: overdue, then by deadline, then the oldest.
    pub leads: Vec<Lead>,
}

#[derive(Clone, Debug, Default)]
pub struct Page {
    pub groups: Vec<PageGroup>,
    pub total: i64,
    pub needing: i64,
    pub overdue: i64,
}

/// The board's page in one statement: every live lead is grouped, counted and ranked by
/// the database, and only the rows shown (the most urgent `limit` per group) come back.
/// Overdue here is the drift rules' (an open lead, not triage, whose next action is past
/// due), so the sort and the count agree with the drift tags.
pub async fn page(db: &mut impl Db, q: &PageQuery<'_>) -> Result<Page> {
    if q.desks.is_empty() {
        return Ok(Page::default());
    }
    let mut m = super::Marks::new(db.raw());
    let now = m.list(1);
    let in_desks = m.list(q.desks.len());
    let (o1, o2, s1, s2) = (m.list(1), m.list(1), m.list(1), m.list(1));
    let nobody = m.list(1);
    let limit = m.list(1);
    let columns: String = LIGHT_COLUMNS
        .split(',')
        .map(|c| format!("l.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ");
    // Ranked on narrow rows (id and sort keys), then joined back for the rows shown: the
    // window functions sort every live lead, and sorting whole rows cost twice as much.
    let sql = format!(
        "WITH live AS (
           SELECT id, next_action_due AS due,
             CASE WHEN owner IS NULL OR status = 'triage'
                    OR owner NOT IN (SELECT p.id FROM people p WHERE p.active = 1 AND p.desk = leads.desk)
                  THEN '' ELSE desk || '/' || owner END AS grp,
             CASE WHEN status <> 'triage' AND next_action IS NOT NULL AND next_action_due < {now}
                  THEN 0 ELSE 1 END AS late,
             CASE WHEN next_action IS NULL OR next_action_due IS NULL THEN 1 ELSE 0 END AS undated
           FROM leads
           WHERE status IN ({LIVE}) AND desk IN ({in_desks})
             AND ({o1} = '' OR owner = {o2}) AND ({s1} = '' OR status = {s2})
         ), shown AS (
           SELECT * FROM live WHERE {nobody} = 0 OR grp = ''
         ), ranked AS (
           SELECT id, grp,
             ROW_NUMBER() OVER (PARTITION BY grp ORDER BY late, undated, due, id) AS n,
             COUNT(*) OVER (PARTITION BY grp) AS total,
             SUM(1 - late) OVER () AS overdue
           FROM shown
         )
         SELECT {columns}, r.grp, r.total, r.overdue FROM ranked r JOIN leads l ON l.id = r.id
         WHERE r.n <= {limit} OR r.n = 1
         ORDER BY r.grp, r.n"
    );
    let mut query = sqlx::query(&sql).bind(q.now);
    for d in q.desks {
        query = query.bind(d.as_str());
    }
    let owner = q.owner.unwrap_or_default();
    let status = q.status.unwrap_or_default();
    query = query
        .bind(owner)
        .bind(owner)
        .bind(status)
        .bind(status)
        .bind(q.nobody as i64)
        .bind(q.limit);
    let rows = query.fetch_all(db.raw()).await?;
    let mut page = Page::default();
    // The group, its count and the overdue count follow the lead's columns.
    let after = LIGHT_COLUMNS.split(',').count();
    for r in &rows {
        let grp: String = r.get(after);
        let total: i64 = r.get(after + 1);
        page.overdue = r.get::<i64, _>(after + 2);
        let owner = grp
            .split_once('/')
            .map(|(d, o)| (d.to_owned(), o.to_owned()));
        if page.groups.last().is_none_or(|g| g.owner != owner) {
            page.total += total;
            if owner.is_none() {
                page.needing = total;
            }
            page.groups.push(PageGroup {
                owner,
                total,
                leads: Vec::new(),
            });
        }
        // `n = 1` keeps every group's count even with a limit of 0.
        if (page.groups.last().map_or(0, |g| g.leads.len()) as i64) < q.limit {
            let lead = light_row(r)?;
            page.groups
                .last_mut()
                .expect("pushed above")
                .leads
                .push(lead);
        }
    }
    Ok(page)
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
