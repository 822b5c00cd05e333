//! Drift bookkeeping for the sweep: which open leads may drift (cheap filters in SQL),
//! the open episodes per lead and kind (`drift_state`), the episode log (`drift_events`)
//! and the week's figures for the review. Writes are batched: a sweep over a million
//! leads must not pay one round trip per row.
//!
//! Owns only the SQL; what drifts and who is reminded is `domain::drift`'s call.

use super::leads::{light_row, Lead, LIGHT_COLUMNS, LIVE};
use super::{Db, Result};
use crate::domain::drift::DriftKind;
use jiff::Timestamp;
use sqlx::Row;
use std::collections::HashMap;

/// Rows per multi-row statement: well under SQLite's 32766 bound parameters.
const BATCH: usize = 400;

/// Wall-clock lower bounds of the drift rules, in Unix ms. Business hours never pass
/// faster than the wall clock, so a lead captured after `now - first_reply_within`
/// cannot be late yet, whatever the team's hours.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    pub now: i64,
    /// `now - first_reply_within`.
    pub reply_by: i64,
    /// `now - idle_after`.
    pub idle_by: i64,
    /// Proposed before this, an owner can be late to accept.
    pub accept_by: i64,
}

/// Open leads that drift now or did at the last sweep; the rest cannot (see [`Bounds`]).
/// Only [`super::leads::LIGHT_COLUMNS`] are filled in.
pub async fn candidates(db: &mut impl Db, desk: &str, b: Bounds) -> Result<Vec<Lead>> {
    let q = format!(
        "SELECT {LIGHT_COLUMNS} FROM leads l
         WHERE l.status IN ({LIVE}) AND l.desk = $5 AND (
               (l.status = 'triage' AND l.created_at <= $2)
            OR l.owner IS NULL
            OR (l.accepted = 0 AND COALESCE(l.assigned_at, l.created_at) <= $4)
            OR (l.accepted = 0 AND l.unaccepted_since IS NOT NULL)
            OR l.owner NOT IN (SELECT id FROM people WHERE active = 1 AND desk = $5)
            OR (l.first_reply_at IS NULL AND l.status = 'new' AND l.created_at <= $2)
            OR (l.last_inbound_at IS NOT NULL AND l.last_inbound_at <= $2
                AND (l.last_outbound_at IS NULL OR l.last_outbound_at < l.last_inbound_at))
            OR ((l.next_action IS NULL OR l.next_action_due IS NULL)
                AND (l.status <> 'new' OR l.first_reply_at IS NOT NULL))
            OR l.next_action_due < $1
            OR (l.last_activity_at <= $3 AND (l.next_action_due IS NULL OR l.next_action_due < $1))
            OR EXISTS (SELECT 1 FROM drift_state d WHERE d.lead_id = l.id))
         ORDER BY l.id"
    );
    let rows = sqlx::query(&q)
        .bind(b.now)
        .bind(b.reply_by)
        .bind(b.idle_by)
        .bind(b.accept_by)
        .bind(desk)
        .fetch_all(db.raw())
        .await?;
    rows.iter().map(light_row).collect()
}

/// One open episode of one kind on one lead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Episode {
    pub kind: DriftKind,
    pub first_seen: Timestamp,
    pub last_reminded: Option<Timestamp>,
    pub escalated: Option<Timestamp>,
}

/// A time column (Unix ms) of `table`, read once into a [`Timestamp`].
fn at(table: &'static str, column: &'static str, ms: i64) -> Result<Timestamp> {
    Timestamp::from_millisecond(ms).map_err(|e| super::Error::unreadable(table, column, ms, e))
}

fn at_opt(table: &'static str, column: &'static str, ms: Option<i64>) -> Result<Option<Timestamp>> {
    ms.map(|ms| at(table, column, ms)).transpose()
}

