//! Routing: rules, pools, capacities, learning, and the snapshot's bookkeeping.

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
    let owner =
        |form: Option<&str>, email: &str| route(&lead("s", form, email), &rules, &w.ctx()).owner;
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
