//! Leads and their history (activities).

use super::{Db, Error, Result};
use crate::domain::email::EmailAddress;
pub use crate::domain::lead::Lead;
use crate::domain::lead::LeadStatus;
use crate::domain::route::{AccountKey, PastOwner};
use indexmap::IndexMap;
use jiff::Timestamp;
use sqlx::any::AnyRow;
use sqlx::Row;
use std::collections::HashMap;

pub(super) const COLUMNS: &str =
    "id, status, owner, accepted, assigned_at, source, form, name, email, phone, company,
    message, consent, extra, needs_template, route_rule, route_reason, next_action, next_action_due,
    created_at, last_activity_at, first_reply_at, last_inbound_at, last_outbound_at, snoozed_until,
    previous_lead, unaccepted_since, desk";

pub(super) fn from_row(r: &AnyRow) -> Result<Lead> {
    Ok(Lead {
        id: r.get(0),
        status: status(r.get(1))?,
        owner: r.get(2),
        accepted: r.get::<i64, _>(3) != 0,
        assigned_at: time_opt("assigned_at", r.get(4))?,
        source: r.get(5),
        form: r.get(6),
        name: r.get(7),
        email: email(r.get(8))?,
        phone: r.get(9),
        company: r.get(10),
        message: r.get(11),
        consent: r.get::<Option<i64>, _>(12).map(|c| c != 0),
        extra: extra(&r.get::<String, _>(13))?,
        needs_template: r.get::<i64, _>(14) != 0,
        route_rule: r.get(15),
        route_reason: r.get(16),
        next_action: r.get(17),
        next_action_due: time_opt("next_action_due", r.get(18))?,
        created_at: time("created_at", r.get(19))?,
        last_activity_at: time("last_activity_at", r.get(20))?,
        first_reply_at: time_opt("first_reply_at", r.get(21))?,
        last_inbound_at: time_opt("last_inbound_at", r.get(22))?,
        last_outbound_at: time_opt("last_outbound_at", r.get(23))?,
        snoozed_until: time_opt("snoozed_until", r.get(24))?,
        previous_lead: r.get(25),
        unaccepted_since: time_opt("unaccepted_since", r.get(26))?,
        desk: r.get(27),
    })
}

/// The columns of a lead that the drift rules, reminders, digest lines and the board read
/// (no message, fields or extras): for reading many leads at once. Read by [`light_row`].
pub(super) const LIGHT_COLUMNS: &str = "id, status, owner, accepted, assigned_at, created_at,
    first_reply_at, last_inbound_at, last_outbound_at, next_action, next_action_due,
    last_activity_at, snoozed_until, name, email, unaccepted_since, source, form, route_reason,
    desk, route_rule";

/// A lead read with [`LIGHT_COLUMNS`] (from the row's first column on); the other fields
/// are empty.
pub(super) fn light_row(r: &AnyRow) -> Result<Lead> {
    Ok(Lead {
        id: r.get(0),
        status: status(r.get(1))?,
        owner: r.get(2),
        accepted: r.get::<i64, _>(3) != 0,
        assigned_at: time_opt("assigned_at", r.get(4))?,
        created_at: time("created_at", r.get(5))?,
        first_reply_at: time_opt("first_reply_at", r.get(6))?,
        last_inbound_at: time_opt("last_inbound_at", r.get(7))?,
        last_outbound_at: time_opt("last_outbound_at", r.get(8))?,
        next_action: r.get(9),
        next_action_due: time_opt("next_action_due", r.get(10))?,
        last_activity_at: time("last_activity_at", r.get(11))?,
        snoozed_until: time_opt("snoozed_until", r.get(12))?,
        name: r.get(13),
        email: email(r.get(14))?,
        unaccepted_since: time_opt("unaccepted_since", r.get(15))?,
        source: r.get(16),
        form: r.get(17),
        route_reason: r.get(18),
        desk: r.get(19),
        route_rule: r.get(20),
        phone: None,
        company: None,
        message: None,
        consent: None,
        extra: Default::default(),
        needs_template: false,
        previous_lead: None,
    })
}

fn from_rows(rows: &[AnyRow]) -> Result<Vec<Lead>> {
    rows.iter().map(from_row).collect()
}

/// Statuses as an SQL list (`'new', 'contacted'`), chosen from the domain's
/// [`LeadStatus::ALL`]: the store's queries name no list of their own, so a status added
/// to the domain is counted everywhere at once.
pub(super) struct Statuses(fn(LeadStatus) -> bool);

