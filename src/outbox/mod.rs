//! Delivery of what the pipeline decided to send. Each step leases a few due rows, hands
//! them to the [`transport::Transport`] one by one, and records the outcomes: sent, retried
//! later with exponential backoff (transient failures), or dead-lettered (permanent
//! failures or too many attempts). Nothing is deleted: a dead row stays listable with its
//! last error.

pub mod queue;
pub mod render;
pub mod smtp;
pub mod transport;

pub use queue::{enqueue, enqueue_notice};

use crate::clock::Clock;
use crate::config::OutboxSettings;
use crate::store::{self, outbox, Store};
use anyhow::Context;
use jiff::SignedDuration;
use std::sync::Arc;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use transport::Transport;

/// Rows one step of the sender (and of `drain`) leases and sends: an email costs about one
/// statement (its mark) instead of four (begin, lease, commit, mark), which matters most
/// on SQLite, where the sender shares the one connection with the import.
const ROWS_PER_STEP: usize = 16;

/// What one step did, so tests (and `demo`) can drain the outbox deterministically.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Sent(i64),
    Retried(i64),
    DeadLettered(i64),
    /// Nothing due; the next row is due at this time (Unix ms), if any.
    Idle(Option<i64>),
}

pub struct OutboxWorker {
    store: Store,
    transport: Transport,
    settings: OutboxSettings,
    clock: Clock,
    /// Unique per process, so a lease names its holder (SQLite; a daemon's starts with
    /// `outbox::DAEMON_OWNER_PREFIX`, so the next daemon knows its leases are dead).
    worker_id: String,
    /// PostgreSQL: the instance lock whose id our leases carry, taken at the first step and
    /// again if its connection breaks; a mutex because steps may run from several tasks.
    instance: tokio::sync::Mutex<Option<store::locks::Instance>>,
}

impl OutboxWorker {
    pub fn new(store: Store, transport: Transport, settings: OutboxSettings, clock: Clock) -> Self {
        let worker_id = format!("{}-{}", std::process::id(), rand::random::<u32>());
        OutboxWorker {
            store,
            transport,
            settings,
            clock,
            worker_id,
            instance: tokio::sync::Mutex::new(None),
        }
    }

    /// The daemon's sender (SQLite): its leases are taken back when the next daemon starts.
    pub fn for_daemon(mut self) -> Self {
        self.worker_id = format!("{}{}", outbox::DAEMON_OWNER_PREFIX, self.worker_id);
        self
    }

    /// The name our leases carry: on PostgreSQL that of a live instance lock.
    async fn lease_owner(&self) -> anyhow::Result<String> {
        if self.store.backend() == store::Backend::Sqlite {
            return Ok(self.worker_id.clone());
        }
        let mut instance = self.instance.lock().await;
        if let Some(i) = instance.as_mut() {
            if i.alive().await {
                return Ok(outbox::instance_owner(i.id()));
            }
            tracing::warn!(
                instance = i.id(),
                "outbox instance lock connection lost: registering anew"
            );
        }
        let i = store::locks::Instance::register(&self.store)
            .await
            .context("Failed to take the outbox instance lock")?;
        tracing::debug!(instance = i.id(), "outbox instance registered");
        let owner = outbox::instance_owner(i.id());
        *instance = Some(i);
        Ok(owner)
    }

    /// One row: leases the oldest due row, sends it and records the outcome.
    pub async fn step(&self) -> anyhow::Result<Step> {
        let mut steps = self.steps(1, || false).await?;
        Ok(steps.pop().expect("steps returns one step at least"))
    }

    /// Leases up to `limit` due rows in one statement, sends them one after another in the
    /// order they were written (a lead's earlier email first), and records each outcome
    /// right after its send. Rows not sent yet when `stop()` turns true are given back.
    /// Returns one step per row, or `[Idle]` when nothing is due.
    pub async fn steps(&self, limit: usize, stop: impl Fn() -> bool) -> anyhow::Result<Vec<Step>> {
        let leased_at = std::time::Instant::now();
        let now = store::millis(self.clock.now());
        let lease = self.settings.lease.unsigned_abs();
        let owner = self.lease_owner().await?;
        let mut conn = self.store.acquire().await?;
        let mut rows = outbox::lease_due(
            &mut conn,
            self.store.backend(),
            &owner,
            now,
            lease.as_millis() as i64,
            limit.max(1),
        )
        .await?;
        if rows.is_empty() {
            return Ok(vec![Step::Idle(outbox::next_due(&mut conn).await?)]);
        }
        // The connection is not held across the sends (SQLite has only the one).
        drop(conn);
        rows.sort_by_key(|r| r.id);
        let mut steps = Vec::with_capacity(rows.len());
        let mut unsent = Vec::new();
        for row in rows {
            // A send takes at most the SMTP timeout, and the lease is at least twice that:
            // a send begun in the lease's first half ends inside it. The rest is given back.
            if leased_at.elapsed() > lease / 2 || stop() {
                unsent.push(row.id);
                continue;
            }
            let name = format!("{:06}-{}", row.id, row.purpose);
            let result = self
                .transport
                .send_raw(&name, &row.envelope_from, &row.recipients, &row.raw)
                .await;
            // Recorded at once, email by email: a crash re-sends at most the one in hand.
            let now = store::millis(self.clock.now());
            let mut conn = self.store.acquire().await?;
            steps.push(match result {
                Ok(()) => {
                    outbox::mark_sent(&mut conn, row.id, now).await?;
                    metrics::counter!(crate::telemetry::OUTBOX_SENT).increment(1);
                    tracing::info!(outbox.id = row.id, lead.id = row.lead_id, purpose = %row.purpose, to = ?row.recipients, "sent");
                    Step::Sent(row.id)
                }
                Err(e) => self.record_failure(&mut conn, &row, e, now).await?,
            });
        }
        if !unsent.is_empty() {
            let mut conn = self.store.acquire().await?;
            outbox::release(&mut conn, &owner, &unsent).await?;
        }
        if steps.is_empty() {
            // Every row was given back unsent: nothing was done, try again at once.
            steps.push(Step::Idle(Some(store::millis(self.clock.now()))));
        }
        Ok(steps)
    }

