//! The IMAP watcher: IDLE (re-issued), catch-up `UID SEARCH` after every connect, polling
//! for servers without IDLE, reconnect with backoff. Checkpoints by UIDVALIDITY + UID,
//! never by `\Seen`; never deletes or expunges; flags or moves only after commit.
//!
//! The only module that speaks IMAP. It owns the connection (TLS, STARTTLS or plain), the
//! position in the mailbox while connected, and the after-processing marks; the durable
//! checkpoint belongs to the [`Ingest`], which writes it with each message.

use super::{Checkpoint, Ingest, Origin};
use crate::clock::Clock;
use crate::config::{AfterProcessing, ImapSettings, StartFrom, TlsMode};
use anyhow::{anyhow, bail, Context};
use async_imap::extensions::idle::IdleResponse;
use async_imap::types::UnsolicitedResponse;
use futures::TryStreamExt;
use jiff::Timestamp;
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::rustls;
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

/// What the daemon's `/healthz` (and tests) can see of a running watcher. Shared through an
/// `Arc`; the watcher writes, everyone else reads.
#[derive(Debug, Default)]
pub struct ImapStatus {
    /// Logged in with the mailbox selected.
    connected: AtomicBool,
    /// In IDLE (or the poll sleep) after a completed catch-up: new mail is picked up from here.
    waiting: AtomicBool,
    /// Completed catch-up passes (search + fetch + ingest of everything found).
    passes: AtomicU64,
    /// Messages handed to the ingest successfully, and ones skipped after `max_attempts`.
    ingested: AtomicU64,
    skipped: AtomicU64,
    // Mutex: a timestamp and a string have no atomic form; held only for a copy.
    last_fetch: Mutex<Option<Timestamp>>,
    last_error: Mutex<Option<String>>,
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

    fn set_connected(&self, on: bool) {
        self.connected.store(on, Ordering::SeqCst);
        if !on {
            self.waiting.store(false, Ordering::SeqCst);
        }
    }

    fn pass_done(&self, at: Timestamp) {
        *lock(&self.last_fetch) = Some(at);
        *lock(&self.last_error) = None;
        self.passes.fetch_add(1, Ordering::SeqCst);
    }