/// A live lead: open, triage included.
pub(super) const LIVE: Statuses = Statuses(LeadStatus::is_open);
/// A lead someone works: open and past triage.
pub(super) const WORKED: Statuses = Statuses(|s| s.is_open() && s != LeadStatus::Triage);

impl std::fmt::Display for Statuses {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut sep = "";
        for s in LeadStatus::ALL.into_iter().filter(|s| (self.0)(*s)) {
            write!(f, "{sep}'{}'", s.as_str())?;
            sep = ", ";
        }
        Ok(())
    }
}

/// `leads.status`, which only this build's statuses are written to.
pub(super) fn status(s: String) -> Result<LeadStatus> {
    LeadStatus::parse(&s).ok_or_else(|| Error::unreadable("leads", "status", s, "no such status"))
}

/// A time column of `leads` (Unix ms).
pub(super) fn time(column: &'static str, ms: i64) -> Result<Timestamp> {
    Timestamp::from_millisecond(ms).map_err(|e| Error::unreadable("leads", column, ms, e))
}

pub(super) fn time_opt(column: &'static str, ms: Option<i64>) -> Result<Option<Timestamp>> {
    ms.map(|ms| time(column, ms)).transpose()
}

pub(super) fn email(s: Option<String>) -> Result<Option<EmailAddress>> {
    s.map(|s| EmailAddress::parse(&s).map_err(|e| Error::unreadable("leads", "email", s, e)))
        .transpose()
}

/// `leads.extra`: a JSON object of strings, in the form's order; empty when not read.
pub(super) fn extra(json: &str) -> Result<IndexMap<String, String>> {
    if json.is_empty() {
        return Ok(IndexMap::new());
    }
    serde_json::from_str(json).map_err(|e| Error::unreadable("leads", "extra", json, e))
}

pub struct NewLead<'a> {
    pub desk: &'a str,
    /// `New` for a lead, `Triage` for a triage item.
    pub status: LeadStatus,
    pub owner: Option<&'a str>,
    pub source: &'a str,
    pub form: Option<&'a str>,
    pub name: Option<&'a str>,
    pub email: Option<&'a str>,
    pub email_norm: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub company: Option<&'a str>,
    pub message: Option<&'a str>,
    pub consent: Option<bool>,
    pub extra: &'a str,
    pub needs_template: bool,
    pub route_rule: Option<&'a str>,
    pub route_reason: &'a str,
    pub next_action: Option<&'a str>,
    pub next_action_due: Option<i64>,
    pub now: i64,
    pub previous_lead: Option<i64>,
}

pub async fn insert(db: &mut impl Db, l: &NewLead<'_>) -> Result<i64> {
    let row = sqlx::query(
        "INSERT INTO leads (status, owner, accepted, assigned_at, source, form, name, email, email_norm,
             phone, company, message, consent, extra, needs_template, route_rule, route_reason,
             next_action, next_action_due, created_at, last_activity_at, previous_lead, email_domain,
             desk)
         VALUES ($21, $1, 0, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                 $18, $18, $19, $20, $22)
         RETURNING id",
    )
    .bind(l.owner)
    .bind(l.owner.map(|_| l.now))
    .bind(l.source)
    .bind(l.form)
    .bind(l.name)
    .bind(l.email)
    .bind(l.email_norm)
    .bind(l.phone)
    .bind(l.company)
    .bind(l.message)
    .bind(l.consent.map(|c| c as i64))
    .bind(l.extra)
    .bind(l.needs_template as i64)
    .bind(l.route_rule)
    .bind(l.route_reason)
    .bind(l.next_action)
    .bind(l.next_action_due)
    .bind(l.now)
    .bind(l.previous_lead)
    .bind(l.email_norm.and_then(|e| e.rsplit_once('@')).map(|(_, d)| d))
    .bind(l.status.as_str())
    .bind(l.desk)
    .fetch_one(db.raw())
    .await?;
    Ok(row.get(0))
}

pub async fn get(db: &mut impl Db, id: i64) -> Result<Option<Lead>> {
    let q = format!("SELECT {COLUMNS} FROM leads WHERE id = $1");
    sqlx::query(&q)
        .bind(id)
        .fetch_optional(db.raw())
        .await?
        .map(|r| from_row(&r))
        .transpose()
}

