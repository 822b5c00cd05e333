//! Which desk's pipeline a message goes to (DESIGN.md "Desks"). Every desk has its own
//! [`Pipeline`] (its settings: team, routes, identity); an [`Intake`] is what one mailbox
//! watcher (or `leadgate import`) hands its mail to. A folder or an account of a desk's own
//! is that desk's; the shared mailbox is told apart by recipient
//! ([`crate::domain::desk::Directory`]), from the header block alone, before the message
//! is parsed and classified with its desk's settings.
//!
//! A catch-up batch of the shared mailbox is cut into runs of consecutive messages of one
//! desk, each run one transaction (its desk's) with its last message's checkpoint. Should
//! a later run fail, the source offers the batch again one message at a time and the runs
//! already committed are found as duplicates: nothing is lost or stored twice.

use super::Pipeline;
use crate::config::{Desks, Inbox};
use crate::domain::desk::{Claim, Directory};
use crate::domain::token::TokenKeys;
use crate::source::{Checkpoint, Ingest, IngestOutcome, Origin};
use crate::store::{leads, Store};
use std::sync::Arc;

/// Where a watcher's mail goes.
#[derive(Clone)]
pub struct Intake {
    pipelines: Arc<Vec<Arc<Pipeline>>>,
    to: To,
    /// Checkpoints of a desk's own account are kept under `desk:<id>:<mailbox>`: two
    /// accounts may both have an INBOX.
    checkpoint_prefix: Option<String>,
}

#[derive(Clone)]
enum To {
    /// A folder or an account of one desk's own, or the one desk there is.
    Desk(usize),
    /// The shared mailbox: by recipient.
    Recipients {
        directory: Arc<Directory>,
        keys: TokenKeys,
        store: Store,
    },
}

/// The desk a message goes to, or why none.
enum Choice {
    Desk(usize),
    Nobody(String),
}

impl Intake {
    /// One pipeline per desk of `desks`, in their order.
    pub fn pipelines(
        desks: &Desks,
        store: &Store,
        clock: &crate::clock::Clock,
        wake: &Arc<tokio::sync::Notify>,
    ) -> Arc<Vec<Arc<Pipeline>>> {
        Arc::new(
            desks
                .all
                .iter()
                .map(|s| {
                    Arc::new(Pipeline::new(
                        store.clone(),
                        s.clone(),
                        clock.clone(),
                        wake.clone(),
                    ))
                })
                .collect(),
        )
    }

    /// The shared mailbox's intake: by recipient, unless there is one desk (then no header
    /// is read twice).
    pub fn shared(desks: &Desks, pipelines: Arc<Vec<Arc<Pipeline>>>, store: &Store) -> Self {
        if desks.all.len() == 1 {
            return Self::desk(pipelines, 0, None);
        }
        let mut directory = Directory::new(desks.fallback);
        for (i, s) in desks.all.iter().enumerate() {
            if let Inbox::Addresses(list) = &s.desk.inbox {
                for a in list {
                    directory.alias(a, i);
                }
            }
            directory.relay(&s.relay.address, s.relay.log_address.as_str(), i);
        }
        Intake {
            pipelines,
            to: To::Recipients {
                directory: Arc::new(directory),
                keys: desks.shared().relay.keys.clone(),
                store: store.clone(),
            },
            checkpoint_prefix: None,
        }
    }

    /// Desk `desk`'s own folder (no prefix) or account (`own_account`: checkpoints under
    /// the desk's id).
    pub fn desk(
        pipelines: Arc<Vec<Arc<Pipeline>>>,
        desk: usize,
        own_account: Option<&str>,
    ) -> Self {
        Intake {
            pipelines,
            to: To::Desk(desk),
            checkpoint_prefix: own_account.map(|id| format!("desk:{id}:")),
        }
    }

    fn key(&self, mailbox: &str) -> String {
        match &self.checkpoint_prefix {
            Some(p) => format!("{p}{mailbox}"),
            None => mailbox.to_owned(),
        }
    }

