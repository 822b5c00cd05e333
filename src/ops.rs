//! Lead operations shared by the CLI, the quick actions of the relay and the scheduler:
//! assign, accept, next, done, status, note, snooze, opt-out, orphans, replies.
//!
//! Each runs inside the caller's transaction, checks the domain rules (who may accept,
//! [`LeadStatus::transition`], deadlines in the future), records history (an activity
//! with its actor and detail) and queues the emails it causes through
//! [`crate::outbox::enqueue`], so the change and its mail commit together. Nothing here reads
//! the clock or commits: `now` and the transaction are the caller's.

use crate::config::Settings;
use crate::domain::actions::{ContactField, QuickAction};
use crate::domain::email::EmailAddress;
use crate::domain::extract::{Extraction, LeadFields};
use crate::domain::lead::SYSTEM_ACTOR;
use crate::domain::lead::{ActivityKind, LeadStatus};
use crate::domain::notify::{self, Draft, LeadCard, Purpose};
use crate::domain::route::{account_keys, route, Person};
use crate::store::leads::{self, Lead};
use crate::store::{self, state, Tx};
use jiff::Timestamp;

/// What an operation did, for the CLI's output and the relay's confirmation mail.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Whether outbox rows were written (wake the sender after commit).
    pub queued_mail: bool,
    /// One line for a person: what changed.
    pub summary: String,
}

#[derive(Debug, thiserror::Error)]
pub enum OpError {
    #[error("there is no lead #{0}; `leadgate leads` lists them")]
    NoSuchLead(i64),
    /// The message names the input and lists the team.
    #[error("{0}")]
    NoSuchPerson(String),
    /// A domain rule refused the operation; the message says what is allowed instead.
    #[error("{0}")]
    NotAllowed(String),
    #[error("database error: {0}")]
    Store(#[from] store::Error),
    #[error("{0:#}")]
    Other(#[from] anyhow::Error),
}

impl OpError {
    /// Whether the operation was refused for a reason the person who asked can fix (an
    /// unknown lead or person, a rule that says no), as opposed to a failure of ours (the
    /// database, a template) that a retry may get past.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            OpError::NoSuchLead(_) | OpError::NoSuchPerson(_) | OpError::NotAllowed(_)
        )
    }
}

/// How many history entries a handoff email carries.
const HISTORY_IN_EMAIL: usize = 12;

/// A person hands the lead to `to` (id, name or email): records from, to and why; the
/// new owner gets the lead's full context by email and must accept (unless they assigned
/// it to themselves); the previous owner is told.
pub async fn assign(
    tx: &mut Tx,
    s: &Settings,
    lead: i64,
    to: &str,
    why: &str,
    actor: &str,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    let row = load(tx, lead).await?;
    let person = find_person(s, to)?;
    hand_over(tx, s, &row, Some(person), why, actor, now).await
}

/// leadgate itself hands the lead on (acceptance timeout, orphans): the same emails as
/// [`assign`], actor `leadgate`. `to = None` leaves the lead orphaned, with the reason.
pub async fn reassign(
    tx: &mut Tx,
    s: &Settings,
    lead: i64,
    to: Option<&str>,
    reason: &str,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    let row = load(tx, lead).await?;
    let person = match to {
        Some(to) => Some(find_person(s, to)?),
        None => None,
    };
    hand_over(tx, s, &row, person, reason, SYSTEM_ACTOR, now).await
}

async fn hand_over(
    tx: &mut Tx,
    s: &Settings,
    row: &Lead,
    to: Option<&Person>,
    why: &str,
    actor: &str,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    let status = row.status;
    if status.is_closed() {
        return Err(OpError::NotAllowed(format!(
            "lead #{} is {}: a closed lead has no owner to hand on; reopen it first (status {} contacted)",
            row.id,
            status.as_str(),
            row.id
        )));
    }
    let (lead, now_ms) = (row.id, store::millis(now));
    let why = why.trim();
    let why_text = if why.is_empty() {
        "no reason given"
    } else {
        why
    };
    let from = row.owner.as_deref();
    match to {
        Some(p) if from == Some(p.id.as_str()) => {
            return Err(OpError::NotAllowed(format!(
                "lead #{lead} is already {}'s{}",
                p.id,
                if row.accepted {
                    ""
                } else {
                    " (not accepted yet: `accept` takes it)"
                }
            )))
        }
        None if from.is_none() => {
            return Err(OpError::NotAllowed(format!(
                "lead #{lead} has no owner already"
            )))
        }
        _ => {}
    }
    // Taking a lead yourself is accepting it; handing it to someone else is a proposal.
    let self_assigned = to.is_some_and(|p| p.id == actor);
    leads::set_owner(tx, lead, to.map(|p| p.id.as_str()), self_assigned, now_ms).await?;
    let detail = format!(
        "from {} to {}: {why_text}",
        from.unwrap_or("nobody"),
        to.map(|p| p.id.as_str()).unwrap_or("nobody (orphaned)")
    );
    tx.record(store::NewActivity::new(
        lead,
        now_ms,
        actor,
        ActivityKind::Handoff,
        &detail,
    ));
    if self_assigned {
        tx.record(store::NewActivity::new(
            lead,
            now_ms,
            actor,
            ActivityKind::Accepted,
            "took the lead",
        ));
    }

    let mut queued = false;
    let fresh = load(tx, lead).await?;
    if let Some(p) = to.filter(|_| !self_assigned) {
        let reason = format!(
            "handed to you by {} (from {}): {why_text}. Accept it: reply with /accept, or run `leadgate accept {lead}`.",
            actor_name(s, actor),
            from.map(|f| actor_name(s, f)).unwrap_or_else(|| "nobody".into()),
        );
        let history = leads::history(tx, lead).await?;
        let draft = handoff_email(s, &fresh, p, "Handed to you", &reason, &history);
        let detail = format!("handoff email to {} queued", p.id);
        crate::outbox::enqueue_notice(tx, s, &draft, lead, &detail, now).await?;
        queued = true;
    }
    if let Some(prev) = from
        .and_then(|f| s.person(f))
        .filter(|prev| Some(prev.id.as_str()) != to.map(|p| p.id.as_str()) && prev.id != actor)
    {
        let draft = handed_on_notice(s, &fresh, prev, to, why_text, actor, now);
        let detail = format!("handed-on notice to {} queued", prev.id);
        crate::outbox::enqueue_notice(tx, s, &draft, lead, &detail, now).await?;
        queued = true;
    }
    let summary = match to {
        Some(p) if self_assigned => format!("lead #{lead}: now {}'s (accepted)", p.id),
        Some(p) => format!(
            "lead #{lead}: handed from {} to {}; {} must accept it",
            from.unwrap_or("nobody"),
            p.id,
            p.id
        ),
        None => format!(
            "lead #{lead}: orphaned (was {}): {why_text}",
            from.unwrap_or("nobody")
        ),
    };
    Ok(Outcome {
        queued_mail: queued,
        summary,
    })
}

