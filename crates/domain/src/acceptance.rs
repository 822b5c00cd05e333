//! Acceptance: an assignment is a proposal until its owner accepts it. A proposal not
//! accepted within `accept_within` business hours earns one reminder; one more
//! `accept_within` after that reminder and the lead moves on (see
//! [`super::route::next_owner`]).
//!
//! Pure: the caller passes the proposal's timestamps, the team's hours and `now`.

use super::hours::BusinessHours;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// What the sweep knows about the current owner's proposal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Proposal {
    pub assigned_at: Timestamp,
    pub accepted: bool,
    /// The acceptance reminder sent for this assignment, if any.
    pub reminded_at: Option<Timestamp>,
}

/// The sweep's next step for one proposal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AcceptanceStep {
    /// Accepted: nothing to do.
    Accepted,
    /// Nothing yet; look again at `until`.
    Wait { until: Timestamp },
    /// Remind the owner once; `reason` is for the history.
    RemindOwner { reason: String },
    /// Hand the lead on with [`super::route::next_owner`]; `reason` is for the history.
    MoveOn { reason: String },
}

/// The step due at `now` for `p`, counting `accept_within` in business hours.
pub fn acceptance_step(
    p: &Proposal,
    accept_within: SignedDuration,
    hours: &BusinessHours,
    tz: &TimeZone,
    now: Timestamp,
) -> AcceptanceStep {
    if p.accepted {
        return AcceptanceStep::Accepted;
    }
    let window = describe(accept_within);
    let first = hours.add(p.assigned_at, accept_within, tz);
    if now < first {
        return AcceptanceStep::Wait { until: first };
    }
    // A reminder from before this assignment belongs to an earlier owner.
    let Some(reminded) = p.reminded_at.filter(|r| *r >= p.assigned_at) else {
        return AcceptanceStep::RemindOwner {
            reason: format!("not accepted within {window} of business hours"),
        };
    };
    // The owner gets a full window after the reminder, however late the sweep sent it.
    let second = hours.add(reminded, accept_within, tz);
    if now < second {
        return AcceptanceStep::Wait { until: second };
    }
    AcceptanceStep::MoveOn {
        reason: format!("not accepted within {window} of business hours after a reminder"),
    }
}

/// `2h`, `90m`, `1h 30m`: how people write the window.
fn describe(d: SignedDuration) -> String {
    let mins = d.as_secs().max(0) / 60;
    match (mins / 60, mins % 60) {
        (0, m) => format!("{m}m"),
        (h, 0) => format!("{h}h"),
        (h, m) => format!("{h}h {m}m"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin() -> TimeZone {
        TimeZone::get("Europe/Berlin").unwrap()
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn office() -> BusinessHours {
        BusinessHours::parse("Mon-Fri 09:00-17:00").unwrap()
    }

    fn step(p: &Proposal, now: &str) -> AcceptanceStep {
        acceptance_step(
            p,
            SignedDuration::from_hours(2),
            &office(),
            &berlin(),
            at(now),
        )
    }

    #[test]
    fn an_accepted_proposal_needs_nothing() {
        let p = Proposal {
            assigned_at: at("2026-11-24T09:00:00Z"),
            accepted: true,
            reminded_at: None,
        };
        assert_eq!(step(&p, "2026-12-24T09:00:00Z"), AcceptanceStep::Accepted);
    }

    #[test]
    fn the_timeout_counts_business_hours_over_a_weekend() {
        // Friday 16:00 Berlin: one business hour left that day, the second on Monday.
        let p = Proposal {
            assigned_at: at("2026-11-27T15:00:00Z"),
            accepted: false,
            reminded_at: None,
        };
        let monday_10 = at("2026-11-30T09:00:00Z");
        assert_eq!(
            step(&p, "2026-11-29T12:00:00Z"),
            AcceptanceStep::Wait { until: monday_10 },
            "Sunday is not business time"
        );
        assert_eq!(
            step(&p, "2026-11-30T09:00:00Z"),
            AcceptanceStep::RemindOwner {
                reason: "not accepted within 2h of business hours".into()
            }
        );
    }

    #[test]
    fn after_the_reminder_another_window_then_move_on() {
        let reminded = at("2026-11-30T09:05:00Z"); // Monday 10:05 Berlin
        let p = Proposal {
            assigned_at: at("2026-11-27T15:00:00Z"),
            accepted: false,
            reminded_at: Some(reminded),
        };
        assert_eq!(
            step(&p, "2026-11-30T10:00:00Z"),
            AcceptanceStep::Wait {
                until: at("2026-11-30T11:05:00Z")
            },
            "reminded once: no second reminder, wait"
        );
        assert!(matches!(
            step(&p, "2026-11-30T11:05:00Z"),
            AcceptanceStep::MoveOn { .. }
        ));
    }

    #[test]
    fn a_reminder_from_an_earlier_assignment_does_not_count() {
        let p = Proposal {
            assigned_at: at("2026-11-24T09:00:00Z"),
            accepted: false,
            reminded_at: Some(at("2026-11-23T09:00:00Z")),
        };
        assert!(matches!(
            step(&p, "2026-11-24T11:00:00Z"),
            AcceptanceStep::RemindOwner { .. }
        ));
    }

    #[test]
    fn odd_inputs_never_panic() {
        let p = Proposal {
            assigned_at: Timestamp::MAX,
            accepted: false,
            reminded_at: Some(Timestamp::MAX),
        };
        let _ = acceptance_step(
            &p,
            SignedDuration::MAX,
            &office(),
            &berlin(),
            Timestamp::MIN,
        );
        let _ = acceptance_step(
            &p,
            SignedDuration::from_hours(-5),
            &BusinessHours::always(),
            &TimeZone::UTC,
            Timestamp::MAX,
        );
        assert_eq!(describe(SignedDuration::from_mins(90)), "1h 30m");
    }
}
