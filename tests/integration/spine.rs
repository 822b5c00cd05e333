//! End to end on the real mail lab: a notification sent by SMTP to the shared inbox
//! becomes exactly one lead with its routed owner, and the owner receives the assignment
//! email with `Reply-To` the lead's tracked address, across restarts, crashes,
//! re-deliveries and SMTP outages. Run `scripts/test-env` first. Lab domains: s1-s4, s17-s20.

use crate::support::app::TestApp;
use crate::support::forms::Form;
use crate::support::{append, smtp_send};
use std::time::Duration;

const ROUTES: &str = r#"
[[routes]]
name = "pricing"
form = "Pricing"
owner = "alice"

[[routes]]
name = "everyone-else"
owner = "bob"
"#;

/// A Contact-Form-7-style notification from a site's WordPress, submitter in Reply-To.
fn notification(app: &TestApp, n: usize, name: &str, email: &str) -> Vec<u8> {
    Form {
        to: &app.inbox,
        id: &format!("cf7-{n}-{}-{}", std::process::id(), app.domain),
        name,
        email,
        message: &format!("Please send me a quote for job number {n}.\r\nThanks!"),
    }
    .cf7(&format!("Quote request {n}"))
}

fn header<'a>(raw: &'a str, name: &str) -> Option<&'a str> {
    raw.lines()
        .find(|l| {
            l.len() > name.len()
                && l[..name.len()].eq_ignore_ascii_case(name)
                && l.as_bytes()[name.len()] == b':'
        })
        .map(|l| l[name.len() + 1..].trim())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_notification_becomes_one_owned_lead_and_an_owner_email() {
    let app = TestApp::new(1, ROUTES).await;
    let daemon = app.start();
    // Let the daemon connect and go idle, so the mail arrives through IDLE, not catch-up.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    smtp_send(
        &notification(&app, 1, "Jane Doe", "jane.doe@example.net"),
        &[&app.inbox],
    )
    .await;

    let leads = app.wait_for_leads(1, Duration::from_secs(20)).await;
    assert_eq!(leads.len(), 1, "one lead; daemon log:\n{}", app.log());
    let lead = &leads[0];
    assert_eq!(lead["owner"], "bob");
    assert_eq!(lead["email"], "jane.doe@example.net");
    assert_eq!(lead["name"], "Jane Doe");
    assert_eq!(lead["accepted"], false);
    let tracked = lead["tracked_address"].as_str().unwrap().to_owned();
    assert!(
        tracked.starts_with("reply+") && tracked.ends_with(&format!("@{}", app.domain)),
        "{tracked}"
    );

    let mail = app
        .wait_for_mail("bob@team.test", 1, Duration::from_secs(20))
        .await;
    assert_eq!(
        mail.len(),
        1,
        "bob got the assignment email; log:\n{}",
        app.log()
    );
    let raw = String::from_utf8_lossy(&mail[0]).into_owned();
    assert_eq!(header(&raw, "Reply-To"), Some(tracked.as_str()), "{raw}");
    let subject = header(&raw, "Subject").unwrap_or("");
    assert!(subject.contains("Jane Doe"), "{subject}");
    let view = leadgate::parse::view(&mail[0]);
    assert!(
        view.text.starts_with("##- Reply above this line"),
        "{}",
        view.text
    );
    assert!(view
        .text
        .contains("Please send me a quote for job number 1."));
    assert!(
        view.text.contains("rule everyone-else"),
        "says why bob: {}",
        view.text
    );
    assert!(view.html.is_some(), "HTML alternative");

    let history = app.show(lead["id"].as_i64().unwrap())["history"].clone();
    let kinds: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["captured", "assigned", "notified"]);
    assert!(alice_got_nothing(&app).await);
    daemon.stop();
}

async fn alice_got_nothing(app: &TestApp) -> bool {
    app.mine("alice@team.test").await.is_empty()
}

