//! The IMAP watcher against the lab's real Dovecot, with an in-memory `Ingest` that records
//! what it was given. Each test watches its own folder of the shared inbox (mail is
//! APPENDed there), or filters by its own Message-IDs where mail must arrive by SMTP.

use crate::support::*;
use jiff::SignedDuration;
use leadgate::clock::Clock;
use leadgate::config::{AfterProcessing, ImapSettings, StartFrom, TlsMode};
use leadgate::source::imap::{watch, ImapStatus};
use leadgate::source::{Checkpoint, Ingest, IngestOutcome, Origin};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Records every message and checkpoint; fails for messages containing `fail_marker`, and
/// (atomically, like the real store) for batches holding one.
#[derive(Default)]
struct MemoryIngest {
    state: Mutex<State>,
    fail_marker: Option<String>,
    /// Simulates a database outage: every call fails while set.
    down: std::sync::atomic::AtomicBool,
}

#[derive(Default)]
struct State {
    checkpoints: HashMap<String, Checkpoint>,
    /// Every successful `ingest` call, in order (duplicates included).
    calls: Vec<(Vec<u8>, Origin)>,
    /// Failed `ingest` calls (one message each).
    failures: u32,
    /// Failed `ingest_batch` calls (nothing of them recorded).
    batch_failures: u32,
    /// Sizes of the successful `ingest_batch` calls.
    batches: Vec<usize>,
}

impl MemoryIngest {
    fn failing_on(marker: &str) -> Self {
        MemoryIngest {
            fail_marker: Some(marker.into()),
            ..Default::default()
        }
    }

    fn calls(&self) -> Vec<(Vec<u8>, Origin)> {
        self.state.lock().unwrap().calls.clone()
    }

    fn count(&self, message_id: &str) -> usize {
        let s = self.state.lock().unwrap();
        s.calls
            .iter()
            .filter(|(raw, _)| has_message_id(raw, message_id))
            .count()
    }

    fn check_up(&self) -> anyhow::Result<()> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            anyhow::bail!("test store is down");
        }
        Ok(())
    }

    fn checkpoint_of(&self, mailbox: &str) -> Option<Checkpoint> {
        self.state.lock().unwrap().checkpoints.get(mailbox).copied()
    }
}

impl Ingest for MemoryIngest {
    async fn checkpoint(&self, mailbox: &str) -> anyhow::Result<Option<Checkpoint>> {
        self.check_up()?;
        Ok(self.checkpoint_of(mailbox))
    }

    async fn set_checkpoint(&self, mailbox: &str, checkpoint: Checkpoint) -> anyhow::Result<()> {
        self.check_up()?;
        self.state
            .lock()
            .unwrap()
            .checkpoints
            .insert(mailbox.into(), checkpoint);
        Ok(())
    }

    const BATCHES: bool = true;

    async fn ingest_batch(&self, batch: &[(&[u8], Origin)]) -> anyhow::Result<Vec<IngestOutcome>> {
        self.check_up()?;
        {
            let mut s = self.state.lock().unwrap();
            if let Some(m) = &self.fail_marker {
                let poisoned = |raw: &[u8]| raw.windows(m.len()).any(|w| w == m.as_bytes());
                if batch.iter().any(|(raw, _)| poisoned(raw)) {
                    s.batch_failures += 1;
                    anyhow::bail!("test ingest refuses this batch");
                }
            }
            s.batches.push(batch.len());
        }
        let mut out = Vec::new();
        for (raw, origin) in batch {
            out.push(self.ingest(raw, origin.clone()).await?);
        }
        Ok(out)
    }