/// The newest lead of a normalised address on `desk` that someone is working (new,
/// contacted or qualified: open and past triage), for the relay's BCC logging.
pub async fn latest_worked_by_email(
    db: &mut impl Db,
    desk: &str,
    email_norm: &str,
) -> Result<Option<i64>> {
    let q = format!(
        "SELECT id FROM leads WHERE email_norm = $1 AND desk = $2 AND status IN ({WORKED})
         ORDER BY id DESC LIMIT 1"
    );
    Ok(sqlx::query(&q)
        .bind(email_norm)
        .bind(desk)
        .fetch_optional(db.raw())
        .await?
        .map(|r| r.get(0)))
}

#[derive(Clone, Debug, Default)]
pub struct LeadFilter {
    /// One desk's leads; all desks' when None.
    pub desk: Option<String>,
    pub status: Option<String>,
    pub owner: Option<String>,
    pub needs_template: bool,
    pub unaccepted: bool,
    pub orphaned: bool,
    pub limit: Option<i64>,
}

pub async fn list(db: &mut impl Db, f: &LeadFilter) -> Result<Vec<Lead>> {
    let q = format!(
        "SELECT {COLUMNS} FROM leads
         WHERE ($1 = '' OR status = $1) AND ($2 = '' OR owner = $2)
           AND ($3 = 0 OR needs_template = 1)
           AND ($4 = 0 OR (owner IS NOT NULL AND accepted = 0 AND status IN ({WORKED})))
           AND ($5 = 0 OR ((owner IS NULL OR owner NOT IN
                                (SELECT id FROM people WHERE active = 1 AND desk = leads.desk))
                           AND status IN ({WORKED})))
           AND ($7 = '' OR desk = $7)
         ORDER BY id LIMIT $6"
    );
    let rows = sqlx::query(&q)
        .bind(f.status.clone().unwrap_or_default())
        .bind(f.owner.clone().unwrap_or_default())
        .bind(f.needs_template as i64)
        .bind(f.unaccepted as i64)
        .bind(f.orphaned as i64)
        .bind(f.limit.unwrap_or(i64::MAX))
        .bind(f.desk.clone().unwrap_or_default())
        .fetch_all(db.raw())
        .await?;
    from_rows(&rows)
}

/// The leads before lead `before` under these account keys (an address, or a domain),
/// the newest with an owner per key: routing's "existing account → account owner".
pub async fn past_owners(
    db: &mut impl Db,
    desk: &str,
    keys: &[AccountKey],
    before: i64,
) -> Result<HashMap<String, PastOwner>> {
    let mut out = HashMap::new();
    for key in keys {
        if let Some(owner) = past_owner(db, desk, key, before).await? {
            out.insert(key.key.clone(), owner);
        }
    }
    Ok(out)
}

/// The newest lead before lead `before` under one account key that has an owner and,
/// when the key names statuses, is in one of them; see [`past_owners`].
pub async fn past_owner(
    db: &mut impl Db,
    desk: &str,
    key: &AccountKey,
    before: i64,
) -> Result<Option<PastOwner>> {
    let column = if key.key.contains('@') {
        "email_norm"
    } else {
        "email_domain"
    };
    let statuses = if key.statuses.is_empty() {
        String::new()
    } else {
        let list = (0..key.statuses.len())
            .map(|i| format!("${}", i + 4))
            .collect::<Vec<_>>()
            .join(", ");
        format!(" AND status IN ({list})")
    };
    let sql = format!(
        "SELECT owner, id, status FROM leads
         WHERE {column} = $1 AND id < $2 AND desk = $3 AND owner IS NOT NULL{statuses}
         ORDER BY id DESC LIMIT 1"
    );
    let mut q = sqlx::query(&sql).bind(&key.key).bind(before).bind(desk);
    for st in &key.statuses {
        q = q.bind(st.as_str());
    }
    Ok(q.fetch_optional(db.raw()).await?.map(|r| PastOwner {
        owner: r.get(0),
        lead: r.get(1),
        status: r.get(2),
    }))
}

/// Open leads per owner on `desk`, for least-busy routing and capacity.
pub async fn open_counts(db: &mut impl Db, desk: &str) -> Result<HashMap<String, u32>> {
    // SQLite (without ANALYZE statistics) would otherwise take `leads_by_status` and read
    // every open lead's row, which over a backlog of leads is most of the table; the
    // (owner, status) index answers it alone. PostgreSQL's planner has statistics.
    let from = if db.raw().backend_name() == "SQLite" {
        "leads INDEXED BY leads_by_owner"
    } else {
        "leads"
    };
    let rows = sqlx::query(&format!(
        "SELECT owner, COUNT(*) FROM {from} WHERE owner IS NOT NULL
           AND status IN ({LIVE}) AND desk = $1 GROUP BY owner"
    ))
    .bind(desk)
    .fetch_all(db.raw())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1) as u32))
        .collect())
}