#[tokio::test(flavor = "multi_thread")]
async fn restart_misses_nothing_and_processes_nothing_twice() {
    let app = TestApp::new(2, ROUTES).await;
    let daemon = app.start();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    for n in 0..3 {
        smtp_send(
            &notification(&app, n, "Before Stop", &format!("before{n}@example.net")),
            &[&app.inbox],
        )
        .await;
    }
    assert_eq!(
        app.wait_for_leads(3, Duration::from_secs(20)).await.len(),
        3
    );
    daemon.stop();

    // Mail that arrives while leadgate is down, including one already marked \Seen by a
    // person reading the shared inbox.
    for n in 3..5 {
        smtp_send(
            &notification(&app, n, "While Down", &format!("down{n}@example.net")),
            &[&app.inbox],
        )
        .await;
    }
    append(
        &app.inbox,
        "INBOX",
        &notification(&app, 5, "Seen By Human", "seen@example.net"),
        Some("(\\Seen)"),
        None,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1000)).await;

    let daemon = app.start();
    let leads = app.wait_for_leads(6, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let leads_after = app.leads();
    assert_eq!(
        leads_after.len(),
        6,
        "3 before, 2 while down, 1 seen; log:\n{}",
        app.log()
    );
    assert_eq!(leads.len(), leads_after.len());
    let bob = app
        .wait_for_mail("bob@team.test", 6, Duration::from_secs(20))
        .await;
    assert_eq!(bob.len(), 6, "one assignment email per lead, none twice");
    daemon.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn redelivery_of_the_same_message_makes_no_second_lead() {
    let app = TestApp::new(3, ROUTES).await;
    let daemon = app.start();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let raw = notification(&app, 1, "Twice Sent", "twice@example.net");
    smtp_send(&raw, &[&app.inbox]).await;
    smtp_send(&raw, &[&app.inbox]).await; // same Message-ID and body, new Received headers
    let out = crate::support::wait_until_async(Duration::from_secs(20), || async {
        let m: Vec<serde_json::Value> =
            serde_json::from_str(&app.cli(&["messages", "--json"])).unwrap();
        m.len() == 1 && m[0]["sightings"] == 2
    })
    .await;
    assert!(out, "one message with two sightings; log:\n{}", app.log());
    assert_eq!(app.leads().len(), 1);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.mine("bob@team.test").await.len(), 1, "one owner email");
    daemon.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_during_a_burst_loses_nothing_and_duplicates_nothing() {
    let app = TestApp::new(4, ROUTES).await;
    let total = 24;
    let mut daemon = app.start();
    for n in 0..total {
        smtp_send(
            &notification(
                &app,
                n,
                &format!("Burst {n}"),
                &format!("burst{n}@example.net"),
            ),
            &[&app.inbox],
        )
        .await;
        if n % 6 == 5 {
            // Crash at whatever point it is, then come back.
            tokio::time::sleep(Duration::from_millis(150 + 40 * n as u64)).await;
            daemon.kill9();
            daemon = app.start();
        }
    }
    let leads = app.wait_for_leads(total, Duration::from_secs(40)).await;
    // An email whose sender was killed mid-send stays leased for the outbox's lease
    // (20 s in the tests' config) before another attempt: wait past it for every
    // distinct email.
    let distinct = |mail: &[Vec<u8>]| {
        let mut s: Vec<String> = mail
            .iter()
            .map(|m| leadgate::parse::view(m).subject)
            .collect();
        s.sort();
        s.dedup();
        s.len()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(150);
    let mut mail = app.mine("bob@team.test").await;
    while distinct(&mail) < total && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        mail = app.mine("bob@team.test").await;
    }
    daemon.stop();
    let mut emails: Vec<String> = leads
        .iter()
        .map(|l| l["email"].as_str().unwrap().to_owned())
        .collect();
    emails.sort();
    emails.dedup();
    assert_eq!(leads.len(), total, "exactly one lead per notification");
    assert_eq!(emails.len(), total, "no lead twice");
    // At least once; a duplicate only for a crash between SMTP's 250 and the commit.
    let mut subjects: Vec<String> = mail
        .iter()
        .map(|m| leadgate::parse::view(m).subject)
        .collect();
    subjects.sort();
    subjects.dedup();
    assert_eq!(subjects.len(), total, "every owner email was sent");
    assert!(
        mail.len() <= total + 4,
        "{} emails for {total} leads",
        mail.len()
    );
}

/// A TCP forwarder to the lab's SMTP port that can be switched off, to play an outage.
struct SmtpSwitch {
    port: u16,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl SmtpSwitch {
    fn new() -> SmtpSwitch {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        SmtpSwitch { port, task: None }
    }

    async fn on(&mut self) {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .unwrap();
        let target = format!("127.0.0.1:{}", crate::support::lab().smtp_port);
        self.task = Some(tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let target = target.clone();
                tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        }));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mail_waits_in_the_outbox_while_smtp_is_down() {
    let mut switch = SmtpSwitch::new();
    let app = TestApp::new(17, ROUTES).await;
    // Point leadgate at the (closed) switch port instead of Postfix.
    let config = std::fs::read_to_string(&app.config_path).unwrap();
    let lab_port = format!(
        "port = {}\ntls = \"none\"\nfrom",
        crate::support::lab().smtp_port
    );
    assert!(config.contains(&lab_port), "{config}");
    let config = config.replace(
        &lab_port,
        &format!("port = {}\ntls = \"none\"\nfrom", switch.port),
    );
    std::fs::write(&app.config_path, config).unwrap();

    let daemon = app.start();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    smtp_send(
        &notification(&app, 1, "Outage Lead", "outage@example.net"),
        &[&app.inbox],
    )
    .await;
    assert_eq!(
        app.wait_for_leads(1, Duration::from_secs(20)).await.len(),
        1
    );
    let pending = crate::support::wait_until_async(Duration::from_secs(20), || async {
        let rows: Vec<serde_json::Value> =
            serde_json::from_str(&app.cli(&["outbox", "--json"])).unwrap();
        rows.len() == 1
            && rows[0]["status"] == "pending"
            && rows[0]["attempts"].as_i64().unwrap_or(0) >= 2
    })
    .await;
    assert!(pending, "the email waits, retried; log:\n{}", app.log());
    assert!(app.mine("bob@team.test").await.is_empty());

    switch.on().await;
    let mail = app
        .wait_for_mail("bob@team.test", 1, Duration::from_secs(30))
        .await;
    assert_eq!(
        mail.len(),
        1,
        "delivered once SMTP is back; log:\n{}",
        app.log()
    );
    let rows: Vec<serde_json::Value> =
        serde_json::from_str(&app.cli(&["outbox", "--json"])).unwrap();
    assert_eq!(rows[0]["status"], "sent");
    daemon.stop();
    if let Some(t) = switch.task.take() {
        t.abort();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_stored_as_other_and_never_blocks_the_mail_behind_it() {
    let app = TestApp::new(18, ROUTES).await;
    let daemon = app.start();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let bad: Vec<Vec<u8>> = vec![
        b"\r\n".to_vec(),
        b"Subject: truncated\r\nContent-Type: multipart/mixed; boundary=\"x\"\r\n\r\n--x\r\nContent-Type: text/plain; charset=x-unknown-charset\r\nContent-Transfer-Encoding: base64\r\n\r\n%%%not base64".to_vec(),
        [b"Subject: nul\r\n\r\n".to_vec(), vec![0u8; 64], b"Name: \0\r\nEmail: \0@\0\r\n".to_vec()].concat(),
    ];
    for (i, raw) in bad.iter().enumerate() {
        append(&app.inbox, "INBOX", raw, None, None).await;
        let _ = i;
    }
    smtp_send(
        &notification(&app, 9, "After Bad", "afterbad@example.net"),
        &[&app.inbox],
    )
    .await;
    let leads = app.wait_for_leads(1, Duration::from_secs(20)).await;
    assert_eq!(
        leads.len(),
        1,
        "the notification behind bad mail becomes a lead; log:\n{}",
        app.log()
    );
    assert_eq!(leads[0]["email"], "afterbad@example.net");
    let messages: Vec<serde_json::Value> =
        serde_json::from_str(&app.cli(&["messages", "--json"])).unwrap();
    assert_eq!(messages.len(), 4, "every message is stored: {messages:#?}");
    let others: Vec<&serde_json::Value> =
        messages.iter().filter(|m| m["class"] == "other").collect();
    assert_eq!(others.len(), 3, "{messages:#?}");
    assert!(
        others
            .iter()
            .all(|m| !m["reason"].as_str().unwrap_or("").is_empty()),
        "each with its reason"
    );
    daemon.stop();
}

#[test]
fn import_of_the_corpus_maildir_and_parse_json_match_the_labels() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = rt.block_on(TestApp::with_team(
        19,
        crate::support::app::TEAM_TOML,
        ROUTES,
    ));
    // A maildir made of the corpus notifications.
    let corpus = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let maildir = app.dir.path().join("Maildir");
    for sub in ["cur", "new", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    let mut expected_leads = 0;
    for entry in std::fs::read_dir(&corpus).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("eml") {
            continue;
        }
        let label: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path.with_extension("json")).unwrap())
                .unwrap();
        if label["kind"] == "lead" {
            expected_leads += 1;
        }
        std::fs::copy(&path, maildir.join("cur").join(path.file_name().unwrap())).unwrap();

        // parse --json prints the label's format: compare kind, source and the fields.
        let out = app.cli(&["parse", "--json", path.to_str().unwrap()]);
        let got: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        assert_eq!(got["kind"], label["kind"], "{}", path.display());
        if label["kind"] == "lead" {
            for f in ["email", "phone"] {
                assert_eq!(
                    got["fields"][f],
                    label["fields"][f],
                    "{f} of {}",
                    path.display()
                );
            }
        }
    }
    assert!(expected_leads >= 50, "the corpus has its leads");
    let out = app.cli(&["import", "--json", maildir.to_str().unwrap()]);
    let results: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(results.len(), 70);
    let messages: Vec<serde_json::Value> =
        serde_json::from_str(&app.cli(&["messages", "--json", "--limit", "1000"])).unwrap();
    assert_eq!(messages.len(), 70, "every message stored with its class");
    let notifications = messages
        .iter()
        .filter(|m| m["class"] == "notification")
        .count();
    assert_eq!(notifications, expected_leads);
    // Repeat submissions by one address attach to one lead, so leads <= notifications.
    let leads = app.leads();
    assert!(!leads.is_empty() && leads.len() <= expected_leads);
    // Importing again changes nothing.
    let again: Vec<serde_json::Value> =
        serde_json::from_str(&app.cli(&["import", "--json", maildir.to_str().unwrap()])).unwrap();
    assert!(again
        .iter()
        .all(|r| r["outcome"].get("duplicate_of").is_some()));
    assert_eq!(app.leads().len(), leads.len());
}
