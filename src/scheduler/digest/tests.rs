//! The daily digest and the weekly review: what they count and how they read.

use super::*;
use crate::scheduler::tests::{at, scanned, settings};

#[test]
fn need_an_owner_first_then_by_owner_worst_first() {
    let s = settings("[digest]\nto = \"erin@team.test\"\n");
    let now = "2026-12-01T10:00:00Z";
    let leads = vec![
        scanned(&s, 1, |_| {}, now),
        scanned(&s, 2, |r| r.next_action = None, now),
        scanned(&s, 3, |r| r.owner = None, now),
        scanned(
            &s,
            4,
            |r| r.next_action_due = Some(at("2026-11-30T09:00:00Z")),
            now,
        ),
    ];
    let d = build(&leads, 4, &s, at(now));
    assert_eq!(d.title, "1 lead needs an owner, 2 more drifting");
    assert_eq!(d.need_owner.iter().map(|l| l.id).collect::<Vec<_>>(), [3]);
    assert_eq!(d.groups.len(), 1);
    assert_eq!(d.groups[0].owner_name, "Alice Smith");
    assert_eq!(
        d.groups[0].lines.iter().map(|l| l.id).collect::<Vec<_>>(),
        [4, 2],
        "overdue first"
    );
    assert!(d.groups[0].lines[0].mailto.starts_with("mailto:reply+"));
    assert_eq!(
        d.counts_line,
        "4 live · 1 orphaned · 1 overdue · 1 no next action"
    );
    let mail = daily_draft(&d, &s).unwrap().unwrap();
    assert_eq!(mail.to, ["erin@team.test"]);
    assert!(mail.auto_submitted);
    let html = mail.html.unwrap();
    assert!(
        !html.contains("<link") && !html.contains("<style"),
        "inline styles only"
    );
    assert!(html.find("Need an owner").unwrap() < html.find("Alice Smith (2)").unwrap());
}

#[test]
fn triage_items_come_first_drifting_or_not_and_with_or_without_an_owner() {
    let s = settings("[digest]\nto = \"erin@team.test\"\n");
    let now = "2026-12-01T10:00:00Z";
    let triage = |r: &mut Lead| {
        r.status = LeadStatus::Triage;
        r.first_reply_at = None;
        r.next_action = Some("decide: lead or not".into());
    };
    let leads = vec![
        scanned(&s, 1, |r| r.owner = None, now),
        // Arrived days ago, nobody decided: untriaged.
        scanned(&s, 2, triage, now),
    ];
    assert_eq!(leads[1].kinds(), [DriftKind::Untriaged]);
    let d = build(&leads, 3, &s, at(now));
    assert_eq!(d.triage.iter().map(|l| l.id).collect::<Vec<_>>(), [2]);
    // Just arrived, no owner ([capture] triage = "digest"): listed all the same.
    let mut fresh = scanned(&s, 3, triage, now).row;
    fresh.owner = None;
    fresh.created_at = at("2026-12-01T09:55:00Z");
    let d = with_waiting_triage(d, &[leads[1].row.clone(), fresh], &s, at(now));
    assert_eq!(d.triage.iter().map(|l| l.id).collect::<Vec<_>>(), [2, 3]);
    assert_eq!(d.triage[1].owner_text, "nobody owns it");
    assert_eq!(d.title, "2 to triage, 1 lead needs an owner");
    let mail = daily_draft(&d, &s).unwrap().unwrap();
    let text = mail.text;
    assert!(
        text.find("TO TRIAGE").unwrap() < text.find("NEED AN OWNER").unwrap(),
        "{text}"
    );
    let html = mail.html.unwrap();
    assert!(html.find("To triage").unwrap() < html.find("Need an owner").unwrap());
}

#[test]
fn a_clean_day_sends_nothing_unless_asked() {
    let s = settings("");
    let now = "2026-12-01T10:00:00Z";
    let d = build(&[scanned(&s, 1, |_| {}, now)], 1, &s, at(now));
    assert!(d.clean);
    assert_eq!(d.title, "All 1 live lead owned and timed");
    assert!(daily_draft(&d, &s).unwrap().is_none());
    let s = settings("[digest]\nsend_when_clean = true\n");
    let mail = daily_draft(&d, &s).unwrap().unwrap();
    assert_eq!(
        mail.to,
        ["erin@team.test"],
        "the manager without [digest] to"
    );
}

#[test]
fn digests_are_due_once_per_day_and_week_in_the_team_zone() {
    let s = settings("[digest]\ndaily = \"08:00\"\nweekly = \"Mon 08:30\"\n");
    // Monday 2026-11-30 07:59 Berlin = 06:59 UTC.
    assert_eq!(due_keys(&s, at("2026-11-30T06:59:00Z")), (None, None));
    assert_eq!(
        due_keys(&s, at("2026-11-30T07:00:00Z")),
        (Some("digest:daily:2026-11-30".into()), None)
    );
    assert_eq!(
        due_keys(&s, at("2026-11-30T07:30:00Z")).1.as_deref(),
        Some("digest:weekly:2026-W49")
    );
    assert_eq!(
        due_keys(&s, at("2026-12-03T20:00:00Z")).1.as_deref(),
        Some("digest:weekly:2026-W49"),
        "later in the week: the same slot"
    );
}

#[test]
fn mailto_subjects_are_percent_encoded() {
    assert_eq!(
        super::percent("Re: Jane [LG-1]"),
        "Re%3A%20Jane%20%5BLG-1%5D"
    );
}