/// Every open episode of `desk`'s leads, by lead.
pub async fn episodes(db: &mut impl Db, desk: &str) -> Result<HashMap<i64, Vec<Episode>>> {
    let rows = sqlx::query(
        "SELECT d.lead_id, d.kind, d.first_seen, d.last_reminded, d.escalated
         FROM drift_state d JOIN leads l ON l.id = d.lead_id WHERE l.desk = $1",
    )
    .bind(desk)
    .fetch_all(db.raw())
    .await?;
    let mut out: HashMap<i64, Vec<Episode>> = HashMap::new();
    for r in rows {
        // A kind this build no longer knows is dropped at the next close.
        let Some(kind) = DriftKind::parse(&r.get::<String, _>(1)) else {
            continue;
        };
        out.entry(r.get(0)).or_default().push(Episode {
            kind,
            first_seen: at("drift_state", "first_seen", r.get(2))?,
            last_reminded: at_opt("drift_state", "last_reminded", r.get(3))?,
            escalated: at_opt("drift_state", "escalated", r.get(4))?,
        });
    }
    Ok(out)
}

/// Opens episodes (state and event) at `at`.
pub async fn open(db: &mut impl Db, opened: &[(i64, DriftKind)], at: i64) -> Result<()> {
    for chunk in opened.chunks(BATCH) {
        let values = super::Marks::new(db.raw()).rows(chunk.len(), 3);
        let sql = format!(
            "INSERT INTO drift_state (lead_id, kind, first_seen) VALUES {values}
             ON CONFLICT (lead_id, kind) DO NOTHING"
        );
        let mut q = sqlx::query(&sql);
        for (lead, kind) in chunk {
            q = q.bind(*lead).bind(kind.as_str()).bind(at);
        }
        q.execute(db.raw()).await?;
        let sql = format!("INSERT INTO drift_events (lead_id, kind, opened_at) VALUES {values}");
        let mut q = sqlx::query(&sql);
        for (lead, kind) in chunk {
            q = q.bind(*lead).bind(kind.as_str()).bind(at);
        }
        q.execute(db.raw()).await?;
    }
    Ok(())
}

/// Closes episodes: the state row goes, the event gets its end.
pub async fn close(db: &mut impl Db, closed: &[(i64, DriftKind)], at: i64) -> Result<()> {
    for chunk in closed.chunks(BATCH) {
        let pairs = super::Marks::new(db.raw()).rows(chunk.len(), 2);
        let sql = format!("DELETE FROM drift_state WHERE (lead_id, kind) IN (VALUES {pairs})");
        let mut q = sqlx::query(&sql);
        for (lead, kind) in chunk {
            q = q.bind(*lead).bind(kind.as_str());
        }
        q.execute(db.raw()).await?;
        let mut marks = super::Marks::new(db.raw());
        let at_mark = marks.list(1);
        let pairs = marks.rows(chunk.len(), 2);
        let sql = format!(
            "UPDATE drift_events SET closed_at = {at_mark}
             WHERE closed_at IS NULL AND (lead_id, kind) IN (VALUES {pairs})"
        );
        let mut q = sqlx::query(&sql).bind(at);
        for (lead, kind) in chunk {
            q = q.bind(*lead).bind(kind.as_str());
        }
        q.execute(db.raw()).await?;
    }
    Ok(())
}

/// Records a reminder (and, when `escalated`, the escalation) on an open episode.
pub async fn reminded(
    db: &mut impl Db,
    lead: i64,
    kind: DriftKind,
    escalated: bool,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE drift_state SET last_reminded = $1,
             escalated = CASE WHEN $2 = 1 THEN $1 ELSE escalated END
         WHERE lead_id = $3 AND kind = $4",
    )
    .bind(at)
    .bind(escalated as i64)
    .bind(lead)
    .bind(kind.as_str())
    .execute(db.raw())
    .await?;
    Ok(())
}