    fn failed(&self, error: String) {
        self.set_connected(false);
        *lock(&self.last_error) = Some(error);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic elsewhere while holding the lock leaves plain data behind: still usable.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

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

    async fn connect(&self) -> anyhow::Result<Session> {
        let s = self.settings;
        let server = format!("{}:{}", s.host, s.port);
        let tcp = timed_io("connect", TcpStream::connect((s.host.as_str(), s.port)))
            .await
            .with_context(|| format!("cannot connect to {server}"))?;
        tcp.set_nodelay(true).ok();
        self.reached.store(true, Ordering::SeqCst);
        let stream: Box<dyn Io> = match (s.tls, &self.tls) {
            (TlsMode::Tls, Some(tls)) => Box::new(self.handshake(tls, tcp).await?),
            (TlsMode::StartTls, Some(tls)) => {
                let mut client = async_imap::Client::new(tcp);
                greeting(&mut client).await?;
                timed(
                    "STARTTLS",
                    client.run_command_and_check_ok("STARTTLS", None),
                )
                .await
                .with_context(|| format!("{server} refused STARTTLS"))?;
                Box::new(self.handshake(tls, client.into_inner()).await?)
            }
            _ => Box::new(tcp),
        };
        let mut client = async_imap::Client::new(stream);
        if s.tls != TlsMode::StartTls {
            greeting(&mut client).await?;
        }
        let session = tokio::time::timeout(COMMAND_TIMEOUT, client.login(&s.username, &s.password))
            .await
            .map_err(|_| anyhow!("LOGIN timed out"))?
            .map_err(|(e, _)| anyhow!(e))
            .with_context(|| format!("LOGIN as {} on {server} failed", s.username))?;
        Ok(session)
    }

    async fn handshake(
        &self,
        tls: &TlsConnector,
        tcp: TcpStream,
    ) -> anyhow::Result<tokio_rustls::client::TlsStream<TcpStream>> {
        let s = self.settings;
        let name = rustls::pki_types::ServerName::try_from(s.host.clone())
            .map_err(|_| anyhow!("imap.host {:?} is not a valid TLS server name", s.host))?;
        timed_io("TLS handshake", tls.connect(name, tcp))
            .await
            .with_context(|| {
                format!(
                    "TLS handshake with {}:{} failed (a self-signed or private-CA certificate needs imap.ca_file pointing at its CA)",
                    s.host, s.port
                )
            })
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

    /// Fetches `uids` (ascending) in batches and ingests them in order (a batch of several
    /// as one [`Ingest::ingest_batch`] when the ingest batches); marks each batch's successes
    /// after the batch. While a batch is ingested the next one's bodies are fetched, so the
    /// server's and the database's work overlap. Shutdown is checked between transactions:
    /// a batch in hand finishes.
    async fn process(
        &mut self,
        session: &mut Session,
        uidvalidity: u32,
        uids: &[u32],
        cursor: &mut u32,
        can_move: bool,
    ) -> anyhow::Result<Woke> {
        let mut batches = Batches {
            chunks: uids.chunks(FETCH_BATCH),
            sized: std::collections::VecDeque::new(),
        };
        let Some(mut batch) = batches.next(session).await? else {
            return Ok(Woke::Again);
        };
        if self.shutdown.is_cancelled() {
            return Ok(Woke::Shutdown);
        }
        let mut bodies = fetch_bodies(session, &batch).await?;
        loop {
            let mut done = Vec::with_capacity(batch.len());
            let mut woke = Woke::Again;
            let present: Vec<u32> = batch
                .iter()
                .copied()
                .filter(|uid| {
                    // Expunged by someone else between SEARCH and FETCH.
                    let here = bodies.contains_key(uid);
                    if !here {
                        tracing::debug!(imap.uid = uid, "message gone before fetch");
                    }
                    here
                })
                .collect();
            // The next batch: its UIDs now (sizes are a short command), its bodies while
            // this batch is ingested together (one at a time, it would only wait).
            let next = batches.next(session).await?;
            let mut prefetched = None;
            // A backlog goes in one transaction per batch; a lone new message, and any
            // batch holding a message that failed before, one message at a time.
            let together = I::BATCHES
                && present.len() > 1
                && !self.shutdown.is_cancelled()
                && !present
                    .iter()
                    .any(|&uid| self.failures.contains_key(&(uidvalidity, uid)));
            let mut rest = present.as_slice();
            if together {
                let fetch_next = async {
                    match &next {
                        Some(n) => Some(fetch_bodies(session, n).await),
                        None => None,
                    }
                };
                let (ingested, fetched) = tokio::join!(
                    self.ingest_together(uidvalidity, &present, &bodies),
                    fetch_next
                );
                prefetched = fetched;
                match ingested {
                    Ok(true) => {
                        done.extend_from_slice(&present);
                        *cursor = *present.last().expect("more than one");
                        rest = &[];
                    }
                    Ok(false) => {}
                    Err(e) => {
                        if let Err(m) = self.mark(session, &done, can_move).await {
                            tracing::warn!(error = %format!("{m:#}"), "cannot mark processed mail");
                        }
                        return Err(e);
                    }
                }
            }
            for &uid in rest {
                if self.shutdown.is_cancelled() {
                    woke = Woke::Shutdown;
                    break;
                }
                let raw = &bodies[&uid];
                let handled = match self.ingest_one(uidvalidity, uid, raw).await {
                    Ok(h) => h,
                    Err(e) => {
                        // Keep the marks of what did go through; reconnect later.
                        if let Err(m) = self.mark(session, &done, can_move).await {
                            tracing::warn!(error = %format!("{m:#}"), "cannot mark processed mail");
                        }
                        return Err(e);
                    }
                };
                match handled {
                    Some(true) => {
                        done.push(uid);
                        *cursor = uid;
                    }
                    Some(false) => *cursor = uid,
                    None => {
                        woke = Woke::Shutdown;
                        break;
                    }
                }
            }
            self.mark(session, &done, can_move).await?;
            if let Woke::Shutdown = woke {
                return Ok(woke);
            }
            let Some(next) = next else {
                return Ok(Woke::Again);
            };
            if self.shutdown.is_cancelled() {
                return Ok(Woke::Shutdown);
            }
            bodies = match prefetched {
                Some(fetched) => fetched?,
                None => fetch_bodies(session, &next).await?,
            };
            batch = next;
        }
    }

    /// Hands `uids` (ascending, all fetched) to the ingest as one batch. Ok(true): all
    /// committed; Ok(false): the batch failed (nothing of it was committed) and the caller
    /// takes its messages one at a time, so that a bad message is retried and skipped on
    /// its own and never holds up the rest; Err: the ingest as a whole is down.
    async fn ingest_together(
        &mut self,
        uidvalidity: u32,
        uids: &[u32],
        bodies: &BTreeMap<u32, Vec<u8>>,
    ) -> anyhow::Result<bool> {
        let s = self.settings;
        let batch: Vec<(&[u8], Origin)> = uids
            .iter()
            .map(|&uid| {
                let origin = Origin::Imap {
                    mailbox: s.mailbox.clone(),
                    uidvalidity,
                    uid,
                };
                (bodies[&uid].as_slice(), origin)
            })
            .collect();
        match self.ingest.ingest_batch(&batch).await {
            Ok(outcomes) => {
                tracing::debug!(
                    imap.from = uids[0],
                    imap.to = uids[uids.len() - 1],
                    messages = outcomes.len(),
                    "batch ingested"
                );
                self.status
                    .ingested
                    .fetch_add(uids.len() as u64, Ordering::SeqCst);
                Ok(true)
            }
            Err(e) => {
                if let Err(down) = self.ingest.checkpoint(&s.mailbox).await {
                    return Err(e.context(format!(
                        "ingest is unavailable (reading the checkpoint fails too: {down:#})"
                    )));
                }
                tracing::warn!(
                    imap.from = uids[0],
                    imap.to = uids[uids.len() - 1],
                    error = %format!("{e:#}"),
                    "batch failed; taking its messages one at a time"
                );
                Ok(false)
            }
        }
    }

    /// Ok(Some(true)) ingested, Ok(Some(false)) skipped after `max_attempts`, Ok(None)
    /// shutdown while waiting to retry, Err when the ingest as a whole is down (its
    /// checkpoint cannot be read either): then no attempt is counted, so a database outage
    /// does not make every message look poisoned.
    async fn ingest_one(
        &mut self,
        uidvalidity: u32,
        uid: u32,
        raw: &[u8],
    ) -> anyhow::Result<Option<bool>> {
        let s = self.settings;
        let key = (uidvalidity, uid);
        loop {
            let attempts = self.failures.get(&key).copied().unwrap_or(0);
            if attempts >= s.max_attempts {
                tracing::error!(
                    imap.mailbox = %s.mailbox, imap.uidvalidity = uidvalidity, imap.uid = uid,
                    attempts,
                    "message failed processing too often: skipped (see the quarantine)"
                );
                self.status.skipped.fetch_add(1, Ordering::SeqCst);
                self.failures.remove(&key);
                if let Err(e) = self.set_checkpoint(uidvalidity, uid).await {
                    tracing::error!(imap.uid = uid, error = %format!("{e:#}"), "cannot move the checkpoint past a skipped message");
                }
                return Ok(Some(false));
            }
            let origin = Origin::Imap {
                mailbox: s.mailbox.clone(),
                uidvalidity,
                uid,
            };
            match self.ingest.ingest(raw, origin).await {
                Ok(outcome) => {
                    tracing::debug!(imap.uid = uid, ?outcome, "ingested");
                    self.failures.remove(&key);
                    self.status.ingested.fetch_add(1, Ordering::SeqCst);
                    return Ok(Some(true));
                }
                Err(e) => {
                    if let Err(down) = self.ingest.checkpoint(&s.mailbox).await {
                        return Err(e.context(format!(
                            "ingest is unavailable (reading the checkpoint fails too: {down:#})"
                        )));
                    }
                    let attempts = attempts + 1;
                    self.failures.insert(key, attempts);
                    tracing::warn!(
                        imap.uid = uid, attempts, max_attempts = s.max_attempts,
                        error = %format!("{e:#}"),
                        "ingest failed"
                    );
                    if attempts < s.max_attempts {
                        let pause = RETRY_FIRST
                            .saturating_mul(1 << attempts.min(16))
                            .min(RETRY_CAP);
                        tokio::select! {
                            _ = self.shutdown.cancelled() => return Ok(None),
                            _ = tokio::time::sleep(pause) => {}
                        }
                    }
                }
            }
        }
    }

    /// Sets the keyword or moves the messages just ingested. Never `\Deleted`, never EXPUNGE.
    async fn mark(
        &mut self,
        session: &mut Session,
        uids: &[u32],
        can_move: bool,
    ) -> anyhow::Result<()> {
        if uids.is_empty() {
            return Ok(());
        }
        let set = uid_set(uids);
        let s = self.settings;
        match &s.after {
            AfterProcessing::Nothing => {}
            AfterProcessing::Keyword => self.store_keyword(session, &set).await?,
            AfterProcessing::Move(folder) => {
                if !can_move {
                    // COPY + \Deleted + EXPUNGE would delete: keep the keyword instead.
                    if !self.warned_no_move {
                        tracing::warn!(
                            folder = %folder,
                            "the server has no MOVE: setting the keyword instead of moving"
                        );
                        self.warned_no_move = true;
                    }
                    return self.store_keyword(session, &set).await;
                }
                if let Err(e) = timed("UID MOVE", session.uid_mv(&set, folder)).await {
                    // Most likely the folder does not exist yet: create it once and retry.
                    tracing::info!(folder = %folder, error = %format!("{e:#}"), "creating the folder for processed mail");
                    if let Err(c) = timed("CREATE", session.create(folder)).await {
                        tracing::debug!(error = %format!("{c:#}"), "CREATE failed (it may exist)");
                    }
                    timed("UID MOVE", session.uid_mv(&set, folder))
                        .await
                        .with_context(|| format!("cannot move processed mail to {folder:?}"))?;
                }
            }
        }
        Ok(())
    }

    async fn store_keyword(&self, session: &mut Session, set: &str) -> anyhow::Result<()> {
        let query = format!("+FLAGS.SILENT ({})", self.settings.keyword);
        timed("UID STORE", async {
            let stream = session.uid_store(set, &query).await?;
            stream.try_for_each(|_| async { Ok(()) }).await
        })
        .await
        .context("cannot set the processed keyword")
    }

    async fn set_checkpoint(&self, uidvalidity: u32, last_uid: u32) -> anyhow::Result<()> {
        self.ingest
            .set_checkpoint(
                &self.settings.mailbox,
                Checkpoint {
                    uidvalidity,
                    last_uid,
                },
            )
            .await
            .context("cannot record the IMAP checkpoint")
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

/// Reads the server greeting (async-imap leaves that to the caller).
async fn greeting<T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug>(
    client: &mut async_imap::Client<T>,
) -> anyhow::Result<()> {
    match tokio::time::timeout(COMMAND_TIMEOUT, client.read_response()).await {
        Err(_) => bail!("no IMAP greeting within {}s", COMMAND_TIMEOUT.as_secs()),
        Ok(None) => bail!("the server closed the connection before its greeting"),
        Ok(Some(Err(e))) => Err(e).context("cannot read the IMAP greeting"),
        Ok(Some(Ok(_))) => Ok(()),
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

async fn highest_uid(session: &mut Session) -> anyhow::Result<u32> {
    Ok(timed("UID SEARCH", session.uid_search("UID *"))
        .await?
        .into_iter()
        .max()
        .unwrap_or(0))
}

/// `UID FETCH set (UID BODY.PEEK[])`: PEEK so that `\Seen` is never set.
async fn fetch_bodies(
    session: &mut Session,
    uids: &[u32],
) -> anyhow::Result<BTreeMap<u32, Vec<u8>>> {
    let set = uid_set(uids);
    let wanted: std::collections::HashSet<u32> = uids.iter().copied().collect();
    // Each response is copied out and dropped as it arrives: a response owns async-imap's
    // whole read buffer of its time (often far more than its body), and holding a batch of
    // them at once would set the heap's high-water mark, which glibc keeps after an import.
    tokio::time::timeout(FETCH_TIMEOUT, async {
        let mut stream = session.uid_fetch(&set, "(UID BODY.PEEK[])").await?;
        let mut out = BTreeMap::new();
        while let Some(f) = stream.try_next().await? {
            // Unsolicited FETCH responses (another client changing flags) carry no body.
            if let (Some(uid), Some(body)) = (f.uid, f.body()) {
                if wanted.contains(&uid) {
                    out.insert(uid, body.to_vec());
                }
            }
        }
        Ok::<_, async_imap::error::Error>(out)
    })
    .await
    .map_err(|_| anyhow!("UID FETCH timed out after {}s", FETCH_TIMEOUT.as_secs()))?
    .context("UID FETCH failed")
}

/// The fetch batches of a list of UIDs, sized a chunk of [`FETCH_BATCH`] UIDs at a time.
struct Batches<'u> {
    chunks: std::slice::Chunks<'u, u32>,
    sized: std::collections::VecDeque<Vec<u32>>,
}

impl Batches<'_> {
    async fn next(&mut self, session: &mut Session) -> anyhow::Result<Option<Vec<u32>>> {
        while self.sized.is_empty() {
            let Some(chunk) = self.chunks.next() else {
                return Ok(None);
            };
            self.sized
                .extend(size_batches(chunk, &fetch_sizes(session, chunk).await?));
        }
        Ok(self.sized.pop_front())
    }
}

/// `UID FETCH set (UID RFC822.SIZE)`: sizes first, so a batch of bodies stays bounded.
async fn fetch_sizes(session: &mut Session, uids: &[u32]) -> anyhow::Result<HashMap<u32, u64>> {
    let set = uid_set(uids);
    let fetched = timed("UID FETCH RFC822.SIZE", async {
        let stream = session.uid_fetch(&set, "(UID RFC822.SIZE)").await?;
        stream.try_collect::<Vec<_>>().await
    })
    .await?;
    Ok(fetched
        .into_iter()
        .filter_map(|f| Some((f.uid?, u64::from(f.size?))))
        .collect())
}

/// Splits ascending `uids` into runs whose bodies add up to at most [`FETCH_BYTES`] (a
/// message larger than that gets a batch of its own). Unknown sizes count as zero.
fn size_batches(uids: &[u32], sizes: &HashMap<u32, u64>) -> Vec<Vec<u32>> {
    let mut out: Vec<Vec<u32>> = Vec::new();
    let mut current = Vec::new();
    let mut bytes = 0u64;
    for &uid in uids {
        let size = sizes.get(&uid).copied().unwrap_or(0);
        if !current.is_empty() && bytes.saturating_add(size) > FETCH_BYTES {
            out.push(std::mem::take(&mut current));
            bytes = 0;
        }
        current.push(uid);
        bytes = bytes.saturating_add(size);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// `1,2,3,7,9,10` → `1:3,7,9:10` (ascending input).
fn uid_set(uids: &[u32]) -> String {
    let mut out = String::new();
    let mut i = 0;
    while i < uids.len() {
        let start = uids[i];
        let mut end = start;
        while i + 1 < uids.len() && uids[i + 1] == end.wrapping_add(1) {
            i += 1;
            end = uids[i];
        }
        if !out.is_empty() {
            out.push(',');
        }
        if start == end {
            out.push_str(&start.to_string());
        } else {
            out.push_str(&format!("{start}:{end}"));
        }
        i += 1;
    }
    out
}

/// An IMAP atom: what a keyword may be (RFC 3501 `flag-keyword`).
fn is_atom(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| {
            b.is_ascii_graphic()
                && !matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b'\\' | b']')
        })
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

/// System roots plus, when given, the CA in `ca_file` (to trust a self-signed server).
fn tls_connector(ca_file: Option<&std::path::Path>) -> anyhow::Result<TlsConnector> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let (added, _ignored) = roots.add_parsable_certificates(native.certs);
    if let Some(path) = ca_file {
        let pem = std::fs::read(path)
            .with_context(|| format!("imap.ca_file: cannot read {}", path.display()))?;
        let certs = rustls_pemfile::certs(&mut pem.as_slice())
            .collect::<Result<Vec<_>, _>>()
            .with_context(|| format!("imap.ca_file: {} is not PEM", path.display()))?;
        if certs.is_empty() {
            bail!("imap.ca_file: {} holds no certificate", path.display());
        }
        for c in certs {
            roots.add(c).with_context(|| {
                format!(
                    "imap.ca_file: {} has an unusable certificate",
                    path.display()
                )
            })?;
        }
    } else if added == 0 {
        tracing::warn!(
            "no system CA certificates found: IMAP over TLS will fail unless imap.ca_file is set"
        );
    }
    // An explicit provider: the process-wide default is ambiguous when several are linked.
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .context("TLS setup")?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(TlsConnector::from(Arc::new(config)))
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

    #[test]
    fn uid_sets_compress_runs() {
        assert_eq!(uid_set(&[1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(uid_set(&[5]), "5");
        assert_eq!(uid_set(&[]), "");
        assert_eq!(uid_set(&[u32::MAX - 1, u32::MAX]), "4294967294:4294967295");
    }

    #[test]
    fn batches_are_bounded_by_bytes() {
        let sizes: HashMap<u32, u64> = [(1, 10), (2, FETCH_BYTES), (3, 5), (4, 5)]
            .into_iter()
            .collect();
        assert_eq!(
            size_batches(&[1, 2, 3, 4, 5], &sizes),
            vec![vec![1], vec![2], vec![3, 4, 5]]
        );
        assert!(size_batches(&[], &sizes).is_empty());
    }

    #[test]
    fn keywords_must_be_atoms() {
        assert!(is_atom("$LeadgateDone"));
        assert!(!is_atom("two words"));
        assert!(!is_atom("(x)"));
        assert!(!is_atom(""));
    }
}
