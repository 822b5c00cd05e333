//! One message = one transaction: dedupe → parse → classify → extract → match → route →
//! store → outbox. The message row, the lead, its activities, the owner's email (as an
//! outbox row) and the mailbox checkpoint commit together or not at all.
//!
//! `read.rs`: the CPU part before the transaction; `known.rs`: what the transaction knows
//! of the database already; `capture.rs`: a notification or triage item becomes a lead.
//! The unit of work ([`store::Tx`]) holds the message rows, emails and history back and
//! writes them in bulk.

use crate::clock::Clock;
use crate::config::{Settings, TriageMode};
use crate::domain::classify::{
    classify, unclaimed_reply, Classification, ClassifyContext, MessageClass,
};
use crate::domain::email::EmailAddress;
use crate::domain::extract::Extraction;
use crate::domain::handling::{Handled, Incoming};
use crate::domain::lead::{ActivityKind, LeadStatus};
use crate::domain::message::MessageView;
use crate::domain::notify::{self, LeadCard, Purpose};
use crate::domain::route::{account_keys, route, uses_workload, Assignment, Snapshot};
use crate::source::{Checkpoint, Ingest, IngestOutcome, Origin};
use crate::store::{self, leads, messages, state, MessageRef, NewActivity, Store, Tx};
use anyhow::Context;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{mpsc, Notify};
use tracing::Instrument;

/// How many messages of a batch are read (parsed, classified) ahead of the writes. Each
/// holds its parsed view until written, and what a catch-up holds at once sets the heap's
/// high-water mark, which glibc keeps: 16 instead of 64 took about 0.7 MB off the idle RSS
/// after an import (docs/performance.md).
const READ_AHEAD: usize = 16;

mod capture;
mod desks;
mod known;
mod read;

pub use capture::{TRIAGE_INQUIRY_SOURCE, TRIAGE_ROUTE_SOURCE};
pub use desks::Intake;
use known::*;
pub use read::{classify_context, dedupe_key};
use read::{notification_email, Read};

/// Everything one transaction keeps in memory between its messages (beyond what its
/// unit of work holds).
#[derive(Default)]
struct TxState {
    /// What routing reads, loaded at the transaction's first lead and kept current as it
    /// writes leads (within one transaction this is what re-reading would return); the
    /// relay path (quick actions can reassign or close leads) drops it.
    routing: Option<Snapshot>,
    known: Known,
}

