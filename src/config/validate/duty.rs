//! `[duty]`: the rotation of people who take turns, from which day and how often it turns.

use super::check::Check;
use super::people::PersonIds;
use crate::config::raw::RawDuty;
use crate::domain::route::Duty;

pub(super) fn validate(c: &mut Check, d: &RawDuty, ids: &PersonIds) -> Duty {
    for (i, p) in d.rotation.iter().enumerate() {
        ids.check(c, &format!("duty.rotation[{i}]"), p);
    }
    if d.rotation.is_empty() {
        c.add(
            "duty.rotation",
            "is empty",
            "list the ids of the people who take turns",
        );
    }
    let starts = d
        .starts
        .as_deref()
        .unwrap_or("2026-01-05")
        .parse()
        .unwrap_or_else(|_| {
            c.add(
                "duty.starts",
                format!("{:?} is not a date", d.starts),
                "write the first day of the first period as YYYY-MM-DD",
            );
            jiff::civil::date(2026, 1, 5)
        });
    let every_s = d.every.as_deref().unwrap_or("1w");
    let every: jiff::Span = every_s
        .parse()
        .ok()
        .filter(|s: &jiff::Span| {
            let whole = s.get_hours() == 0
                && s.get_minutes() == 0
                && s.get_seconds() == 0
                && s.get_milliseconds() == 0
                && s.get_microseconds() == 0
                && s.get_nanoseconds() == 0;
            s.is_positive() && whole
        })
        .unwrap_or_else(|| {
            c.add(
                "duty.every",
                format!("{every_s:?} is not a period"),
                "write a period of whole days, weeks or months like \"1w\", \"2w\", \"1d\" or \"1mo\"",
            );
            jiff::Span::new().weeks(1)
        });
    Duty {
        rotation: d.rotation.clone(),
        starts,
        every,
    }
}