    fn origin(&self, origin: Origin) -> Origin {
        match (origin, &self.checkpoint_prefix) {
            (
                Origin::Imap {
                    mailbox,
                    uidvalidity,
                    uid,
                },
                Some(_),
            ) => Origin::Imap {
                mailbox: self.key(&mailbox),
                uidvalidity,
                uid,
            },
            (o, _) => o,
        }
    }

    async fn choose(&self, raw: &[u8]) -> anyhow::Result<Choice> {
        let (directory, keys, store) = match &self.to {
            To::Desk(d) => return Ok(Choice::Desk(*d)),
            To::Recipients {
                directory,
                keys,
                store,
            } => (directory, keys, store),
        };
        let recipients = crate::parse::recipients(raw);
        Ok(match directory.resolve(&recipients, keys) {
            Claim::Desk { desk, why } => {
                tracing::debug!(desk = %self.pipelines[desk].settings().desk.id, %why, "desk by recipient");
                Choice::Desk(desk)
            }
            Claim::Fallback(d) => Choice::Desk(d),
            Claim::Nobody { why } => Choice::Nobody(why),
            Claim::Lead(id) => {
                let mut conn = store.acquire().await?;
                let desk = leads::get(&mut conn, id).await?.map(|l| l.desk);
                let found = desk.as_deref().and_then(|d| {
                    self.pipelines
                        .iter()
                        .position(|p| p.settings().desk.id == d)
                });
                match (found, directory.fallback()) {
                    (Some(i), _) => Choice::Desk(i),
                    (None, Some(f)) => Choice::Desk(f),
                    (None, None) => Choice::Nobody(format!(
                        "its tracked address names lead #{id}, which is on no configured desk"
                    )),
                }
            }
        })
    }

    fn unclaimed(&self) -> &Pipeline {
        &self.pipelines[0]
    }
}

impl Ingest for Intake {
    async fn checkpoint(&self, mailbox: &str) -> anyhow::Result<Option<Checkpoint>> {
        self.pipelines[0].checkpoint(&self.key(mailbox)).await
    }

    async fn set_checkpoint(&self, mailbox: &str, checkpoint: Checkpoint) -> anyhow::Result<()> {
        self.pipelines[0]
            .set_checkpoint(&self.key(mailbox), checkpoint)
            .await
    }

    async fn ingest(&self, raw: &[u8], origin: Origin) -> anyhow::Result<IngestOutcome> {
        let origin = self.origin(origin);
        match self.choose(raw).await? {
            Choice::Desk(d) => self.pipelines[d].ingest(raw, origin).await,
            Choice::Nobody(why) => {
                let why = format!("no desk: {why}");
                self.unclaimed().process_unclaimed(raw, origin, why).await
            }
        }
    }

    const BATCHES: bool = true;

    async fn ingest_batch(&self, batch: &[(&[u8], Origin)]) -> anyhow::Result<Vec<IngestOutcome>> {
        // A desk's folder, or the only desk: the batch as it is, one transaction.
        if let (To::Desk(d), None) = (&self.to, &self.checkpoint_prefix) {
            return self.pipelines[*d].process_batch(batch).await;
        }
        let batch: Vec<(&[u8], Origin)> = batch
            .iter()
            .map(|(raw, o)| (*raw, self.origin(o.clone())))
            .collect();
        let mut choices = Vec::with_capacity(batch.len());
        for (raw, _) in &batch {
            choices.push(self.choose(raw).await?);
        }
        let mut out = Vec::with_capacity(batch.len());
        let mut i = 0;
        while i < batch.len() {
            match &choices[i] {
                Choice::Desk(d) => {
                    let mut j = i + 1;
                    while j < batch.len() && matches!(choices[j], Choice::Desk(e) if e == *d) {
                        j += 1;
                    }
                    out.extend(self.pipelines[*d].process_batch(&batch[i..j]).await?);
                    i = j;
                }
                Choice::Nobody(why) => {
                    let (raw, origin) = &batch[i];
                    let why = format!("no desk: {why}");
                    out.push(
                        self.unclaimed()
                            .process_unclaimed(raw, origin.clone(), why)
                            .await?,
                    );
                    i += 1;
                }
            }
        }
        Ok(out)
    }
}
