//! Delivery of what the pipeline decided to send. Each step leases one due row, hands it
//! to the [`transport::Transport`], and records the outcome: sent, retried later with
//! exponential backoff (transient failures), or dead-lettered (permanent failures or too
//! many attempts). Nothing is deleted: a dead row stays listable with its last error.

pub mod render;
pub mod smtp;
pub mod transport;

use crate::clock::Clock;
use crate::config::OutboxSettings;
use crate::store::{self, outbox, Store};
use jiff::SignedDuration;
use std::sync::Arc;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use transport::Transport;

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
    /// Unique per process, so a lease names its holder.
    worker_id: String,
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
        }
    }

    pub async fn step(&self) -> anyhow::Result<Step> {
        let now = store::millis(self.clock.now());
        let leased = {
            let mut tx = self.store.begin().await?;
            let row = outbox::lease_next(
                &mut tx,
                self.store.backend(),
                &self.worker_id,
                now,
                self.settings.lease.as_millis() as i64,
            )
            .await?;
            tx.commit().await?;
            row
        };
        let Some(row) = leased else {
            let mut conn = self.store.acquire().await?;
            return Ok(Step::Idle(outbox::next_due(&mut conn).await?));
        };
        let name = format!("{:06}-{}", row.id, row.purpose);
        let result = self
            .transport
            .send_raw(&name, &row.envelope_from, &row.recipients, &row.raw)
            .await;
        let now = store::millis(self.clock.now());
        let mut conn = self.store.acquire().await?;
        match result {
            Ok(()) => {
                outbox::mark_sent(&mut conn, row.id, now).await?;
                metrics::counter!(crate::telemetry::OUTBOX_SENT).increment(1);
                tracing::info!(outbox.id = row.id, lead.id = row.lead_id, purpose = %row.purpose, to = ?row.recipients, "sent");
                Ok(Step::Sent(row.id))
            }
            Err(e) if e.permanent || row.attempts + 1 >= self.settings.max_attempts as i64 => {
                let why = if e.permanent {
                    format!("permanent failure: {}", e.message)
                } else {
                    format!("gave up after {} attempts: {}", row.attempts + 1, e.message)
                };
                outbox::mark_dead(&mut conn, row.id, &why).await?;
                metrics::counter!(crate::telemetry::OUTBOX_DEAD).increment(1);
                tracing::error!(outbox.id = row.id, lead.id = row.lead_id, error = %why, "dead-lettered");
                Ok(Step::DeadLettered(row.id))
            }
            Err(e) => {
                let wait = backoff(&self.settings, row.attempts);
                outbox::mark_retry(&mut conn, row.id, now + wait.as_millis() as i64, &e.message)
                    .await?;
                metrics::counter!(crate::telemetry::OUTBOX_RETRIED).increment(1);
                tracing::warn!(outbox.id = row.id, lead.id = row.lead_id, error = %e.message, retry_in = %wait, "send failed, will retry");
                Ok(Step::Retried(row.id))
            }
        }
    }

    /// Sends until nothing is due now (the demo and tests use this).
    pub async fn drain(&self) -> anyhow::Result<Vec<Step>> {
        let mut steps = Vec::new();
        loop {
            match self.step().await? {
                Step::Idle(_) => return Ok(steps),
                s => steps.push(s),
            }
        }
    }

    /// The sender task: works while rows are due, then sleeps until the next due time,
    /// a wake-up from the pipeline, or shutdown.
    pub async fn run(&self, wake: Arc<Notify>, shutdown: CancellationToken) {
        let mut failures = 0u32;
        loop {
            if shutdown.is_cancelled() {
                return;
            }
            let sleep_for = match self.step().await {
                Ok(Step::Idle(next)) => {
                    failures = 0;
                    let now = store::millis(self.clock.now());
                    let ms = next
                        .map(|due| (due - now).clamp(0, 60_000))
                        .unwrap_or(60_000);
                    std::time::Duration::from_millis(ms as u64)
                }
                Ok(_) => {
                    failures = 0;
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
