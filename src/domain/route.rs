//! Routing: exactly one owner per lead, by the first rule that matches, with the reason.

use super::extract::Extraction;
use jiff::Timestamp;
use regex::Regex;
use std::collections::HashMap;

/// A team member as routing sees them.
#[derive(Clone, Debug, PartialEq)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub email: String,
    pub away_until: Option<jiff::civil::Date>,
    pub capacity: Option<u32>,
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub name: String,
    /// Empty means any source.
    pub sources: Vec<String>,
    /// Empty means any form.
    pub forms: Vec<String>,
    /// Field (`name`, `email`, `message`, ... or an extra label) → pattern; all must match.
    pub fields: Vec<(String, Regex)>,
    pub target: Target,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    Person(String),
    Pool {
        members: Vec<String>,
        strategy: Strategy,
    },
    Duty,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    RoundRobin,
    LeastBusy,
}

/// The weekly (or other period) duty rotation.
#[derive(Clone, Debug)]
pub struct Duty {
    pub rotation: Vec<String>,
    pub starts: jiff::civil::Date,
    pub every: jiff::Span,
}

/// What routing reads besides the lead: the team, the rotation, pool cursors, workload.
#[derive(Clone, Debug)]
pub struct RoutingContext<'a> {
    pub people: &'a [Person],
    pub duty: Option<&'a Duty>,
    /// Per rule, the last person the round robin gave a lead to.
    pub cursors: &'a HashMap<String, String>,
    /// Open leads per person.
    pub open_leads: &'a HashMap<String, u32>,
    pub now: Timestamp,
    pub timezone: &'a jiff::tz::TimeZone,
    pub default_owner: Option<&'a str>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub owner: Option<String>,
    pub rule: Option<String>,
    pub reason: String,
    /// For round-robin rules: the new cursor to persist in the same transaction.
    pub cursor: Option<(String, String)>,
}

/// The owner of a new lead: the first rule that matches and yields an available person.
pub fn route(lead: &Extraction, rules: &[Rule], ctx: &RoutingContext<'_>) -> Assignment {
    for rule in rules {
        let Some(why) = matches(rule, lead) else {
            continue;
        };
        if let Some((owner, how, cursor)) = pick(rule, ctx) {
            return Assignment {
                owner: Some(owner),
                rule: Some(rule.name.clone()),
                reason: format!("rule {}: {why}; {how}", rule.name),
                cursor,
            };
        }
    }
    match ctx.default_owner {
        Some(owner) => Assignment {
            owner: Some(owner.to_owned()),
            rule: None,
            reason: "no rule matched; default owner".into(),
            cursor: None,
        },
        None => Assignment {
            owner: None,
            rule: None,
            reason: "no rule matched and no default owner: orphaned".into(),
            cursor: None,
        },
    }
}

fn matches(rule: &Rule, lead: &Extraction) -> Option<String> {
    let mut why = Vec::new();
    if !rule.sources.is_empty() {
        if !rule
            .sources
            .iter()
            .any(|s| s.eq_ignore_ascii_case(&lead.source))
        {
            return None;
        }
        why.push(format!("source={}", lead.source));
    }
    if !rule.forms.is_empty() {
        let form = lead.form.as_deref()?;
        if !rule.forms.iter().any(|f| f.eq_ignore_ascii_case(form)) {
            return None;
        }
        why.push(format!("form={form}"));
    }
    for (field, re) in &rule.fields {
        let value = field_value(lead, field)?;
        if !re.is_match(value) {
            return None;
        }
        why.push(format!("{field}~/{}/", re.as_str()));
    }
    Some(if why.is_empty() {
        "matches every lead".into()
    } else {
        why.join(" ")
    })
}

fn field_value<'a>(lead: &'a Extraction, field: &str) -> Option<&'a str> {
    let f = &lead.fields;
    match field {
        "name" => f.name.as_deref(),
        "email" => f.email.as_deref(),
        "phone" => f.phone.as_deref(),
        "company" => f.company.as_deref(),
        "message" => f.message.as_deref(),
        other => lead
            .extra
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(other))
            .map(|(_, v)| v.as_str()),
    }
}

fn available(ctx: &RoutingContext<'_>, id: &str) -> bool {
    let Some(p) = ctx.people.iter().find(|p| p.id == id) else {
        return false;
    };
    let today = ctx.now.to_zoned(ctx.timezone.clone()).date();
    let away = p.away_until.is_some_and(|until| today < until);
    let full = p
        .capacity
        .is_some_and(|cap| ctx.open_leads.get(id).copied().unwrap_or(0) >= cap);
    !away && !full
}

type Pick = (String, String, Option<(String, String)>);

fn pick(rule: &Rule, ctx: &RoutingContext<'_>) -> Option<Pick> {
    match &rule.target {
        Target::Person(id) => available(ctx, id).then(|| (id.clone(), format!("owner {id}"), None)),
        Target::Pool { members, strategy } => match strategy {
            Strategy::RoundRobin => {
                let last = ctx.cursors.get(&rule.name);
                let start = last
                    .and_then(|l| members.iter().position(|m| m == l))
                    .map(|i| i + 1)
                    .unwrap_or(0);
                (0..members.len())
                    .map(|k| &members[(start + k) % members.len()])
                    .find(|m| available(ctx, m))
                    .map(|m| {
                        let how = match last {
                            Some(l) => format!("round robin: {m} after {l}"),
                            None => format!("round robin: {m} first"),
                        };
                        (m.clone(), how, Some((rule.name.clone(), m.clone())))
                    })
            }
            Strategy::LeastBusy => members
                .iter()
                .filter(|m| available(ctx, m))
                .min_by_key(|m| ctx.open_leads.get(*m).copied().unwrap_or(0))
                .map(|m| {
                    let n = ctx.open_leads.get(m).copied().unwrap_or(0);
                    (m.clone(), format!("least busy: {m} with {n} open"), None)
                }),
        },
        Target::Duty => {
            let duty = ctx.duty?;
            let on_duty = on_duty(duty, ctx.now, ctx.timezone)?;
            let n = duty.rotation.len();
            let idx = duty.rotation.iter().position(|p| *p == on_duty)?;
            (0..n)
                .map(|k| &duty.rotation[(idx + k) % n])
                .find(|m| available(ctx, m))
                .map(|m| {
                    let how = if *m == on_duty {
                        format!("on duty: {m}")
                    } else {
                        format!("on duty: {on_duty} is away or full, {m} covers")
                    };
                    (m.clone(), how, None)
                })
        }
    }
}

/// Who is on duty at `now` in the team's time zone.
pub fn on_duty(duty: &Duty, now: Timestamp, tz: &jiff::tz::TimeZone) -> Option<String> {
    if duty.rotation.is_empty() {
        return None;
    }
    let today = now.to_zoned(tz.clone()).date();
    let mut period_start = duty.starts;
    let mut index: i64 = 0;
    // Periods are calendar spans (weeks, days), so step rather than divide.
    if today >= period_start {
        loop {
            let next = period_start.checked_add(duty.every).ok()?;
            if next > today || next <= period_start {
                break;
            }
            period_start = next;
            index += 1;
        }
    }
    let n = duty.rotation.len() as i64;
    Some(duty.rotation[(index.rem_euclid(n)) as usize].clone())
}
