//! `[desks]`: desk files, what they inherit, and the problems `check-config` names by file.

use super::*;
use std::path::Path;

const SHARED: &str = r#"
[smtp]
host = "127.0.0.1"
port = 2525
tls = "none"
from = "leadgate@leads.test"
[relay]
domain = "leads.agency.test"
secret = "0123456789abcdef0123456789abcdef"
[stale]
first_reply_within = "2h"
[desks]
dir = "desks"
fallback = "client-a"
[operator]
to = "ops@agency.test"
"#;

const CLIENT_A: &str = r#"
name = "Client A"
[inbox]
addresses = ["Info@Client-A.test", "sales@client-a.test"]
[identity]
from_name = "Client A"
relay_domain = "leads.client-a.test"
signature = "{owner}, Client A"
footer = "Client A Ltd"
[team]
timezone = "Europe/London"
holidays = ["2026-12-25"]
[[people]]
id = "alice"
name = "Alice Smith"
email = "alice@client-a.test"
[[routes]]
name = "all"
owner = "alice"
"#;

const CLIENT_B: &str = r#"
[inbox]
folder = "Clients/B"
[team]
name = "Client B"
[[people]]
id = "alice"
name = "Alice Smith"
email = "alice@agency.test"
[[routes]]
name = "all"
owner = "alice"
"#;

fn write(dir: &Path, files: &[(&str, &str)]) -> std::path::PathBuf {
    std::fs::create_dir_all(dir.join("desks")).unwrap();
    for (name, text) in files {
        std::fs::write(dir.join(name), text).unwrap();
    }
    dir.join("leadgate.toml")
}

fn problems(path: &Path) -> Vec<Problem> {
    match load_desks(path) {
        Err(ConfigError::Invalid(p)) => p,
        other => panic!("expected problems, got {other:?}"),
    }
}

#[test]
fn every_desk_file_is_a_desk_with_the_shared_sections_and_its_own_team() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        &[
            ("leadgate.toml", SHARED),
            ("desks/client-a.toml", CLIENT_A),
            ("desks/client-b.toml", CLIENT_B),
        ],
    );
    let desks = load_desks(&path).unwrap();
    assert_eq!(desks.ids(), ["client-a", "client-b"]);
    assert_eq!(desks.fallback, Some(0));
    assert_eq!(desks.operator[0].as_str(), "ops@agency.test");
    let a = desks.get("client-a").unwrap();
    assert_eq!(a.desk.name, "Client A");
    assert!(
        matches!(&a.desk.inbox, Inbox::Addresses(l) if l == &["info@client-a.test", "sales@client-a.test"])
    );
    // The desk's relay domain makes its tracked addresses and Message-IDs its own.
    assert_eq!(a.relay.address.address("t"), "reply+t@leads.client-a.test");
    assert_eq!(a.relay.log_address.as_str(), "log@leads.client-a.test");
    assert_eq!(a.sender().from_name(), "Client A");
    assert_eq!(a.team.hours.holidays().count(), 1);
    // [stale] is inherited from leadgate.toml when the desk has none.
    assert_eq!(
        a.stale.first_reply_within,
        jiff::SignedDuration::from_hours(2)
    );
    let b = desks.get("client-b").unwrap();
    assert_eq!(b.desk.name, "Client B", "no `name`: the team's name");
    assert!(matches!(&b.desk.inbox, Inbox::Folder(f) if f == "Clients/B"));
    assert_eq!(b.relay.address.address("t"), "reply+t@leads.agency.test");
    // The same person id on two desks is two desk memberships.
    assert_eq!(a.people[0].id, b.people[0].id);
    assert_ne!(a.people[0].email, b.people[0].email);
}

#[test]
fn a_config_without_desks_is_the_one_default_desk() {
    let dir = tempfile::tempdir().unwrap();
    let single = SHARED.replace("[desks]\ndir = \"desks\"\nfallback = \"client-a\"\n", "")
        + "[[people]]\nid = \"bob\"\nname = \"Bob\"\nemail = \"bob@x.test\"\n";
    let path = write(dir.path(), &[("leadgate.toml", &single)]);
    let desks = load_desks(&path).unwrap();
    assert_eq!(desks.ids(), [DEFAULT_DESK]);
    assert_eq!(desks.fallback, Some(0));
    assert!(matches!(desks.shared().desk.inbox, Inbox::Fallback));
}