/// How many leads of `desk` are live.
pub async fn live_count(db: &mut impl Db, desk: &str) -> Result<u64> {
    let q = format!("SELECT COUNT(*) FROM leads WHERE status IN ({LIVE}) AND desk = $1");
    let r = sqlx::query(&q).bind(desk).fetch_one(db.raw()).await?;
    Ok(r.get::<i64, _>(0) as u64)
}

/// How many leads are live on each desk that has any (the desks of the leads, whether or
/// not a desk file names them).
pub async fn live_by_desk(db: &mut impl Db) -> Result<std::collections::BTreeMap<String, u64>> {
    let q = format!("SELECT desk, COUNT(*) FROM leads WHERE status IN ({LIVE}) GROUP BY desk");
    let rows = sqlx::query(&q).fetch_all(db.raw()).await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1) as u64))
        .collect())
}

pub async fn touch(db: &mut impl Db, id: i64, at: i64) -> Result<()> {
    sqlx::query("UPDATE leads SET last_activity_at = $1 WHERE id = $2 AND last_activity_at < $1")
        .bind(at)
        .bind(id)
        .execute(db.raw())
        .await?;
    Ok(())
}

pub async fn set_owner(
    db: &mut impl Db,
    id: i64,
    owner: Option<&str>,
    accepted: bool,
    at: i64,
) -> Result<()> {
    // Accepting ends the run of missed windows (`unaccepted_since`); a new proposal does not.
    sqlx::query(
        "UPDATE leads SET owner = $1, accepted = $2, assigned_at = $3, last_activity_at = $3,
             unaccepted_since = CASE WHEN $2 = 1 THEN NULL ELSE unaccepted_since END
         WHERE id = $4",
    )
    .bind(owner)
    .bind(accepted as i64)
    .bind(at)
    .bind(id)
    .execute(db.raw())
    .await?;
    Ok(())
}

pub async fn set_accepted(db: &mut impl Db, id: i64, at: i64) -> Result<()> {
    sqlx::query(
        "UPDATE leads SET accepted = 1, unaccepted_since = NULL, last_activity_at = $1 WHERE id = $2",
    )
        .bind(at)
        .bind(id)
        .execute(db.raw())
        .await?;
    Ok(())
}

pub async fn set_next_action(
    db: &mut impl Db,
    id: i64,
    what: Option<&str>,
    due: Option<i64>,
    at: i64,
) -> Result<()> {
    sqlx::query("UPDATE leads SET next_action = $1, next_action_due = $2, last_activity_at = $3 WHERE id = $4")
        .bind(what)
        .bind(due)
        .bind(at)
        .bind(id)
        .execute(db.raw())
        .await?;
    Ok(())
}

pub async fn set_status(db: &mut impl Db, id: i64, status: LeadStatus, at: i64) -> Result<()> {
    sqlx::query("UPDATE leads SET status = $1, last_activity_at = $2 WHERE id = $3")
        .bind(status.as_str())
        .bind(at)
        .bind(id)
        .execute(db.raw())
        .await?;
    Ok(())
}

/// A contact field a person corrected (`/name`, `/email`, `/phone`, `/company`). `column`
/// is one of those four names (never user input); an email also sets its normalised form
/// and domain, which matching and accounts read.
pub async fn set_contact(
    db: &mut impl Db,
    id: i64,
    column: &str,
    value: &str,
    email_norm: Option<&str>,
    at: i64,
) -> Result<()> {
    let sql = match column {
        "name" => "UPDATE leads SET name = $1, last_activity_at = $2 WHERE id = $3",
        "phone" => "UPDATE leads SET phone = $1, last_activity_at = $2 WHERE id = $3",
        "company" => "UPDATE leads SET company = $1, last_activity_at = $2 WHERE id = $3",
        "email" => {
            "UPDATE leads SET email = $1, last_activity_at = $2, email_norm = $4, email_domain = $5,
                 needs_template = 0 WHERE id = $3"
        }
        other => unreachable!("set_contact on column {other}"),
    };
    let mut q = sqlx::query(sql).bind(value).bind(at).bind(id);
    if column == "email" {
        q = q
            .bind(email_norm)
            .bind(email_norm.and_then(|e| e.rsplit_once('@')).map(|(_, d)| d));
    }
    q.execute(db.raw()).await?;
    Ok(())
}

