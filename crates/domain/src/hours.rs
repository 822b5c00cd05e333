//! Business hours in the team's time zone: deadlines like "first reply within 1h" count
//! only the hours the team works.

use jiff::civil::{Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, Zoned};

#[derive(Clone, Debug, PartialEq)]
pub struct BusinessHours {
    days: [bool; 7], // Monday first
    open: Time,
    /// `None` is the end of the day (the next day's start), so that `always` and
    /// `..-24:00` lose no time at midnight.
    close: Option<Time>,
    /// Days off (in the team's calendar): no window opens on them.
    holidays: std::collections::BTreeSet<jiff::civil::Date>,
}

impl BusinessHours {
    /// Every hour of every day: deadlines are plain wall-clock durations.
    pub fn always() -> Self {
        BusinessHours {
            days: [true; 7],
            open: Time::midnight(),
            close: None,
            holidays: Default::default(),
        }
    }

    /// These hours with `days` off: deadlines and reminders skip them like weekends.
    pub fn with_holidays(mut self, days: impl IntoIterator<Item = jiff::civil::Date>) -> Self {
        self.holidays.extend(days);
        self
    }

    pub fn holidays(&self) -> impl Iterator<Item = &jiff::civil::Date> {
        self.holidays.iter()
    }

    /// Parses `Mon-Fri 09:00-17:00`, `Mon,Wed,Fri 08:30-12:00`, or `always`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("always") || s == "24/7" {
            return Ok(Self::always());
        }
        let (days_part, time_part) = s
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("{s:?} is not of the form \"Mon-Fri 09:00-17:00\""))?;
        let mut days = [false; 7];
        for piece in days_part.split(',') {
            match piece.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (day_index(a)?, day_index(b)?);
                    let mut i = a;
                    loop {
                        days[i] = true;
                        if i == b {
                            break;
                        }
                        i = (i + 1) % 7;
                    }
                }
                None => days[day_index(piece)?] = true,
            }
        }
        let (open, close) = time_part
            .trim()
            .split_once('-')
            .ok_or_else(|| format!("{time_part:?} is not a time range like 09:00-17:00"))?;
        let parse_time = |t: &str| {
            t.trim()
                .parse::<Time>()
                .map_err(|_| format!("{t:?} is not a time like 09:00"))
        };
        let open = parse_time(open)?;
        let close = match close.trim() {
            "24:00" => None,
            c => Some(parse_time(c)?),
        };
        if close.is_some_and(|c| open >= c) {
            return Err(format!(
                "opening {open} is not before closing {}",
                close.map(|c| c.to_string()).unwrap_or_default()
            ));
        }
        Ok(BusinessHours {
            days,
            open,
            close,
            holidays: Default::default(),
        })
    }

    /// The opening and closing instants of `date`, if it is a working day.
    fn window(&self, date: jiff::civil::Date, tz: &TimeZone) -> Option<(Zoned, Zoned)> {
        if !self.is_work_day(date.weekday()) || self.holidays.contains(&date) {
            return None;
        }
        let open = date.to_datetime(self.open).to_zoned(tz.clone()).ok()?;
        let close = match self.close {
            Some(c) => date.to_datetime(c).to_zoned(tz.clone()).ok()?,
            None => date.tomorrow().ok()?.to_zoned(tz.clone()).ok()?,
        };
        (open < close).then_some((open, close))
    }

    /// Whether `at` falls within business hours.
    pub fn is_open(&self, at: Timestamp, tz: &TimeZone) -> bool {
        // Windows never cross midnight, so only the local day's window counts.
        self.window(at.to_zoned(tz.clone()).date(), tz)
            .is_some_and(|(open, close)| open.timestamp() <= at && at < close.timestamp())
    }

    fn is_work_day(&self, wd: Weekday) -> bool {
        self.days[wd.to_monday_zero_offset() as usize]
    }

    /// `start` plus `work` counted in business hours only. Zero or negative work is `start`.
    pub fn add(&self, start: Timestamp, work: SignedDuration, tz: &TimeZone) -> Timestamp {
        if !work.is_positive() {
            return start;
        }
        if !self.days.iter().any(|d| *d) {
            return start.saturating_add(work).unwrap_or(start);
        }
        let mut left = work;
        let mut at: Zoned = start.to_zoned(tz.clone());
        // Bounded: ten years of days covers any sane deadline.
        for _ in 0..3700 {
            let date = at.date();
            if let Some((open, close)) = self.window(date, tz) {
                let from = if at < open { open } else { at.clone() };
                if from < close {
                    let room = from.duration_until(&close);
                    if left <= room {
                        return from.timestamp().saturating_add(left).unwrap_or(start);
                    }
                    left -= room;
                }
            }
            let next_day = date
                .tomorrow()
                .ok()
                .and_then(|d| d.to_zoned(tz.clone()).ok());
            match next_day {
                Some(z) => at = z,
                None => break,
            }
        }
        start.saturating_add(work).unwrap_or(start)
    }

    /// Business time between `from` and `to` (zero if `to` is earlier).
    pub fn between(&self, from: Timestamp, to: Timestamp, tz: &TimeZone) -> SignedDuration {
        if to <= from {
            return SignedDuration::ZERO;
        }
        if !self.days.iter().any(|d| *d) {
            return from.duration_until(to);
        }
        let mut total = SignedDuration::ZERO;
        let mut at = from.to_zoned(tz.clone());
        for _ in 0..3700 {
            let date = at.date();
            if let Some((open, close)) = self.window(date, tz) {
                let a = at.timestamp().max(open.timestamp());
                let b = to.min(close.timestamp());
                if a < b {
                    total += a.duration_until(b);
                }
            }
            match date
                .tomorrow()
                .ok()
                .and_then(|d| d.to_zoned(tz.clone()).ok())
            {
                Some(z) if z.timestamp() < to => at = z,
                _ => break,
            }
        }
        total
    }
}