    async fn ingest(&self, raw: &[u8], origin: Origin) -> anyhow::Result<IngestOutcome> {
        self.check_up()?;
        let mut s = self.state.lock().unwrap();
        if let Some(m) = &self.fail_marker {
            if raw.windows(m.len()).any(|w| w == m.as_bytes()) {
                s.failures += 1;
                anyhow::bail!("test ingest refuses this message");
            }
        }
        // The checkpoint is written with the message, as the real store does in one tx.
        if let Origin::Imap {
            mailbox,
            uidvalidity,
            uid,
        } = &origin
        {
            s.checkpoints.insert(
                mailbox.clone(),
                Checkpoint {
                    uidvalidity: *uidvalidity,
                    last_uid: *uid,
                },
            );
        }
        s.calls.push((raw.to_vec(), origin));
        Ok(IngestOutcome::Stored {
            message_row: s.calls.len() as i64,
            class: "other".into(),
            lead: None,
        })
    }
}

fn settings(user: &str, mailbox: &str, start_from: StartFrom) -> ImapSettings {
    let lab = lab();
    ImapSettings {
        host: lab.host.clone(),
        port: lab.imap_port,
        tls: TlsMode::None,
        username: user.into(),
        password: lab.password.clone(),
        mailbox: mailbox.into(),
        after: AfterProcessing::Keyword,
        keyword: "$LeadgateDone".into(),
        idle: true,
        poll: SignedDuration::from_secs(1),
        idle_renew: SignedDuration::from_mins(9),
        start_from,
        ca_file: None,
        max_attempts: 2,
    }
}

/// A running watcher: stop it with [`Running::stop`].
struct Running {
    status: Arc<ImapStatus>,
    shutdown: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

impl Running {
    async fn stop(self) {
        self.shutdown.cancel();
        let r = tokio::time::timeout(Duration::from_secs(5), self.task)
            .await
            .expect("the watcher stops promptly on shutdown")
            .expect("the watcher task does not panic");
        r.expect("the watcher returns Ok on shutdown");
    }