    async fn record_failure(
        &self,
        conn: &mut store::Conn,
        row: &outbox::Leased,
        e: transport::SendError,
        now: i64,
    ) -> anyhow::Result<Step> {
        if e.permanent || row.attempts + 1 >= self.settings.max_attempts as i64 {
            let why = if e.permanent {
                format!("permanent failure: {}", e.message)
            } else {
                format!("gave up after {} attempts: {}", row.attempts + 1, e.message)
            };
            outbox::mark_dead(conn, row.id, &why).await?;
            metrics::counter!(crate::telemetry::OUTBOX_DEAD).increment(1);
            tracing::error!(outbox.id = row.id, lead.id = row.lead_id, error = %why, "dead-lettered");
            Ok(Step::DeadLettered(row.id))
        } else {
            let wait = backoff(&self.settings, row.attempts);
            outbox::mark_retry(conn, row.id, now + wait.as_millis() as i64, &e.message).await?;
            metrics::counter!(crate::telemetry::OUTBOX_RETRIED).increment(1);
            tracing::warn!(outbox.id = row.id, lead.id = row.lead_id, error = %e.message, retry_in = %wait, "send failed, will retry");
            Ok(Step::Retried(row.id))
        }
    }

    /// Sends until nothing is due now (the demo and tests use this).
    pub async fn drain(&self) -> anyhow::Result<Vec<Step>> {
        let mut steps = Vec::new();
        loop {
            let some = self.steps(ROWS_PER_STEP, || false).await?;
            if let [Step::Idle(_)] = some.as_slice() {
                return Ok(steps);
            }
            steps.extend(some);
        }
    }

    /// The sender task: works while rows are due, then sleeps until the next due time,
    /// a wake-up from the pipeline, or shutdown.
    pub async fn run(&self, wake: Arc<Notify>, shutdown: CancellationToken) {
        let mut failures = 0u32;
        // On PostgreSQL another instance may die holding leases (or write rows without
        // waking us): look again within 5 s, so its rows go out at once. On SQLite this
        // process is the only daemon and the pipeline wakes us.
        let idle_max: i64 = match self.store.backend() {
            store::Backend::Sqlite => 60_000,
            store::Backend::Postgres => 5_000,
        };
        // Whether a step did something since the sender last went idle.
        let mut worked = false;
        loop {
            if shutdown.is_cancelled() {
                return;
            }
            let step = self.steps(ROWS_PER_STEP, || shutdown.is_cancelled()).await;
            let sleep_for = match step.as_deref() {
                Ok(&[Step::Idle(next)]) => {
                    failures = 0;
                    if std::mem::take(&mut worked) {
                        // Caught up (after an import, the last owner email is out).
                        if let Err(e) = self.store.release_memory().await {
                            tracing::debug!(error = %e, "cannot release the database's caches");
                        }
                    }
                    let now = store::millis(self.clock.now());
                    let ms = next
                        .map(|due| (due - now).clamp(0, idle_max))
                        .unwrap_or(idle_max);
                    std::time::Duration::from_millis(ms as u64)
                }
                Ok(_) => {
                    failures = 0;
                    worked = true;
                    continue;
                }
                Err(e) => {
                    failures += 1;
                    tracing::error!(error = %format!("{e:#}"), "outbox step failed");
                    std::time::Duration::from_secs(u64::from(failures.min(6)) * 5)
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = wake.notified() => {}
                _ = tokio::time::sleep(sleep_for) => {}
            }
        }
    }
}

/// Exponential backoff from `retry_after`, doubling per attempt, capped at `max_retry_after`.
pub fn backoff(s: &OutboxSettings, attempts_so_far: i64) -> SignedDuration {
    let factor = 2i64.saturating_pow(attempts_so_far.clamp(0, 30) as u32);
    let ms = s.retry_after.as_millis().saturating_mul(factor as i128);
    SignedDuration::from_millis(ms.min(s.max_retry_after.as_millis()) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let s = OutboxSettings {
            lease: SignedDuration::from_mins(2),
            max_attempts: 10,
            retry_after: SignedDuration::from_secs(10),
            max_retry_after: SignedDuration::from_mins(5),
            file_sink: None,
        };
        assert_eq!(backoff(&s, 0), SignedDuration::from_secs(10));
        assert_eq!(backoff(&s, 1), SignedDuration::from_secs(20));
        assert_eq!(backoff(&s, 3), SignedDuration::from_secs(80));
        assert_eq!(backoff(&s, 10), SignedDuration::from_mins(5));
        assert_eq!(backoff(&s, 1000), SignedDuration::from_mins(5));
    }
}
