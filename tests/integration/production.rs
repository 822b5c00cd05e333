//! Production behaviour on the real mail lab: two daemons on one PostgreSQL database with
//! one killed mid-burst (always PostgreSQL, from `LEADGATE_TEST_PG_URL`, whatever
//! `LEADGATE_TEST_BACKEND` says), a clean SIGTERM during a burst, and the HTTP endpoint
//! (health, metrics, one-click unsubscribe) over real HTTP, and processes starting
//! together on a new SQLite file (always SQLite); on the backend `LEADGATE_TEST_BACKEND`
//! names, the daemon reminding an owner past a real deadline by itself, and emails a
//! killed daemon had leased going out at once after the restart. Run `scripts/test-env`
//! first. Domains: s15.test, s16.test, s20.test and s21.test only.

use crate::support::app::TestApp;
use crate::support::forms::Form;
use crate::support::{lab, smtp_send};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ROUTES: &str = r#"
[[routes]]
name = "everyone-else"
owner = "bob"
"#;

const BURST: usize = 30;

/// A Contact-Form-7-style notification, submitter `burst{n}@example.net`.
fn notification(app: &TestApp, n: usize) -> Vec<u8> {
    Form {
        to: &app.inbox,
        id: &format!("prod-{n}-{}-{}", std::process::id(), app.domain),
        name: &format!("Burst Person {n}"),
        email: &format!("burst{n}@example.net"),
        message: &format!("Please send me a quote for job number {n}."),
    }
    .cf7(&format!("Quote request {n}"))
}

/// A daemon we hold ourselves: its own log file, its exit status.
struct Proc {
    child: Option<Child>,
    log: PathBuf,
}

