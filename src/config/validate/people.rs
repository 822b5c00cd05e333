//! `[[people]]`: the team members, each with a unique id and address; and the set of their
//! ids that other sections check names against.

use super::check::Check;
use crate::config::raw::RawPerson;
use crate::domain::route::Person;
use std::collections::HashSet;

/// The ids of the active `[[people]]`, which `[team]`, `[duty]`, `[[routes]]` and
/// `[accounts]` may name.
pub(super) struct PersonIds<'a>(HashSet<&'a str>);

impl<'a> PersonIds<'a> {
    pub(super) fn of(people: &'a [Person]) -> Self {
        PersonIds(people.iter().map(|p| p.id.as_str()).collect())
    }

    /// A problem at `key` unless `id` is one of these people.
    pub(super) fn check(&self, c: &mut Check, key: &str, id: &str) {
        if !self.0.contains(id) {
            c.add(
                key,
                format!("{id:?} is not a person in [[people]]"),
                "use the id of a [[people]] entry",
            );
        }
    }
}

/// Inactive people (`active = false`) are checked but left out.
pub(super) fn validate(c: &mut Check, raw: &[RawPerson]) -> Vec<Person> {
    let mut out: Vec<Person> = Vec::new();
    for (i, p) in raw.iter().enumerate() {
        let key = format!("people[{i}]");
        let id = c.required(
            &format!("{key}.id"),
            &p.id,
            "give every person a short id like \"alice\"",
        );
        if !id.is_empty()
            && !id
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
        {
            c.add(
                format!("{key}.id"),
                format!("{id:?} has characters other than letters, digits, - _ ."),
                "use a short id like \"alice\"",
            );
        }
        if out.iter().any(|o| o.id == id) {
            c.add(
                format!("{key}.id"),
                format!("{id:?} is used twice"),
                "give every person their own id",
            );
        }
        let email_raw = c.required(
            &format!("{key}.email"),
            &p.email,
            "set the person's email address",
        );
        let email = if email_raw.is_empty() {
            None
        } else {
            c.email(&format!("{key}.email"), &email_raw)
        };
        if let Some(e) = &email {
            if out.iter().any(|o| o.email.eq_ignore_ascii_case(e.as_str())) {
                c.add(
                    format!("{key}.email"),
                    format!("{e} belongs to two people"),
                    "give every person their own address",
                );
            }
        }
        let away_until = p.away_until.as_deref().and_then(|d| {
            d.parse()
                .map_err(|_| {
                    c.add(
                        format!("{key}.away_until"),
                        format!("{d:?} is not a date"),
                        "write YYYY-MM-DD",
                    )
                })
                .ok()
        });
        if p.active == Some(false) {
            // Inactive people stay out of routing; their leads become orphaned.
            continue;
        }
        out.push(Person {
            name: p.name.clone().unwrap_or_else(|| id.clone()),
            id,
            email: email.map(|e| e.to_string()).unwrap_or_default(),
            away_until,
            capacity: p.capacity,
        });
    }
    out
}
