use super::raw::RawSettings;
use super::*;
use crate::domain::route::{Target, WithinHours};
use crate::domain::token::TokenKeys;
use jiff::SignedDuration;

fn raw(toml: &str) -> RawSettings {
    config::Config::builder()
        .add_source(config::File::from_str(toml, config::FileFormat::Toml))
        .build()
        .unwrap()
        .try_deserialize()
        .unwrap()
}

const MINIMAL: &str = r#"
[smtp]
host = "127.0.0.1"
port = 2525
tls = "none"
from = "leadgate@leads.test"
[relay]
domain = "leads.test"
secret = "0123456789abcdef0123456789abcdef"
[team]
timezone = "Europe/Berlin"
[[people]]
id = "alice"
name = "Alice Smith"
email = "alice@team.test"
[[routes]]
name = "all"
owner = "alice"
"#;

#[test]
fn a_minimal_config_validates_with_defaults() {
    let s = validate(raw(MINIMAL), Path::new(".")).unwrap();
    assert_eq!(s.database_url, "sqlite://leadgate.db");
    assert_eq!(s.relay.log_address.as_str(), "log@leads.test");
    assert_eq!(s.relay.address.address("abc"), "reply+abc@leads.test");
    assert_eq!(s.stale.first_reply_within, SignedDuration::from_hours(1));
    assert_eq!(s.routes.len(), 1);
    assert_eq!(s.routes[0].target, Target::Person("alice".into()));
}

#[test]
fn every_problem_is_reported_with_its_key() {
    let bad = r#"
[imap]
host = "imap.example.com"
tls = "ssl"
after = "delete"
[smtp]
host = "smtp.example.com"
from = "not an address"
[relay]
domain = "leads.test"
secret = "short"
[team]
timezone = "Mars/Olympus"
hours = "weekdays"
[[people]]
id = "alice"
email = "alice@team.test"
[[routes]]
name = "r"
owner = "zed"
field.message = "(unclosed"
[stale]
idle_after = "soon"
"#;
    let Err(ConfigError::Invalid(problems)) = validate(raw(bad), Path::new(".")) else {
        panic!("expected problems");
    };
    let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
    for expected in [
        "imap.tls",
        "imap.after",
        "imap.username",
        "imap.password",
        "smtp.from",
        "relay.secret",
        "team.timezone",
        "team.hours",
        "routes[0].owner",
        "routes[0].field.message",
        "stale.idle_after",
    ] {
        assert!(
            keys.contains(&expected),
            "no problem for {expected}: {keys:?}"
        );
    }
    assert!(
        problems.iter().all(|p| !p.fix.is_empty()),
        "every problem has a fix"
    );
}

#[test]
fn one_or_many_values_are_accepted() {
    let toml = format!(
        "{MINIMAL}\n[[routes]]\nname = \"wp\"\nsource = [\"contact-form-7\", \"wpforms\"]\nform = \"Contact\"\nowner = \"alice\"\n[digest]\nto = \"erin@team.test\"\n"
    );
    let s = validate(raw(&toml), Path::new(".")).unwrap();
    assert_eq!(s.routes[1].sources, vec!["contact-form-7", "wpforms"]);
    assert_eq!(s.routes[1].forms, vec!["Contact"]);
    assert_eq!(s.digest.to.len(), 1);
}

#[test]
fn secrets_can_come_from_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("secret"),
        "fedcba9876543210fedcba9876543210\n",
    )
    .unwrap();
    let toml = MINIMAL.replace(
        "secret = \"0123456789abcdef0123456789abcdef\"",
        "secret_file = \"secret\"",
    );
    let s = validate(raw(&toml), dir.path()).unwrap();
    let token = TokenKeys::new(vec![b"fedcba9876543210fedcba9876543210".to_vec()]).encode(3);
    assert_eq!(s.relay.keys.decode(&token), Some(3));
}

#[test]
fn durations_read_like_people_write_them() {
    assert_eq!(
        parse_duration("90s").unwrap(),
        SignedDuration::from_secs(90)
    );
    assert_eq!(
        parse_duration("2d").unwrap(),
        SignedDuration::from_hours(48)
    );
    assert_eq!(
        parse_duration("1w").unwrap(),
        SignedDuration::from_hours(168)
    );
    assert_eq!(
        parse_duration("1h 30m").unwrap(),
        SignedDuration::from_mins(90)
    );
    assert!(parse_duration("soon").is_err());
}

