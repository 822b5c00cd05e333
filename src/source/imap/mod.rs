//! The IMAP watcher: IDLE (re-issued), catch-up `UID SEARCH` after every connect, polling
//! for servers without IDLE, reconnect with backoff. Checkpoints by UIDVALIDITY + UID,
//! never by `\Seen`; never deletes or expunges; flags or moves only after commit.
//!
//! The only module that speaks IMAP. It owns the connection (TLS, STARTTLS or plain), the
//! position in the mailbox while connected, and the after-processing marks; the durable
//! checkpoint belongs to the [`Ingest`], which writes it with each message.
//!
//! `status.rs`: what `/healthz` sees of the watcher; `connect.rs`: TCP, TLS, STARTTLS and
//! LOGIN; `fetch.rs`: fetching in bounded batches, ingesting, marking after commit.

use super::{Checkpoint, Ingest, Origin};
use crate::clock::Clock;
use crate::config::{AfterProcessing, ImapSettings, StartFrom, TlsMode};
use anyhow::{anyhow, bail, Context};
use async_imap::extensions::idle::IdleResponse;
use async_imap::types::UnsolicitedResponse;
use futures::TryStreamExt;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::TlsConnector;
use tokio_util::sync::CancellationToken;

/// UIDs per `UID FETCH`: large enough that a backlog streams, small enough to bound memory.
const FETCH_BATCH: usize = 200;
/// At most this many bytes of bodies per `UID FETCH` (one bigger message goes alone).
const FETCH_BYTES: u64 = 32 * 1024 * 1024;
/// Connect, TLS, LOGIN, SELECT and short commands.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// One `UID FETCH` batch of bodies.
const FETCH_TIMEOUT: Duration = Duration::from_secs(300);
const BACKOFF_FIRST: Duration = Duration::from_secs(1);
const BACKOFF_CAP: Duration = Duration::from_secs(120);
/// While the server cannot be reached at all (no TCP connection), it is tried at least this
/// often: a refused connect costs it nothing, and a server back from a restart or an
/// outage is seen within this. A server that answers but refuses (LOGIN, SELECT) backs off
/// to [`BACKOFF_CAP`]: a login every few seconds is what lockouts are made of.
const PROBE_EVERY: Duration = Duration::from_secs(4);
/// Pause between attempts at one failing message.
const RETRY_FIRST: Duration = Duration::from_millis(200);
const RETRY_CAP: Duration = Duration::from_secs(10);

mod connect;
mod fetch;
mod status;

use connect::tls_connector;
use fetch::{highest_uid, is_atom};
pub use status::ImapStatus;

