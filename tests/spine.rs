//! End to end on the real mail lab: a notification sent by SMTP to the shared inbox
//! becomes exactly one lead with its routed owner, and the owner receives the assignment
//! email with `Reply-To` the lead's tracked address, across restarts, crashes,
//! re-deliveries and SMTP outages. Run `scripts/test-env` first.

mod support;

use std::time::Duration;
use support::app::TestApp;
use support::{append, smtp_send};

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
    format!(
        "From: Acme Site <wordpress@acme.example.com>\r\n\
         To: {inbox}\r\n\
         Reply-To: {email}\r\n\
         Subject: Acme Site \"Quote request {n}\"\r\n\
         Message-ID: <cf7-{n}-{pid}-{domain}@acme.example.com>\r\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
         MIME-Version: 1.0\r\n\
         Content-Type: text/plain; charset=UTF-8\r\n\
         \r\n\
         From: {name} <{email}>\r\n\
         Subject: Quote request {n}\r\n\
         \r\n\
         Message Body:\r\n\
         Please send me a quote for job number {n}.\r\n\
         Thanks!\r\n\
         \r\n\
         -- \r\n\
         This e-mail was sent from a contact form on Acme Site (https://acme.example.com)\r\n",
        inbox = app.inbox,
        pid = std::process::id(),
        domain = app.domain,
    )
    .into_bytes()
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
    let out = support::wait_until_async(Duration::from_secs(20), || async {
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
