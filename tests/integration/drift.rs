//! End to end on the real mail lab, with `--now`: leads in each drift state get exactly
//! the right reminders in the right mailboxes, the digest lists exactly the drifting
//! leads, a second sweep at the same time sends nothing, escalation copies the manager,
//! and an unaccepted lead moves on after the acceptance timeout. Run `scripts/test-env`
//! first.
//!
//! Every test here imports its leads and starts no daemon, so none reads its `sN.test`
//! inbox: they share s12 and s13 (with ownership's import test), never a domain whose
//! inbox a daemon reads or another test empties.

use crate::support::app::{TestApp, TEAM_TOML};
use crate::support::forms::Form;
use sqlx::Connection;
use std::collections::BTreeMap;
use std::time::Duration;

/// The team mailboxes outlive a test run: the team's name (in every From) tells this
/// run's mail from earlier runs'.
async fn app(n: u8) -> (TestApp, String) {
    let run = format!(
        "Run{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let team = TEAM_TOML.replace("Test Team", &format!("Team {run}"));
    (TestApp::with_team(n, &team, CONFIG).await, run)
}

/// Routing gives nobody at capture (so every lead starts orphaned and the test sets the
/// owners); "pool" is only there for handing on unaccepted leads.
const CONFIG: &str = r#"
[[routes]]
name = "pool"
form = "Never matches"
pool = ["alice", "bob", "carol"]
strategy = "round_robin"

[stale]
first_reply_within = "1h"
accept_within = "2h"
idle_after = "3d"
remind_every = "24h"
escalate_after = "2d"

[digest]
to = ["manager@team.test", "dave@team.test"]
daily = "08:00"
"#;

/// Tuesday 2026-12-01 11:00 Berlin.
const T0: &str = "2026-12-01T10:00:00Z";

fn ms(t: &str) -> i64 {
    t.parse::<jiff::Timestamp>().unwrap().as_millisecond()
}

fn hours_from(t: &str, h: i64) -> i64 {
    ms(t) + h * 3_600_000
}

fn at(t: &str, h: i64) -> String {
    jiff::Timestamp::from_millisecond(hours_from(t, h))
        .unwrap()
        .to_string()
}

/// A Contact Form 7 notification from `email`.
fn notification(app: &TestApp, tag: &str, name: &str, email: &str) -> String {
    let id = format!("drift-{tag}-{}-{}", std::process::id(), app.domain);
    let message = format!("Please call me about {tag}.");
    let form = Form {
        to: &app.inbox,
        id: &id,
        name,
        email,
        message: &message,
    };
    String::from_utf8(form.cf7(&format!("Enquiry {tag}"))).expect("the form is text")
}

/// Imports one lead per (tag, name) and returns tag → lead id.
fn import(app: &TestApp, leads: &[(&str, &str)]) -> BTreeMap<String, i64> {
    let mut paths = Vec::new();
    for (tag, name) in leads {
        // A free-mail domain: no "existing account" routing between the test's leads.
        let email = format!("{tag}.{}@gmail.com", app.domain.replace('.', "-"));
        let path = app.dir.path().join(format!("{tag}.eml"));
        std::fs::write(&path, notification(app, tag, name, &email)).unwrap();
        paths.push(path.display().to_string());
    }
    let mut args = vec!["import"];
    args.extend(paths.iter().map(String::as_str));
    app.cli(&args);
    let mut ids = BTreeMap::new();
    for lead in app.leads() {
        let email = lead["email"].as_str().unwrap();
        let tag = email.split('.').next().unwrap().to_owned();
        ids.insert(tag, lead["id"].as_i64().unwrap());
    }
    assert_eq!(ids.len(), leads.len(), "one lead per notification: {ids:?}");
    ids
}

async fn db(app: &TestApp) -> sqlx::AnyConnection {
    sqlx::any::install_default_drivers();
    sqlx::AnyConnection::connect(&app.database_url)
        .await
        .expect("connect to the test database")
}

/// Sets a lead's state directly: owner, accepted, status and the times drift reads.
#[allow(clippy::too_many_arguments)]
async fn set(
    conn: &mut sqlx::AnyConnection,
    id: i64,
    owner: Option<&str>,
    accepted: bool,
    status: &str,
    created: i64,
    first_reply: Option<i64>,
    next: Option<(&str, i64)>,
    last_activity: i64,
    snoozed_until: Option<i64>,
) {
    sqlx::query(
        "UPDATE leads SET owner = $1, accepted = $2, assigned_at = $3, status = $4,
             created_at = $3, first_reply_at = $5, last_outbound_at = $5, next_action = $6,
             next_action_due = $7, last_activity_at = $8, snoozed_until = $9, route_rule = 'pool'
         WHERE id = $10",
    )
    .bind(owner)
    .bind(accepted as i64)
    .bind(created)
    .bind(status)
    .bind(first_reply)
    .bind(next.map(|n| n.0))
    .bind(next.map(|n| n.1))
    .bind(last_activity)
    .bind(snoozed_until)
    .bind(id)
    .execute(conn)
    .await
    .unwrap();
}

/// A header's value, unfolded.
fn header(raw: &str, name: &str) -> Option<String> {
    let head = raw.split("\r\n\r\n").next()?;
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    unfolded
        .lines()
        .find(|l| {
            l.len() > name.len()
                && l[..name.len()].eq_ignore_ascii_case(name)
                && l.as_bytes()[name.len()] == b':'
        })
        .map(|l| l[name.len() + 1..].trim().to_owned())
}

/// `user`'s mail of this test with leadgate purpose `purpose`, as text.
async fn mail(app: &(TestApp, String), user: &str, purposes: &[&str]) -> Vec<String> {
    let (app, run) = app;
    app.mine(user)
        .await
        .into_iter()
        .map(|raw| String::from_utf8_lossy(&raw).into_owned())
        .filter(|m| m.contains(run.as_str()))
        .filter(|m| header(m, "X-Leadgate-Loop").is_some_and(|p| purposes.contains(&p.as_str())))
        .collect()
}

/// Waits until `user` has `n` mails of these purposes (and a moment more, so extra
/// mail would show); returns them.
async fn expect_mail(
    app: &(TestApp, String),
    user: &str,
    purposes: &[&str],
    n: usize,
) -> Vec<String> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let got = mail(app, user, purposes).await;
        if got.len() >= n || std::time::Instant::now() > deadline {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            let got = mail(app, user, purposes).await;
            assert_eq!(
                got.len(),
                n,
                "{user}: {n} mail(s) of {purposes:?} expected, got:\n{}",
                got.iter()
                    .map(|m| header(m, "Subject").unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join("\n")
            );
            return got;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn subject_has(mails: &[String], needle: &str) -> bool {
    mails
        .iter()
        .any(|m| header(m, "Subject").is_some_and(|s| s.contains(needle)))
}

fn sweep(app: &TestApp, now: &str) -> serde_json::Value {
    serde_json::from_str(&app.cli(&["sweep", "--now", now, "--json"])).expect("sweep --json")
}

#[tokio::test(flavor = "multi_thread")]
async fn each_drift_state_gets_its_reminder_and_the_digest_lists_exactly_the_drifting() {
    let world = app(12).await;
    let app = &world.0;
    let ids = import(
        app,
        &[
            ("overdue", "Olga Overdue"),
            ("nonext", "Nina Nonext"),
            ("noreply", "Noah Noreply"),
            ("orphan", "Otto Orphan"),
            ("unaccepted", "Uma Unaccepted"),
            ("snoozed", "Sam Snoozed"),
            ("healthy", "Hank Healthy"),
        ],
    );
    let mut c = db(app).await;
    let h = |n| hours_from(T0, n);
    let id = |t: &str| ids[t];
    set(
        &mut c,
        id("overdue"),
        Some("alice"),
        true,
        "contacted",
        h(-72),
        Some(h(-70)),
        Some(("call back", h(-1))),
        h(-1),
        None,
    )
    .await;
    set(
        &mut c,
        id("nonext"),
        Some("bob"),
        true,
        "contacted",
        h(-6),
        Some(h(-5)),
        None,
        h(-5),
        None,
    )
    .await;
    set(
        &mut c,
        id("noreply"),
        Some("carol"),
        true,
        "new",
        h(-3),
        None,
        Some(("first reply", h(-2))),
        h(-3),
        None,
    )
    .await;
    set(
        &mut c,
        id("orphan"),
        None,
        false,
        "new",
        h(-1),
        Some(h(-1)),
        Some(("call", h(24))),
        h(-1),
        None,
    )
    .await;
    set(
        &mut c,
        id("unaccepted"),
        Some("alice"),
        false,
        "new",
        h(-3),
        Some(h(-3)),
        Some(("call", h(24))),
        h(-3),
        None,
    )
    .await;
    set(
        &mut c,
        id("snoozed"),
        Some("dave"),
        true,
        "contacted",
        h(-48),
        Some(h(-47)),
        Some(("quote", h(-2))),
        h(-2),
        Some(h(24)),
    )
    .await;
    set(
        &mut c,
        id("healthy"),
        Some("dave"),
        true,
        "contacted",
        h(-48),
        Some(h(-47)),
        Some(("quote", h(24))),
        h(-2),
        None,
    )
    .await;

    // The dry run says what it would do and does nothing.
    let dry: serde_json::Value =
        serde_json::from_str(&app.cli(&["sweep", "--now", T0, "--dry-run", "--json"])).unwrap();
    assert_eq!(dry["reminders"].as_array().unwrap().len(), 5, "{dry:#}");
    let again: serde_json::Value =
        serde_json::from_str(&app.cli(&["sweep", "--now", T0, "--dry-run", "--json"])).unwrap();
    assert_eq!(again["opened"], dry["opened"], "a dry run writes nothing");

    let report = sweep(app, T0);
    let mut reminded: Vec<(i64, String, bool)> = report["reminders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["lead"].as_i64().unwrap(),
                r["kind"].as_str().unwrap().to_owned(),
                r["escalated"].as_bool().unwrap(),
            )
        })
        .collect();
    reminded.sort();
    let mut expected = vec![
        (id("overdue"), "overdue".to_owned(), false),
        (id("nonext"), "no_next_action".to_owned(), false),
        (id("noreply"), "no_first_reply".to_owned(), false),
        (id("orphan"), "orphaned".to_owned(), true),
        (id("unaccepted"), "unaccepted".to_owned(), false),
    ];
    expected.sort();
    assert_eq!(reminded, expected, "{report:#}");

    let reminders = ["reminder", "escalation"];
    let alice = expect_mail(&world, "alice@team.test", &reminders, 2).await;
    assert!(subject_has(&alice, &format!("[LG-{}]", id("overdue"))));
    assert!(subject_has(&alice, &format!("[LG-{}]", id("unaccepted"))));
    let bob = expect_mail(&world, "bob@team.test", &reminders, 1).await;
    assert!(subject_has(&bob, &format!("[LG-{}]", id("nonext"))));
    let carol = expect_mail(&world, "carol@team.test", &reminders, 1).await;
    assert!(subject_has(&carol, &format!("[LG-{}]", id("noreply"))));
    let manager = expect_mail(&world, "manager@team.test", &reminders, 1).await;
    assert!(subject_has(&manager, "Needs an owner: Otto Orphan"));
    expect_mail(&world, "dave@team.test", &reminders, 0).await;

    // Every reminder: auto-generated, Reply-To the lead's tracked address, the marker,
    // what to do.
    let leads = app.leads();
    let tracked = |lead: i64| {
        leads.iter().find(|l| l["id"] == lead).unwrap()["tracked_address"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let overdue_mail = alice
        .iter()
        .find(|m| {
            header(m, "Subject")
                .unwrap()
                .contains(&format!("[LG-{}]", id("overdue")))
        })
        .unwrap();
    assert_eq!(
        header(overdue_mail, "Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    assert_eq!(
        header(overdue_mail, "Reply-To"),
        Some(tracked(id("overdue")))
    );
    assert!(
        overdue_mail.contains("##- Reply above this line"),
        "{overdue_mail}"
    );
    assert!(overdue_mail.contains("/done"), "{overdue_mail}");
    let history = app.show(id("overdue"))["history"].clone();
    assert!(
        history
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["kind"] == "reminder"),
        "{history:#}"
    );

    // The same time again: nothing new.
    let second = sweep(app, T0);
    assert_eq!(
        second["reminders"].as_array().unwrap().len(),
        0,
        "{second:#}"
    );
    assert_eq!(second["opened"].as_array().unwrap().len(), 0, "{second:#}");
    expect_mail(&world, "alice@team.test", &reminders, 2).await;
    expect_mail(&world, "manager@team.test", &reminders, 1).await;

    // The digest: to both readers, exactly the drifting leads, need-an-owner first.
    let out = app.cli(&["digest", "--now", T0, "--send"]);
    assert!(out.contains("sent"), "{out}");
    for reader in ["manager@team.test", "dave@team.test"] {
        let d = expect_mail(&world, reader, &["digest"], 1).await;
        let subject = header(&d[0], "Subject").unwrap();
        assert_eq!(subject, "2 leads need an owner, 4 more drifting");
        assert_eq!(
            header(&d[0], "Auto-Submitted").as_deref(),
            Some("auto-generated")
        );
        let printed = app.cli(&["digest", "--now", T0, "--print"]);
        for (tag, lead) in &ids {
            let listed = printed.contains(&format!("#{lead} "));
            assert_eq!(listed, tag != "healthy", "{tag} #{lead} in\n{printed}");
        }
        assert!(
            printed.find("NEED AN OWNER").unwrap() < printed.find("Olga Overdue").unwrap(),
            "{printed}"
        );
    }

    // Two days of overdue later: escalated to the manager too, one more each.
    let later = at(T0, 49);
    let report = sweep(app, &later);
    let mut escalated: Vec<i64> = report["reminders"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["escalated"] == true && r["kind"] == "overdue")
        .map(|r| r["lead"].as_i64().unwrap())
        .collect();
    escalated.sort();
    // Overdue since the first sweep: escalated (the snooze is over); overdue only since
    // today (the "call" actions due at T0 + 24h): reminded, not escalated.
    assert_eq!(escalated, vec![id("overdue"), id("snoozed")], "{report:#}");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let got = mail(&world, "manager@team.test", &["escalation"]).await;
        let to_alice = mail(&world, "alice@team.test", &["escalation"]).await;
        if subject_has(&got, "Escalated: Olga Overdue")
            && subject_has(&to_alice, "Escalated: Olga Overdue")
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the escalation reaches alice and the manager"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unaccepted_lead_is_reminded_once_then_moves_on() {
    let world = app(13).await;
    let app = &world.0;
    let ids = import(app, &[("waiting", "Walt Waiting")]);
    let lead = ids["waiting"];
    let mut c = db(app).await;
    let h = |n| hours_from(T0, n);
    set(
        &mut c,
        lead,
        Some("alice"),
        false,
        "new",
        h(-3),
        Some(h(-3)),
        Some(("call", h(48))),
        h(-3),
        None,
    )
    .await;

    let r = sweep(app, T0);
    assert_eq!(r["reminders"][0]["kind"], "unaccepted", "{r:#}");
    assert_eq!(r["moved"].as_array().unwrap().len(), 0);
    let alice = expect_mail(&world, "alice@team.test", &["reminder"], 1).await;
    assert!(alice[0].contains("/accept"), "{}", alice[0]);

    // Within the second window: no second reminder, no move.
    let r = sweep(app, &at(T0, 1));
    assert_eq!(r["reminders"].as_array().unwrap().len(), 0, "{r:#}");
    assert_eq!(r["moved"].as_array().unwrap().len(), 0, "{r:#}");

    // After it: handed to the next of the pool, with the reason; both are told.
    let r = sweep(app, &at(T0, 2));
    let moved = &r["moved"][0];
    assert_eq!(moved["lead"], lead, "{r:#}");
    assert_eq!(moved["from"], "alice");
    assert_eq!(moved["to"], "bob");
    let shown = app.show(lead);
    assert_eq!(shown["owner"], "bob");
    assert_eq!(shown["accepted"], false);
    let history = serde_json::to_string(&shown["history"]).unwrap();
    assert!(history.contains("not accepted within 2h"), "{history}");
    let bob = expect_mail(&world, "bob@team.test", &["handoff"], 1).await;
    assert!(
        bob[0].contains("Walt Waiting"),
        "bob is told the lead is his now"
    );
    expect_mail(&world, "bob@team.test", &["reminder"], 0).await;
    let notice = expect_mail(&world, "alice@team.test", &["handoff_notice"], 1).await;
    assert!(
        notice[0].contains("bob") || notice[0].contains("Bob"),
        "{}",
        notice[0]
    );
    expect_mail(&world, "alice@team.test", &["reminder"], 1).await;

    // And it does not move again at once: bob has his own window.
    let r = sweep(app, &at(T0, 2));
    assert_eq!(r["moved"].as_array().unwrap().len(), 0, "{r:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_weekly_review_scores_the_week_and_carries_its_chart() {
    let world = app(13).await;
    let app = &world.0;
    let ids = import(app, &[("quick", "Quinn Quick"), ("late", "Lara Late")]);
    let mut c = db(app).await;
    let h = |n| hours_from(T0, n);
    // Captured this week; one answered in 30 minutes, one never: one drift episode.
    set(
        &mut c,
        ids["quick"],
        Some("alice"),
        true,
        "contacted",
        h(-30),
        Some(h(-30) + 1_800_000),
        Some(("call", h(24))),
        h(-2),
        None,
    )
    .await;
    set(
        &mut c,
        ids["late"],
        Some("bob"),
        true,
        "new",
        h(-30),
        None,
        Some(("first reply", h(-29))),
        h(-30),
        None,
    )
    .await;
    sweep(app, &at(T0, -20));
    sweep(app, T0);

    let audit: serde_json::Value =
        serde_json::from_str(&app.cli(&["audit", "--now", T0, "--since", "7d", "--json"])).unwrap();
    let f = &audit["figures"];
    assert_eq!(f["live_leads"], 2, "{audit:#}");
    assert_eq!(f["live_with_accepted_owner"], 2);
    assert_eq!(f["new_leads"], 2);
    assert_eq!(
        f["drift_opened"], 2,
        "no first reply and overdue on the late lead"
    );
    assert_eq!(audit["score"]["checks"].as_array().unwrap().len(), 5);
    let score = audit["score"]["score"].as_u64().unwrap();
    assert!((1..=5).contains(&score));
    assert!(audit["score"]["explanation"]
        .as_str()
        .unwrap()
        .starts_with(&format!("Score {score} of 5")));
    assert_eq!(audit["first_replies"].as_array().unwrap().len(), 1);

    let out = app.cli(&["digest", "--now", T0, "--weekly", "--send"]);
    assert!(out.contains("sent"), "{out}");
    let review = expect_mail(&world, "manager@team.test", &["review"], 1).await;
    let m = &review[0];
    assert!(
        header(m, "Subject")
            .unwrap()
            .starts_with("Weekly ownership review: score"),
        "{m}"
    );
    assert!(m.contains("multipart/related"), "{m}");
    assert!(m.contains("image/png"), "{m}");
    assert!(
        m.contains("cid:review-chart@leadgate"),
        "the HTML shows the chart inline"
    );
    assert!(
        m.contains("<review-chart@leadgate>"),
        "the image part has that Content-ID"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn many_reminders_for_one_owner_come_as_one_mail_listing_every_lead() {
    // Import only: shares s12 (s22 is triage's, whose daemon reads that inbox).
    let world = app(12).await;
    let app = &world.0;
    let tags = ["ada", "ben", "cy", "dee", "eve"];
    let ids = import(
        app,
        &tags.iter().map(|t| (*t, "Some Lead")).collect::<Vec<_>>(),
    );
    let ids: Vec<i64> = tags.iter().map(|t| ids[*t]).collect();
    let mut c = db(app).await;
    let h = |n| hours_from(T0, n);
    // Five leads of alice's, each with a next action a day overdue.
    for &id in &ids {
        set(
            &mut c,
            id,
            Some("alice"),
            true,
            "contacted",
            h(-100),
            Some(h(-99)),
            Some(("call back", h(-24))),
            h(-30),
            None,
        )
        .await;
    }
    let r = sweep(app, T0);
    let mut reminded: Vec<i64> = r["reminders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            assert_eq!(x["kind"], "overdue", "{x:#}");
            assert_eq!(x["queued"], true, "{x:#}");
            x["lead"].as_i64().unwrap()
        })
        .collect();
    reminded.sort();
    assert_eq!(reminded, ids, "every lead reminded once: {r:#}");

    let alice = expect_mail(&world, "alice@team.test", &["reminder"], 1).await;
    let mail = mail_parser::MessageParser::default()
        .parse(alice[0].as_bytes())
        .unwrap();
    assert_eq!(mail.subject(), Some("5 leads need you: 5 overdue"));
    assert_eq!(
        header(&alice[0], "Auto-Submitted").as_deref(),
        Some("auto-generated")
    );
    let text = mail.body_text(0).unwrap();
    let leads = app.leads();
    for &id in &ids {
        let tracked = leads.iter().find(|l| l["id"] == id).unwrap()["tracked_address"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            text.contains(&format!("#{id} ")),
            "lead #{id} listed:\n{text}"
        );
        assert!(text.contains(&tracked), "its reply address:\n{text}");
        let history = serde_json::to_string(&app.show(id)["history"]).unwrap();
        assert!(
            history.contains("overdue reminder to alice (one mail for 5 reminders)"),
            "{history}"
        );
    }

    // The same time again: nothing new, and no second mail.
    let second = sweep(app, T0);
    assert_eq!(
        second["reminders"].as_array().unwrap().len(),
        0,
        "{second:#}"
    );
    expect_mail(&world, "alice@team.test", &["reminder"], 1).await;
}

/// Drift per kind in `leadgate digest --json`, counted over its lines.
fn digest_kinds(digest: &serde_json::Value) -> BTreeMap<String, u64> {
    let mut lines: Vec<&serde_json::Value> =
        digest["need_owner"].as_array().unwrap().iter().collect();
    for g in digest["groups"].as_array().unwrap() {
        lines.extend(g["lines"].as_array().unwrap());
    }
    let mut n = BTreeMap::new();
    for l in lines {
        for k in l["kinds"].as_array().unwrap() {
            *n.entry(k.as_str().unwrap().to_owned()).or_default() += 1;
        }
    }
    n
}

fn digest(app: &TestApp, now: &str) -> serde_json::Value {
    serde_json::from_str(&app.cli(&["digest", "--now", now, "--json"])).expect("digest --json")
}

/// Sweeps at `now` and checks that its report counts what the digest right after it lists.
fn sweep_and_digest(app: &TestApp, now: &str) -> (serde_json::Value, serde_json::Value) {
    let r = sweep(app, now);
    let d = digest(app, now);
    assert_eq!(
        r["drifting"], d["drifting"],
        "sweep:\n{r:#}\ndigest:\n{d:#}"
    );
    let by_kind: BTreeMap<String, u64> = serde_json::from_value(r["by_kind"].clone()).unwrap();
    assert_eq!(by_kind, digest_kinds(&d), "sweep:\n{r:#}\ndigest:\n{d:#}");
    (r, d)
}

fn reminded(sweep: &serde_json::Value, kind: &str) -> bool {
    sweep["reminders"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["kind"] == kind)
}

fn need_owner(d: &serde_json::Value) -> Vec<i64> {
    d["need_owner"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_i64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lead_nobody_accepts_stays_in_need_an_owner_however_often_it_moves_on() {
    // Import only: shares s13 with the test above, which never reads that inbox either.
    let world = app(13).await;
    let app = &world.0;
    let ids = import(app, &[("nobody", "Nora Nobody")]);
    let lead = ids["nobody"];
    let mut c = db(app).await;
    let h = |n| hours_from(T0, n);
    // Proposed to alice 3 h ago, answered once, and quiet for days with nothing planned:
    // unaccepted, no next action and idle. A move touches the lead, so it is idle no more.
    set(
        &mut c,
        lead,
        Some("alice"),
        false,
        "contacted",
        h(-3),
        Some(h(-3)),
        None,
        h(-80),
        None,
    )
    .await;

    let (r, d) = sweep_and_digest(app, T0);
    assert!(reminded(&r, "unaccepted"), "{r:#}");
    assert_eq!(need_owner(&d), [lead]);

    // alice's window after the reminder runs out: bob is proposed, and the lead is still
    // one that nobody accepted, since alice's first window ran out.
    let (r, d) = sweep_and_digest(app, &at(T0, 2));
    assert_eq!(r["moved"][0]["to"], "bob", "{r:#}");
    assert_eq!(need_owner(&d), [lead], "{d:#}");
    let line = &d["need_owner"][0];
    assert!(
        line["missing"]
            .as_str()
            .unwrap()
            .contains("handed on to bob"),
        "{line:#}"
    );
    let shown = app.show(lead);
    assert_eq!(shown["drift"][0], "unaccepted", "{shown:#}");

    // Within bob's window, and after it: still listed, reminded, then moved on again.
    let (r, d) = sweep_and_digest(app, &at(T0, 3));
    assert_eq!(need_owner(&d), [lead]);
    assert_eq!(r["moved"].as_array().unwrap().len(), 0, "{r:#}");
    let (r, _) = sweep_and_digest(app, &at(T0, 4));
    assert!(reminded(&r, "unaccepted"), "{r:#}");
    let (r, d) = sweep_and_digest(app, &at(T0, 6));
    assert_eq!(r["moved"][0]["to"], "carol", "{r:#}");
    assert_eq!(need_owner(&d), [lead]);

    // Each move is in the history, with since when nobody has accepted it.
    let shown = app.show(lead);
    let moves: Vec<&str> = shown["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] == "handoff")
        .map(|a| a["detail"].as_str().unwrap())
        .collect();
    assert_eq!(moves.len(), 2, "{moves:#?}");
    assert!(
        moves.iter().all(|m| m.contains("unaccepted since")),
        "{moves:#?}"
    );

    // Someone accepts: it is owned (the next action is still missing).
    app.cli(&["accept", &lead.to_string()]);
    let (_, d) = sweep_and_digest(app, &at(T0, 6));
    assert!(need_owner(&d).is_empty(), "{d:#}");
    assert_eq!(d["groups"][0]["owner"], "carol", "{d:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn submitting_the_form_again_is_the_lead_writing_again() {
    // Import only: shares s13 with the tests above, which never read that inbox either.
    let world = app(13).await;
    let app = &world.0;
    let ids = import(app, &[("again", "Abe Again")]);
    let lead = ids["again"];
    let mut c = db(app).await;
    // Wall-clock times: the resubmission below is processed now.
    let now = jiff::Timestamp::now().to_string();
    let h = |n| hours_from(&now, n);
    // Answered and owned, with a call planned in two days: owned and timed.
    set(
        &mut c,
        lead,
        Some("alice"),
        true,
        "contacted",
        h(-5),
        Some(h(-5)),
        Some(("call", h(48))),
        h(-5),
        None,
    )
    .await;
    let (r, _) = sweep_and_digest(app, &now);
    assert_eq!(r["drifting"], 0, "{r:#}");

    // The same person submits the form again: attached to the open lead...
    let email = app.show(lead)["email"].as_str().unwrap().to_owned();
    let path = app.dir.path().join("again-2.eml");
    let raw = notification(app, "again2", "Abe Again", &email);
    std::fs::write(&path, raw).unwrap();
    app.cli(&["import", &path.display().to_string()]);
    assert_eq!(app.leads().len(), 1, "attached, not a new lead");

    // ...and nobody answering within first_reply_within is drift, though the call is
    // still planned: the person is waiting.
    let (_, d) = sweep_and_digest(app, &at(&now, 0));
    assert_eq!(d["drifting"], 0, "{d:#}");
    let (r, d) = sweep_and_digest(app, &at(&now, 2));
    assert_eq!(r["by_kind"]["unanswered"], 1, "{r:#}");
    assert_eq!(d["groups"][0]["lines"][0]["id"], lead, "{d:#}");
}