/// Watches `settings.mailbox` until `shutdown` is cancelled, handing every new message to
/// `ingest` in UID order.
///
/// - First connect without a checkpoint: `StartFrom::Now` records (UIDVALIDITY, UIDNEXT-1)
///   and processes nothing old; `Ago(d)` processes mail with an internal date since then;
///   `All` processes everything.
/// - After every (re)connect a catch-up `UID SEARCH UID n:*` fetches what arrived meanwhile
///   (`BODY.PEEK[]`, so `\Seen` is never set), in batches of 200.
/// - When the ingest batches ([`Ingest::BATCHES`]), the messages of one fetch batch are
///   ingested in one transaction; if it fails, one at a time (a poison message is then
///   retried and skipped on its own). A single new message is ingested at once, alone.
/// - Then IDLE, re-issued every `idle_renew`; without IDLE (or with `idle = false`) a poll
///   every `poll`.
/// - After `ingest` returns Ok the message gets `settings.keyword` (`+FLAGS.SILENT`) or is
///   moved (`UID MOVE`, the folder is created if missing), per `settings.after`. Nothing is
///   ever deleted or expunged.
/// - A message whose ingest fails `max_attempts` times in a row is skipped (logged with its
///   UID; the checkpoint moves past it through [`Ingest::set_checkpoint`]).
/// - A UIDVALIDITY change resets the checkpoint to the new UIDVALIDITY and takes all mail as
///   new (the ingest dedupes by Message-ID and body hash).
/// - Any connection or protocol error is logged and followed by a reconnect with
///   exponential backoff (1 s doubling to 2 min; at most 4 s while the server cannot be
///   reached at all, see [`reconnect_wait`]).
///
/// Returns Ok when `shutdown` is cancelled (checked between messages, and IDLE or the poll
/// sleep is interrupted at once); Err only for a setting no retry can fix (an unreadable
/// `ca_file`, a keyword that is not an IMAP atom).
pub async fn watch<I: Ingest>(
    settings: &ImapSettings,
    ingest: &I,
    status: &ImapStatus,
    clock: &Clock,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let tls = match settings.tls {
        TlsMode::None => None,
        _ => Some(tls_connector(settings.ca_file.as_deref())?),
    };
    if !is_atom(&settings.keyword) {
        bail!(
            "imap.keyword {:?} is not an IMAP keyword (letters, digits, $ and a few marks; no spaces or parentheses)",
            settings.keyword
        );
    }
    let mut watcher = Watcher {
        settings,
        ingest,
        status,
        clock,
        shutdown: &shutdown,
        tls,
        failures: HashMap::new(),
        warned_no_move: false,
        reached: AtomicBool::new(false),
    };
    let mut backoff = BACKOFF_FIRST;
    loop {
        if shutdown.is_cancelled() {
            return Ok(());
        }
        let mut progressed = false;
        watcher.reached.store(false, Ordering::SeqCst);
        let result = watcher.session(&mut progressed).await;
        status.set_connected(false);
        let wait = match result {
            Ok(()) => return Ok(()),
            Err(e) => {
                if progressed {
                    backoff = BACKOFF_FIRST;
                }
                let wait = reconnect_wait(backoff, watcher.reached.load(Ordering::SeqCst));
                let e = format!("{e:#}");
                tracing::warn!(
                    imap.server = %format!("{}:{}", settings.host, settings.port),
                    error = %e,
                    retry_in_ms = wait.as_millis() as u64,
                    "IMAP connection failed; reconnecting"
                );
                status.failed(e);
                metrics::counter!(crate::telemetry::IMAP_RECONNECTS).increment(1);
                wait
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tokio::time::sleep(wait) => {}
        }
        backoff = (backoff * 2).min(BACKOFF_CAP);
    }
}

/// The wait before the next connection attempt: `backoff` (doubling from 1 s to 2 min), but
/// at most [`PROBE_EVERY`] when the last attempt could not even connect.
fn reconnect_wait(backoff: Duration, reached: bool) -> Duration {
    if reached {
        backoff
    } else {
        backoff.min(PROBE_EVERY)
    }
}

/// Anything async-imap can run over: a TCP stream, with or without TLS.
trait Io: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug> Io for T {}
type Session = async_imap::Session<Box<dyn Io>>;

struct Watcher<'a, I> {
    settings: &'a ImapSettings,
    ingest: &'a I,
    status: &'a ImapStatus,
    clock: &'a Clock,
    shutdown: &'a CancellationToken,
    tls: Option<TlsConnector>,
    /// Failed attempts per (UIDVALIDITY, UID); kept across reconnects so a poison message
    /// cannot reset its count by breaking the connection.
    failures: HashMap<(u32, u32), u32>,
    warned_no_move: bool,
    /// Whether this connection attempt got a TCP connection (see [`reconnect_wait`]).
    reached: AtomicBool,
}

/// How the wait between passes ended.
enum Woke {
    Again,
    Shutdown,
}

