//! Routing: exactly one owner per lead, by the first rule that matches, with the reason.
//!
//! Pure: the caller passes the team, the rotation, the persisted round-robin cursors, the
//! open-lead counts, the account owners and `now`; nothing here reads the clock or a store.
//! Round robin is fair across restarts because its only state is the cursor the caller
//! persists from [`Assignment::cursor`] in the same transaction as the lead.

use super::extract::Extraction;
use super::hours::BusinessHours;
use super::lead::LeadStatus;
use jiff::Timestamp;
use regex::Regex;
use std::collections::{BTreeMap, HashMap};

mod snapshot;
pub use snapshot::Snapshot;

/// A team member as routing sees them.
#[derive(Clone, Debug, PartialEq)]
pub struct Person {
    pub id: String,
    pub name: String,
    pub email: String,
    /// Away up to and including the day before this date (team time zone).
    pub away_until: Option<jiff::civil::Date>,
    /// At most this many open leads.
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
    /// Submitter addresses (`jane@x.org`) or domains (`x.org`, subdomains included);
    /// empty means anyone.
    pub submitters: Vec<String>,
    /// In or out of business hours (team time zone); `None` means any time.
    pub hours: Option<WithinHours>,
    pub target: Target,
}

impl Rule {
    /// A rule with no condition: it matches every lead.
    pub fn new(name: impl Into<String>, target: Target) -> Self {
        Rule {
            name: name.into(),
            sources: Vec::new(),
            forms: Vec::new(),
            fields: Vec::new(),
            submitters: Vec::new(),
            hours: None,
            target,
        }
    }
}

/// The time condition of a rule (`hours = "in"` or `hours = "out"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WithinHours {
    In,
    Out,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Target {
    Person(String),
    Pool {
        members: Vec<String>,
        strategy: Strategy,
    },
    Duty,
    /// The submitter's account owner (`[accounts]`, then past leads); a rule with this
    /// target matches only leads whose submitter has one.
    Account,
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
    /// The first day of the first period (team time zone); the rotation's first person.
    pub starts: jiff::civil::Date,
    /// Whole days, weeks or months.
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
    pub hours: &'a BusinessHours,
    pub default_owner: Option<&'a str>,
    /// `[accounts]`: lowercase address or domain → person id. Wins over `past_owners`.
    pub accounts: &'a BTreeMap<String, String>,
    /// From earlier leads: lowercase address or domain → the lead it was learnt from;
    /// build the keys with [`account_keys`] so that free-mail domains never become
    /// accounts and `[accounts] learn` holds.
    pub past_owners: &'a HashMap<String, PastOwner>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assignment {
    pub owner: Option<String>,
    pub rule: Option<String>,
    pub reason: String,
    /// For round-robin rules: the new cursor to persist in the same transaction.
    pub cursor: Option<(String, String)>,
}

/// Free-mail, ISP and disposable-mail domains (`free-email-domains` on npm, MIT; see
/// `data/free-mail/SOURCE`, refreshed by `scripts/refresh-freemail`): shared by unrelated
/// people, so one customer there is no account for the rest. One lowercase domain a line,
/// sorted bytewise.
static FREE_MAIL: &str = include_str!("../../../../data/free-mail/domains.txt");

/// Whether `domain` is a free-mail, ISP or disposable-mail domain (`gmail.com`,
/// `comcast.net`, `orange.fr`, ...). Exact names only: the list holds a few public
/// suffixes (`net.ua`), whose subdomains are companies.
pub fn is_free_mail_domain(domain: &str) -> bool {
    let d = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    !d.is_empty() && listed(FREE_MAIL, &d)
}

