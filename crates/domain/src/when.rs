//! Deadlines typed by people: the WHEN of `/next <when> <what>` and of
//! `leadgate next ID WHEN WHAT`. Absolute dates, relative spans, weekday names and times
//! of day, all read in the team's time zone. Pure: `now` and the zone are arguments.
//!
//! The parser reads a prefix and reports how much it consumed, so the caller can split
//! "tomorrow 10:00 call back" into a deadline and "call back".

use jiff::civil::{Date, DateTime, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp, Zoned};

/// The grammar, for error mails and `--help`.
pub const WHEN_HELP: &str = "\
WHEN is one of:
  2026-11-27 10:00   a date and a time (24h; also 10am, 3:30pm)
  2026-11-27         a date alone means 09:00 that day
  27.11.2026 10:00   day.month.year; 27.11. is the next 27 November
  10:00              today at 10:00, or tomorrow if that has passed
  today 16:00        today; \"today\" alone means 17:00
  tomorrow           tomorrow at 09:00 (tomorrow 14:00 for a time)
  mon, monday        the next Monday (never today) at 09:00; mon 9:30 for a time
  next week          next Monday at 09:00
  3d, 1w, 2h, 30m    from now (also \"in 3 days\", \"2 hours\"); 3d 10:00 for a time
All times are in the team's time zone.";

/// Defaults for deadlines given without a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WhenOptions {
    /// A date without a time means this time of day.
    pub default_time: Time,
    /// "today" without a time means this time of day.
    pub end_of_day: Time,
}

impl Default for WhenOptions {
    fn default() -> Self {
        WhenOptions {
            default_time: Time::constant(9, 0, 0, 0),
            end_of_day: Time::constant(17, 0, 0, 0),
        }
    }
}

/// A parsed deadline and how many bytes of the input it took (always a char boundary;
/// the rest of the input, after whitespace, is the caller's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct When {
    pub at: Timestamp,
    pub consumed: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WhenError {
    #[error("{0:?} is not a time leadgate understands")]
    Unrecognised(String),
    #[error("{input:?} is {at}, which is not in the future")]
    InPast { input: String, at: String },
    #[error("{0:?} is out of range")]
    OutOfRange(String),
}

/// Parses a deadline at the start of `s` with the default options.
pub fn parse_when(s: &str, now: Timestamp, tz: &TimeZone) -> Result<When, WhenError> {
    parse_when_with(s, now, tz, WhenOptions::default())
}

/// Splits `s` into a deadline and the text after it ("tomorrow call back" → (…, "call back")).
pub fn split_when<'a>(
    s: &'a str,
    now: Timestamp,
    tz: &TimeZone,
    opts: WhenOptions,
) -> Result<(Timestamp, &'a str), WhenError> {
    let w = parse_when_with(s, now, tz, opts)?;
    let rest = s.get(w.consumed..).unwrap_or("").trim();
    Ok((w.at, rest))
}

/// Parses a deadline that must be the whole of `s` (the CLI's WHEN argument).
pub fn parse_when_exact(
    s: &str,
    now: Timestamp,
    tz: &TimeZone,
    opts: WhenOptions,
) -> Result<Timestamp, WhenError> {
    let (at, rest) = split_when(s, now, tz, opts)?;
    if rest.is_empty() {
        Ok(at)
    } else {
        Err(WhenError::Unrecognised(s.trim().to_string()))
    }
}

struct Tok<'a> {
    text: String, // lowercased, trailing comma stripped
    raw: &'a str,
    end: usize,
}

fn tokens(s: &str) -> Vec<Tok<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices().chain(std::iter::once((s.len(), ' '))) {
        match (c.is_whitespace(), start) {
            (false, None) => start = Some(i),
            (true, Some(b)) => {
                let raw = &s[b..i];
                let text = raw.trim_end_matches([',', ';']).to_lowercase();
                out.push(Tok { text, raw, end: i });
                start = None;
            }
            _ => {}
        }
        // Only the first few words can be a deadline.
        if out.len() >= 6 {
            break;
        }
    }
    out
}

