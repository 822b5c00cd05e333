//! Desks end to end (DESIGN.md "Desks"): one daemon, one database, four teams. Three desks
//! take their mail from one IMAP login by recipient alias (`client-a@s25.test`, ... all
//! delivered to `inbox@s25.test`), the fourth has an IMAP account of its own
//! (`inbox@s26.test`) and its own relay domain. Lab domains: s25, s26.

use crate::support::app::TestApp;
use crate::support::forms::Form;
use crate::support::{imap_messages, lab, smtp_send, view};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

/// A desk file: its inbox, identity and team (`people` and `routes` as TOML).
fn desk(inbox: &str, identity: &str, team: &str) -> String {
    format!("{inbox}\n{identity}\n{team}\n")
}

const ALICE: &str = r#"
[[people]]
id = "alice"
name = "Alice Smith"
email = "alice@team.test"

[[routes]]
name = "all"
owner = "alice"
"#;

/// A web-form notification to `to`, the submitter `email` in the body.
fn notification(tag: &str, to: &str, name: &str, email: &str) -> Vec<u8> {
    Form {
        to,
        id: &format!("desk-{tag}-{}", std::process::id()),
        name,
        email,
        message: &format!("Please send me a quote ({tag})."),
    }
    .cf7(&format!("Quote request {tag}"))
}

fn lead_of<'a>(leads: &'a [serde_json::Value], desk: &str) -> &'a serde_json::Value {
    leads
        .iter()
        .find(|l| l["desk"] == desk)
        .unwrap_or_else(|| panic!("no lead on desk {desk}: {leads:#?}"))
}

