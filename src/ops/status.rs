//! Status changes (`status`, `/won`, ...) as the domain's transition table allows;
//! opting out by status opts out the address.

use super::optout::{address_of, opt_out};
use super::{load, OpError, Outcome};
use crate::config::Settings;
use crate::domain::lead::{ActivityKind, LeadStatus};
use crate::store::leads;
use crate::store::{self, Tx};
use jiff::Timestamp;

/// Moves the lead to `to` if [`LeadStatus::transition`] allows it.
pub async fn set_status(
    tx: &mut Tx<'_>,
    s: &Settings,
    lead: i64,
    to: LeadStatus,
    actor: &str,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    let row = load(tx, s, lead).await?;
    let from = row.status;
    let to = row.change_status(to)?;
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
