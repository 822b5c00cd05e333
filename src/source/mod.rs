//! Where raw mail comes from: the IMAP watcher for the daemon, files (`.eml`, maildir,
//! mbox) for `import` and the demo. Every source hands messages to an [`Ingest`] and
//! advances its checkpoint only through it.

pub mod files;
pub mod imap;

use std::future::Future;

/// Where one message was found; the IMAP position is the checkpoint written with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Imap {
        mailbox: String,
        uidvalidity: u32,
        uid: u32,
    },
    File(String),
}

impl Origin {
    /// The span of one message's life. `message.row` and `lead.id` start empty and are
    /// recorded as soon as they are known (`Span::current().record("message.row", row)`).
    pub fn span(&self) -> tracing::Span {
        match self {
            Origin::Imap { uid, .. } => tracing::info_span!(
                "message",
                imap.uid = uid,
                message.row = tracing::field::Empty,
                lead.id = tracing::field::Empty
            ),
            Origin::File(path) => tracing::info_span!(
                "message",
                file = %path,
                message.row = tracing::field::Empty,
                lead.id = tracing::field::Empty
            ),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Origin::Imap {
                mailbox,
                uidvalidity,
                uid,
            } => format!("imap:{mailbox};uidvalidity={uidvalidity};uid={uid}"),
            Origin::File(path) => format!("file:{path}"),
        }
    }
}

/// A mailbox's position: the last UID fully processed under a UIDVALIDITY.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub uidvalidity: u32,
    pub last_uid: u32,
}

/// What happened to one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IngestOutcome {
    /// Stored for the first time (with its class, and its lead id when it made or touched one).
    Stored {
        message_row: i64,
        class: String,
        lead: Option<i64>,
    },
    /// Seen before (same Message-ID and body): recorded as another sighting only.
    Duplicate { message_row: i64 },
}

/// The pipeline as sources see it. Implementations commit the message and the checkpoint
/// in one transaction, so a source that crashes after `ingest` returns never sees the
/// message again, and one that crashes before simply offers it again.
pub trait Ingest: Send + Sync {
    fn checkpoint(
        &self,
        mailbox: &str,
    ) -> impl Future<Output = anyhow::Result<Option<Checkpoint>>> + Send;

    /// Records an empty mailbox's position without a message (first connect, UIDVALIDITY change).
    fn set_checkpoint(
        &self,
        mailbox: &str,
        checkpoint: Checkpoint,
    ) -> impl Future<Output = anyhow::Result<()>> + Send;

    fn ingest(
        &self,
        raw: &[u8],
        origin: Origin,
    ) -> impl Future<Output = anyhow::Result<IngestOutcome>> + Send;

    /// Whether [`Ingest::ingest_batch`] is atomic. Sources hand a backlog over in batches
    /// only to an ingest that says so, and live mail always one message at a time.
    const BATCHES: bool = false;

    /// Several messages, in order, in one transaction with the checkpoint of the last one:
    /// all of them are committed, or none (then the source offers them one at a time, so
    /// that a message that cannot be stored is found and counted on its own). The default
    /// is not atomic (it takes them one by one) and is used only where `BATCHES` is false.
    fn ingest_batch(
        &self,
        batch: &[(&[u8], Origin)],
    ) -> impl Future<Output = anyhow::Result<Vec<IngestOutcome>>> + Send {
        async move {
            let mut out = Vec::with_capacity(batch.len());
            for (raw, origin) in batch {
                out.push(self.ingest(raw, origin.clone()).await?);
            }
            Ok(out)
        }
    }
}