/// `by` (a person id, name or email) accepts the lead: the owner accepting a handoff or
/// a routed lead, or anyone in the team taking an orphan (no owner, or one who left).
pub async fn accept(
    tx: &mut Tx,
    s: &Settings,
    lead: i64,
    by: &str,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    let row = load(tx, lead).await?;
    let person = find_person(s, by)?;
    let status = row.status;
    if status.is_closed() {
        return Err(OpError::NotAllowed(format!(
            "lead #{lead} is {}: there is nothing to accept",
            status.as_str()
        )));
    }
    let now_ms = store::millis(now);
    let owner = row.owner.as_deref();
    let detail = match owner {
        Some(o) if o == person.id => {
            if row.accepted {
                return Ok(Outcome {
                    queued_mail: false,
                    summary: format!("lead #{lead}: already accepted by {o}"),
                });
            }
            leads::set_accepted(tx, lead, now_ms).await?;
            "accepted".to_owned()
        }
        Some(o) if s.person(o).is_some() => {
            return Err(OpError::NotAllowed(format!(
                "lead #{lead} is {o}'s, not {}'s: only the owner accepts it; to take it over, `assign {lead} {}` with a reason",
                person.id, person.id
            )))
        }
        _ => {
            leads::set_owner(tx, lead, Some(&person.id), true, now_ms).await?;
            match owner {
                Some(o) => format!("took the orphaned lead ({o} left the team)"),
                None => "took the orphaned lead".to_owned(),
            }
        }
    };
    tx.record(store::NewActivity::new(
        lead,
        now_ms,
        &person.id,
        ActivityKind::Accepted,
        &detail,
    ));
    Ok(Outcome {
        queued_mail: false,
        summary: format!("lead #{lead}: {} by {}", detail, person.id),
    })
}

/// Sets the next action and its deadline (which must be in the future).
pub async fn set_next(
    tx: &mut Tx,
    s: &Settings,
    lead: i64,
    what: &str,
    due: Timestamp,
    actor: &str,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    let row = load(tx, lead).await?;
    require_open(&row, "set a next action")?;
    let what = notify::header_safe(what, 300);
    if what.is_empty() {
        return Err(OpError::NotAllowed(
            "say what the next action is, e.g. `next 12 tomorrow call back`".into(),
        ));
    }
    if due <= now {
        return Err(OpError::NotAllowed(format!(
            "the deadline {} is not in the future",
            notify::format_time(due, &s.team.timezone)
        )));
    }
    let now_ms = store::millis(now);
    leads::set_next_action(tx, lead, Some(&what), Some(store::millis(due)), now_ms).await?;
    let when = notify::format_time(due, &s.team.timezone);
    let detail = match &row.next_action {
        Some(old) => format!("{what} by {when} (was: {old})"),
        None => format!("{what} by {when}"),
    };
    tx.record(store::NewActivity::new(
        lead,
        now_ms,
        actor,
        ActivityKind::NextActionSet,
        &detail,
    ));
    Ok(Outcome {
        queued_mail: false,
        summary: format!("lead #{lead}: next action {what} by {when}"),
    })
}

/// The next action is done: it is cleared (the lead then needs a new one, or a status).
pub async fn done(
    tx: &mut Tx,
    _s: &Settings,
    lead: i64,
    actor: &str,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    let row = load(tx, lead).await?;
    let Some(what) = row.next_action.clone() else {
        return Err(OpError::NotAllowed(format!(
            "lead #{lead} has no next action to mark done; set one with `next {lead} WHEN WHAT`"
        )));
    };
    let now_ms = store::millis(now);
    leads::set_next_action(tx, lead, None, None, now_ms).await?;
    tx.record(store::NewActivity::new(
        lead,
        now_ms,
        actor,
        ActivityKind::NextActionDone,
        format!("done: {what}"),
    ));
    let hint = if row.status.is_open() {
        format!("; set the next one with `next {lead} WHEN WHAT` or close it with `status {lead} won|lost`")
    } else {
        String::new()
    };
    Ok(Outcome {
        queued_mail: false,
        summary: format!("lead #{lead}: done: {what}{hint}"),
    })
}

/// Moves the lead to `to` if [`LeadStatus::transition`] allows it.
pub async fn set_status(
    tx: &mut Tx,
    s: &Settings,
    lead: i64,
    to: LeadStatus,
    actor: &str,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    let row = load(tx, lead).await?;
    let from = row.status;
    let to = from
        .transition(to)
        .map_err(|why| OpError::NotAllowed(format!("lead #{lead}: {why}")))?;
    let now_ms = store::millis(now);
    leads::set_status(tx, lead, to, now_ms).await?;
    tx.record(store::NewActivity::new(
        lead,
        now_ms,
        actor,
        ActivityKind::Status,
        format!("{} → {}", from.as_str(), to.as_str()),
    ));
    let mut summary = format!("lead #{lead}: {} → {}", from.as_str(), to.as_str());
    // Opt-out belongs to the address: record it, and close its other open leads too.
    if let (LeadStatus::OptedOut, Some(norm)) = (to, address_of(&row)) {
        let how = format!("status set on lead #{lead} by {actor}");
        let also = opt_out(tx, s, &norm, &how, actor, now).await?;
        summary = format!("{summary}; {}", also.summary);
    }
    Ok(Outcome {
        queued_mail: false,
        summary,
    })
}

/// One quick action from a team member's mail (`actor` is their person id), as the relay
/// runs them: `/assign` hands on without a reason, `/accept` is by the sender, `/optout`
/// opts out the lead's address.
pub async fn apply(
    tx: &mut Tx,
    s: &Settings,
    lead: i64,
    action: &QuickAction,
    actor: &str,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    match action {
        QuickAction::Assign(to) => assign(tx, s, lead, to, "", actor, now).await,
        QuickAction::Accept => accept(tx, s, lead, actor, now).await,
        QuickAction::Next { due, what } => set_next(tx, s, lead, what, *due, actor, now).await,
        QuickAction::Done => done(tx, s, lead, actor, now).await,
        QuickAction::Status(to) => set_status(tx, s, lead, *to, actor, now).await,
        QuickAction::Note(text) => note(tx, s, lead, text, actor, now).await,
        QuickAction::Snooze { until } => snooze(tx, s, lead, *until, actor, now).await,
        QuickAction::Lead => triage_lead(tx, s, lead, actor, now).await,
        QuickAction::NotLead(why) => triage_not_lead(tx, s, lead, why, actor, now).await,
        QuickAction::Contact { field, value } => {
            set_contact(tx, s, lead, *field, value, actor, now).await
        }
        QuickAction::OptOut => {
            let row = load(tx, lead).await?;
            let norm = address_of(&row).ok_or_else(|| {
                OpError::NotAllowed(format!("lead #{lead} has no email address to opt out"))
            })?;
            opt_out(tx, s, &norm, &format!("/optout by {actor}"), actor, now).await
        }
    }
}

/// The lead's normalised address, as opt-outs are keyed.
fn address_of(row: &Lead) -> Option<String> {
    row.email.as_ref().map(EmailAddress::normalized)
}