enum DatePart {
    /// A calendar day; `today` remembers whether it was "today" (end-of-day default).
    Day { date: Date, today: bool },
    /// A point reached by adding a span; `whole_days` spans may take a time of day.
    Offset { at: Zoned, whole_days: bool },
}

/// Parses a deadline at the start of `s`.
pub fn parse_when_with(
    s: &str,
    now: Timestamp,
    tz: &TimeZone,
    opts: WhenOptions,
) -> Result<When, WhenError> {
    let toks = tokens(s);
    let shown = || {
        toks.iter()
            .take(3)
            .map(|t| t.raw)
            .collect::<Vec<_>>()
            .join(" ")
    };
    if toks.is_empty() {
        return Err(WhenError::Unrecognised(String::new()));
    }
    let now_z = now.to_zoned(tz.clone());
    let today = now_z.date();
    let mut i = 0;

    // A full timestamp with an offset needs no zone and no time after it.
    if let Ok(at) = toks[0].text.to_uppercase().parse::<Timestamp>() {
        return finish(at, toks[0].end, now, toks[0].raw);
    }

    let date_part = if let Some((part, n)) = relative(&toks, &now_z) {
        i += n;
        Some(part?)
    } else if let Some((date, n)) = named_day(&toks, today) {
        i += n;
        let is_today = date == today && toks[0].text == "today";
        Some(DatePart::Day {
            date,
            today: is_today,
        })
    } else if let Some((dt, has_time)) = iso_date(&toks[0].text) {
        i += 1;
        if has_time {
            let at = dt
                .to_zoned(tz.clone())
                .map_err(|_| WhenError::OutOfRange(shown()))?;
            return finish(at.timestamp(), toks[0].end, now, &shown());
        }
        Some(DatePart::Day {
            date: dt.date(),
            today: false,
        })
    } else if let Some(date) = dotted_date(&toks[0].text, today) {
        i += 1;
        Some(DatePart::Day {
            date: date.map_err(|_| WhenError::OutOfRange(shown()))?,
            today: false,
        })
    } else {
        None
    };

    let takes_time = !matches!(
        date_part,
        Some(DatePart::Offset {
            whole_days: false,
            ..
        })
    );
    let time = if takes_time {
        time_of_day(&toks[i..])
    } else {
        None
    };
    if let Some((_, n)) = time {
        i += n;
    }
    if i == 0 {
        return Err(WhenError::Unrecognised(shown()));
    }
    let consumed = toks[i - 1].end;
    let shown = shown();
    let at_day = |date: Date, t: Time| -> Result<Timestamp, WhenError> {
        // A wall time in a DST gap moves forward, one in a fold takes the earlier instant.
        DateTime::from_parts(date, t)
            .to_zoned(tz.clone())
            .map(|z| z.timestamp())
            .map_err(|_| WhenError::OutOfRange(shown.clone()))
    };
    let at = match (date_part, time) {
        (Some(DatePart::Offset { at, .. }), None) => at.timestamp(),
        (Some(DatePart::Offset { at, .. }), Some((t, _))) => at_day(at.date(), t)?,
        (Some(DatePart::Day { date, today }), None) => at_day(
            date,
            if today {
                opts.end_of_day
            } else {
                opts.default_time
            },
        )?,
        (Some(DatePart::Day { date, .. }), Some((t, _))) => at_day(date, t)?,
        (None, Some((t, _))) => {
            let at = at_day(today, t)?;
            if at > now {
                at
            } else {
                let tomorrow = today
                    .tomorrow()
                    .map_err(|_| WhenError::OutOfRange(shown.clone()))?;
                at_day(tomorrow, t)?
            }
        }
        (None, None) => return Err(WhenError::Unrecognised(shown)),
    };
    finish(at, consumed, now, &shown)
}

fn finish(at: Timestamp, consumed: usize, now: Timestamp, shown: &str) -> Result<When, WhenError> {
    if at <= now {
        return Err(WhenError::InPast {
            input: shown.to_string(),
            at: at.to_string(),
        });
    }
    Ok(When { at, consumed })
}

