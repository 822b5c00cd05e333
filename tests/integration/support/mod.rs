//! Shared helpers for integration tests against the real mail lab (Postfix + Dovecot on
//! loopback, started by `scripts/test-env`): where the lab is, sending over SMTP, reading,
//! appending to and cleaning mailboxes over IMAP, unique Message-IDs, and waiting.
//!
//! Tests share one Dovecot (and, in the one test binary, one process), so each test uses
//! its own Message-IDs and, where it counts messages, its own IMAP folder
//! ([`test_folder`]). Only these helpers ever expunge; the product never does. The one
//! test that ends a user's sessions ([`kick`]) waits until no helper here has one open.
//! One test process at a time uses the lab ([`lab`] holds a lock file in its directory).

pub mod app;
pub mod forms;

use std::collections::HashMap;
use std::future::Future;
use std::net::{SocketAddr, TcpStream as StdTcpStream};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use futures::TryStreamExt;
use tokio::net::TcpStream;
use tokio::sync::{OwnedRwLockReadGuard, RwLock};

pub const PASSWORD_DEFAULT: &str = "secret";
/// The shared inbox of the lab (catch-all for `@leads.test`).
pub const INBOX_USER: &str = "inbox@leads.test";

/// Where the mail lab listens, read once per test process.
#[derive(Clone, Debug)]
pub struct Lab {
    pub host: String,
    pub imap_port: u16,
    pub imaps_port: u16,
    pub smtp_port: u16,
    pub submission_port: u16,
    pub password: String,
    /// The lab's self-signed certificate (its own CA): `$MAIL_LAB_DIR/tls/cert.pem`.
    pub ca_cert: std::path::PathBuf,
    pub dir: std::path::PathBuf,
    /// `LEADGATE_TEST_PG_URL`, when the env file has it.
    pub pg_url: Option<String>,
}

/// The lab's endpoints: environment variables, then `$LEADGATE_TEST_ENV` (default
/// `/tmp/leadgate-test.env`), then `$MAIL_LAB_DIR/lab.env`, then the lab's defaults.
/// Panics with the fix (run `scripts/test-env`) when the lab is not reachable. The first
/// call waits for the lab, then holds it for this process ([`hold_the_lab`]).
pub fn lab() -> &'static Lab {
    static LAB: OnceLock<Lab> = OnceLock::new();
    LAB.get_or_init(|| {
        let env_file = std::env::var("LEADGATE_TEST_ENV")
            .unwrap_or_else(|_| "/tmp/leadgate-test.env".into());
        let mut vars = read_env_file(&env_file);
        let dir = std::env::var("MAIL_LAB_DIR")
            .ok()
            .or_else(|| vars.get("MAIL_LAB_DIR").cloned())
            .unwrap_or_else(|| "/tmp/mail-lab".into());
        for (k, v) in read_env_file(&format!("{dir}/lab.env")) {
            vars.entry(k).or_insert(v);
        }
        let get = |k: &str, default: &str| {
            std::env::var(k)
                .ok()
                .or_else(|| vars.get(k).cloned())
                .unwrap_or_else(|| default.to_owned())
        };
        let port = |k: &str, default: &str| {
            get(k, default)
                .parse::<u16>()
                .unwrap_or_else(|_| panic!("{k} is not a port"))
        };
        let lab = Lab {
            host: get("MAIL_LAB_HOST", "127.0.0.1"),
            imap_port: port("MAIL_LAB_IMAP_PORT", "1143"),
            imaps_port: port("MAIL_LAB_IMAPS_PORT", "1993"),
            smtp_port: port("MAIL_LAB_SMTP_PORT", "2525"),
            submission_port: port("MAIL_LAB_SUBMISSION_PORT", "1587"),
            password: get("MAIL_LAB_PASSWORD", PASSWORD_DEFAULT),
            ca_cert: get("MAIL_LAB_CA_CERT", &format!("{dir}/tls/cert.pem")).into(),
            dir: dir.clone().into(),
            pg_url: std::env::var("LEADGATE_TEST_PG_URL")
                .ok()
                .or_else(|| vars.get("LEADGATE_TEST_PG_URL").cloned()),
        };
        for (what, p) in [("IMAP", lab.imap_port), ("SMTP", lab.smtp_port)] {
            let addr: SocketAddr = format!("{}:{p}", lab.host)
                .parse()
                .unwrap_or_else(|_| panic!("MAIL_LAB_HOST {:?} is not an IP", lab.host));
            if let Err(e) = StdTcpStream::connect_timeout(&addr, Duration::from_secs(2)) {
                panic!(
                    "the mail lab's {what} is not reachable at {addr} ({e}): run `scripts/test-env` \
                     (as root) first; it starts Postfix, Dovecot and PostgreSQL and writes {env_file}"
                );
            }
        }
        hold_the_lab(&lab.dir);
        lab
    })
}