pub struct Pipeline {
    store: Store,
    settings: Arc<Settings>,
    clock: Clock,
    // Arc: shared with the blocking thread that reads a batch ahead of its writes.
    classify_ctx: Arc<ClassifyContext>,
    /// Whether routing reads open-lead counts (capacities, least-busy pools); when not,
    /// they are never counted.
    uses_workload: bool,
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
        let classify_ctx = Arc::new(classify_context(&settings));
        let uses_workload = uses_workload(&settings.people, &settings.routes);
        Pipeline {
            store,
            settings,
            clock,
            classify_ctx,
            uses_workload,
            outbox_wake,
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// One message in its own transaction (live mail: committed at once). Read inline:
    /// handing one message to a blocking thread would only add latency.
    async fn process(&self, raw: &[u8], origin: Origin) -> anyhow::Result<IngestOutcome> {
        self.process_read(raw, origin, read::read(raw, &self.classify_ctx))
            .await
    }

    /// A message no desk claims (`[desks]` without a fallback): stored as `other` with
    /// `why`, so it is kept and listed (`leadgate messages --class other`), never lost.
    pub async fn process_unclaimed(
        &self,
        raw: &[u8],
        origin: Origin,
        why: String,
    ) -> anyhow::Result<IngestOutcome> {
        let mut r = read::read(raw, &self.classify_ctx);
        r.classification = Classification {
            class: MessageClass::Other,
            reason: why,
            extraction: None,
            triage: false,
        };
        self.process_read(raw, origin, r).await
    }

    async fn process_read(
        &self,
        raw: &[u8],
        origin: Origin,
        read: Read,
    ) -> anyhow::Result<IngestOutcome> {
        let started = std::time::Instant::now();
        let (send, reads) = mpsc::channel(1);
        send.try_send(read)
            .expect("a fresh channel has room for one");
        drop(send);
        let mut outcomes = self.write(&[(raw, origin)], reads, started).await?;
        Ok(outcomes.pop().expect("one outcome per message"))
    }

    /// Several messages in one transaction (a catch-up batch). Reading them (parse,
    /// classify, hashes) is CPU work: it runs on a blocking thread, message by message
    /// ahead of the writes, so the next messages are read while the database works.
    pub(crate) async fn process_batch(
        &self,
        batch: &[(&[u8], Origin)],
    ) -> anyhow::Result<Vec<IngestOutcome>> {
        let started = std::time::Instant::now();
        let raws: Vec<Vec<u8>> = batch.iter().map(|(raw, _)| raw.to_vec()).collect();
        let ctx = self.classify_ctx.clone();
        let (send, reads) = mpsc::channel(READ_AHEAD);
        let reader = tokio::task::spawn_blocking(move || {
            for raw in raws {
                // The writer stopped (its transaction failed): nothing more to read.
                if send.blocking_send(read::read(&raw, &ctx)).is_err() {
                    break;
                }
            }
        });
        let result = self.write(batch, reads, started).await;
        // Finished or stopped by now (its channel is closed); a panic was caught inside.
        let _ = reader.await;
        result
    }

    /// Writes `batch` (in order, read ahead into `reads`) in one transaction with the
    /// sightings and the checkpoint of the last message, commits, then logs and counts.
    async fn write(
        &self,
        batch: &[(&[u8], Origin)],
        mut reads: mpsc::Receiver<Read>,
        started: std::time::Instant,
    ) -> anyhow::Result<Vec<IngestOutcome>> {
        let now = self.clock.now();
        let now_ms = store::millis(now);
        let mut tx = self
            .store
            .begin()
            .await
            .context("Failed to begin the message transaction")?;
        let mut state = TxState::default();
        let mut stored = Vec::with_capacity(batch.len());
        let mut group = std::collections::VecDeque::with_capacity(READ_AHEAD);
        for (raw, origin) in batch {
            if group.is_empty() {
                // Whatever the reader has ready (at least the next message) is one group.
                group.push_back(
                    reads
                        .recv()
                        .await
                        .context("reading a message stopped before its turn")?,
                );
                while let Ok(r) = reads.try_recv() {
                    group.push_back(r);
                }
                state
                    .known
                    .read_ahead(&mut tx, &self.settings.desk.id, group.iter())
                    .await?;
            }
            let r = group.pop_front().expect("a group holds the next message");
            let origin_text = origin.describe();
            let span = origin.span();
            let one = self
                .store_one(&mut tx, raw, &origin_text, r, now, &mut state)
                .instrument(span.clone())
                .await?;
            stored.push((one, origin_text, span));
        }
        // The rows' ids (the first written with everything the unit of work holds).
        let mut rows = Vec::with_capacity(stored.len());
        for (one, _, _) in &stored {
            rows.push(tx.message_row(one.row).await?);
        }
        let sightings: Vec<(i64, String)> = rows
            .iter()
            .zip(&stored)
            .map(|(&row, (_, origin_text, _))| (row, origin_text.clone()))
            .collect();
        messages::add_sightings(&mut tx, &sightings, now_ms).await?;
        if let Some((_, origin)) = batch
            .iter()
            .rev()
            .find(|(_, o)| matches!(o, Origin::Imap { .. }))
        {
            save_checkpoint(&mut tx, origin, now_ms).await?;
        }
        tx.commit()
            .await
            .context("Failed to commit the message transaction")?;
        if stored.iter().any(|(one, _, _)| one.queued_mail) {
            self.outbox_wake.notify_one();
        }
        let elapsed = started.elapsed().as_secs_f64();
        Ok(stored
            .into_iter()
            .zip(rows)
            .map(|((one, origin_text, span), message_row)| {
                span.record("message.row", message_row);
                let _entered = span.enter();
                if one.duplicate {
                    tracing::info!(message.row = message_row, origin = %origin_text, "duplicate message, recorded as a sighting");
                    return IngestOutcome::Duplicate { message_row };
                }
                metrics::counter!(crate::telemetry::MESSAGES, "class" => one.class)
                    .increment(1);
                metrics::histogram!(crate::telemetry::PROCESSING_SECONDS).record(elapsed);
                tracing::info!(
                    message.row = message_row,
                    message.class = %one.class,
                    lead.id = one.lead,
                    origin = %origin_text,
                    reason = %one.reason,
                    "message stored"
                );
                IngestOutcome::Stored {
                    message_row,
                    class: one.class.to_owned(),
                    lead: one.lead,
                }
            })
            .collect())
    }

    /// Handles one read message in the caller's transaction: its row, and its lead (a
    /// notification) or what the relay does with it. A message already stored (same
    /// dedupe key, also earlier in this transaction) only gets its sighting, by the caller.
    async fn store_one<'a>(
        &self,
        tx: &mut Tx<'a>,
        raw: &'a [u8],
        origin_text: &str,
        r: Read,
        now: jiff::Timestamp,
        state: &mut TxState,
    ) -> anyhow::Result<StoredOne> {
        let Read {
            view,
            classification,
            quarantined,
            dedupe_key,
            raw_sha256,
        } = r;
        if let Some(row) = state.known.stored(tx, &dedupe_key).await? {
            return Ok(StoredOne {
                row,
                duplicate: true,
                class: classification.class.as_str(),
                lead: None,
                queued_mail: false,
                reason: String::new(),
            });
        }
        let class = classification.class.as_str();
        let new_message = |lead_id| messages::NewMessage {
            dedupe_key: dedupe_key.clone(),
            raw_sha256: raw_sha256.clone(),
            message_id: view.message_id.clone(),
            received_at: store::millis(now),
            origin: origin_text.to_owned(),
            class,
            reason: classification.reason.clone(),
            sender: view.from.as_ref().map(|m| m.address.clone()),
            subject: view.subject.clone(),
            lead_id,
            quarantined,
            raw,
        };
        let (row, handled) = match (&classification.class, &classification.extraction) {
            (_, Some(extraction)) if classification.captures() => {
                // The lead first, so that the message row is written with it (no update).
                let (lead, queued_mail) = self
                    .capture(tx, &view, &classification, extraction, now, state)
                    .await?;
                let row = tx.hold_message(new_message(Some(lead)));
                let handled = Handled {
                    lead: Some(lead),
                    queued_mail,
                };
                (row, handled)
            }
            (
                MessageClass::Relay
                | MessageClass::BccLog
                | MessageClass::Reply
                | MessageClass::Bounce
                | MessageClass::AutoReply,
                _,
            ) => {
                // The relay's history names this message's row: written now (with all
                // the unit of work holds, which the relay's reads would write anyway).
                let held = tx.hold_message(new_message(None));
                let row = tx.message_row(held).await?;
                let incoming = Incoming {
                    row,
                    raw,
                    view: &view,
                    classification: &classification,
                };
                let mut handled = crate::relay::handle(tx, &self.settings, &incoming, now).await?;
                // Quick actions may have changed owners and statuses: read leads afresh.
                state.routing = None;
                state.known.latest.clear();
                let unclaimed = handled
                    .lead
                    .is_none()
                    .then(|| unclaimed_reply(&view, &classification, &self.classify_ctx))
                    .flatten();
                if let Some(t) = unclaimed {
                    // A person's reply that no lead claims gets an owner too (as triage).
                    let e = t.extraction.as_ref().expect("a triage item has its fields");
                    let (lead, queued) = self.capture(tx, &view, &t, e, now, state).await?;
                    messages::set_reason(tx, row, &t.reason).await?;
                    handled = Handled {
                        lead: Some(lead),
                        queued_mail: handled.queued_mail || queued,
                    };
                }
                if let Some(lead) = handled.lead {
                    messages::set_lead(tx, row, lead).await?;
                }
                (held, handled)
            }
            _ => (tx.hold_message(new_message(None)), Handled::default()),
        };
        state.known.dedupe.insert(dedupe_key.clone(), Some(row));
        if let Some(lead) = handled.lead {
            tracing::Span::current().record("lead.id", lead);
        }
        Ok(StoredOne {
            row,
            duplicate: false,
            class,
            lead: handled.lead,
            queued_mail: handled.queued_mail,
            reason: classification.reason,
        })
    }
}

async fn save_checkpoint(tx: &mut Tx<'_>, origin: &Origin, now_ms: i64) -> store::Result<()> {
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
        self.process(raw, origin).await
    }

    const BATCHES: bool = true;

    async fn ingest_batch(&self, batch: &[(&[u8], Origin)]) -> anyhow::Result<Vec<IngestOutcome>> {
        self.process_batch(batch).await
    }
}
