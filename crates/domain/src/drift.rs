//! Drift: the ways a live lead stops being owned and timed, and the reminders they earn.
//!
//! "Stale" means no future next action, or an overdue one; not merely "not touched
//! lately". Closed leads (won, lost, archived, opted out) never drift. Snoozing silences
//! reminders, never the drift itself (the digest still lists it).
//!
//! Pure: the caller gathers [`LeadFacts`] from the store and passes `now`; the episodes
//! (when each kind was first seen, when it was last reminded) are the caller's to persist.

use super::hours::BusinessHours;
use super::lead::{LeadStatus, NextAction};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    /// No owner, or the owner left the team.
    Orphaned,
    /// The owner has not accepted within `accept_within` business hours.
    Unaccepted,
    /// No outbound message within `first_reply_within` business hours of capture.
    NoFirstReply,
    /// The lead wrote after our last outbound message and had no answer within
    /// `first_reply_within` business hours.
    Unanswered,
    /// Contacted (or replied to), open, and no next action.
    NoNextAction,
    /// The next action is past due.
    Overdue,
    /// Nothing happened for `idle_after` and nothing is planned.
    Idle,
    /// A triage item nobody decided (`/lead`, `/notlead` or a reply) within
    /// `first_reply_within` business hours of its arrival.
    Untriaged,
}

impl DriftKind {
    pub const ALL: [DriftKind; 8] = [
        DriftKind::Orphaned,
        DriftKind::Untriaged,
        DriftKind::Unaccepted,
        DriftKind::NoFirstReply,
        DriftKind::Unanswered,
        DriftKind::NoNextAction,
        DriftKind::Overdue,
        DriftKind::Idle,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DriftKind::Orphaned => "orphaned",
            DriftKind::Unaccepted => "unaccepted",
            DriftKind::NoFirstReply => "no_first_reply",
            DriftKind::Unanswered => "unanswered",
            DriftKind::NoNextAction => "no_next_action",
            DriftKind::Overdue => "overdue",
            DriftKind::Idle => "idle",
            DriftKind::Untriaged => "untriaged",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().to_ascii_lowercase().replace('-', "_");
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for DriftKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `[stale]` thresholds (validated config).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaleRules {
    /// Business hours from capture (or from the lead's latest message) to our reply.
    pub first_reply_within: SignedDuration,
    /// Business hours from assignment to acceptance.
    pub accept_within: SignedDuration,
    /// Wall-clock time without activity.
    pub idle_after: SignedDuration,
    /// At most one reminder per lead and kind this often.
    pub remind_every: SignedDuration,
    /// Continuous drift this long copies the manager.
    pub escalate_after: SignedDuration,
    /// More reminders than this due at once for the same people go out as one mail.
    pub combine_reminders_over: usize,
}

impl Default for StaleRules {
    fn default() -> Self {
        StaleRules {
            first_reply_within: SignedDuration::from_hours(1),
            accept_within: SignedDuration::from_hours(2),
            idle_after: SignedDuration::from_hours(72),
            remind_every: SignedDuration::from_hours(24),
            escalate_after: SignedDuration::from_hours(48),
            combine_reminders_over: 3,
        }
    }
}

/// What the drift rules read about one lead; the store fills it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeadFacts {
    pub status: LeadStatus,
    pub owner: Option<String>,
    /// False when the owner left the team (inactive or no longer in `[[people]]`).
    pub owner_active: bool,
    pub accepted: bool,
    /// When the current owner was assigned; `None` means at capture.
    pub assigned_at: Option<Timestamp>,
    pub created_at: Timestamp,
    /// The first outbound message to the lead.
    pub first_reply_at: Option<Timestamp>,
    /// The lead's latest own message after capture (not the form notification).
    pub last_inbound_at: Option<Timestamp>,
    pub last_outbound_at: Option<Timestamp>,
    pub next_action: Option<NextAction>,
    pub last_activity_at: Timestamp,
    pub snoozed_until: Option<Timestamp>,
    /// The first acceptance window this lead missed, kept while the sweep hands it on and
    /// cleared when someone accepts.
    pub unaccepted_since: Option<Timestamp>,
}

/// One drift kind and, where known, when the lead crossed the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Drift {
    pub kind: DriftKind,
    pub since: Option<Timestamp>,
}

/// The drift kinds of `lead` at `now`, in [`DriftKind::ALL`] order.
pub fn drift(
    lead: &LeadFacts,
    rules: &StaleRules,
    hours: &BusinessHours,
    tz: &TimeZone,
    now: Timestamp,
) -> Vec<DriftKind> {
    drift_details(lead, rules, hours, tz, now)
        .into_iter()
        .map(|d| d.kind)
        .collect()
}

