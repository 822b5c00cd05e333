//! Start-up and shutdown of `leadgate run`: config → store → people sync → the daemon's
//! tasks (leader election, IMAP watcher, outbox sender, HTTP endpoint, systemd watchdog),
//! raced against SIGTERM/SIGINT.
//!
//! Several instances may share one PostgreSQL database: each delivers the outbox (rows are
//! leased with `FOR UPDATE SKIP LOCKED`), and exactly one at a time, the leader, runs the
//! tasks that must not run twice (the IMAP watcher, the scheduler). See [`crate::leader`].
//! SQLite is single-instance: a lock file beside the database refuses a second daemon.
//!
//! Shutdown, in order: stop taking new mail (the watcher finishes the message in hand and
//! leaves the rest in the mailbox), flush the outbox for at most [`FLUSH_FOR`] (never
//! cutting a send in half), release leadership, close the database.

use crate::clock::Clock;
use crate::config::{Desks, Inbox, Settings};
use crate::leader::{while_leader, Leadership};
use crate::outbox::transport::Transport;
use crate::outbox::{smtp::SmtpSender, OutboxWorker, Step};
use crate::pipeline::Intake;
use crate::source::imap::ImapStatus;
use crate::store::{self, Backend, Store};
use anyhow::Context;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// How long shutdown keeps delivering due outbox rows after intake has stopped.
pub const FLUSH_FOR: Duration = Duration::from_secs(10);
/// How long the intake tasks get to finish the message in hand.
const INTAKE_STOP: Duration = Duration::from_secs(20);

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

/// Runs the daemon until `shutdown` completes (the CLI passes [`signals`]: SIGTERM or
/// SIGINT), then stops in the order the module comment gives. Taking the signal as an
/// argument (as mini-redis's `server::run` does) lets a caller stop it without a signal.
pub async fn run(desks: Desks, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let clock = Clock::system();
    // What every desk shares (database, IMAP login, SMTP, outbox, HTTP) is read here.
    let settings = desks.shared().clone();
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
        for s in &desks.all {
            store::state::sync_people(&mut tx, &s.desk.id, &s.people, store::millis(clock.now()))
                .await?;
            // A person removed from the config leaves their open leads orphaned: say so once.
            let orphaned = crate::ops::mark_orphans(&mut tx, s, clock.now()).await?;
            if !orphaned.is_empty() {
                tracing::warn!(desk = %s.desk.id, leads = ?orphaned, "open leads orphaned: their owner left the team");
            }
        }
        tx.commit().await.context("Failed to sync the team")?;
    }
    {
        // A desk file removed or renamed leaves its leads behind: say so at every start
        // (the operator's digest lists them too).
        let mut conn = store.acquire().await?;
        for u in crate::scheduler::operator::unfiled(&mut conn, &desks).await? {
            tracing::warn!(
                desk = %u.desk,
                live = u.live,
                "live leads of a desk no desk file names: they are not swept, reminded or digested until desks/{}.toml is back",
                u.desk
            );
        }
    }
    let metrics = crate::telemetry::install_metrics();
    let desks = Arc::new(desks);
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
    let pipelines = Intake::pipelines(&desks, &store, &clock, &wake);
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
    // One watcher per mailbox: the shared `[imap]` mailbox (desks by recipient alias), a
    // desk's folder of it, a desk's account of its own. Each with IDLE, catch-up,
    // checkpoint and reconnect, as one mailbox always had.
    let mut watchers = Vec::new();
    if let Some(imap) = settings.imap.clone() {
        let feed = Intake::shared(&desks, pipelines.clone(), &store);
        watchers.push(("imap watcher".to_owned(), imap, feed));
    }
    for (i, s) in desks.all.iter().enumerate() {
        match (&s.desk.inbox, &settings.imap) {
            (Inbox::Folder(folder), Some(shared)) => {
                let imap = crate::config::ImapSettings {
                    mailbox: folder.clone(),
                    ..shared.clone()
                };
                let feed = Intake::desk(pipelines.clone(), i, None);
                watchers.push((format!("imap watcher of desk {}", s.desk.id), imap, feed));
            }
            (Inbox::Folder(_), None) => tracing::warn!(
                desk = %s.desk.id,
                "the desk's inbox is a folder of the shared [imap] account, which is not configured"
            ),
            (Inbox::Account(imap), _) => {
                let feed = Intake::desk(pipelines.clone(), i, Some(&s.desk.id));
                let name = format!("imap watcher of desk {}", s.desk.id);
                watchers.push((name, (**imap).clone(), feed));
            }
            _ => {}
        }
    }
    // /healthz reports every watcher; `imap` there is the first (the shared mailbox's).
    let imap_status = ImapStatus::new();
    let mut statuses = Vec::new();
    if watchers.is_empty() {
        tracing::warn!(
            "no [imap] section: only the outbox runs (use `leadgate import` to feed mail)"
        );
    }
    for (n, (name, imap, feed)) in watchers.into_iter().enumerate() {
        let status = if n == 0 {
            imap_status.clone()
        } else {
            ImapStatus::new()
        };
        statuses.push((name.clone(), status.clone()));
        let clock = clock.clone();
        let label = name.clone();
        let task = move |stop: CancellationToken| {
            let (imap, feed, status, clock, label) = (
                imap.clone(),
                feed.clone(),
                status.clone(),
                clock.clone(),
                label.clone(),
            );
            async move {
                if let Err(e) =
                    crate::source::imap::watch(&imap, &feed, &status, &clock, stop).await
                {
                    tracing::error!(watcher = %label, error = %format!("{e:#}"), "IMAP watcher stopped");
                }
            }
        };
        intake_tasks.spawn(while_leader(leadership.clone(), intake.clone(), name, task));
    }
    {
        // The scheduler: drift sweeps every `sweep_every`, digests at their times; on the leader.
        let (store, desks, clock, wake) =
            (store.clone(), desks.clone(), clock.clone(), wake.clone());
        let task = move |stop: CancellationToken| {
            let (store, desks, clock, wake) =
                (store.clone(), desks.clone(), clock.clone(), wake.clone());
            async move { crate::scheduler::run(store, desks, clock, wake, stop).await }
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
                desks: desks.clone(),
                clock: clock.clone(),
                imap: settings.imap.as_ref().map(|_| imap_status.clone()),
                watchers: statuses.clone(),
                leadership: leadership.clone(),
                metrics,
                wake: wake.clone(),
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

    watchdog_until(&store, shutdown).await;

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

/// Completes on SIGTERM or SIGINT: the daemon's shutdown under systemd or at a terminal.
pub async fn signals() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

/// Waits for `shutdown`; meanwhile, when systemd asked for a watchdog, sends WATCHDOG=1
/// every half period while the runtime turns and the database answers (a hung database or
/// a wedged runtime makes systemd restart us).
async fn watchdog_until(store: &Store, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    let mut usec = 0u64;
    let period = if sd_notify::watchdog_enabled(false, &mut usec) {
        Duration::from_micros(usec / 2)
    } else {
        Duration::from_secs(3600)
    };
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            _ = tokio::time::sleep(period) => {
                let alive = tokio::time::timeout(period, store.ping()).await;
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
