//! End to end on the real mail lab: ownership. A round-robin pool shares leads fairly;
//! `leadgate assign` hands a lead on with its context and the new owner accepts;
//! next/done/status/note land in the history; repeat submissions attach to the open lead;
//! a person leaving the team orphans their leads. Run `scripts/test-env` first.
//!
//! Owners' mailboxes are shared by every test and every run: each test tags its leads'
//! names with a run-unique word and counts only mail that carries it.

use crate::support::app::TestApp;
use crate::support::forms::Form;
use crate::support::{append, smtp_send};
use serde_json::Value;
use std::time::Duration;

/// A word unique to this run, to tell our mail from earlier runs' in shared mailboxes.
fn run_tag(test: &str) -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{test}{}x{}", std::process::id(), nanos % 1_000_000_000)
}

/// A WordPress-style plain notification: label lines (every parser reads these).
fn notification(app: &TestApp, key: &str, name: &str, email: &str, message: &str) -> Vec<u8> {
    Form {
        to: &app.inbox,
        id: &format!("ops-{key}-{}", app.domain),
        name,
        email,
        message,
    }
    .labelled()
}

/// `user`'s mail about this run's leads: (subject, text), decoded.
async fn tagged(app: &TestApp, user: &str, tag: &str) -> Vec<(String, String)> {
    app.mine(user)
        .await
        .iter()
        .map(|raw| leadgate::parse::view(raw))
        .filter(|v| v.subject.contains(tag) || v.text.contains(tag))
        .map(|v| (v.subject, v.text.to_string()))
        .collect()
}

async fn wait_tagged(
    app: &TestApp,
    user: &str,
    tag: &str,
    n: usize,
    timeout: Duration,
) -> Vec<(String, String)> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let got = tagged(app, user, tag).await;
        if got.len() >= n || std::time::Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn kinds(show: &Value) -> Vec<String> {
    show["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap().to_owned())
        .collect()
}

fn entry<'a>(show: &'a Value, kind: &str) -> Option<&'a Value> {
    show["history"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find(|a| a["kind"] == kind)
}