/// An internal note: history only, never relayed to the lead.
pub async fn note(
    tx: &mut Tx,
    _s: &Settings,
    lead: i64,
    text: &str,
    actor: &str,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    load(tx, lead).await?;
    let text = text.trim();
    if text.is_empty() {
        return Err(OpError::NotAllowed("the note is empty".into()));
    }
    let now_ms = store::millis(now);
    tx.record(store::NewActivity::new(
        lead,
        now_ms,
        actor,
        ActivityKind::Note,
        text,
    ));
    leads::touch(tx, lead, now_ms).await?;
    Ok(Outcome {
        queued_mail: false,
        summary: format!("lead #{lead}: note added"),
    })
}

/// No reminders about the lead until `until` (in the future).
pub async fn snooze(
    tx: &mut Tx,
    s: &Settings,
    lead: i64,
    until: Timestamp,
    actor: &str,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    let row = load(tx, lead).await?;
    require_open(&row, "snooze it")?;
    let when = notify::format_time(until, &s.team.timezone);
    if until <= now {
        return Err(OpError::NotAllowed(format!(
            "{when} is not in the future; snooze until a later time"
        )));
    }
    let now_ms = store::millis(now);
    leads::set_snoozed_until(tx, lead, Some(store::millis(until)), now_ms).await?;
    tx.record(store::NewActivity::new(
        lead,
        now_ms,
        actor,
        ActivityKind::Snoozed,
        format!("no reminders until {when}"),
    ));
    Ok(Outcome {
        queued_mail: false,
        summary: format!("lead #{lead}: snoozed until {when}"),
    })
}

/// The address `email_norm` asked not to be contacted (`how`: the phrase, the
/// List-Unsubscribe mailto, the HTTP endpoint, `/optout`): recorded once for the address,
/// and every open lead of it becomes opted out, with history.
pub async fn opt_out(
    tx: &mut Tx,
    _s: &Settings,
    email_norm: &str,
    how: &str,
    actor: &str,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    let email_norm = email_norm.trim().to_lowercase();
    if email_norm.is_empty() {
        return Err(OpError::NotAllowed("no address to opt out".into()));
    }
    let now_ms = store::millis(now);
    let new = state::add_opt_out(tx, &email_norm, how, now_ms).await?;
    let open = leads::open_leads(tx, Some(&email_norm)).await?;
    for row in &open {
        let from = row.status;
        leads::set_status(tx, row.id, LeadStatus::OptedOut, now_ms).await?;
        tx.record(store::NewActivity::new(
            row.id,
            now_ms,
            actor,
            ActivityKind::OptedOut,
            format!("{} → opted_out: {how}", from.as_str()),
        ));
    }
    let ids: Vec<String> = open.iter().map(|r| format!("#{}", r.id)).collect();
    Ok(Outcome {
        queued_mail: false,
        summary: format!(
            "{email_norm} {}{}",
            if new {
                "opted out"
            } else {
                "was already opted out"
            },
            if ids.is_empty() {
                String::new()
            } else {
                format!("; lead {} now opted_out", ids.join(", "))
            }
        ),
    })
}

/// Open leads whose owner left the team (not in `settings.people`) or that have none.
pub async fn orphans(tx: &mut Tx, s: &Settings) -> Result<Vec<Lead>, OpError> {
    let team: Vec<String> = s.people.iter().map(|p| p.id.clone()).collect();
    Ok(leads::orphaned_open_leads(tx, &team).await?)
}

/// After a team change: each open lead whose owner left gets one history entry saying so
/// (drift kind `orphaned`, recorded once per assignment). Returns the leads marked now.
/// Run at start, after [`state::sync_people`].
pub async fn mark_orphans(tx: &mut Tx, s: &Settings, now: Timestamp) -> Result<Vec<i64>, OpError> {
    let mut marked = Vec::new();
    for row in orphans(tx, s).await? {
        let Some(owner) = row.owner.as_deref() else {
            continue;
        };
        let detail = format!("orphaned: {owner} left the team");
        let since = store::millis(row.assigned_at.unwrap_or(row.created_at));
        if leads::has_activity(tx, row.id, ActivityKind::DriftOpened, &detail, since).await? {
            continue;
        }
        tx.record(store::NewActivity::system(
            row.id,
            store::millis(now),
            ActivityKind::DriftOpened,
            &detail,
        ));
        marked.push(row.id);
    }
    Ok(marked)
}

/// Open leads whose owner left the team, or with none, are routed again by the rules and
/// handed to the new owner (who must accept), unless `[team] orphans = "keep"`. Leads
/// the rules give nobody stay orphaned. Returns the leads that got a new owner.
pub async fn reassign_orphans(
    tx: &mut Tx,
    s: &Settings,
    now: Timestamp,
) -> Result<Vec<i64>, OpError> {
    mark_orphans(tx, s, now).await?;
    if s.team.keep_orphans {
        return Ok(Vec::new());
    }
    let now_ms = store::millis(now);
    let mut moved = Vec::new();
    let orphans = orphans(tx, s).await?;
    if orphans.is_empty() {
        return Ok(moved);
    }
    // Read once and kept up to date below as each reassignment moves the cursors and
    // the workload (the open counts are a GROUP BY over every open lead).
    let mut cursors = state::route_cursors(tx).await?;
    let mut open_counts = leads::open_counts(tx).await?;
    for row in orphans {
        let keys = row
            .email
            .as_ref()
            .map(|e| account_keys(e.as_str(), &s.learn))
            .unwrap_or_default();
        // Earlier leads only: the orphan's own owner is the one who left.
        let past_owners = leads::past_owners(tx, &keys, row.id).await?;
        let ctx = s.routing_context(&cursors, &open_counts, &past_owners, now);
        let assignment = route(&extraction_of(&row), &s.routes, &ctx);
        let Some(owner) = assignment.owner.as_deref() else {
            continue;
        };
        if Some(owner) == row.owner.as_deref() || s.person(owner).is_none() {
            continue;
        }
        let reason = match row.owner.as_deref() {
            Some(o) => format!("{o} left the team; routed again: {}", assignment.reason),
            None => format!("orphaned; routed again: {}", assignment.reason),
        };
        reassign(tx, s, row.id, Some(owner), &reason, now).await?;
        if let Some((rule, person)) = &assignment.cursor {
            state::save_route_cursor(tx, rule, person, now_ms).await?;
            cursors.insert(rule.clone(), person.clone());
        }
        if let Some(n) = row.owner.as_ref().and_then(|o| open_counts.get_mut(o)) {
            *n = n.saturating_sub(1);
        }
        *open_counts.entry(owner.to_owned()).or_default() += 1;
        moved.push(row.id);
    }
    Ok(moved)
}

