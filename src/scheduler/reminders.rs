//! Reminders that go out together: when one sweep has more reminders due for the same
//! people than `[stale] combine_reminders_over`, they get one mail listing every lead
//! (what is wrong, what to do, the lead's own reply link) instead of one mail each. A
//! first sweep over an old database, or an owner back from leave, would otherwise flood
//! an inbox with dozens of near-identical mails, and queueing them all would take
//! minutes at a million leads.

use super::{age, display_name, what_to_do, ReminderAction, Scanned};
use crate::config::Settings;
use crate::domain::drift::DriftKind;
use crate::domain::lead::ActivityKind;
use crate::domain::notify::{Draft, Purpose};
use crate::store::drift as drift_store;
use crate::store::{self, NewActivity, Tx};
use jiff::Timestamp;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// A reminder the sweep decided to send, with its recipients.
pub struct Due<'a> {
    pub lead: &'a Scanned,
    pub kind: DriftKind,
    pub escalate: bool,
    /// The acceptance reminder: once per assignment.
    pub acceptance: bool,
    pub to: Vec<String>,
    /// The people (or digest addresses) behind `to`, for the history.
    pub who: Vec<String>,
}

/// One lead in a combined reminder.
#[derive(Clone, Debug, Serialize)]
pub struct Line {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub kind: DriftKind,
    pub problem: String,
    pub escalated: bool,
    pub age: String,
    pub tracked: String,
    pub mailto: String,
}

/// The leads whose worst problem is one drift kind, with what to do about it said once.
#[derive(Clone, Debug, Serialize)]
pub struct Section {
    pub label: &'static str,
    pub what_to_do: &'static str,
    pub lines: Vec<Line>,
}

/// Groups `due` by recipients, in the order the recipients first appear: those with
/// more than `combine_over` reminders get one mail, the others one mail per reminder.
pub fn group(due: Vec<Due<'_>>, combine_over: usize) -> (Vec<Vec<Due<'_>>>, Vec<Due<'_>>) {
    let mut order: Vec<Vec<String>> = Vec::new();
    let mut by_to: BTreeMap<Vec<String>, Vec<Due<'_>>> = BTreeMap::new();
    for d in due {
        if !by_to.contains_key(&d.to) {
            order.push(d.to.clone());
        }
        by_to.entry(d.to.clone()).or_default().push(d);
    }
    let mut combined = Vec::new();
    let mut single = Vec::new();
    for to in order {
        let g = by_to.remove(&to).unwrap_or_default();
        if g.len() > combine_over {
            combined.push(g);
        } else {
            single.extend(g);
        }
    }
    (combined, single)
}

