//! The scheduler as a task of the daemon's leader: each desk swept in turn, its digests
//! when due, then the operator's digest; again every `sweep_every`.

use super::{digest, operator, sweep};
use crate::clock::Clock;
use crate::config::Settings;
use crate::store::{self, Store};
use std::sync::Arc;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// The leader's scheduler: every `sweep_every` (the shortest of the desks'), each desk in
/// turn is swept and gets its digests when due, then the operator's digest across desks.
/// One task for every desk: 50 desks are 50 short sweeps a minute, not 50 tasks racing for
/// the sweep lock.
pub async fn run(
    store: Store,
    desks: Arc<crate::config::Desks>,
    clock: Clock,
    outbox_wake: Arc<Notify>,
    shutdown: CancellationToken,
) {
    let every = desks
        .all
        .iter()
        .map(|s| s.sweep_every.as_millis() as i64)
        .min()
        .unwrap_or(60_000)
        .max(1_000);
    loop {
        for settings in &desks.all {
            if shutdown.is_cancelled() {
                return;
            }
            pass(&store, settings, &clock, &outbox_wake).await;
        }
        match operator::operator_scheduled(&store, &desks, clock.now()).await {
            Ok(true) => outbox_wake.notify_one(),
            Ok(false) => {}
            Err(e) => tracing::error!(error = %format!("{e:#}"), "operator digest failed"),
        }
        // The next whole period (a whole minute by default): sweeps line up with digest
        // times.
        let wait = every - (store::millis(clock.now()).rem_euclid(every)) + 50;
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(std::time::Duration::from_millis(wait as u64)) => {}
        }
    }
}

/// One desk's sweep and due digests.
async fn pass(store: &Store, settings: &Settings, clock: &Clock, outbox_wake: &Notify) {
    let store = store.clone();
    let desk = settings.desk.id.as_str();
    {
        let now = clock.now();
        match sweep(&store, settings, now, false, None).await {
            Ok(r) if r.skipped => {
                // Another sweep holds the lock (a `leadgate sweep` by hand, or a leader that
                // has not noticed it lost the lead): it covers this pass; the next is ours.
                tracing::warn!(
                    desk,
                    "sweep skipped: another sweep of this database is in progress"
                );
            }
            Ok(r) => {
                if r.queued_mail() {
                    outbox_wake.notify_one();
                }
                if !r.reminders.is_empty() || !r.opened.is_empty() || !r.closed.is_empty() {
                    tracing::info!(
                        desk,
                        sweep.scanned = r.scanned,
                        sweep.drifting = r.drifting,
                        sweep.opened = r.opened.len(),
                        sweep.closed = r.closed.len(),
                        sweep.reminders = r.reminders.len(),
                        sweep.moved = r.moved.len(),
                        "sweep"
                    );
                }
            }
            Err(e) => tracing::error!(desk, error = %format!("{e:#}"), "sweep failed"),
        }
        match digest::scheduled(&store, settings, now).await {
            Ok(true) => outbox_wake.notify_one(),
            Ok(false) => {}
            Err(e) => tracing::error!(desk, error = %format!("{e:#}"), "digest failed"),
        }
    }
}
