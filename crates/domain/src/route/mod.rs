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
mod tests {
    use super::*;
    use jiff::civil::date;
    use jiff::tz::TimeZone;

    fn berlin() -> TimeZone {
        TimeZone::get("Europe/Berlin").unwrap()
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn person(id: &str) -> Person {
        Person {
            id: id.into(),
            name: id.into(),
            email: format!("{id}@team.test"),
            away_until: None,
            capacity: None,
        }
    }

    fn team() -> Vec<Person> {
        ["alice", "bob", "carol", "dave", "erin"]
            .into_iter()
            .map(person)
            .collect()
    }

    fn lead(source: &str, form: Option<&str>, email: &str) -> Extraction {
        let mut e = Extraction {
            source: source.into(),
            form: form.map(Into::into),
            ..Default::default()
        };
        e.fields.email = Some(email.into());
        e
    }

    fn pool(name: &str, members: &[&str], strategy: Strategy) -> Rule {
        Rule::new(
            name,
            Target::Pool {
                members: members.iter().map(|m| m.to_string()).collect(),
                strategy,
            },
        )
    }

    /// Everything a context borrows, so each test can tweak one part.
    struct World {
        people: Vec<Person>,
        duty: Option<Duty>,
        cursors: HashMap<String, String>,
        open: HashMap<String, u32>,
        now: Timestamp,
        tz: TimeZone,
        hours: BusinessHours,
        accounts: BTreeMap<String, String>,
        past: HashMap<String, PastOwner>,
        default_owner: Option<String>,
    }

    impl World {
        fn new() -> Self {
            World {
                people: team(),
                duty: None,
                cursors: HashMap::new(),
                open: HashMap::new(),
                now: at("2026-11-24T09:00:00Z"), // Tuesday 10:00 Berlin
                tz: berlin(),
                hours: BusinessHours::parse("Mon-Fri 09:00-17:00").unwrap(),
                accounts: BTreeMap::new(),
                past: HashMap::new(),
                default_owner: None,
            }
        }

        fn ctx(&self) -> RoutingContext<'_> {
            RoutingContext {
                people: &self.people,
                duty: self.duty.as_ref(),
                cursors: &self.cursors,
                open_leads: &self.open,
                now: self.now,
                timezone: &self.tz,
                hours: &self.hours,
                default_owner: self.default_owner.as_deref(),
                accounts: &self.accounts,
                past_owners: &self.past,
            }
        }

        fn set(&mut self, id: &str, f: impl FnOnce(&mut Person)) {
            f(self.people.iter_mut().find(|p| p.id == id).unwrap())
        }
    }

    fn weekly(rotation: &[&str], starts: jiff::civil::Date) -> Duty {
        Duty {
            rotation: rotation.iter().map(|m| m.to_string()).collect(),
            starts,
            every: jiff::Span::new().weeks(1),
        }
    }

    #[test]
    fn source_and_form_rule_records_its_reason() {
        let w = World::new();
        let mut r = Rule::new("pricing", Target::Person("alice".into()));
        r.sources = vec!["webflow".into()];
        r.forms = vec!["Pricing".into()];
        let a = route(&lead("webflow", Some("pricing"), "j@x.org"), &[r], &w.ctx());
        assert_eq!(a.owner.as_deref(), Some("alice"));
        assert_eq!(a.rule.as_deref(), Some("pricing"));
        assert_eq!(
            a.reason,
            "rule pricing: source=webflow form=pricing; owner alice"
        );
    }

    #[test]
    fn first_matching_rule_wins() {
        let w = World::new();
        let mut first = Rule::new("wp", Target::Person("bob".into()));
        first.sources = vec!["wpforms".into(), "contact-form-7".into()];
        let all = Rule::new("all", Target::Person("carol".into()));
        let rules = [first, all];
        let a = route(&lead("contact-form-7", None, "j@x.org"), &rules, &w.ctx());
        assert_eq!(a.owner.as_deref(), Some("bob"));
        let a = route(&lead("webflow", None, "j@x.org"), &rules, &w.ctx());
        assert_eq!(a.owner.as_deref(), Some("carol"));
    }

