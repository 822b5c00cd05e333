//! The weekly review: the five checks of the Ownership Visibility Rule (Named, Visible,
//! Timed, Transferable, Reviewable) from the week's figures, and a 1-5 score that says
//! how it was derived.
//!
//! Pure: the store counts the figures; this module only judges them.

use jiff::SignedDuration;
use serde::Serialize;

/// The week's figures, as the store counts them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReviewFigures {
    /// Open leads (new, contacted, qualified) at the end of the period.
    pub live_leads: u32,
    /// Of those, with an active owner who accepted.
    pub live_with_accepted_owner: u32,
    /// Of those, with a next action due in the future (or, not yet replied to, a
    /// first-reply deadline still ahead).
    pub live_with_future_deadline: u32,
    /// Handoffs and assignments proposed in the period.
    pub handoffs: u32,
    /// Of those, accepted within `accept_within` business hours.
    pub handoffs_accepted_in_time: u32,
    /// Leads captured in the period.
    pub new_leads: u32,
    /// Median business time from capture to the first outbound message, of the leads
    /// captured in the period that got one.
    pub median_first_reply: Option<SignedDuration>,
    /// `first_reply_within`.
    pub first_reply_target: SignedDuration,
    /// Drift episodes opened and closed in the period.
    pub drift_opened: u32,
    pub drift_closed: u32,
}

/// The bar each check must clear.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreTargets {
    /// Share of live leads with an accepted owner (Named).
    pub named: f64,
    /// Share of live leads with a future deadline (Timed).
    pub timed: f64,
    /// Share of handoffs accepted in time (Transferable).
    pub transferable: f64,
}

impl Default for ScoreTargets {
    fn default() -> Self {
        ScoreTargets {
            named: 0.9,
            timed: 0.9,
            transferable: 0.8,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    Named,
    Visible,
    Timed,
    Transferable,
    Reviewable,
}

impl Check {
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Named => "Named",
            Check::Visible => "Visible",
            Check::Timed => "Timed",
            Check::Transferable => "Transferable",
            Check::Reviewable => "Reviewable",
        }
    }
}

/// One check's verdict and the figure behind it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    pub check: Check,
    pub passed: bool,
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OwnershipScore {
    /// 1 to 5: the number of checks that hold, at least 1.
    pub score: u8,
    pub checks: Vec<CheckResult>,
    /// How the score was derived, in one paragraph for the review email.
    pub explanation: String,
}

/// The five checks and the score for `f`.
pub fn ownership_score(f: &ReviewFigures, t: &ScoreTargets) -> OwnershipScore {
    let share = |part: u32, whole: u32, target: f64, what: &str| -> (bool, String) {
        if whole == 0 {
            return (true, format!("no {what} this period"));
        }
        let part = part.min(whole);
        let s = f64::from(part) / f64::from(whole);
        let pass = s + 1e-9 >= target;
        (
            pass,
            format!(
                "{part} of {whole} {what} ({:.0}%, target {:.0}%)",
                s * 100.0,
                target * 100.0
            ),
        )
    };
    let (named, named_d) = share(
        f.live_with_accepted_owner,
        f.live_leads,
        t.named,
        "live leads have an accepted owner",
    );
    let (timed, timed_d) = share(
        f.live_with_future_deadline,
        f.live_leads,
        t.timed,
        "live leads have a future deadline",
    );
    let (transferable, transferable_d) = share(
        f.handoffs_accepted_in_time,
        f.handoffs,
        t.transferable,
        "handoffs were accepted in time",
    );
    // A first reply counts only when it went through leadgate (relayed or BCC-logged), so
    // a quick median means the conversation is where the team can see it.
    let target = fmt_duration(f.first_reply_target);
    let (visible, visible_d) = match f.median_first_reply {
        Some(m) => (
            m <= f.first_reply_target,
            format!(
                "median first reply {} (target {target}), recorded through leadgate",
                fmt_duration(m)
            ),
        ),
        None if f.new_leads == 0 => (true, "no new leads this period".into()),
        None => (
            false,
            format!(
                "none of {} new leads has a recorded first reply (target {target})",
                f.new_leads
            ),
        ),
    };
    let reviewable = f.drift_closed >= f.drift_opened;
    let reviewable_d = format!(
        "{} drift events opened, {} closed{}",
        f.drift_opened,
        f.drift_closed,
        if reviewable { "" } else { ": drift piles up" }
    );
    let checks = vec![
        CheckResult {
            check: Check::Named,
            passed: named,
            detail: named_d,
        },
        CheckResult {
            check: Check::Visible,
            passed: visible,
            detail: visible_d,
        },
        CheckResult {
            check: Check::Timed,
            passed: timed,
            detail: timed_d,
        },
        CheckResult {
            check: Check::Transferable,
            passed: transferable,
            detail: transferable_d,
        },
        CheckResult {
            check: Check::Reviewable,
            passed: reviewable,
            detail: reviewable_d,
        },
    ];
    let passed: Vec<&str> = checks
        .iter()
        .filter(|c| c.passed)
        .map(|c| c.check.as_str())
        .collect();
    let failed: Vec<String> = checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| format!("{} ({})", c.check.as_str(), c.detail))
        .collect();
    let score = (passed.len() as u8).clamp(1, 5);
    let mut explanation = format!(
        "Score {score} of 5: one point per check that holds, at least 1. {} of 5 hold",
        passed.len()
    );
    if !passed.is_empty() {
        explanation.push_str(&format!(": {}", passed.join(", ")));
    }
    explanation.push('.');
    if !failed.is_empty() {
        explanation.push_str(&format!(" Failing: {}.", failed.join("; ")));
    }
    OwnershipScore {
        score,
        checks,
        explanation,
    }
}

