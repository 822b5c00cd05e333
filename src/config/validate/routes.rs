//! `[[routes]]`: each rule's conditions (source, form, field regexes, submitter, hours) and
//! its one target (an owner, a pool, the duty rotation or the submitter's account).

use super::check::Check;
use super::people::PersonIds;
use crate::config::raw::RawRoute;
use crate::domain::route::{Rule, Strategy, Target, WithinHours};
use std::collections::HashSet;

/// `has_duty`: whether there is a `[duty]` section for `duty = true` to route to.
pub(super) fn validate(
    c: &mut Check,
    raw: &[RawRoute],
    has_duty: bool,
    ids: &PersonIds,
) -> Vec<Rule> {
    let mut routes = Vec::new();
    let mut names = HashSet::new();
    for (i, r) in raw.iter().enumerate() {
        let key = format!("routes[{i}]");
        let name = r.name.clone().unwrap_or_else(|| format!("route-{}", i + 1));
        if !names.insert(name.clone()) {
            c.add(
                format!("{key}.name"),
                format!("{name:?} is used by two routes"),
                "give every route its own name",
            );
        }
        let mut fields = Vec::new();
        for (f, pattern) in &r.field {
            if let Some(re) = c.regex(&format!("{key}.field.{f}"), pattern) {
                fields.push((f.clone(), re));
            }
        }
        let targets = r.owner.is_some() as u8
            + (!r.pool.is_empty()) as u8
            + (r.duty == Some(true)) as u8
            + (r.account == Some(true)) as u8;
        if targets != 1 {
            c.add(
                &key,
                format!("route {name:?} names {targets} targets"),
                "give exactly one of owner = \"id\", pool = [\"id\", ...], duty = true or account = true",
            );
        }
        let submitters = r.submitter.to_vec();
        for (j, s) in submitters.iter().enumerate() {
            let t = s.trim().trim_start_matches('@');
            let ok = match t.split_once('@') {
                Some((l, d)) => !l.is_empty() && d.contains('.') && !d.contains('@'),
                None => t.contains('.') && !t.contains(char::is_whitespace),
            };
            if !ok {
                c.add(
                    format!("{key}.submitter[{j}]"),
                    format!("{s:?} is neither an address nor a domain"),
                    "write an address like \"jane@client.example\" or a domain like \"client.example\"",
                );
            }
        }
        let hours = match r.hours.as_deref().map(|h| h.trim().to_ascii_lowercase()) {
            None => None,
            Some(h) if h == "in" => Some(WithinHours::In),
            Some(h) if h == "out" => Some(WithinHours::Out),
            Some(h) => {
                c.add(
                    format!("{key}.hours"),
                    format!("{h:?} is not \"in\" or \"out\""),
                    "write hours = \"in\" (within team.hours) or hours = \"out\" (outside them)",
                );
                None
            }
        };
        let target = if r.account == Some(true) {
            Target::Account
        } else if let Some(owner) = &r.owner {
            ids.check(c, &format!("{key}.owner"), owner);
            Target::Person(owner.clone())
        } else if !r.pool.is_empty() {
            for (j, p) in r.pool.iter().enumerate() {
                ids.check(c, &format!("{key}.pool[{j}]"), p);
            }
            let strategy = match r.strategy.as_deref().unwrap_or("round_robin") {
                "round_robin" => Strategy::RoundRobin,
                "least_busy" => Strategy::LeastBusy,
                other => {
                    c.add(
                        format!("{key}.strategy"),
                        format!("{other:?} is not a strategy"),
                        "use \"round_robin\" or \"least_busy\"",
                    );
                    Strategy::RoundRobin
                }
            };
            Target::Pool {
                members: r.pool.clone(),
                strategy,
            }
        } else {
            if !has_duty && r.duty == Some(true) {
                c.add(
                    format!("{key}.duty"),
                    "routes to the duty rotation but there is no [duty] section",
                    "add [duty] rotation = [...], starts = \"YYYY-MM-DD\", every = \"1w\"",
                );
            }
            Target::Duty
        };
        routes.push(Rule {
            name,
            sources: r.source.to_vec(),
            forms: r.form.to_vec(),
            fields,
            submitters,
            hours,
            target,
        });
    }
    routes
}
