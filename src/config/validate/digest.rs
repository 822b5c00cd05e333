//! `[digest]`: who gets the digest, when (daily, weekly), and the owner's templates.

use super::check::Check;
use crate::config::raw::RawDigest;
use crate::config::DigestSettings;

pub(super) fn validate(c: &mut Check, d: &RawDigest) -> DigestSettings {
    let to =
        d.to.to_vec()
            .iter()
            .enumerate()
            .filter_map(|(i, a)| c.email(&format!("digest.to[{i}]"), a))
            .collect();
    let daily = d.daily.as_deref().and_then(|t| {
        t.parse()
            .map_err(|_| {
                c.add(
                    "digest.daily",
                    format!("{t:?} is not a time"),
                    "write a time like \"08:00\"",
                )
            })
            .ok()
    });
    let weekly = d.weekly.as_deref().and_then(|w| {
        parse_weekly(w)
            .map_err(|why| {
                c.add(
                    "digest.weekly",
                    why,
                    "write a day and a time like \"Mon 08:30\"",
                )
            })
            .ok()
    });
    let templates = d.templates.as_ref().map(|t| c.base.join(t));
    if let Some(dir) = &templates {
        if !dir.is_dir() {
            c.add(
                "digest.templates",
                format!("{} is not a folder", dir.display()),
                "point it at a folder holding digest.html, digest.txt, reminder.txt, ... (any subset)",
            );
        }
    }
    DigestSettings {
        to,
        daily,
        weekly,
        templates,
        send_when_clean: d.send_when_clean.unwrap_or(false),
    }
}

/// `"Mon 08:30"`: a weekday (its first three letters, any case) and a time.
fn parse_weekly(s: &str) -> Result<(jiff::civil::Weekday, jiff::civil::Time), String> {
    use jiff::civil::Weekday::*;
    let (day, time) = s
        .trim()
        .split_once(char::is_whitespace)
        .ok_or_else(|| format!("{s:?} has no day and time"))?;
    let d = day.to_ascii_lowercase();
    let weekday = [
        (Monday, "mon"),
        (Tuesday, "tue"),
        (Wednesday, "wed"),
        (Thursday, "thu"),
        (Friday, "fri"),
        (Saturday, "sat"),
        (Sunday, "sun"),
    ]
    .into_iter()
    .find(|(_, n)| d.starts_with(n))
    .map(|(w, _)| w)
    .ok_or_else(|| format!("{day:?} is not a weekday"))?;
    let time = time
        .trim()
        .parse()
        .map_err(|_| format!("{time:?} is not a time"))?;
    Ok((weekday, time))
}
