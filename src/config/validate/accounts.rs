//! `[accounts]`: submitter address or domain → the person who owns that account, and how
//! accounts are learnt from earlier leads (`learn`, `customer_status`).

use super::check::Check;
use super::people::PersonIds;
use crate::config::raw::OneOrMany;
use crate::domain::lead::LeadStatus;
use crate::domain::route::Learn;
use std::collections::BTreeMap;

/// `learn` and `customer_status` share the table with the accounts: neither has a dot or
/// an `@`, so neither is ever an address or a domain.
pub(super) fn validate(
    c: &mut Check,
    raw: &BTreeMap<String, OneOrMany>,
    ids: &PersonIds,
) -> (BTreeMap<String, String>, Learn) {
    let mut accounts = BTreeMap::new();
    let mut learn = None;
    let mut customer_status = None;
    for (k, v) in raw {
        let key = format!("accounts.{k:?}");
        match k.as_str() {
            "learn" => {
                learn = Some(v);
                continue;
            }
            "customer_status" => {
                customer_status = Some(v);
                continue;
            }
            _ => {}
        }
        let v = match v {
            OneOrMany::One(v) => v.clone(),
            _ => {
                c.add(
                    &key,
                    "is not one person id",
                    "write \"client.example\" = \"id\" (one owner per account)",
                );
                continue;
            }
        };
        ids.check(c, &key, &v);
        let norm = k.trim().trim_start_matches('@').to_ascii_lowercase();
        let ok = match norm.split_once('@') {
            Some((l, d)) => !l.is_empty() && d.contains('.') && !d.contains('@'),
            None => norm.contains('.'),
        } && !norm.contains(char::is_whitespace);
        if !ok {
            c.add(
                &key,
                format!("{k:?} is neither an address nor a domain"),
                "write \"client.example\" = \"id\" or \"jane@client.example\" = \"id\"",
            );
        }
        if accounts.insert(norm, v).is_some() {
            c.add(
                &key,
                format!("{k:?} is listed twice (letter case does not count)"),
                "keep one entry per address or domain",
            );
        }
    }
    let learn = validate_learn(c, learn, customer_status);
    (accounts, learn)
}

/// `[accounts] learn` and `customer_status` (see [`Learn`]).
fn validate_learn(c: &mut Check, learn: Option<&OneOrMany>, status: Option<&OneOrMany>) -> Learn {
    const FIX: &str = "write learn = \"customers\" (earlier customers' owners; the default), \"any\" (every earlier lead's owner) or \"off\" (only the accounts listed here)";
    let learn = match learn {
        None => "customers".to_owned(),
        Some(OneOrMany::One(v)) => v.trim().to_ascii_lowercase(),
        Some(_) => {
            c.add("accounts.learn", "is not one word", FIX);
            "customers".to_owned()
        }
    };
    let statuses = match status.map(OneOrMany::to_vec) {
        None => vec![LeadStatus::Won],
        Some(list) => {
            let mut out = Vec::new();
            for v in &list {
                match LeadStatus::parse(v) {
                    Some(st @ (LeadStatus::Won | LeadStatus::Qualified)) if !out.contains(&st) => {
                        out.push(st)
                    }
                    Some(LeadStatus::Won | LeadStatus::Qualified) => {}
                    _ => c.add(
                        "accounts.customer_status",
                        format!("{v:?} does not make a lead a customer"),
                        "write customer_status = \"won\" or [\"won\", \"qualified\"]",
                    ),
                }
            }
            if list.is_empty() {
                c.add(
                    "accounts.customer_status",
                    "is empty",
                    "write customer_status = \"won\" or [\"won\", \"qualified\"], or learn = \"any\"",
                );
            }
            out
        }
    };
    match learn.as_str() {
        "customers" => Learn::Customers(if statuses.is_empty() {
            vec![LeadStatus::Won]
        } else {
            statuses
        }),
        "any" | "off" => {
            if status.is_some() {
                c.add(
                    "accounts.customer_status",
                    format!("applies only to learn = \"customers\", not {learn:?}"),
                    "remove customer_status, or set learn = \"customers\"",
                );
            }
            if learn == "any" {
                Learn::Any
            } else {
                Learn::Off
            }
        }
        other => {
            c.add(
                "accounts.learn",
                format!("{other:?} is not a way to learn accounts"),
                FIX,
            );
            Learn::default()
        }
    }
}
