//! Drift: which leads are overdue, orphaned, unaccepted or stale, in business time.

use super::*;
use DriftKind::*;

fn berlin() -> TimeZone {
    TimeZone::get("Europe/Berlin").unwrap()
}

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn office() -> BusinessHours {
    BusinessHours::parse("Mon-Fri 09:00-17:00").unwrap()
}

/// Captured Tuesday 2026-11-24 10:00 Berlin, owned by alice, accepted, nothing else yet.
fn fresh() -> LeadFacts {
    LeadFacts {
        status: LeadStatus::New,
        owner: Some("alice".into()),
        owner_active: true,
        accepted: true,
        assigned_at: None,
        created_at: at("2026-11-24T09:00:00Z"),
        first_reply_at: None,
        last_inbound_at: None,
        last_outbound_at: None,
        next_action: None,
        last_activity_at: at("2026-11-24T09:00:00Z"),
        snoozed_until: None,
        unaccepted_since: None,
    }
}

fn kinds(lead: &LeadFacts, now: &str) -> Vec<DriftKind> {
    drift(lead, &StaleRules::default(), &office(), &berlin(), at(now))
}

fn next(what: &str, due: &str) -> Option<NextAction> {
    Some(NextAction {
        what: what.into(),
        due: at(due),
    })
}

#[test]
fn kinds_have_their_snake_case_names() {
    let names: Vec<&str> = DriftKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "orphaned",
            "untriaged",
            "unaccepted",
            "no_first_reply",
            "unanswered",
            "no_next_action",
            "overdue",
            "idle"
        ]
    );
    for k in DriftKind::ALL {
        let json = serde_json::to_string(&k).unwrap();
        assert_eq!(json, format!("\"{k}\""));
        assert_eq!(DriftKind::parse(k.as_str()), Some(k));
    }
    assert_eq!(DriftKind::parse("No-First-Reply"), Some(NoFirstReply));
    assert_eq!(DriftKind::parse("late"), None);
}

#[test]
fn an_undecided_triage_item_drifts_untriaged_after_the_first_reply_window_in_business_hours() {
    // Arrived Friday 16:30 Berlin (15:30Z): the 1h window ends Monday 09:30 Berlin.
    let item = LeadFacts {
        status: LeadStatus::Triage,
        accepted: false,
        created_at: at("2026-11-27T15:30:00Z"),
        last_activity_at: at("2026-11-27T15:30:00Z"),
        next_action: next("decide: lead or not", "2026-11-30T08:30:00Z"),
        ..fresh()
    };
    assert!(kinds(&item, "2026-11-29T12:00:00Z").is_empty(), "weekend");
    assert_eq!(kinds(&item, "2026-11-30T08:30:00Z"), [Untriaged]);
    // Not unaccepted, overdue or idle besides: one problem, one reminder.
    assert_eq!(kinds(&item, "2026-12-20T08:30:00Z"), [Untriaged]);
    let ownerless = LeadFacts {
        owner: None,
        ..item.clone()
    };
    assert!(
        kinds(&ownerless, "2026-11-29T12:00:00Z").is_empty(),
        "listed in the digest, not orphaned"
    );
    let left = LeadFacts {
        owner_active: false,
        ..item
    };
    assert_eq!(kinds(&left, "2026-11-30T08:30:00Z"), [Orphaned, Untriaged]);
}

#[test]
fn a_fresh_owned_lead_does_not_drift() {
    assert!(kinds(&fresh(), "2026-11-24T09:30:00Z").is_empty());
}