/// Binary search over the lines of a bytewise-sorted list, without building a set: the
/// list is ~200 KB and is read a few times per lead.
fn listed(list: &str, key: &str) -> bool {
    let b = list.as_bytes();
    // Lines starting in [lo, hi) may still hold `key`; `lo` is always a line start.
    let (mut lo, mut hi) = (0, b.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let start = b[lo..mid]
            .iter()
            .rposition(|&c| c == b'\n')
            .map_or(lo, |i| lo + i + 1);
        let end = b[start..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(b.len(), |i| start + i);
        match b[start..end].cmp(key.as_bytes()) {
            std::cmp::Ordering::Equal => return true,
            std::cmp::Ordering::Less => lo = end + 1,
            std::cmp::Ordering::Greater => hi = start,
        }
    }
    false
}

/// Where routing learns accounts from past leads (`[accounts] learn`); configured
/// `[accounts]` entries count whatever this says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Learn {
    /// The owner of the same address's earlier lead; and of a company domain's lead
    /// that became a customer (one of these statuses: `won`, `qualified` if configured).
    /// The seed's rule is about customers: "if the person already works with your team".
    Customers(Vec<LeadStatus>),
    /// The owner of any earlier lead from the same address or company domain.
    Any,
    /// Only `[accounts]`.
    Off,
}

impl Default for Learn {
    fn default() -> Self {
        Learn::Customers(vec![LeadStatus::Won])
    }
}

/// One key under which earlier leads make an account, and which of them count.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AccountKey {
    /// A lowercase address, or a domain.
    pub key: String,
    /// Only leads in one of these statuses count; empty means any lead.
    pub statuses: Vec<LeadStatus>,
}

/// The earlier lead an account was learnt from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PastOwner {
    pub owner: String,
    pub lead: i64,
    pub status: String,
}

/// The keys under which earlier leads make an account for a lead from `email`: the
/// lowercase address, and its domain unless that is free mail (see [`Learn`]).
pub fn account_keys(email: &str, learn: &Learn) -> Vec<AccountKey> {
    let e = email.trim().to_ascii_lowercase();
    let Some((local, domain)) = e.rsplit_once('@') else {
        return Vec::new();
    };
    if local.is_empty() || domain.is_empty() {
        return Vec::new();
    }
    let domain_statuses = match learn {
        Learn::Off => return Vec::new(),
        Learn::Any => Vec::new(),
        // An empty list would mean "any": that is `Learn::Any`, never a slip.
        Learn::Customers(s) if s.is_empty() => vec![LeadStatus::Won],
        Learn::Customers(s) => s.clone(),
    };
    let mut keys = vec![AccountKey {
        key: e.clone(),
        statuses: Vec::new(),
    }];
    if !is_free_mail_domain(domain) {
        keys.push(AccountKey {
            key: domain.to_owned(),
            statuses: domain_statuses,
        });
    }
    keys
}

/// Whether routing can ever read [`RoutingContext::open_leads`]: only capacities and
/// least-busy pools look at workload, so without them the caller need not count open leads.
pub fn uses_workload(people: &[Person], rules: &[Rule]) -> bool {
    people.iter().any(|p| p.capacity.is_some())
        || rules.iter().any(|r| {
            matches!(
                r.target,
                Target::Pool {
                    strategy: Strategy::LeastBusy,
                    ..
                }
            )
        })
}

/// The owner of a new lead: the first rule that matches and yields an available person.
///
/// When no rule routes to [`Target::Account`], account owners are consulted before the
/// first rule (an existing customer goes to their account owner).
pub fn route(lead: &Extraction, rules: &[Rule], ctx: &RoutingContext<'_>) -> Assignment {
    let mut passed_over: Vec<String> = Vec::new();
    let with_notes = |reason: String, notes: &[String]| {
        if notes.is_empty() {
            reason
        } else {
            format!("{reason} (passed over {})", notes.join("; "))
        }
    };
    if !rules.iter().any(|r| r.target == Target::Account) {
        if let Some((key, owner)) = account_owner(lead, ctx) {
            match unavailable(ctx, &owner) {
                None => {
                    return Assignment {
                        reason: format!("account {key}: {owner}"),
                        owner: Some(owner),
                        rule: None,
                        cursor: None,
                    }
                }
                Some(why) => passed_over.push(format!("account {key}: {why}")),
            }
        }
    }
    for rule in rules {
        let Some(why) = matches(rule, lead, ctx) else {
            continue;
        };
        match pick(rule, lead, ctx) {
            Ok((owner, how, cursor)) => {
                return Assignment {
                    owner: Some(owner),
                    rule: Some(rule.name.clone()),
                    reason: with_notes(format!("rule {}: {why}; {how}", rule.name), &passed_over),
                    cursor,
                };
            }
            Err(Some(note)) => passed_over.push(format!("rule {}: {note}", rule.name)),
            Err(None) => {}
        }
    }
    match ctx.default_owner {
        Some(owner) => Assignment {
            owner: Some(owner.to_owned()),
            rule: None,
            reason: with_notes("no rule matched; default owner".into(), &passed_over),
            cursor: None,
        },
        None => Assignment {
            owner: None,
            rule: None,
            reason: with_notes(
                "no rule matched and no default owner: orphaned".into(),
                &passed_over,
            ),
            cursor: None,
        },
    }
}

