//! Accepting a lead: the owner accepts a handoff or a routed lead, or a team member
//! takes an orphan.

use super::{find_person, load, OpError, Outcome};
use crate::config::Settings;
use crate::domain::lead::{Acceptance, ActivityKind};
use crate::store::leads;
use crate::store::{self, Tx};
use jiff::Timestamp;

/// `by` (a person id, name or email) accepts the lead: the owner accepting a handoff or
/// a routed lead, or anyone in the team taking an orphan (no owner, or one who left).
pub async fn accept(
    tx: &mut Tx<'_>,
    s: &Settings,
    lead: i64,
    by: &str,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    let row = load(tx, s, lead).await?;
    let person = find_person(s, by)?;
    let now_ms = store::millis(now);
    let detail = match row.accept(&person.id, |o| s.person(o).is_some())? {
        Acceptance::AlreadyAccepted => {
            return Ok(Outcome {
                queued_mail: false,
                summary: format!("lead #{lead}: already accepted by {}", person.id),
            });
        }
        Acceptance::Accepts => {
            leads::set_accepted(tx, lead, now_ms).await?;
            "accepted".to_owned()
        }
        Acceptance::TakesOrphan { previous } => {
            leads::set_owner(tx, lead, Some(&person.id), true, now_ms).await?;
            match previous {
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
