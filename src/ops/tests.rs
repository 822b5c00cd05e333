//! The operations against a real (SQLite) store.

use super::triage::FIRST_REPLY;
use super::*;
use crate::domain::actions::ContactField;
use crate::domain::lead::{ActivityKind, LeadStatus};
use crate::store::{state, Store};

const CONFIG: &str = r#"
[database]
url = "sqlite://unused.db"
[smtp]
host = "127.0.0.1"
port = 2525
tls = "none"
from = "leadgate@leads.test"
[relay]
domain = "leads.test"
secret = "0123456789abcdef0123456789abcdef"
[team]
name = "Acme"
timezone = "Europe/Berlin"
hours = "always"
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
[[routes]]
name = "all"
owner = "alice"
"#;

struct World {
    _dir: tempfile::TempDir,
    store: Store,
    s: Settings,
}

async fn world(extra: &str) -> World {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leadgate.toml");
    // `extra` goes into [team].
    let config = CONFIG.replace(
        "hours = \"always\"\n",
        &format!("hours = \"always\"\n{extra}\n"),
    );
    std::fs::write(&path, config).unwrap();
    let s = crate::config::load(&path).unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("t.db").display()))
        .await
        .unwrap();
    World {
        _dir: dir,
        store,
        s,
    }
}

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

async fn lead(tx: &mut Tx<'_>, owner: Option<&str>, email: &str) -> i64 {
    let id = leads::insert(
        tx,
        &leads::NewLead {
            desk: crate::config::DEFAULT_DESK,
            status: LeadStatus::New,
            owner,
            source: "contact-form-7",
            form: Some("Contact"),
            name: Some("Jane Doe"),
            email: Some(email),
            email_norm: Some(email),
            phone: Some("+1 555 0100"),
            company: None,
            message: Some("Please call me"),
            consent: Some(true),
            extra: r#"{"Service":"Roof"}"#,
            needs_template: false,
            route_rule: Some("all"),
            route_reason: "rule all: owner alice",
            next_action: Some("first reply"),
            next_action_due: Some(store::millis(t("2026-11-23T11:00:00Z"))),
            now: store::millis(t("2026-11-23T10:00:00Z")),
            previous_lead: None,
        },
    )
    .await
    .unwrap();
    tx.record(store::NewActivity::new(
        id,
        store::millis(t("2026-11-23T10:00:00Z")),
        "leadgate",
        ActivityKind::Captured,
        "captured from contact-form-7",
    ));
    id
}

async fn outbox(tx: &mut Tx<'_>) -> Vec<(String, String, String)> {
    store::outbox::raw_rows(tx)
        .await
        .unwrap()
        .into_iter()
        .map(|(recipients, purpose, raw)| {
            (
                recipients,
                purpose,
                String::from_utf8_lossy(&raw).into_owned(),
            )
        })
        .collect()
}

async fn kinds(tx: &mut Tx<'_>, id: i64) -> Vec<(String, String, String)> {
    leads::history(tx, id)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.actor, a.kind, a.detail))
        .collect()
}

#[tokio::test]
async fn assign_hands_over_with_context_and_the_new_owner_must_accept() {
    let w = world("").await;
    let mut tx = w.store.begin().await.unwrap();
    let id = lead(&mut tx, Some("bob"), "jane@example.net").await;
    let now = t("2026-11-23T12:00:00Z");
    let o = assign(
        &mut tx,
        &w.s,
        id,
        "Carol White",
        "she knows roofs",
        "alice",
        now,
    )
    .await
    .unwrap();
    assert!(o.queued_mail);
    assert!(o.summary.contains("from bob to carol"), "{}", o.summary);
    let row = leads::get(&mut tx, id).await.unwrap().unwrap();
    assert_eq!(row.owner.as_deref(), Some("carol"));
    assert!(!row.accepted);
    assert_eq!(row.assigned_at, Some(now));
    let h = kinds(&mut tx, id).await;
    assert!(h.contains(&(
        "alice".into(),
        "handoff".into(),
        "from bob to carol: she knows roofs".into()
    )));
    let mail = outbox(&mut tx).await;
    assert_eq!(mail.len(), 2, "{mail:?}");
    let (to, purpose, raw) = &mail[0];
    assert!(to.contains("carol@team.test") && purpose == "handoff");
    assert!(raw.contains("Reply-To: reply+"), "{raw}");
    assert!(raw.contains("Reply above this line"));
    assert!(raw.contains("she knows roofs"));
    assert!(raw.contains("History:") && raw.contains("captured from contact-form-7"));
    assert!(raw.contains("Please call me") && raw.contains("Roof"));
    let (to, purpose, raw) = &mail[1];
    assert!(
        to.contains("bob@team.test") && purpose == "handoff_notice",
        "{raw}"
    );

    let err = accept(&mut tx, &w.s, id, "bob", now).await.unwrap_err();
    assert!(matches!(err, OpError::NotAllowed(_)), "{err}");
    let o = accept(&mut tx, &w.s, id, "carol", now).await.unwrap();
    assert!(o.summary.contains("accepted"), "{}", o.summary);
    assert!(leads::get(&mut tx, id).await.unwrap().unwrap().accepted);
    let again = accept(&mut tx, &w.s, id, "carol", now).await.unwrap();
    assert!(again.summary.contains("already"), "{}", again.summary);
}

