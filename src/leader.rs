//! Leader election: of several instances sharing one PostgreSQL database, exactly one at a
//! time runs the tasks that must not run twice (the IMAP watcher, the scheduler). On
//! SQLite (one instance) this instance always leads.

use crate::store::{locks::LeaderSession, Backend, Store};
use std::future::Future;
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// How often a follower tries to take the lead, and the leader checks its lock connection.
/// A dead leader's connection closes at once, so its successor starts within this.
pub const LEADER_RETRY: Duration = Duration::from_secs(5);

/// Whether this instance is the leader: the one that runs the IMAP watcher and the
/// scheduler. Cheap to clone; every clone sees changes.
///
/// On SQLite it is always the leader. On PostgreSQL it leads while it holds a session
/// advisory lock on a dedicated connection; when that connection dies (the process was
/// killed, the network broke) the lock is released by the server and another instance
/// takes over within [`LEADER_RETRY`].
///
/// Gate a task on it with [`while_leader`]; or read [`Leadership::is_leader`] at a safe
/// point, or await [`Leadership::changed`].
#[derive(Clone, Debug)]
pub struct Leadership {
    rx: watch::Receiver<bool>,
}

impl Leadership {
    /// A leadership that never changes (SQLite, tests, one-shot commands).
    pub fn always() -> Leadership {
        let (tx, rx) = watch::channel(true);
        // The receiver keeps the last value after the sender is gone.
        drop(tx);
        Leadership { rx }
    }

    /// Starts the election for `store`: [`Leadership::always`] on SQLite; on PostgreSQL a
    /// task that holds the advisory lock on its own connection until `shutdown`.
    pub fn start(store: &Store, url: &str, shutdown: CancellationToken) -> Leadership {
        match store.backend() {
            Backend::Sqlite => {
                metrics::gauge!(crate::telemetry::LEADER).set(1.0);
                Leadership::always()
            }
            Backend::Postgres => {
                let (tx, rx) = watch::channel(false);
                tokio::spawn(elect(url.to_owned(), tx, shutdown));
                Leadership { rx }
            }
        }
    }

    pub fn is_leader(&self) -> bool {
        *self.rx.borrow()
    }

    /// Waits until leadership changes to `leader`; returns at once if it already is.
    /// Returns false if the election ended (shutdown) before that.
    pub async fn wait_for(&mut self, leader: bool) -> bool {
        self.rx.wait_for(|&l| l == leader).await.is_ok()
    }

    /// Waits for the next change; false once the election has ended.
    pub async fn changed(&mut self) -> bool {
        self.rx.changed().await.is_ok()
    }
}

/// Runs `task` while this instance leads: started when leadership is gained, given a token
/// that is cancelled when leadership is lost or at `shutdown`, and started again (a new
/// call of `task`) on the next gain. Returns after `shutdown`, once the task has returned.
///
/// The task must stop at a safe point soon after its token is cancelled: the new leader
/// may already be starting. (For the IMAP watcher an overlap is harmless: messages are
/// deduplicated in the database.)
pub async fn while_leader<F, Fut>(
    mut leadership: Leadership,
    shutdown: CancellationToken,
    name: impl Into<std::borrow::Cow<'static, str>>,
    mut task: F,
) where
    F: FnMut(CancellationToken) -> Fut,
    Fut: Future<Output = ()>,
{
    let name = name.into();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            ok = leadership.wait_for(true) => if !ok { return },
        }
        tracing::info!(task = %name, "leader: starting");
        let stop = shutdown.child_token();
        let run = task(stop.clone());
        tokio::pin!(run);
        let mut lost = false;
        // False once the election has ended (a fixed leadership, or shutdown).
        let mut watching = true;
        loop {
            tokio::select! {
                _ = &mut run => break,
                ok = leadership.wait_for(false), if watching => {
                    watching = false;
                    if ok {
                        tracing::warn!(task = %name, "leadership lost: stopping");
                        lost = true;
                        stop.cancel();
                    }
                }
            }
        }
        if shutdown.is_cancelled() {
            return;
        }
        if !lost {
            // The task ended by itself (a setting no retry fixes): do not spin on it.
            tracing::error!(task = %name, "task ended while leading; not restarted");
            return;
        }
    }
}

/// Holds `pg_try_advisory_lock` on a connection of its own, retrying every
/// [`LEADER_RETRY`]; publishes whether it holds it. Gives the lock up at `shutdown`.
async fn elect(url: String, tx: watch::Sender<bool>, shutdown: CancellationToken) {
    let mut leading = false;
    let mut session: Option<LeaderSession> = None;
    loop {
        let attempt = async {
            if session.is_none() {
                session = Some(LeaderSession::connect(&url).await?);
            }
            let c = session.as_mut().expect("just connected");
            if leading {
                c.ping().await?;
                Ok(true)
            } else {
                c.try_lock().await
            }
        };
        let result = tokio::select! {
            _ = shutdown.cancelled() => break,
            r = tokio::time::timeout(LEADER_RETRY, attempt) => r,
        };
        match result {
            Ok(Ok(true)) if !leading => {
                leading = true;
                tracing::info!("leader: holding the database's leader lock");
                metrics::gauge!(crate::telemetry::LEADER).set(1.0);
                let _ = tx.send(true);
            }
            Ok(Ok(_)) => {}
            Ok(Err(_)) | Err(_) => {
                let why = match result {
                    Ok(Err(e)) => e.to_string(),
                    _ => "no answer within 5 s".to_owned(),
                };
                if leading {
                    tracing::warn!(error = %why, "leader lock connection lost: stepping down");
                    metrics::gauge!(crate::telemetry::LEADER).set(0.0);
                    let _ = tx.send(false);
                } else {
                    tracing::debug!(error = %why, "leader election: cannot reach the database");
                }
                leading = false;
                session = None;
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(LEADER_RETRY) => {}
        }
    }
    let _ = tx.send(false);
    if let Some(c) = session {
        // Closing the session frees the lock for the next leader at once.
        let _ = tokio::time::timeout(Duration::from_secs(2), c.close()).await;
    }
}