async fn wait_mail_with(user: &str, needles: &[&str]) -> Vec<Vec<u8>> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let got: Vec<Vec<u8>> = imap_messages(user)
            .await
            .into_iter()
            .filter(|raw| {
                let text = String::from_utf8_lossy(raw).replace("=\r\n", "");
                needles.iter().all(|n| text.contains(n))
            })
            .collect();
        if !got.is_empty() || std::time::Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn four_desks_in_one_daemon_each_with_its_own_team_identity_clock_and_opt_outs() {
    let l = lab();
    let own = format!(
        r#"[inbox]
imap = {{ host = "{host}", port = {port}, tls = "none", username = "inbox@s26.test", password = "{password}", poll = "1s", start_from = "all" }}"#,
        host = l.host,
        port = l.imap_port,
        password = l.password,
    );
    crate::support::reset_mailbox("inbox@s26.test").await;
    // Desk B's clock: today and tomorrow are holidays (hours "always", UTC), so the first
    // reply is due an hour into the day after tomorrow.
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let tomorrow = today.tomorrow().unwrap();
    let after = tomorrow.tomorrow().unwrap();
    let desk_b_team = format!(
        "[team]\nname = \"Client B\"\ntimezone = \"UTC\"\nhours = \"always\"\nholidays = [\"{today}\", \"{tomorrow}\"]\n\n[[people]]\nid = \"bob\"\nname = \"Bob Jones\"\nemail = \"bob@team.test\"\n"
    );
    let files = [
        (
            "desks/client-a.toml",
            desk(
                "name = \"Client A\"\n[inbox]\naddresses = [\"Client-A@s25.test\"]",
                "[identity]\nfrom_name = \"Client A Roofing\"\nsignature = \"{owner} at Client A\"\nfooter = \"Client A Ltd, 1 High Street, Cardiff\"",
                ALICE,
            ),
        ),
        // No route: its leads are orphans, which the operator digest must rank first.
        (
            "desks/client-b.toml",
            desk("[inbox]\naddresses = \"client-b@s25.test\"", "", &desk_b_team),
        ),
        // Alice is on desk C too (same person, same address).
        (
            "desks/client-c.toml",
            desk("[inbox]\naddresses = \"client-c@s25.test\"", "", ALICE),
        ),
        (
            "desks/client-d.toml",
            desk(
                &own,
                "[identity]\nrelay_domain = \"s26.test\"",
                "[[people]]\nid = \"dave\"\nname = \"Dave Brown\"\nemail = \"dave@team.test\"\n\n[[routes]]\nname = \"all\"\nowner = \"dave\"\n",
            ),
        ),
    ];
    let files: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let extra = format!(
        "[desks]\ndir = \"desks\"\n\n[operator]\nto = \"manager@team.test\"\n\n[http]\nlisten = \"127.0.0.1:{port}\"\npublic_url = \"http://127.0.0.1:{port}\"\n"
    );
    let app = TestApp::with_files(25, "", &extra, &files).await;
    let run = app.run.clone();
    let jane = format!("jane.{run}@example.net");
    let joe = format!("joe.{run}@example.org");
    let kim = format!("kim.{run}@example.net");

    let check = app.cli_output(&["check-config"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );

    let daemon = app.start();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Jane writes to desks A and C (two clients she asked), Joe to B, Kim to D's account.
    smtp_send(
        &notification(&format!("a-{run}"), "client-a@s25.test", "Jane Doe", &jane),
        &["client-a@s25.test"],
    )
    .await;
    smtp_send(
        &notification(&format!("b-{run}"), "client-b@s25.test", "Joe Bloggs", &joe),
        &["client-b@s25.test"],
    )
    .await;
    smtp_send(
        &notification(&format!("c-{run}"), "client-c@s25.test", "Jane Doe", &jane),
        &["client-c@s25.test"],
    )
    .await;
    smtp_send(
        &notification(&format!("d-{run}"), "inbox@s26.test", "Kim Lee", &kim),
        &["inbox@s26.test"],
    )
    .await;
    // Mail for an address no desk has: kept as `other`, with the reason.
    smtp_send(
        &notification(
            &format!("x-{run}"),
            "nobody@s25.test",
            "Nemo",
            "nemo@example.net",
        ),
        &["nobody@s25.test"],
    )
    .await;

    let leads = app.wait_for_leads(4, WAIT).await;
    assert_eq!(leads.len(), 4, "{leads:#?}\nlog:\n{}", app.log());
    // Each notification is owned by its desk's routes.
    let (a, b, c, d) = (
        lead_of(&leads, "client-a"),
        lead_of(&leads, "client-b"),
        lead_of(&leads, "client-c"),
        lead_of(&leads, "client-d"),
    );
    assert_eq!(
        (&a["owner"], &a["email"]),
        (&"alice".into(), &jane.clone().into())
    );
    assert_eq!(b["owner"], serde_json::Value::Null, "desk B has no route");
    assert_eq!(
        (&c["owner"], &c["email"]),
        (&"alice".into(), &jane.clone().into())
    );
    assert_eq!(
        (&d["owner"], &d["email"]),
        (&"dave".into(), &kim.clone().into())
    );
    // Desk D's tracked addresses are on its own relay domain.
    let d_tracked = d["tracked_address"].as_str().unwrap();
    assert!(d_tracked.ends_with("@s26.test"), "{d_tracked}");
    assert!(a["tracked_address"]
        .as_str()
        .unwrap()
        .ends_with("@s25.test"));

    // /healthz names every mailbox watcher: the shared login's and desk D's own account.
    let health = tokio::process::Command::new("curl")
        .args(["-s", &format!("http://127.0.0.1:{port}/healthz")])
        .output()
        .await
        .unwrap();
    let health: serde_json::Value = serde_json::from_slice(&health.stdout).unwrap();
    let watchers: Vec<(&str, bool)> = health["watchers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["name"].as_str().unwrap(),
                w["connected"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        watchers,
        [
            ("imap watcher", true),
            ("imap watcher of desk client-d", true)
        ],
        "{health:#}"
    );
    assert_eq!(health["status"], "ok", "{health:#}");

    // `--desk` narrows every listing to one desk.
    let only_b: Vec<serde_json::Value> =
        serde_json::from_str(&app.cli(&["leads", "--desk", "client-b", "--json"])).unwrap();
    assert_eq!(only_b.len(), 1);
    assert_eq!(only_b[0]["desk"], "client-b");
    assert_eq!(only_b[0]["email"], joe.as_str());
    // Another desk's lead is not reachable through a desk's command.
    let wrong = app.cli_output(&["accept", &a["id"].to_string(), "--desk", "client-c"]);
    assert!(!wrong.status.success());
    // A lead is handed only to people of its desk: Dave is on desk D, not B.
    let b_id = b["id"].to_string();
    let stranger = app.cli_output(&["assign", &b_id, "dave"]);
    assert!(!stranger.status.success());
    assert!(
        String::from_utf8_lossy(&stranger.stderr).contains("no one called"),
        "{}",
        String::from_utf8_lossy(&stranger.stderr)
    );

    // A holiday skips the deadline: desk B's first reply is due the day after tomorrow.
    let due: jiff::Timestamp = b["next_action"]["due"].as_str().unwrap().parse().unwrap();
    assert_eq!(due.to_zoned(jiff::tz::TimeZone::UTC).date(), after, "{b:#}");

    // The owner's email is in the desk's identity: its name, signature and footer.
    let to_alice = wait_mail_with(
        "alice@team.test",
        &[&run, "Client A Ltd, 1 High Street, Cardiff"],
    )
    .await;
    assert_eq!(
        to_alice.len(),
        1,
        "alice's desk-A email; log:\n{}",
        app.log()
    );
    let v = view(&to_alice[0]);
    assert_eq!(
        v.from.as_ref().unwrap().name.as_deref(),
        Some("Client A Roofing")
    );
    assert!(
        v.text.as_str().contains("Client A Roofing at Client A"),
        "{}",
        v.text.as_str()
    );
    // Desk D's mail carries its Message-IDs and tracked address on its domain.
    let to_dave = wait_mail_with("dave@team.test", &[d_tracked]).await;
    assert_eq!(to_dave.len(), 1, "dave's desk-D email; log:\n{}", app.log());
    assert!(view(&to_dave[0]).message_id.unwrap().ends_with("@s26.test"));

    // The unclaimed mail is stored, as `other`, saying why.
    let others: Vec<serde_json::Value> =
        serde_json::from_str(&app.cli(&["messages", "--class", "other", "--json"])).unwrap();
    assert!(
        others.iter().any(|m| m["subject"]
            .as_str()
            .unwrap_or("")
            .contains(&format!("x-{run}"))
            && m["reason"].as_str().unwrap_or("").contains("no desk")),
        "{others:#?}"
    );

    // Jane opts out on desk A; desk C's relay to her still goes out.
    app.cli(&["optout", &jane, "--desk", "client-a"]);
    assert_eq!(app.show(a["id"].as_i64().unwrap())["status"], "opted_out");
    assert_eq!(app.show(c["id"].as_i64().unwrap())["status"], "new");
    let c_tracked = c["tracked_address"].as_str().unwrap();
    let words = format!("Desk C answer {run}");
    let reply = format!(
        "From: Alice Smith <alice@team.test>\r\nTo: {c_tracked}\r\nSubject: Re: your quote\r\n\
         Message-ID: <desk-c-reply-{run}@team.test>\r\nDate: Mon, 23 Nov 2026 11:00:00 +0000\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n{words}\r\n"
    );
    smtp_send(reply.as_bytes(), &[c_tracked]).await;
    let relayed = wait_mail_with("world@example.net", &[&words]).await;
    assert_eq!(
        relayed.len(),
        1,
        "desk C relayed to jane; log:\n{}",
        app.log()
    );
    assert_eq!(view(&relayed[0]).from.unwrap().address, c_tracked);

    // The operator digest ranks desks by drift: B (an orphan) first.
    let op: serde_json::Value =
        serde_json::from_str(&app.cli(&["digest", "--operator", "--json"])).unwrap();
    let ranked: Vec<&str> = op["desks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["desk"].as_str().unwrap())
        .collect();
    assert_eq!(ranked.len(), 4, "{op:#}");
    assert_eq!(ranked[0], "client-b", "{op:#}");
    assert_eq!(op["desks"][0]["orphaned"], 1, "{op:#}");
    // Each desk's line links its board, read-only: desk B's shows Joe's lead, not Jane's.
    let link = op["desks"][0]["board"].as_str().unwrap();
    assert!(
        link.starts_with(&format!("http://127.0.0.1:{port}/board/view/")),
        "{link}"
    );
    let page = tokio::process::Command::new("curl")
        .args(["-s", link])
        .output()
        .await
        .unwrap();
    let page = String::from_utf8_lossy(&page.stdout);
    assert!(page.contains("Joe Bloggs"), "{page}");
    assert!(!page.contains("Jane Doe"), "{page}");
    // Sent through the outbox to [operator] to (the daemon also sent today's at its start,
    // before any lead: that one ranks no drift).
    app.cli(&["digest", "--operator", "--send"]);
    let digest = wait_mail_with(
        "manager@team.test",
        &[&run, "Leads across 4 desks", "(client-b): 1 orphaned"],
    )
    .await;
    assert_eq!(digest.len(), 1, "log:\n{}", app.log());
    let text = view(&digest[0]).text.as_str().to_owned();
    assert!(
        text.find("(client-b)").unwrap() < text.find("(client-a)").unwrap(),
        "{text}"
    );
    // Bob is on desk B: the orphan can be his.
    app.cli(&["assign", &b_id, "bob"]);
    assert_eq!(app.show(b["id"].as_i64().unwrap())["owner"], "bob");
    daemon.stop();

    // Desk C's file removed: its live leads are nobody's to sweep, and both the operator's
    // digest and the daemon's start say so.
    let live_on_c = app
        .leads()
        .iter()
        .filter(|l| l["desk"] == "client-c")
        .filter(|l| {
            matches!(
                l["status"].as_str(),
                Some("triage" | "new" | "contacted" | "qualified")
            )
        })
        .count();
    assert!(live_on_c >= 1, "{:#?}", app.leads());
    let desks_dir = app.config_path.parent().unwrap().join("desks");
    std::fs::remove_file(desks_dir.join("client-c.toml")).unwrap();
    let op: serde_json::Value =
        serde_json::from_str(&app.cli(&["digest", "--operator", "--json"])).unwrap();
    assert_eq!(op["desks"].as_array().unwrap().len(), 3, "{op:#}");
    assert_eq!(
        op["unfiled"],
        serde_json::json!([{ "desk": "client-c", "live": live_on_c }]),
        "{op:#}"
    );
    let daemon = app.start();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !app.log().contains("no desk file names") && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let log = app.log();
    let warned = log
        .lines()
        .any(|l| l.contains("no desk file names") && l.contains("client-c"));
    assert!(warned, "{log}");
    daemon.stop();
}
