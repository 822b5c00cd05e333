//! The sweep's decisions and reminder mail; `settings`, `at` and `scanned` are shared with
//! the digest's and the reminders' tests.

use super::*;
use crate::domain::email::EmailAddress;
use crate::domain::lead::LeadStatus;
use crate::domain::lead::NextAction;

pub(crate) fn settings(extra: &str) -> Settings {
    let toml = format!(
        r#"
[smtp]
from = "leadgate@leads.test"
[outbox]
file_sink = "/nonexistent"
[relay]
domain = "leads.test"
secret = "0123456789abcdef0123456789abcdef"
[team]
name = "Acme"
timezone = "Europe/Berlin"
hours = "always"
manager = "erin"
[[people]]
id = "alice"
name = "Alice Smith"
email = "alice@team.test"
[[people]]
id = "erin"
name = "Erin Manager"
email = "erin@team.test"
{extra}
"#
    );
    crate::config::from_toml(&toml, std::path::Path::new(".")).unwrap()
}

pub(crate) fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// A lead as the scan returns it, judged at `now`.
pub(crate) fn scanned(s: &Settings, id: i64, f: impl FnOnce(&mut Lead), now: &str) -> Scanned {
    let mut row = Lead {
        id,
        status: LeadStatus::Contacted,
        owner: Some("alice".into()),
        accepted: true,
        assigned_at: Some(at("2026-11-20T09:00:00Z")),
        source: String::new(),
        form: None,
        name: Some(format!("Lead {id}")),
        email: Some(EmailAddress::parse(&format!("lead{id}@example.net")).unwrap()),
        phone: None,
        company: None,
        message: None,
        consent: None,
        extra: Default::default(),
        needs_template: false,
        route_rule: None,
        route_reason: String::new(),
        next_action: Some("call".into()),
        next_action_due: Some(at("2026-12-10T09:00:00Z")),
        created_at: at("2026-11-20T09:00:00Z"),
        last_activity_at: at("2026-11-30T09:00:00Z"),
        first_reply_at: Some(at("2026-11-20T09:30:00Z")),
        last_inbound_at: None,
        last_outbound_at: Some(at("2026-11-20T09:30:00Z")),
        snoozed_until: None,
        previous_lead: None,
        unaccepted_since: None,
        desk: crate::config::DEFAULT_DESK.into(),
    };
    f(&mut row);
    let owner_active = row.owner.as_deref().is_some_and(|o| s.person(o).is_some());
    let facts = row.facts(owner_active);
    let drift = drift::drift_details(&facts, &s.stale, &s.team.hours, &s.team.timezone, at(now));
    Scanned { row, facts, drift }
}

fn kinds_due(d: &[Decision]) -> Vec<(DriftKind, bool)> {
    d.iter()
        .filter_map(|d| match d {
            Decision::Remind { kind, escalate, .. } => Some((*kind, *escalate)),
            Decision::MoveOn { .. } => None,
        })
        .collect()
}

#[test]
fn a_missing_first_reply_is_one_reminder_not_two() {
    let s = settings("");
    let now = "2026-12-01T10:00:00Z";
    let lead = scanned(
        &s,
        1,
        |r| {
            r.status = LeadStatus::New;
            r.first_reply_at = None;
            r.last_outbound_at = None;
            r.created_at = at("2026-12-01T07:00:00Z");
            r.next_action = Some("first reply".into());
            r.next_action_due = Some(at("2026-12-01T08:00:00Z"));
        },
        now,
    );
    assert_eq!(lead.kinds(), [DriftKind::NoFirstReply, DriftKind::Overdue]);
    let d = decide(&lead, &[], &s, at(now));
    assert_eq!(kinds_due(&d), [(DriftKind::NoFirstReply, false)]);
}