#[test]
fn routes_take_submitter_hours_and_account_keys() {
    let toml = format!(
        r#"{MINIMAL}
[[routes]]
name = "vip"
submitter = ["bigclient.example.org", "jane@solo.test"]
hours = "out"
owner = "alice"
[[routes]]
name = "accounts"
account = true
[accounts]
"BigClient.example.org" = "alice"
[duty]
rotation = ["alice"]
starts = "2026-11-23"
every = "2w"
"#
    );
    let s = validate(raw(&toml), Path::new(".")).unwrap();
    assert_eq!(
        s.routes[1].submitters,
        vec!["bigclient.example.org", "jane@solo.test"]
    );
    assert_eq!(s.routes[1].hours, Some(WithinHours::Out));
    assert_eq!(s.routes[2].target, Target::Account);
    assert_eq!(
        s.accounts.get("bigclient.example.org").map(String::as_str),
        Some("alice")
    );
    assert_eq!(s.duty.unwrap().every.get_weeks(), 2);
}

#[test]
fn bad_route_keys_are_reported_with_their_keys() {
    let toml = format!(
        r#"{MINIMAL}
[[routes]]
name = "bad"
submitter = ["not a domain"]
hours = "night"
account = true
owner = "alice"
[duty]
rotation = ["alice"]
every = "12h"
"#
    );
    let Err(ConfigError::Invalid(problems)) = validate(raw(&toml), Path::new(".")) else {
        panic!("expected problems");
    };
    let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
    for expected in [
        "routes[1].submitter[0]",
        "routes[1].hours",
        "routes[1]",
        "duty.every",
    ] {
        assert!(
            keys.contains(&expected),
            "no problem for {expected}: {keys:?}"
        );
    }
}

#[test]
fn stale_thresholds_are_read_into_the_drift_rules() {
    let toml = format!(
        "{MINIMAL}\n[stale]\nfirst_reply_within = \"30m\"\naccept_within = \"4h\"\nidle_after = \"5d\"\nremind_every = \"12h\"\nescalate_after = \"1d\"\ncombine_reminders_over = 5\n"
    );
    let s = validate(raw(&toml), Path::new(".")).unwrap();
    assert_eq!(
        s.stale,
        crate::domain::drift::StaleRules {
            first_reply_within: SignedDuration::from_mins(30),
            accept_within: SignedDuration::from_hours(4),
            idle_after: SignedDuration::from_hours(120),
            remind_every: SignedDuration::from_hours(12),
            escalate_after: SignedDuration::from_hours(24),
            combine_reminders_over: 5,
        }
    );
    let defaults = validate(raw(MINIMAL), Path::new(".")).unwrap();
    assert_eq!(defaults.stale, crate::domain::drift::StaleRules::default());
}

#[test]
fn bad_stale_and_accounts_are_reported_with_their_keys() {
    let toml = format!(
        "{MINIMAL}\n[stale]\nremind_every = \"0s\"\n[accounts]\n\"not a domain\" = \"alice\"\n\"Client.test\" = \"alice\"\n\"client.test\" = \"zed\"\n"
    );
    let Err(ConfigError::Invalid(problems)) = validate(raw(&toml), Path::new(".")) else {
        panic!("expected problems");
    };
    let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
    for expected in [
        "stale.remind_every",
        "accounts.\"not a domain\"",
        "accounts.\"client.test\"",
    ] {
        assert!(
            keys.contains(&expected),
            "no problem for {expected}: {keys:?}"
        );
    }
    assert!(
        problems.iter().any(|p| p.problem.contains("listed twice")),
        "{problems:?}"
    );
}