    #[test]
    fn field_rule_needs_the_field_to_exist_and_match() {
        let w = World::new();
        let mut r = Rule::new("roofing", Target::Person("bob".into()));
        r.fields = vec![("Service".into(), Regex::new("(?i)roof|gutter").unwrap())];
        let rules = [r];
        let mut l = lead("generic", None, "j@x.org");
        assert_eq!(route(&l, &rules, &w.ctx()).owner, None, "no such field");
        l.extra.insert("service".into(), "Gutter cleaning".into());
        let a = route(&l, &rules, &w.ctx());
        assert_eq!(a.owner.as_deref(), Some("bob"));
        assert!(
            a.reason.contains("Service~/(?i)roof|gutter/"),
            "{}",
            a.reason
        );
        l.extra.insert("service".into(), "Windows".into());
        assert_eq!(route(&l, &rules, &w.ctx()).owner, None, "no match");
    }

    #[test]
    fn submitter_rule_matches_address_or_domain_and_subdomains() {
        let w = World::new();
        let mut r = Rule::new("vip", Target::Person("dave".into()));
        r.submitters = vec!["bigclient.example.org".into(), "Jane@Solo.test".into()];
        let rules = [r];
        for (email, hit) in [
            ("ann@bigclient.example.org", true),
            ("ann@eu.bigclient.example.org", true),
            ("ann@notbigclient.example.org", false),
            ("jane@solo.test", true),
            ("john@solo.test", false),
        ] {
            let a = route(&lead("generic", None, email), &rules, &w.ctx());
            assert_eq!(a.owner.is_some(), hit, "{email}");
        }
        let mut no_email = lead("generic", None, "x");
        no_email.fields.email = None;
        assert_eq!(route(&no_email, &rules, &w.ctx()).owner, None);
    }

    #[test]
    fn accounts_from_config_win_before_the_rules() {
        let mut w = World::new();
        w.accounts
            .insert("bigclient.example.org".into(), "dave".into());
        let rules = [Rule::new("all", Target::Person("alice".into()))];
        let a = route(
            &lead("webflow", None, "Ann@Sales.BigClient.example.org"),
            &rules,
            &w.ctx(),
        );
        assert_eq!(a.owner.as_deref(), Some("dave"));
        assert_eq!(a.reason, "account bigclient.example.org: dave");
        let a = route(&lead("webflow", None, "ann@other.org"), &rules, &w.ctx());
        assert_eq!(a.owner.as_deref(), Some("alice"));
    }

    fn past(owner: &str, lead: i64, status: &str) -> PastOwner {
        PastOwner {
            owner: owner.into(),
            lead,
            status: status.into(),
        }
    }

    #[test]
    fn accounts_from_past_leads_but_never_by_free_mail_domain() {
        let mut w = World::new();
        for k in account_keys("old@client.test", &Learn::Any)
            .into_iter()
            .chain(account_keys("jane@gmail.com", &Learn::Any))
        {
            w.past.insert(k.key, past("carol", 7, "won"));
        }
        assert!(!w.past.contains_key("gmail.com"));
        let rules = [Rule::new("all", Target::Person("alice".into()))];
        let owner = |email: &str| route(&lead("s", None, email), &rules, &w.ctx()).owner;
        assert_eq!(owner("new@client.test").as_deref(), Some("carol"));
        assert_eq!(owner("jane@gmail.com").as_deref(), Some("carol"));
        assert_eq!(owner("john@gmail.com").as_deref(), Some("alice"));
        assert!(is_free_mail_domain("yahoo.co.uk") && is_free_mail_domain("hotmail.de"));
        assert!(!is_free_mail_domain("yahoo.example.org"));
    }