fn day_index(s: &str) -> Result<usize, String> {
    let d = s.trim().to_ascii_lowercase();
    let names = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    names
        .iter()
        .position(|n| d.starts_with(n))
        .ok_or_else(|| format!("{s:?} is not a weekday (Mon, Tue, ... Sun)"))
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

    #[test]
    fn within_the_day_it_is_plain_addition() {
        let h = BusinessHours::parse("Mon-Fri 09:00-17:00").unwrap();
        // Tuesday 10:00 Berlin (09:00 UTC) + 1h = 11:00 Berlin.
        let due = h.add(
            at("2026-11-24T09:00:00Z"),
            SignedDuration::from_hours(1),
            &berlin(),
        );
        assert_eq!(due, at("2026-11-24T10:00:00Z"));
    }

    #[test]
    fn friday_evening_rolls_over_the_weekend() {
        let h = BusinessHours::parse("Mon-Fri 09:00-17:00").unwrap();
        // Friday 16:30 Berlin + 1h = Monday 09:30 Berlin.
        let due = h.add(
            at("2026-11-27T15:30:00Z"),
            SignedDuration::from_hours(1),
            &berlin(),
        );
        assert_eq!(due, at("2026-11-30T08:30:00Z"));
        assert_eq!(
            h.between(at("2026-11-27T15:30:00Z"), due, &berlin()),
            SignedDuration::from_hours(1)
        );
    }

    #[test]
    fn a_holiday_is_skipped_like_a_weekend_day() {
        let day_off = jiff::civil::date(2026, 12, 24);
        let h = BusinessHours::parse("Mon-Fri 09:00-17:00")
            .unwrap()
            .with_holidays([day_off]);
        // Wednesday 23 Dec 16:30 Berlin + 1h: Thursday 24th is off, so Friday 25th 09:30.
        let due = h.add(
            at("2026-12-23T15:30:00Z"),
            SignedDuration::from_hours(1),
            &berlin(),
        );
        assert_eq!(due, at("2026-12-25T08:30:00Z"));
        assert!(!h.is_open(at("2026-12-24T10:00:00Z"), &berlin()));
        assert!(h.is_open(at("2026-12-25T10:00:00Z"), &berlin()));
        assert_eq!(
            h.between(at("2026-12-23T15:30:00Z"), due, &berlin()),
            SignedDuration::from_hours(1)
        );
    }

    #[test]
    fn dst_change_keeps_local_opening_hours() {
        let h = BusinessHours::parse("Mon-Fri 09:00-17:00").unwrap();
        // Berlin leaves summer time on Sunday 2026-10-25. Friday 16:00 CEST (14:00 UTC)
        // + 2h = Monday 10:00 CET = 09:00 UTC.
        let due = h.add(
            at("2026-10-23T14:00:00Z"),
            SignedDuration::from_hours(2),
            &berlin(),
        );
        assert_eq!(due, at("2026-10-26T09:00:00Z"));
    }

    #[test]
    fn always_loses_no_time_at_midnight() {
        let h = BusinessHours::always();
        let start = at("2026-11-24T22:30:00Z"); // 23:30 Berlin
        let due = h.add(start, SignedDuration::from_hours(1), &berlin());
        assert_eq!(due, at("2026-11-24T23:30:00Z"));
        assert_eq!(
            h.between(start, at("2026-11-27T22:30:00Z"), &berlin()),
            SignedDuration::from_hours(72)
        );
    }

    #[test]
    fn zero_or_negative_work_is_the_start() {
        let h = BusinessHours::parse("Mon-Fri 09:00-17:00").unwrap();
        let sat = at("2026-11-28T12:00:00Z");
        assert_eq!(h.add(sat, SignedDuration::ZERO, &berlin()), sat);
        assert_eq!(h.add(sat, SignedDuration::from_hours(-3), &berlin()), sat);
    }

    #[test]
    fn is_open_follows_local_hours_and_days() {
        let h = BusinessHours::parse("Mon-Fri 09:00-17:00").unwrap();
        assert!(
            h.is_open(at("2026-11-24T08:00:00Z"), &berlin()),
            "Tue 09:00"
        );
        assert!(
            !h.is_open(at("2026-11-24T07:59:00Z"), &berlin()),
            "Tue 08:59"
        );
        assert!(
            !h.is_open(at("2026-11-24T16:00:00Z"), &berlin()),
            "Tue 17:00"
        );
        assert!(
            !h.is_open(at("2026-11-28T10:00:00Z"), &berlin()),
            "Saturday"
        );
        let late = BusinessHours::parse("Mon-Fri 18:00-24:00").unwrap();
        assert!(late.is_open(at("2026-11-24T22:59:00Z"), &berlin()), "23:59");
        assert!(
            !late.is_open(at("2026-11-24T23:00:00Z"), &berlin()),
            "Wed 00:00"
        );
    }

    #[test]
    fn between_spans_a_weekend_and_dst() {
        let h = BusinessHours::parse("Mon-Fri 09:00-17:00").unwrap();
        // Fri 2026-10-23 16:00 CEST → Mon 2026-10-26 10:00 CET: 1h + 1h.
        assert_eq!(
            h.between(
                at("2026-10-23T14:00:00Z"),
                at("2026-10-26T09:00:00Z"),
                &berlin()
            ),
            SignedDuration::from_hours(2)
        );
    }

    #[test]
    fn rejects_malformed_hours() {
        for bad in [
            "Mon-Fri",
            "Funday 09:00-17:00",
            "Mon-Fri 17:00-09:00",
            "Mon-Fri 9-5x",
        ] {
            assert!(BusinessHours::parse(bad).is_err(), "{bad}");
        }
        assert!(BusinessHours::parse("Sat,Sun 10:00-14:00").is_ok());
    }
}
