//! One message = one transaction: dedupe → parse → classify → extract → match → route →
//! store → outbox. The message row, the lead, its activities, the owner's email (as an
//! outbox row) and the mailbox checkpoint commit together or not at all.

use crate::clock::Clock;
use crate::config::{Settings, TriageMode};
use crate::domain::classify::{
    classify, unclaimed_reply, Classification, ClassifyContext, MessageClass,
};
use crate::domain::email::EmailAddress;
use crate::domain::extract::Extraction;
use crate::domain::handling::{Handled, Incoming};
use crate::domain::lead::{ActivityKind, LeadStatus, SYSTEM_ACTOR};
use crate::domain::message::MessageView;
use crate::domain::notify::{self, Draft, LeadCard, Purpose};
use crate::domain::route::{account_keys, route, uses_workload, AccountKey, Assignment, PastOwner};
use crate::outbox::render;
use crate::source::{Checkpoint, Ingest, IngestOutcome, Origin};
use crate::store::{self, leads, messages, outbox, state, Store, Tx};
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

/// A message read before its transaction: the CPU part of the pipeline.
struct Read {
    view: MessageView,
    classification: Classification,
    quarantined: bool,
    dedupe_key: String,
    raw_sha256: String,
}

fn read(raw: &[u8], ctx: &ClassifyContext) -> Read {
    let (view, classification, quarantined) = read_safely(raw, ctx);
    let dedupe_key = dedupe_key(&view, raw);
    Read {
        view,
        classification,
        quarantined,
        dedupe_key,
        raw_sha256: hex::encode(Sha256::digest(raw)),
    }
}

/// What [`Pipeline::store_one`] wrote, for the sighting and the log after commit.
struct StoredOne {
    row: RowRef,
    duplicate: bool,
    class: &'static str,
    lead: Option<i64>,
    queued_mail: bool,
    reason: String,
}

/// A message row of the transaction: written, or waiting in [`Deferred`] (its index in the
/// transaction's order of deferred messages) until the batch's multi-row insert.
#[derive(Clone, Copy, Debug)]
enum RowRef {
    Written(i64),
    Deferred(usize),
}

/// The rows of a transaction that nothing later in it reads back (message rows, outbox
/// rows, history entries), written with one multi-row statement per table when the batch
/// ends, or earlier: when the relay is about to read the database (its handling looks leads,
/// messages and history up) and when the rendered emails reach a statement's worth. A
/// PostgreSQL statement is a round trip, and a SQLite one a hop to its worker thread: a
/// notification costs one statement (its lead) instead of four. History entries wait here
/// only for their outbox ids; at a flush they go to the [`store::Tx`], which writes them
/// behind (before anything reads history, and at commit).
#[derive(Default)]
struct Deferred<'a> {
    /// Not written yet; the first has index `message_ids.len()`.
    messages: Vec<DeferredMessage<'a>>,
    /// The row ids of the deferred messages written so far, by index.
    message_ids: Vec<i64>,
    outbox: Vec<DeferredEmail>,
    /// The rendered emails' bytes in `outbox`: what deferring costs in memory (the message
    /// rows borrow the batch's raw bytes).
    outbox_bytes: usize,
    /// Entries in the order they happened; `outbox` is an index into `self.outbox`.
    history: Vec<DeferredActivity>,
}

struct DeferredMessage<'a> {
    dedupe_key: String,
    raw_sha256: String,
    message_id: Option<String>,
    origin: String,
    class: &'static str,
    reason: String,
    sender: Option<String>,
    subject: String,
    lead_id: Option<i64>,
    quarantined: bool,
    raw: &'a [u8],
}

struct DeferredEmail {
    purpose: Purpose,
    lead_id: Option<i64>,
    message_id: String,
    recipients: Vec<String>,
    subject: String,
    raw: Vec<u8>,
}

struct DeferredActivity {
    lead_id: i64,
    actor: &'static str,
    kind: ActivityKind,
    detail: String,
    outbox: Option<usize>,
}

impl<'a> Deferred<'a> {
    fn message(&mut self, m: DeferredMessage<'a>) -> RowRef {
        self.messages.push(m);
        RowRef::Deferred(self.message_ids.len() + self.messages.len() - 1)
    }

