//! What the daemon's `/healthz` (and tests) can see of a running watcher.

use jiff::Timestamp;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// What the daemon's `/healthz` (and tests) can see of a running watcher. Shared through an
/// `Arc`; the watcher writes, everyone else reads.
#[derive(Debug, Default)]
pub struct ImapStatus {
    /// Logged in with the mailbox selected.
    pub(super) connected: AtomicBool,
    /// In IDLE (or the poll sleep) after a completed catch-up: new mail is picked up from here.
    pub(super) waiting: AtomicBool,
    /// Completed catch-up passes (search + fetch + ingest of everything found).
    pub(super) passes: AtomicU64,
    /// Messages handed to the ingest successfully, and ones skipped after `max_attempts`.
    pub(super) ingested: AtomicU64,
    pub(super) skipped: AtomicU64,
    // Mutex: a timestamp and a string have no atomic form; held only for a copy.
    pub(super) last_fetch: Mutex<Option<Timestamp>>,
    pub(super) last_error: Mutex<Option<String>>,
}

impl ImapStatus {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// Logged in, mailbox selected.
    pub fn connected(&self) -> bool {
        self.connected.load(Ordering::SeqCst)
    }

    /// Caught up and waiting for new mail (IDLE or the poll interval).
    pub fn waiting(&self) -> bool {
        self.waiting.load(Ordering::SeqCst)
    }

    /// When the last catch-up pass finished (mail fetched and ingested, or none found).
    pub fn last_fetch(&self) -> Option<Timestamp> {
        *lock(&self.last_fetch)
    }

    /// The last connection error, cleared by the next successful pass.
    pub fn last_error(&self) -> Option<String> {
        lock(&self.last_error).clone()
    }

    pub fn passes(&self) -> u64 {
        self.passes.load(Ordering::SeqCst)
    }

    pub fn ingested(&self) -> u64 {
        self.ingested.load(Ordering::SeqCst)
    }

    pub fn skipped(&self) -> u64 {
        self.skipped.load(Ordering::SeqCst)
    }

    pub(super) fn set_connected(&self, on: bool) {
        self.connected.store(on, Ordering::SeqCst);
        if !on {
            self.waiting.store(false, Ordering::SeqCst);
        }
    }

    pub(super) fn pass_done(&self, at: Timestamp) {
        *lock(&self.last_fetch) = Some(at);
        *lock(&self.last_error) = None;
        self.passes.fetch_add(1, Ordering::SeqCst);
    }

    pub(super) fn failed(&self, error: String) {
        self.set_connected(false);
        *lock(&self.last_error) = Some(error);
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves plain data behind: still usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}