#[test]
fn unaccepted_is_reminded_once_then_moves_on() {
    let s = settings("");
    let unaccepted = |now: &str| {
        scanned(
            &s,
            2,
            |r| {
                r.accepted = false;
                r.assigned_at = Some(at("2026-12-01T07:00:00Z"));
            },
            now,
        )
    };
    let lead = unaccepted("2026-12-01T10:00:00Z");
    let d = decide(&lead, &[], &s, at("2026-12-01T10:00:00Z"));
    assert!(matches!(
        d[..],
        [Decision::Remind {
            kind: DriftKind::Unaccepted,
            acceptance: true,
            ..
        }]
    ));
    let reminded = Episode {
        kind: DriftKind::Unaccepted,
        first_seen: at("2026-12-01T10:00:00Z"),
        last_reminded: Some(at("2026-12-01T10:00:00Z")),
        escalated: None,
    };
    let lead = unaccepted("2026-12-01T11:00:00Z");
    assert!(decide(&lead, &[reminded], &s, at("2026-12-01T11:00:00Z")).is_empty());
    let lead = unaccepted("2026-12-01T12:00:00Z");
    let d = decide(&lead, &[reminded], &s, at("2026-12-01T12:00:00Z"));
    assert!(
        matches!(d[..], [Decision::MoveOn { .. }]),
        "after a second window"
    );
}

#[test]
fn a_handed_on_owner_gets_a_full_window_and_one_reminder_though_the_lead_drifts() {
    let s = settings("[[people]]\nid = \"bob\"\nname = \"Bob\"\nemail = \"bob@team.test\"\n");
    // alice missed her window at 09:00 and was reminded; the lead went to bob at 12:00.
    let bobs = |now: &str| {
        scanned(
            &s,
            7,
            |r| {
                r.owner = Some("bob".into());
                r.accepted = false;
                r.assigned_at = Some(at("2026-12-01T12:00:00Z"));
                r.unaccepted_since = Some(at("2026-12-01T09:00:00Z"));
            },
            now,
        )
    };
    let alice_reminded = Episode {
        kind: DriftKind::Unaccepted,
        first_seen: at("2026-12-01T09:00:00Z"),
        last_reminded: Some(at("2026-12-01T09:00:00Z")),
        escalated: None,
    };
    let lead = bobs("2026-12-01T13:00:00Z");
    assert_eq!(lead.kinds(), [DriftKind::Unaccepted], "listed all along");
    assert!(lead
        .problem(DriftKind::Unaccepted, &s)
        .contains("handed on to bob"));
    let d = decide(&lead, &[alice_reminded], &s, at("2026-12-01T13:00:00Z"));
    assert!(d.is_empty(), "bob's window runs to 14:00");
    let lead = bobs("2026-12-01T14:00:00Z");
    let d = decide(&lead, &[alice_reminded], &s, at("2026-12-01T14:00:00Z"));
    assert!(
        matches!(
            d[..],
            [Decision::Remind {
                kind: DriftKind::Unaccepted,
                acceptance: true,
                ..
            }]
        ),
        "alice's reminder is not bob's"
    );
}

#[test]
fn orphans_go_to_the_manager_and_escalations_copy_them() {
    let s = settings("");
    let orphan = scanned(&s, 3, |r| r.owner = None, "2026-12-01T10:00:00Z");
    assert_eq!(recipients(&s, &orphan, true).0, ["erin@team.test"]);
    let owned = scanned(&s, 4, |_| {}, "2026-12-01T10:00:00Z");
    assert_eq!(recipients(&s, &owned, false).0, ["alice@team.test"]);
    assert_eq!(
        recipients(&s, &owned, true).0,
        ["alice@team.test", "erin@team.test"]
    );
    let left = scanned(
        &s,
        5,
        |r| r.owner = Some("zoe".into()),
        "2026-12-01T10:00:00Z",
    );
    assert_eq!(left.kinds(), [DriftKind::Orphaned]);
    assert_eq!(recipients(&s, &left, true).0, ["erin@team.test"]);
}