/// A team member's reply went out to the lead (relayed, or BCC-logged): sets
/// `first_reply_at` (once) and `last_outbound_at`; the owner's reply accepts ownership
/// (a reply to an orphan takes it); a new lead becomes contacted; the "first reply" next
/// action is done.
pub async fn record_first_reply(
    tx: &mut Tx,
    s: &Settings,
    lead: i64,
    by: &str,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    let row = load(tx, lead).await?;
    let now_ms = store::millis(now);
    leads::record_outbound(tx, lead, now_ms).await?;
    let mut done_things = Vec::new();
    let person = s.find_person(by);
    let mut status = row.status;
    let mut row = row;
    if status == LeadStatus::Triage {
        // A reply to a triage item's sender decides it: it is a lead (as `/lead`).
        decide_lead(tx, s, &row, by, &format!("answered by {by}"), now_ms).await?;
        done_things.push("triage → new".to_owned());
        // Read before this reply was recorded: whether it is the first one.
        let first_reply_at = row.first_reply_at;
        row = load(tx, lead).await?;
        row.first_reply_at = first_reply_at;
        status = row.status;
    }
    if let Some(p) = person.filter(|_| status.is_open()) {
        let owner = row.owner.as_deref();
        if owner == Some(p.id.as_str()) && !row.accepted {
            leads::set_accepted(tx, lead, now_ms).await?;
            tx.record(store::NewActivity::new(
                lead,
                now_ms,
                &p.id,
                ActivityKind::Accepted,
                "accepted by replying",
            ));
            done_things.push("accepted".to_owned());
        } else if owner.is_none_or(|o| s.person(o).is_none()) {
            leads::set_owner(tx, lead, Some(&p.id), true, now_ms).await?;
            tx.record(store::NewActivity::new(
                lead,
                now_ms,
                &p.id,
                ActivityKind::Accepted,
                "took the orphaned lead by replying",
            ));
            done_things.push(format!("taken by {}", p.id));
        }
    }
    if status == LeadStatus::New {
        leads::set_status(tx, lead, LeadStatus::Contacted, now_ms).await?;
        tx.record(store::NewActivity::new(
            lead,
            now_ms,
            by,
            ActivityKind::Status,
            "new → contacted (first reply)",
        ));
        done_things.push("new → contacted".to_owned());
    }
    if row.first_reply_at.is_none() && row.next_action.as_deref() == Some(FIRST_REPLY) {
        leads::set_next_action(tx, lead, None, None, now_ms).await?;
        tx.record(store::NewActivity::new(
            lead,
            now_ms,
            by,
            ActivityKind::NextActionDone,
            "done: first reply",
        ));
        done_things.push("first reply done".to_owned());
    }
    let summary = if done_things.is_empty() {
        format!("lead #{lead}: reply recorded")
    } else {
        format!("lead #{lead}: reply recorded; {}", done_things.join(", "))
    };
    Ok(Outcome {
        queued_mail: false,
        summary,
    })
}

/// The next action the pipeline sets at capture.
const FIRST_REPLY: &str = "first reply";
/// The next action of a triage item until it is decided.
pub const TRIAGE_DECISION: &str = "decide: lead or not";

fn require_triage(row: &Lead, to_do: &str) -> Result<(), OpError> {
    if row.status != LeadStatus::Triage {
        return Err(OpError::NotAllowed(format!(
            "lead #{} is not a triage item (it is {}), so there is nothing to {to_do}; use /status to change a lead's status",
            row.id, row.status.as_str()
        )));
    }
    Ok(())
}

/// A triage item becomes a lead (status new) decided by `by`, who takes it if nobody owns
/// it (and accepts it if it is theirs). Its first-reply clock is a lead's: the deadline set
/// when the mail arrived stays.
async fn decide_lead(
    tx: &mut Tx,
    s: &Settings,
    row: &Lead,
    by: &str,
    how: &str,
    now_ms: i64,
) -> Result<(), OpError> {
    let lead = row.id;
    leads::set_status(tx, lead, LeadStatus::New, now_ms).await?;
    if row.next_action.as_deref() == Some(TRIAGE_DECISION) {
        leads::set_next_action(
            tx,
            lead,
            Some(FIRST_REPLY),
            row.next_action_due.map(store::millis),
            now_ms,
        )
        .await?;
    }
    tx.record(store::NewActivity::new(
        lead,
        now_ms,
        by,
        ActivityKind::Status,
        format!("triage → new: a lead ({how})"),
    ));
    if let Some(p) = s.find_person(by) {
        let owner = row.owner.as_deref();
        if owner.is_none_or(|o| s.person(o).is_none()) {
            leads::set_owner(tx, lead, Some(&p.id), true, now_ms).await?;
            tx.record(store::NewActivity::new(
                lead,
                now_ms,
                &p.id,
                ActivityKind::Accepted,
                "took it on deciding it is a lead",
            ));
        } else if owner == Some(p.id.as_str()) && !row.accepted {
            leads::set_accepted(tx, lead, now_ms).await?;
            tx.record(store::NewActivity::new(
                lead,
                now_ms,
                &p.id,
                ActivityKind::Accepted,
                "accepted on deciding it is a lead",
            ));
        }
    }
    Ok(())
}

/// `/lead`: the triage item is a lead.
pub async fn triage_lead(
    tx: &mut Tx,
    s: &Settings,
    lead: i64,
    actor: &str,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    let row = load(tx, lead).await?;
    require_triage(&row, "decide with /lead")?;
    decide_lead(
        tx,
        s,
        &row,
        actor,
        &format!("/lead by {actor}"),
        store::millis(now),
    )
    .await?;
    Ok(Outcome {
        queued_mail: false,
        summary: format!("lead #{lead}: triage → new (a lead)"),
    })
}

/// `/notlead [why]`: the triage item is not a lead; archived with the reason.
pub async fn triage_not_lead(
    tx: &mut Tx,
    _s: &Settings,
    lead: i64,
    why: &str,
    actor: &str,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    let row = load(tx, lead).await?;
    require_triage(&row, "decide with /notlead")?;
    let now_ms = store::millis(now);
    let why = notify::header_safe(why, 300);
    leads::set_status(tx, lead, LeadStatus::Archived, now_ms).await?;
    leads::set_next_action(tx, lead, None, None, now_ms).await?;
    let detail = if why.is_empty() {
        "triage → archived: not a lead (no reason given)".to_owned()
    } else {
        format!("triage → archived: not a lead: {why}")
    };
    tx.record(store::NewActivity::new(
        lead,
        now_ms,
        actor,
        ActivityKind::Status,
        &detail,
    ));
    Ok(Outcome {
        queued_mail: false,
        summary: format!("lead #{lead}: {detail}"),
    })
}