#[test]
fn closed_leads_never_drift() {
    for status in [
        LeadStatus::Won,
        LeadStatus::Lost,
        LeadStatus::Archived,
        LeadStatus::OptedOut,
    ] {
        let lead = LeadFacts {
            status,
            owner: None,
            accepted: false,
            next_action: next("call", "2026-01-01T00:00:00Z"),
            ..fresh()
        };
        assert!(
            kinds(&lead, "2027-06-01T00:00:00Z").is_empty(),
            "{status:?}"
        );
        let history = ReminderHistory::default();
        let r = reminders_due(
            &lead,
            &[Orphaned],
            &history,
            &StaleRules::default(),
            at("2027-06-01T00:00:00Z"),
        );
        assert!(r.is_empty());
    }
}

#[test]
fn orphaned_without_owner_or_with_an_owner_who_left() {
    let now = "2026-11-24T09:10:00Z";
    let lead = LeadFacts {
        owner: None,
        accepted: false,
        ..fresh()
    };
    assert_eq!(kinds(&lead, now), [Orphaned]);
    let left = LeadFacts {
        owner_active: false,
        accepted: false,
        assigned_at: Some(at("2026-11-01T09:00:00Z")),
        ..fresh()
    };
    assert_eq!(
        kinds(&left, now),
        [Orphaned],
        "orphaned, not also unaccepted"
    );
}

#[test]
fn unaccepted_counts_business_hours_over_the_weekend() {
    // Assigned Friday 16:00 Berlin; 2h of business hours end Monday 10:00 Berlin.
    let lead = LeadFacts {
        accepted: false,
        assigned_at: Some(at("2026-11-27T15:00:00Z")),
        created_at: at("2026-11-27T15:00:00Z"),
        first_reply_at: Some(at("2026-11-27T15:10:00Z")),
        next_action: next("call", "2026-12-10T09:00:00Z"),
        last_activity_at: at("2026-11-29T12:00:00Z"),
        ..fresh()
    };
    assert!(kinds(&lead, "2026-11-29T20:00:00Z").is_empty(), "Sunday");
    assert!(kinds(&lead, "2026-11-30T08:59:00Z").is_empty());
    let d = drift_details(
        &lead,
        &StaleRules::default(),
        &office(),
        &berlin(),
        at("2026-11-30T09:00:00Z"),
    );
    assert_eq!(
        d,
        [Drift {
            kind: Unaccepted,
            since: Some(at("2026-11-30T09:00:00Z"))
        }]
    );
}

#[test]
fn a_lead_handed_on_unaccepted_stays_unaccepted_from_its_first_missed_window() {
    // alice missed her window (Tuesday 12:00 Berlin); the sweep handed the lead to bob
    // at 14:00, whose own window runs to 16:00. Nobody has accepted it all along.
    let first_missed = at("2026-11-24T11:00:00Z");
    let handed_on = LeadFacts {
        owner: Some("bob".into()),
        accepted: false,
        assigned_at: Some(at("2026-11-24T13:00:00Z")),
        first_reply_at: Some(at("2026-11-24T09:10:00Z")),
        next_action: next("call", "2026-12-10T09:00:00Z"),
        unaccepted_since: Some(first_missed),
        ..fresh()
    };
    let at_1410 = |lead: &LeadFacts| {
        drift_details(
            lead,
            &StaleRules::default(),
            &office(),
            &berlin(),
            at("2026-11-24T13:10:00Z"),
        )
    };
    assert_eq!(
        at_1410(&handed_on),
        [Drift {
            kind: Unaccepted,
            since: Some(first_missed)
        }]
    );
    // A proposal that never missed a window has its window.
    let fresh_proposal = LeadFacts {
        unaccepted_since: None,
        ..handed_on.clone()
    };
    assert!(at_1410(&fresh_proposal).is_empty());
    // Someone accepting ends it (the store clears the time too).
    let accepted = LeadFacts {
        accepted: true,
        ..handed_on.clone()
    };
    assert!(at_1410(&accepted).is_empty());
    // Handed on to nobody: orphaned, not also unaccepted.
    let orphaned = LeadFacts {
        owner: None,
        ..handed_on
    };
    assert_eq!(kinds(&orphaned, "2026-11-24T13:10:00Z"), [Orphaned]);
}

