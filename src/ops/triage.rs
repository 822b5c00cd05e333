//! Deciding a triage item: `/lead` makes it a lead, `/notlead` archives it.

use super::{load, OpError, Outcome};
use crate::config::Settings;
use crate::domain::lead::{Acceptance, ActivityKind, LeadStatus};
use crate::domain::notify;
use crate::store::leads::{self, Lead};
use crate::store::{self, Tx};
use jiff::Timestamp;

/// The next action the pipeline sets at capture.
pub(super) const FIRST_REPLY: &str = "first reply";
/// The next action of a triage item until it is decided.
pub const TRIAGE_DECISION: &str = "decide: lead or not";

/// A triage item becomes a lead (status new) decided by `by`, who takes it if nobody owns
/// it (and accepts it if it is theirs). Its first-reply clock is a lead's: the deadline set
/// when the mail arrived stays.
pub(super) async fn decide_lead(
    tx: &mut Tx<'_>,
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
        let acceptance = row.accept(&p.id, |o| s.person(o).is_some());
        if let Ok(Acceptance::TakesOrphan { .. }) = acceptance {
            leads::set_owner(tx, lead, Some(&p.id), true, now_ms).await?;
            tx.record(store::NewActivity::new(
                lead,
                now_ms,
                &p.id,
                ActivityKind::Accepted,
                "took it on deciding it is a lead",
            ));
        } else if acceptance == Ok(Acceptance::Accepts) {
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
    tx: &mut Tx<'_>,
    s: &Settings,
    lead: i64,
    actor: &str,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    let row = load(tx, s, lead).await?;
    row.require_triage("decide with /lead")?;
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
    tx: &mut Tx<'_>,
    s: &Settings,
    lead: i64,
    why: &str,
    actor: &str,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    let row = load(tx, s, lead).await?;
    row.require_triage("decide with /notlead")?;
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