/// [`reminded`] for many episodes at once: one statement per kind and up to `BATCH`
/// leads, for a sweep that reminds thousands (a first sweep over an old database).
pub async fn reminded_many(
    db: &mut impl Db,
    items: &[(i64, DriftKind, bool)],
    at: i64,
) -> Result<()> {
    let mut by_kind: std::collections::BTreeMap<(DriftKind, bool), Vec<i64>> =
        std::collections::BTreeMap::new();
    for &(lead, kind, escalated) in items {
        by_kind.entry((kind, escalated)).or_default().push(lead);
    }
    for ((kind, escalated), leads) in by_kind {
        for chunk in leads.chunks(BATCH) {
            let ids = (0..chunk.len())
                .map(|i| format!("${}", i + 4))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "UPDATE drift_state SET last_reminded = $1,
                     escalated = CASE WHEN $2 = 1 THEN $1 ELSE escalated END
                 WHERE kind = $3 AND lead_id IN ({ids})"
            );
            let mut q = sqlx::query(&sql)
                .bind(at)
                .bind(escalated as i64)
                .bind(kind.as_str());
            for lead in chunk {
                q = q.bind(*lead);
            }
            q.execute(db.raw()).await?;
        }
    }
    Ok(())
}

/// People a lead already moved away from for not accepting it.
pub async fn moved_from(db: &mut impl Db, lead: i64) -> Result<Vec<String>> {
    let rows = sqlx::query("SELECT person FROM drift_moves WHERE lead_id = $1 ORDER BY at")
        .bind(lead)
        .fetch_all(db.raw())
        .await?;
    Ok(rows.into_iter().map(|r| r.get(0)).collect())
}

pub async fn record_move(db: &mut impl Db, lead: i64, from: &str, at: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO drift_moves (lead_id, person, at) VALUES ($1, $2, $3)
         ON CONFLICT (lead_id, person) DO UPDATE SET at = excluded.at",
    )
    .bind(lead)
    .bind(from)
    .bind(at)
    .execute(db.raw())
    .await?;
    Ok(())
}

/// The sweep handed an unaccepted lead on: it stays unaccepted from `since` (the first
/// window it missed; an earlier one already recorded wins) until someone accepts.
pub async fn keep_unaccepted(db: &mut impl Db, lead: i64, since: i64) -> Result<()> {
    sqlx::query(
        "UPDATE leads SET unaccepted_since = COALESCE(unaccepted_since, $1)
         WHERE id = $2 AND accepted = 0",
    )
    .bind(since)
    .bind(lead)
    .execute(db.raw())
    .await?;
    Ok(())
}

/// Whether an outbox row with this once-key exists (a digest already queued).
pub async fn once_key_used(db: &mut impl Db, key: &str) -> Result<bool> {
    Ok(sqlx::query("SELECT 1 FROM outbox WHERE once_key = $1")
        .bind(key)
        .fetch_optional(db.raw())
        .await?
        .is_some())
}

/// Whether the scheduled job `key` was done.
pub async fn run_done(db: &mut impl Db, key: &str) -> Result<bool> {
    Ok(sqlx::query("SELECT 1 FROM scheduler_runs WHERE key = $1")
        .bind(key)
        .fetch_optional(db.raw())
        .await?
        .is_some())
}

pub async fn mark_run(db: &mut impl Db, key: &str, at: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO scheduler_runs (key, at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
    )
    .bind(key)
    .bind(at)
    .execute(db.raw())
    .await?;
    Ok(())
}

/// The counts behind the weekly review, for leads and events in `[since, until)`.
#[derive(Clone, Debug, Default)]
pub struct WeekFacts {
    pub live: u32,
    pub live_accepted: u32,
    pub live_future_deadline: u32,
    /// (lead, assigned or handed over at, accepted at) for proposals in the period.
    pub proposals: Vec<(i64, Timestamp, Option<Timestamp>)>,
    /// (lead, created_at, first_reply_at) of leads captured in the period.
    pub new_leads: Vec<(i64, Timestamp, Option<Timestamp>)>,
    pub drift_opened: u32,
    pub drift_closed: u32,
    /// (opened_at, closed_at) of episodes that overlap the period, for drift per day.
    pub episodes: Vec<(Timestamp, Option<Timestamp>)>,
}

