//! The leadgate side of end-to-end tests: a fresh database (SQLite file, or a fresh
//! PostgreSQL database when `LEADGATE_TEST_BACKEND=postgres`), a config file pointing at the
//! mail lab with its own isolated shared inbox (`inbox@sN.test`, catch-all for `sN.test`,
//! which is also the relay domain), the `leadgate` binary as a CLI or as a daemon process.
//!
//! Convention: a test whose daemon reads its inbox takes an `sN.test` domain (N in 1..=28)
//! no other test takes, so tests running in parallel never read or empty each other's
//! inbox. All suites run in one process, so the numbers are unique across modules:
//!
//! | N | who |
//! |---|---|
//! | 1-4, 17-19 | spine |
//! | 5-7 | ownership (daemon) |
//! | 8-11, 23, 24 | relay |
//! | 15, 16, 20, 21 | production (20 and 21 also hold imap_source's own folders, never INBOX) |
//! | 22 | triage |
//! | 12, 13 | shared by the import-only tests (drift, ownership): no daemon, inbox never read |
//! | 14 | smtp_sender's `reset_mailbox` test (empties it; no TestApp) |
//! | 25, 26 | desks (25: the shared login with the desks' aliases; 26: a desk's own account) |
//! | 27, 28 | free |
//!
//! No test empties a mailbox that another test reads: TestApp empties only its own inbox.
//!
//! A test that needs no inbox (its leads are imported; its daemon serves HTTP and sends
//! mail) uses [`TestApp::without_inbox`]: a domain of its own with no mailbox behind it
//! and no `[imap]`, so it takes no `sN.test` (the board's tests do this).
//!
//! Owners are alice/bob/carol/dave/manager@team.test and leads write from
//! @example.net/@example.org (world@example.net gets it all): filter what you read there by
//! this test's domain ([`TestApp::mine`]).
#![allow(dead_code)]

use super::{imap_messages, lab, reset_mailbox};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

pub const TEAM_TOML: &str = r#"
[team]
name = "Test Team"
timezone = "Europe/Berlin"
hours = "always"
manager = "manager"

[[people]]
id = "alice"
name = "Alice Smith"
email = "alice@team.test"

[[people]]
id = "bob"
name = "Bob Jones"
email = "bob@team.test"

[[people]]
id = "carol"
name = "Carol White"
email = "carol@team.test"

[[people]]
id = "dave"
name = "Dave Brown"
email = "dave@team.test"

[[people]]
id = "manager"
name = "Erin Manager"
email = "manager@team.test"
"#;

pub struct TestApp {
    /// `sN.test`: the relay domain, and the shared inbox is `inbox@sN.test`.
    pub domain: String,
    /// Unique per TestApp: in leadgate's sender address (`leadgate+<run>@sN.test`) and in the
    /// relay secret, so this run's mail is told apart from earlier runs' in shared mailboxes.
    pub run: String,
    pub inbox: String,
    pub dir: tempfile::TempDir,
    pub config_path: PathBuf,
    pub database_url: String,
}

pub fn backend_is_postgres() -> bool {
    std::env::var("LEADGATE_TEST_BACKEND").is_ok_and(|b| b == "postgres")
}

impl TestApp {
    /// A fresh world for domain `sN.test`: its inbox emptied, a new database, and a config
    /// made of the lab settings, [`TEAM_TOML`] and `extra` (routes, stale rules, ...).
    /// `extra` may override nothing above; write routes, [duty], [stale], [digest] there.
    pub async fn new(n: u8, extra: &str) -> TestApp {
        Self::with_team(n, TEAM_TOML, extra).await
    }

    pub async fn with_team(n: u8, team: &str, extra: &str) -> TestApp {
        Self::with_files(n, team, extra, &[]).await
    }