    #[test]
    fn why_this_owner_names_the_earlier_lead_the_account_came_from() {
        let mut w = World::new();
        w.past
            .insert("client.test".into(), past("carol", 12, "won"));
        w.past
            .insert("jane@other.test".into(), past("dave", 31, "lost"));
        let rules = [Rule::new("all", Target::Person("alice".into()))];
        let a = route(&lead("s", None, "new@client.test"), &rules, &w.ctx());
        assert_eq!(a.owner.as_deref(), Some("carol"));
        assert_eq!(a.reason, "account client.test (from won lead #12): carol");
        let a = route(&lead("s", None, "Jane@Other.test"), &rules, &w.ctx());
        assert_eq!(
            a.reason,
            "account jane@other.test (from lost lead #31): dave"
        );
    }

    #[test]
    fn isp_and_regional_providers_are_free_mail_but_companies_are_not() {
        for d in [
            "comcast.net",
            "btinternet.com",
            "orange.fr",
            "libero.it",
            "seznam.cz",
            "bigpond.com",
            "qq.com",
            "gmail.com",
            "GMX.de",
            "t-online.de",
            "mailinator.com",
        ] {
            assert!(is_free_mail_domain(d), "{d}");
        }
        // Exact names only: the list holds public suffixes such as net.ua.
        assert!(is_free_mail_domain("net.ua"));
        for d in [
            "acme.net.ua",
            "client.test",
            "mail.comcast.net.example",
            "",
            ".",
            "gmail.co",
            "zzzzzz.zz",
            "0",
        ] {
            assert!(!is_free_mail_domain(d), "{d}");
        }
    }

    #[test]
    fn the_vendored_free_mail_list_is_large_sorted_and_every_entry_is_found() {
        let lines: Vec<&str> = FREE_MAIL.lines().collect();
        assert!(lines.len() > 5_000, "{} domains", lines.len());
        assert!(
            lines.windows(2).all(|w| w[0].as_bytes() < w[1].as_bytes()),
            "sorted bytewise, no duplicates: run scripts/refresh-freemail"
        );
        for d in &lines {
            assert!(
                !d.is_empty() && *d == d.to_ascii_lowercase() && d.contains('.'),
                "{d:?}"
            );
            assert!(listed(FREE_MAIL, d), "{d}");
            // Neighbours that are not in the list are not found.
            let longer = format!("{d}x");
            assert_eq!(
                listed(FREE_MAIL, &longer),
                lines.binary_search(&longer.as_str()).is_ok()
            );
        }
        assert!(!listed("", "a.b") && listed("a.b\n", "a.b") && listed("a.b", "a.b"));
    }

    #[test]
    fn learning_takes_the_address_from_any_lead_and_the_domain_from_customers_only() {
        let keys = account_keys(" Ann@Client.test ", &Learn::default());
        assert_eq!(
            keys,
            [
                AccountKey {
                    key: "ann@client.test".into(),
                    statuses: vec![]
                },
                AccountKey {
                    key: "client.test".into(),
                    statuses: vec![LeadStatus::Won]
                },
            ]
        );
        let both = Learn::Customers(vec![LeadStatus::Won, LeadStatus::Qualified]);
        assert_eq!(
            account_keys("ann@client.test", &both)[1].statuses,
            [LeadStatus::Won, LeadStatus::Qualified]
        );
        assert!(account_keys("ann@client.test", &Learn::Any)
            .iter()
            .all(|k| k.statuses.is_empty()));
        assert_eq!(account_keys("ann@client.test", &Learn::Off), []);
        assert_eq!(account_keys("ann@comcast.net", &Learn::Any).len(), 1);
    }

    /// Routes one lead per address in turn, as the pipeline does: the account owners
    /// come from the earlier leads that `keys` allows, and each lead (status `new`)
    /// joins them.
    fn route_in_turn(emails: &[&str], learn: &Learn, rules: &[Rule]) -> Vec<String> {
        let mut w = World::new();
        let mut earlier: Vec<(String, String, i64)> = Vec::new(); // (email, owner, id)
        let mut owners = Vec::new();
        for (i, email) in emails.iter().enumerate() {
            w.past.clear();
            for k in account_keys(email, learn) {
                let hit = earlier.iter().rev().find(|(e, _, _)| {
                    let key_matches = if k.key.contains('@') {
                        *e == k.key
                    } else {
                        e.ends_with(&format!("@{}", k.key))
                    };
                    key_matches && (k.statuses.is_empty() || k.statuses.contains(&LeadStatus::New))
                });
                if let Some((_, owner, id)) = hit {
                    w.past.insert(k.key, past(owner, *id, "new"));
                }
            }
            let a = route(&lead("s", None, email), rules, &w.ctx());
            if let Some((rule, last)) = a.cursor.clone() {
                w.cursors.insert(rule, last);
            }
            let owner = a.owner.unwrap();
            earlier.push((email.to_string(), owner.clone(), i as i64 + 1));
            owners.push(owner);
        }
        owners
    }