fn fmt_duration(d: SignedDuration) -> String {
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

    fn good_week() -> ReviewFigures {
        ReviewFigures {
            live_leads: 20,
            live_with_accepted_owner: 19,
            live_with_future_deadline: 18,
            handoffs: 5,
            handoffs_accepted_in_time: 4,
            new_leads: 12,
            median_first_reply: Some(SignedDuration::from_mins(40)),
            first_reply_target: SignedDuration::from_hours(1),
            drift_opened: 6,
            drift_closed: 7,
        }
    }

    fn passed(s: &OwnershipScore, c: Check) -> bool {
        s.checks.iter().find(|r| r.check == c).unwrap().passed
    }

    #[test]
    fn a_good_week_scores_five_with_every_check() {
        let s = ownership_score(&good_week(), &ScoreTargets::default());
        assert_eq!(s.score, 5);
        assert_eq!(s.checks.len(), 5);
        assert!(s.checks.iter().all(|c| c.passed));
        assert!(s.explanation.starts_with(
            "Score 5 of 5: one point per check that holds, at least 1. 5 of 5 hold: Named, Visible, Timed, Transferable, Reviewable."
        ), "{}", s.explanation);
    }

    #[test]
    fn each_failing_check_costs_a_point_and_is_explained() {
        let f = ReviewFigures {
            live_with_accepted_owner: 10,
            median_first_reply: Some(SignedDuration::from_mins(150)),
            ..good_week()
        };
        let s = ownership_score(&f, &ScoreTargets::default());
        assert_eq!(s.score, 3);
        assert!(!passed(&s, Check::Named) && !passed(&s, Check::Visible));
        assert!(
            s.explanation
                .contains("Named (10 of 20 live leads have an accepted owner (50%, target 90%))"),
            "{}",
            s.explanation
        );
        assert!(s
            .explanation
            .contains("median first reply 2h 30m (target 1h)"));
    }

    #[test]
    fn timed_transferable_and_reviewable_follow_their_figures() {
        let f = ReviewFigures {
            live_with_future_deadline: 17,
            handoffs_accepted_in_time: 3,
            drift_opened: 8,
            ..good_week()
        };
        let s = ownership_score(&f, &ScoreTargets::default());
        assert!(!passed(&s, Check::Timed), "85% < 90%");
        assert!(!passed(&s, Check::Transferable), "60% < 80%");
        assert!(!passed(&s, Check::Reviewable), "8 opened, 7 closed");
        assert_eq!(s.score, 2);
    }

    #[test]
    fn an_empty_week_passes_vacuously_and_a_bad_one_scores_at_least_one() {
        let empty = ReviewFigures::default();
        assert_eq!(ownership_score(&empty, &ScoreTargets::default()).score, 5);
        let bad = ReviewFigures {
            live_leads: 10,
            handoffs: 4,
            new_leads: 3,
            drift_opened: 9,
            // Bad data from the store must not score above 100% or panic.
            live_with_future_deadline: 0,
            ..ReviewFigures::default()
        };
        let s = ownership_score(&bad, &ScoreTargets::default());
        assert_eq!(s.score, 1);
        assert!(s.checks.iter().all(|c| !c.passed));
        assert!(s.explanation.contains("0 of 5 hold."), "{}", s.explanation);
        let over = ReviewFigures {
            live_leads: 2,
            live_with_accepted_owner: 9,
            ..ReviewFigures::default()
        };
        let s = ownership_score(&over, &ScoreTargets::default());
        assert!(s.checks[0].detail.starts_with("2 of 2"));
    }
}
