//! The clock-driven side of leadgate: the drift sweep (drift state, reminders,
//! escalations, the acceptance timeout), and the daily digest and weekly review at their
//! times in the team's time zone.
//!
//! Every email decided here goes through the outbox with a once-key, so a restart, a
//! second sweep at the same time or a second instance never queues it twice:
//! `reminder:<lead>:<kind>:<period>` (period = `now / remind_every`),
//! `accept:<lead>:<assigned at>`, `digest:daily:<date>`, `digest:weekly:<ISO week>`.
//!
//! The drift rules themselves are pure (`domain::drift`, `domain::acceptance`); this
//! module gathers facts from the store, applies the rules and writes what they decided,
//! in one transaction per sweep.

pub mod chart;
pub mod digest;
pub mod operator;
pub mod reminders;
mod task;

use crate::templates;
pub use task::run;

use crate::config::Settings;
use crate::domain::acceptance::{acceptance_step, AcceptanceStep, Proposal};
use crate::domain::drift::{self, Drift, DriftKind, LeadFacts, ReminderHistory};
use crate::domain::lead::ActivityKind;
use crate::domain::notify::{self, Draft, Purpose};
use crate::domain::route::Snapshot;
use crate::store::drift::{self as drift_store, Bounds, Episode};
use crate::store::leads::Lead;
use crate::store::{self, Db, NewActivity, Store, Tx};
use anyhow::Context;
use jiff::Timestamp;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// One open lead as the sweep and the digest see it.
#[derive(Clone, Debug)]
pub struct Scanned {
    pub row: Lead,
    pub facts: LeadFacts,
    pub drift: Vec<Drift>,
}

impl Scanned {
    pub fn kinds(&self) -> Vec<DriftKind> {
        self.drift.iter().map(|d| d.kind).collect()
    }

    /// What is wrong with this lead as `kind`, in words (see [`describe`]).
    pub fn problem(&self, kind: DriftKind, s: &Settings) -> String {
        let drift = self
            .drift
            .iter()
            .find(|d| d.kind == kind)
            .copied()
            .unwrap_or(Drift { kind, since: None });
        describe(kind, &drift, &self.facts, s)
    }
}

/// The `remind_every` period `now_ms` falls in: once-keys of reminders carry it, so a
/// reminder is queued at most once per lead and kind (or per combined mail) per period.
fn reminder_period(s: &Settings, now_ms: i64) -> i64 {
    now_ms / (s.stale.remind_every.as_millis() as i64).max(60_000)
}

/// Open leads that may drift, with their drift at `now`. Leads that cannot drift are
/// filtered out in SQL (see [`Bounds`]); the rest are judged by `domain::drift`.
pub async fn scan(
    conn: &mut impl Db,
    s: &Settings,
    now: Timestamp,
) -> anyhow::Result<Vec<Scanned>> {
    let bounds = bounds(s, now);
    let rows = drift_store::candidates(conn, &s.desk.id, bounds)
        .await
        .context("Failed to read the open leads")?;
    let active = s.active_people();
    Ok(rows
        .into_iter()
        .map(|row| {
            let owner_active = row.owner.as_ref().is_some_and(|o| active.contains(o));
            let facts = row.facts(owner_active);
            let drift =
                drift::drift_details(&facts, &s.stale, &s.team.hours, &s.team.timezone, now);
            Scanned { row, facts, drift }
        })
        .collect())
}

fn bounds(s: &Settings, now: Timestamp) -> Bounds {
    let now_ms = store::millis(now);
    let back = |d: jiff::SignedDuration| now_ms.saturating_sub(d.as_millis() as i64);
    Bounds {
        now: now_ms,
        reply_by: back(s.stale.first_reply_within),
        idle_by: back(s.stale.idle_after),
        accept_by: back(s.stale.accept_within),
    }
}

/// What one sweep did (or, dry, would do).
#[derive(Clone, Debug, Default, Serialize)]
pub struct SweepReport {
    pub now: String,
    pub dry_run: bool,
    /// Open leads the drift rules looked at (the rest cannot drift, see [`Bounds`]).
    pub scanned: usize,
    /// Leads drifting now, and how many per kind.
    pub drifting: usize,
    pub by_kind: BTreeMap<String, usize>,
    pub opened: Vec<LeadKind>,
    pub closed: Vec<LeadKind>,
    pub reminders: Vec<ReminderAction>,
    pub moved: Vec<MoveAction>,
    /// Orphans handed to an owner by `ops::reassign_orphans`.
    pub orphans_reassigned: Vec<i64>,
    /// Another instance was sweeping (PostgreSQL): this one did nothing.
    pub skipped: bool,
}