    #[test]
    fn submitters_from_different_companies_on_shared_domains_are_spread_over_the_pool() {
        // Six people, three shared non-free-mail domains (a university, an ISP missing
        // from the list, a big employer), none a customer yet.
        let emails = [
            "ann@uni.test",
            "ben@isp.test",
            "cat@uni.test",
            "dan@corp.test",
            "eve@uni.test",
            "fay@uni.test",
        ];
        let rules = [pool("rr", &["alice", "bob", "carol"], Strategy::RoundRobin)];
        let count = |owners: &[String]| {
            let mut n: BTreeMap<&str, usize> = BTreeMap::new();
            for o in owners {
                *n.entry(o.as_str()).or_default() += 1;
            }
            n.into_values().collect::<Vec<_>>()
        };
        let owners = route_in_turn(&emails, &Learn::default(), &rules);
        assert_eq!(count(&owners), [2, 2, 2], "{owners:?}");
        assert_eq!(owners, ["alice", "bob", "carol", "alice", "bob", "carol"]);
        // `learn = "any"` is the old behaviour, 4/1/1: every earlier lead makes an account.
        let owners = route_in_turn(&emails, &Learn::Any, &rules);
        assert_eq!(owners, ["alice", "bob", "alice", "carol", "alice", "alice"]);
        let owners = route_in_turn(&emails, &Learn::Off, &rules);
        assert_eq!(count(&owners), [2, 2, 2], "{owners:?}");
    }

    #[test]
    fn the_same_address_writing_again_goes_to_its_earlier_owner() {
        let rules = [pool("rr", &["alice", "bob", "carol"], Strategy::RoundRobin)];
        let owners = route_in_turn(
            &["ann@uni.test", "ben@uni.test", "ann@uni.test"],
            &Learn::default(),
            &rules,
        );
        assert_eq!(owners, ["alice", "bob", "alice"]);
    }

    #[test]
    fn an_account_rule_places_accounts_in_the_rule_order() {
        let mut w = World::new();
        w.accounts.insert("client.test".into(), "dave".into());
        let mut pricing = Rule::new("pricing", Target::Person("alice".into()));
        pricing.forms = vec!["Pricing".into()];
        let rules = [
            pricing,
            Rule::new("accounts", Target::Account),
            Rule::new("all", Target::Person("bob".into())),
        ];
        let owner = |form: Option<&str>, email: &str| {
            route(&lead("s", form, email), &rules, &w.ctx()).owner
        };
        assert_eq!(
            owner(Some("Pricing"), "a@client.test").as_deref(),
            Some("alice")
        );
        assert_eq!(owner(None, "a@client.test").as_deref(), Some("dave"));
        assert_eq!(owner(None, "a@other.test").as_deref(), Some("bob"));
    }

    #[test]
    fn an_away_account_owner_is_passed_over_with_a_note() {
        let mut w = World::new();
        w.accounts.insert("client.test".into(), "dave".into());
        w.set("dave", |p| p.away_until = Some(date(2026, 12, 1)));
        let rules = [Rule::new("all", Target::Person("alice".into()))];
        let a = route(&lead("s", None, "a@client.test"), &rules, &w.ctx());
        assert_eq!(a.owner.as_deref(), Some("alice"));
        assert!(
            a.reason
                .contains("account client.test: dave is away until 2026-12-01"),
            "{}",
            a.reason
        );
    }

