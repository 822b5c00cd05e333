//! Internal notes: history only, never relayed to the lead.

use super::{load, OpError, Outcome};
use crate::config::Settings;
use crate::domain::lead::ActivityKind;
use crate::store::leads;
use crate::store::{self, Tx};
use jiff::Timestamp;

/// An internal note: history only, never relayed to the lead.
pub async fn note(
    tx: &mut Tx<'_>,
    s: &Settings,
    lead: i64,
    text: &str,
    actor: &str,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    load(tx, s, lead).await?;
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