    /// Caught up and in IDLE (or the poll sleep).
    async fn until_waiting(&self) {
        let status = self.status.clone();
        assert!(
            wait_until(Duration::from_secs(10), || status.waiting()).await,
            "the watcher never caught up; last error: {:?}",
            status.last_error()
        );
    }
}

fn start(settings: ImapSettings, ingest: Arc<MemoryIngest>) -> Running {
    let status = ImapStatus::new();
    let shutdown = CancellationToken::new();
    let task = {
        let (status, shutdown) = (status.clone(), shutdown.clone());
        tokio::spawn(async move {
            watch(&settings, &*ingest, &status, &Clock::system(), shutdown).await
        })
    };
    Running {
        status,
        shutdown,
        task,
    }
}

async fn until_ingested(ingest: &MemoryIngest, message_id: &str) {
    assert!(
        wait_until(Duration::from_secs(10), || ingest.count(message_id) > 0).await,
        "{message_id} was never ingested"
    );
}

fn msg(id: &str, body: &str) -> Vec<u8> {
    message(
        id,
        "WordPress <wordpress@example.org>",
        INBOX_USER,
        "New form entry",
        body,
    )
}

#[tokio::test]
async fn idle_picks_up_mail_sent_over_smtp() {
    // Mail must arrive by SMTP, which only fills INBOX: carol's INBOX, filtered by our ids.
    let user = "carol@team.test";
    let ingest = Arc::new(MemoryIngest::default());
    let w = start(settings(user, "INBOX", StartFrom::Now), ingest.clone());
    w.until_waiting().await;
    assert!(w.status.connected());
    let before = w.status.passes();

    let id = unique_message_id("idle-smtp");
    smtp_send(&msg(&id, "sent while idling"), &[user]).await;
    // Dovecot batches IDLE notifications for 0.5 s; delivery adds a little.
    until_ingested(&ingest, &id).await;
    assert_eq!(ingest.count(&id), 1);
    let status = w.status.clone();
    assert!(wait_until(Duration::from_secs(5), || status.passes() > before).await);
    assert!(w.status.last_fetch().is_some());
    // The keyword is stored right after the ingest; give it a moment.
    let keyword_only = wait_until_async(Duration::from_secs(5), || async {
        flags_of(user, "INBOX", &id).await.map(|f| f.join(" "))
            == Some(r#"Custom("$LeadgateDone")"#.to_string())
    })
    .await;
    assert!(
        keyword_only,
        "keyword set, \\Seen not set: {:?}",
        flags_of(user, "INBOX", &id).await
    );
    w.stop().await;
}

#[tokio::test]
async fn restart_picks_up_mail_that_arrived_while_down_and_nothing_twice() {
    let folder = test_folder("restart");
    let ingest = Arc::new(MemoryIngest::default());
    let ids: Vec<String> = (0..4)
        .map(|i| unique_message_id(&format!("restart{i}")))
        .collect();
    append(INBOX_USER, &folder, &msg(&ids[0], "one"), None, None).await;

    let w = start(
        settings(INBOX_USER, &folder, StartFrom::All),
        ingest.clone(),
    );
    until_ingested(&ingest, &ids[0]).await;
    w.until_waiting().await;
    w.stop().await;

    for (i, id) in ids.iter().enumerate().skip(1) {
        append(
            INBOX_USER,
            &folder,
            &msg(id, &format!("while down {i}")),
            None,
            None,
        )
        .await;
    }
    let w = start(
        settings(INBOX_USER, &folder, StartFrom::All),
        ingest.clone(),
    );
    for id in &ids {
        until_ingested(&ingest, id).await;
    }
    w.until_waiting().await;
    w.stop().await;

    let calls = ingest.calls();
    assert_eq!(calls.len(), 4, "each message exactly once");
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(ingest.count(id), 1, "{id}");
        assert!(has_message_id(&calls[i].0, id), "UID order");
    }
    let cp = ingest.checkpoint_of(&folder).expect("checkpoint");
    assert_eq!(cp.last_uid, 4);
    delete_folder(INBOX_USER, &folder).await;
}

#[tokio::test]
async fn seen_by_another_client_is_still_processed() {
    let folder = test_folder("seen");
    let id = unique_message_id("seen");
    append(
        INBOX_USER,
        &folder,
        &msg(&id, "read by a person"),
        Some("(\\Seen)"),
        None,
    )
    .await;
    let ingest = Arc::new(MemoryIngest::default());
    let w = start(
        settings(INBOX_USER, &folder, StartFrom::All),
        ingest.clone(),
    );
    until_ingested(&ingest, &id).await;
    w.stop().await;
    delete_folder(INBOX_USER, &folder).await;
}

#[tokio::test]
async fn keyword_is_set_after_ingest_and_seen_never() {
    let folder = test_folder("keyword");
    let id = unique_message_id("keyword");
    append(INBOX_USER, &folder, &msg(&id, "unread"), None, None).await;
    let ingest = Arc::new(MemoryIngest::default());
    let w = start(
        settings(INBOX_USER, &folder, StartFrom::All),
        ingest.clone(),
    );
    until_ingested(&ingest, &id).await;
    w.until_waiting().await;
    w.stop().await;
    let flags = flags_of(INBOX_USER, &folder, &id)
        .await
        .expect("still there");
    assert!(
        flags.iter().any(|f| f.contains("$LeadgateDone")),
        "{flags:?}"
    );
    assert!(!flags.iter().any(|f| f.contains("Seen")), "{flags:?}");
    delete_folder(INBOX_USER, &folder).await;
}

#[tokio::test]
async fn a_failing_message_is_skipped_after_max_attempts_and_does_not_block() {
    let folder = test_folder("poison");
    let bad = unique_message_id("poison");
    let good = unique_message_id("after-poison");
    append(INBOX_USER, &folder, &msg(&bad, "POISON"), None, None).await;
    append(INBOX_USER, &folder, &msg(&good, "fine"), None, None).await;
    let ingest = Arc::new(MemoryIngest::failing_on("POISON"));
    let w = start(
        settings(INBOX_USER, &folder, StartFrom::All),
        ingest.clone(),
    );
    until_ingested(&ingest, &good).await;
    w.until_waiting().await;
    assert_eq!(w.status.skipped(), 1);
    assert_eq!(ingest.state.lock().unwrap().failures, 2, "max_attempts = 2");
    assert_eq!(ingest.count(&bad), 0);
    w.stop().await;
    let flags = flags_of(INBOX_USER, &folder, &bad)
        .await
        .expect("never deleted");
    assert!(
        !flags.iter().any(|f| f.contains("$LeadgateDone")),
        "{flags:?}"
    );
    assert_eq!(ingest.checkpoint_of(&folder).map(|c| c.last_uid), Some(2));
    delete_folder(INBOX_USER, &folder).await;
}

#[tokio::test]
async fn move_mode_moves_processed_mail_to_a_created_folder() {
    let folder = test_folder("move");
    let done = format!("{folder}/Done");
    let ids = [unique_message_id("move0"), unique_message_id("move1")];
    for id in &ids {
        append(INBOX_USER, &folder, &msg(id, "to move"), None, None).await;
    }
    let ingest = Arc::new(MemoryIngest::default());
    let mut s = settings(INBOX_USER, &folder, StartFrom::All);
    s.after = AfterProcessing::Move(done.clone());
    let w = start(s, ingest.clone());
    for id in &ids {
        until_ingested(&ingest, id).await;
    }
    w.until_waiting().await;
    // One more message after the folder exists: moved too.
    let third = unique_message_id("move2");
    append(INBOX_USER, &folder, &msg(&third, "later"), None, None).await;
    until_ingested(&ingest, &third).await;
    w.until_waiting().await;
    w.stop().await;
    assert!(folder_messages(INBOX_USER, &folder).await.is_empty());
    let moved = folder_messages(INBOX_USER, &done).await;
    assert_eq!(moved.len(), 3);
    delete_folder(INBOX_USER, &done).await;
    delete_folder(INBOX_USER, &folder).await;
}

#[tokio::test]
async fn start_from_now_ignores_old_mail() {
    let folder = test_folder("now");
    let old = unique_message_id("old");
    append(
        INBOX_USER,
        &folder,
        &msg(&old, "before leadgate"),
        None,
        None,
    )
    .await;
    let ingest = Arc::new(MemoryIngest::default());
    let w = start(
        settings(INBOX_USER, &folder, StartFrom::Now),
        ingest.clone(),
    );
    w.until_waiting().await;
    let cp = ingest
        .checkpoint_of(&folder)
        .expect("first connect records a checkpoint");
    assert_eq!(cp.last_uid, 1);
    let new = unique_message_id("new");
    append(INBOX_USER, &folder, &msg(&new, "after"), None, None).await;
    until_ingested(&ingest, &new).await;
    w.stop().await;
    assert_eq!(ingest.count(&old), 0);
    assert_eq!(ingest.calls().len(), 1);
    delete_folder(INBOX_USER, &folder).await;
}

#[tokio::test]
async fn start_from_ago_takes_only_recent_mail() {
    let folder = test_folder("ago");
    let old = unique_message_id("ago-old");
    let recent = unique_message_id("ago-recent");
    append(
        INBOX_USER,
        &folder,
        &msg(&old, "old"),
        None,
        Some("\"01-Jan-2020 10:00:00 +0000\""),
    )
    .await;
    append(INBOX_USER, &folder, &msg(&recent, "recent"), None, None).await;
    let ingest = Arc::new(MemoryIngest::default());
    let w = start(
        settings(
            INBOX_USER,
            &folder,
            StartFrom::Ago(SignedDuration::from_hours(7 * 24)),
        ),
        ingest.clone(),
    );
    until_ingested(&ingest, &recent).await;
    w.until_waiting().await;
    w.stop().await;
    assert_eq!(ingest.count(&old), 0);
    assert_eq!(ingest.checkpoint_of(&folder).map(|c| c.last_uid), Some(2));
    delete_folder(INBOX_USER, &folder).await;
}

#[tokio::test]
async fn uidvalidity_change_takes_all_mail_as_new() {
    let folder = test_folder("uidvalidity");
    let id = unique_message_id("uv");
    append(INBOX_USER, &folder, &msg(&id, "first life"), None, None).await;
    let ingest = Arc::new(MemoryIngest::default());
    let w = start(
        settings(INBOX_USER, &folder, StartFrom::All),
        ingest.clone(),
    );
    until_ingested(&ingest, &id).await;
    w.until_waiting().await;
    w.stop().await;
    let before = ingest.checkpoint_of(&folder).expect("checkpoint");

    // Deleting and re-creating a folder gives it a new UIDVALIDITY.
    delete_folder(INBOX_USER, &folder).await;
    tokio::time::sleep(Duration::from_millis(1100)).await; // UIDVALIDITY is a timestamp
    let id2 = unique_message_id("uv2");
    append(INBOX_USER, &folder, &msg(&id2, "second life"), None, None).await;
    let w = start(
        settings(INBOX_USER, &folder, StartFrom::Now),
        ingest.clone(),
    );
    until_ingested(&ingest, &id2).await;
    w.stop().await;
    let after = ingest.checkpoint_of(&folder).expect("checkpoint");
    assert_ne!(after.uidvalidity, before.uidvalidity);
    assert_eq!(after.last_uid, 1);
    delete_folder(INBOX_USER, &folder).await;
}

#[tokio::test]
async fn polls_when_idle_is_off() {
    let folder = test_folder("poll");
    create_folder(INBOX_USER, &folder).await;
    let ingest = Arc::new(MemoryIngest::default());
    let mut s = settings(INBOX_USER, &folder, StartFrom::Now);
    s.idle = false;
    let w = start(s, ingest.clone());
    w.until_waiting().await;
    let id = unique_message_id("poll");
    append(INBOX_USER, &folder, &msg(&id, "polled"), None, None).await;
    until_ingested(&ingest, &id).await;
    w.stop().await;
    delete_folder(INBOX_USER, &folder).await;
}

#[tokio::test]
async fn imaps_and_starttls_with_the_lab_ca_pinned() {
    let lab = lab();
    let folder = test_folder("tls");
    let id = unique_message_id("tls");
    append(INBOX_USER, &folder, &msg(&id, "over TLS"), None, None).await;
    for (tls, port) in [
        (TlsMode::Tls, lab.imaps_port),
        (TlsMode::StartTls, lab.imap_port),
    ] {
        let ingest = Arc::new(MemoryIngest::default());
        let mut s = settings(INBOX_USER, &folder, StartFrom::All);
        s.tls = tls;
        s.port = port;
        s.ca_file = Some(lab.ca_cert.clone());
        s.after = AfterProcessing::Nothing;
        let w = start(s, ingest.clone());
        until_ingested(&ingest, &id).await;
        w.stop().await;
    }
    delete_folder(INBOX_USER, &folder).await;
}

#[tokio::test]
async fn untrusted_certificate_is_a_clear_error_and_retried() {
    let lab = lab();
    let mut s = settings(INBOX_USER, "INBOX", StartFrom::Now);
    s.tls = TlsMode::Tls;
    s.port = lab.imaps_port;
    let w = start(s, Arc::new(MemoryIngest::default()));
    let status = w.status.clone();
    assert!(wait_until(Duration::from_secs(5), || status.last_error().is_some()).await);
    let e = status.last_error().unwrap();
    assert!(
        e.contains("TLS handshake") && e.contains("imap.ca_file"),
        "{e}"
    );
    assert!(e.to_lowercase().contains("certificate"), "{e}");
    assert!(!status.connected());
    w.stop().await;
}

#[tokio::test]
async fn shutdown_interrupts_idle_promptly() {
    let folder = test_folder("shutdown");
    create_folder(INBOX_USER, &folder).await;
    let w = start(
        settings(INBOX_USER, &folder, StartFrom::Now),
        Arc::new(MemoryIngest::default()),
    );
    w.until_waiting().await;
    let t = std::time::Instant::now();
    w.stop().await;
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    delete_folder(INBOX_USER, &folder).await;
}

#[tokio::test]
async fn idle_is_renewed_and_still_delivers() {
    let folder = test_folder("renew");
    create_folder(INBOX_USER, &folder).await;
    let ingest = Arc::new(MemoryIngest::default());
    let mut s = settings(INBOX_USER, &folder, StartFrom::Now);
    s.idle_renew = SignedDuration::from_secs(1);
    let w = start(s, ingest.clone());
    w.until_waiting().await;
    let first = w.status.passes();
    let status = w.status.clone();
    // Each renewal ends IDLE with DONE and runs a catch-up pass.
    assert!(wait_until(Duration::from_secs(5), || status.passes() >= first + 2).await);
    assert!(status.connected() && status.last_error().is_none());
    let id = unique_message_id("renew");
    append(INBOX_USER, &folder, &msg(&id, "after renewals"), None, None).await;
    until_ingested(&ingest, &id).await;
    w.stop().await;
    delete_folder(INBOX_USER, &folder).await;
}

#[tokio::test]
async fn reconnects_after_the_server_drops_the_connection() {
    // manager@team.test: no other test's daemon or watcher logs in as it (drift reads it
    // through the helpers, whose sessions the kick waits for), so it ends only this watcher.
    let user = "manager@team.test";
    let folder = test_folder("kick");
    create_folder(user, &folder).await;
    let ingest = Arc::new(MemoryIngest::default());
    let w = start(settings(user, &folder, StartFrom::Now), ingest.clone());
    w.until_waiting().await;
    kick(user).await;
    let status = w.status.clone();
    assert!(
        wait_until(Duration::from_secs(5), || status.last_error().is_some()).await,
        "the drop was noticed"
    );
    // Mail that arrives while reconnecting is found by the catch-up search.
    let id = unique_message_id("kick");
    append(user, &folder, &msg(&id, "during the reconnect"), None, None).await;
    until_ingested(&ingest, &id).await;
    w.until_waiting().await;
    assert!(status.connected());
    assert_eq!(ingest.calls().len(), 1);
    w.stop().await;
    delete_folder(user, &folder).await;
}

#[tokio::test]
async fn a_backlog_is_fetched_in_batches_in_uid_order() {
    let folder = test_folder("backlog");
    let ids: Vec<String> = (0..450)
        .map(|i| unique_message_id(&format!("b{i}")))
        .collect();
    let raws: Vec<Vec<u8>> = ids.iter().map(|id| msg(id, "backlog")).collect();
    append_many(INBOX_USER, &folder, &raws).await;
    let ingest = Arc::new(MemoryIngest::default());
    let w = start(
        settings(INBOX_USER, &folder, StartFrom::All),
        ingest.clone(),
    );
    let status = w.status.clone();
    assert!(wait_until(Duration::from_secs(30), || status.ingested() == 450).await);
    w.until_waiting().await;
    w.stop().await;
    let calls = ingest.calls();
    assert_eq!(calls.len(), 450);
    for (i, (raw, origin)) in calls.iter().enumerate() {
        assert!(has_message_id(raw, &ids[i]), "message {i} out of order");
        assert!(matches!(origin, Origin::Imap { uid, .. } if *uid == i as u32 + 1));
    }
    delete_folder(INBOX_USER, &folder).await;
}

#[tokio::test]
async fn a_store_outage_does_not_skip_messages() {
    use std::sync::atomic::Ordering;
    let folder = test_folder("outage");
    create_folder(INBOX_USER, &folder).await;
    let ingest = Arc::new(MemoryIngest::default());
    let w = start(
        settings(INBOX_USER, &folder, StartFrom::Now),
        ingest.clone(),
    );
    w.until_waiting().await;
    ingest.down.store(true, Ordering::SeqCst);
    let id = unique_message_id("outage");
    append(
        INBOX_USER,
        &folder,
        &msg(&id, "while the store is down"),
        None,
        None,
    )
    .await;
    let status = w.status.clone();
    assert!(
        wait_until(Duration::from_secs(10), || status.last_error().is_some()).await,
        "the outage is reported"
    );
    ingest.down.store(false, Ordering::SeqCst);
    until_ingested(&ingest, &id).await;
    assert_eq!(w.status.skipped(), 0);
    w.stop().await;
    delete_folder(INBOX_USER, &folder).await;
}

#[tokio::test]
async fn a_poison_message_in_a_backlog_batch_is_set_aside_and_the_rest_go_through() {
    // Its own account (s20.test) and folder: the backlog must be there before the start.
    let user = "inbox@s20.test";
    let folder = test_folder("batch-poison");
    let ids: Vec<String> = (0..5)
        .map(|i| unique_message_id(&format!("bp{i}")))
        .collect();
    let raws: Vec<Vec<u8>> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| msg(id, if i == 2 { "POISON" } else { "fine" }))
        .collect();
    append_many(user, &folder, &raws).await;
    let ingest = Arc::new(MemoryIngest::failing_on("POISON"));
    let w = start(settings(user, &folder, StartFrom::All), ingest.clone());
    let status = w.status.clone();
    assert!(
        wait_until(Duration::from_secs(20), || status.ingested() == 4).await,
        "the four good messages are ingested; last error: {:?}",
        status.last_error()
    );
    w.until_waiting().await;
    assert_eq!(w.status.skipped(), 1, "the poison message is skipped");
    w.stop().await;
    {
        let s = ingest.state.lock().unwrap();
        assert_eq!(
            s.batch_failures, 1,
            "the backlog was first offered as one batch"
        );
        assert_eq!(
            s.failures, 2,
            "then the bad one alone, max_attempts = 2 times"
        );
        let order: Vec<usize> = s
            .calls
            .iter()
            .map(|(raw, _)| ids.iter().position(|id| has_message_id(raw, id)).unwrap())
            .collect();
        assert_eq!(
            order,
            vec![0, 1, 3, 4],
            "the others, once each, in UID order"
        );
        assert_eq!(s.checkpoints.get(&folder).map(|c| c.last_uid), Some(5));
    }
    for (i, id) in ids.iter().enumerate() {
        let flags = flags_of(user, &folder, id).await.expect("never deleted");
        let marked = flags.iter().any(|f| f.contains("$LeadgateDone"));
        assert_eq!(
            marked,
            i != 2,
            "message {i}: keyword only after ingest: {flags:?}"
        );
    }
    delete_folder(user, &folder).await;
}

#[tokio::test]
async fn a_backlog_goes_in_batches_and_a_lone_new_message_alone() {
    let user = "inbox@s21.test";
    let folder = test_folder("batches");
    let ids: Vec<String> = (0..30)
        .map(|i| unique_message_id(&format!("bt{i}")))
        .collect();
    let raws: Vec<Vec<u8>> = ids.iter().map(|id| msg(id, "backlog")).collect();
    append_many(user, &folder, &raws).await;
    let ingest = Arc::new(MemoryIngest::default());
    let w = start(settings(user, &folder, StartFrom::All), ingest.clone());
    w.until_waiting().await;
    assert_eq!(ingest.state.lock().unwrap().batches, vec![30]);
    let late = unique_message_id("bt-late");
    append(user, &folder, &msg(&late, "live"), None, None).await;
    until_ingested(&ingest, &late).await;
    w.stop().await;
    {
        let s = ingest.state.lock().unwrap();
        assert_eq!(s.batches, vec![30], "the live message is not a batch");
        assert_eq!(s.calls.len(), 31);
    }
    delete_folder(user, &folder).await;
}