/// `/name`, `/email`, `/phone`, `/company`: corrects the contact, recorded with the old value.
pub async fn set_contact(
    tx: &mut Tx,
    _s: &Settings,
    lead: i64,
    field: ContactField,
    value: &str,
    actor: &str,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    let row = load(tx, lead).await?;
    let now_ms = store::millis(now);
    let (old, norm) = match field {
        ContactField::Name => (row.name.clone(), None),
        ContactField::Phone => (row.phone.clone(), None),
        ContactField::Company => (row.company.clone(), None),
        ContactField::Email => {
            let email =
                EmailAddress::parse(value).map_err(|e| OpError::NotAllowed(e.to_string()))?;
            (
                row.email.as_ref().map(|e| e.to_string()),
                Some(email.normalized()),
            )
        }
    };
    leads::set_contact(tx, lead, field.as_str(), value, norm.as_deref(), now_ms).await?;
    let detail = match old {
        Some(old) => format!("{} corrected: {value} (was: {old})", field.as_str()),
        None => format!("{} set: {value}", field.as_str()),
    };
    tx.record(store::NewActivity::new(
        lead,
        now_ms,
        actor,
        ActivityKind::Note,
        &detail,
    ));
    Ok(Outcome {
        queued_mail: false,
        summary: format!("lead #{lead}: {detail}"),
    })
}

/// The lead wrote to us: `last_inbound_at` (restarts the `unanswered` clock).
pub async fn record_inbound(tx: &mut Tx, lead: i64, now: Timestamp) -> Result<(), OpError> {
    load(tx, lead).await?;
    leads::record_inbound(tx, lead, store::millis(now)).await?;
    Ok(())
}

async fn load(tx: &mut Tx, lead: i64) -> Result<Lead, OpError> {
    leads::get(tx, lead).await?.ok_or(OpError::NoSuchLead(lead))
}

fn require_open(row: &Lead, to_do: &str) -> Result<(), OpError> {
    let status = row.status;
    if status.is_closed() {
        return Err(OpError::NotAllowed(format!(
            "lead #{} is {}: reopen it (status {} contacted) to {to_do}",
            row.id,
            status.as_str(),
            row.id
        )));
    }
    Ok(())
}

/// A team member by id, name or email; the error lists the team.
pub fn find_person<'a>(s: &'a Settings, who: &str) -> Result<&'a Person, OpError> {
    s.find_person(who).ok_or_else(|| {
        let team: Vec<String> = s
            .people
            .iter()
            .map(|p| format!("{} ({}, {})", p.id, p.name, p.email))
            .collect();
        OpError::NoSuchPerson(format!(
            "no one called {:?} in the team; the team is: {}",
            who.trim(),
            if team.is_empty() {
                "nobody (add [[people]] to the config)".to_owned()
            } else {
                team.join("; ")
            }
        ))
    })
}

fn actor_name(s: &Settings, actor: &str) -> String {
    s.person(actor)
        .map(|p| p.name.clone())
        .unwrap_or_else(|| actor.to_owned())
}

/// The owner's view of a stored lead.
pub fn card(s: &Settings, row: &Lead) -> LeadCard {
    LeadCard::new(row.id, &extraction_of(row), s.relay.tracked_address(row.id))
}

fn extraction_of(row: &Lead) -> Extraction {
    Extraction {
        source: row.source.clone(),
        form: row.form.clone(),
        fields: LeadFields {
            name: row.name.clone(),
            email: row.email.as_ref().map(|e| e.to_string()),
            phone: row.phone.clone(),
            company: row.company.clone(),
            message: row.message.clone(),
        },
        consent: row.consent,
        extra: row.extra.clone(),
        ..Default::default()
    }
}

/// The lead's full context for a new owner: the assignment email (marker line, every
/// field, `Reply-To` the tracked address) plus status, next action and history.
pub fn handoff_email(
    s: &Settings,
    row: &Lead,
    to: &Person,
    headline: &str,
    reason: &str,
    history: &[leads::Activity],
) -> Draft {
    let card = card(s, row);
    notify::owner_email(
        &crate::templates::environment_or_bundled(s),
        &card,
        &to.email,
        notify::OwnerMail {
            purpose: Purpose::Handoff,
            headline,
            reason,
            due: None,
            context: Some(context_text(s, row, history)),
        },
        &s.sender(),
    )
}

/// Status, next action and the latest history entries, as plain text.
pub fn context_text(s: &Settings, row: &Lead, history: &[leads::Activity]) -> String {
    let tz = &s.team.timezone;
    let mut out = format!("Status:   {}\n", row.status.as_str());
    match (&row.next_action, row.next_action_due) {
        (Some(what), Some(due)) => out.push_str(&format!(
            "Next:     {what}, due {}\n",
            notify::format_time(due, tz)
        )),
        (Some(what), None) => out.push_str(&format!("Next:     {what}\n")),
        _ => out.push_str("Next:     none set (set one: /next tomorrow call back)\n"),
    }
    let skip = history.len().saturating_sub(HISTORY_IN_EMAIL);
    if skip > 0 {
        out.push_str(&format!(
            "History (latest {HISTORY_IN_EMAIL} of {}; `leadgate show {}` has all):\n",
            history.len(),
            row.id
        ));
    } else {
        out.push_str("History:\n");
    }
    for a in &history[skip..] {
        let at =
            a.at.parse::<Timestamp>()
                .map(|t| {
                    t.to_zoned(tz.clone())
                        .strftime("%a %d %b %H:%M")
                        .to_string()
                })
                .unwrap_or_else(|_| a.at.clone());
        let detail = if a.kind == ActivityKind::Note.as_str() {
            format!("(note) {}", a.detail)
        } else {
            a.detail.clone()
        };
        out.push_str(&format!(
            "  {at}  {:<10} {:<16} {}\n",
            a.actor,
            a.kind,
            notify::header_safe(&detail, 160)
        ));
    }
    out
}