/// `3d`, `2h30m`, `in 3 days`, `2 hours`, `1w`.
fn relative(toks: &[Tok<'_>], now: &Zoned) -> Option<(Result<DatePart, WhenError>, usize)> {
    let skip = usize::from(toks.first()?.text == "in");
    let first = toks.get(skip)?;
    let (span, n) = if first.text.starts_with(|c: char| c.is_ascii_digit()) {
        if let Some(span) = parse_span(&first.text) {
            (span, 1)
        } else {
            let unit = toks.get(skip + 1)?;
            (parse_span(&format!("{} {}", first.text, unit.text))?, 2)
        }
    } else {
        return None;
    };
    let whole_days = span.get_hours() == 0
        && span.get_minutes() == 0
        && span.get_seconds() == 0
        && span.get_milliseconds() == 0;
    let shown = toks[..skip + n]
        .iter()
        .map(|t| t.raw)
        .collect::<Vec<_>>()
        .join(" ");
    let part = now
        .checked_add(span)
        .map(|at| DatePart::Offset { at, whole_days })
        .map_err(|_| WhenError::OutOfRange(shown));
    Some((part, skip + n))
}

fn parse_span(s: &str) -> Option<Span> {
    // jiff's friendly format: "3d", "2h 30m", "1 week"; never a bare number, and not its
    // "10:00:00" clock form, which people mean as a time of day.
    if s.contains(':') {
        return None;
    }
    let span: Span = s.parse().ok()?;
    (span.signum() > 0).then_some(span)
}

/// `today`, `tomorrow`, weekday names (the next such day, never today), `next week`,
/// `next monday`.
fn named_day(toks: &[Tok<'_>], today: Date) -> Option<(Date, usize)> {
    let first = toks.first()?.text.as_str();
    match first {
        "today" => return Some((today, 1)),
        "tomorrow" | "tmrw" => return today.tomorrow().ok().map(|d| (d, 1)),
        _ => {}
    }
    if first == "next" {
        let second = toks.get(1)?.text.as_str();
        if second == "week" {
            return today.nth_weekday(1, Weekday::Monday).ok().map(|d| (d, 2));
        }
        let wd = weekday(second)?;
        return today.nth_weekday(1, wd).ok().map(|d| (d, 2));
    }
    let wd = weekday(first)?;
    today.nth_weekday(1, wd).ok().map(|d| (d, 1))
}

fn weekday(s: &str) -> Option<Weekday> {
    Some(match s {
        "mon" | "monday" => Weekday::Monday,
        "tue" | "tues" | "tuesday" => Weekday::Tuesday,
        "wed" | "wednesday" => Weekday::Wednesday,
        "thu" | "thur" | "thurs" | "thursday" => Weekday::Thursday,
        "fri" | "friday" => Weekday::Friday,
        "sat" | "saturday" => Weekday::Saturday,
        "sun" | "sunday" => Weekday::Sunday,
        _ => return None,
    })
}

/// `2026-11-27` (no time) or `2026-11-27T10:00` (with time).
fn iso_date(s: &str) -> Option<(DateTime, bool)> {
    let b = s.as_bytes();
    if b.len() < 10 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    if s.len() == 10 {
        return s
            .parse::<Date>()
            .ok()
            .map(|d| (d.to_datetime(Time::midnight()), false));
    }
    s.to_uppercase()
        .parse::<DateTime>()
        .ok()
        .map(|dt| (dt, true))
}

/// `27.11.2026`, or `27.11.` meaning the next 27 November from today on.
fn dotted_date(s: &str, today: Date) -> Option<Result<Date, jiff::Error>> {
    let parts: Vec<&str> = s.split('.').collect();
    let num = |p: &str, max_len: usize| -> Option<i16> {
        (!p.is_empty() && p.len() <= max_len && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()
    };
    match parts.as_slice() {
        [d, m, y] if !y.is_empty() => {
            let (d, m, y) = (num(d, 2)?, num(m, 2)?, num(y, 4)?);
            if y < 1000 {
                return None;
            }
            Some(Date::new(y, m as i8, d as i8))
        }
        [d, m, ""] | [d, m] => {
            let (d, m) = (num(d, 2)?, num(m, 2)?);
            let this_year = Date::new(today.year(), m as i8, d as i8);
            Some(match this_year {
                Ok(date) if date >= today => Ok(date),
                _ => Date::new(today.year() + 1, m as i8, d as i8),
            })
        }
        _ => None,
    }
}

/// `10:00`, `9:30`, `10am`, `3:30pm`, `10 am`, optionally after `at`.
fn time_of_day(toks: &[Tok<'_>]) -> Option<(Time, usize)> {
    let skip = usize::from(toks.first()?.text == "at");
    let tok = toks.get(skip)?.text.as_str();
    let meridiem = |s: &str| match s.trim_end_matches('.') {
        "am" | "a.m" => Some(false),
        "pm" | "p.m" => Some(true),
        _ => None,
    };
    let (clock, pm, n) = if let Some(pm) = toks.get(skip + 1).and_then(|t| meridiem(&t.text)) {
        (tok, Some(pm), 2)
    } else if let Some(c) = tok.strip_suffix("am") {
        (c, Some(false), 1)
    } else if let Some(c) = tok.strip_suffix("pm") {
        (c, Some(true), 1)
    } else {
        (tok, None, 1)
    };
    let (h, m) = match clock.split_once(':') {
        Some((h, m)) if m.len() == 2 => (h, m),
        // A bare number is a time only with am/pm: "call 3 people" is not 03:00.
        None if pm.is_some() => (clock, "00"),
        _ => return None,
    };
    let digits = |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || !digits(m) {
        return None;
    }
    let (mut h, m): (i8, i8) = (h.parse().ok()?, m.parse().ok()?);
    if let Some(pm) = pm {
        if !(1..=12).contains(&h) {
            return None;
        }
        h = match (h, pm) {
            (12, false) => 0,
            (12, true) => 12,
            (h, true) => h + 12,
            (h, false) => h,
        };
    }
    Time::new(h, m, 0, 0).ok().map(|t| (t, skip + n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn berlin() -> TimeZone {
        TimeZone::get("Europe/Berlin").unwrap()
    }

    fn new_york() -> TimeZone {
        TimeZone::get("America/New_York").unwrap()
    }

    /// `now` given as a wall time in `tz`.
    fn at(wall: &str, tz: &TimeZone) -> Timestamp {
        wall.parse::<DateTime>()
            .unwrap()
            .to_zoned(tz.clone())
            .unwrap()
            .timestamp()
    }

    fn wall(ts: Timestamp, tz: &TimeZone) -> String {
        ts.to_zoned(tz.clone())
            .strftime("%Y-%m-%d %H:%M %Z")
            .to_string()
    }

    /// Parses `input` at `now` (Berlin wall time) and returns (Berlin wall time, rest).
    fn b(input: &str, now: &str) -> (String, String) {
        let tz = berlin();
        let (ts, rest) = split_when(input, at(now, &tz), &tz, WhenOptions::default())
            .unwrap_or_else(|e| panic!("{input:?}: {e}"));
        (wall(ts, &tz), rest.to_string())
    }

    // 2026-11-23 is a Monday.
    const MON: &str = "2026-11-23T14:00";

    fn now_mon() -> Timestamp {
        at(MON, &berlin())
    }

    #[test]
    fn absolute_dates_and_times() {
        assert_eq!(
            b("2026-11-27 10:00 send the quote", MON),
            ("2026-11-27 10:00 CET".into(), "send the quote".into())
        );
        assert_eq!(b("2026-11-27 send it", MON).0, "2026-11-27 09:00 CET");
        assert_eq!(b("27.11.2026 10:00 x", MON).0, "2026-11-27 10:00 CET");
        assert_eq!(b("2026-11-27T16:30 x", MON).0, "2026-11-27 16:30 CET");
        assert_eq!(b("2026-11-27 at 3pm x", MON).0, "2026-11-27 15:00 CET");
        assert_eq!(b("2026-11-27 3:30 pm x", MON).0, "2026-11-27 15:30 CET");
        assert_eq!(b("2026-11-27 12am x", MON).0, "2026-11-27 00:00 CET");
        assert_eq!(
            b("2026-11-27T09:00:00Z x", MON).0,
            "2026-11-27 10:00 CET",
            "an explicit offset wins over the team zone"
        );
    }

    #[test]
    fn dotted_date_without_year_is_the_next_one() {
        assert_eq!(b("27.11. call", MON).0, "2026-11-27 09:00 CET");
        assert_eq!(b("01.03. call", MON).0, "2027-03-01 09:00 CET");
    }

    #[test]
    fn relative_spans_from_now() {
        assert_eq!(
            b("3d follow up", MON),
            ("2026-11-26 14:00 CET".into(), "follow up".into())
        );
        assert_eq!(b("2h ping", MON).0, "2026-11-23 16:00 CET");
        assert_eq!(b("1w ping", MON).0, "2026-11-30 14:00 CET");
        assert_eq!(b("30m ping", MON).0, "2026-11-23 14:30 CET");
        assert_eq!(b("in 3 days ping", MON).0, "2026-11-26 14:00 CET");
        assert_eq!(b("2 hours ping", MON).0, "2026-11-23 16:00 CET");
        assert_eq!(
            b("3d 10:00 ping", MON).0,
            "2026-11-26 10:00 CET",
            "whole days take a time of day"
        );
        assert_eq!(
            b("2h 10:00 ping", MON),
            ("2026-11-23 16:00 CET".into(), "10:00 ping".into()),
            "an hour span does not"
        );
    }

    #[test]
    fn named_days() {
        assert_eq!(
            b("tomorrow call back", MON),
            ("2026-11-24 09:00 CET".into(), "call back".into())
        );
        assert_eq!(b("tomorrow 14:30 call", MON).0, "2026-11-24 14:30 CET");
        assert_eq!(b("today 16:00 call", MON).0, "2026-11-23 16:00 CET");
        assert_eq!(b("today call", MON).0, "2026-11-23 17:00 CET");
        assert_eq!(b("Wed, call", MON).0, "2026-11-25 09:00 CET");
        assert_eq!(b("friday 11:00 call", MON).0, "2026-11-27 11:00 CET");
    }

    #[test]
    fn weekdays_never_mean_today_and_cross_week_and_year_ends() {
        assert_eq!(
            b("mon 9:00 call", MON).0,
            "2026-11-30 09:00 CET",
            "on a Monday, mon is next week's"
        );
        assert_eq!(b("mon call", "2026-11-29T20:00").0, "2026-11-30 09:00 CET");
        assert_eq!(
            b("next week call", "2026-11-27T10:00").0,
            "2026-11-30 09:00 CET"
        );
        assert_eq!(
            b("next week call", "2026-11-30T10:00").0,
            "2026-12-07 09:00 CET"
        );
        assert_eq!(b("next tuesday call", MON).0, "2026-11-24 09:00 CET");
        assert_eq!(b("fri call", "2026-12-31T10:00").0, "2027-01-01 09:00 CET");
        assert_eq!(
            b("tomorrow call", "2026-12-31T10:00").0,
            "2027-01-01 09:00 CET"
        );
    }

    #[test]
    fn a_time_alone_is_today_or_tomorrow() {
        assert_eq!(b("16:00 call", MON).0, "2026-11-23 16:00 CET");
        assert_eq!(b("10:00 call", MON).0, "2026-11-24 10:00 CET");
        assert_eq!(b("at 9am call", MON).0, "2026-11-24 09:00 CET");
        assert!(
            parse_when("10:00:00 call", now_mon(), &berlin()).is_err(),
            "a clock with seconds is neither a time we read nor a 10h span"
        );
    }

    #[test]
    fn days_keep_wall_time_across_berlin_fall_back() {
        let tz = berlin();
        // 2026-10-25 03:00 CEST becomes 02:00 CET.
        let now = at("2026-10-24T10:00", &tz);
        let day = parse_when("1d x", now, &tz).unwrap().at;
        assert_eq!(wall(day, &tz), "2026-10-25 10:00 CET");
        assert_eq!(
            day.duration_since(now).as_hours(),
            25,
            "that day has 25 hours"
        );
        let hours = parse_when("24h x", now, &tz).unwrap().at;
        assert_eq!(
            wall(hours, &tz),
            "2026-10-25 09:00 CET",
            "24h is exact time"
        );
        let tomorrow = parse_when("tomorrow x", now, &tz).unwrap().at;
        assert_eq!(tomorrow.to_string(), "2026-10-25T08:00:00Z");
        // 02:30 happens twice that night: the earlier (summer time) one is taken.
        let folded = parse_when("2026-10-25 02:30 x", now, &tz).unwrap().at;
        assert_eq!(folded.to_string(), "2026-10-25T00:30:00Z");
    }

    #[test]
    fn new_york_fall_back_and_berlin_spring_gap() {
        let ny = new_york();
        // 2026-11-01 02:00 EDT becomes 01:00 EST.
        let now = at("2026-10-31T09:00", &ny);
        let t = parse_when("tomorrow x", now, &ny).unwrap().at;
        assert_eq!(wall(t, &ny), "2026-11-01 09:00 EST");
        assert_eq!(t.to_string(), "2026-11-01T14:00:00Z");
        let w = parse_when("1w x", now, &ny).unwrap().at;
        assert_eq!(wall(w, &ny), "2026-11-07 09:00 EST");
        let tz = berlin();
        // 2026-03-29 02:30 does not exist in Berlin; it moves forward an hour.
        let now = at("2026-03-28T12:00", &tz);
        let gap = parse_when("2026-03-29 02:30 x", now, &tz).unwrap().at;
        assert_eq!(wall(gap, &tz), "2026-03-29 03:30 CEST");
    }

    #[test]
    fn consumed_is_a_byte_offset_on_a_char_boundary() {
        let tz = berlin();
        let s = "tomorrow Angebot für Müller";
        let w = parse_when(s, at(MON, &tz), &tz).unwrap();
        assert_eq!(&s[w.consumed..], " Angebot für Müller");
    }

    #[test]
    fn rejects_the_past_and_nonsense() {
        let tz = berlin();
        let now = at(MON, &tz);
        let err = |s: &str| parse_when(s, now, &tz).unwrap_err();
        assert!(matches!(err("2026-11-20 call"), WhenError::InPast { .. }));
        assert!(matches!(err("today 08:00 call"), WhenError::InPast { .. }));
        assert!(matches!(err("call back soon"), WhenError::Unrecognised(_)));
        assert!(matches!(err(""), WhenError::Unrecognised(_)));
        assert!(matches!(
            err("3 people to call"),
            WhenError::Unrecognised(_)
        ));
        assert!(matches!(err("2026-13-40 x"), WhenError::Unrecognised(_)));
        assert!(matches!(err("31.02.2027 x"), WhenError::OutOfRange(_)));
        assert!(matches!(
            err("99999y x"),
            WhenError::Unrecognised(_) | WhenError::OutOfRange(_)
        ));
        assert!(matches!(err("-3d x"), WhenError::Unrecognised(_)));
        // A time that is not a time stays in WHAT rather than failing.
        assert_eq!(b("tomorrow 25:00 call", MON).1, "25:00 call");
    }

    #[test]
    fn exact_parse_for_the_cli() {
        let tz = berlin();
        let now = at(MON, &tz);
        let o = WhenOptions::default();
        assert!(parse_when_exact("tomorrow 10:00", now, &tz, o).is_ok());
        assert!(parse_when_exact("tomorrow call", now, &tz, o).is_err());
        let custom = WhenOptions {
            default_time: Time::constant(8, 0, 0, 0),
            ..o
        };
        let t = parse_when_exact("2026-11-27", now, &tz, custom).unwrap();
        assert_eq!(wall(t, &tz), "2026-11-27 08:00 CET");
    }

    #[test]
    fn odd_input_does_not_panic() {
        let tz = berlin();
        let now = at(MON, &tz);
        for s in [
            "ü",
            "2026-",
            "2026-11-27Tü",
            "..",
            "1.",
            "12.ü.",
            "in",
            "next",
            "at",
            "am pm",
            "😀 1d",
            "0d",
        ] {
            let _ = parse_when(s, now, &tz);
        }
    }
}
