//! Snoozing a lead: no reminders until a later time.

use super::{load, OpError, Outcome};
use crate::config::Settings;
use crate::domain::lead::ActivityKind;
use crate::domain::notify;
use crate::store::leads;
use crate::store::{self, Tx};
use jiff::Timestamp;

/// No reminders about the lead until `until` (in the future).
pub async fn snooze(
    tx: &mut Tx<'_>,
    s: &Settings,
    lead: i64,
    until: Timestamp,
    actor: &str,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    let row = load(tx, s, lead).await?;
    row.require_open("snooze it")?;
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
