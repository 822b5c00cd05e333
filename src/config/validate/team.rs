//! `[team]`: name, time zone, business hours, manager, default owner and what becomes of
//! leads whose owner left.

use super::check::Check;
use super::people::PersonIds;
use crate::config::raw::RawTeam;
use crate::config::TeamSettings;
use crate::domain::hours::BusinessHours;

pub(super) fn validate(c: &mut Check, t: &RawTeam, ids: &PersonIds) -> TeamSettings {
    let tz_name = t.timezone.clone().unwrap_or_else(|| "UTC".into());
    let timezone = jiff::tz::TimeZone::get(&tz_name).unwrap_or_else(|_| {
        c.add(
            "team.timezone",
            format!("{tz_name:?} is not a known time zone"),
            "use an IANA name like \"Europe/Berlin\" or \"America/New_York\"",
        );
        jiff::tz::TimeZone::UTC
    });
    let hours = BusinessHours::parse(t.hours.as_deref().unwrap_or("Mon-Fri 09:00-17:00"))
        .unwrap_or_else(|why| {
            c.add(
                "team.hours",
                why,
                "write days and hours like \"Mon-Fri 09:00-17:00\", or \"always\"",
            );
            BusinessHours::always()
        });
    if let Some(m) = &t.manager {
        ids.check(c, "team.manager", m);
    }
    if let Some(d) = &t.default_owner {
        ids.check(c, "team.default_owner", d);
    }
    let keep_orphans = match t.orphans.as_deref().map(str::trim) {
        None | Some("reassign") => false,
        Some("keep") => true,
        Some(other) => {
            c.add(
                "team.orphans",
                format!("{other:?} is not an orphan policy"),
                "write \"reassign\" (route them again by the rules) or \"keep\"",
            );
            false
        }
    };
    let hours = hours.with_holidays(holidays(c, t));
    TeamSettings {
        name: t.name.clone().unwrap_or_else(|| "Our team".into()),
        timezone,
        hours,
        manager: t.manager.clone(),
        default_owner: t.default_owner.clone(),
        keep_orphans,
    }
}

/// `[team] holidays` and the days of `holidays_ics` (each event's days, all-day or not).
fn holidays(c: &mut Check, t: &RawTeam) -> Vec<jiff::civil::Date> {
    let mut days = Vec::new();
    for (i, d) in t.holidays.iter().enumerate() {
        match d.trim().parse::<jiff::civil::Date>() {
            Ok(day) => days.push(day),
            Err(_) => c.add(
                format!("team.holidays[{i}]"),
                format!("{d:?} is not a date"),
                "write dates like \"2026-12-25\"",
            ),
        }
    }
    if let Some(file) = &t.holidays_ics {
        let path = c.base.join(file);
        match std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|text| ics_days(&text))
        {
            Ok(more) => days.extend(more),
            Err(why) => c.add(
                "team.holidays_ics",
                format!("cannot read {}: {why}", path.display()),
                "point it at an iCalendar (.ics) file of the days off",
            ),
        }
    }
    days
}

/// The days of every event in an iCalendar text: an all-day event's days from DTSTART up to
/// (not including) DTEND, a timed event's start day. Recurrence rules are not expanded:
/// holiday calendars list each year's days.
fn ics_days(text: &str) -> Result<Vec<jiff::civil::Date>, String> {
    let date = |v: &str| -> Result<jiff::civil::Date, String> {
        let d = v.get(..8).ok_or_else(|| format!("{v:?} is not a date"))?;
        jiff::civil::Date::strptime("%Y%m%d", d).map_err(|_| format!("{v:?} is not a date"))
    };
    let mut days = Vec::new();
    for cal in ical::IcalParser::new(text.as_bytes()) {
        let cal = cal.map_err(|e| e.to_string())?;
        for event in cal.events {
            let value = |name: &str| {
                event
                    .properties
                    .iter()
                    .find(|p| p.name.eq_ignore_ascii_case(name))
                    .and_then(|p| p.value.as_deref())
            };
            let Some(start) = value("DTSTART") else {
                return Err("an event has no DTSTART".into());
            };
            let first = date(start)?;
            days.push(first);
            let all_day = start.len() == 8;
            if let (true, Some(end)) = (all_day, value("DTEND")) {
                let end = date(end)?;
                let mut d = first.tomorrow().map_err(|e| e.to_string())?;
                // Bounded: a year of days off in one event is plenty.
                while d < end && days.len() < 10_000 {
                    days.push(d);
                    d = d.tomorrow().map_err(|e| e.to_string())?;
                }
            }
        }
    }
    Ok(days)
}

#[cfg(test)]
mod tests {
    use super::ics_days;
    use jiff::civil::date;

    #[test]
    fn an_ics_file_gives_its_all_day_events_days_and_timed_events_start_days() {
        let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n\
            BEGIN:VEVENT\r\nUID:1\r\nDTSTART;VALUE=DATE:20261224\r\nDTEND;VALUE=DATE:20261227\r\n\
            SUMMARY:Christmas\r\nEND:VEVENT\r\n\
            BEGIN:VEVENT\r\nUID:2\r\nDTSTART:20270101T090000Z\r\nDTEND:20270101T120000Z\r\n\
            SUMMARY:New year\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        assert_eq!(
            ics_days(ics).unwrap(),
            vec![
                date(2026, 12, 24),
                date(2026, 12, 25),
                date(2026, 12, 26),
                date(2027, 1, 1)
            ]
        );
    }

    #[test]
    fn an_event_without_a_start_is_an_error() {
        let ics = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:1\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        assert!(ics_days(ics).is_err());
    }
}
