//! Start-up for `leadgate run`: config → store → people sync → the daemon's tasks
//! (IMAP watcher, outbox sender), raced against SIGTERM/SIGINT.

use crate::clock::Clock;
use crate::config::Settings;
use crate::outbox::transport::Transport;
use crate::outbox::{smtp::SmtpSender, OutboxWorker};
use crate::pipeline::Pipeline;
use crate::source::imap::ImapStatus;
use crate::store::{self, Store};
use anyhow::Context;
use std::sync::Arc;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

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

pub async fn run(settings: Settings) -> anyhow::Result<()> {
    let clock = Clock::system();
    let store = Store::open(&settings.database_url).await?;
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
    let settings = Arc::new(settings);
    let shutdown = CancellationToken::new();
    let wake = Arc::new(Notify::new());
    let pipeline = Arc::new(Pipeline::new(
        store.clone(),
        settings.clone(),
        clock.clone(),
        wake.clone(),
    ));
    let worker = OutboxWorker::new(
        store.clone(),
        transport(&settings)?,
        settings.outbox.clone(),
        clock.clone(),
    );

    let mut tasks = tokio::task::JoinSet::new();
    {
        let (wake, shutdown) = (wake.clone(), shutdown.clone());
        tasks.spawn(async move { worker.run(wake, shutdown).await });
    }
    let imap_status = ImapStatus::new();
    if let Some(imap) = settings.imap.clone() {
        let (pipeline, shutdown, status, clock) = (
            pipeline.clone(),
            shutdown.clone(),
            imap_status.clone(),
            clock.clone(),
        );
        tasks.spawn(async move {
            if let Err(e) =
                crate::source::imap::watch(&imap, pipeline.as_ref(), &status, &clock, shutdown)
                    .await
            {
                tracing::error!(error = %format!("{e:#}"), "IMAP watcher stopped");
            }
        });
    } else {
        tracing::warn!(
            "no [imap] section: only the outbox runs (use `leadgate import` to feed mail)"
        );
    }
    tracing::info!(database = %store::redact(&settings.database_url), "leadgate running");
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Ready]);

    wait_for_signal().await;
    tracing::info!("shutting down: finishing the message in hand");
    let _ = sd_notify::notify(false, &[sd_notify::NotifyState::Stopping]);
    shutdown.cancel();
    let drain = async { while tasks.join_next().await.is_some() {} };
    if tokio::time::timeout(std::time::Duration::from_secs(20), drain)
        .await
        .is_err()
    {
        tracing::warn!(
            "tasks did not stop within 20 s; exiting anyway (the outbox resumes on next start)"
        );
    }
    store.close().await;
    Ok(())
}

async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