/// The week of `desk`'s leads.
pub async fn week_facts(db: &mut impl Db, desk: &str, since: i64, until: i64) -> Result<WeekFacts> {
    db.flush().await?;
    let mut f = WeekFacts::default();
    let q = format!(
        "SELECT COUNT(*),
            COALESCE(SUM(CASE WHEN accepted = 1
                              AND owner IN (SELECT id FROM people WHERE active = 1 AND desk = $2)
                         THEN 1 ELSE 0 END), 0),
            COALESCE(SUM(CASE WHEN next_action_due > $1 THEN 1 ELSE 0 END), 0)
         FROM leads WHERE status IN ({LIVE}) AND desk = $2"
    );
    let r = sqlx::query(&q)
        .bind(until)
        .bind(desk)
        .fetch_one(db.raw())
        .await?;
    f.live = r.get::<i64, _>(0) as u32;
    f.live_accepted = r.get::<i64, _>(1) as u32;
    f.live_future_deadline = r.get::<i64, _>(2) as u32;

    // A proposal is an assignment to someone (or a handoff); its acceptance is the first
    // `accepted` activity after it.
    let rows = sqlx::query(
        "SELECT a.lead_id, a.at,
            (SELECT MIN(b.at) FROM activities b WHERE b.lead_id = a.lead_id
                AND b.kind = 'accepted' AND b.at >= a.at)
         FROM activities a JOIN leads l ON l.id = a.lead_id
         WHERE a.kind IN ('assigned', 'handoff') AND a.at >= $1 AND a.at < $2
           AND l.owner IS NOT NULL AND l.desk = $3",
    )
    .bind(since)
    .bind(until)
    .bind(desk)
    .fetch_all(db.raw())
    .await?;
    f.proposals = rows
        .iter()
        .map(|r| {
            Ok((
                r.get(0),
                at("activities", "at", r.get(1))?,
                at_opt("activities", "at", r.get(2))?,
            ))
        })
        .collect::<Result<_>>()?;

    let rows = sqlx::query(
        "SELECT id, created_at, first_reply_at FROM leads
         WHERE created_at >= $1 AND created_at < $2 AND desk = $3",
    )
    .bind(since)
    .bind(until)
    .bind(desk)
    .fetch_all(db.raw())
    .await?;
    f.new_leads = rows
        .iter()
        .map(|r| {
            Ok((
                r.get(0),
                at("leads", "created_at", r.get(1))?,
                at_opt("leads", "first_reply_at", r.get(2))?,
            ))
        })
        .collect::<Result<_>>()?;

    let r = sqlx::query(
        "SELECT
            (SELECT COUNT(*) FROM drift_events e JOIN leads l ON l.id = e.lead_id
              WHERE e.opened_at >= $1 AND e.opened_at < $2 AND l.desk = $3),
            (SELECT COUNT(*) FROM drift_events e JOIN leads l ON l.id = e.lead_id
              WHERE e.closed_at >= $1 AND e.closed_at < $2 AND l.desk = $3)",
    )
    .bind(since)
    .bind(until)
    .bind(desk)
    .fetch_one(db.raw())
    .await?;
    f.drift_opened = r.get::<i64, _>(0) as u32;
    f.drift_closed = r.get::<i64, _>(1) as u32;

    let rows = sqlx::query(
        "SELECT e.opened_at, e.closed_at FROM drift_events e JOIN leads l ON l.id = e.lead_id
         WHERE e.opened_at < $2 AND (e.closed_at IS NULL OR e.closed_at >= $1) AND l.desk = $3",
    )
    .bind(since)
    .bind(until)
    .bind(desk)
    .fetch_all(db.raw())
    .await?;
    f.episodes = rows
        .iter()
        .map(|r| {
            Ok((
                at("drift_events", "opened_at", r.get(0))?,
                at_opt("drift_events", "closed_at", r.get(1))?,
            ))
        })
        .collect::<Result<_>>()?;
    Ok(f)
}
