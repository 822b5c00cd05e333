//! Mail on a lead's thread: a team member's reply (the first one accepts, contacts and
//! completes the first-reply action) and the lead's own mail.

use super::triage::{decide_lead, FIRST_REPLY};
use super::{load, OpError, Outcome};
use crate::config::Settings;
use crate::domain::lead::{Acceptance, ActivityKind, LeadStatus};
use crate::store::leads;
use crate::store::{self, Tx};
use jiff::Timestamp;

/// A team member's reply went out to the lead (relayed, or BCC-logged): sets
/// `first_reply_at` (once) and `last_outbound_at`; the owner's reply accepts ownership
/// (a reply to an orphan takes it); a new lead becomes contacted; the "first reply" next
/// action is done.
pub async fn record_first_reply(
    tx: &mut Tx<'_>,
    s: &Settings,
    lead: i64,
    by: &str,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    let row = load(tx, s, lead).await?;
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
        row = load(tx, s, lead).await?;
        row.first_reply_at = first_reply_at;
        status = row.status;
    }
    if let Some(p) = person.filter(|_| status.is_open()) {
        let acceptance = row.accept(&p.id, |o| s.person(o).is_some());
        if acceptance == Ok(Acceptance::Accepts) {
            leads::set_accepted(tx, lead, now_ms).await?;
            tx.record(store::NewActivity::new(
                lead,
                now_ms,
                &p.id,
                ActivityKind::Accepted,
                "accepted by replying",
            ));
            done_things.push("accepted".to_owned());
        } else if let Ok(Acceptance::TakesOrphan { .. }) = acceptance {
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

/// The lead wrote to us: `last_inbound_at` (restarts the `unanswered` clock).
pub async fn record_inbound(tx: &mut Tx<'_>, lead: i64, now: Timestamp) -> Result<(), OpError> {
    leads::get(tx, lead)
        .await?
        .ok_or(OpError::NoSuchLead(lead))?;
    leads::record_inbound(tx, lead, store::millis(now)).await?;
    Ok(())
}