/// The combined mail for `due` (all to the same people). Pure.
pub fn draft(
    s: &Settings,
    env: &minijinja::Environment<'_>,
    due: &[Due<'_>],
    now: Timestamp,
) -> anyhow::Result<Draft> {
    // One line per lead, under its worst problem, naming all of them (as the digest does).
    let mut per_lead: BTreeMap<i64, Vec<&Due<'_>>> = BTreeMap::new();
    for d in due {
        per_lead.entry(d.lead.row.id).or_default().push(d);
    }
    let mut by_kind: BTreeMap<(u8, DriftKind), Vec<Line>> = BTreeMap::new();
    for reminders in per_lead.values_mut() {
        reminders.sort_by_key(|d| super::digest::rank(d.kind));
        let worst = reminders[0];
        let row = &worst.lead.row;
        let problem = reminders
            .iter()
            .map(|d| d.lead.problem(d.kind, s))
            .collect::<Vec<_>>()
            .join("; ");
        let (tracked, mailto) = super::digest::reply_link(s, row);
        by_kind
            .entry((super::digest::rank(worst.kind), worst.kind))
            .or_default()
            .push(Line {
                id: row.id,
                name: display_name(row),
                email: row.email.as_ref().map(|e| e.to_string()),
                kind: worst.kind,
                problem,
                escalated: reminders.iter().any(|d| d.escalate),
                age: age(worst.lead.facts.created_at, now),
                tracked,
                mailto,
            });
    }
    // Worst problem first, and escalated, then the oldest lead, first within it.
    let sections: Vec<Section> = by_kind
        .into_iter()
        .map(|((_, kind), mut lines)| {
            lines.sort_by_key(|l| (std::cmp::Reverse(l.escalated), l.id));
            Section {
                label: super::digest::label(kind),
                what_to_do: what_to_do(kind),
                lines,
            }
        })
        .collect();
    let mut per_kind: BTreeMap<(u8, DriftKind), usize> = BTreeMap::new();
    for d in due {
        *per_kind
            .entry((super::digest::rank(d.kind), d.kind))
            .or_default() += 1;
    }
    let counts_line = per_kind
        .iter()
        .map(|((_, k), n)| format!("{n} {}", super::digest::label(*k)))
        .collect::<Vec<_>>()
        .join(", ");
    let leads: std::collections::BTreeSet<i64> = due.iter().map(|d| d.lead.row.id).collect();
    let headline = if due.iter().all(|d| d.kind == DriftKind::Orphaned) {
        format!("{} leads need an owner", leads.len())
    } else {
        format!("{} leads need you", leads.len())
    };
    let escalated = due.iter().any(|d| d.escalate);
    // One owner's leads: their view; a mix (the manager's orphans): the team's board.
    let owner = due.first().and_then(|d| d.lead.row.owner.as_deref());
    let one_owner = due.iter().all(|d| d.lead.row.owner.as_deref() == owner);
    let board = super::view_link(s, owner.filter(|_| one_owner), now);
    let ctx = minijinja::context! {
        board => board,
        headline => headline,
        counts_line => counts_line,
        escalated => escalated,
        sections => sections,
        reminders => due.len(),
        team => s.team.name,
    };
    Ok(Draft {
        auto_submitted: true,
        ..s.sender().draft(
            if escalated {
                Purpose::Escalation
            } else {
                Purpose::Reminder
            },
            due.first().map(|d| d.to.clone()).unwrap_or_default(),
            &format!("{headline}: {counts_line}"),
            super::templates::body(env, "reminders", &ctx)?,
        )
    })
}

/// Queues one mail for `due` and records every reminder in its lead's history and drift
/// state. The once-key names the recipients, the period and the reminders it carries, so
/// the same sweep run twice (restart, second instance) queues it once.
pub async fn send_combined(
    tx: &mut Tx<'_>,
    s: &Settings,
    env: &minijinja::Environment<'_>,
    due: &[Due<'_>],
    now: Timestamp,
    dry_run: bool,
) -> anyhow::Result<Vec<ReminderAction>> {
    let mut actions: Vec<ReminderAction> = due
        .iter()
        .map(|d| ReminderAction {
            lead: d.lead.row.id,
            kind: d.kind,
            to: d.to.clone(),
            escalated: d.escalate,
            queued: true,
        })
        .collect();
    if dry_run || due.is_empty() {
        return Ok(actions);
    }
    let now_ms = store::millis(now);
    let period = super::reminder_period(s, now_ms);
    let mut hash = Sha256::new();
    for d in due {
        hash.update(format!("{}:{}:{};", d.lead.row.id, d.kind, d.escalate));
    }
    let once_key = format!(
        "reminders:{}:{period}:{}",
        due[0].to.join(","),
        &hex::encode(hash.finalize())[..16]
    );
    let mail = draft(s, env, due, now)?;
    let outbox_id = crate::outbox::enqueue(tx, s, &mail, None, now, Some(&once_key)).await?;
    let items: Vec<(i64, DriftKind, bool)> = due
        .iter()
        .map(|d| (d.lead.row.id, d.kind, d.escalate))
        .collect();
    drift_store::reminded_many(tx, &items, now_ms).await?;
    if outbox_id.is_some() {
        let n = due.len();
        for d in due {
            let (kind, what) = if d.escalate {
                (ActivityKind::Escalation, "escalated: reminder")
            } else {
                (ActivityKind::Reminder, "reminder")
            };
            let detail = format!(
                "{} {what} to {} (one mail for {n} reminders)",
                d.kind,
                d.who.join(", ")
            );
            tx.record(NewActivity::system(d.lead.row.id, now_ms, kind, detail).outbox(outbox_id));
        }
    } else {
        for a in &mut actions {
            a.queued = false;
        }
    }
    Ok(actions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scheduler::templates;
    use crate::scheduler::tests::{at, scanned, settings};

    const NOW: &str = "2026-12-01T10:00:00Z";

    fn due<'a>(lead: &'a Scanned, kind: DriftKind, to: &str) -> Due<'a> {
        Due {
            lead,
            kind,
            escalate: false,
            acceptance: false,
            to: vec![to.to_owned()],
            who: vec![to.to_owned()],
        }
    }

    #[test]
    fn only_recipients_over_the_limit_get_one_mail() {
        let s = settings("");
        let leads: Vec<Scanned> = (1..=6).map(|i| scanned(&s, i, |_| {}, NOW)).collect();
        let mut all = Vec::new();
        for l in &leads[..4] {
            all.push(due(l, DriftKind::Overdue, "alice@team.test"));
        }
        for l in &leads[4..] {
            all.push(due(l, DriftKind::Idle, "bob@team.test"));
        }
        let (combined, single) = group(all, 3);
        assert_eq!(combined.len(), 1);
        assert_eq!(combined[0].len(), 4);
        assert!(combined[0].iter().all(|d| d.to == ["alice@team.test"]));
        let single_leads: Vec<i64> = single.iter().map(|d| d.lead.row.id).collect();
        assert_eq!(single_leads, [5, 6]);

        // At the limit nobody is combined.
        let three: Vec<Due> = leads[..3]
            .iter()
            .map(|l| due(l, DriftKind::Overdue, "alice@team.test"))
            .collect();
        let (combined, single) = group(three, 3);
        assert!(combined.is_empty());
        assert_eq!(single.len(), 3);
    }

    #[test]
    fn the_combined_mail_lists_every_lead_with_its_own_reply_link() {
        let s = settings("");
        let overdue = |id| {
            scanned(
                &s,
                id,
                |r| r.next_action_due = Some(at("2026-11-30T09:00:00Z")),
                NOW,
            )
        };
        let leads = [overdue(11), overdue(12), overdue(13)];
        let idle = scanned(
            &s,
            14,
            |r| {
                r.next_action = None;
                r.next_action_due = None;
            },
            NOW,
        );
        let mut all: Vec<Due> = leads
            .iter()
            .map(|l| due(l, DriftKind::Overdue, "alice@team.test"))
            .collect();
        all.push(due(&idle, DriftKind::NoNextAction, "alice@team.test"));
        let env = templates::environment(&s).unwrap();
        let d = draft(&s, &env, &all, at(NOW)).unwrap();

        assert_eq!(d.to, ["alice@team.test"]);
        assert_eq!(d.reply_to, None, "no single lead's address for four leads");
        assert!(d.auto_submitted);
        assert_eq!(d.subject, "4 leads need you: 3 overdue, 1 no next action");
        let html = d.html.as_deref().unwrap();
        for id in 11..=14 {
            let tracked = s.relay.tracked_address(id);
            assert!(d.text.contains(&format!("#{id} Lead {id}")), "{}", d.text);
            assert!(d.text.contains(&tracked), "{}", d.text);
            assert!(
                html.contains(&format!(
                    "mailto:{tracked}?subject=Re%3A%20Lead%20{id}%20%5BLG-{id}%5D"
                )),
                "{html}"
            );
        }
        // Overdue (the worse) before no next action, each with what to do.
        let first_overdue = d.text.find("#11 ").unwrap();
        let no_next = d.text.find("#14 ").unwrap();
        assert!(first_overdue < no_next, "{}", d.text);
        assert!(d.text.contains(what_to_do(DriftKind::NoNextAction)));
    }

    #[test]
    fn a_lead_with_several_problems_is_listed_once_under_the_worst() {
        let s = settings("");
        let leads: Vec<Scanned> = (1..=4)
            .map(|i| {
                scanned(
                    &s,
                    i,
                    |r| {
                        r.next_action_due = Some(at("2026-11-30T09:00:00Z"));
                        r.last_activity_at = at("2026-11-20T09:00:00Z");
                    },
                    NOW,
                )
            })
            .collect();
        let mut all = Vec::new();
        for l in &leads {
            all.push(due(l, DriftKind::Idle, "alice@team.test"));
            all.push(due(l, DriftKind::Overdue, "alice@team.test"));
        }
        let env = templates::environment(&s).unwrap();
        let d = draft(&s, &env, &all, at(NOW)).unwrap();
        assert_eq!(d.subject, "4 leads need you: 4 overdue, 4 idle");
        for id in 1..=4 {
            assert_eq!(
                d.text.matches(&format!("#{id} Lead {id}")).count(),
                1,
                "{}",
                d.text
            );
        }
        assert!(d.text.contains("OVERDUE (4)"), "{}", d.text);
        assert!(
            !d.text.contains("IDLE ("),
            "no lead has idle as its worst:\n{}",
            d.text
        );
    }

    #[test]
    fn orphans_for_the_manager_say_they_need_an_owner() {
        let s = settings("");
        let leads: Vec<Scanned> = (1..=4)
            .map(|i| {
                scanned(
                    &s,
                    i,
                    |r| {
                        r.owner = None;
                        r.accepted = false;
                    },
                    NOW,
                )
            })
            .collect();
        let all: Vec<Due> = leads
            .iter()
            .map(|l| due(l, DriftKind::Orphaned, "erin@team.test"))
            .collect();
        let env = templates::environment(&s).unwrap();
        let d = draft(&s, &env, &all, at(NOW)).unwrap();
        assert_eq!(d.subject, "4 leads need an owner: 4 orphaned");
        assert_eq!(d.purpose, "reminder");
    }
}
