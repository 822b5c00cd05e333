//! One message = one transaction: dedupe → parse → classify → extract → match → route →
//! store → outbox. The message row, the lead, its activities, the owner's email (as an
//! outbox row) and the mailbox checkpoint commit together or not at all.

use crate::clock::Clock;
use crate::config::Settings;
use crate::domain::classify::{classify, Classification, ClassifyContext, MessageClass};
use crate::domain::email::EmailAddress;
use crate::domain::extract::Extraction;
use crate::domain::lead::ActivityKind;
use crate::domain::message::MessageView;
use crate::domain::notify::{self, Draft, LeadCard, Sender};
use crate::domain::route::{account_keys, route};
use crate::outbox::render;
use crate::source::{Checkpoint, Ingest, IngestOutcome, Origin};
use crate::store::{self, leads, messages, outbox, state, Conn, Store};
use anyhow::Context;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use tokio::sync::Notify;

/// One stored message as a handler sees it, inside the message's transaction.
pub struct Incoming<'a> {
    /// The `messages` row just written for it.
    pub row: i64,
    pub raw: &'a [u8],
    pub view: &'a MessageView,
    pub classification: &'a Classification,
}

/// What a handler did with a message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Handled {
    /// The lead the message belongs to, if any (the message row is linked to it).
    pub lead: Option<i64>,
    /// Whether outbox rows were written (the sender is then woken after commit).
    pub queued_mail: bool,
}

/// The actor name of leadgate itself in the history.
pub const SYSTEM_ACTOR: &str = "leadgate";

pub struct Pipeline {
    store: Store,
    settings: Arc<Settings>,
    clock: Clock,
    classify_ctx: ClassifyContext,
    /// Woken after every commit that queued mail, so the outbox sends at once instead of
    /// at its next poll.
    outbox_wake: Arc<Notify>,
}