    /// Like [`TestApp::with_team`], with more files beside the config (desk files:
    /// `("desks/a.toml", text)`), written before leadgate first reads the config.
    pub async fn with_files(n: u8, team: &str, extra: &str, files: &[(&str, &str)]) -> TestApp {
        assert!(
            (1..=28).contains(&n),
            "test domains are s1.test .. s28.test"
        );
        Self::build(&format!("s{n}.test"), team, extra, files, true).await
    }

    /// A world without an inbox: no `[imap]` (the daemon runs its outbox, scheduler and
    /// HTTP endpoint), leads come in by `leadgate import`. `name` makes the relay domain
    /// `<name>.test`, which has no mailbox in the lab: mail to it is not read by anyone.
    /// `team` as in [`TestApp::with_team`], `files` as in [`TestApp::with_files`].
    pub async fn without_inbox(
        name: &str,
        team: &str,
        extra: &str,
        files: &[(&str, &str)],
    ) -> TestApp {
        Self::build(&format!("{name}.test"), team, extra, files, false).await
    }

    async fn build(
        domain: &str,
        team: &str,
        extra: &str,
        files: &[(&str, &str)],
        imap: bool,
    ) -> TestApp {
        let domain = domain.to_owned();
        let run = format!("r{}", rand_suffix());
        let inbox = format!("inbox@{domain}");
        if imap {
            reset_mailbox(&inbox).await;
        }
        let dir = tempfile::tempdir().expect("temp dir");
        let db_name: String = domain
            .chars()
            .take_while(|c| *c != '.')
            .filter(char::is_ascii_alphanumeric)
            .collect();
        let database_url = if backend_is_postgres() {
            fresh_pg_database(&format!("lg_{db_name}_{}", std::process::id())).await
        } else {
            format!("sqlite://{}", dir.path().join("leadgate.db").display())
        };
        let l = lab();
        let imap = if imap {
            format!(
                r#"
[imap]
host = "{host}"
port = {imap_port}
tls = "none"
username = "{inbox}"
password = "{password}"
idle = true
poll = "1s"
start_from = "all"
"#,
                host = l.host,
                imap_port = l.imap_port,
                password = l.password,
            )
        } else {
            String::new()
        };
        let config = format!(
            r#"
[database]
url = "{database_url}"
{imap}
[smtp]
host = "{host}"
port = {smtp_port}
tls = "none"
from = "leadgate+{run}@{domain}"
# Postfix on loopback answers in milliseconds; a short timeout allows a short lease.
timeout = "10s"

[relay]
domain = "{domain}"
secret = "test-secret-0123456789abcdef-{run}"

[outbox]
retry_after = "1s"
max_retry_after = "2s"
# Bounds a lease whose holder lives but is stuck; a dead holder's leases come back at once.
lease = "20s"

{team}
{extra}
"#,
            host = l.host,
            smtp_port = l.smtp_port,
        );
        let config_path = dir.path().join("leadgate.toml");
        std::fs::write(&config_path, config).expect("write config");
        for (name, text) in files {
            let path = dir.path().join(name);
            std::fs::create_dir_all(path.parent().expect("a file in a folder")).expect("mkdir");
            std::fs::write(path, text).expect("write a file beside the config");
        }
        let app = TestApp {
            domain,
            run,
            inbox,
            dir,
            config_path,
            database_url,
        };
        // Create the database (migrations) before a daemon and a CLI race to do it.
        app.cli(&["leads", "--json"]);
        app
    }