#[test]
fn no_first_reply_across_the_weekend_and_the_dst_change() {
    // Friday 2026-10-23 16:30 CEST; the hour ends Monday 09:30 CET (08:30 UTC), and
    // Berlin left summer time in between.
    let lead = LeadFacts {
        created_at: at("2026-10-23T14:30:00Z"),
        last_activity_at: at("2026-10-23T14:30:00Z"),
        ..fresh()
    };
    assert!(kinds(&lead, "2026-10-26T08:29:00Z").is_empty());
    assert_eq!(kinds(&lead, "2026-10-26T08:30:00Z"), [NoFirstReply]);
    let replied = LeadFacts {
        first_reply_at: Some(at("2026-10-26T08:00:00Z")),
        last_outbound_at: Some(at("2026-10-26T08:00:00Z")),
        next_action: next("quote", "2026-10-28T08:00:00Z"),
        ..lead.clone()
    };
    assert!(kinds(&replied, "2026-10-26T08:30:00Z").is_empty());
    let called = LeadFacts {
        status: LeadStatus::Contacted,
        next_action: next("quote", "2026-10-28T08:00:00Z"),
        ..lead
    };
    assert!(
        kinds(&called, "2026-10-26T08:30:00Z").is_empty(),
        "contacted outside leadgate"
    );
}

#[test]
fn a_lead_captured_on_saturday_is_due_on_monday() {
    let lead = LeadFacts {
        created_at: at("2026-11-28T10:00:00Z"),
        last_activity_at: at("2026-11-28T10:00:00Z"),
        ..fresh()
    };
    assert!(kinds(&lead, "2026-11-30T08:59:00Z").is_empty());
    assert_eq!(kinds(&lead, "2026-11-30T09:00:00Z"), [NoFirstReply]);
}

#[test]
fn unanswered_when_the_lead_wrote_after_our_last_message() {
    // Replied Tuesday; the lead wrote back Tuesday 16:30 Berlin; the hour runs to
    // Wednesday 09:30 Berlin.
    let lead = LeadFacts {
        status: LeadStatus::Contacted,
        first_reply_at: Some(at("2026-11-24T09:20:00Z")),
        last_outbound_at: Some(at("2026-11-24T09:20:00Z")),
        last_inbound_at: Some(at("2026-11-24T15:30:00Z")),
        next_action: next("call", "2026-11-27T09:00:00Z"),
        last_activity_at: at("2026-11-24T15:30:00Z"),
        ..fresh()
    };
    assert!(kinds(&lead, "2026-11-25T08:29:00Z").is_empty());
    assert_eq!(kinds(&lead, "2026-11-25T08:30:00Z"), [Unanswered]);
    let answered = LeadFacts {
        last_outbound_at: Some(at("2026-11-25T08:00:00Z")),
        ..lead.clone()
    };
    assert!(kinds(&answered, "2026-11-25T08:30:00Z").is_empty());
    // Never answered at all is no_first_reply alone.
    let never = LeadFacts {
        status: LeadStatus::New,
        first_reply_at: None,
        last_outbound_at: None,
        ..lead
    };
    assert_eq!(kinds(&never, "2026-11-25T08:30:00Z"), [NoFirstReply]);
}

#[test]
fn no_next_action_once_contacted_or_replied() {
    let now = "2026-11-24T10:00:00Z";
    let contacted = LeadFacts {
        status: LeadStatus::Qualified,
        ..fresh()
    };
    assert_eq!(kinds(&contacted, now), [NoNextAction]);
    let replied = LeadFacts {
        first_reply_at: Some(at("2026-11-24T09:30:00Z")),
        last_outbound_at: Some(at("2026-11-24T09:30:00Z")),
        ..fresh()
    };
    assert_eq!(kinds(&replied, now), [NoNextAction]);
    let timed = LeadFacts {
        next_action: next("send the quote", "2026-11-25T09:00:00Z"),
        ..replied
    };
    assert!(kinds(&timed, now).is_empty());
}