impl<I: Ingest> Watcher<'_, I> {
    /// One connection's life. Ok = shutdown; Err = reconnect. `progressed` is set once a
    /// catch-up pass has completed, so the caller can reset its backoff.
    async fn session(&mut self, progressed: &mut bool) -> anyhow::Result<()> {
        let s = self.settings;
        // Nothing is in flight while connecting: shutdown may cut it short.
        let mut session = tokio::select! {
            _ = self.shutdown.cancelled() => return Ok(()),
            session = self.connect() => session?,
        };
        let caps = timed("CAPABILITY", session.capabilities()).await?;
        let can_idle = caps.has_str("IDLE");
        let can_move = caps.has_str("MOVE");
        let mailbox = timed("SELECT", session.select(&s.mailbox))
            .await
            .with_context(|| format!("cannot select mailbox {:?}", s.mailbox))?;
        let uidvalidity = mailbox
            .uid_validity
            .ok_or_else(|| anyhow!("the server sent no UIDVALIDITY for {:?}", s.mailbox))?;
        if s.after == AfterProcessing::Keyword
            && !mailbox
                .permanent_flags
                .iter()
                .any(|f| matches!(f, async_imap::types::Flag::MayCreate))
            && !mailbox
                .permanent_flags
                .iter()
                .any(|f| matches!(f, async_imap::types::Flag::Custom(k) if k.as_ref() == s.keyword))
        {
            // Harmless for correctness (the checkpoint decides), but people lose the marker.
            tracing::warn!(
                keyword = %s.keyword,
                "the server may not keep the processed keyword (no \\* in PERMANENTFLAGS)"
            );
        }
        self.status.set_connected(true);
        tracing::info!(
            imap.mailbox = %s.mailbox, imap.uidvalidity = uidvalidity,
            imap.exists = mailbox.exists, idle = can_idle && s.idle,
            "IMAP mailbox selected"
        );

        let mut cursor = match self.ingest.checkpoint(&s.mailbox).await? {
            Some(cp) if cp.uidvalidity == uidvalidity => cp.last_uid,
            Some(cp) => {
                tracing::warn!(
                    imap.mailbox = %s.mailbox, old = cp.uidvalidity, new = uidvalidity,
                    "UIDVALIDITY changed: taking every message as new (known ones are deduplicated)"
                );
                self.set_checkpoint(uidvalidity, 0).await?;
                0
            }
            None => {
                let uid_next = match mailbox.uid_next {
                    Some(n) => n,
                    None => highest_uid(&mut session).await?.saturating_add(1),
                };
                self.first_connect(&mut session, uidvalidity, uid_next, can_move)
                    .await?
            }
        };

        loop {
            if self.shutdown.is_cancelled() {
                break;
            }
            match self
                .catch_up(&mut session, uidvalidity, &mut cursor, can_move)
                .await?
            {
                Woke::Shutdown => break,
                Woke::Again => {}
            }
            self.status.pass_done(self.clock.now());
            *progressed = true;
            // Mail that arrived during the pass was announced as EXISTS: go again at once.
            if drain_exists(&session) {
                continue;
            }
            self.status.waiting.store(true, Ordering::SeqCst);
            let woke = if can_idle && s.idle {
                let (sess, woke) = self.idle(session).await?;
                session = sess;
                woke
            } else {
                self.poll_wait().await
            };
            self.status.waiting.store(false, Ordering::SeqCst);
            if let Woke::Shutdown = woke {
                break;
            }
        }
        // Best effort: the server cleans up either way.
        let _ = tokio::time::timeout(Duration::from_secs(2), session.logout()).await;
        Ok(())
    }

    /// No checkpoint yet: decide where to start, per `start_from`. Returns the cursor.
    async fn first_connect(
        &mut self,
        session: &mut Session,
        uidvalidity: u32,
        uid_next: u32,
        can_move: bool,
    ) -> anyhow::Result<u32> {
        let start = uid_next.saturating_sub(1);
        match &self.settings.start_from {
            StartFrom::All => Ok(0),
            StartFrom::Now => {
                tracing::info!(
                    imap.uidvalidity = uidvalidity,
                    imap.uid = start,
                    "first connect: starting from now (older mail is left alone; `leadgate import` backfills)"
                );
                self.set_checkpoint(uidvalidity, start).await?;
                Ok(start)
            }
            StartFrom::Ago(d) => {
                let since = (self.clock.now() - *d)
                    .to_zoned(jiff::tz::TimeZone::UTC)
                    .date()
                    .strftime("%d-%b-%Y")
                    .to_string();
                let mut uids: Vec<u32> = timed(
                    "UID SEARCH SINCE",
                    session.uid_search(format!("SINCE {since}")),
                )
                .await?
                .into_iter()
                .filter(|&u| u < uid_next)
                .collect();
                uids.sort_unstable();
                tracing::info!(
                    since = %since,
                    messages = uids.len(),
                    "first connect: taking mail since then"
                );
                let mut cursor = 0;
                if let Woke::Shutdown = self
                    .process(session, uidvalidity, &uids, &mut cursor, can_move)
                    .await?
                {
                    return Ok(cursor);
                }
                // Older mail between the found UIDs stays behind the checkpoint on purpose.
                self.set_checkpoint(uidvalidity, start.max(cursor)).await?;
                Ok(start.max(cursor))
            }
        }
    }

    /// `UID SEARCH UID n:*` and process everything above the cursor.
    async fn catch_up(
        &mut self,
        session: &mut Session,
        uidvalidity: u32,
        cursor: &mut u32,
        can_move: bool,
    ) -> anyhow::Result<Woke> {
        let from = cursor.saturating_add(1);
        let query = format!("UID {from}:*");
        let mut uids: Vec<u32> = timed("UID SEARCH", session.uid_search(&query))
            .await?
            .into_iter()
            // `n:*` always matches the highest UID, even when it is below n.
            .filter(|&u| u >= from)
            .collect();
        uids.sort_unstable();
        if !uids.is_empty() {
            tracing::debug!(imap.from = from, messages = uids.len(), "new mail");
        }
        self.process(session, uidvalidity, &uids, cursor, can_move)
            .await
    }

    /// IDLE until the server reports something, `idle_renew` passes, or shutdown.
    async fn idle(&self, session: Session) -> anyhow::Result<(Session, Woke)> {
        // A clone of the receiver: the handle owns the session while idling.
        let unsolicited = session.unsolicited_responses.clone();
        let mut handle = session.idle();
        timed("IDLE", handle.init()).await?;
        // Some servers report mail that came in just before IDLE ahead of "+ idling": such
        // an EXISTS would otherwise wait for the next renewal.
        let mut early = false;
        while let Ok(r) = unsolicited.try_recv() {
            early |= matches!(r, UnsolicitedResponse::Exists(_));
        }
        if early {
            let session = timed("DONE", handle.done()).await?;
            return Ok((session, Woke::Again));
        }
        let renew = self
            .settings
            .idle_renew
            .unsigned_abs()
            .max(Duration::from_secs(1));
        let woke = {
            // async-imap's own timeout restarts after every ignored response, and Dovecot
            // sends "* OK Still here" every 2 minutes: with it alone IDLE would never be
            // renewed. So the renewal is our own deadline, and async-imap's is only a backstop.
            // Dropping the wait future (shutdown, renewal) interrupts it promptly.
            let (wait, _stop) = handle.wait_with_timeout(renew.saturating_mul(2));
            tokio::select! {
                _ = self.shutdown.cancelled() => Woke::Shutdown,
                _ = tokio::time::sleep(renew) => {
                    tracing::debug!("IDLE renewed");
                    Woke::Again
                }
                r = wait => {
                    match r? {
                        IdleResponse::NewData(data) => {
                            tracing::debug!(response = ?data.parsed(), "IDLE woke");
                        }
                        IdleResponse::Timeout => tracing::debug!("IDLE renewed"),
                        // Also what a closed connection looks like; DONE below finds out.
                        IdleResponse::ManualInterrupt => {}
                    }
                    Woke::Again
                }
            }
        };
        let session = timed("DONE", handle.done()).await?;
        Ok((session, woke))
    }

    async fn poll_wait(&self) -> Woke {
        let pause = self
            .settings
            .poll
            .unsigned_abs()
            .max(Duration::from_secs(1));
        tokio::select! {
            _ = self.shutdown.cancelled() => Woke::Shutdown,
            _ = tokio::time::sleep(pause) => Woke::Again,
        }
    }
}