    /// `leadgate --config <ours> <args>` as a command to adjust.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_leadgate"));
        c.arg("--config").arg(&self.config_path).args(args);
        c.env_remove("LEADGATE_CONFIG");
        c
    }

    /// Runs a one-shot command; panics with its output if it fails.
    pub fn cli(&self, args: &[&str]) -> String {
        let out = self.cli_output(args);
        assert!(
            out.status.success(),
            "leadgate {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn cli_output(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run leadgate")
    }

    /// `leadgate leads --json`, parsed.
    pub fn leads(&self) -> Vec<serde_json::Value> {
        serde_json::from_str(&self.cli(&["leads", "--json"])).expect("leads --json is JSON")
    }

    /// `leadgate show ID --json`, parsed.
    pub fn show(&self, id: i64) -> serde_json::Value {
        serde_json::from_str(&self.cli(&["show", &id.to_string(), "--json"]))
            .expect("show --json is JSON")
    }

    /// Starts `leadgate run`; the process is killed when the returned value drops.
    pub fn start(&self) -> Daemon {
        let log = std::fs::File::create(
            self.dir
                .path()
                .join(format!("daemon-{}.log", rand_suffix())),
        )
        .expect("log file");
        let child = self
            .command(&["run"])
            .env("RUST_LOG", "leadgate=debug,info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start leadgate run");
        Daemon { child: Some(child) }
    }

    /// Messages in `user`'s INBOX that belong to this run: sent by this run's leadgate
    /// (its `From` carries the run id) or mentioning one of this run's tracked addresses.
    pub async fn mine(&self, user: &str) -> Vec<Vec<u8>> {
        let mut needles: Vec<&str> = vec![&self.run];
        let listing = self.cli_output(&["leads", "--json"]).stdout;
        let leads = serde_json::from_slice::<Vec<serde_json::Value>>(&listing).unwrap_or_default();
        needles.extend(leads.iter().filter_map(|l| l["tracked_address"].as_str()));
        // A whole team mailbox is read on every poll, by several tests at once: one
        // lower-casing and a memmem search per message, not a window compare per byte.
        let needles: Vec<memchr::memmem::Finder<'static>> = needles
            .iter()
            .map(|n| memchr::memmem::Finder::new(n.to_ascii_lowercase().as_bytes()).into_owned())
            .collect();
        imap_messages(user)
            .await
            .into_iter()
            .filter(|raw| {
                let raw = raw.to_ascii_lowercase();
                needles.iter().any(|n| n.find(&raw).is_some())
            })
            .collect()
    }

    /// Waits until `mine(user)` has at least `n` messages; returns them.
    pub async fn wait_for_mail(&self, user: &str, n: usize, timeout: Duration) -> Vec<Vec<u8>> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let got = self.mine(user).await;
            if got.len() >= n || std::time::Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Waits until `leads --json` has at least `n` leads; returns them.
    pub async fn wait_for_leads(&self, n: usize, timeout: Duration) -> Vec<serde_json::Value> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let leads = self.leads();
            if leads.len() >= n || std::time::Instant::now() > deadline {
                return leads;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    pub fn log(&self) -> String {
        let mut out = String::new();
        if let Ok(dir) = std::fs::read_dir(self.dir.path()) {
            for e in dir.flatten() {
                if e.file_name().to_string_lossy().starts_with("daemon-") {
                    out.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
                }
            }
        }
        out
    }
}

pub struct Daemon {
    child: Option<Child>,
}

impl Daemon {
    /// SIGKILL: a crash at whatever point the daemon is.
    pub fn kill9(mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM and wait: a clean stop.
    pub fn stop(mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            while std::time::Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
            panic!("leadgate did not stop within 30 s of SIGTERM");
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn rand_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    format!(
        "{}",
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    )
}

/// A new, empty PostgreSQL database next to `LEADGATE_TEST_PG_URL`'s.
async fn fresh_pg_database(name: &str) -> String {
    use sqlx::Executor;
    let base = lab()
        .pg_url
        .clone()
        .expect("LEADGATE_TEST_BACKEND=postgres needs LEADGATE_TEST_PG_URL (run scripts/test-env)");
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&base)
        .await
        .expect("connect to the test PostgreSQL");
    let name = format!("{name}_{}", rand_suffix());
    conn.execute(format!("DROP DATABASE IF EXISTS {name}").as_str())
        .await
        .expect("drop db");
    conn.execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create db");
    match base.rfind('/') {
        Some(i) => format!("{}/{name}", &base[..i]),
        None => panic!("LEADGATE_TEST_PG_URL has no database part: {base}"),
    }
}
