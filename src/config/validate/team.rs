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
    TeamSettings {
        name: t.name.clone().unwrap_or_else(|| "Our team".into()),
        timezone,
        hours,
        manager: t.manager.clone(),
        default_owner: t.default_owner.clone(),
        keep_orphans,
    }
}