fn id_of(lead: &Value) -> i64 {
    lead["id"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_round_robin_pool_of_three_gets_six_leads_two_each_in_rotation() {
    let app = TestApp::new(
        5,
        r#"
[[routes]]
name = "pool"
pool = ["alice", "bob", "carol"]
strategy = "round_robin"
"#,
    )
    .await;
    let tag = run_tag("Pool");
    // Appended before the daemon starts, so the UIDs (and the processing order) are ours.
    for n in 0..6 {
        let raw = notification(
            &app,
            &format!("{tag}-{n}"),
            &format!("Lead{n} {tag}"),
            // Free mail: one customer there is no account for the next (no account routing).
            &format!("pool.{tag}.{n}@gmail.com"),
            &format!("Request number {n}"),
        );
        append(&app.inbox, "INBOX", &raw, None, None).await;
    }
    let daemon = app.start();
    // Let the daemon create the database first: two processes migrating one new SQLite
    // file at once can collide ("table people already exists").
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let leads = app.wait_for_leads(6, Duration::from_secs(30)).await;
    assert_eq!(leads.len(), 6, "six leads; log:\n{}", app.log());

    let pool = ["alice", "bob", "carol"];
    let owners: Vec<&str> = leads.iter().map(|l| l["owner"].as_str().unwrap()).collect();
    let start = pool.iter().position(|p| *p == owners[0]).unwrap();
    for (i, owner) in owners.iter().enumerate() {
        assert_eq!(*owner, pool[(start + i) % 3], "rotation order: {owners:?}");
        assert_eq!(
            leads[i]["name"],
            format!("Lead{i} {tag}"),
            "processed in order"
        );
    }
    for person in pool {
        let theirs: Vec<String> = leads
            .iter()
            .filter(|l| l["owner"] == person)
            .map(|l| format!("[LG-{}]", id_of(l)))
            .collect();
        assert_eq!(theirs.len(), 2, "{person}: {owners:?}");
        let mail = wait_tagged(
            &app,
            &format!("{person}@team.test"),
            &tag,
            2,
            Duration::from_secs(30),
        )
        .await;
        // Give a stray third email the chance to show up before counting.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mail = if mail.len() == 2 {
            tagged(&app, &format!("{person}@team.test"), &tag).await
        } else {
            mail
        };
        let mut refs: Vec<String> = mail
            .iter()
            .map(|(subject, _)| {
                assert!(subject.starts_with("New lead:"), "{subject}");
                theirs
                    .iter()
                    .find(|r| subject.contains(r.as_str()))
                    .unwrap_or_else(|| panic!("{person} got {subject}, not theirs"))
                    .clone()
            })
            .collect();
        refs.sort();
        let mut want = theirs.clone();
        want.sort();
        assert_eq!(
            refs, want,
            "{person}'s mailbox holds exactly their assignments"
        );
    }
    daemon.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn assign_hands_a_lead_on_with_context_and_the_cli_records_the_work() {
    let app = TestApp::new(
        6,
        r#"
[[routes]]
name = "everyone"
owner = "bob"
"#,
    )
    .await;
    let tag = run_tag("Hand");
    let daemon = app.start();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    smtp_send(
        &notification(
            &app,
            &tag,
            &format!("Jane {tag}"),
            "jane.hand@example.net",
            "Please quote a new roof",
        ),
        &[&app.inbox],
    )
    .await;
    let leads = app.wait_for_leads(1, Duration::from_secs(30)).await;
    assert_eq!(leads.len(), 1, "log:\n{}", app.log());
    let id = id_of(&leads[0]);
    let ids = id.to_string();
    assert_eq!(leads[0]["owner"], "bob");
    assert_eq!(
        wait_tagged(&app, "bob@team.test", &tag, 1, Duration::from_secs(30))
            .await
            .len(),
        1,
        "bob's assignment email"
    );

    let out = app.cli(&["assign", &ids, "carol", "--why", "carol covers roofing"]);
    assert!(out.contains("from bob to carol"), "{out}");
    let carol = wait_tagged(&app, "carol@team.test", &tag, 1, Duration::from_secs(30)).await;
    assert_eq!(carol.len(), 1, "carol got the handoff; log:\n{}", app.log());
    let (subject, text) = &carol[0];
    assert!(subject.starts_with("Handed to you:"), "{subject}");
    assert!(text.starts_with("##- Reply above this line"), "{text}");
    for want in [
        "carol covers roofing",
        "Please quote a new roof",
        "jane.hand@example.net",
        "History:",
        "captured",
        "handoff",
        &format!("leadgate accept {id}"),
    ] {
        assert!(text.contains(want), "handoff email lacks {want:?}:\n{text}");
    }
    let bob = wait_tagged(&app, "bob@team.test", &tag, 2, Duration::from_secs(30)).await;
    assert!(
        bob.iter()
            .any(|(s, t)| s.starts_with("Handed on to Carol White")
                && t.contains("carol covers roofing")),
        "bob is told: {bob:?}"
    );

    let lead = app.show(id);
    assert_eq!(lead["owner"], "carol");
    assert_eq!(lead["accepted"], false);
    let handoff = entry(&lead, "handoff").expect("handoff in history");
    assert_eq!(handoff["detail"], "from bob to carol: carol covers roofing");
    assert!(lead["drift"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d != "orphaned"));
    let listed: Vec<Value> =
        serde_json::from_str(&app.cli(&["leads", "--unaccepted", "--json"])).unwrap();
    assert_eq!(listed.len(), 1);

    let out = app.cli(&["accept", &ids]);
    assert!(out.contains("accepted by carol"), "{out}");
    let lead = app.show(id);
    assert_eq!(lead["accepted"], true);
    assert_eq!(entry(&lead, "accepted").unwrap()["actor"], "carol");
    let listed: Vec<Value> =
        serde_json::from_str(&app.cli(&["leads", "--unaccepted", "--json"])).unwrap();
    assert!(listed.is_empty());
    let listed: Vec<Value> =
        serde_json::from_str(&app.cli(&["leads", "--owner", "carol", "--json"])).unwrap();
    assert_eq!(listed.len(), 1);

    // An unknown person: the error names the team.
    let out = app.cli_output(&["assign", &ids, "zed"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("\"zed\"") && err.contains("carol (Carol White"),
        "{err}"
    );

    // next / done / note / status.
    app.cli(&[
        "next", &ids, "tomorrow", "10:00", "call", "back", "--by", "carol",
    ]);
    let lead = app.show(id);
    assert_eq!(lead["next_action"]["what"], "call back");
    assert!(lead["next_action"]["due"]
        .as_str()
        .unwrap()
        .contains("T09:00:00Z"));
    assert_eq!(entry(&lead, "next_action_set").unwrap()["actor"], "carol");
    let out = app.cli_output(&["next", &ids, "someday", "call"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not a time leadgate understands"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    app.cli(&["done", &ids]);
    assert_eq!(app.show(id)["next_action"], Value::Null);
    app.cli(&["note", &ids, "she", "prefers", "mornings"]);
    app.cli(&["status", &ids, "qualified"]);
    let out = app.cli_output(&["status", &ids, "new"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "a qualified lead cannot become new; it can become won, lost, archived, opted_out"
        ),
        "{err}"
    );
    let out = app.cli_output(&["status", &ids, "pending"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a status"));

    let lead = app.show(id);
    assert_eq!(lead["status"], "qualified");
    let listed: Vec<Value> =
        serde_json::from_str(&app.cli(&["leads", "--status", "qualified", "--json"])).unwrap();
    assert_eq!(listed.len(), 1);
    let listed: Vec<Value> =
        serde_json::from_str(&app.cli(&["leads", "--status", "new", "--json"])).unwrap();
    assert!(listed.is_empty());
    let k = kinds(&lead);
    let tail: Vec<&str> = k.iter().rev().take(4).rev().map(String::as_str).collect();
    assert_eq!(
        tail,
        ["next_action_set", "next_action_done", "note", "status"],
        "{k:?}"
    );
    assert_eq!(
        entry(&lead, "note").unwrap()["detail"],
        "she prefers mornings"
    );
    assert_eq!(entry(&lead, "status").unwrap()["detail"], "new → qualified");
    assert_eq!(
        entry(&lead, "next_action_done").unwrap()["detail"],
        "done: call back"
    );
    daemon.stop();
}

#[tokio::test(flavor = "multi_thread")]
async fn repeat_submissions_attach_while_open_and_a_person_leaving_orphans_their_leads() {
    let routes = r#"
[[routes]]
name = "everyone"
owner = "dave"
"#;
    let app = TestApp::new(7, routes).await;
    let tag = run_tag("Again");
    let daemon = app.start();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let name = format!("Sam {tag}");
    smtp_send(
        &notification(
            &app,
            &format!("{tag}-1"),
            &name,
            "sam.again@example.net",
            "First ask",
        ),
        &[&app.inbox],
    )
    .await;
    let leads = app.wait_for_leads(1, Duration::from_secs(30)).await;
    assert_eq!(leads.len(), 1, "log:\n{}", app.log());
    let first = id_of(&leads[0]);

    smtp_send(
        &notification(
            &app,
            &format!("{tag}-2"),
            &name,
            "Sam.Again@example.net",
            "Second ask",
        ),
        &[&app.inbox],
    )
    .await;
    let dave = wait_tagged(&app, "dave@team.test", &tag, 2, Duration::from_secs(30)).await;
    assert_eq!(
        dave.len(),
        2,
        "new lead + submitted again; log:\n{}",
        app.log()
    );
    assert!(
        dave.iter().any(|(s, _)| s.starts_with("Submitted again:")),
        "{dave:?}"
    );
    assert_eq!(app.leads().len(), 1, "attached, not a new lead");
    assert!(kinds(&app.show(first)).contains(&"resubmitted".to_owned()));

    app.cli(&["status", &first.to_string(), "won"]);
    smtp_send(
        &notification(
            &app,
            &format!("{tag}-3"),
            &name,
            "sam.again@example.net",
            "Third ask",
        ),
        &[&app.inbox],
    )
    .await;
    let leads = app.wait_for_leads(2, Duration::from_secs(30)).await;
    assert_eq!(
        leads.len(),
        2,
        "a closed lead does not take new submissions"
    );
    let second = id_of(&leads[1]);
    let captured = entry(&app.show(second), "captured").unwrap()["detail"].clone();
    assert!(
        captured
            .as_str()
            .unwrap()
            .contains(&format!("earlier lead #{first} is closed")),
        "linked to the old one: {captured}"
    );
    assert_eq!(leads[1]["owner"], "dave");
    daemon.stop();

    // Dave leaves: the operator removes him from the config (and his route).
    let config = std::fs::read_to_string(&app.config_path).unwrap();
    let dave_block =
        "[[people]]\nid = \"dave\"\nname = \"Dave Brown\"\nemail = \"dave@team.test\"\n";
    assert!(config.contains(dave_block));
    // Keep orphans listed for the digest instead of routing them again at the next sweep
    // (the default), so the team can see and take them.
    let config = config
        .replace(dave_block, "")
        .replace("owner = \"dave\"", "owner = \"alice\"")
        .replace(
            "manager = \"manager\"\n",
            "manager = \"manager\"\norphans = \"keep\"\n",
        );
    assert!(config.contains("orphans = \"keep\""));
    std::fs::write(&app.config_path, config).unwrap();
    let orphaned: Vec<Value> =
        serde_json::from_str(&app.cli(&["leads", "--orphaned", "--json"])).unwrap();
    assert!(orphaned.is_empty(), "not before the team is synced");

    let daemon = app.start();
    let ok = crate::support::wait_until(Duration::from_secs(20), || {
        let l: Vec<Value> =
            serde_json::from_str(&app.cli(&["leads", "--orphaned", "--json"])).unwrap();
        l.len() == 1
    })
    .await;
    assert!(ok, "dave's open lead is orphaned; log:\n{}", app.log());
    let orphaned: Vec<Value> =
        serde_json::from_str(&app.cli(&["leads", "--orphaned", "--json"])).unwrap();
    assert_eq!(id_of(&orphaned[0]), second, "the won lead is not orphaned");
    assert_eq!(orphaned[0]["owner"], "dave");
    assert!(orphaned[0]["drift"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d == "orphaned"));
    let drift: Vec<Value> =
        serde_json::from_str(&app.cli(&["leads", "--drift", "orphaned", "--json"])).unwrap();
    assert_eq!(drift.len(), 1);
    daemon.stop();
    // A second start does not say it twice.
    let daemon = app.start();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let marks = app.show(second)["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["detail"] == "orphaned: dave left the team")
        .count();
    assert_eq!(marks, 1);

    // Someone takes the orphan; its owner cannot accept it any more.
    let out = app.cli_output(&["accept", &second.to_string()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("dave left the team"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = app.cli(&["accept", &second.to_string(), "--as", "alice"]);
    assert!(
        out.contains("took the orphaned lead (dave left the team)"),
        "{out}"
    );
    let orphaned: Vec<Value> =
        serde_json::from_str(&app.cli(&["leads", "--orphaned", "--json"])).unwrap();
    assert!(orphaned.is_empty());
    daemon.stop();
}

/// Imports one notification per (key, name, email), in order, with `leadgate import`.
fn import(app: &TestApp, tag: &str, leads: &[(&str, &str)]) {
    let mut paths = Vec::new();
    for (i, (name, email)) in leads.iter().enumerate() {
        let path = app.dir.path().join(format!("{tag}-{i}.eml"));
        let raw = notification(
            app,
            &format!("{tag}-{i}"),
            &format!("{name} {tag}"),
            email,
            "Please call me",
        );
        std::fs::write(&path, raw).unwrap();
        paths.push(path.display().to_string());
    }
    let mut args = vec!["import"];
    args.extend(paths.iter().map(String::as_str));
    app.cli(&args);
}

#[tokio::test(flavor = "multi_thread")]
async fn submitters_from_different_companies_on_shared_domains_are_spread_over_the_pool() {
    // Import only, no IMAP: it shares s12 with the drift tests, which never read that
    // inbox either.
    let app = TestApp::new(
        12,
        r#"
[[routes]]
name = "pool"
pool = ["alice", "bob", "carol"]
strategy = "round_robin"
"#,
    )
    .await;
    let tag = run_tag("Shared");
    // Six people, three shared domains that are no free-mail provider (a university, a
    // regional ISP, a big employer); with every earlier lead an "account" this was 4/1/1.
    import(
        &app,
        &tag,
        &[
            ("Ann", "ann@uni.example.org"),
            ("Ben", "ben@isp.example.net"),
            ("Cat", "cat@uni.example.org"),
            ("Dan", "dan@corp.example.org"),
            ("Eve", "eve@uni.example.org"),
            ("Fay", "fay@uni.example.org"),
        ],
    );
    let leads = app.leads();
    assert_eq!(leads.len(), 6);
    let owners: Vec<&str> = leads.iter().map(|l| l["owner"].as_str().unwrap()).collect();
    for person in ["alice", "bob", "carol"] {
        let n = owners.iter().filter(|o| **o == person).count();
        assert_eq!(n, 2, "{person}: {owners:?}");
    }

    // Once a lead from the university becomes a customer, its owner is the account owner
    // of the next one from there, and "why this owner" names that lead.
    let won = &leads[2];
    let won_id = id_of(won).to_string();
    app.cli(&["status", &won_id, "won"]);
    import(&app, &format!("{tag}b"), &[("Gus", "gus@uni.example.org")]);
    let gus = app
        .leads()
        .into_iter()
        .find(|l| l["email"] == "gus@uni.example.org")
        .unwrap();
    assert_eq!(gus["owner"], won["owner"], "{gus:#}");
    let reason = app.show(id_of(&gus))["route_reason"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        reason,
        format!(
            "account uni.example.org (from won lead #{won_id}): {}",
            won["owner"].as_str().unwrap()
        )
    );
}