/// What the pipeline needs of an address's newest lead: whether it is open, and its owner.
#[derive(Clone, Debug, PartialEq)]
pub struct LatestLead {
    pub id: i64,
    pub status: LeadStatus,
    pub owner: Option<String>,
}

/// The newest lead of each of these addresses (open or not), in one statement; an address
/// without a lead is absent from the map.
pub async fn latest_by_emails(
    db: &mut impl Db,
    desk: &str,
    emails_norm: &[&str],
) -> Result<HashMap<String, LatestLead>> {
    if emails_norm.is_empty() {
        return Ok(HashMap::new());
    }
    let mut marks = super::Marks::new(db.raw());
    let desk_mark = marks.list(1);
    let list = marks.list(emails_norm.len());
    let sql = format!(
        "SELECT id, status, owner, email_norm FROM leads WHERE id IN
           (SELECT MAX(id) FROM leads WHERE desk = {desk_mark} AND email_norm IN ({list})
            GROUP BY email_norm)"
    );
    let mut q = sqlx::query(&sql).persistent(false).bind(desk);
    for e in emails_norm {
        q = q.bind(*e);
    }
    q.fetch_all(db.raw())
        .await?
        .into_iter()
        .map(|r| {
            Ok((
                r.get::<String, _>(3),
                LatestLead {
                    id: r.get(0),
                    status: status(r.get(1))?,
                    owner: r.get(2),
                },
            ))
        })
        .collect()
}

/// One entry of a lead's history.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Activity {
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub detail: String,
}

/// One entry of a lead's history, to be written with [`super::Tx::record`]: the one way
/// history is written.
#[derive(Clone, Debug, PartialEq)]
pub struct NewActivity {
    pub lead: i64,
    /// Unix ms.
    pub at: i64,
    /// A person's id, or [`crate::domain::lead::SYSTEM_ACTOR`].
    pub actor: String,
    pub kind: crate::domain::lead::ActivityKind,
    pub detail: String,
    /// The stored message the entry is about.
    pub message_row: Option<i64>,
    /// The email queued with the entry.
    pub outbox: Option<super::EmailRef>,
}

impl NewActivity {
    pub fn new(
        lead: i64,
        at: i64,
        actor: &str,
        kind: crate::domain::lead::ActivityKind,
        detail: impl Into<String>,
    ) -> NewActivity {
        NewActivity {
            lead,
            at,
            actor: actor.to_owned(),
            kind,
            detail: detail.into(),
            message_row: None,
            outbox: None,
        }
    }

    /// An entry by leadgate itself.
    pub fn system(
        lead: i64,
        at: i64,
        kind: crate::domain::lead::ActivityKind,
        detail: impl Into<String>,
    ) -> NewActivity {
        NewActivity::new(lead, at, crate::domain::lead::SYSTEM_ACTOR, kind, detail)
    }

    pub fn message(self, message_row: Option<i64>) -> NewActivity {
        NewActivity {
            message_row,
            ..self
        }
    }

    pub fn outbox(self, outbox: Option<super::EmailRef>) -> NewActivity {
        NewActivity { outbox, ..self }
    }
}