    /// Renders `draft` now (a bad draft fails its message, as before) and defers its row.
    fn email(
        &mut self,
        settings: &Settings,
        draft: &Draft,
        lead: Option<i64>,
        now: jiff::Timestamp,
    ) -> anyhow::Result<usize> {
        let message_id = render::new_message_id(&settings.relay.domain);
        let raw = render::render(draft, &message_id, now)?;
        self.outbox_bytes += raw.len();
        self.outbox.push(DeferredEmail {
            purpose: draft.purpose,
            lead_id: lead,
            message_id,
            recipients: draft.to.clone(),
            subject: draft.subject.clone(),
            raw,
        });
        Ok(self.outbox.len() - 1)
    }

    fn activity(
        &mut self,
        lead_id: i64,
        kind: ActivityKind,
        detail: String,
        outbox: Option<usize>,
    ) {
        self.activity_by(lead_id, SYSTEM_ACTOR, kind, detail, outbox);
    }

    fn activity_by(
        &mut self,
        lead_id: i64,
        actor: &'static str,
        kind: ActivityKind,
        detail: String,
        outbox: Option<usize>,
    ) {
        self.history.push(DeferredActivity {
            lead_id,
            actor,
            kind,
            detail,
            outbox,
        });
    }

    /// Writes what is deferred: outbox rows first (the history refers to them), then the
    /// history, then the message rows.
    async fn flush(&mut self, tx: &mut Tx, settings: &Settings, now_ms: i64) -> anyhow::Result<()> {
        let outbox_ids = if self.outbox.is_empty() {
            Vec::new()
        } else {
            let rows: Vec<outbox::NewOutboxRow> = self
                .outbox
                .iter()
                .map(|e| outbox::NewOutboxRow {
                    purpose: e.purpose.as_str(),
                    lead_id: e.lead_id,
                    message_id: &e.message_id,
                    envelope_from: settings.from.as_str(),
                    recipients: &e.recipients,
                    subject: &e.subject,
                    raw: &e.raw,
                    now: now_ms,
                    once_key: None,
                })
                .collect();
            outbox::enqueue_many(tx, &rows)
                .await
                .context("Failed to write the batch's outbox rows")?
        };
        // The history goes to the unit of work, which writes it behind (see `store::Tx`).
        for a in self.history.drain(..) {
            let entry = store::NewActivity::new(a.lead_id, now_ms, a.actor, a.kind, a.detail);
            tx.record(entry.outbox(a.outbox.map(|i| outbox_ids[i])));
        }
        if !self.messages.is_empty() {
            let rows: Vec<messages::NewMessage> = self
                .messages
                .iter()
                .map(|m| messages::NewMessage {
                    dedupe_key: &m.dedupe_key,
                    raw_sha256: &m.raw_sha256,
                    message_id: m.message_id.as_deref(),
                    received_at: now_ms,
                    origin: &m.origin,
                    class: m.class,
                    reason: &m.reason,
                    sender: m.sender.as_deref(),
                    subject: Some(m.subject.as_str()),
                    lead_id: m.lead_id,
                    quarantined: m.quarantined,
                    raw: m.raw,
                })
                .collect();
            let ids = messages::insert_many(tx, &rows)
                .await
                .context("Failed to write the batch's message rows")?;
            self.message_ids.extend(ids);
        }
        self.outbox.clear();
        self.outbox_bytes = 0;
        self.history.clear();
        self.messages.clear();
        Ok(())
    }

    /// The row id of a message of this transaction, once flushed.
    fn row_id(&self, row: RowRef) -> i64 {
        match row {
            RowRef::Written(id) => id,
            RowRef::Deferred(i) => self.message_ids[i],
        }
    }
}

/// What the transaction knows of the database beyond [`Routing`]: which dedupe keys are
/// stored (including its own messages) and the newest lead of each address, read for a
/// group of messages at a time with one `IN (...)` statement each and kept current as it
/// writes. A miss (a key or an address of no group read so far) is read on its own.
#[derive(Default)]
struct Known {
    /// Dedupe key → its row (`None`: not stored).
    dedupe: HashMap<String, Option<RowRef>>,
    /// Normalised address → its newest lead (`None`: it has none).
    latest: HashMap<String, Option<leads::LatestLead>>,
}