#[test]
fn reminders_carry_the_marker_reply_to_and_what_to_do() {
    let s = settings("");
    let now = "2026-12-01T10:00:00Z";
    let lead = scanned(
        &s,
        6,
        |r| r.next_action_due = Some(at("2026-11-30T09:00:00Z")),
        now,
    );
    let env = templates::environment(&s).unwrap();
    let d = reminder_draft(
        &s,
        &env,
        &lead,
        DriftKind::Overdue,
        false,
        &["alice@team.test".into()],
        at(now),
    )
    .unwrap();
    assert!(
        d.text.starts_with(notify::REPLY_MARKER_PREFIX),
        "{}",
        d.text
    );
    assert!(d.auto_submitted);
    assert_eq!(d.reply_to, Some(s.relay.tracked_address(6)));
    assert!(d.text.contains("/done"), "{}", d.text);
    assert!(
        d.subject.contains("[LG-6]") && d.subject.starts_with("Reminder: Lead 6"),
        "{}",
        d.subject
    );
    let _ = NextAction {
        what: String::new(),
        due: at(now),
    };
}

#[test]
fn an_owner_template_replaces_the_bundled_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("reminder.txt"), "OURS {{ reference }}").unwrap();
    let s = settings(&format!(
        "[digest]\ntemplates = {:?}\n",
        dir.path().display().to_string()
    ));
    let now = "2026-12-01T10:00:00Z";
    let lead = scanned(&s, 7, |r| r.next_action = None, now);
    let env = templates::environment(&s).unwrap();
    let d = reminder_draft(
        &s,
        &env,
        &lead,
        DriftKind::NoNextAction,
        false,
        &["alice@team.test".into()],
        at(now),
    )
    .unwrap();
    assert_eq!(d.text, "OURS LG-7");
    assert!(d.html.unwrap().contains("<html>"), "the HTML stays bundled");
}

/// The scan reads an unaccepted lead only once `accept_within` may have run out: a
/// backlog import proposes thousands at once, and reading them all every minute held
/// SQLite's one connection and the memory for them.
#[tokio::test]
async fn a_proposal_younger_than_accept_within_is_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("t.db").display());
    let store = Store::open(&url).await.unwrap();
    let s = settings("[stale]\naccept_within = \"2h\"\n");
    let now = at("2026-12-01T10:00:00Z");
    let h = |n: i64| store::millis(now) + n * 3_600_000;
    let mut conn = store.acquire().await.unwrap();
    store::execute(&mut conn, "INSERT INTO people (id, name, email, active, synced_at) VALUES ('alice', 'Alice', 'alice@team.test', 1, 0)")
            .await
            .unwrap();
    // Proposed 1 h ago, proposed 3 h ago, and nobody's.
    for (owner, assigned) in [
        (Some("alice"), h(-1)),
        (Some("alice"), h(-3)),
        (None, h(-1)),
    ] {
        let owner = owner.map_or("NULL".to_owned(), |o| format!("'{o}'"));
        let sql = format!(
                "INSERT INTO leads (status, owner, accepted, assigned_at, source, next_action,
                     next_action_due, created_at, last_activity_at, first_reply_at, last_outbound_at)
                 VALUES ('contacted', {owner}, 0, {assigned}, 'test', 'call', {due}, {assigned},
                         {assigned}, {assigned}, {assigned})",
                due = h(48)
            );
        store::execute(&mut conn, &sql).await.unwrap();
    }
    let read: Vec<(i64, Vec<DriftKind>)> = scan(&mut conn, &s, now)
        .await
        .unwrap()
        .into_iter()
        .map(|l| (l.row.id, l.kinds()))
        .collect();
    assert_eq!(
        read,
        [
            (2, vec![DriftKind::Unaccepted]),
            (3, vec![DriftKind::Orphaned])
        ]
    );
}

#[test]
fn ages_read_like_people_write_them() {
    let at = |s: &str| s.parse::<Timestamp>().unwrap();
    let now = at("2026-11-24T12:00:00Z");
    assert_eq!(age(at("2026-11-24T11:48:00Z"), now), "12m");
    assert_eq!(age(at("2026-11-24T06:50:00Z"), now), "5h 10m");
    assert_eq!(age(at("2026-11-21T08:00:00Z"), now), "3d 4h");
    assert_eq!(age(at("2026-11-25T08:00:00Z"), now), "0m", "future");
}

#[test]
fn every_kind_says_what_to_do() {
    for k in DriftKind::ALL {
        assert!(what_to_do(k).contains('/'), "{k}");
    }
}