    #[test]
    fn hours_rule_matches_in_or_out_of_business_hours_in_team_time() {
        let mut w = World::new();
        let mut night = Rule::new("night", Target::Person("erin".into()));
        night.hours = Some(WithinHours::Out);
        let mut day = Rule::new("day", Target::Person("alice".into()));
        day.hours = Some(WithinHours::In);
        let rules = [night, day];
        let l = lead("s", None, "a@x.test");
        // Tuesday 16:30 UTC is 17:30 Berlin: closed, though 16:30 would be open in UTC.
        w.now = at("2026-11-24T16:30:00Z");
        let a = route(&l, &rules, &w.ctx());
        assert_eq!(a.owner.as_deref(), Some("erin"));
        assert_eq!(a.reason, "rule night: out of business hours; owner erin");
        w.now = at("2026-11-24T15:30:00Z");
        assert_eq!(route(&l, &rules, &w.ctx()).owner.as_deref(), Some("alice"));
        w.now = at("2026-11-28T10:00:00Z"); // Saturday
        assert_eq!(route(&l, &rules, &w.ctx()).owner.as_deref(), Some("erin"));
    }

    #[test]
    fn round_robin_is_fair_across_a_restart() {
        let rules = [pool("rr", &["alice", "bob", "carol"], Strategy::RoundRobin)];
        let l = lead("s", None, "a@x.test");
        let mut w = World::new();
        let mut owners = Vec::new();
        for _ in 0..4 {
            let a = route(&l, &rules, &w.ctx());
            let (rule, last) = a.cursor.clone().unwrap();
            w.cursors.insert(rule, last);
            owners.push(a.owner.unwrap());
        }
        // A restart: a new world knows only the persisted cursor.
        let mut restarted = World::new();
        restarted.cursors = w.cursors.clone();
        for _ in 0..2 {
            let a = route(&l, &rules, &restarted.ctx());
            let (rule, last) = a.cursor.clone().unwrap();
            restarted.cursors.insert(rule, last);
            owners.push(a.owner.unwrap());
        }
        assert_eq!(owners, ["alice", "bob", "carol", "alice", "bob", "carol"]);
        let a = route(&l, &rules, &restarted.ctx());
        assert_eq!(
            a.reason,
            "rule rr: matches every lead; round robin: alice after carol"
        );
    }

    #[test]
    fn round_robin_skips_away_and_full_people() {
        let mut w = World::new();
        w.set("bob", |p| p.away_until = Some(date(2026, 11, 25)));
        w.set("carol", |p| p.capacity = Some(2));
        w.open.insert("carol".into(), 2);
        w.cursors.insert("rr".into(), "alice".into());
        let rules = [pool(
            "rr",
            &["alice", "bob", "carol", "dave"],
            Strategy::RoundRobin,
        )];
        let a = route(&lead("s", None, "a@x.test"), &rules, &w.ctx());
        assert_eq!(a.owner.as_deref(), Some("dave"));
        assert_eq!(a.cursor, Some(("rr".into(), "dave".into())));
        assert!(
            a.reason.contains("bob is away until 2026-11-25"),
            "{}",
            a.reason
        );
        assert!(
            a.reason.contains("carol is at capacity (2 of 2 open)"),
            "{}",
            a.reason
        );
        // Back on the day away_until names.
        w.now = at("2026-11-25T09:00:00Z");
        let a = route(&lead("s", None, "a@x.test"), &rules, &w.ctx());
        assert_eq!(a.owner.as_deref(), Some("bob"));
    }

    #[test]
    fn least_busy_takes_the_fewest_open_with_ties_in_pool_order() {
        let mut w = World::new();
        w.open.insert("alice".into(), 3);
        w.open.insert("bob".into(), 1);
        w.open.insert("carol".into(), 1);
        let rules = [pool("lb", &["alice", "carol", "bob"], Strategy::LeastBusy)];
        let a = route(&lead("s", None, "a@x.test"), &rules, &w.ctx());
        assert_eq!(a.owner.as_deref(), Some("carol"));
        assert_eq!(
            a.reason,
            "rule lb: matches every lead; least busy: carol with 1 open"
        );
        assert_eq!(a.cursor, None);
        w.set("carol", |p| p.capacity = Some(1));
        let a = route(&lead("s", None, "a@x.test"), &rules, &w.ctx());
        assert_eq!(a.owner.as_deref(), Some("bob"));
    }