/// History entries of several leads in as few statements as the parameter limit allows,
/// in the given order (so each lead's entries keep theirs).
/// Writes history entries whose emails are written (`outbox_id` resolves their refs).
pub(super) async fn insert_history(
    conn: &mut sqlx::AnyConnection,
    entries: &[NewActivity],
    outbox_id: impl Fn(super::EmailRef) -> Option<i64>,
) -> Result<()> {
    const COLS: usize = 7;
    for chunk in entries.chunks(4_000) {
        let values = super::Marks::new(conn).rows(chunk.len(), COLS);
        let sql = format!(
            "INSERT INTO activities (lead_id, at, actor, kind, detail, message_row, outbox_id) VALUES {values}"
        );
        let mut q = sqlx::query(&sql).persistent(false);
        for e in chunk {
            q = q
                .bind(e.lead)
                .bind(e.at)
                .bind(e.actor.as_str())
                .bind(e.kind.as_str())
                .bind(e.detail.as_str())
                .bind(e.message_row)
                .bind(e.outbox.and_then(&outbox_id));
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

pub async fn history(db: &mut impl Db, lead: i64) -> Result<Vec<Activity>> {
    db.flush().await?;
    let rows = sqlx::query(
        "SELECT at, actor, kind, detail FROM activities WHERE lead_id = $1 ORDER BY at, id",
    )
    .bind(lead)
    .fetch_all(db.raw())
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Activity {
            at: super::timestamp(r.get(0)).to_string(),
            actor: r.get(1),
            kind: r.get(2),
            detail: r.get(3),
        })
        .collect())
}

/// `/snooze`: no reminders until `until` (`None` wakes the lead).
pub async fn set_snoozed_until(
    db: &mut impl Db,
    id: i64,
    until: Option<i64>,
    at: i64,
) -> Result<()> {
    sqlx::query("UPDATE leads SET snoozed_until = $1, last_activity_at = $2 WHERE id = $3")
        .bind(until)
        .bind(at)
        .bind(id)
        .execute(db.raw())
        .await?;
    Ok(())
}

/// A reply went out to the lead: the first one sets `first_reply_at`, every one moves
/// `last_outbound_at`.
pub async fn record_outbound(db: &mut impl Db, id: i64, at: i64) -> Result<()> {
    sqlx::query(
        "UPDATE leads SET first_reply_at = COALESCE(first_reply_at, $1), last_outbound_at = $1,
             last_activity_at = CASE WHEN last_activity_at < $1 THEN $1 ELSE last_activity_at END
         WHERE id = $2",
    )
    .bind(at)
    .bind(id)
    .execute(db.raw())
    .await?;
    Ok(())
}

/// The lead wrote to us.
pub async fn record_inbound(db: &mut impl Db, id: i64, at: i64) -> Result<()> {
    sqlx::query(
        "UPDATE leads SET last_inbound_at = $1,
             last_activity_at = CASE WHEN last_activity_at < $1 THEN $1 ELSE last_activity_at END
         WHERE id = $2",
    )
    .bind(at)
    .bind(id)
    .execute(db.raw())
    .await?;
    Ok(())
}

/// Open leads (triage, new, contacted, qualified) of an address, oldest first, on the desks
/// an opt-out there reaches: its own, or every desk under a global scope.
pub async fn open_leads_of(
    db: &mut impl Db,
    scope: crate::domain::optout::Scope<'_>,
    email_norm: &str,
) -> Result<Vec<Lead>> {
    let q = format!(
        "SELECT {COLUMNS} FROM leads WHERE status IN ({LIVE})
           AND email_norm = $1 AND ($2 = 1 OR desk = $3) ORDER BY id"
    );
    let rows = sqlx::query(&q)
        .bind(email_norm)
        .bind(scope.is_global() as i64)
        .bind(scope.desk())
        .fetch_all(db.raw())
        .await?;
    from_rows(&rows)
}

/// Open leads with no owner or an owner outside `team` (person ids): only those rows, so
/// a sweep over a million leads reads the few orphans, not every open lead.
pub async fn orphaned_open_leads(
    db: &mut impl Db,
    desk: &str,
    team: &[String],
) -> Result<Vec<Lead>> {
    let in_team = if team.is_empty() {
        "1 = 0".to_owned()
    } else {
        let marks: Vec<String> = (2..=team.len() + 1).map(|i| format!("${i}")).collect();
        format!("owner IN ({})", marks.join(", "))
    };
    let q = format!(
        "SELECT {COLUMNS} FROM leads WHERE status IN ({WORKED})
           AND desk = $1 AND (owner IS NULL OR NOT ({in_team})) ORDER BY id"
    );
    let mut query = sqlx::query(&q).bind(desk);
    for id in team {
        query = query.bind(id);
    }
    from_rows(&query.fetch_all(db.raw()).await?)
}

/// Whether the lead has an activity of `kind` whose detail is exactly `detail`, at or
/// after `since`: "record this once" checks.
pub async fn has_activity(
    db: &mut impl Db,
    lead: i64,
    kind: crate::domain::lead::ActivityKind,
    detail: &str,
    since: i64,
) -> Result<bool> {
    db.flush().await?;
    Ok(sqlx::query(
        "SELECT 1 FROM activities WHERE lead_id = $1 AND kind = $2 AND detail = $3 AND at >= $4
         LIMIT 1",
    )
    .bind(lead)
    .bind(kind.as_str())
    .bind(detail)
    .bind(since)
    .fetch_optional(db.raw())
    .await?
    .is_some())
}