/// Waits until no other test process uses the mail lab, then keeps it until this process
/// ends. Two runs at once (two worktrees on one machine) share every `sN.test` inbox: one
/// run's daemon takes the other's mail, its TestApp empties the other's inbox.
fn hold_the_lab(dir: &std::path::Path) {
    static HELD: OnceLock<std::fs::File> = OnceLock::new();
    let path = dir.join("leadgate-tests.lock");
    let file = std::fs::File::create(&path)
        .unwrap_or_else(|e| panic!("cannot create {} ({e})", path.display()));
    if file.try_lock().is_err() {
        eprintln!(
            "waiting for another test run to finish with the mail lab (lock: {})",
            path.display()
        );
        file.lock()
            .unwrap_or_else(|e| panic!("cannot lock {} ({e})", path.display()));
    }
    let _ = HELD.set(file);
}

fn read_env_file(path: &str) -> HashMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// A Message-ID no other test (or test run) uses: `<tag.pid.nanos.n@leadgate-tests.test>`.
pub fn unique_message_id(tag: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "<{tag}.{}.{nanos}.{}@leadgate-tests.test>",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// A folder name of the shared inbox that only this test uses (Maildir: no dots, `/` nests).
pub fn test_folder(tag: &str) -> String {
    let id = unique_message_id(tag);
    let clean: String = id
        .trim_matches(['<', '>'])
        .split('@')
        .next()
        .unwrap_or(tag)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("Tests/{clean}")
}

/// A small plain-text message with CRLF line ends.
pub fn message(message_id: &str, from: &str, to: &str, subject: &str, body: &str) -> Vec<u8> {
    format!(
        "Message-ID: {message_id}\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nFrom: {from}\r\n\
         To: {to}\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// `leadgate::parse::view(raw)`, kept per process: tests that search decoded mail parse a
/// whole team mailbox on every poll, nearly all of it the same messages as last time.
pub fn view(raw: &[u8]) -> leadgate::domain::message::MessageView {
    use leadgate::domain::message::MessageView;
    static VIEWS: OnceLock<Mutex<HashMap<Vec<u8>, MessageView>>> = OnceLock::new();
    let views = || {
        VIEWS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    };
    if let Some(v) = views().get(raw) {
        return v.clone();
    }
    let v = leadgate::parse::view(raw);
    views().insert(raw.to_vec(), v.clone());
    v
}

/// Whether `raw` carries `message_id` in its Message-ID header.
pub fn has_message_id(raw: &[u8], message_id: &str) -> bool {
    memchr::memmem::find(raw, message_id.as_bytes()).is_some()
}

/// Sends `raw` as is to the lab's SMTP port (2525, no auth, no TLS); every recipient must be
/// accepted.
pub async fn smtp_send(raw: &[u8], rcpt: &[&str]) {
    use lettre::address::{Address, Envelope};
    use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
    let lab = lab();
    let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(lab.host.as_str())
        .port(lab.smtp_port)
        .timeout(Some(Duration::from_secs(10)))
        .build();
    let to: Vec<Address> = rcpt
        .iter()
        .map(|r| r.parse().expect("test recipient is an address"))
        .collect();
    let envelope =
        Envelope::new(Some("tests@example.net".parse().expect("address")), to).expect("envelope");
    transport
        .send_raw(&envelope, raw)
        .await
        .unwrap_or_else(|e| panic!("SMTP send to {rcpt:?} failed: {e}"));
}

/// A helper's IMAP session. While open it holds a shared lease on its user, which
/// [`kick`] takes exclusively: a kick ends every session of the user, and must end only
/// the watcher under test, never another test's read of the same mailbox.
pub struct ImapSession {
    session: async_imap::Session<TcpStream>,
    _lease: OwnedRwLockReadGuard<()>,
}

impl Deref for ImapSession {
    type Target = async_imap::Session<TcpStream>;
    fn deref(&self) -> &Self::Target {
        &self.session
    }
}

impl DerefMut for ImapSession {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.session
    }
}

/// The lease on `user`'s sessions opened by these helpers (see [`ImapSession`]).
fn user_lease(user: &str) -> Arc<RwLock<()>> {
    static LEASES: OnceLock<Mutex<HashMap<String, Arc<RwLock<()>>>>> = OnceLock::new();
    LEASES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(user.to_ascii_lowercase())
        .or_default()
        .clone()
}

/// A plain-text IMAP session (port 1143) logged in as `user`.
pub async fn imap_login(user: &str) -> ImapSession {
    let lease = user_lease(user).read_owned().await;
    let lab = lab();
    let tcp = TcpStream::connect((lab.host.as_str(), lab.imap_port))
        .await
        .expect("connect to the lab's IMAP");
    let mut client = async_imap::Client::new(tcp);
    client
        .read_response()
        .await
        .expect("IMAP greeting")
        .expect("IMAP greeting");
    let session = client
        .login(user, &lab.password)
        .await
        .map_err(|(e, _)| e)
        .unwrap_or_else(|e| panic!("IMAP LOGIN {user}: {e}"));
    ImapSession {
        session,
        _lease: lease,
    }
}

/// Every message in `user`'s INBOX (read with `BODY.PEEK[]`), in UID order.
pub async fn imap_messages(user: &str) -> Vec<Vec<u8>> {
    folder_messages(user, "INBOX").await
}

/// Every message in one folder of `user`, in UID order; empty when the folder is missing.
pub async fn folder_messages(user: &str, folder: &str) -> Vec<Vec<u8>> {
    let mut s = imap_login(user).await;
    if s.select(folder).await.is_err() {
        return Vec::new();
    }
    let out = fetch_all(&mut s, "BODY.PEEK[]")
        .await
        .into_iter()
        .map(|(_, f)| f.body().unwrap_or_default().to_vec())
        .collect();
    s.logout().await.ok();
    out
}

/// The flags of the message with `message_id` in `folder` (None when it is not there).
pub async fn flags_of(user: &str, folder: &str, message_id: &str) -> Option<Vec<String>> {
    let mut s = imap_login(user).await;
    s.select(folder).await.ok()?;
    let uids = s
        .uid_search(format!("HEADER Message-ID \"{message_id}\""))
        .await
        .expect("UID SEARCH");
    let uid = uids.into_iter().next()?;
    let fetches: Vec<_> = s
        .uid_fetch(uid.to_string(), "FLAGS")
        .await
        .expect("UID FETCH")
        .try_collect()
        .await
        .expect("UID FETCH FLAGS");
    s.logout().await.ok();
    let f = fetches.iter().find(|f| f.uid == Some(uid))?;
    Some(f.flags().map(|fl| format!("{fl:?}")).collect())
}

async fn fetch_all(s: &mut ImapSession, what: &str) -> Vec<(u32, async_imap::types::Fetch)> {
    let mut uids: Vec<u32> = s
        .uid_search("ALL")
        .await
        .expect("UID SEARCH ALL")
        .into_iter()
        .collect();
    if uids.is_empty() {
        return Vec::new();
    }
    uids.sort_unstable();
    let set = uids
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let mut out: Vec<_> = s
        .uid_fetch(&set, format!("(UID {what})"))
        .await
        .expect("UID FETCH")
        .try_collect::<Vec<_>>()
        .await
        .expect("UID FETCH")
        .into_iter()
        .filter_map(|f| f.uid.map(|u| (u, f)))
        .collect();
    out.sort_by_key(|(u, _)| *u);
    out
}

/// Creates `folder` for `user` (fine when it exists).
pub async fn create_folder(user: &str, folder: &str) {
    let mut s = imap_login(user).await;
    s.create(folder).await.ok();
    s.logout().await.ok();
}

/// Deletes `folder` of `user` with its messages (test clean-up; missing is fine).
pub async fn delete_folder(user: &str, folder: &str) {
    let mut s = imap_login(user).await;
    s.delete(folder).await.ok();
    s.logout().await.ok();
}

/// Appends `raw` to `folder` (created when missing), with IMAP `flags` like `(\Seen)` and an
/// optional INTERNALDATE like `"01-Jan-2020 00:00:00 +0000"` (quoted).
pub async fn append(user: &str, folder: &str, raw: &[u8], flags: Option<&str>, date: Option<&str>) {
    let mut s = imap_login(user).await;
    s.create(folder).await.ok();
    s.append(folder, flags, date, raw)
        .await
        .unwrap_or_else(|e| panic!("APPEND to {folder}: {e}"));
    s.logout().await.ok();
}

/// Deletes every message of `user`'s INBOX (`\Deleted` + EXPUNGE: test helper only).
pub async fn reset_mailbox(user: &str) {
    let mut s = imap_login(user).await;
    s.select("INBOX").await.expect("SELECT INBOX");
    let any = !s.uid_search("ALL").await.expect("UID SEARCH").is_empty();
    if any {
        s.uid_store("1:*", "+FLAGS.SILENT (\\Deleted)")
            .await
            .expect("UID STORE")
            .try_collect::<Vec<_>>()
            .await
            .expect("UID STORE");
        s.expunge()
            .await
            .expect("EXPUNGE")
            .try_collect::<Vec<_>>()
            .await
            .expect("EXPUNGE");
    }
    s.logout().await.ok();
}

/// Polls `cond` every 50 ms until it holds or `timeout` passes; returns whether it held.
pub async fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// [`wait_until`] for conditions that need I/O (e.g. reading a mailbox); polls every 200 ms.
pub async fn wait_until_async<F, Fut>(timeout: Duration, mut cond: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let end = Instant::now() + timeout;
    loop {
        if cond().await {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Appends many messages to `folder` over one session (created when missing).
pub async fn append_many(user: &str, folder: &str, raws: &[Vec<u8>]) {
    let mut s = imap_login(user).await;
    s.create(folder).await.ok();
    for raw in raws {
        s.append(folder, None, None, raw)
            .await
            .unwrap_or_else(|e| panic!("APPEND to {folder}: {e}"));
    }
    s.logout().await.ok();
}

/// Ends every IMAP session of `user` on the server side (`doveadm kick`), as a server
/// restart or a dropped connection would. Use a user no other test's daemon or watcher
/// logs in as; the helpers' own sessions (other tests reading that mailbox) are waited
/// for, and none opens during the kick.
pub async fn kick(user: &str) {
    let _only_the_watcher = user_lease(user).write_owned().await;
    let conf = lab().dir.join("dovecot/dovecot.conf");
    let out = std::process::Command::new("doveadm")
        .arg("-c")
        .arg(&conf)
        .args(["kick", user])
        .output()
        .expect("run doveadm");
    assert!(
        out.status.success(),
        "doveadm kick {user}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