    #[test]
    fn an_exhausted_pool_falls_through_to_the_next_rule_or_orphans() {
        let mut w = World::new();
        w.set("alice", |p| p.away_until = Some(date(2027, 1, 1)));
        let rules = [
            pool("rr", &["alice"], Strategy::RoundRobin),
            pool("empty", &[], Strategy::LeastBusy),
        ];
        let a = route(&lead("s", None, "a@x.test"), &rules, &w.ctx());
        assert_eq!(a.owner, None);
        assert!(a
            .reason
            .starts_with("no rule matched and no default owner: orphaned"));
        assert!(
            a.reason.contains("rule rr: nobody in the pool can take it"),
            "{}",
            a.reason
        );
        w.default_owner = Some("erin".into());
        let a = route(&lead("s", None, "a@x.test"), &rules, &w.ctx());
        assert_eq!(a.owner.as_deref(), Some("erin"));
    }

    #[test]
    fn duty_turns_over_at_local_midnight_on_monday() {
        let duty = weekly(&["alice", "bob", "carol"], date(2026, 11, 23));
        let tz = berlin();
        // Sunday 23:30 Berlin is still alice's week; Monday 00:30 Berlin (Sunday in UTC) is bob's.
        assert_eq!(
            on_duty(&duty, at("2026-11-29T22:30:00Z"), &tz).as_deref(),
            Some("alice")
        );
        assert_eq!(
            on_duty(&duty, at("2026-11-29T23:30:00Z"), &tz).as_deref(),
            Some("bob")
        );
        assert_eq!(
            on_duty(&duty, at("2026-12-07T12:00:00Z"), &tz).as_deref(),
            Some("carol")
        );
        assert_eq!(
            on_duty(&duty, at("2026-12-14T12:00:00Z"), &tz).as_deref(),
            Some("alice")
        );
        // Before the start the cycle runs backwards.
        assert_eq!(
            on_duty(&duty, at("2026-11-20T12:00:00Z"), &tz).as_deref(),
            Some("carol")
        );
    }

    #[test]
    fn duty_weeks_keep_their_local_boundaries_across_dst() {
        // Berlin springs forward on Sunday 2026-03-29; New York on Sunday 2026-03-08.
        let duty = weekly(&["alice", "bob"], date(2026, 3, 23));
        let tz = berlin();
        assert_eq!(
            on_duty(&duty, at("2026-03-29T21:30:00Z"), &tz).as_deref(),
            Some("alice")
        );
        // Monday 2026-03-30 00:30 CEST = 22:30 UTC the day before.
        assert_eq!(
            on_duty(&duty, at("2026-03-29T22:30:00Z"), &tz).as_deref(),
            Some("bob")
        );
        let ny = TimeZone::get("America/New_York").unwrap();
        let duty = weekly(&["alice", "bob"], date(2026, 3, 2));
        // Monday 2026-03-09 00:30 EDT = 04:30 UTC; 23:30 EDT Sunday = 03:30 UTC.
        assert_eq!(
            on_duty(&duty, at("2026-03-09T03:30:00Z"), &ny).as_deref(),
            Some("alice")
        );
        assert_eq!(
            on_duty(&duty, at("2026-03-09T04:30:00Z"), &ny).as_deref(),
            Some("bob")
        );
    }

    #[test]
    fn duty_by_days_and_months() {
        let tz = TimeZone::UTC;
        let mut duty = weekly(&["alice", "bob", "carol"], date(2026, 1, 31));
        duty.every = jiff::Span::new().days(2);
        assert_eq!(
            on_duty(&duty, at("2026-02-03T12:00:00Z"), &tz).as_deref(),
            Some("bob")
        );
        duty.every = jiff::Span::new().months(1);
        assert_eq!(
            on_duty(&duty, at("2026-02-27T12:00:00Z"), &tz).as_deref(),
            Some("alice")
        );
        assert_eq!(
            on_duty(&duty, at("2026-02-28T12:00:00Z"), &tz).as_deref(),
            Some("bob")
        );
        duty.every = jiff::Span::new().hours(12);
        assert_eq!(on_duty(&duty, at("2026-02-28T12:00:00Z"), &tz), None);
        duty.rotation.clear();
        assert_eq!(on_duty(&duty, at("2026-02-28T12:00:00Z"), &tz), None);
    }