#[test]
fn overdue_once_the_next_action_is_past_due() {
    let lead = LeadFacts {
        status: LeadStatus::Contacted,
        next_action: next("call back", "2026-11-26T09:00:00Z"),
        last_activity_at: at("2026-11-25T12:00:00Z"),
        ..fresh()
    };
    assert!(
        kinds(&lead, "2026-11-26T09:00:00Z").is_empty(),
        "due, not past due"
    );
    assert_eq!(kinds(&lead, "2026-11-26T09:00:01Z"), [Overdue]);
}

#[test]
fn idle_only_when_nothing_is_planned() {
    let lead = LeadFacts {
        status: LeadStatus::Contacted,
        next_action: next("follow up", "2026-12-08T09:00:00Z"),
        ..fresh()
    };
    // A week of quiet before a planned follow-up is owned and timed, not stale.
    assert!(kinds(&lead, "2026-12-01T09:00:00Z").is_empty());
    let unplanned = LeadFacts {
        next_action: None,
        ..lead.clone()
    };
    assert!(!kinds(&unplanned, "2026-11-27T08:59:00Z").contains(&Idle));
    assert_eq!(
        kinds(&unplanned, "2026-11-27T09:00:00Z"),
        [NoNextAction, Idle]
    );
    assert_eq!(
        kinds(&lead, "2026-12-09T09:00:00Z"),
        [Overdue, Idle],
        "an overdue action plans nothing"
    );
}

#[test]
fn drift_changes_tell_opened_from_closed() {
    let c = drift_changes(&[Overdue, Idle], &[Idle, Orphaned]);
    assert_eq!(c.opened, [Orphaned]);
    assert_eq!(c.closed, [Overdue]);
}

fn rules() -> StaleRules {
    StaleRules::default()
}

fn overdue_lead() -> LeadFacts {
    LeadFacts {
        status: LeadStatus::Contacted,
        next_action: next("call", "2026-11-24T12:00:00Z"),
        ..fresh()
    }
}

#[test]
fn one_reminder_per_kind_per_remind_every() {
    let lead = overdue_lead();
    let now = at("2026-11-25T12:00:00Z");
    let mut h = ReminderHistory::default();
    h.first_seen.insert(Overdue, at("2026-11-25T11:00:00Z"));
    assert_eq!(
        reminders_due(&lead, &[Overdue, Overdue], &h, &rules(), now),
        [Reminder {
            kind: Overdue,
            escalate: false
        }],
        "first sight: one reminder, kinds de-duplicated"
    );
    h.last_sent.insert(Overdue, now);
    let later = at("2026-11-26T11:59:59Z");
    assert!(reminders_due(&lead, &[Overdue], &h, &rules(), later).is_empty());
    // Another kind is its own reminder.
    assert_eq!(
        reminders_due(&lead, &[Overdue, Idle], &h, &rules(), later).len(),
        1
    );
    let day_after = at("2026-11-26T12:00:00Z");
    assert_eq!(
        reminders_due(&lead, &[Overdue], &h, &rules(), day_after).len(),
        1
    );
}

#[test]
fn escalation_after_escalate_after_of_continuous_drift() {
    let lead = overdue_lead();
    let mut h = ReminderHistory::default();
    h.first_seen.insert(Overdue, at("2026-11-24T12:00:00Z"));
    let r = reminders_due(&lead, &[Overdue], &h, &rules(), at("2026-11-26T11:59:00Z"));
    assert_eq!(
        r,
        [Reminder {
            kind: Overdue,
            escalate: false
        }]
    );
    let r = reminders_due(&lead, &[Overdue], &h, &rules(), at("2026-11-26T12:00:00Z"));
    assert_eq!(
        r,
        [Reminder {
            kind: Overdue,
            escalate: true
        }]
    );
    // Unknown first sight means it starts now: no escalation yet.
    let r = reminders_due(
        &lead,
        &[Overdue],
        &ReminderHistory::default(),
        &rules(),
        at("2026-12-26T12:00:00Z"),
    );
    assert!(!r[0].escalate);
}