#[test]
fn the_routing_context_carries_team_hours_accounts_and_rotation() {
    // MINIMAL's only route becomes the duty rotation, behind a night rule.
    let toml = MINIMAL.replace(
        "[[routes]]\nname = \"all\"\nowner = \"alice\"\n",
        r#"[[people]]
id = "bob"
email = "bob@team.test"
[[people]]
id = "erin"
email = "erin@team.test"
[[routes]]
name = "night"
hours = "out"
owner = "erin"
[[routes]]
name = "all"
duty = true
[accounts]
"client.test" = "bob"
[duty]
rotation = ["alice", "bob"]
starts = "2026-11-23"
"#,
    );
    let s = validate(raw(&toml), Path::new(".")).unwrap();
    let cursors = std::collections::HashMap::new();
    let open = std::collections::HashMap::new();
    let past = std::collections::HashMap::new();
    let route_at = |now: &str, email: &str| {
        let mut lead = crate::domain::extract::Extraction::default();
        lead.fields.email = Some(email.into());
        let ctx = s.routing_context(&cursors, &open, &past, now.parse().unwrap());
        crate::domain::route::route(&lead, &s.routes, &ctx).owner
    };
    // Tuesday 2026-11-24 10:00 Berlin: in hours, alice's week.
    assert_eq!(
        route_at("2026-11-24T09:00:00Z", "a@x.test").as_deref(),
        Some("alice")
    );
    // Monday 2026-11-30 10:00 Berlin: bob's week.
    assert_eq!(
        route_at("2026-11-30T09:00:00Z", "a@x.test").as_deref(),
        Some("bob")
    );
    // Tuesday 20:00 Berlin: out of team hours.
    assert_eq!(
        route_at("2026-11-24T19:00:00Z", "a@x.test").as_deref(),
        Some("erin")
    );
    // An account owner comes before every rule.
    assert_eq!(
        route_at("2026-11-24T19:00:00Z", "a@client.test").as_deref(),
        Some("bob")
    );
    assert!(s.route("night").is_some() && s.route("nope").is_none());
}

#[test]
fn relay_keys_from_mode_rate_cap_optout_phrases_authserv_id() {
    let s = validate(raw(MINIMAL), Path::new(".")).unwrap();
    assert_eq!(s.relay.from_mode, FromMode::Member);
    assert_eq!(s.relay.rate_cap, crate::domain::ratecap::RateCap::default());
    assert_eq!(s.relay.authserv_id, None);
    let set = MINIMAL.replace(
        "[relay]\n",
        "[relay]\nfrom_mode = \"team\"\nrate_cap = \"5/1h\"\noptout_phrases = [\"kein Interesse mehr\"]\nauthserv_id = \"MX.Team.test\"\n",
    );
    let s = validate(raw(&set), Path::new(".")).unwrap();
    assert_eq!(s.relay.from_mode, FromMode::Team);
    assert_eq!(s.relay.rate_cap.limit, 5);
    assert_eq!(s.relay.authserv_id.as_deref(), Some("mx.team.test"));
    assert!(s
        .relay
        .optout
        .detect("Ich habe kein Interesse mehr.")
        .is_some());
    assert!(
        s.relay.optout.detect("please unsubscribe me").is_some(),
        "defaults kept"
    );
    let bad = MINIMAL.replace(
        "[relay]\n",
        "[relay]\nfrom_mode = \"lead\"\nrate_cap = \"many\"\noptout_phrases = [\" \"]\n",
    );
    let Err(ConfigError::Invalid(problems)) = validate(raw(&bad), Path::new(".")) else {
        panic!("bad relay keys must be refused");
    };
    let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
    for k in ["relay.from_mode", "relay.rate_cap", "relay.optout_phrases"] {
        assert!(keys.contains(&k), "{k} in {keys:?}");
    }
}

#[test]
fn the_shipped_example_config_validates() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/leadgate.example.toml");
    let s = load(&path).unwrap_or_else(|e| panic!("{e}"));
    assert!(s.imap.is_some() && s.smtp.is_some());
    assert!(!s.routes.is_empty() && !s.templates.is_empty());
}

#[test]
fn the_demo_config_validates() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/leadgate.toml");
    assert!(load(&path).is_ok());
}