impl Pipeline {
    pub fn new(
        store: Store,
        settings: Arc<Settings>,
        clock: Clock,
        outbox_wake: Arc<Notify>,
    ) -> Self {
        let classify_ctx = classify_context(&settings);
        Pipeline {
            store,
            settings,
            clock,
            classify_ctx,
            outbox_wake,
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    async fn process(&self, raw: &[u8], origin: Origin) -> anyhow::Result<IngestOutcome> {
        let started = std::time::Instant::now();
        let now = self.clock.now();
        let now_ms = store::millis(now);
        let (view, classification, quarantined) = read_safely(raw, &self.classify_ctx);
        let dedupe_key = dedupe_key(&view, raw);
        let origin_text = origin.describe();

        let mut tx = self
            .store
            .begin()
            .await
            .context("Failed to begin the message transaction")?;
        if let Some(row) = messages::find_by_dedupe_key(&mut tx, &dedupe_key).await? {
            messages::add_sighting(&mut tx, row, &origin_text, now_ms).await?;
            save_checkpoint(&mut tx, &origin, now_ms).await?;
            tx.commit().await?;
            tracing::info!(message.row = row, origin = %origin_text, "duplicate message, recorded as a sighting");
            return Ok(IngestOutcome::Duplicate { message_row: row });
        }

        let raw_sha256 = hex::encode(Sha256::digest(raw));
        let row = messages::insert(
            &mut tx,
            &messages::NewMessage {
                dedupe_key: &dedupe_key,
                raw_sha256: &raw_sha256,
                message_id: view.message_id.as_deref(),
                received_at: now_ms,
                origin: &origin_text,
                class: classification.class.as_str(),
                reason: &classification.reason,
                sender: view.from.as_ref().map(|m| m.address.as_str()),
                subject: Some(view.subject.as_str()),
                lead_id: None,
                quarantined,
                raw,
            },
        )
        .await?;
        tracing::Span::current().record("message.row", row);
        let handled = match (&classification.class, &classification.extraction) {
            (MessageClass::Notification, Some(extraction)) => {
                let (lead, queued_mail) = self.capture(&mut tx, &view, extraction, now).await?;
                Handled {
                    lead: Some(lead),
                    queued_mail,
                }
            }
            (
                MessageClass::Relay
                | MessageClass::BccLog
                | MessageClass::Reply
                | MessageClass::Bounce
                | MessageClass::AutoReply,
                _,
            ) => {
                let incoming = Incoming {
                    row,
                    raw,
                    view: &view,
                    classification: &classification,
                };
                crate::relay::handle(&mut tx, &self.settings, &incoming, now).await?
            }
            _ => Handled::default(),
        };
        let (lead, queued_mail) = (handled.lead, handled.queued_mail);
        if let Some(lead) = lead {
            tracing::Span::current().record("lead.id", lead);
            messages::set_lead(&mut tx, row, lead).await?;
        }
        messages::add_sighting(&mut tx, row, &origin_text, now_ms).await?;
        save_checkpoint(&mut tx, &origin, now_ms).await?;
        tx.commit()
            .await
            .context("Failed to commit the message transaction")?;
        if queued_mail {
            self.outbox_wake.notify_one();
        }
        metrics::counter!(crate::telemetry::MESSAGES, "class" => classification.class.as_str())
            .increment(1);
        metrics::histogram!(crate::telemetry::PROCESSING_SECONDS)
            .record(started.elapsed().as_secs_f64());
        tracing::info!(
            message.row = row,
            message.class = classification.class.as_str(),
            lead.id = lead,
            origin = %origin_text,
            reason = %classification.reason,
            "message stored"
        );
        Ok(IngestOutcome::Stored {
            message_row: row,
            class: classification.class.as_str().to_owned(),
            lead,
        })
    }

    /// A notification: a new lead routed to its owner, or a repeat submission attached to
    /// the person's open lead. Returns the lead id and whether mail was queued.
    async fn capture(
        &self,
        tx: &mut Conn,
        view: &MessageView,
        e: &Extraction,
        now: jiff::Timestamp,
    ) -> anyhow::Result<(i64, bool)> {
        let s = &self.settings;
        let now_ms = store::millis(now);
        let email = e
            .fields
            .email
            .as_deref()
            .and_then(|a| EmailAddress::parse(a).ok());
        let email_norm = email.as_ref().map(EmailAddress::normalized);
        let extra_json = serde_json::to_string(&e.extra).expect("strings serialise");

        let previous = match &email_norm {
            Some(norm) => leads::latest_by_email(tx, norm).await?,
            None => None,
        };
        if let Some(open) = previous.as_ref().filter(|l| is_open(&l.status)) {
            let detail = format!(
                "submitted again via {}{}",
                e.source,
                e.form
                    .as_ref()
                    .map(|f| format!(" / {f}"))
                    .unwrap_or_default()
            );
            leads::add_activity(
                tx,
                open.id,
                now_ms,
                "lead",
                ActivityKind::Resubmitted,
                &detail,
                None,
                None,
            )
            .await?;
            leads::touch(tx, open.id, now_ms).await?;
            let mut queued = false;
            if let Some(owner) = open.owner.as_deref().and_then(|o| s.person(o)) {
                let card = self.card(open.id, e);
                let draft = notify::owner_email(
                    &card,
                    &owner.email,
                    "Submitted again",
                    &detail,
                    None,
                    &self.sender(),
                    "resubmission",
                );
                self.enqueue(tx, &draft, Some(open.id), now).await?;
                queued = true;
            }
            return Ok((open.id, queued));
        }

        let cursors = state::route_cursors(tx).await?;
        let open_counts = leads::open_counts(tx).await?;
        let account_keys = email_norm.as_deref().map(account_keys).unwrap_or_default();
        let past_owners = leads::past_owners(tx, &account_keys).await?;
        let ctx = s.routing_context(&cursors, &open_counts, &past_owners, now);
        let assignment = route(e, &s.routes, &ctx);
        let due = s
            .team
            .hours
            .add(now, s.stale.first_reply_within, &s.team.timezone);
        let lead_id = leads::insert(
            tx,
            &leads::NewLead {
                owner: assignment.owner.as_deref(),
                source: &e.source,
                form: e.form.as_deref(),
                name: e.fields.name.as_deref(),
                email: email.as_ref().map(EmailAddress::as_str),
                email_norm: email_norm.as_deref(),
                phone: e.fields.phone.as_deref(),
                company: e.fields.company.as_deref(),
                message: e.fields.message.as_deref(),
                consent: e.consent,
                extra: &extra_json,
                needs_template: email.is_none(),
                route_rule: assignment.rule.as_deref(),
                route_reason: &assignment.reason,
                next_action: Some("first reply"),
                next_action_due: Some(store::millis(due)),
                now: now_ms,
                previous_lead: previous.as_ref().map(|p| p.id),
            },
        )
        .await?;
        let captured = match (&previous, view.subject.is_empty()) {
            (Some(p), _) => format!(
                "captured from {} (again: earlier lead #{} is closed)",
                e.source, p.id
            ),
            (None, true) => format!("captured from {}", e.source),
            (None, false) => format!(
                "captured from {}: {}",
                e.source,
                notify::header_safe(&view.subject, 120)
            ),
        };
        leads::add_activity(
            tx,
            lead_id,
            now_ms,
            SYSTEM_ACTOR,
            ActivityKind::Captured,
            &captured,
            None,
            None,
        )
        .await?;
        leads::add_activity(
            tx,
            lead_id,
            now_ms,
            SYSTEM_ACTOR,
            ActivityKind::Assigned,
            &assignment.reason,
            None,
            None,
        )
        .await?;
        metrics::counter!(crate::telemetry::LEADS_CREATED).increment(1);
        metrics::counter!(crate::telemetry::ASSIGNMENTS, "rule" => crate::telemetry::rule_label(&assignment)).increment(1);
        if let Some((rule, person)) = &assignment.cursor {
            state::save_route_cursor(tx, rule, person, now_ms).await?;
        }
        let mut queued = false;
        if let Some(owner) = assignment.owner.as_deref().and_then(|o| s.person(o)) {
            let card = self.card(lead_id, e);
            let draft = notify::owner_email(
                &card,
                &owner.email,
                "New lead",
                &assignment.reason,
                Some(due),
                &self.sender(),
                "assignment",
            );
            let detail = format!("assignment email to {} queued", owner.id);
            enqueue_notice(tx, s, &draft, lead_id, &detail, now).await?;
            queued = true;
        }
        Ok((lead_id, queued))
    }

    fn card(&self, lead_id: i64, e: &Extraction) -> LeadCard {
        LeadCard {
            id: lead_id,
            name: e.fields.name.clone(),
            email: e.fields.email.clone(),
            phone: e.fields.phone.clone(),
            company: e.fields.company.clone(),
            message: e.fields.message.clone(),
            consent: e.consent,
            extra: e.extra.clone(),
            source: e.source.clone(),
            form: e.form.clone(),
            tracked_address: tracked_address(&self.settings, lead_id),
        }
    }

    fn sender(&self) -> Sender<'_> {
        Sender {
            from: self.settings.from.as_str(),
            team: &self.settings.team.name,
            timezone: &self.settings.team.timezone,
        }
    }

    async fn enqueue(
        &self,
        tx: &mut Conn,
        draft: &Draft,
        lead: Option<i64>,
        now: jiff::Timestamp,
    ) -> anyhow::Result<Option<i64>> {
        enqueue(tx, &self.settings, draft, lead, now, None).await
    }
}

/// Renders `draft` and writes it to the outbox in the caller's transaction.
pub async fn enqueue(
    tx: &mut Conn,
    settings: &Settings,
    draft: &Draft,
    lead: Option<i64>,
    now: jiff::Timestamp,
    once_key: Option<&str>,
) -> anyhow::Result<Option<i64>> {
    let message_id = render::new_message_id(&settings.relay.domain);
    let raw = render::render(draft, &message_id, now)?;
    let id = outbox::enqueue(
        tx,
        &outbox::NewOutboxRow {
            purpose: &draft.purpose,
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
    tx: &mut Conn,
    settings: &Settings,
    draft: &Draft,
    lead: i64,
    detail: &str,
    now: jiff::Timestamp,
) -> anyhow::Result<()> {
    let outbox_id = enqueue(tx, settings, draft, Some(lead), now, None).await?;
    leads::add_activity(
        tx,
        lead,
        store::millis(now),
        SYSTEM_ACTOR,
        ActivityKind::Notified,
        detail,
        None,
        outbox_id,
    )
    .await?;
    Ok(())
}

pub fn tracked_address(settings: &Settings, lead_id: i64) -> String {
    settings
        .relay
        .address
        .address(&settings.relay.keys.encode(lead_id))
}

fn is_open(status: &str) -> bool {
    crate::domain::lead::LeadStatus::parse(status).is_some_and(|s| s.is_open())
}

async fn save_checkpoint(tx: &mut Conn, origin: &Origin, now_ms: i64) -> sqlx::Result<()> {
    if let Origin::Imap {
        mailbox,
        uidvalidity,
        uid,
    } = origin
    {
        let cp = Checkpoint {
            uidvalidity: *uidvalidity,
            last_uid: *uid,
        };
        state::save_checkpoint(tx, mailbox, cp, now_ms).await?;
    }
    Ok(())
}

pub fn classify_context(s: &Settings) -> ClassifyContext {
    ClassifyContext {
        tracked: Some(s.relay.address.clone()),
        log_address: Some(s.relay.log_address.normalized()),
        team_addresses: s
            .people
            .iter()
            .map(|p| p.email.to_ascii_lowercase())
            .collect(),
        message_id_domain: Some(s.relay.domain.clone()),
        templates: s.templates.clone(),
    }
}

/// Same Message-ID and same body: the same message, whatever the transport added on top.
/// Without a Message-ID the whole raw message stands in.
pub fn dedupe_key(view: &MessageView, raw: &[u8]) -> String {
    let mut h = Sha256::new();
    match &view.message_id {
        Some(id) => {
            h.update(b"mid:");
            h.update(id.trim().as_bytes());
            h.update([0]);
            h.update(body_of(raw));
        }
        None => {
            h.update(b"raw:");
            h.update(body_of(raw));
        }
    }
    hex::encode(h.finalize())
}

/// The bytes after the header block (after the first empty line).
fn body_of(raw: &[u8]) -> &[u8] {
    for (i, w) in raw.windows(2).enumerate() {
        if w == b"\n\n" {
            return &raw[i + 2..];
        }
        if w == b"\n\r" && raw.get(i + 2) == Some(&b'\n') {
            return &raw[i + 3..];
        }
    }
    raw
}

/// Parse and classify, turning a panic in either into a stored `other` message: bad input
/// must never stop the mail behind it.
fn read_safely(raw: &[u8], ctx: &ClassifyContext) -> (MessageView, Classification, bool) {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let view = crate::parse::view(raw);
        let c = classify(&view, ctx);
        (view, c)
    }));
    match result {
        Ok((view, c)) => (view, c, false),
        Err(panic) => {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".into());
            tracing::error!(panic = %why, "reading a message panicked; stored as other and quarantined");
            let c = Classification {
                class: MessageClass::Other,
                reason: format!("leadgate could not read this message (internal error: {why})"),
                extraction: None,
            };
            (MessageView::default(), c, true)
        }
    }
}