fn handed_on_notice(
    s: &Settings,
    row: &Lead,
    prev: &Person,
    to: Option<&Person>,
    why: &str,
    actor: &str,
    now: Timestamp,
) -> Draft {
    let card = card(s, row);
    let lead = card.display_name();
    let subject = match to {
        Some(p) => format!("Handed on to {}: {lead} [{}]", p.name, card.reference()),
        None => format!("Orphaned: {lead} [{}]", card.reference()),
    };
    let ctx = minijinja::context! {
        lead_id => row.id,
        lead => lead,
        new_owner => to.map(|p| minijinja::context! { id => p.id, name => p.name }),
        why => why,
        by => actor_name(s, actor),
        at => notify::format_time(now, &s.team.timezone),
        reference => card.reference(),
        team => s.team.name,
    };
    let sender = s.sender();
    let body = notify::body(
        &crate::templates::environment_or_bundled(s),
        "handoff_notice",
        &ctx,
        false,
    );
    Draft {
        auto_submitted: true,
        ..sender.draft(
            Purpose::HandoffNotice,
            vec![prev.email.clone()],
            &subject,
            body,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    const CONFIG: &str = r#"
[database]
url = "sqlite://unused.db"
[smtp]
host = "127.0.0.1"
port = 2525
tls = "none"
from = "leadgate@leads.test"
[relay]
domain = "leads.test"
secret = "0123456789abcdef0123456789abcdef"
[team]
name = "Acme"
timezone = "Europe/Berlin"
hours = "always"
[[people]]
id = "alice"
name = "Alice Smith"
email = "alice@team.test"
[[people]]
id = "bob"
name = "Bob Jones"
email = "bob@team.test"
[[people]]
id = "carol"
name = "Carol White"
email = "carol@team.test"
[[routes]]
name = "all"
owner = "alice"
"#;

    struct World {
        _dir: tempfile::TempDir,
        store: Store,
        s: Settings,
    }

    async fn world(extra: &str) -> World {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("leadgate.toml");
        // `extra` goes into [team].
        let config = CONFIG.replace(
            "hours = \"always\"\n",
            &format!("hours = \"always\"\n{extra}\n"),
        );
        std::fs::write(&path, config).unwrap();
        let s = crate::config::load(&path).unwrap();
        let store = Store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
            .await
            .unwrap();
        World {
            _dir: dir,
            store,
            s,
        }
    }

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    async fn lead(tx: &mut Tx, owner: Option<&str>, email: &str) -> i64 {
        let id = leads::insert(
            tx,
            &leads::NewLead {
                status: LeadStatus::New,
                owner,
                source: "contact-form-7",
                form: Some("Contact"),
                name: Some("Jane Doe"),
                email: Some(email),
                email_norm: Some(email),
                phone: Some("+1 555 0100"),
                company: None,
                message: Some("Please call me"),
                consent: Some(true),
                extra: r#"{"Service":"Roof"}"#,
                needs_template: false,
                route_rule: Some("all"),
                route_reason: "rule all: owner alice",
                next_action: Some("first reply"),
                next_action_due: Some(store::millis(t("2026-11-23T11:00:00Z"))),
                now: store::millis(t("2026-11-23T10:00:00Z")),
                previous_lead: None,
            },
        )
        .await
        .unwrap();
        tx.record(store::NewActivity::new(
            id,
            store::millis(t("2026-11-23T10:00:00Z")),
            "leadgate",
            ActivityKind::Captured,
            "captured from contact-form-7",
        ));
        id
    }

    async fn outbox(tx: &mut Tx) -> Vec<(String, String, String)> {
        store::outbox::raw_rows(tx)
            .await
            .unwrap()
            .into_iter()
            .map(|(recipients, purpose, raw)| {
                (
                    recipients,
                    purpose,
                    String::from_utf8_lossy(&raw).into_owned(),
                )
            })
            .collect()
    }

    async fn kinds(tx: &mut Tx, id: i64) -> Vec<(String, String, String)> {
        leads::history(tx, id)
            .await
            .unwrap()
            .into_iter()
            .map(|a| (a.actor, a.kind, a.detail))
            .collect()
    }

    #[tokio::test]
    async fn assign_hands_over_with_context_and_the_new_owner_must_accept() {
        let w = world("").await;
        let mut tx = w.store.begin().await.unwrap();
        let id = lead(&mut tx, Some("bob"), "jane@example.net").await;
        let now = t("2026-11-23T12:00:00Z");
        let o = assign(
            &mut tx,
            &w.s,
            id,
            "Carol White",
            "she knows roofs",
            "alice",
            now,
        )
        .await
        .unwrap();
        assert!(o.queued_mail);
        assert!(o.summary.contains("from bob to carol"), "{}", o.summary);
        let row = leads::get(&mut tx, id).await.unwrap().unwrap();
        assert_eq!(row.owner.as_deref(), Some("carol"));
        assert!(!row.accepted);
        assert_eq!(row.assigned_at, Some(now));
        let h = kinds(&mut tx, id).await;
        assert!(h.contains(&(
            "alice".into(),
            "handoff".into(),
            "from bob to carol: she knows roofs".into()
        )));
        let mail = outbox(&mut tx).await;
        assert_eq!(mail.len(), 2, "{mail:?}");
        let (to, purpose, raw) = &mail[0];
        assert!(to.contains("carol@team.test") && purpose == "handoff");
        assert!(raw.contains("Reply-To: reply+"), "{raw}");
        assert!(raw.contains("Reply above this line"));
        assert!(raw.contains("she knows roofs"));
        assert!(raw.contains("History:") && raw.contains("captured from contact-form-7"));
        assert!(raw.contains("Please call me") && raw.contains("Roof"));
        let (to, purpose, raw) = &mail[1];
        assert!(
            to.contains("bob@team.test") && purpose == "handoff_notice",
            "{raw}"
        );

        let err = accept(&mut tx, &w.s, id, "bob", now).await.unwrap_err();
        assert!(matches!(err, OpError::NotAllowed(_)), "{err}");
        let o = accept(&mut tx, &w.s, id, "carol", now).await.unwrap();
        assert!(o.summary.contains("accepted"), "{}", o.summary);
        assert!(leads::get(&mut tx, id).await.unwrap().unwrap().accepted);
        let again = accept(&mut tx, &w.s, id, "carol", now).await.unwrap();
        assert!(again.summary.contains("already"), "{}", again.summary);
    }

    #[tokio::test]
    async fn unknown_people_and_leads_are_named_with_what_exists() {
        let w = world("").await;
        let mut tx = w.store.begin().await.unwrap();
        let id = lead(&mut tx, Some("bob"), "jane@example.net").await;
        let now = t("2026-11-23T12:00:00Z");
        let err = assign(&mut tx, &w.s, id, "zed", "", "alice", now)
            .await
            .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("\"zed\"") && msg.contains("alice (Alice Smith"),
            "{msg}"
        );
        assert!(matches!(
            note(&mut tx, &w.s, 999, "x", "alice", now).await,
            Err(OpError::NoSuchLead(999))
        ));
        let err = assign(&mut tx, &w.s, id, "bob", "", "alice", now)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("already bob's"), "{err}");
        // Taking it yourself is accepting it.
        let o = assign(&mut tx, &w.s, id, "alice", "", "alice", now)
            .await
            .unwrap();
        assert!(o.summary.contains("accepted"), "{}", o.summary);
        assert!(leads::get(&mut tx, id).await.unwrap().unwrap().accepted);
    }

    #[tokio::test]
    async fn next_done_status_note_snooze_record_history_and_refuse_what_the_domain_refuses() {
        let w = world("").await;
        let mut tx = w.store.begin().await.unwrap();
        let id = lead(&mut tx, Some("alice"), "jane@example.net").await;
        let now = t("2026-11-23T12:00:00Z");
        let due = t("2026-11-24T09:00:00Z");
        set_next(&mut tx, &w.s, id, "send the quote", due, "alice", now)
            .await
            .unwrap();
        let row = leads::get(&mut tx, id).await.unwrap().unwrap();
        assert_eq!(row.next_action.as_deref(), Some("send the quote"));
        assert_eq!(row.next_action_due, Some(due));
        let past = set_next(
            &mut tx,
            &w.s,
            id,
            "x",
            t("2026-11-23T11:00:00Z"),
            "alice",
            now,
        )
        .await;
        assert!(matches!(past, Err(OpError::NotAllowed(_))));
        done(&mut tx, &w.s, id, "alice", now).await.unwrap();
        assert_eq!(
            leads::get(&mut tx, id).await.unwrap().unwrap().next_action,
            None
        );
        assert!(done(&mut tx, &w.s, id, "alice", now).await.is_err());
        note(&mut tx, &w.s, id, "called, no answer", "alice", now)
            .await
            .unwrap();
        snooze(&mut tx, &w.s, id, due, "alice", now).await.unwrap();
        assert_eq!(
            leads::get(&mut tx, id)
                .await
                .unwrap()
                .unwrap()
                .snoozed_until,
            Some(due)
        );
        set_status(&mut tx, &w.s, id, LeadStatus::Won, "alice", now)
            .await
            .unwrap();
        let err = set_status(&mut tx, &w.s, id, LeadStatus::New, "alice", now)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("lead #{id}: a won lead cannot become new; it can become contacted, archived, opted_out")
        );
        let h: Vec<String> = kinds(&mut tx, id)
            .await
            .into_iter()
            .map(|(_, k, _)| k)
            .collect();
        assert_eq!(
            h,
            [
                "captured",
                "next_action_set",
                "next_action_done",
                "note",
                "snoozed",
                "status"
            ]
        );
        assert!(
            outbox(&mut tx).await.is_empty(),
            "none of these mail anyone"
        );
    }

    #[tokio::test]
    async fn opt_out_closes_every_open_lead_of_the_address_once() {
        let w = world("").await;
        let mut tx = w.store.begin().await.unwrap();
        let a = lead(&mut tx, Some("alice"), "jane@example.net").await;
        let b = lead(&mut tx, Some("bob"), "jane@example.net").await;
        let other = lead(&mut tx, Some("bob"), "joe@example.net").await;
        let now = t("2026-11-23T12:00:00Z");
        set_status(&mut tx, &w.s, b, LeadStatus::Won, "bob", now)
            .await
            .unwrap();
        let o = opt_out(
            &mut tx,
            &w.s,
            "jane@example.net",
            "replied: stop",
            "leadgate",
            now,
        )
        .await
        .unwrap();
        assert!(
            o.summary.contains("opted out") && o.summary.contains(&format!("#{a}")),
            "{}",
            o.summary
        );
        for (id, status) in [(a, "opted_out"), (b, "won"), (other, "new")] {
            assert_eq!(
                leads::get(&mut tx, id)
                    .await
                    .unwrap()
                    .unwrap()
                    .status
                    .as_str(),
                status
            );
        }
        assert!(state::is_opted_out(&mut tx, "jane@example.net")
            .await
            .unwrap());
        // /status opted_out on one lead is an opt-out of the address.
        let joe2 = lead(&mut tx, Some("alice"), "joe@example.net").await;
        let o = apply(
            &mut tx,
            &w.s,
            other,
            &QuickAction::Status(LeadStatus::OptedOut),
            "bob",
            now,
        )
        .await
        .unwrap();
        assert!(o.summary.contains(&format!("#{joe2}")), "{}", o.summary);
        assert!(state::is_opted_out(&mut tx, "joe@example.net")
            .await
            .unwrap());
        assert_eq!(
            leads::get(&mut tx, joe2)
                .await
                .unwrap()
                .unwrap()
                .status
                .as_str(),
            "opted_out"
        );
        let again = opt_out(&mut tx, &w.s, "jane@example.net", "x", "leadgate", now)
            .await
            .unwrap();
        assert!(again.summary.contains("already"), "{}", again.summary);
    }

    #[tokio::test]
    async fn orphans_are_marked_once_and_routed_again_unless_kept() {
        for expect_moved in [true, false] {
            let w = world("").await;
            assert!(!w.s.team.keep_orphans, "reassign is the default");
            let mut s = w.s.clone();
            s.team.keep_orphans = !expect_moved;
            let mut tx = w.store.begin().await.unwrap();
            let id = lead(&mut tx, Some("zed"), "jane@example.net").await;
            let kept = lead(&mut tx, Some("bob"), "joe@example.net").await;
            let now = t("2026-11-23T12:00:00Z");
            assert_eq!(mark_orphans(&mut tx, &s, now).await.unwrap(), vec![id]);
            assert!(
                mark_orphans(&mut tx, &s, now).await.unwrap().is_empty(),
                "once"
            );
            let moved = reassign_orphans(&mut tx, &s, now).await.unwrap();
            let row = leads::get(&mut tx, id).await.unwrap().unwrap();
            if expect_moved {
                assert_eq!(moved, vec![id]);
                assert_eq!(row.owner.as_deref(), Some("alice"));
                assert!(!row.accepted);
                let h = kinds(&mut tx, id).await;
                assert!(
                    h.iter().any(|(a, k, d)| a == "leadgate"
                        && k == "handoff"
                        && d.starts_with("from zed to alice: zed left the team")
                        && !d.contains("passed over")),
                    "its own lead is no account to pass over: {h:?}"
                );
            } else {
                assert!(moved.is_empty());
                assert_eq!(row.owner.as_deref(), Some("zed"));
            }
            let marks = kinds(&mut tx, id)
                .await
                .into_iter()
                .filter(|(_, _, d)| d == "orphaned: zed left the team")
                .count();
            assert_eq!(marks, 1);
            assert_eq!(
                leads::get(&mut tx, kept)
                    .await
                    .unwrap()
                    .unwrap()
                    .owner
                    .as_deref(),
                Some("bob")
            );
        }
    }

    #[tokio::test]
    async fn leadgate_reassigns_or_orphans_and_quick_actions_run_as_their_sender() {
        let w = world("").await;
        let mut tx = w.store.begin().await.unwrap();
        let id = lead(&mut tx, Some("bob"), "jane@example.net").await;
        let now = t("2026-11-23T12:00:00Z");
        let o = reassign(
            &mut tx,
            &w.s,
            id,
            None,
            "bob did not accept in time; no manager: orphaned",
            now,
        )
        .await
        .unwrap();
        assert!(
            o.queued_mail && o.summary.contains("orphaned"),
            "{}",
            o.summary
        );
        let row = leads::get(&mut tx, id).await.unwrap().unwrap();
        assert_eq!(row.owner, None);
        let h = kinds(&mut tx, id).await;
        assert!(
            h.contains(&(
                "leadgate".into(),
                "handoff".into(),
                "from bob to nobody (orphaned): bob did not accept in time; no manager: orphaned"
                    .into()
            )),
            "{h:?}"
        );
        let mail = outbox(&mut tx).await;
        assert_eq!(mail.len(), 1);
        assert!(mail[0].0.contains("bob@team.test") && mail[0].2.contains("Orphaned: Jane Doe"));
        assert!(reassign(&mut tx, &w.s, id, None, "again", now)
            .await
            .is_err());

        // /accept from carol takes the orphan; /assign alice hands it on.
        apply(&mut tx, &w.s, id, &QuickAction::Accept, "carol", now)
            .await
            .unwrap();
        let row = leads::get(&mut tx, id).await.unwrap().unwrap();
        assert_eq!((row.owner.as_deref(), row.accepted), (Some("carol"), true));
        apply(
            &mut tx,
            &w.s,
            id,
            &QuickAction::Assign("alice@team.test".into()),
            "carol",
            now,
        )
        .await
        .unwrap();
        let row = leads::get(&mut tx, id).await.unwrap().unwrap();
        assert_eq!((row.owner.as_deref(), row.accepted), (Some("alice"), false));
        let o = apply(&mut tx, &w.s, id, &QuickAction::OptOut, "alice", now)
            .await
            .unwrap();
        assert!(
            o.summary.contains("jane@example.net opted out"),
            "{}",
            o.summary
        );
    }

    #[tokio::test]
    async fn the_orphan_policy_is_read_from_team_orphans() {
        assert!(world("orphans = \"keep\"").await.s.team.keep_orphans);
        assert!(!world("orphans = \"reassign\"").await.s.team.keep_orphans);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        let bad = CONFIG.replace(
            "hours = \"always\"\n",
            "hours = \"always\"\norphans = \"sometimes\"\n",
        );
        std::fs::write(&path, bad).unwrap();
        let err = crate::config::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("team.orphans") && err.contains("\"keep\""),
            "{err}"
        );
    }

    #[tokio::test]
    async fn the_first_reply_accepts_contacts_and_completes_the_first_reply_action() {
        let w = world("").await;
        let mut tx = w.store.begin().await.unwrap();
        let id = lead(&mut tx, Some("alice"), "jane@example.net").await;
        let now = t("2026-11-23T10:30:00Z");
        record_inbound(&mut tx, id, t("2026-11-23T10:10:00Z"))
            .await
            .unwrap();
        record_first_reply(&mut tx, &w.s, id, "alice", now)
            .await
            .unwrap();
        let row = leads::get(&mut tx, id).await.unwrap().unwrap();
        assert!(row.accepted);
        assert_eq!(row.status.as_str(), "contacted");
        assert_eq!(row.first_reply_at, Some(now));
        assert_eq!(row.last_outbound_at, Some(now));
        assert_eq!(row.last_inbound_at, Some(t("2026-11-23T10:10:00Z")));
        assert_eq!(row.next_action, None);
        let later = t("2026-11-23T11:00:00Z");
        let o = record_first_reply(&mut tx, &w.s, id, "alice", later)
            .await
            .unwrap();
        assert_eq!(o.summary, format!("lead #{id}: reply recorded"));
        let row = leads::get(&mut tx, id).await.unwrap().unwrap();
        assert_eq!(row.first_reply_at, Some(now), "first stays first");
        assert_eq!(row.last_outbound_at, Some(later));
        assert!(matches!(
            record_inbound(&mut tx, 999, now).await,
            Err(OpError::NoSuchLead(999))
        ));
    }

    /// A triage item as capture stores it: status triage, the decision as next action.
    async fn triage_item(tx: &mut Tx, owner: Option<&str>, email: &str) -> i64 {
        let id = lead(tx, owner, email).await;
        leads::set_status(
            tx,
            id,
            LeadStatus::Triage,
            store::millis(t("2026-11-23T10:00:00Z")),
        )
        .await
        .unwrap();
        leads::set_next_action(
            tx,
            id,
            Some(TRIAGE_DECISION),
            Some(store::millis(t("2026-11-23T11:00:00Z"))),
            store::millis(t("2026-11-23T10:00:00Z")),
        )
        .await
        .unwrap();
        id
    }

    #[tokio::test]
    async fn lead_makes_a_triage_item_a_new_lead_with_its_first_reply_clock_and_corrected_contact()
    {
        let w = world("").await;
        let mut tx = w.store.begin().await.unwrap();
        let id = triage_item(&mut tx, None, "tom@example.net").await;
        let now = t("2026-11-23T10:20:00Z");
        for action in [
            QuickAction::Lead,
            QuickAction::Contact {
                field: ContactField::Email,
                value: "tom.baker@example.org".into(),
            },
            QuickAction::Contact {
                field: ContactField::Company,
                value: "Baker Heating".into(),
            },
        ] {
            apply(&mut tx, &w.s, id, &action, "carol", now)
                .await
                .unwrap();
        }
        let row = leads::get(&mut tx, id).await.unwrap().unwrap();
        assert_eq!(row.status.as_str(), "new");
        assert_eq!((row.owner.as_deref(), row.accepted), (Some("carol"), true));
        assert_eq!(row.next_action.as_deref(), Some(FIRST_REPLY));
        assert_eq!(
            row.next_action_due,
            Some(t("2026-11-23T11:00:00Z")),
            "the clock started when the mail arrived"
        );
        assert_eq!(
            row.email.as_ref().map(|e| e.as_str()),
            Some("tom.baker@example.org")
        );
        assert_eq!(row.company.as_deref(), Some("Baker Heating"));
        let h = kinds(&mut tx, id).await;
        assert!(h
            .iter()
            .any(|(a, k, d)| a == "carol" && k == "status" && d.contains("triage → new")));
        assert!(h
            .iter()
            .any(|(_, k, d)| k == "note" && d.contains("was: tom@example.net")));
        // Decided once: a second /lead, or /notlead, is refused with what to do instead.
        let again = apply(&mut tx, &w.s, id, &QuickAction::Lead, "carol", now).await;
        assert!(
            matches!(&again, Err(OpError::NotAllowed(m)) if m.contains("not a triage item")),
            "{again:?}"
        );
        let not = apply(
            &mut tx,
            &w.s,
            id,
            &QuickAction::NotLead("x".into()),
            "carol",
            now,
        )
        .await;
        assert!(
            matches!(&not, Err(OpError::NotAllowed(m)) if m.contains("/status")),
            "{not:?}"
        );
    }

    #[tokio::test]
    async fn notlead_archives_a_triage_item_with_the_reason_and_a_reply_decides_it_as_a_lead() {
        let w = world("").await;
        let mut tx = w.store.begin().await.unwrap();
        let now = t("2026-11-23T10:20:00Z");
        let una = triage_item(&mut tx, Some("alice"), "una@example.net").await;
        let why = QuickAction::NotLead("a supplier's sales call".into());
        apply(&mut tx, &w.s, una, &why, "alice", now).await.unwrap();
        let row = leads::get(&mut tx, una).await.unwrap().unwrap();
        assert_eq!((row.status.as_str(), row.next_action), ("archived", None));
        assert!(kinds(&mut tx, una)
            .await
            .iter()
            .any(|(_, k, d)| k == "status" && d.contains("not a lead: a supplier's sales call")));

        let vic = triage_item(&mut tx, Some("alice"), "vic@example.net").await;
        record_first_reply(&mut tx, &w.s, vic, "alice", now)
            .await
            .unwrap();
        let row = leads::get(&mut tx, vic).await.unwrap().unwrap();
        assert_eq!(
            row.status.as_str(),
            "contacted",
            "decided as a lead, then answered"
        );
        assert!(row.accepted);
        assert_eq!(row.next_action, None, "the first reply is done");
        assert!(kinds(&mut tx, vic).await.iter().any(
            |(_, k, d)| k == "status" && d.contains("triage → new: a lead (answered by alice)")
        ));
    }
}