impl Known {
    /// Reads what is not known yet of the messages in `group`.
    async fn read_ahead<'r>(
        &mut self,
        tx: &mut Tx,
        group: impl Iterator<Item = &'r Read> + Clone,
    ) -> store::Result<()> {
        let keys: Vec<&str> = group
            .clone()
            .map(|r| r.dedupe_key.as_str())
            .filter(|k| !self.dedupe.contains_key(*k))
            .collect();
        if !keys.is_empty() {
            let found = messages::find_by_dedupe_keys(tx, &keys).await?;
            for k in keys {
                let row = found.get(k).map(|&id| RowRef::Written(id));
                self.dedupe.insert(k.to_owned(), row);
            }
        }
        let emails: Vec<String> = group
            .filter_map(notification_email)
            .filter(|e| !self.latest.contains_key(e))
            .collect();
        if !emails.is_empty() {
            let refs: Vec<&str> = emails.iter().map(String::as_str).collect();
            let mut found = leads::latest_by_emails(tx, &refs).await?;
            for e in emails {
                let lead = found.remove(&e);
                self.latest.insert(e, lead);
            }
        }
        Ok(())
    }

    async fn stored(&mut self, tx: &mut Tx, key: &str) -> store::Result<Option<RowRef>> {
        if let Some(row) = self.dedupe.get(key) {
            return Ok(*row);
        }
        let row = messages::find_by_dedupe_key(tx, key)
            .await?
            .map(RowRef::Written);
        self.dedupe.insert(key.to_owned(), row);
        Ok(row)
    }

    async fn latest(
        &mut self,
        tx: &mut Tx,
        email_norm: &str,
    ) -> store::Result<Option<leads::LatestLead>> {
        if let Some(lead) = self.latest.get(email_norm) {
            return Ok(lead.clone());
        }
        let lead = leads::latest_by_emails(tx, &[email_norm])
            .await?
            .remove(email_norm);
        self.latest.insert(email_norm.to_owned(), lead.clone());
        Ok(lead)
    }
}

/// The normalised submitter address of a notification (what capture looks its lead up by).
fn notification_email(r: &Read) -> Option<String> {
    match &r.classification.extraction {
        Some(e) if r.classification.captures() => e
            .fields
            .email
            .as_deref()
            .and_then(|a| EmailAddress::parse(a).ok())
            .map(|a| a.normalized()),
        _ => None,
    }
}

/// Everything one transaction keeps in memory between its messages.
#[derive(Default)]
struct TxState<'a> {
    routing: Routing,
    known: Known,
    deferred: Deferred<'a>,
}

/// What routing reads from the database, read once per transaction and kept current in
/// memory as the transaction writes leads, instead of once per lead: the round-robin
/// cursors, open leads per owner (only when routing uses them: counting them is a scan
/// over the open leads), and the account owners looked up so far. Within one transaction
/// this is what re-reading would return; the relay path (quick actions can reassign or
/// close leads) resets it.
#[derive(Default)]
struct Routing {
    cursors: Option<HashMap<String, String>>,
    open_counts: Option<HashMap<String, u32>>,
    /// Account key → its newest lead with an owner (`None`: no such lead).
    past_owners: HashMap<String, Option<PastOwner>>,
}

impl Routing {
    /// Reads what is not known yet for a lead under `keys`. `no_lead_under(key)` says
    /// when the caller already knows there is no lead under a key at all.
    async fn load(
        &mut self,
        tx: &mut Tx,
        uses_workload: bool,
        keys: &[AccountKey],
        no_lead_under: impl Fn(&str) -> bool,
    ) -> store::Result<()> {
        if self.cursors.is_none() {
            self.cursors = Some(state::route_cursors(tx).await?);
        }
        if uses_workload && self.open_counts.is_none() {
            self.open_counts = Some(leads::open_counts(tx).await?);
        }
        for key in keys {
            if self.past_owners.contains_key(&key.key) {
                continue;
            }
            let owner = if no_lead_under(&key.key) {
                None
            } else {
                leads::past_owner(tx, key, i64::MAX).await?
            };
            self.past_owners.insert(key.key.clone(), owner);
        }
        Ok(())
    }

    /// Lead `id` (status `new`) under `keys` was just written with `assignment`.
    fn lead_written(&mut self, id: i64, assignment: &Assignment, keys: &[AccountKey]) {
        if let Some(owner) = &assignment.owner {
            if let Some(counts) = self.open_counts.as_mut() {
                *counts.entry(owner.clone()).or_default() += 1;
            }
            // Keys that count only customers' leads do not count a new one.
            for key in keys.iter().filter(|k| k.statuses.is_empty()) {
                let past = PastOwner {
                    owner: owner.clone(),
                    lead: id,
                    status: "new".into(),
                };
                self.past_owners.insert(key.key.clone(), Some(past));
            }
        }
        if let (Some(cursors), Some((rule, person))) = (self.cursors.as_mut(), &assignment.cursor) {
            cursors.insert(rule.clone(), person.clone());
        }
    }
}

