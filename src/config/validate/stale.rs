//! `[stale]`: the drift thresholds, and how often the daemon sweeps for drift.

use super::check::Check;
use crate::config::raw::RawStale;
use crate::config::StaleSettings;
use jiff::SignedDuration;

/// The drift rules, and `sweep_every` (the scheduler's, not the rules').
pub(super) fn validate(c: &mut Check, s: &RawStale) -> (StaleSettings, SignedDuration) {
    let stale = StaleSettings {
        first_reply_within: c.duration("stale.first_reply_within", &s.first_reply_within, "1h"),
        accept_within: c.duration("stale.accept_within", &s.accept_within, "2h"),
        idle_after: c.duration("stale.idle_after", &s.idle_after, "3d"),
        remind_every: c.duration("stale.remind_every", &s.remind_every, "24h"),
        escalate_after: c.duration("stale.escalate_after", &s.escalate_after, "2d"),
        combine_reminders_over: s.combine_reminders_over.unwrap_or(3),
    };
    if stale.remind_every < SignedDuration::from_mins(1) {
        c.add(
            "stale.remind_every",
            "is under a minute, so every sweep would remind again",
            "write how often a reminder may repeat, e.g. \"24h\"",
        );
    }
    let sweep_every = c.duration("stale.sweep_every", &s.sweep_every, "1m");
    if sweep_every < SignedDuration::from_secs(1) || sweep_every > SignedDuration::from_hours(1) {
        c.add(
            "stale.sweep_every",
            "must be between 1s and 1h",
            "write how often the daemon sweeps, e.g. \"1m\" (the default)",
        );
    }
    (stale, sweep_every)
}