/// [`drift`] with the moment each kind began, for the digest ("overdue since ...").
pub fn drift_details(
    lead: &LeadFacts,
    rules: &StaleRules,
    hours: &BusinessHours,
    tz: &TimeZone,
    now: Timestamp,
) -> Vec<Drift> {
    let mut out = Vec::new();
    if !lead.status.is_open() {
        return out;
    }
    let mut push = |kind, since| out.push(Drift { kind, since });
    let assigned = lead.assigned_at.unwrap_or(lead.created_at);

    if lead.status == LeadStatus::Triage {
        // Deciding is what a triage item needs, not acceptance or a next action. Without an
        // owner it is listed in the digest's triage section from the start (`[capture]
        // triage = "digest"` means exactly that), so only an owner who left orphans it.
        if lead.owner.is_some() && !lead.owner_active {
            push(DriftKind::Orphaned, None);
        }
        let deadline = hours.add(lead.created_at, rules.first_reply_within, tz);
        if now >= deadline {
            push(DriftKind::Untriaged, Some(deadline));
        }
        return out;
    }

    if lead.owner.is_none() {
        push(DriftKind::Orphaned, Some(assigned));
    } else if !lead.owner_active {
        // When the owner left is not a fact of the lead.
        push(DriftKind::Orphaned, None);
    } else if !lead.accepted {
        let deadline = hours.add(assigned, rules.accept_within, tz);
        match lead.unaccepted_since {
            // Handing a lead on is not accepting it: the new owner's window does not
            // hide that nobody has taken it (the seed's "round-robin without confirmation").
            Some(since) => push(DriftKind::Unaccepted, Some(since.min(deadline))),
            None if now >= deadline => push(DriftKind::Unaccepted, Some(deadline)),
            None => {}
        }
    }

    // A lead marked contacted was answered outside leadgate (a call): no first-reply drift.
    let mut no_first_reply = false;
    if lead.first_reply_at.is_none() && lead.status == LeadStatus::New {
        let deadline = hours.add(lead.created_at, rules.first_reply_within, tz);
        if now >= deadline {
            no_first_reply = true;
            push(DriftKind::NoFirstReply, Some(deadline));
        }
    }

    // The lead's message restarts the response clock; never answered at all is
    // no_first_reply alone.
    if let Some(inbound) = lead.last_inbound_at {
        let answered = lead.last_outbound_at.is_some_and(|out| out >= inbound);
        let deadline = hours.add(inbound, rules.first_reply_within, tz);
        if !answered && !no_first_reply && now >= deadline {
            push(DriftKind::Unanswered, Some(deadline));
        }
    }

    let contacted = matches!(lead.status, LeadStatus::Contacted | LeadStatus::Qualified)
        || lead.first_reply_at.is_some();
    match &lead.next_action {
        None if contacted => push(DriftKind::NoNextAction, lead.first_reply_at),
        Some(next) if now > next.due => push(DriftKind::Overdue, Some(next.due)),
        _ => {}
    }

    // Quiet with a future next action is planned, not stale.
    let planned = lead.next_action.as_ref().is_some_and(|n| n.due >= now);
    let idle_at = lead
        .last_activity_at
        .saturating_add(rules.idle_after)
        .unwrap_or(Timestamp::MAX);
    if !planned && now >= idle_at {
        push(DriftKind::Idle, Some(idle_at));
    }
    out
}

/// Drift kinds that appeared and disappeared between two sweeps: the "drift events opened
/// and closed" of the weekly review, and when to set or clear a kind's first-seen time.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DriftChanges {
    pub opened: Vec<DriftKind>,
    pub closed: Vec<DriftKind>,
}

pub fn drift_changes(before: &[DriftKind], now: &[DriftKind]) -> DriftChanges {
    let mut changes = DriftChanges::default();
    for k in DriftKind::ALL {
        match (before.contains(&k), now.contains(&k)) {
            (false, true) => changes.opened.push(k),
            (true, false) => changes.closed.push(k),
            _ => {}
        }
    }
    changes
}

/// What the store remembers of one lead's reminders, across restarts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReminderHistory {
    /// The latest reminder per kind (an acceptance reminder counts as `unaccepted`).
    pub last_sent: HashMap<DriftKind, Timestamp>,
    /// When the current continuous episode of each kind was first seen; cleared when the
    /// kind closes (see [`drift_changes`]).
    pub first_seen: HashMap<DriftKind, Timestamp>,
}

/// One reminder to send now: to the owner, and to the manager as well when `escalate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reminder {
    pub kind: DriftKind,
    pub escalate: bool,
}

/// The reminders due at `now` for a lead drifting in `kinds`: at most one per kind per
/// `remind_every`, escalated after `escalate_after` of continuous drift, none while the
/// lead is snoozed. An orphaned lead has no owner to remind, so its reminder goes to the
/// manager (escalated) and no owner's snooze silences it.
pub fn reminders_due(
    lead: &LeadFacts,
    kinds: &[DriftKind],
    history: &ReminderHistory,
    rules: &StaleRules,
    now: Timestamp,
) -> Vec<Reminder> {
    if !lead.status.is_open() {
        return Vec::new();
    }
    let snoozed = lead.snoozed_until.is_some_and(|until| now < until);
    let mut out: Vec<Reminder> = Vec::new();
    for &kind in kinds {
        if out.iter().any(|r| r.kind == kind) {
            continue;
        }
        let orphaned = kind == DriftKind::Orphaned;
        if snoozed && !orphaned {
            continue;
        }
        if let Some(last) = history.last_sent.get(&kind) {
            let next = last
                .saturating_add(rules.remind_every)
                .unwrap_or(Timestamp::MAX);
            if now < next {
                continue;
            }
        }
        let first = history.first_seen.get(&kind).copied().unwrap_or(now);
        let escalate = orphaned || first.duration_until(now) >= rules.escalate_after;
        out.push(Reminder { kind, escalate });
    }
    out
}

#[cfg(test)]
mod tests {
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
}
