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
mod tests;