/// The source a route names to catch triage items (`source = "triage"`).
pub const TRIAGE_ROUTE_SOURCE: &str = "triage";
/// The stored source of a person's own mail (a triage inquiry, and the lead it becomes).
pub const TRIAGE_INQUIRY_SOURCE: &str = "inquiry";
/// The original text in a triage email, in bytes at most (the stored message keeps all).
const MAX_ORIGINAL_IN_EMAIL: usize = 64 * 1024;

/// At most `max` bytes of `s`, cut at a character boundary.
fn text_head(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
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
        let started = std::time::Instant::now();
        let (send, reads) = mpsc::channel(1);
        send.try_send(read(raw, &self.classify_ctx))
            .expect("a fresh channel has room for one");
        drop(send);
        let mut outcomes = self.write(&[(raw, origin)], reads, started).await?;
        Ok(outcomes.pop().expect("one outcome per message"))
    }

    /// Several messages in one transaction (a catch-up batch). Reading them (parse,
    /// classify, hashes) is CPU work: it runs on a blocking thread, message by message
    /// ahead of the writes, so the next messages are read while the database works.
    async fn process_batch(&self, batch: &[(&[u8], Origin)]) -> anyhow::Result<Vec<IngestOutcome>> {
        let started = std::time::Instant::now();
        let raws: Vec<Vec<u8>> = batch.iter().map(|(raw, _)| raw.to_vec()).collect();
        let ctx = self.classify_ctx.clone();
        let (send, reads) = mpsc::channel(READ_AHEAD);
        let reader = tokio::task::spawn_blocking(move || {
            for raw in raws {
                // The writer stopped (its transaction failed): nothing more to read.
                if send.blocking_send(read(&raw, &ctx)).is_err() {
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
                state.known.read_ahead(&mut tx, group.iter()).await?;
            }
            let r = group.pop_front().expect("a group holds the next message");
            let origin_text = origin.describe();
            let span = origin.span();
            let one = self
                .store_one(&mut tx, raw, &origin_text, r, now, &mut state)
                .instrument(span.clone())
                .await?;
            stored.push((one, origin_text, span));
            // A statement's worth of rendered emails is written at once rather than held
            // to the batch's end: a batch of them would raise the heap's high-water mark,
            // which glibc keeps for the life of the process.
            if state.deferred.outbox_bytes >= store::MAX_STATEMENT_BYTES {
                state
                    .deferred
                    .flush(&mut tx, &self.settings, now_ms)
                    .await?;
            }
        }
        state
            .deferred
            .flush(&mut tx, &self.settings, now_ms)
            .await?;
        let sightings: Vec<(i64, String)> = stored
            .iter()
            .map(|(one, origin_text, _)| (state.deferred.row_id(one.row), origin_text.clone()))
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
            .map(|(one, origin_text, span)| {
                let message_row = state.deferred.row_id(one.row);
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
        tx: &mut Tx,
        raw: &'a [u8],
        origin_text: &str,
        r: Read,
        now: jiff::Timestamp,
        state: &mut TxState<'a>,
    ) -> anyhow::Result<StoredOne> {
        let now_ms = store::millis(now);
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
        let deferred_message = |lead_id| DeferredMessage {
            dedupe_key: dedupe_key.clone(),
            raw_sha256: raw_sha256.clone(),
            message_id: view.message_id.clone(),
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
                let row = state.deferred.message(deferred_message(Some(lead)));
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
                // The relay reads leads, messages and history: all of this transaction's
                // rows, this message's too, must be in the database first.
                let deferred = state.deferred.message(deferred_message(None));
                state.deferred.flush(tx, &self.settings, now_ms).await?;
                let row = state.deferred.row_id(deferred);
                let incoming = Incoming {
                    row,
                    raw,
                    view: &view,
                    classification: &classification,
                };
                let mut handled = crate::relay::handle(tx, &self.settings, &incoming, now).await?;
                // Quick actions may have changed owners and statuses: read leads afresh.
                state.routing = Routing::default();
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
                (RowRef::Written(row), handled)
            }
            _ => (
                state.deferred.message(deferred_message(None)),
                Handled::default(),
            ),
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

    /// A notification: a new lead routed to its owner, or a repeat submission attached to
    /// the person's open lead. A triage item (`c.triage`) the same way, with status
    /// `triage` and a triage email that asks its owner to decide it. Returns the lead id
    /// and whether mail was queued.
    async fn capture(
        &self,
        tx: &mut Tx,
        view: &MessageView,
        c: &Classification,
        e: &Extraction,
        now: jiff::Timestamp,
        state: &mut TxState<'_>,
    ) -> anyhow::Result<(i64, bool)> {
        let s = &self.settings;
        let triage = c.triage;
        let inquiry = c.class == MessageClass::Inquiry;
        // What the lead row keeps as its source: the provider, or what kind of item it is.
        let stored_source = match (triage, e.source.is_empty(), inquiry) {
            (true, _, true) => TRIAGE_INQUIRY_SOURCE,
            (true, true, false) => "generic",
            _ => e.source.as_str(),
        };
        let now_ms = store::millis(now);
        let email = e
            .fields
            .email
            .as_deref()
            .and_then(|a| EmailAddress::parse(a).ok());
        let email_norm = email.as_ref().map(EmailAddress::normalized);
        let extra_json = serde_json::to_string(&e.extra).expect("strings serialise");

        let previous = match &email_norm {
            Some(norm) => state.known.latest(tx, norm).await?,
            None => None,
        };
        if let Some(open) = previous.as_ref().filter(|l| l.status.is_open()) {
            let detail = if triage {
                format!("wrote again: {}", notify::header_safe(&view.subject, 120))
            } else {
                format!(
                    "submitted again via {}{}",
                    e.source,
                    e.form
                        .as_ref()
                        .map(|f| format!(" / {f}"))
                        .unwrap_or_default()
                )
            };
            // The person is writing again: their wait restarts the `unanswered` clock, as a
            // mail from them does.
            leads::record_inbound(tx, open.id, now_ms).await?;
            let mut queued = false;
            if let Some(owner) = open.owner.as_deref().and_then(|o| s.person(o)) {
                let mut card = self.card(open.id, e);
                card.source = stored_source.to_owned();
                let draft = notify::owner_email(
                    &crate::templates::environment_or_bundled(s),
                    &card,
                    &owner.email,
                    notify::OwnerMail {
                        purpose: Purpose::Resubmission,
                        headline: if triage {
                            "Wrote again"
                        } else {
                            "Submitted again"
                        },
                        reason: &detail,
                        due: None,
                        context: None,
                    },
                    &s.sender(),
                );
                state.deferred.email(s, &draft, Some(open.id), now)?;
                queued = true;
            }
            state
                .deferred
                .activity_by(open.id, "lead", ActivityKind::Resubmitted, detail, None);
            return Ok((open.id, queued));
        }

        let routing = &mut state.routing;
        let account_keys = email_norm
            .as_deref()
            .map(|e| account_keys(e, &s.learn))
            .unwrap_or_default();
        let no_lead_under = |key: &str| previous.is_none() && email_norm.as_deref() == Some(key);
        routing
            .load(tx, self.uses_workload, &account_keys, no_lead_under)
            .await?;
        // Triage items route by `source = "triage"` only: what was detected of an unreadable
        // mail is a guess, and a wrong source sends it to the wrong person.
        let routed;
        let for_routing = if triage {
            routed = Extraction {
                source: TRIAGE_ROUTE_SOURCE.into(),
                ..e.clone()
            };
            &routed
        } else {
            e
        };
        let assignment = if triage && s.capture.triage == TriageMode::Digest {
            Assignment {
                owner: None,
                rule: None,
                reason: "[capture] triage = \"digest\": no owner; the digest lists it".into(),
                cursor: None,
            }
        } else {
            let past_owners: HashMap<String, PastOwner> = account_keys
                .iter()
                .filter_map(|k| Some((k.key.clone(), routing.past_owners.get(&k.key)?.clone()?)))
                .collect();
            let (no_cursors, no_counts) = (HashMap::new(), HashMap::new());
            let ctx = s.routing_context(
                routing.cursors.as_ref().unwrap_or(&no_cursors),
                routing.open_counts.as_ref().unwrap_or(&no_counts),
                &past_owners,
                now,
            );
            route(for_routing, &s.routes, &ctx)
        };
        let due = s
            .team
            .hours
            .add(now, s.stale.first_reply_within, &s.team.timezone);
        let lead_id = leads::insert(
            tx,
            &leads::NewLead {
                status: if triage {
                    LeadStatus::Triage
                } else {
                    LeadStatus::New
                },
                owner: assignment.owner.as_deref(),
                source: stored_source,
                form: e.form.as_deref(),
                name: e.fields.name.as_deref(),
                email: email.as_ref().map(EmailAddress::as_str),
                email_norm: email_norm.as_deref(),
                phone: e.fields.phone.as_deref(),
                company: e.fields.company.as_deref(),
                message: e.fields.message.as_deref(),
                consent: e.consent,
                extra: &extra_json,
                needs_template: email.is_none() || (triage && !inquiry),
                route_rule: assignment.rule.as_deref(),
                route_reason: &assignment.reason,
                next_action: Some(if triage {
                    crate::ops::TRIAGE_DECISION
                } else {
                    "first reply"
                }),
                next_action_due: Some(store::millis(due)),
                now: now_ms,
                previous_lead: previous.as_ref().map(|p| p.id),
            },
        )
        .await?;
        routing.lead_written(lead_id, &assignment, &account_keys);
        if let Some(norm) = &email_norm {
            state.known.latest.insert(
                norm.clone(),
                Some(leads::LatestLead {
                    id: lead_id,
                    status: if triage {
                        LeadStatus::Triage
                    } else {
                        LeadStatus::New
                    },
                    owner: assignment.owner.clone(),
                }),
            );
        }
        let captured = match (&previous, view.subject.is_empty()) {
            _ if triage => format!(
                "triage item ({}): {}",
                if inquiry {
                    "a person's own mail"
                } else {
                    "a notification that could not be read"
                },
                c.reason
            ),
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
        if !triage {
            metrics::counter!(crate::telemetry::LEADS_CREATED).increment(1);
        }
        metrics::counter!(crate::telemetry::ASSIGNMENTS, "rule" => crate::telemetry::rule_label(&assignment)).increment(1);
        if let Some((rule, person)) = &assignment.cursor {
            state::save_route_cursor(tx, rule, person, now_ms).await?;
        }
        let deferred = &mut state.deferred;
        deferred.activity(lead_id, ActivityKind::Captured, captured, None);
        deferred.activity(
            lead_id,
            ActivityKind::Assigned,
            assignment.reason.clone(),
            None,
        );
        let mut queued = false;
        if let Some(owner) = assignment
            .owner
            .as_deref()
            .and_then(|o| s.person(o))
            .filter(|_| triage)
        {
            let mut card = self.card(lead_id, e);
            card.source = stored_source.to_owned();
            let text = view.text.as_str();
            let original = notify::TriageOriginal {
                inquiry,
                subject: &view.subject,
                text: text_head(text, MAX_ORIGINAL_IN_EMAIL),
            };
            let draft = notify::triage_email(
                &crate::templates::environment_or_bundled(s),
                &card,
                &owner.email,
                &assignment.reason,
                Some(due),
                &original,
                &s.sender(),
            );
            let email = deferred.email(s, &draft, Some(lead_id), now)?;
            deferred.activity(
                lead_id,
                ActivityKind::Notified,
                format!("triage email to {} queued", owner.id),
                Some(email),
            );
            queued = true;
        } else if let Some(owner) = assignment.owner.as_deref().and_then(|o| s.person(o)) {
            let card = self.card(lead_id, e);
            let draft = notify::owner_email(
                &crate::templates::environment_or_bundled(s),
                &card,
                &owner.email,
                notify::OwnerMail {
                    purpose: Purpose::Assignment,
                    headline: "New lead",
                    reason: &assignment.reason,
                    due: Some(due),
                    context: None,
                },
                &s.sender(),
            );
            let email = deferred.email(s, &draft, Some(lead_id), now)?;
            deferred.activity(
                lead_id,
                ActivityKind::Notified,
                format!("assignment email to {} queued", owner.id),
                Some(email),
            );
            queued = true;
        }
        Ok((lead_id, queued))
    }

    fn card(&self, lead_id: i64, e: &Extraction) -> LeadCard {
        LeadCard::new(lead_id, e, self.settings.relay.tracked_address(lead_id))
    }
}

async fn save_checkpoint(tx: &mut Tx, origin: &Origin, now_ms: i64) -> store::Result<()> {
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
        providers_off: Vec::new(),
        triage_off: s.capture.triage == TriageMode::Off,
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
                triage: false,
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
        self.process(raw, origin).await
    }

    const BATCHES: bool = true;

    async fn ingest_batch(&self, batch: &[(&[u8], Origin)]) -> anyhow::Result<Vec<IngestOutcome>> {
        self.process_batch(batch).await
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