impl Ingest for Pipeline {
    async fn checkpoint(&self, mailbox: &str) -> anyhow::Result<Option<Checkpoint>> {
        let mut conn = self.store.acquire().await?;
        Ok(state::checkpoint(&mut conn, mailbox).await?)
    }

    async fn set_checkpoint(&self, mailbox: &str, checkpoint: Checkpoint) -> anyhow::Result<()> {
        let mut conn = self.store.acquire().await?;
        let now = store::millis(self.clock.now());
        Ok(state::save_checkpoint(&mut conn, mailbox, checkpoint, now).await?)
    }

    async fn ingest(&self, raw: &[u8], origin: Origin) -> anyhow::Result<IngestOutcome> {
        use tracing::Instrument;
        let span = crate::telemetry::message_span(&origin);
        self.process(raw, origin).instrument(span).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedupe_ignores_transport_headers_but_not_the_body() {
        let a = b"Received: by mx1\r\nMessage-ID: <x@y>\r\nSubject: s\r\n\r\nbody\r\n";
        let b = b"Received: by mx2\r\nDelivered-To: other@z\r\nMessage-ID: <x@y>\r\nSubject: s\r\n\r\nbody\r\n";
        let c = b"Received: by mx1\r\nMessage-ID: <x@y>\r\nSubject: s\r\n\r\nother body\r\n";
        let key = |raw: &[u8]| dedupe_key(&crate::parse::view(raw), raw);
        assert_eq!(key(a), key(b));
        assert_ne!(key(a), key(c));
    }
}
