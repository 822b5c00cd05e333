//! Writing to the outbox: every email leadgate sends is first a row written here, in the
//! transaction of the decision to send it (invariant 2). The worker in [`super`] delivers it.

use crate::config::Settings;
use crate::domain::lead::ActivityKind;
use crate::domain::notify::Draft;
use crate::store::{self, outbox, Tx};

use super::render;

/// Renders `draft` and writes it to the outbox in the caller's transaction.
pub async fn enqueue(
    tx: &mut Tx,
    settings: &Settings,
    draft: &Draft,
    lead: Option<i64>,
    now: jiff::Timestamp,
    once_key: Option<&str>,
) -> anyhow::Result<Option<i64>> {
    let message_id = render::new_message_id(&settings.relay.domain);
    let raw = render::render(&settings.identity().dressed(draft), &message_id, now)?;
    let id = outbox::enqueue(
        tx,
        &outbox::NewOutboxRow {
            purpose: draft.purpose.as_str(),
            lead_id: lead,
            message_id: &message_id,
            envelope_from: settings.from.as_str(),
            recipients: &draft.to,
            subject: &draft.subject,
            raw: &raw,
            now: store::millis(now),
            once_key,
        },
    )
    .await?;
    Ok(id)
}

/// Queues `draft` about `lead` and records it in the lead's history as `Notified` with
/// `detail` (e.g. "assignment email to bob queued"), in the caller's transaction.
pub async fn enqueue_notice(
    tx: &mut Tx,
    settings: &Settings,
    draft: &Draft,
    lead: i64,
    detail: &str,
    now: jiff::Timestamp,
) -> anyhow::Result<()> {
    let outbox_id = enqueue(tx, settings, draft, Some(lead), now, None).await?;
    tx.record(
        store::NewActivity::system(lead, store::millis(now), ActivityKind::Notified, detail)
            .outbox(outbox_id),
    );
    Ok(())
}