#[tokio::test]
async fn unknown_people_and_leads_are_named_with_what_exists() {
    let w = world("").await;
    let mut tx = w.store.begin().await.unwrap();
    let id = lead(&mut tx, Some("bob"), "jane@example.net").await;
    let now = t("2026-11-23T12:00:00Z");
    let err = assign(&mut tx, &w.s, id, "zed", "", "alice", now)
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("\"zed\"") && msg.contains("alice (Alice Smith"),
        "{msg}"
    );
    assert!(matches!(
        note(&mut tx, &w.s, 999, "x", "alice", now).await,
        Err(OpError::NoSuchLead(999))
    ));
    let err = assign(&mut tx, &w.s, id, "bob", "", "alice", now)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already bob's"), "{err}");
    // Taking it yourself is accepting it.
    let o = assign(&mut tx, &w.s, id, "alice", "", "alice", now)
        .await
        .unwrap();
    assert!(o.summary.contains("accepted"), "{}", o.summary);
    assert!(leads::get(&mut tx, id).await.unwrap().unwrap().accepted);
}

#[tokio::test]
async fn next_done_status_note_snooze_record_history_and_refuse_what_the_domain_refuses() {
    let w = world("").await;
    let mut tx = w.store.begin().await.unwrap();
    let id = lead(&mut tx, Some("alice"), "jane@example.net").await;
    let now = t("2026-11-23T12:00:00Z");
    let due = t("2026-11-24T09:00:00Z");
    set_next(&mut tx, &w.s, id, "send the quote", due, "alice", now)
        .await
        .unwrap();
    let row = leads::get(&mut tx, id).await.unwrap().unwrap();
    assert_eq!(row.next_action.as_deref(), Some("send the quote"));
    assert_eq!(row.next_action_due, Some(due));
    let past = set_next(
        &mut tx,
        &w.s,
        id,
        "x",
        t("2026-11-23T11:00:00Z"),
        "alice",
        now,
    )
    .await;
    assert!(matches!(past, Err(OpError::NotAllowed(_))));
    done(&mut tx, &w.s, id, "alice", now).await.unwrap();
    assert_eq!(
        leads::get(&mut tx, id).await.unwrap().unwrap().next_action,
        None
    );
    assert!(done(&mut tx, &w.s, id, "alice", now).await.is_err());
    note(&mut tx, &w.s, id, "called, no answer", "alice", now)
        .await
        .unwrap();
    snooze(&mut tx, &w.s, id, due, "alice", now).await.unwrap();
    assert_eq!(
        leads::get(&mut tx, id)
            .await
            .unwrap()
            .unwrap()
            .snoozed_until,
        Some(due)
    );
    set_status(&mut tx, &w.s, id, LeadStatus::Won, "alice", now)
        .await
        .unwrap();
    let err = set_status(&mut tx, &w.s, id, LeadStatus::New, "alice", now)
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("lead #{id}: a won lead cannot become new; it can become contacted, archived, opted_out")
    );
    let h: Vec<String> = kinds(&mut tx, id)
        .await
        .into_iter()
        .map(|(_, k, _)| k)
        .collect();
    assert_eq!(
        h,
        [
            "captured",
            "next_action_set",
            "next_action_done",
            "note",
            "snoozed",
            "status"
        ]
    );
    assert!(
        outbox(&mut tx).await.is_empty(),
        "none of these mail anyone"
    );
}

