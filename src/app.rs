//! Start-up and shutdown of `leadgate run`: config → store → people sync → the daemon's
//! tasks (leader election, IMAP watcher, outbox sender, HTTP endpoint, systemd watchdog),
//! raced against SIGTERM/SIGINT.
//!
//! Several instances may share one PostgreSQL database: each delivers the outbox (rows are
//! leased with `FOR UPDATE SKIP LOCKED`), and exactly one at a time, the leader, runs the
//! tasks that must not run twice (the IMAP watcher, the scheduler). See [`Leadership`].
//! SQLite is single-instance: a lock file beside the database refuses a second daemon.
//!
//! Shutdown, in order: stop taking new mail (the watcher finishes the message in hand and
//! leaves the rest in the mailbox), flush the outbox for at most [`FLUSH_FOR`] (never
//! cutting a send in half), release leadership, close the database.

use crate::clock::Clock;
use crate::config::Settings;
use crate::outbox::transport::Transport;
use crate::outbox::{smtp::SmtpSender, OutboxWorker, Step};
use crate::pipeline::Pipeline;
use crate::source::imap::ImapStatus;
use crate::store::{self, Backend, Store};
use anyhow::Context;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify};
use tokio_util::sync::CancellationToken;

/// How long shutdown keeps delivering due outbox rows after intake has stopped.
pub const FLUSH_FOR: Duration = Duration::from_secs(10);
/// How long the intake tasks get to finish the message in hand.
const INTAKE_STOP: Duration = Duration::from_secs(20);
/// How often a follower tries to take the lead, and the leader checks its lock connection.
/// A dead leader's connection closes at once, so its successor starts within this.
pub const LEADER_RETRY: Duration = Duration::from_secs(5);

/// The outbound transport the settings ask for: the file sink when configured, else SMTP.
pub fn transport(settings: &Settings) -> anyhow::Result<Transport> {
    if let Some(dir) = &settings.outbox.file_sink {
        return Ok(Transport::Files(dir.clone()));
    }
    let smtp = settings
        .smtp
        .as_ref()
        .context("no [smtp] section and no [outbox] file_sink")?;
    Ok(Transport::Smtp(SmtpSender::new(smtp)?))
}

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
    name: &'static str,
    mut task: F,
) where
    F: FnMut(CancellationToken) -> Fut,
    Fut: Future<Output = ()>,
{
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            ok = leadership.wait_for(true) => if !ok { return },
        }
        tracing::info!(task = name, "leader: starting");
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
                        tracing::warn!(task = name, "leadership lost: stopping");
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
            tracing::error!(task = name, "task ended while leading; not restarted");
            return;
        }
    }
}

/// Holds `pg_try_advisory_lock` on a connection of its own, retrying every
/// [`LEADER_RETRY`]; publishes whether it holds it. Gives the lock up at `shutdown`.
async fn elect(url: String, tx: watch::Sender<bool>, shutdown: CancellationToken) {
    use sqlx::Connection;
    let mut leading = false;
    let mut conn: Option<sqlx::AnyConnection> = None;
    loop {
        let attempt = async {
            if conn.is_none() {
                let mut c = sqlx::AnyConnection::connect(&url).await?;
                // If this host vanishes without closing the socket, the server ends the
                // session (and so frees the lock) after this; we ping every 5 s. PG 14+.
                let _ = sqlx::query("SET idle_session_timeout = '20s'")
                    .execute(&mut c)
                    .await;
                conn = Some(c);
            }
            let c = conn.as_mut().expect("just connected");
            if leading {
                sqlx::query("SELECT 1").execute(&mut *c).await?;
                Ok::<bool, sqlx::Error>(true)
            } else {
                let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
                    .bind(store::locks::LEADER)
                    .fetch_one(&mut *c)
                    .await?;
                Ok(got)
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
                conn = None;
            }
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = tokio::time::sleep(LEADER_RETRY) => {}
        }
    }
    let _ = tx.send(false);
    if let Some(c) = conn {
        // Closing the session frees the lock for the next leader at once.
        let _ = tokio::time::timeout(Duration::from_secs(2), c.close()).await;
    }
}

pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let clock = Clock::system();
    // Held until the end of `run`: a second daemon on the same SQLite file is refused.
    let _instance = store::single_instance(&settings.database_url)?;
    let store = Store::open(&settings.database_url).await?;
    if store.backend() == Backend::Sqlite {
        // We hold the instance lock file: the daemon that leased these is dead, so its
        // emails go out now instead of when their lease runs out.
        let mut conn = store.acquire().await?;
        let n = store::outbox::reclaim_dead_daemon_leases(&mut conn)
            .await
            .context("Failed to take back the outbox leases of a dead daemon")?;
        if n > 0 {
            tracing::info!(
                outbox.reclaimed = n,
                "took back emails a dead daemon had leased"
            );
        }
    }
    {
        let mut tx = store.begin().await?;
        store::state::sync_people(&mut tx, &settings.people, store::millis(clock.now())).await?;
        // A person removed from the config leaves their open leads orphaned: say so once.
        let orphaned = crate::ops::mark_orphans(&mut tx, &settings, clock.now()).await?;
        tx.commit().await.context("Failed to sync the team")?;
        if !orphaned.is_empty() {
            tracing::warn!(leads = ?orphaned, "open leads orphaned: their owner left the team");
        }
    }
    let metrics = crate::telemetry::install_metrics();
    let settings = Arc::new(settings);
    // `intake`: the tasks that take in work (watcher, scheduler); they stop first.
    let intake = CancellationToken::new();
    // `sending`: the outbox task's own loop; stopped after intake, then flushed.
    let sending = CancellationToken::new();
    // `electing`: the leader election; ended once intake has stopped, so that another
    // instance can take over the watcher while this one flushes its outbox.
    let electing = CancellationToken::new();
    // `serving`: the HTTP endpoint, which outlives the rest.
    let serving = CancellationToken::new();
    let wake = Arc::new(Notify::new());
    let pipeline = Arc::new(Pipeline::new(
        store.clone(),
        settings.clone(),
        clock.clone(),
        wake.clone(),
    ));
    let worker = Arc::new(
        OutboxWorker::new(
            store.clone(),
            transport(&settings)?,
            settings.outbox.clone(),
            clock.clone(),
        )
        .for_daemon(),
    );
    let leadership = Leadership::start(&store, &settings.database_url, electing.clone());

    let outbox_task = {
        let (worker, wake, sending) = (worker.clone(), wake.clone(), sending.clone());
        tokio::spawn(async move { worker.run(wake, sending).await })
    };
    let mut intake_tasks = tokio::task::JoinSet::new();
    let imap_status = ImapStatus::new();
    if let Some(imap) = settings.imap.clone() {
        let (pipeline, status, clock) = (pipeline.clone(), imap_status.clone(), clock.clone());
        let task = move |stop: CancellationToken| {
            let (imap, pipeline, status, clock) = (
                imap.clone(),
                pipeline.clone(),
                status.clone(),
                clock.clone(),
            );
            async move {
                if let Err(e) =
                    crate::source::imap::watch(&imap, pipeline.as_ref(), &status, &clock, stop)
                        .await
                {
                    tracing::error!(error = %format!("{e:#}"), "IMAP watcher stopped");
                }
            }
        };
        intake_tasks.spawn(while_leader(
            leadership.clone(),
            intake.clone(),
            "imap watcher",
            task,
        ));
    } else {
        tracing::warn!(
            "no [imap] section: only the outbox runs (use `leadgate import` to feed mail)"
        );
    }
    {
        // The scheduler: drift sweeps every `sweep_every`, digests at their times; on the leader.
        let (store, settings, clock, wake) =
            (store.clone(), settings.clone(), clock.clone(), wake.clone());
        let task = move |stop: CancellationToken| {
            let (store, settings, clock, wake) =
                (store.clone(), settings.clone(), clock.clone(), wake.clone());
            async move { crate::scheduler::run(store, settings, clock, wake, stop).await }
        };
        intake_tasks.spawn(while_leader(
            leadership.clone(),
            intake.clone(),
            "scheduler",
            task,
        ));
    }
    let http_task = match settings.http.listen {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("http.listen: cannot listen on {addr}"))?;
            tracing::info!(http.listen = %listener.local_addr()?, "HTTP endpoint listening");
            let state = crate::http::State {
                store: store.clone(),
                settings: settings.clone(),
                clock: clock.clone(),
                imap: settings.imap.as_ref().map(|_| imap_status.clone()),
                leadership: leadership.clone(),
                metrics,
            };
            let serving = serving.clone();
            Some(tokio::spawn(async move {
                if let Err(e) = crate::http::serve(listener, state, serving).await {
                    tracing::error!(error = %format!("{e:#}"), "HTTP endpoint stopped");
                }
            }))
        }
        None => None,
    };
    tracing::info!(database = %store::redact(&settings.database_url), "leadgate running");
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]);

    watchdog_until_signal(&store).await;

    tracing::info!("shutting down: finishing the message in hand");
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
    intake.cancel();
    let stopped = tokio::time::timeout(INTAKE_STOP, async {
        while intake_tasks.join_next().await.is_some() {}
    })
    .await;
    if stopped.is_err() {
        tracing::warn!("intake did not stop within 20 s; abandoning it (its transaction rolls back, the mail stays in the mailbox)");
        intake_tasks.abort_all();
    }
    electing.cancel();
    sending.cancel();
    let _ = outbox_task.await;
    flush(&worker, FLUSH_FOR).await;
    serving.cancel();
    if let Some(h) = http_task {
        let _ = tokio::time::timeout(Duration::from_secs(2), h).await;
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Delivers what is due for at most `bound`, between whole steps: a send in progress is
/// finished and recorded, never cut off. What remains goes out on the next start.
async fn flush(worker: &OutboxWorker, bound: Duration) {
    let deadline = Instant::now() + bound;
    let mut sent = 0;
    while Instant::now() < deadline {
        match worker.step().await {
            Ok(Step::Idle(_)) => break,
            Ok(Step::Sent(_)) => sent += 1,
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "outbox flush stopped");
                break;
            }
        }
    }
    let left = Instant::now() >= deadline;
    tracing::info!(
        sent,
        more_left = left,
        "outbox flushed{}",
        if left {
            " (time bound reached; the rest goes out on next start)"
        } else {
            ""
        }
    );
}

/// Waits for SIGTERM or SIGINT; meanwhile, when systemd asked for a watchdog, sends
/// WATCHDOG=1 every half period while the runtime turns and the database answers (a hung
/// database or a wedged runtime makes systemd restart us).
async fn watchdog_until_signal(store: &Store) {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut usec = 0u64;
    let period = if sd_notify::watchdog_enabled(false, &mut usec) {
        Duration::from_micros(usec / 2)
    } else {
        Duration::from_secs(3600)
    };
    loop {
        tokio::select! {
            _ = term.recv() => return,
            _ = tokio::signal::ctrl_c() => return,
            _ = tokio::time::sleep(period) => {
                let alive = tokio::time::timeout(period, async {
                    let mut c = store.acquire().await?;
                    sqlx::query("SELECT 1").execute(&mut *c).await
                })
                .await;
                match alive {
                    Ok(Ok(_)) => {
                        let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Watchdog]);
                    }
                    _ => tracing::warn!("watchdog: the database does not answer; not petting"),
                }
            }
        }
    }
}