#[test]
fn snooze_silences_reminders_but_not_drift_or_orphans() {
    let lead = LeadFacts {
        snoozed_until: Some(at("2026-11-27T09:00:00Z")),
        ..overdue_lead()
    };
    let now = at("2026-11-26T09:00:00Z");
    let h = ReminderHistory::default();
    assert_eq!(
        kinds(&lead, "2026-11-26T09:00:00Z"),
        [Overdue],
        "still listed"
    );
    assert!(reminders_due(&lead, &[Overdue], &h, &rules(), now).is_empty());
    assert_eq!(
        reminders_due(&lead, &[Orphaned], &h, &rules(), now),
        [Reminder {
            kind: Orphaned,
            escalate: true
        }]
    );
    let after = at("2026-11-27T09:00:00Z");
    assert_eq!(
        reminders_due(&lead, &[Overdue], &h, &rules(), after).len(),
        1
    );
}

#[test]
fn extreme_times_never_panic() {
    let lead = LeadFacts {
        created_at: Timestamp::MAX,
        last_activity_at: Timestamp::MIN,
        assigned_at: Some(Timestamp::MAX),
        accepted: false,
        last_inbound_at: Some(Timestamp::MAX),
        next_action: Some(NextAction {
            what: String::new(),
            due: Timestamp::MIN,
        }),
        ..fresh()
    };
    let r = StaleRules {
        first_reply_within: SignedDuration::MAX,
        idle_after: SignedDuration::MAX,
        remind_every: SignedDuration::MAX,
        escalate_after: SignedDuration::MIN,
        ..StaleRules::default()
    };
    for now in [Timestamp::MIN, Timestamp::MAX, at("2026-11-24T09:00:00Z")] {
        let k = drift(&lead, &r, &office(), &berlin(), now);
        let mut h = ReminderHistory::default();
        h.last_sent.insert(Overdue, Timestamp::MAX);
        h.first_seen.insert(Overdue, Timestamp::MIN);
        let _ = reminders_due(&lead, &k, &h, &r, now);
    }
}

#[test]
fn idle_counts_elapsed_hours_across_dst() {
    // Berlin gains an hour on 2026-10-25: 72 hours after Friday 12:00 CEST is
    // Monday 11:00 CET.
    let lead = LeadFacts {
        status: LeadStatus::Contacted,
        next_action: next("call", "2026-10-24T10:00:00Z"),
        last_activity_at: at("2026-10-23T10:00:00Z"),
        ..fresh()
    };
    assert_eq!(kinds(&lead, "2026-10-26T09:59:00Z"), [Overdue]);
    assert_eq!(kinds(&lead, "2026-10-26T10:00:00Z"), [Overdue, Idle]);
}

#[test]
fn unaccepted_across_the_spring_dst_change() {
    // Assigned Friday 2026-03-27 16:30 CET (15:30 UTC); Berlin springs forward on
    // Sunday; 30 minutes on Friday, 90 on Monday: due Monday 10:30 CEST = 08:30 UTC.
    let lead = LeadFacts {
        accepted: false,
        assigned_at: Some(at("2026-03-27T15:30:00Z")),
        created_at: at("2026-03-27T15:00:00Z"),
        first_reply_at: Some(at("2026-03-27T15:10:00Z")),
        next_action: next("call", "2026-04-10T09:00:00Z"),
        last_activity_at: at("2026-03-29T12:00:00Z"),
        ..fresh()
    };
    assert!(kinds(&lead, "2026-03-30T08:29:00Z").is_empty());
    assert_eq!(kinds(&lead, "2026-03-30T08:30:00Z"), [Unaccepted]);
}