#[tokio::test]
async fn opt_out_closes_every_open_lead_of_the_address_once() {
    let w = world("").await;
    let mut tx = w.store.begin().await.unwrap();
    let a = lead(&mut tx, Some("alice"), "jane@example.net").await;
    let b = lead(&mut tx, Some("bob"), "jane@example.net").await;
    let other = lead(&mut tx, Some("bob"), "joe@example.net").await;
    let now = t("2026-11-23T12:00:00Z");
    set_status(&mut tx, &w.s, b, LeadStatus::Won, "bob", now)
        .await
        .unwrap();
    let o = opt_out(
        &mut tx,
        &w.s,
        "jane@example.net",
        "replied: stop",
        "leadgate",
        now,
    )
    .await
    .unwrap();
    assert!(
        o.summary.contains("opted out") && o.summary.contains(&format!("#{a}")),
        "{}",
        o.summary
    );
    for (id, status) in [(a, "opted_out"), (b, "won"), (other, "new")] {
        assert_eq!(
            leads::get(&mut tx, id)
                .await
                .unwrap()
                .unwrap()
                .status
                .as_str(),
            status
        );
    }
    assert!(state::is_opted_out(
        &mut tx,
        state::OptOutScope::Desk("default"),
        "jane@example.net"
    )
    .await
    .unwrap());
    // /status opted_out on one lead is an opt-out of the address.
    let joe2 = lead(&mut tx, Some("alice"), "joe@example.net").await;
    let o = apply(
        &mut tx,
        &w.s,
        other,
        &QuickAction::Status(LeadStatus::OptedOut),
        "bob",
        now,
    )
    .await
    .unwrap();
    assert!(o.summary.contains(&format!("#{joe2}")), "{}", o.summary);
    assert!(state::is_opted_out(
        &mut tx,
        state::OptOutScope::Desk("default"),
        "joe@example.net"
    )
    .await
    .unwrap());
    assert_eq!(
        leads::get(&mut tx, joe2)
            .await
            .unwrap()
            .unwrap()
            .status
            .as_str(),
        "opted_out"
    );
    let again = opt_out(&mut tx, &w.s, "jane@example.net", "x", "leadgate", now)
        .await
        .unwrap();
    assert!(again.summary.contains("already"), "{}", again.summary);
}

#[tokio::test]
async fn orphans_are_marked_once_and_routed_again_unless_kept() {
    for expect_moved in [true, false] {
        let w = world("").await;
        assert!(!w.s.team.keep_orphans, "reassign is the default");
        let mut s = w.s.clone();
        s.team.keep_orphans = !expect_moved;
        let mut tx = w.store.begin().await.unwrap();
        let id = lead(&mut tx, Some("zed"), "jane@example.net").await;
        let kept = lead(&mut tx, Some("bob"), "joe@example.net").await;
        let now = t("2026-11-23T12:00:00Z");
        assert_eq!(mark_orphans(&mut tx, &s, now).await.unwrap(), vec![id]);
        assert!(
            mark_orphans(&mut tx, &s, now).await.unwrap().is_empty(),
            "once"
        );
        let moved = reassign_orphans(&mut tx, &s, now).await.unwrap();
        let row = leads::get(&mut tx, id).await.unwrap().unwrap();
        if expect_moved {
            assert_eq!(moved, vec![id]);
            assert_eq!(row.owner.as_deref(), Some("alice"));
            assert!(!row.accepted);
            let h = kinds(&mut tx, id).await;
            assert!(
                h.iter().any(|(a, k, d)| a == "leadgate"
                    && k == "handoff"
                    && d.starts_with("from zed to alice: zed left the team")
                    && !d.contains("passed over")),
                "its own lead is no account to pass over: {h:?}"
            );
        } else {
            assert!(moved.is_empty());
            assert_eq!(row.owner.as_deref(), Some("zed"));
        }
        let marks = kinds(&mut tx, id)
            .await
            .into_iter()
            .filter(|(_, _, d)| d == "orphaned: zed left the team")
            .count();
        assert_eq!(marks, 1);
        assert_eq!(
            leads::get(&mut tx, kept)
                .await
                .unwrap()
                .unwrap()
                .owner
                .as_deref(),
            Some("bob")
        );
    }
}

