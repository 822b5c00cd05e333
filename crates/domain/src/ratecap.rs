//! Rate cap for relayed mail, per sender and per lead, as pure logic: the caller passes
//! the timestamps of recent relays (from the store) and `now`. The cap is the loop
//! backstop: when every other loop signal fails, a runaway exchange stops here.

use jiff::{SignedDuration, Timestamp};

/// At most `limit` relays within any trailing `window` (e.g. 20 per 2 hours).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateCap {
    pub limit: usize,
    pub window: SignedDuration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateDecision {
    Allow,
    /// Refused; the earliest moment one more relay would be allowed.
    Deny {
        retry_after: Timestamp,
    },
}

impl Default for RateCap {
    fn default() -> Self {
        RateCap {
            limit: 20,
            window: SignedDuration::from_hours(2),
        }
    }
}

impl RateCap {
    pub fn new(limit: usize, window: SignedDuration) -> Self {
        RateCap { limit, window }
    }

    /// Parses `20/2h`, `20 per 2h`, `20 per 2 hours` (any jiff friendly duration).
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let (n, w) = s
            .split_once('/')
            .or_else(|| s.split_once(" per "))
            .ok_or_else(|| format!("{s:?} is not a rate like \"20/2h\" or \"20 per 2 hours\""))?;
        let limit: usize = n
            .trim()
            .parse()
            .map_err(|_| format!("{n:?} in {s:?} is not a count"))?;
        let window: SignedDuration = w
            .trim()
            .parse()
            .map_err(|_| format!("{w:?} in {s:?} is not a duration like 2h"))?;
        if !window.is_positive() {
            return Err(format!("the window in {s:?} must be positive"));
        }
        Ok(RateCap { limit, window })
    }

    /// Would one more relay at `now` stay within the cap? `recent` may be unsorted and
    /// may include entries older than the window or (clock skew) after `now`; both are
    /// handled: old ones are ignored, future ones count as if they were now.
    pub fn check(&self, recent: &[Timestamp], now: Timestamp) -> RateDecision {
        if self.limit == 0 {
            // A zero cap is "relay off": no later moment frees a slot.
            return RateDecision::Deny {
                retry_after: Timestamp::MAX,
            };
        }
        let since = now.checked_sub(self.window).unwrap_or(Timestamp::MIN);
        // An entry exactly `window` ago has left the window.
        let mut inside: Vec<Timestamp> = recent
            .iter()
            .copied()
            .filter(|t| *t > since)
            .map(|t| t.min(now))
            .collect();
        if inside.len() < self.limit {
            return RateDecision::Allow;
        }
        inside.sort_unstable();
        // The slot frees when the entry that must drop out for us to fit leaves the window.
        let must_leave = inside[inside.len() - self.limit];
        let retry_after = must_leave
            .checked_add(self.window)
            .unwrap_or(Timestamp::MAX);
        RateDecision::Deny { retry_after }
    }

    pub fn allows(&self, recent: &[Timestamp], now: Timestamp) -> bool {
        self.check(recent, now) == RateDecision::Allow
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn every_minute(from: &str, n: usize) -> Vec<Timestamp> {
        let start = t(from);
        (0..n)
            .map(|i| start + SignedDuration::from_mins(i as i64))
            .collect()
    }

    #[test]
    fn allows_below_the_limit_and_denies_at_it() {
        let cap = RateCap::new(20, SignedDuration::from_hours(2));
        let now = t("2026-11-23T10:30:00Z");
        let nineteen = every_minute("2026-11-23T10:00:00Z", 19);
        assert_eq!(cap.check(&nineteen, now), RateDecision::Allow);
        let twenty = every_minute("2026-11-23T10:00:00Z", 20);
        assert_eq!(
            cap.check(&twenty, now),
            RateDecision::Deny {
                retry_after: t("2026-11-23T12:00:00Z")
            },
            "the oldest of the 20 leaves the window at 12:00"
        );
    }

    #[test]
    fn relays_older_than_the_window_do_not_count() {
        let cap = RateCap::new(3, SignedDuration::from_hours(2));
        let now = t("2026-11-23T12:00:00Z");
        // Exactly two hours old is outside; the other two are inside.
        let recent = [
            t("2026-11-23T08:00:00Z"),
            t("2026-11-23T10:00:00Z"),
            t("2026-11-23T11:00:00Z"),
            t("2026-11-23T11:30:00Z"),
        ];
        assert!(cap.allows(&recent, now));
        let with_one_more = [recent.as_slice(), &[t("2026-11-23T11:59:00Z")]].concat();
        assert_eq!(
            cap.check(&with_one_more, now),
            RateDecision::Deny {
                retry_after: t("2026-11-23T13:00:00Z")
            }
        );
    }

    #[test]
    fn retry_after_uses_the_right_entry_when_far_over_the_cap() {
        let cap = RateCap::new(2, SignedDuration::from_hours(1));
        let now = t("2026-11-23T10:50:00Z");
        // Unsorted on purpose; four inside the window: 10:10, 10:20, 10:30, 10:40.
        let recent = [
            t("2026-11-23T10:30:00Z"),
            t("2026-11-23T10:10:00Z"),
            t("2026-11-23T10:40:00Z"),
            t("2026-11-23T10:20:00Z"),
        ];
        // One more fits only when just one remains inside: after 10:30 + 1h.
        assert_eq!(
            cap.check(&recent, now),
            RateDecision::Deny {
                retry_after: t("2026-11-23T11:30:00Z")
            }
        );
    }

    #[test]
    fn zero_limit_denies_everything() {
        let cap = RateCap::new(0, SignedDuration::from_hours(1));
        assert!(!cap.allows(&[], t("2026-11-23T10:00:00Z")));
    }

    #[test]
    fn future_timestamps_count_against_the_cap() {
        let cap = RateCap::new(1, SignedDuration::from_hours(1));
        let now = t("2026-11-23T10:00:00Z");
        assert!(!cap.allows(&[t("2026-11-23T10:05:00Z")], now));
    }

    #[test]
    fn parses_rate_specs() {
        assert_eq!(
            RateCap::parse("20/2h").unwrap(),
            RateCap::new(20, SignedDuration::from_hours(2))
        );
        assert_eq!(
            RateCap::parse("5 per 30 minutes").unwrap(),
            RateCap::new(5, SignedDuration::from_mins(30))
        );
        assert!(RateCap::parse("lots").is_err());
        assert!(RateCap::parse("20/0s").is_err());
        assert!(RateCap::parse("x/2h").is_err());
        assert_eq!(RateCap::default(), RateCap::parse("20/2h").unwrap());
    }
}