fn matches(rule: &Rule, lead: &Extraction, ctx: &RoutingContext<'_>) -> Option<String> {
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
    if !rule.submitters.is_empty() {
        let email = lead.fields.email.as_deref()?.trim().to_ascii_lowercase();
        let hit = rule
            .submitters
            .iter()
            .find(|s| submitter_matches(&email, s))?;
        why.push(format!("submitter={hit}"));
    }
    if let Some(h) = rule.hours {
        let open = ctx.hours.is_open(ctx.now, ctx.timezone);
        match (h, open) {
            (WithinHours::In, true) => why.push("in business hours".into()),
            (WithinHours::Out, false) => why.push("out of business hours".into()),
            _ => return None,
        }
    }
    Some(if why.is_empty() {
        "matches every lead".into()
    } else {
        why.join(" ")
    })
}

/// `pattern` is an address (exact) or a domain (itself and its subdomains).
fn submitter_matches(email: &str, pattern: &str) -> bool {
    let p = pattern.trim().trim_start_matches('@').to_ascii_lowercase();
    if p.is_empty() {
        return false;
    }
    if p.contains('@') {
        return email == p;
    }
    let Some((_, domain)) = email.rsplit_once('@') else {
        return false;
    };
    domain == p
        || domain
            .strip_suffix(p.as_str())
            .is_some_and(|d| d.ends_with('.'))
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

/// The submitter's account owner and the account that found it: `[accounts]` by address,
/// then by domain (parents included), then earlier leads by address, then by domain (the
/// earlier lead named, so that "why this owner" can be checked).
pub fn account_owner(lead: &Extraction, ctx: &RoutingContext<'_>) -> Option<(String, String)> {
    let email = lead.fields.email.as_deref()?.trim().to_ascii_lowercase();
    let (_, domain) = email.rsplit_once('@')?;
    let mut domains = vec![domain];
    let mut d = domain;
    while let Some((_, parent)) = d.split_once('.') {
        if parent.contains('.') {
            domains.push(parent);
        }
        d = parent;
    }
    if let Some(o) = ctx.accounts.get(&email) {
        return Some((email.clone(), o.clone()));
    }
    for d in &domains {
        if let Some(o) = ctx.accounts.get(*d) {
            return Some(((*d).to_owned(), o.clone()));
        }
    }
    let learnt = |key: &str, p: &PastOwner| {
        (
            format!("{key} (from {} lead #{})", p.status, p.lead),
            p.owner.clone(),
        )
    };
    if let Some(p) = ctx.past_owners.get(&email) {
        return Some(learnt(&email, p));
    }
    if is_free_mail_domain(domain) {
        return None;
    }
    ctx.past_owners.get(domain).map(|p| learnt(domain, p))
}

/// Why `id` cannot take a lead now, or `None` when they can.
fn unavailable(ctx: &RoutingContext<'_>, id: &str) -> Option<String> {
    let Some(p) = ctx.people.iter().find(|p| p.id == id) else {
        return Some(format!("{id} is not in the team"));
    };
    let today = ctx.now.to_zoned(ctx.timezone.clone()).date();
    if let Some(until) = p.away_until.filter(|until| today < *until) {
        return Some(format!("{id} is away until {until}"));
    }
    let open = ctx.open_leads.get(id).copied().unwrap_or(0);
    if let Some(cap) = p.capacity.filter(|cap| open >= *cap) {
        return Some(format!("{id} is at capacity ({open} of {cap} open)"));
    }
    None
}

type Pick = (String, String, Option<(String, String)>);

/// `Err(Some(note))`: the rule matched but nobody it names can take the lead.
fn pick(rule: &Rule, lead: &Extraction, ctx: &RoutingContext<'_>) -> Result<Pick, Option<String>> {
    match &rule.target {
        Target::Person(id) => match unavailable(ctx, id) {
            None => Ok((id.clone(), format!("owner {id}"), None)),
            Some(why) => Err(Some(why)),
        },
        Target::Account => {
            let (key, owner) = account_owner(lead, ctx).ok_or(None)?;
            match unavailable(ctx, &owner) {
                None => Ok((owner.clone(), format!("account {key}: {owner}"), None)),
                Some(why) => Err(Some(format!("account {key}: {why}"))),
            }
        }
        Target::Pool { members, strategy } => {
            let last = ctx.cursors.get(&rule.name).map(String::as_str);
            pool_pick(&rule.name, members, *strategy, ctx, last, &[]).map_err(Some)
        }
        Target::Duty => {
            let duty = ctx
                .duty
                .ok_or(Some("there is no duty rotation".to_owned()))?;
            let on = on_duty(duty, ctx.now, ctx.timezone)
                .ok_or(Some("the duty rotation is empty".to_owned()))?;
            duty_pick(duty, &on, true, ctx, &[]).map_err(Some)
        }
    }
}

/// A pool member: round robin after `after`, or the least busy; `exclude` never.
fn pool_pick(
    rule: &str,
    members: &[String],
    strategy: Strategy,
    ctx: &RoutingContext<'_>,
    after: Option<&str>,
    exclude: &[&str],
) -> Result<Pick, String> {
    let mut skipped = Vec::new();
    let mut usable = |m: &String| {
        if exclude.contains(&m.as_str()) {
            return false;
        }
        match unavailable(ctx, m) {
            None => true,
            Some(why) => {
                skipped.push(why);
                false
            }
        }
    };
    let chosen = match strategy {
        Strategy::RoundRobin => {
            let start = after
                .and_then(|l| members.iter().position(|m| m == l))
                .map(|i| i + 1)
                .unwrap_or(0);
            (0..members.len())
                .map(|k| &members[(start + k) % members.len()])
                .find(|m| usable(m))
                .map(|m| {
                    let how = match after {
                        Some(l) => format!("round robin: {m} after {l}"),
                        None => format!("round robin: {m} first"),
                    };
                    (m.clone(), how, Some((rule.to_owned(), m.clone())))
                })
        }
        // `min_by_key` keeps the first of equals: ties go by pool order.
        Strategy::LeastBusy => members
            .iter()
            .filter(|m| usable(m))
            .min_by_key(|m| ctx.open_leads.get(*m).copied().unwrap_or(0))
            .map(|m| {
                let n = ctx.open_leads.get(m).copied().unwrap_or(0);
                (m.clone(), format!("least busy: {m} with {n} open"), None)
            }),
    };
    skipped.dedup();
    match chosen {
        Some((who, how, cursor)) if skipped.is_empty() => Ok((who, how, cursor)),
        Some((who, how, cursor)) => Ok((who, format!("{how} ({})", skipped.join(", ")), cursor)),
        None if skipped.is_empty() => Err("nobody else in the pool".into()),
        None => Err(format!(
            "nobody in the pool can take it: {}",
            skipped.join(", ")
        )),
    }
}

/// The rotation from `from` on (itself first when `include_from`), skipping `exclude`
/// and whoever is away or full.
fn duty_pick(
    duty: &Duty,
    from: &str,
    include_from: bool,
    ctx: &RoutingContext<'_>,
    exclude: &[&str],
) -> Result<Pick, String> {
    let n = duty.rotation.len();
    if n == 0 {
        return Err("the duty rotation is empty".into());
    }
    let idx = duty.rotation.iter().position(|p| p == from);
    let start = match idx {
        Some(i) if include_from => i,
        Some(i) => i + 1,
        None => 0,
    };
    let mut skipped = Vec::new();
    for k in 0..n {
        let m = &duty.rotation[(start + k) % n];
        if exclude.contains(&m.as_str()) || (!include_from && m == from) {
            continue;
        }
        match unavailable(ctx, m) {
            None => {
                let how = if include_from && m == from {
                    format!("on duty: {m}")
                } else if include_from {
                    format!("on duty: {from} but {}, {m} covers", skipped.join(", "))
                } else {
                    format!("duty rotation: {m} after {from}")
                };
                return Ok((m.clone(), how, None));
            }
            Some(why) => {
                if !skipped.contains(&why) {
                    skipped.push(why)
                }
            }
        }
    }
    if skipped.is_empty() {
        Err("nobody else in the rotation".into())
    } else {
        Err(format!(
            "nobody in the rotation can take it: {}",
            skipped.join(", ")
        ))
    }
}

/// Who is on duty at `now` in the team's time zone. Periods count from `starts` (whose
/// period belongs to the rotation's first person) and repeat in both directions.
pub fn on_duty(duty: &Duty, now: Timestamp, tz: &jiff::tz::TimeZone) -> Option<String> {
    if duty.rotation.is_empty() {
        return None;
    }
    let today = now.to_zoned(tz.clone()).date();
    let e = duty.every;
    let has_time = e.get_hours() != 0
        || e.get_minutes() != 0
        || e.get_seconds() != 0
        || e.get_milliseconds() != 0
        || e.get_microseconds() != 0
        || e.get_nanoseconds() != 0;
    let index: i64 = if e.get_years() == 0 && e.get_months() == 0 {
        let period = i64::from(e.get_weeks()) * 7 + i64::from(e.get_days());
        if period <= 0 || has_time {
            return None;
        }
        let days = duty.starts.until((jiff::Unit::Day, today)).ok()?.get_days();
        i64::from(days).div_euclid(period)
    } else {
        // Calendar months and years: step, since their length varies.
        let mut period_start = duty.starts;
        let mut index = 0i64;
        for _ in 0..100_000 {
            let next = period_start.checked_add(e).ok()?;
            if next > today || next <= period_start {
                break;
            }
            period_start = next;
            index += 1;
        }
        index
    };
    let n = duty.rotation.len() as i64;
    duty.rotation.get(index.rem_euclid(n) as usize).cloned()
}

/// The next owner when `current` let a proposal time out: the next available person of
/// the rule's pool or of the rotation, never `current` nor anyone in `tried` (who already
/// let this lead time out), else the manager, else nobody (orphaned).
pub fn next_owner(
    current: &str,
    rule: Option<&Rule>,
    tried: &[String],
    manager: Option<&str>,
    ctx: &RoutingContext<'_>,
) -> Assignment {
    let mut exclude: Vec<&str> = tried.iter().map(String::as_str).collect();
    exclude.push(current);
    let lead_in = format!("{current} did not accept in time");
    let picked = rule.map(|r| {
        let p = match &r.target {
            Target::Pool { members, strategy } => {
                pool_pick(&r.name, members, *strategy, ctx, Some(current), &exclude)
            }
            Target::Duty => match ctx.duty {
                Some(duty) => duty_pick(duty, current, false, ctx, &exclude),
                None => Err("there is no duty rotation".into()),
            },
            Target::Person(_) | Target::Account => Err("the rule names one person".into()),
        };
        (r, p)
    });
    let mut why_not = None;
    if let Some((r, p)) = picked {
        match p {
            Ok((owner, how, cursor)) => {
                return Assignment {
                    owner: Some(owner),
                    rule: Some(r.name.clone()),
                    reason: format!("{lead_in}; rule {}: {how}", r.name),
                    cursor,
                }
            }
            Err(e) => why_not = Some(format!("rule {}: {e}", r.name)),
        }
    }
    let why_not = why_not.unwrap_or_else(|| "no rule to hand on by".into());
    match manager.filter(|m| *m != current) {
        Some(m) => Assignment {
            owner: Some(m.to_owned()),
            rule: rule.map(|r| r.name.clone()),
            reason: format!("{lead_in}; {why_not}; manager {m}"),
            cursor: None,
        },
        None => Assignment {
            owner: None,
            rule: rule.map(|r| r.name.clone()),
            reason: format!("{lead_in}; {why_not}; no manager: orphaned"),
            cursor: None,
        },
    }
}

#[cfg(test)]
mod tests;