#[tokio::test]
async fn leadgate_reassigns_or_orphans_and_quick_actions_run_as_their_sender() {
    let w = world("").await;
    let mut tx = w.store.begin().await.unwrap();
    let id = lead(&mut tx, Some("bob"), "jane@example.net").await;
    let now = t("2026-11-23T12:00:00Z");
    let o = reassign(
        &mut tx,
        &w.s,
        id,
        None,
        "bob did not accept in time; no manager: orphaned",
        now,
    )
    .await
    .unwrap();
    assert!(
        o.queued_mail && o.summary.contains("orphaned"),
        "{}",
        o.summary
    );
    let row = leads::get(&mut tx, id).await.unwrap().unwrap();
    assert_eq!(row.owner, None);
    let h = kinds(&mut tx, id).await;
    assert!(
        h.contains(&(
            "leadgate".into(),
            "handoff".into(),
            "from bob to nobody (orphaned): bob did not accept in time; no manager: orphaned"
                .into()
        )),
        "{h:?}"
    );
    let mail = outbox(&mut tx).await;
    assert_eq!(mail.len(), 1);
    assert!(mail[0].0.contains("bob@team.test") && mail[0].2.contains("Orphaned: Jane Doe"));
    assert!(reassign(&mut tx, &w.s, id, None, "again", now)
        .await
        .is_err());

    // /accept from carol takes the orphan; /assign alice hands it on.
    apply(&mut tx, &w.s, id, &QuickAction::Accept, "carol", now)
        .await
        .unwrap();
    let row = leads::get(&mut tx, id).await.unwrap().unwrap();
    assert_eq!((row.owner.as_deref(), row.accepted), (Some("carol"), true));
    apply(
        &mut tx,
        &w.s,
        id,
        &QuickAction::Assign("alice@team.test".into()),
        "carol",
        now,
    )
    .await
    .unwrap();
    let row = leads::get(&mut tx, id).await.unwrap().unwrap();
    assert_eq!((row.owner.as_deref(), row.accepted), (Some("alice"), false));
    let o = apply(&mut tx, &w.s, id, &QuickAction::OptOut, "alice", now)
        .await
        .unwrap();
    assert!(
        o.summary.contains("jane@example.net opted out"),
        "{}",
        o.summary
    );
}

#[tokio::test]
async fn the_orphan_policy_is_read_from_team_orphans() {
    assert!(world("orphans = \"keep\"").await.s.team.keep_orphans);
    assert!(!world("orphans = \"reassign\"").await.s.team.keep_orphans);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    let bad = CONFIG.replace(
        "hours = \"always\"\n",
        "hours = \"always\"\norphans = \"sometimes\"\n",
    );
    std::fs::write(&path, bad).unwrap();
    let err = crate::config::load(&path).unwrap_err().to_string();
    assert!(
        err.contains("team.orphans") && err.contains("\"keep\""),
        "{err}"
    );
}

#[tokio::test]
async fn the_first_reply_accepts_contacts_and_completes_the_first_reply_action() {
    let w = world("").await;
    let mut tx = w.store.begin().await.unwrap();
    let id = lead(&mut tx, Some("alice"), "jane@example.net").await;
    let now = t("2026-11-23T10:30:00Z");
    record_inbound(&mut tx, id, t("2026-11-23T10:10:00Z"))
        .await
        .unwrap();
    record_first_reply(&mut tx, &w.s, id, "alice", now)
        .await
        .unwrap();
    let row = leads::get(&mut tx, id).await.unwrap().unwrap();
    assert!(row.accepted);
    assert_eq!(row.status.as_str(), "contacted");
    assert_eq!(row.first_reply_at, Some(now));
    assert_eq!(row.last_outbound_at, Some(now));
    assert_eq!(row.last_inbound_at, Some(t("2026-11-23T10:10:00Z")));
    assert_eq!(row.next_action, None);
    let later = t("2026-11-23T11:00:00Z");
    let o = record_first_reply(&mut tx, &w.s, id, "alice", later)
        .await
        .unwrap();
    assert_eq!(o.summary, format!("lead #{id}: reply recorded"));
    let row = leads::get(&mut tx, id).await.unwrap().unwrap();
    assert_eq!(row.first_reply_at, Some(now), "first stays first");
    assert_eq!(row.last_outbound_at, Some(later));
    assert!(matches!(
        record_inbound(&mut tx, 999, now).await,
        Err(OpError::NoSuchLead(999))
    ));
}