#[test]
fn a_problem_in_a_desk_file_names_the_file_and_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let bad = CLIENT_B.replace("name = \"Client B\"", "timezone = \"Mars/Olympus\"")
        + "[identity]\nrelay_domain = \"not a domain\"\n";
    let path = write(
        dir.path(),
        &[
            ("leadgate.toml", SHARED),
            ("desks/client-a.toml", CLIENT_A),
            ("desks/client-b.toml", &bad),
        ],
    );
    let keys: Vec<String> = problems(&path).into_iter().map(|p| p.key).collect();
    assert!(
        keys.contains(&"desks/client-b.toml: team.timezone".to_owned()),
        "{keys:?}"
    );
    assert!(
        keys.contains(&"desks/client-b.toml: identity.relay_domain".to_owned()),
        "{keys:?}"
    );
    // Shared sections are reported once, from leadgate.toml, not again per desk.
    assert!(keys.iter().all(|k| !k.contains("smtp")), "{keys:?}");
}

#[test]
fn two_desks_claiming_one_address_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let b = CLIENT_B.replace(
        "folder = \"Clients/B\"",
        "addresses = [\"info@client-a.test\"]",
    );
    let path = write(
        dir.path(),
        &[
            ("leadgate.toml", SHARED),
            ("desks/client-a.toml", CLIENT_A),
            ("desks/client-b.toml", &b),
        ],
    );
    let p = problems(&path);
    assert!(
        p.iter()
            .any(|p| p.key == "desk client-b: inbox" && p.problem.contains("client-a")),
        "{p:?}"
    );
}

#[test]
fn a_fallback_that_is_no_desk_and_a_bad_operator_address_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let shared = SHARED
        .replace("fallback = \"client-a\"", "fallback = \"client-z\"")
        .replace("ops@agency.test", "not an address");
    let path = write(
        dir.path(),
        &[
            ("leadgate.toml", &shared),
            ("desks/client-a.toml", CLIENT_A),
        ],
    );
    let keys: Vec<String> = problems(&path).into_iter().map(|p| p.key).collect();
    assert!(keys.contains(&"desks.fallback".to_owned()), "{keys:?}");
    assert!(keys.contains(&"operator.to[0]".to_owned()), "{keys:?}");
}

#[test]
fn a_desk_may_not_have_two_ways_in() {
    let dir = tempfile::tempdir().unwrap();
    let b = CLIENT_B.replace(
        "folder = \"Clients/B\"",
        "folder = \"Clients/B\"\naddresses = \"b@client-b.test\"",
    );
    let path = write(
        dir.path(),
        &[("leadgate.toml", SHARED), ("desks/client-b.toml", &b)],
    );
    let keys: Vec<String> = problems(&path).into_iter().map(|p| p.key).collect();
    assert!(
        keys.contains(&"desks/client-b.toml: inbox".to_owned()),
        "{keys:?}"
    );
}

#[test]
fn the_shipped_example_desk_file_validates_beside_the_example_config() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let main = std::fs::read_to_string(root.join("leadgate.example.toml")).unwrap();
    let desk = std::fs::read_to_string(root.join("desk.example.toml")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        &[
            (
                "leadgate.toml",
                &format!("{main}\n[desks]\ndir = \"desks\"\n"),
            ),
            ("desks/client-a.toml", &desk),
        ],
    );
    let desks = load_desks(&path).unwrap_or_else(|e| panic!("{e}"));
    // leadgate.toml lists people: its team is the desk `default`, and the fallback.
    assert_eq!(desks.ids(), [DEFAULT_DESK, "client-a"]);
    assert_eq!(desks.fallback, Some(0));
    let a = desks.get("client-a").unwrap();
    assert_eq!(a.sender().from_name(), "Client A Roofing");
    assert!(a.desk.identity.footer.is_some());
}
