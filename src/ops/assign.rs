//! Handing a lead on: a person assigns it (`assign`, `/assign`), or leadgate does
//! (`reassign`: acceptance timeout, orphans). Records from, to and why; mails the new
//! owner the lead's context and tells the previous one.

use super::card::{handed_on_notice, handoff_email};
use super::{actor_name, find_person, load, OpError, Outcome};
use crate::config::Settings;
use crate::domain::lead::SYSTEM_ACTOR;
use crate::domain::lead::{ActivityKind, Handover};
use crate::domain::route::Person;
use crate::store::leads::{self, Lead};
use crate::store::{self, Tx};
use jiff::Timestamp;

/// A person hands the lead to `to` (id, name or email): records from, to and why; the
/// new owner gets the lead's full context by email and must accept (unless they assigned
/// it to themselves); the previous owner is told.
pub async fn assign(
    tx: &mut Tx<'_>,
    s: &Settings,
    lead: i64,
    to: &str,
    why: &str,
    actor: &str,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    let row = load(tx, s, lead).await?;
    let person = find_person(s, to)?;
    hand_over(tx, s, &row, Some(person), why, actor, now).await
}

/// leadgate itself hands the lead on (acceptance timeout, orphans): the same emails as
/// [`assign`], actor `leadgate`. `to = None` leaves the lead orphaned, with the reason.
pub async fn reassign(
    tx: &mut Tx<'_>,
    s: &Settings,
    lead: i64,
    to: Option<&str>,
    reason: &str,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    let row = load(tx, s, lead).await?;
    let person = match to {
        Some(to) => Some(find_person(s, to)?),
        None => None,
    };
    hand_over(tx, s, &row, person, reason, SYSTEM_ACTOR, now).await
}

async fn hand_over(
    tx: &mut Tx<'_>,
    s: &Settings,
    row: &Lead,
    to: Option<&Person>,
    why: &str,
    actor: &str,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    let Handover { self_assigned } = row.hand_over(to.map(|p| p.id.as_str()), actor)?;
    let (lead, now_ms) = (row.id, store::millis(now));
    let why = why.trim();
    let why_text = if why.is_empty() {
        "no reason given"
    } else {
        why
    };
    let from = row.owner.as_deref();
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
    let fresh = load(tx, s, lead).await?;
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