    #[test]
    fn duty_rule_routes_to_whoever_is_on_duty_and_covers_for_the_away() {
        let mut w = World::new();
        w.duty = Some(weekly(&["alice", "bob", "carol"], date(2026, 11, 16)));
        let rules = [Rule::new("everyone-else", Target::Duty)];
        let a = route(&lead("s", None, "a@x.test"), &rules, &w.ctx());
        assert_eq!(a.owner.as_deref(), Some("bob"));
        assert_eq!(
            a.reason,
            "rule everyone-else: matches every lead; on duty: bob"
        );
        w.set("bob", |p| p.away_until = Some(date(2026, 11, 30)));
        let a = route(&lead("s", None, "a@x.test"), &rules, &w.ctx());
        assert_eq!(a.owner.as_deref(), Some("carol"));
        assert!(a
            .reason
            .contains("on duty: bob but bob is away until 2026-11-30, carol covers"));
    }

    #[test]
    fn a_person_rule_with_an_away_owner_falls_through() {
        let mut w = World::new();
        w.set("alice", |p| p.away_until = Some(date(2026, 12, 1)));
        let rules = [
            Rule::new("mine", Target::Person("alice".into())),
            Rule::new("all", Target::Person("bob".into())),
        ];
        let a = route(&lead("s", None, "a@x.test"), &rules, &w.ctx());
        assert_eq!(a.owner.as_deref(), Some("bob"));
        assert!(a
            .reason
            .contains("passed over rule mine: alice is away until 2026-12-01"));
    }

    #[test]
    fn next_owner_moves_along_the_pool_past_the_current_and_the_unavailable() {
        let mut w = World::new();
        w.set("carol", |p| p.capacity = Some(0));
        let rule = pool(
            "rr",
            &["alice", "bob", "carol", "dave"],
            Strategy::RoundRobin,
        );
        let a = next_owner("bob", Some(&rule), &[], Some("erin"), &w.ctx());
        assert_eq!(a.owner.as_deref(), Some("dave"));
        assert_eq!(a.cursor, Some(("rr".into(), "dave".into())));
        assert!(a
            .reason
            .starts_with("bob did not accept in time; rule rr: round robin: dave"));
        // Everyone else already let it time out: the manager takes it.
        let tried = vec!["alice".to_string(), "dave".to_string()];
        let a = next_owner("bob", Some(&rule), &tried, Some("erin"), &w.ctx());
        assert_eq!(a.owner.as_deref(), Some("erin"));
        assert!(a.reason.ends_with("manager erin"), "{}", a.reason);
        let a = next_owner("bob", Some(&rule), &tried, None, &w.ctx());
        assert_eq!(a.owner, None);
        assert!(a.reason.ends_with("no manager: orphaned"));
    }

    #[test]
    fn next_owner_follows_the_rotation_and_a_person_rule_goes_to_the_manager() {
        let mut w = World::new();
        w.duty = Some(weekly(&["alice", "bob", "carol"], date(2026, 11, 16)));
        w.set("carol", |p| p.away_until = Some(date(2026, 12, 1)));
        let duty = Rule::new("everyone-else", Target::Duty);
        let a = next_owner("bob", Some(&duty), &[], Some("erin"), &w.ctx());
        assert_eq!(a.owner.as_deref(), Some("alice"));
        assert!(
            a.reason.contains("duty rotation: alice after bob"),
            "{}",
            a.reason
        );
        let mine = Rule::new("mine", Target::Person("bob".into()));
        let a = next_owner("bob", Some(&mine), &[], Some("erin"), &w.ctx());
        assert_eq!(a.owner.as_deref(), Some("erin"));
        let a = next_owner("erin", None, &[], Some("erin"), &w.ctx());
        assert_eq!(a.owner, None, "the manager does not hand to themself");
        let lb = pool("lb", &["alice", "bob"], Strategy::LeastBusy);
        let a = next_owner("alice", Some(&lb), &[], None, &w.ctx());
        assert_eq!(a.owner.as_deref(), Some("bob"));
    }

