//! The next action: set it with its deadline (`next`), mark it done (`done`).

use super::{load, OpError, Outcome};
use crate::config::Settings;
use crate::domain::lead::ActivityKind;
use crate::domain::notify;
use crate::store::leads;
use crate::store::{self, Tx};
use jiff::Timestamp;

/// Sets the next action and its deadline (which must be in the future).
pub async fn set_next(
    tx: &mut Tx<'_>,
    s: &Settings,
    lead: i64,
    what: &str,
    due: Timestamp,
    actor: &str,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    let row = load(tx, s, lead).await?;
    row.require_open("set a next action")?;
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
    tx: &mut Tx<'_>,
    s: &Settings,
    lead: i64,
    actor: &str,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    let row = load(tx, s, lead).await?;
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