impl SweepReport {
    /// Whether mail was queued (the outbox is then woken).
    pub fn queued_mail(&self) -> bool {
        !self.reminders.is_empty() || !self.moved.is_empty() || !self.orphans_reassigned.is_empty()
    }
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct LeadKind {
    pub lead: i64,
    pub kind: DriftKind,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ReminderAction {
    pub lead: i64,
    pub kind: DriftKind,
    pub to: Vec<String>,
    pub escalated: bool,
    /// False when the once-key said another sweep already queued it.
    pub queued: bool,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct MoveAction {
    pub lead: i64,
    pub from: Option<String>,
    pub to: Option<String>,
    pub reason: String,
}

/// A reminder or move the sweep decided on, before anything is written.
enum Decision {
    Remind {
        kind: DriftKind,
        escalate: bool,
        /// The acceptance reminder: once per assignment.
        acceptance: bool,
    },
    MoveOn {
        reason: String,
    },
}

/// One drift pass as of `now`: drift state opened and closed, reminders and escalations
/// queued (at most one per lead and kind per `remind_every`, none while snoozed),
/// unaccepted leads reminded once and then handed on, orphans reassigned. With
/// `dry_run` nothing is written; the report says what would have been done.
///
/// `lock_wait`: how long to wait for a sweep in progress elsewhere (PostgreSQL); None
/// skips at once (`report.skipped`) and leaves this pass to that sweep.
pub async fn sweep(
    store: &Store,
    s: &Settings,
    now: Timestamp,
    dry_run: bool,
    lock_wait: Option<std::time::Duration>,
) -> anyhow::Result<SweepReport> {
    let now_ms = store::millis(now);
    let mut report = SweepReport {
        now: now.to_string(),
        dry_run,
        ..Default::default()
    };
    let mut tx = store.begin().await.context("Failed to begin the sweep")?;
    // Several instances (or a daemon and `leadgate sweep`) may share a PostgreSQL
    // database: one sweeps at a time (the lock ends with the transaction).
    if !dry_run
        && !store::locks::sweep(&mut tx, lock_wait)
            .await
            .context("Failed to take the sweep lock")?
    {
        report.skipped = true;
        tx.rollback().await?;
        return Ok(report);
    }
    let mut scanned = scan(&mut tx, s, now).await?;
    let mut episodes = drift_store::episodes(&mut tx, &s.desk.id)
        .await
        .context("Failed to read the drift state")?;
    // Routing orphans again reads every open lead: only when a lead newly became one
    // (an owner left, or capture found nobody), not every minute for the same orphans.
    let newly_orphaned = scanned.iter().any(|l| {
        l.drift.iter().any(|d| d.kind == DriftKind::Orphaned)
            && !episodes
                .get(&l.row.id)
                .is_some_and(|e| e.iter().any(|e| e.kind == DriftKind::Orphaned))
    });
    if newly_orphaned && !dry_run {
        report.orphans_reassigned = crate::ops::reassign_orphans(&mut tx, s, now)
            .await
            .context("Failed to reassign orphaned leads")?;
        if !report.orphans_reassigned.is_empty() {
            scanned = scan(&mut tx, s, now).await?;
        }
    }
    report.scanned = scanned.len();

    let mut decisions: Vec<(usize, Decision)> = Vec::new();
    for (i, lead) in scanned.iter().enumerate() {
        if lead.drift.is_empty() {
            continue;
        }
        let eps = episodes.get(&lead.row.id).map(Vec::as_slice).unwrap_or(&[]);
        for d in decide(lead, eps, s, now) {
            decisions.push((i, d));
        }
    }

    // Hand-ons first; the routing state they read is loaded once and kept up to date.
    let mut routing: Option<Snapshot> = None;
    let mut reminding: Vec<(usize, DriftKind, bool, bool)> = Vec::new();
    for (i, d) in decisions {
        let lead = &scanned[i];
        match d {
            Decision::Remind {
                kind,
                escalate,
                acceptance,
            } => reminding.push((i, kind, escalate, acceptance)),
            Decision::MoveOn { reason } => {
                let action = move_on(&mut tx, s, &mut routing, lead, &reason, now, dry_run)
                    .await
                    .with_context(|| format!("Failed to hand lead #{} on", lead.row.id))?;
                report.moved.push(action);
            }
        }
    }
    // The report and the drift state say what is true after the moves, as the digest
    // right after this sweep reads it (a move changes the owner, and can orphan a lead).
    let rescanned;
    let after = if !report.moved.is_empty() && !dry_run {
        rescanned = scan(&mut tx, s, now).await?;
        &rescanned
    } else {
        &scanned
    };

    for lead in after {
        let kinds = lead.kinds();
        let before_eps = episodes.remove(&lead.row.id).unwrap_or_default();
        if kinds.is_empty() && before_eps.is_empty() {
            continue;
        }
        let before: Vec<DriftKind> = before_eps.iter().map(|e| e.kind).collect();
        let changes = drift::drift_changes(&before, &kinds);
        let id = lead.row.id;
        report.opened.extend(
            changes
                .opened
                .iter()
                .map(|&kind| LeadKind { lead: id, kind }),
        );
        report.closed.extend(
            changes
                .closed
                .iter()
                .map(|&kind| LeadKind { lead: id, kind }),
        );
        if kinds.is_empty() {
            continue;
        }
        report.drifting += 1;
        for k in &kinds {
            *report.by_kind.entry(k.as_str().to_owned()).or_default() += 1;
        }
    }
    // Episodes of leads that are no longer open (won, lost, ...) close too.
    for (lead, eps) in episodes {
        report
            .closed
            .extend(eps.iter().map(|e| LeadKind { lead, kind: e.kind }));
    }

    let pairs = |v: &[LeadKind]| v.iter().map(|l| (l.lead, l.kind)).collect::<Vec<_>>();
    if !dry_run {
        drift_store::open(&mut tx, &pairs(&report.opened), now_ms).await?;
        drift_store::close(&mut tx, &pairs(&report.closed), now_ms).await?;
        for l in &report.opened {
            let detail = format!("drifting: {}", l.kind);
            tx.record(NewActivity::system(
                l.lead,
                now_ms,
                ActivityKind::DriftOpened,
                detail,
            ));
        }
        for l in &report.closed {
            let detail = format!("no longer {}", l.kind);
            tx.record(NewActivity::system(
                l.lead,
                now_ms,
                ActivityKind::DriftClosed,
                detail,
            ));
        }
    }

    // Parsed once per sweep: a first sweep over a big backlog renders thousands.
    let env = if reminding.is_empty() {
        None
    } else {
        Some(templates::environment(s)?)
    };
    let mut due: Vec<reminders::Due> = Vec::new();
    for (i, kind, escalate, acceptance) in reminding {
        let lead = &scanned[i];
        let (to, who) = recipients(s, lead, escalate);
        if !to.is_empty() {
            due.push(reminders::Due {
                lead,
                kind,
                escalate,
                acceptance,
                to,
                who,
            });
        }
    }
    let (combined, single) = reminders::group(due, s.stale.combine_reminders_over);
    if let Some(env) = &env {
        for group in &combined {
            let actions = reminders::send_combined(&mut tx, s, env, group, now, dry_run)
                .await
                .with_context(|| format!("Failed to remind {}", group[0].to.join(", ")))?;
            report.reminders.extend(actions);
        }
        for d in &single {
            let action = remind(&mut tx, s, env, d, now, dry_run)
                .await
                .with_context(|| format!("Failed to remind about lead #{}", d.lead.row.id))?;
            report.reminders.push(action);
        }
    }

    if dry_run {
        tx.rollback().await?;
    } else {
        tx.commit().await.context("Failed to commit the sweep")?;
    }
    Ok(report)
}

/// The reminders and moves due for one drifting lead.
fn decide(lead: &Scanned, episodes: &[Episode], s: &Settings, now: Timestamp) -> Vec<Decision> {
    let kinds = lead.kinds();
    let mut history = ReminderHistory::default();
    for e in episodes {
        history.first_seen.insert(e.kind, e.first_seen);
        if let Some(r) = e.last_reminded {
            history.last_sent.insert(e.kind, r);
        }
    }
    let mut out = Vec::new();
    // Unaccepted follows the acceptance rule: one reminder, then the lead moves on.
    let others: Vec<DriftKind> = kinds
        .iter()
        .copied()
        .filter(|k| *k != DriftKind::Unaccepted)
        .collect();
    if kinds.contains(&DriftKind::Unaccepted) {
        let proposal = Proposal {
            assigned_at: lead.facts.assigned_at.unwrap_or(lead.facts.created_at),
            accepted: lead.facts.accepted,
            reminded_at: history.last_sent.get(&DriftKind::Unaccepted).copied(),
        };
        let snoozed = lead.facts.snoozed_until.is_some_and(|u| now < u);
        match acceptance_step(
            &proposal,
            s.stale.accept_within,
            &s.team.hours,
            &s.team.timezone,
            now,
        ) {
            AcceptanceStep::RemindOwner { .. } if !snoozed => out.push(Decision::Remind {
                kind: DriftKind::Unaccepted,
                escalate: false,
                acceptance: true,
            }),
            AcceptanceStep::MoveOn { reason } => out.push(Decision::MoveOn { reason }),
            _ => {}
        }
    }
    // A missing first reply is the overdue "first reply" action: one reminder, not two.
    let others: Vec<DriftKind> = if others.contains(&DriftKind::NoFirstReply) {
        others
            .into_iter()
            .filter(|k| *k != DriftKind::Overdue)
            .collect()
    } else {
        others
    };
    for r in drift::reminders_due(&lead.facts, &others, &history, &s.stale, now) {
        out.push(Decision::Remind {
            kind: r.kind,
            escalate: r.escalate,
            acceptance: false,
        });
    }
    out
}

/// Who gets a reminder: the owner, plus the manager when escalated; the manager alone
/// (or the digest's readers, without a manager) when nobody owns the lead.
fn recipients(s: &Settings, lead: &Scanned, escalate: bool) -> (Vec<String>, Vec<String>) {
    let owner = lead
        .facts
        .owner
        .as_deref()
        .filter(|_| lead.facts.owner_active)
        .and_then(|o| s.person(o));
    let manager = s.team.manager.as_deref().and_then(|m| s.person(m));
    let mut to = Vec::new();
    let mut who = Vec::new();
    if let Some(o) = owner {
        to.push(o.email.clone());
        who.push(o.id.clone());
    }
    if escalate || owner.is_none() {
        match manager {
            Some(m) if !to.contains(&m.email) => {
                to.push(m.email.clone());
                who.push(m.id.clone());
            }
            Some(_) => {}
            None if owner.is_none() => {
                for a in &s.digest.to {
                    to.push(a.to_string());
                    who.push(a.to_string());
                }
            }
            None => {}
        }
    }
    (to, who)
}

async fn remind(
    tx: &mut Tx<'_>,
    s: &Settings,
    env: &minijinja::Environment<'_>,
    due: &reminders::Due<'_>,
    now: Timestamp,
    dry_run: bool,
) -> anyhow::Result<ReminderAction> {
    let reminders::Due {
        lead,
        kind,
        escalate,
        acceptance,
        ref to,
        ref who,
    } = *due;
    let id = lead.row.id;
    let now_ms = store::millis(now);
    let once_key = if acceptance {
        format!(
            "accept:{id}:{}",
            lead.row
                .assigned_at
                .unwrap_or(lead.row.created_at)
                .as_millisecond()
        )
    } else {
        format!("reminder:{id}:{kind}:{}", reminder_period(s, now_ms))
    };
    let mut action = ReminderAction {
        lead: id,
        kind,
        to: to.clone(),
        escalated: escalate,
        queued: true,
    };
    if dry_run {
        return Ok(action);
    }
    let draft = reminder_draft(s, env, lead, kind, escalate, to, now)?;
    let outbox_id = crate::outbox::enqueue(tx, s, &draft, Some(id), now, Some(&once_key)).await?;
    action.queued = outbox_id.is_some();
    drift_store::reminded(tx, id, kind, escalate, now_ms).await?;
    if outbox_id.is_some() {
        let (activity, detail) = if escalate {
            (
                ActivityKind::Escalation,
                format!("{} escalated: reminder to {}", kind, who.join(", ")),
            )
        } else {
            (
                ActivityKind::Reminder,
                format!("{} reminder to {}", kind, who.join(", ")),
            )
        };
        tx.record(store::NewActivity::system(id, now_ms, activity, &detail).outbox(outbox_id));
    }
    Ok(action)
}

/// What is wrong, in words, for reminders and the digest.
pub fn describe(kind: DriftKind, d: &Drift, facts: &LeadFacts, s: &Settings) -> String {
    let t = |ts: Timestamp| notify::format_time(ts, &s.team.timezone);
    let since = d
        .since
        .map(|x| format!(" since {}", t(x)))
        .unwrap_or_default();
    match kind {
        DriftKind::Orphaned => match &facts.owner {
            Some(o) => format!("no owner: {o} left the team"),
            None => "no owner".into(),
        },
        DriftKind::Unaccepted => match (&facts.owner, facts.unaccepted_since) {
            (Some(o), Some(_)) => format!("nobody accepted it{since}; handed on to {o}"),
            (o, _) => format!(
                "not accepted by {}{since}",
                o.as_deref().unwrap_or("the owner")
            ),
        },
        DriftKind::NoFirstReply => format!("no first reply{since}"),
        DriftKind::Unanswered => format!("the lead wrote again, no answer{since}"),
        DriftKind::NoNextAction => "no next action".into(),
        DriftKind::Overdue => match &facts.next_action {
            Some(n) => format!("next action \"{}\" overdue since {}", n.what, t(n.due)),
            None => format!("overdue{since}"),
        },
        DriftKind::Idle => format!("nothing happened since {}", t(facts.last_activity_at)),
        DriftKind::Untriaged => format!("nobody decided whether it is a lead{since}"),
    }
}

/// What the owner can do about it: quick actions at the top of a reply.
pub fn what_to_do(kind: DriftKind) -> &'static str {
    match kind {
        DriftKind::Orphaned => "Reply with /accept to take it, or /assign bob to hand it on.",
        DriftKind::Unaccepted => {
            "Reply with /accept to take it (a reply to the lead accepts it too), or /assign bob to hand it on."
        }
        DriftKind::NoFirstReply | DriftKind::Unanswered => {
            "Reply to this email to answer the lead (it goes through leadgate), or /next tomorrow call back."
        }
        DriftKind::NoNextAction => {
            "Reply to the lead, or set what happens next: /next 3d follow up (or /status won|lost)."
        }
        DriftKind::Overdue => {
            "Reply to the lead, or /done then /next 2d follow up; /snooze 2d if it can wait."
        }
        DriftKind::Idle => {
            "Reply to the lead, or /next 3d follow up; /status lost if it is over; /snooze 1w if it can wait."
        }
        DriftKind::Untriaged => {
            "Reply with /lead (it is a lead) or /notlead why (it is not), or answer the sender: a reply makes it a lead."
        }
    }
}

fn reminder_draft(
    s: &Settings,
    env: &minijinja::Environment<'_>,
    lead: &Scanned,
    kind: DriftKind,
    escalate: bool,
    to: &[String],
    now: Timestamp,
) -> anyhow::Result<Draft> {
    let row = &lead.row;
    let name = display_name(row);
    let problem = lead.problem(kind, s);
    let tracked = s.relay.tracked_address(row.id);
    let headline = match (kind, escalate) {
        (DriftKind::Orphaned, _) => "Needs an owner",
        (DriftKind::Unaccepted, _) => "Waiting for you to accept",
        (DriftKind::Untriaged, _) => "Waiting for your decision",
        (_, true) => "Escalated",
        (_, false) => "Reminder",
    };
    let ctx = minijinja::context! {
        marker => notify::reply_marker(&name),
        headline => headline,
        kind => kind.as_str(),
        problem => problem,
        what_to_do => what_to_do(kind),
        escalated => escalate,
        lead_id => row.id,
        reference => format!("LG-{}", row.id),
        name => name,
        email => row.email.as_ref().map(|e| e.as_str()),
        owner => row.owner,
        status => row.status.as_str(),
        next_action => lead.facts.next_action.as_ref().map(|n| format!("{} (due {})", n.what, notify::format_time(n.due, &s.team.timezone))),
        created => notify::format_time(lead.facts.created_at, &s.team.timezone),
        age => age(lead.facts.created_at, now),
        tracked => tracked,
        team => s.team.name,
        board => view_link(s, row.owner.as_deref(), now),
    };
    Ok(Draft {
        reply_to: Some(tracked),
        auto_submitted: true,
        ..s.sender().draft(
            if escalate {
                Purpose::Escalation
            } else {
                Purpose::Reminder
            },
            to.to_vec(),
            &format!("{headline}: {name}: {problem} [LG-{}]", row.id),
            templates::body(env, "reminder", &ctx)?,
        )
    })
}

/// A signed read-only board link for a reminder: the owner's own leads, or the team's
/// board when the lead has no owner in the team (a reminder to the manager about orphans).
pub(crate) fn view_link(s: &Settings, owner: Option<&str>, now: Timestamp) -> Option<String> {
    use crate::board::links::{url, ViewScope};
    let desk = s.desk.id.clone();
    let scope = match owner.filter(|o| s.person(o).is_some()) {
        Some(o) => ViewScope::Person {
            desk,
            id: o.to_owned(),
        },
        None => ViewScope::Desk(desk),
    };
    url(s, &scope, now)
}

/// How a lead is called in digests and reminders ([`notify::lead_name`]).
pub fn display_name(row: &Lead) -> String {
    notify::lead_name(
        row.id,
        row.name.as_deref(),
        row.email.as_ref().map(|e| e.as_str()),
        row.phone.as_deref(),
    )
}

/// `3d 4h`, `5h 10m`, `12m`: how long ago, for digests.
pub fn age(from: Timestamp, now: Timestamp) -> String {
    let mins = (now.as_second() - from.as_second()).max(0) / 60;
    let (d, h, m) = (mins / 1440, (mins % 1440) / 60, mins % 60);
    match (d, h) {
        (0, 0) => format!("{m}m"),
        (0, h) => format!("{h}h {m}m"),
        (d, h) => format!("{d}d {h}h"),
    }
}

/// The acceptance timeout ran out after a reminder: the lead goes to the next person of
/// its pool or rotation, else the manager (`domain::route::next_owner`).
async fn move_on(
    tx: &mut Tx<'_>,
    s: &Settings,
    routing: &mut Option<Snapshot>,
    lead: &Scanned,
    reason: &str,
    now: Timestamp,
    dry_run: bool,
) -> anyhow::Result<MoveAction> {
    let id = lead.row.id;
    let current = lead.row.owner.clone().unwrap_or_default();
    let tried = drift_store::moved_from(tx, id).await?;
    // Loaded at the sweep's first hand-on, kept current as leads move.
    let state = match routing {
        Some(snap) => snap,
        none => none.insert(store::routing::snapshot(tx, &s.desk.id, true).await?),
    };
    let past = HashMap::new();
    let ctx = s.routing_context(state.cursors(), state.open_counts(), &past, now);
    let rule = lead.row.route_rule.as_deref().and_then(|r| s.route(r));
    let next =
        crate::domain::route::next_owner(&current, rule, &tried, s.team.manager.as_deref(), &ctx);
    // Since when nobody has accepted it: the first window it missed, kept across moves.
    let since = lead
        .facts
        .unaccepted_since
        .or_else(|| {
            lead.drift
                .iter()
                .find(|d| d.kind == DriftKind::Unaccepted)
                .and_then(|d| d.since)
        })
        .unwrap_or(now);
    let why = format!(
        "{reason}; unaccepted since {}; {}",
        notify::format_time(since, &s.team.timezone),
        next.reason
    );
    let action = MoveAction {
        lead: id,
        from: lead.row.owner.clone(),
        to: next.owner.clone(),
        reason: why.clone(),
    };
    state.moved(
        id,
        lead.row.owner.as_deref(),
        next.owner.as_deref(),
        next.cursor.as_ref(),
    );
    if dry_run {
        return Ok(action);
    }
    crate::ops::reassign(tx, s, id, next.owner.as_deref(), &why, now).await?;
    if let Some((rule, person)) = &next.cursor {
        store::state::save_route_cursor(tx, &s.desk.id, rule, person, store::millis(now)).await?;
    }
    drift_store::keep_unaccepted(tx, id, store::millis(since)).await?;
    if !current.is_empty() {
        drift_store::record_move(tx, id, &current, store::millis(now)).await?;
    }
    Ok(action)
}

/// The daemon's scheduler: a sweep every `sweep_every` (a minute), and the daily digest and weekly review
/// once their time has come in the team's time zone (once per day or week, whatever the
/// restarts: the once-key decides).
#[cfg(test)]
pub(crate) mod tests;