    #[test]
    fn pools_and_rotation_never_pick_someone_away_or_full() {
        // Every combination of away and full among three people, for each target kind.
        let members = ["alice", "bob", "carol"];
        let targets = [
            pool("p", &members, Strategy::RoundRobin),
            pool("p", &members, Strategy::LeastBusy),
            Rule::new("p", Target::Duty),
        ];
        for mask in 0..64u32 {
            let mut w = World::new();
            w.duty = Some(weekly(&members, date(2026, 11, 16)));
            w.cursors.insert("p".into(), "bob".into());
            for (i, m) in members.iter().enumerate() {
                if mask & (1 << i) != 0 {
                    w.set(m, |p| p.away_until = Some(date(2026, 12, 1)));
                }
                if mask & (1 << (i + 3)) != 0 {
                    w.set(m, |p| p.capacity = Some(1));
                    w.open.insert(m.to_string(), 1);
                }
            }
            let free: Vec<&str> = members
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) == 0 && mask & (1 << (i + 3)) == 0)
                .map(|(_, m)| *m)
                .collect();
            for rule in &targets {
                let a = route(
                    &lead("s", None, "a@x.test"),
                    std::slice::from_ref(rule),
                    &w.ctx(),
                );
                match &a.owner {
                    Some(o) => assert!(free.contains(&o.as_str()), "{mask}: {o} {}", a.reason),
                    None => assert!(free.is_empty(), "{mask}: {}", a.reason),
                }
            }
        }
    }

    #[test]
    fn a_cursor_naming_someone_no_longer_in_the_pool_starts_over() {
        let mut w = World::new();
        w.cursors.insert("rr".into(), "zed".into());
        let rules = [pool("rr", &["alice", "bob"], Strategy::RoundRobin)];
        let a = route(&lead("s", None, "a@x.test"), &rules, &w.ctx());
        assert_eq!(a.owner.as_deref(), Some("alice"));
        assert_eq!(a.cursor, Some(("rr".into(), "alice".into())));
    }

    #[test]
    fn odd_inputs_never_panic() {
        let mut w = World::new();
        w.people.clear();
        w.duty = Some(weekly(&[], date(2026, 1, 1)));
        w.now = Timestamp::MAX;
        let rules = [
            pool("empty", &[], Strategy::RoundRobin),
            Rule::new("duty", Target::Duty),
            Rule::new("acct", Target::Account),
            Rule::new("ghost", Target::Person("nobody".into())),
        ];
        for email in ["", "@", "a@", "@b", "a@b@c", "\u{1F600}@\u{1F600}.de"] {
            let a = route(&lead("s", None, email), &rules, &w.ctx());
            assert_eq!(a.owner, None);
            assert!(account_keys(email, &Learn::Any).len() <= 2);
            let _ = next_owner("x", Some(&rules[0]), &[], None, &w.ctx());
            let _ = next_owner("x", Some(&rules[1]), &[], None, &w.ctx());
        }
        w.now = Timestamp::MIN;
        let _ = route(&lead("s", None, "a@b.c"), &rules, &w.ctx());
    }

    #[test]
    fn workload_is_read_only_for_capacities_and_least_busy_pools() {
        let mut people = team();
        let person = Rule::new("one", Target::Person("bob".into()));
        let rr = pool("rr", &["alice", "bob"], Strategy::RoundRobin);
        let lb = pool("lb", &["alice", "bob"], Strategy::LeastBusy);
        assert!(!uses_workload(&people, &[person.clone(), rr.clone()]));
        assert!(uses_workload(&people, &[person.clone(), lb]));
        people[1].capacity = Some(3);
        assert!(uses_workload(&people, &[person, rr]));
    }
}
