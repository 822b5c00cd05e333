//! What a transaction holds back and writes in bulk (message rows, emails, history),
//! and what it knows of the database already (dedupe keys, the latest lead per address).

use super::*;

/// What [`Pipeline::store_one`] wrote, for the sighting and the log after commit.
pub(super) struct StoredOne {
    pub(super) row: RowRef,
    pub(super) duplicate: bool,
    pub(super) class: &'static str,
    pub(super) lead: Option<i64>,
    pub(super) queued_mail: bool,
    pub(super) reason: String,
}

/// A message row of the transaction: written, or waiting in [`Deferred`] (its index in the
/// transaction's order of deferred messages) until the batch's multi-row insert.
#[derive(Clone, Copy, Debug)]
pub(super) enum RowRef {
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
pub(super) struct Deferred<'a> {
    /// Not written yet; the first has index `message_ids.len()`.
    pub(super) messages: Vec<DeferredMessage<'a>>,
    /// The row ids of the deferred messages written so far, by index.
    pub(super) message_ids: Vec<i64>,
    pub(super) outbox: Vec<DeferredEmail>,
    /// The rendered emails' bytes in `outbox`: what deferring costs in memory (the message
    /// rows borrow the batch's raw bytes).
    pub(super) outbox_bytes: usize,
    /// Entries in the order they happened; `outbox` is an index into `self.outbox`.
    pub(super) history: Vec<DeferredActivity>,
}

pub(super) struct DeferredMessage<'a> {
    pub(super) dedupe_key: String,
    pub(super) raw_sha256: String,
    pub(super) message_id: Option<String>,
    pub(super) origin: String,
    pub(super) class: &'static str,
    pub(super) reason: String,
    pub(super) sender: Option<String>,
    pub(super) subject: String,
    pub(super) lead_id: Option<i64>,
    pub(super) quarantined: bool,
    pub(super) raw: &'a [u8],
}

pub(super) struct DeferredEmail {
    pub(super) purpose: Purpose,
    pub(super) lead_id: Option<i64>,
    pub(super) message_id: String,
    pub(super) recipients: Vec<String>,
    pub(super) subject: String,
    pub(super) raw: Vec<u8>,
}

pub(super) struct DeferredActivity {
    pub(super) lead_id: i64,
    pub(super) actor: &'static str,
    pub(super) kind: ActivityKind,
    pub(super) detail: String,
    pub(super) outbox: Option<usize>,
}

impl<'a> Deferred<'a> {
    pub(super) fn message(&mut self, m: DeferredMessage<'a>) -> RowRef {
        self.messages.push(m);
        RowRef::Deferred(self.message_ids.len() + self.messages.len() - 1)
    }

    /// Renders `draft` now (a bad draft fails its message, as before) and defers its row.
    pub(super) fn email(
        &mut self,
        settings: &Settings,
        draft: &Draft,
        lead: Option<i64>,
        now: jiff::Timestamp,
    ) -> anyhow::Result<usize> {
        let message_id = render::new_message_id(&settings.relay.domain);
        let raw = render::render(&settings.identity().dressed(draft), &message_id, now)?;
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

    pub(super) fn activity(
        &mut self,
        lead_id: i64,
        kind: ActivityKind,
        detail: String,
        outbox: Option<usize>,
    ) {
        self.activity_by(lead_id, SYSTEM_ACTOR, kind, detail, outbox);
    }

    pub(super) fn activity_by(
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
    pub(super) async fn flush(
        &mut self,
        tx: &mut Tx,
        settings: &Settings,
        now_ms: i64,
    ) -> anyhow::Result<()> {
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
    pub(super) fn row_id(&self, row: RowRef) -> i64 {
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
pub(super) struct Known {
    /// Dedupe key → its row (`None`: not stored).
    pub(super) dedupe: HashMap<String, Option<RowRef>>,
    /// Normalised address → its newest lead (`None`: it has none).
    pub(super) latest: HashMap<String, Option<leads::LatestLead>>,
}

impl Known {
    /// Reads what is not known yet of the messages in `group`.
    pub(super) async fn read_ahead<'r>(
        &mut self,
        tx: &mut Tx,
        desk: &str,
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
            let mut found = leads::latest_by_emails(tx, desk, &refs).await?;
            for e in emails {
                let lead = found.remove(&e);
                self.latest.insert(e, lead);
            }
        }
        Ok(())
    }

    pub(super) async fn stored(&mut self, tx: &mut Tx, key: &str) -> store::Result<Option<RowRef>> {
        if let Some(row) = self.dedupe.get(key) {
            return Ok(*row);
        }
        let row = messages::find_by_dedupe_key(tx, key)
            .await?
            .map(RowRef::Written);
        self.dedupe.insert(key.to_owned(), row);
        Ok(row)
    }

    pub(super) async fn latest(
        &mut self,
        tx: &mut Tx,
        desk: &str,
        email_norm: &str,
    ) -> store::Result<Option<leads::LatestLead>> {
        if let Some(lead) = self.latest.get(email_norm) {
            return Ok(lead.clone());
        }
        let lead = leads::latest_by_emails(tx, desk, &[email_norm])
            .await?
            .remove(email_norm);
        self.latest.insert(email_norm.to_owned(), lead.clone());
        Ok(lead)
    }
}