/// True when an EXISTS arrived since the last check (and empties the queue of unsolicited
/// responses, which async-imap would otherwise start dropping at 100).
fn drain_exists(session: &Session) -> bool {
    let mut exists = false;
    while let Ok(r) = session.unsolicited_responses.try_recv() {
        exists |= matches!(r, UnsolicitedResponse::Exists(_));
    }
    exists
}

async fn timed<T, E>(what: &str, fut: impl Future<Output = Result<T, E>>) -> anyhow::Result<T>
where
    E: std::error::Error + Send + Sync + 'static,
{
    match tokio::time::timeout(COMMAND_TIMEOUT, fut).await {
        Err(_) => bail!("{what} timed out after {}s", COMMAND_TIMEOUT.as_secs()),
        Ok(r) => r.with_context(|| format!("{what} failed")),
    }
}

async fn timed_io<T>(
    what: &str,
    fut: impl Future<Output = std::io::Result<T>>,
) -> anyhow::Result<T> {
    match tokio::time::timeout(COMMAND_TIMEOUT, fut).await {
        Err(_) => bail!("{what} timed out after {}s", COMMAND_TIMEOUT.as_secs()),
        Ok(r) => Ok(r?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The watch loop's schedule of attempts: a server down for `down` (every attempt
    /// refused) is seen this long after it is back; attempts made while it was down.
    fn seen_after(down: Duration) -> (Duration, u32) {
        let (mut t, mut backoff, mut attempts) = (Duration::ZERO, BACKOFF_FIRST, 0);
        // The established session breaks at 0 (it had connected: reached).
        let mut reached = true;
        loop {
            t += reconnect_wait(backoff, reached);
            backoff = (backoff * 2).min(BACKOFF_CAP);
            if t >= down {
                return (t - down, attempts);
            }
            attempts += 1;
            reached = false;
        }
    }

    #[test]
    fn a_server_back_from_an_outage_is_seen_within_five_seconds_without_hammering() {
        for secs in [2, 10, 30, 31, 60, 300, 3600] {
            let (late, attempts) = seen_after(Duration::from_secs(secs));
            assert!(
                late <= Duration::from_secs(5),
                "down {secs} s: seen {late:?} late"
            );
            // No more than one attempt every 4 s once the first few have failed.
            assert!(
                u64::from(attempts) <= 3 + secs / 4,
                "down {secs} s: {attempts} attempts"
            );
        }
        // A server that answers but refuses still backs off to the cap.
        assert_eq!(reconnect_wait(BACKOFF_CAP, true), BACKOFF_CAP);
    }
}
