//! Writing to the outbox: every email leadgate sends is first a row written here, in the
//! transaction of the decision to send it (invariant 2). The worker in [`super`] delivers it.

use crate::config::Settings;
use crate::domain::lead::ActivityKind;
use crate::domain::notify::Draft;
use crate::store::{self, outbox, EmailRef, Tx};

use super::render;

/// Renders `draft` and queues it in the caller's transaction: held by the unit of work and
/// written with its other emails (see [`store::Tx`]), or, with a `once_key`, written now
/// unless an email with that key was queued before (then None).
pub async fn enqueue(
    tx: &mut Tx<'_>,
    settings: &Settings,
    draft: &Draft,
    lead: Option<i64>,
    now: jiff::Timestamp,
    once_key: Option<&str>,
) -> anyhow::Result<Option<EmailRef>> {
    let message_id = render::new_message_id(&settings.relay.domain);
    let raw = render::render(&settings.identity().dressed(draft), &message_id, now)?;
    let email = outbox::NewEmail {
        purpose: draft.purpose.as_str(),
        lead_id: lead,
        message_id,
        envelope_from: settings.from.as_str().to_owned(),
        recipients: draft.to.clone(),
        subject: draft.subject.clone(),
        raw,
        now: store::millis(now),
    };
    Ok(match once_key {
        Some(key) => outbox::enqueue_once(tx, &email, key).await?,
        None => Some(tx.hold_email(email).await?),
    })
}

/// Queues `draft` about `lead` and records it in the lead's history as `Notified` with
/// `detail` (e.g. "assignment email to bob queued"), in the caller's transaction.
pub async fn enqueue_notice(
    tx: &mut Tx<'_>,
    settings: &Settings,
    draft: &Draft,
    lead: i64,
    detail: &str,
    now: jiff::Timestamp,
) -> anyhow::Result<()> {
    let email = enqueue(tx, settings, draft, Some(lead), now, None).await?;
    tx.record(
        store::NewActivity::system(lead, store::millis(now), ActivityKind::Notified, detail)
            .outbox(email),
    );
    Ok(())
}