impl Proc {
    fn start(app: &TestApp, name: &str, config: &std::path::Path) -> Proc {
        let log = app.dir.path().join(format!("{name}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_leadgate"))
            .arg("--config")
            .arg(config)
            .arg("run")
            .env_remove("LEADGATE_CONFIG")
            .env("RUST_LOG", "leadgate=debug,info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("start leadgate run");
        Proc {
            child: Some(child),
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn wait_log(&self, needle: &str, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if self.log().contains(needle) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM; the exit status (panics after 40 s).
    fn term(&mut self) -> std::process::ExitStatus {
        let c = self.child.as_mut().expect("running");
        Command::new("kill")
            .arg("-TERM")
            .arg(c.id().to_string())
            .status()
            .expect("kill -TERM");
        let end = Instant::now() + Duration::from_secs(40);
        while Instant::now() < end {
            if let Ok(Some(status)) = c.try_wait() {
                self.child = None;
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "leadgate did not stop within 40 s of SIGTERM:\n{}",
            self.log()
        );
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A fresh PostgreSQL database from `LEADGATE_TEST_PG_URL` (required: this test is about
/// PostgreSQL, so it fails with the fix instead of skipping).
async fn fresh_pg_url(tag: &str) -> String {
    use sqlx::Executor;
    let base = lab().pg_url.clone().expect(
        "the production module needs PostgreSQL: LEADGATE_TEST_PG_URL (run scripts/test-env)",
    );
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&base)
        .await
        .expect("connect to the test PostgreSQL");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let name = format!("lg_prod_{tag}_{}_{nanos}", std::process::id());
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create db");
    let i = base
        .rfind('/')
        .expect("LEADGATE_TEST_PG_URL has a database part");
    format!("{}/{name}", &base[..i])
}

/// `app`'s config with its database switched to `url`.
fn use_database(app: &mut TestApp, url: &str) {
    let config = std::fs::read_to_string(&app.config_path).unwrap();
    let old = format!("url = \"{}\"", app.database_url);
    assert!(config.contains(&old), "config has {old}");
    std::fs::write(
        &app.config_path,
        config.replace(&old, &format!("url = \"{url}\"")),
    )
    .unwrap();
    app.database_url = url.to_owned();
}

/// A relay secret of this run only: tracked addresses (lead id + MAC) then differ from
/// earlier runs', whose owner emails are still in the shared owners' mailboxes.
fn fresh_secret(app: &TestApp) {
    let config = std::fs::read_to_string(&app.config_path).unwrap();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let config = config.replace(
        "secret = \"test-secret-",
        &format!("secret = \"run-{nanos}-test-secret-"),
    );
    std::fs::write(&app.config_path, config).unwrap();
}

/// How many of `raws` (owner emails) are about each of `leads`, by the tracked address in
/// Reply-To; mail about other leads (earlier runs) is left out.
fn leads_mailed(leads: &[serde_json::Value], raws: &[Vec<u8>]) -> BTreeMap<String, usize> {
    let ours: BTreeSet<&str> = leads
        .iter()
        .filter_map(|l| l["tracked_address"].as_str())
        .collect();
    let mut out = BTreeMap::new();
    for raw in raws {
        let text = String::from_utf8_lossy(raw);
        let tracked = text
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("reply-to:"))
            .map(|l| l[9..].trim().to_owned());
        if let Some(t) = tracked.filter(|t| ours.contains(t.as_str())) {
            *out.entry(t).or_insert(0) += 1;
        }
    }
    out
}

/// Waits until each of `leads` has at least one owner email in bob's mailbox.
async fn wait_mailed(
    app: &TestApp,
    leads: &[serde_json::Value],
    timeout: Duration,
) -> BTreeMap<String, usize> {
    let end = Instant::now() + timeout;
    loop {
        let per_lead = leads_mailed(leads, &app.mine("bob@team.test").await);
        if per_lead.len() >= leads.len() || Instant::now() > end {
            // Late duplicates would land now.
            tokio::time::sleep(Duration::from_secs(1)).await;
            return leads_mailed(leads, &app.mine("bob@team.test").await);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_daemons_on_postgres_survive_the_leader_being_killed_mid_burst() {
    let mut app = TestApp::new(15, ROUTES).await;
    let url = fresh_pg_url("ha").await;
    use_database(&mut app, &url);
    fresh_secret(&app);

    let mut a = Proc::start(&app, "a", &app.config_path);
    assert!(
        a.wait_log("IMAP mailbox selected", Duration::from_secs(60))
            .await,
        "A leads and watches:\n{}",
        a.log()
    );
    let b = Proc::start(&app, "b", &app.config_path);
    assert!(
        b.wait_log("leadgate running", Duration::from_secs(60))
            .await,
        "B starts:\n{}",
        b.log()
    );
    // B must follow, not watch, while A lives.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(
        !b.log().contains("IMAP mailbox selected"),
        "only the leader watches:\n{}",
        b.log()
    );

    // The burst keeps arriving while the leader dies and B takes over.
    let sender = {
        let raws: Vec<Vec<u8>> = (0..BURST).map(|n| notification(&app, n)).collect();
        let inbox = app.inbox.clone();
        tokio::spawn(async move {
            for raw in raws {
                smtp_send(&raw, &[&inbox]).await;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let end = Instant::now() + Duration::from_secs(60);
    while a.log().matches("message stored").count() < 5 && Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let before = a.log().matches("message stored").count();
    a.kill9();
    let killed_at = Instant::now();
    assert!(
        b.wait_log("IMAP mailbox selected", Duration::from_secs(30))
            .await,
        "B took over within 30 s:\n{}",
        b.log()
    );
    let takeover = killed_at.elapsed();
    sender.await.expect("burst sent");

    let leads = app.wait_for_leads(BURST, Duration::from_secs(90)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let leads = if leads.len() == BURST {
        app.leads()
    } else {
        leads
    };
    let emails: BTreeSet<String> = leads
        .iter()
        .map(|l| l["email"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(
        (leads.len(), emails.len()),
        (BURST, BURST),
        "every notification is exactly one lead ({before} before the kill); A:\n{}\nB:\n{}",
        a.log(),
        b.log()
    );

    // A row A held when it died comes back once B sees A's instance lock gone (within
    // 5 s), not when its lease ends.
    let per_lead = wait_mailed(&app, &leads, Duration::from_secs(200)).await;
    let tracked: BTreeSet<String> = leads
        .iter()
        .map(|l| l["tracked_address"].as_str().unwrap().to_owned())
        .collect();
    let mailed: BTreeSet<String> = per_lead.keys().cloned().collect();
    assert_eq!(mailed, tracked, "every owner email went out");
    let twice: Vec<_> = per_lead.iter().filter(|(_, &n)| n > 1).collect();
    // A crash between SMTP's 250 and the commit can duplicate the one send A had in flight.
    assert!(
        twice.len() <= 1 && twice.iter().all(|(_, &n)| n == 2),
        "no email twice except one in flight at the kill: {twice:?}"
    );
    eprintln!(
        "killed A after {before} leads; B took over in {:.1} s; {} duplicate(s)",
        takeover.as_secs_f64(),
        twice.len()
    );
    drop(b);
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_during_a_burst_leaves_nothing_half_done_and_http_works() {
    let port = free_port();
    let extra = format!("{ROUTES}\n[http]\nlisten = \"127.0.0.1:{port}\"\n");
    let app = TestApp::new(16, &extra).await;
    fresh_secret(&app);

    let mut d = Proc::start(&app, "first", &app.config_path);
    assert!(
        d.wait_log("IMAP mailbox selected", Duration::from_secs(60))
            .await,
        "{}",
        d.log()
    );
    for n in 0..BURST {
        smtp_send(&notification(&app, n), &[&app.inbox]).await;
    }
    let end = Instant::now() + Duration::from_secs(60);
    while app.leads().len() < 3 && Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let status = d.term();
    assert!(status.success(), "exit code 0: {status:?}\n{}", d.log());
    assert!(d.log().contains("outbox flushed"), "{}", d.log());

    // Every message is either fully processed (stored, lead, keyword) or untouched.
    let messages: Vec<serde_json::Value> =
        serde_json::from_str(&app.cli(&["messages", "--json"])).unwrap();
    let leads = app.leads();
    assert_eq!(messages.len(), leads.len(), "a lead per stored message");
    let in_inbox = crate::support::imap_messages(&app.inbox).await.len();
    let mut done = 0;
    for n in 0..BURST {
        let mid = format!(
            "<prod-{n}-{}-{}@acme.example.com>",
            std::process::id(),
            app.domain
        );
        let flags = crate::support::flags_of(&app.inbox, "INBOX", &mid)
            .await
            .unwrap_or_default();
        let marked = flags.iter().any(|f| f.contains("LeadgateDone"));
        let stored = leads
            .iter()
            .any(|l| l["email"] == format!("burst{n}@example.net"));
        assert!(
            !marked || stored,
            "message {n} is marked done but has no lead"
        );
        done += usize::from(stored);
    }
    assert_eq!(in_inbox, BURST, "nothing deleted");
    eprintln!("SIGTERM after {done} of {BURST} leads");

    // A restart completes the rest, and each owner email goes out once.
    let d2 = Proc::start(&app, "second", &app.config_path);
    let leads = app.wait_for_leads(BURST, Duration::from_secs(90)).await;
    assert_eq!(leads.len(), BURST, "{}", d2.log());
    let per_lead = wait_mailed(&app, &leads, Duration::from_secs(90)).await;
    assert_eq!(per_lead.len(), BURST, "{per_lead:?}");
    assert!(
        per_lead.values().all(|&n| n == 1),
        "a clean stop sends nothing twice: {per_lead:?}"
    );

    // The first daemon finishes the batch in hand, which can be the whole burst: one more
    // notification makes sure the second one has processed mail before /metrics is read.
    smtp_send(&notification(&app, BURST), &[&app.inbox]).await;
    let leads = app.wait_for_leads(BURST + 1, Duration::from_secs(60)).await;
    assert_eq!(leads.len(), BURST + 1, "{}", d2.log());
    http_endpoint(&app, port, &leads, &d2).await;
}

async fn http_endpoint(app: &TestApp, port: u16, leads: &[serde_json::Value], d: &Proc) {
    let base = format!("http://127.0.0.1:{port}");
    let health = http(&format!("{base}/healthz"), "GET").await;
    assert_eq!(health.0, 200, "{health:?}\n{}", d.log());
    let h: serde_json::Value = serde_json::from_str(&health.1).unwrap();
    assert_eq!(h["status"], "ok");
    assert_eq!(h["database"]["reachable"], true);
    assert_eq!(h["imap"]["connected"], true);
    assert!(h["imap"]["last_fetch"].is_string(), "{h}");
    assert_eq!(h["outbox"]["dead"], 0);
    assert!(h["outbox"]["pending"].is_number());

    let (code, metrics) = http(&format!("{base}/metrics"), "GET").await;
    assert_eq!(code, 200);
    for needle in [
        "leadgate_messages_total{class=\"notification\"}",
        "leadgate_leads_created_total",
        "leadgate_assignments_total{rule=",
        "leadgate_outbox_sent_total",
        "leadgate_imap_reconnects_total",
        "leadgate_message_processing_seconds_bucket",
        "leadgate_outbox_pending",
    ] {
        assert!(metrics.contains(needle), "{needle} in:\n{metrics}");
    }

    let lead = &leads[0];
    let tracked = lead["tracked_address"].as_str().unwrap();
    let token = tracked
        .strip_prefix("reply+")
        .and_then(|t| t.split('@').next())
        .unwrap();
    let (code, page) = http(&format!("{base}/unsubscribe/{token}"), "GET").await;
    assert_eq!(code, 200);
    assert!(page.contains("method=\"post\""), "{page}");
    assert_eq!(
        app.show(lead["id"].as_i64().unwrap())["status"],
        lead["status"],
        "a GET changes nothing"
    );
    let bogus = format!("{}x", &token[..token.len() - 1]);
    assert_eq!(
        http(&format!("{base}/unsubscribe/{bogus}"), "POST").await.0,
        404
    );
    assert_eq!(
        http(&format!("{base}/unsubscribe/{token}"), "POST").await.0,
        200
    );
    let shown = app.show(lead["id"].as_i64().unwrap());
    assert_eq!(shown["status"], "opted_out", "{shown}");
    assert_eq!(
        http(&format!("{base}/unsubscribe/{token}"), "POST").await.0,
        200,
        "again: still fine"
    );
}

/// One HTTP/1.1 request with `curl`; (status, body).
async fn http(url: &str, method: &str) -> (u16, String) {
    let out = tokio::process::Command::new("curl")
        .args([
            "-s",
            "-X",
            method,
            "-w",
            "\n%{http_code}",
            "--max-time",
            "10",
        ])
        .args(if method == "POST" {
            vec!["-d", "List-Unsubscribe=One-Click"]
        } else {
            vec![]
        })
        .arg(url)
        .output()
        .await
        .expect("run curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", &text));
    (code.trim().parse().unwrap_or(0), body.to_owned())
}

/// A daemon and CLI commands started together on a new SQLite file (a deploy script, a
/// cron job): every process starts and the migrations are applied once, not raced.
#[tokio::test(flavor = "multi_thread")]
async fn processes_starting_together_on_a_new_sqlite_file_all_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("new.db");
    let config = dir.path().join("leadgate.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = \"sqlite://{db}\"\n[smtp]\nfrom = \"leadgate@leads.test\"\n\
             [outbox]\nfile_sink = \"{sent}\"\n[relay]\ndomain = \"leads.test\"\n\
             secret = \"0123456789abcdef0123456789abcdef\"\n[team]\nname = \"Acme\"\n\
             [[people]]\nid = \"alice\"\nemail = \"alice@team.test\"\n",
            db = db.display(),
            sent = dir.path().join("sent").display(),
        ),
    )
    .unwrap();
    let starts: Vec<Child> = (0..8)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_leadgate"))
                .arg("--config")
                .arg(&config)
                .args(["leads", "--json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in starts {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "every process starts: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    sqlx::any::install_default_drivers();
    let mut conn =
        <sqlx::AnyConnection as sqlx::Connection>::connect(&format!("sqlite://{}", db.display()))
            .await
            .unwrap();
    let applied: Vec<(i64, i64)> =
        sqlx::query_as("SELECT version, COUNT(*) FROM _sqlx_migrations GROUP BY version")
            .fetch_all(&mut conn)
            .await
            .unwrap();
    let shipped = std::fs::read_dir("migrations/sqlite").unwrap().count();
    assert_eq!(applied.len(), shipped, "{applied:?}");
    assert!(applied.iter().all(|(_, n)| *n == 1), "{applied:?}");
}

/// `user`'s mail of this run whose `X-Leadgate-Loop` (leadgate's purpose header) is
/// `purpose` and that is about `tracked` (its Reply-To).
async fn mail_of(app: &TestApp, user: &str, purpose: &str, tracked: &str) -> usize {
    app.mine(user)
        .await
        .iter()
        .map(|raw| leadgate::parse::view(raw))
        .filter(|v| v.header("X-Leadgate-Loop").map(str::trim) == Some(purpose))
        .filter(|v| {
            v.header("Reply-To")
                .is_some_and(|r| r.to_ascii_lowercase().contains(tracked))
        })
        .count()
}

/// The daemon sweeps on its own: past a real first-reply deadline the owner gets a
/// reminder in their mailbox. On PostgreSQL the leader's lock and the sweep's lock were
/// one key, so every sweep was refused and no reminder ever came. Also: `leadgate sweep`
/// while the daemon runs sweeps, and a sweep skipped for another in progress is logged.
#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_reminds_an_owner_past_a_real_deadline() {
    let extra = format!(
        "{ROUTES}\n[stale]\nfirst_reply_within = \"3s\"\nremind_every = \"1h\"\nsweep_every = \"1s\"\n"
    );
    let app = TestApp::new(20, &extra).await;
    let d = Proc::start(&app, "d", &app.config_path);
    smtp_send(&notification(&app, 1), &[&app.inbox]).await;
    let leads = app.wait_for_leads(1, Duration::from_secs(30)).await;
    assert_eq!(leads.len(), 1, "the lead is captured:\n{}", d.log());
    let tracked = leads[0]["tracked_address"]
        .as_str()
        .unwrap()
        .to_ascii_lowercase();

    let end = Instant::now() + Duration::from_secs(30);
    while mail_of(&app, "bob@team.test", "reminder", &tracked).await == 0 && Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert_eq!(
        mail_of(&app, "bob@team.test", "reminder", &tracked).await,
        1,
        "bob is reminded once, 3 s past the deadline, by the running daemon:\n{}",
        d.log()
    );

    // By hand while the daemon runs: it sweeps (the reminder is already queued: once).
    let out = app.cli_output(&["sweep", "--json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("sweep --json");
    assert!(
        out.status.success() && report["skipped"] == false,
        "leadgate sweep beside the daemon sweeps: {report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(report["drifting"].as_u64() >= Some(1), "{report}");

    if crate::support::app::backend_is_postgres() {
        // A sweep in progress elsewhere (here: its lock held by hand): the daemon says so.
        use sqlx::Connection;
        let mut conn = sqlx::AnyConnection::connect(&app.database_url)
            .await
            .unwrap();
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(leadgate::store::locks::SWEEP)
            .execute(&mut conn)
            .await
            .unwrap();
        assert!(
            d.wait_log("sweep skipped", Duration::from_secs(10)).await,
            "a skipped sweep is logged:\n{}",
            d.log()
        );
        // And `leadgate sweep` does not pretend: it waits, then says so and fails.
        let out = app.cli_output(&["sweep", "--lock-wait", "1s"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success() && stderr.contains("sweep not done"),
            "{stderr}"
        );
        conn.close().await.unwrap();
    }
}

/// Emails a daemon had leased when it was killed go out as soon as a daemon runs again,
/// not when their lease (60 s here) runs out: on SQLite every lease of a dead daemon is
/// taken back at start; on PostgreSQL a lease whose instance lock is gone is dead.
#[tokio::test(flavor = "multi_thread")]
async fn emails_leased_by_a_killed_daemon_go_out_at_once_after_restart() {
    const N: usize = 3;
    let app = TestApp::new(21, ROUTES).await;
    let config = std::fs::read_to_string(&app.config_path)
        .unwrap()
        .replace("lease = \"20s\"", "lease = \"60s\"");
    assert!(config.contains("lease = \"60s\""));
    std::fs::write(&app.config_path, &config).unwrap();
    // An SMTP server that accepts and never answers: the daemon hangs in its first send
    // with every due email leased.
    let hole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hole_port = hole.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in hole.incoming() {
            held.push(s);
        }
    });
    let hung_path = app.dir.path().join("hung.toml");
    std::fs::write(
        &hung_path,
        config.replace(
            &format!("port = {}", lab().smtp_port),
            &format!("port = {hole_port}"),
        ),
    )
    .unwrap();

    let paths: Vec<String> = (0..N)
        .map(|n| {
            let p = app.dir.path().join(format!("n{n}.eml"));
            std::fs::write(&p, notification(&app, 100 + n)).unwrap();
            p.display().to_string()
        })
        .collect();
    let mut args = vec!["import"];
    args.extend(paths.iter().map(String::as_str));
    app.cli(&args);
    let leads = app.leads();
    assert_eq!(leads.len(), N);

    let mut a = Proc::start(&app, "a", &hung_path);
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let mut db = sqlx::AnyConnection::connect(&app.database_url)
        .await
        .unwrap();
    let end = Instant::now() + Duration::from_secs(30);
    loop {
        let leased: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM outbox WHERE status = 'pending' AND lease_owner IS NOT NULL",
        )
        .fetch_one(&mut db)
        .await
        .unwrap();
        if leased as usize == N {
            break;
        }
        assert!(Instant::now() < end, "A leases the emails:\n{}", a.log());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    a.kill9();

    let restarted = Instant::now();
    let b = Proc::start(&app, "b", &app.config_path);
    // Timed on the database (Postfix's 250 recorded), not on reading bob's big mailbox.
    let end = restarted + Duration::from_secs(30);
    loop {
        let sent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE status = 'sent'")
            .fetch_one(&mut db)
            .await
            .unwrap();
        if sent as usize == N || Instant::now() > end {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let took = restarted.elapsed();
    db.close().await.unwrap();
    let per_lead = wait_mailed(&app, &leads, Duration::from_secs(60)).await;
    assert_eq!(
        per_lead.len(),
        N,
        "every owner email went out after the restart: {per_lead:?}\nB:\n{}",
        b.log()
    );
    assert!(
        per_lead.values().all(|&n| n == 1),
        "none twice (A never got a 250): {per_lead:?}"
    );
    assert!(
        took < Duration::from_secs(10),
        "out {took:?} after the restart, not after the 60 s lease:\n{}",
        b.log()
    );
}