#[test]
fn the_outbox_lease_must_outlast_a_send() {
    let lease = |extra: &str| {
        let toml = format!("{MINIMAL}\n{extra}");
        match validate(raw(&toml), Path::new(".")) {
            Ok(s) => Ok(s.outbox.lease),
            Err(ConfigError::Invalid(problems)) => {
                Err(problems.iter().map(|p| p.key.clone()).collect::<Vec<_>>())
            }
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(lease(""), Ok(SignedDuration::from_mins(2)));
    assert_eq!(
        lease("[outbox]\nlease = \"20s\"\n").map_err(|_| ()),
        Err(()),
        "under twice the default 30 s SMTP timeout"
    );
    assert_eq!(
        lease("[outbox]\nlease = \"5s\"\n"),
        Err(vec!["outbox.lease".to_owned()])
    );
    let quick_smtp = MINIMAL.replace("[smtp]\n", "[smtp]\ntimeout = \"10s\"\n");
    let s = validate(
        raw(&format!("{quick_smtp}\n[outbox]\nlease = \"20s\"\n")),
        Path::new("."),
    )
    .unwrap();
    assert_eq!(s.outbox.lease, SignedDuration::from_secs(20));
}

#[test]
fn type_errors_are_collected_with_every_other_problem() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leadgate.toml");
    let toml = format!(
        "{MINIMAL}\n[imap]\nhost = \"mail\"\nport = 99999\nusername = \"u\"\npassword = \"p\"\n\
         idle = \"often\"\n[outbox]\nmax_attempts = -3\n[stale]\nfirst_reply_within = \"soon\"\n"
    )
    .replace("port = 2525", "port = \"smtp\"");
    std::fs::write(&path, toml).unwrap();
    let Err(ConfigError::Invalid(problems)) = load(&path) else {
        panic!("the config is invalid");
    };
    let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
    for key in [
        "imap.port",
        "smtp.port",
        "imap.idle",
        "outbox.max_attempts",
        "stale.first_reply_within",
    ] {
        assert!(keys.contains(&key), "{key} in {problems:#?}");
    }
    let port = problems.iter().find(|p| p.key == "imap.port").unwrap();
    assert!(port.problem.contains("99999"), "{port}");
    assert!(port.fix.contains("1 to 65535"), "{port}");
    // Left out for its type, a value is not reported missing as well.
    assert_eq!(keys.iter().filter(|k| **k == "imap.port").count(), 1);
}

#[test]
fn accounts_learn_from_customers_by_default_and_take_any_or_off() {
    use crate::domain::lead::LeadStatus;
    use crate::domain::route::Learn;
    let learn = |accounts: &str| {
        let toml = format!("{MINIMAL}\n[accounts]\n\"client.test\" = \"alice\"\n{accounts}");
        let s = validate(raw(&toml), Path::new(".")).unwrap();
        assert_eq!(s.accounts.len(), 1, "learn is no account");
        s.learn
    };
    assert_eq!(learn(""), Learn::Customers(vec![LeadStatus::Won]));
    assert_eq!(learn("learn = \"Any\""), Learn::Any);
    assert_eq!(learn("learn = \"off\""), Learn::Off);
    assert_eq!(
        learn("learn = \"customers\"\ncustomer_status = [\"won\", \"qualified\"]"),
        Learn::Customers(vec![LeadStatus::Won, LeadStatus::Qualified])
    );
    assert_eq!(
        learn("customer_status = \"qualified\""),
        Learn::Customers(vec![LeadStatus::Qualified])
    );
}

#[test]
fn bad_accounts_learning_is_reported_with_its_key_and_fix() {
    let problems = |accounts: &str| {
        let toml = format!("{MINIMAL}\n[accounts]\n{accounts}");
        let Err(ConfigError::Invalid(problems)) = validate(raw(&toml), Path::new(".")) else {
            panic!("expected problems for {accounts}");
        };
        problems
    };
    let p = problems("learn = \"everyone\"");
    assert_eq!(p[0].key, "accounts.learn");
    assert!(p[0].problem.contains("\"everyone\""), "{p:?}");
    assert!(p[0].fix.contains("\"customers\""), "{p:?}");
    let p = problems("customer_status = [\"won\", \"new\"]");
    assert_eq!(p[0].key, "accounts.customer_status");
    assert!(p[0].problem.contains("\"new\""), "{p:?}");
    let p = problems("learn = \"any\"\ncustomer_status = \"won\"");
    assert_eq!(p[0].key, "accounts.customer_status");
    assert!(p[0].fix.contains("learn = \"customers\""), "{p:?}");
    let p = problems("\"client.test\" = [\"alice\", \"bob\"]");
    assert_eq!(p[0].key, "accounts.\"client.test\"");
    assert_eq!(
        problems("customer_status = []")[0].key,
        "accounts.customer_status"
    );
}

#[test]
fn capture_triage_defaults_to_owner_and_a_bad_mode_is_reported_with_its_key() {
    let s = validate(raw(MINIMAL), Path::new(".")).unwrap();
    assert_eq!(s.capture.triage, TriageMode::Owner);
    for (mode, want) in [
        ("owner", TriageMode::Owner),
        ("digest", TriageMode::Digest),
        ("off", TriageMode::Off),
    ] {
        let toml = format!("{MINIMAL}\n[capture]\ntriage = \"{mode}\"\n");
        let s = validate(raw(&toml), Path::new(".")).unwrap();
        assert_eq!(s.capture.triage, want, "{mode}");
    }
    let toml = format!("{MINIMAL}\n[capture]\ntriage = \"inbox\"\n");
    let Err(ConfigError::Invalid(problems)) = validate(raw(&toml), Path::new(".")) else {
        panic!("expected a problem");
    };
    let p = problems
        .iter()
        .find(|p| p.key == "capture.triage")
        .expect("capture.triage");
    assert!(p.fix.contains("\"digest\""), "{p:?}");
}

#[test]
fn the_board_defaults_to_magic_links_and_proxy_login_needs_an_allowlist() {
    let s = validate(raw(MINIMAL), Path::new(".")).unwrap();
    assert_eq!(s.board.login, BoardLogin::MagicLink);
    assert_eq!(s.board.link_valid, SignedDuration::from_mins(20));
    assert_eq!(s.board.session, SignedDuration::from_hours(30 * 24));
    assert_eq!(s.board.view_links, SignedDuration::from_hours(7 * 24));

    let open = format!("{MINIMAL}\n[board]\nlogin = \"proxy\"\n");
    let Err(ConfigError::Invalid(problems)) = validate(raw(&open), Path::new(".")) else {
        panic!("proxy login without trusted_proxies must not validate");
    };
    let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["board.trusted_proxies"]);
    assert!(problems[0].fix.contains("CIDR"));

    let proxied = format!(
        "{MINIMAL}\n[board]\nlogin = \"proxy\"\ntrusted_proxies = [\"10.0.0.0/8\", \"::1\"]\nproxy_header = \"Remote-Email\"\n"
    );
    let s = validate(raw(&proxied), Path::new(".")).unwrap();
    let BoardLogin::Proxy { header, trusted } = &s.board.login else {
        panic!("proxy login");
    };
    assert_eq!(header, "Remote-Email");
    assert!(trusted[0].contains(&"10.1.2.3".parse::<std::net::IpAddr>().unwrap()));
    assert!(trusted[1].contains(&"::1".parse::<std::net::IpAddr>().unwrap()));
}

#[test]
fn bad_board_keys_are_reported_with_their_keys() {
    let bad = format!(
        "{MINIMAL}\n[board]\nlogin = \"password\"\nlink_valid = \"soon\"\nsession = \"0s\"\n"
    );
    let Err(ConfigError::Invalid(problems)) = validate(raw(&bad), Path::new(".")) else {
        panic!("must not validate");
    };
    let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["board.link_valid", "board.session", "board.login"]);
    // Magic links are mailed: they need the public URL.
    let no_url = format!("{MINIMAL}\n[board]\nlogin = \"magic_link\"\n");
    let Err(ConfigError::Invalid(problems)) = validate(raw(&no_url), Path::new(".")) else {
        panic!("must not validate");
    };
    assert_eq!(problems[0].key, "http.public_url");
    let bad_cidr =
        format!("{MINIMAL}\n[board]\nlogin = \"proxy\"\ntrusted_proxies = \"10.0.0.0/33\"\n");
    let Err(ConfigError::Invalid(problems)) = validate(raw(&bad_cidr), Path::new(".")) else {
        panic!("must not validate");
    };
    assert_eq!(problems[0].key, "board.trusted_proxies[0]");
}