/// A triage item as capture stores it: status triage, the decision as next action.
async fn triage_item(tx: &mut Tx<'_>, owner: Option<&str>, email: &str) -> i64 {
    let id = lead(tx, owner, email).await;
    leads::set_status(
        tx,
        id,
        LeadStatus::Triage,
        store::millis(t("2026-11-23T10:00:00Z")),
    )
    .await
    .unwrap();
    leads::set_next_action(
        tx,
        id,
        Some(TRIAGE_DECISION),
        Some(store::millis(t("2026-11-23T11:00:00Z"))),
        store::millis(t("2026-11-23T10:00:00Z")),
    )
    .await
    .unwrap();
    id
}

#[tokio::test]
async fn lead_makes_a_triage_item_a_new_lead_with_its_first_reply_clock_and_corrected_contact() {
    let w = world("").await;
    let mut tx = w.store.begin().await.unwrap();
    let id = triage_item(&mut tx, None, "tom@example.net").await;
    let now = t("2026-11-23T10:20:00Z");
    for action in [
        QuickAction::Lead,
        QuickAction::Contact {
            field: ContactField::Email,
            value: "tom.baker@example.org".into(),
        },
        QuickAction::Contact {
            field: ContactField::Company,
            value: "Baker Heating".into(),
        },
    ] {
        apply(&mut tx, &w.s, id, &action, "carol", now)
            .await
            .unwrap();
    }
    let row = leads::get(&mut tx, id).await.unwrap().unwrap();
    assert_eq!(row.status.as_str(), "new");
    assert_eq!((row.owner.as_deref(), row.accepted), (Some("carol"), true));
    assert_eq!(row.next_action.as_deref(), Some(FIRST_REPLY));
    assert_eq!(
        row.next_action_due,
        Some(t("2026-11-23T11:00:00Z")),
        "the clock started when the mail arrived"
    );
    assert_eq!(
        row.email.as_ref().map(|e| e.as_str()),
        Some("tom.baker@example.org")
    );
    assert_eq!(row.company.as_deref(), Some("Baker Heating"));
    let h = kinds(&mut tx, id).await;
    assert!(h
        .iter()
        .any(|(a, k, d)| a == "carol" && k == "status" && d.contains("triage → new")));
    assert!(h
        .iter()
        .any(|(_, k, d)| k == "note" && d.contains("was: tom@example.net")));
    // Decided once: a second /lead, or /notlead, is refused with what to do instead.
    let again = apply(&mut tx, &w.s, id, &QuickAction::Lead, "carol", now).await;
    assert!(
        matches!(&again, Err(OpError::NotAllowed(m)) if m.contains("not a triage item")),
        "{again:?}"
    );
    let not = apply(
        &mut tx,
        &w.s,
        id,
        &QuickAction::NotLead("x".into()),
        "carol",
        now,
    )
    .await;
    assert!(
        matches!(&not, Err(OpError::NotAllowed(m)) if m.contains("/status")),
        "{not:?}"
    );
}

#[tokio::test]
async fn notlead_archives_a_triage_item_with_the_reason_and_a_reply_decides_it_as_a_lead() {
    let w = world("").await;
    let mut tx = w.store.begin().await.unwrap();
    let now = t("2026-11-23T10:20:00Z");
    let una = triage_item(&mut tx, Some("alice"), "una@example.net").await;
    let why = QuickAction::NotLead("a supplier's sales call".into());
    apply(&mut tx, &w.s, una, &why, "alice", now).await.unwrap();
    let row = leads::get(&mut tx, una).await.unwrap().unwrap();
    assert_eq!((row.status.as_str(), row.next_action), ("archived", None));
    assert!(kinds(&mut tx, una)
        .await
        .iter()
        .any(|(_, k, d)| k == "status" && d.contains("not a lead: a supplier's sales call")));

    let vic = triage_item(&mut tx, Some("alice"), "vic@example.net").await;
    record_first_reply(&mut tx, &w.s, vic, "alice", now)
        .await
        .unwrap();
    let row = leads::get(&mut tx, vic).await.unwrap().unwrap();
    assert_eq!(
        row.status.as_str(),
        "contacted",
        "decided as a lead, then answered"
    );
    assert!(row.accepted);
    assert_eq!(row.next_action, None, "the first reply is done");
    assert!(kinds(&mut tx, vic)
        .await
        .iter()
        .any(|(_, k, d)| k == "status" && d.contains("triage → new: a lead (answered by alice)")));
}
