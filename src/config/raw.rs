//! The config file as written: every section and key of DESIGN.md's contract, all optional
//! here so that validation can report every problem at once instead of the first.

use serde::Deserialize;
use std::collections::BTreeMap;

/// A value that may be written as one string or a list of strings.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum OneOrMany {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            OneOrMany::None => Vec::new(),
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawSettings {
    pub database: RawDatabase,
    pub imap: Option<RawImap>,
    pub smtp: Option<RawSmtp>,
    pub relay: RawRelay,
    pub team: RawTeam,
    pub people: Vec<RawPerson>,
    pub routes: Vec<RawRoute>,
    /// Address or domain → person id, plus `learn` and `customer_status` (no dot, no `@`:
    /// never an address or a domain).
    pub accounts: BTreeMap<String, OneOrMany>,
    pub duty: Option<RawDuty>,
    pub stale: RawStale,
    pub digest: RawDigest,
    pub http: RawHttp,
    pub templates: Vec<RawTemplate>,
    pub outbox: RawOutbox,
    pub capture: RawCapture,
    /// `[board]`; None when the file has no such section (the board's defaults apply).
    pub board: Option<RawBoard>,
    /// `[desks]` (leadgate.toml only): where the desk files are, and the fallback desk.
    pub desks: RawDesks,
    /// `[operator]` (leadgate.toml only): who gets the digest across desks.
    pub operator: RawOperator,
    /// `[privacy]` (leadgate.toml only).
    pub privacy: RawPrivacy,
    /// A desk file's display name (`name = "Client A"`); the file stem is its id.
    pub name: Option<String>,
    /// `[inbox]`: which mail is this desk's.
    pub inbox: RawInbox,
    /// `[identity]`: how this desk's mail presents itself.
    pub identity: RawIdentity,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawBoard {
    /// `magic_link` (default) or `proxy`.
    pub login: Option<String>,
    pub link_valid: Option<String>,
    pub session: Option<String>,
    pub view_links: Option<String>,
    pub proxy_header: Option<String>,
    pub trusted_proxies: OneOrMany,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawDesks {
    /// A folder (relative to leadgate.toml) whose every `*.toml` is a desk.
    pub dir: Option<String>,
    /// The desk that mail matching no desk goes to; without it such mail is stored as
    /// `other`.
    pub fallback: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawOperator {
    pub to: OneOrMany,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawPrivacy {
    /// `"desk"` (default: each desk is its own data controller) or `"global"`.
    pub optout_scope: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawInbox {
    /// Aliases of the shared `[imap]` account that are this desk's.
    pub addresses: OneOrMany,
    /// A folder of the shared `[imap]` account that is this desk's.
    pub folder: Option<String>,
    /// An IMAP account of the desk's own (the keys of `[imap]`).
    pub imap: Option<RawImap>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawIdentity {
    pub from_name: Option<String>,
    pub relay_domain: Option<String>,
    /// Appended to relayed mail and notices; `{owner}` is the owner's name.
    pub signature: Option<String>,
    /// Legal lines at the very end of every email.
    pub footer: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawCapture {
    /// `owner` (default), `digest` or `off`: what happens to a triage item.
    pub triage: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawDatabase {
    pub url: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawImap {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub tls: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub password_file: Option<String>,
    pub mailbox: Option<String>,
    pub after: Option<String>,
    pub idle: Option<bool>,
    pub poll: Option<String>,
    pub idle_renew: Option<String>,
    pub start_from: Option<String>,
    pub ca_file: Option<String>,
    pub keyword: Option<String>,
    pub max_attempts: Option<u32>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawSmtp {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub tls: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub password_file: Option<String>,
    pub from: Option<String>,
    pub ca_file: Option<String>,
    pub timeout: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawRelay {
    pub domain: Option<String>,
    pub secret: Option<String>,
    pub secret_file: Option<String>,
    pub previous_secrets: Vec<String>,
    pub address: Option<String>,
    pub log_address: Option<String>,
    pub require_authenticated_sender: Option<bool>,
    /// `"member"` (relayed mail to a lead shows the team member's name) or `"team"`.
    pub from_mode: Option<String>,
    /// Opt-out phrases added to the built-in ones.
    pub optout_phrases: Vec<String>,
    /// Relays per sender and per lead, e.g. `"20/2h"`.
    pub rate_cap: Option<String>,
    /// Only `Authentication-Results` headers with this authserv-id are believed.
    pub authserv_id: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawTeam {
    pub name: Option<String>,
    pub timezone: Option<String>,
    pub hours: Option<String>,
    pub manager: Option<String>,
    pub default_owner: Option<String>,
    /// `"reassign"` (default) or `"keep"`: what happens to leads whose owner left the team.
    pub orphans: Option<String>,
    /// Days off (`"2026-12-25"`): business-hours clocks skip them.
    pub holidays: Vec<String>,
    /// An iCalendar file of days off (relative to the file that names it).
    pub holidays_ics: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawPerson {
    pub id: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub away_until: Option<String>,
    pub capacity: Option<u32>,
    pub active: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawRoute {
    pub name: Option<String>,
    pub source: OneOrMany,
    pub form: OneOrMany,
    pub field: BTreeMap<String, String>,
    pub owner: Option<String>,
    pub pool: Vec<String>,
    pub strategy: Option<String>,
    pub duty: Option<bool>,
    /// Submitter addresses or domains (`"jane@x.org"`, `"x.org"`).
    pub submitter: OneOrMany,
    /// `"in"` or `"out"` of business hours.
    pub hours: Option<String>,
    /// Route to the submitter's account owner (`[accounts]`, then past leads).
    pub account: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawDuty {
    pub rotation: Vec<String>,
    pub starts: Option<String>,
    pub every: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct RawStale {
    pub first_reply_within: Option<String>,
    pub accept_within: Option<String>,
    pub idle_after: Option<String>,
    pub remind_every: Option<String>,
    pub escalate_after: Option<String>,
    pub combine_reminders_over: Option<usize>,
    pub sweep_every: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawDigest {
    pub to: OneOrMany,
    pub daily: Option<String>,
    pub weekly: Option<String>,
    /// A folder whose digest/reminder/review templates replace the bundled ones.
    pub templates: Option<String>,
    /// Send a one-line "all owned" digest when nothing drifts.
    pub send_when_clean: Option<bool>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawHttp {
    pub listen: Option<String>,
    pub public_url: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawTemplate {
    pub name: Option<String>,
    pub source: Option<String>,
    #[serde(rename = "match")]
    pub match_: RawTemplateMatch,
    pub field: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawTemplateMatch {
    pub from: Option<String>,
    pub subject: Option<String>,
    pub body: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct RawOutbox {
    pub lease: Option<String>,
    pub max_attempts: Option<u32>,
    pub retry_after: Option<String>,
    pub max_retry_after: Option<String>,
    /// Directory for the file sink instead of SMTP (the demo uses it).
    pub file_sink: Option<String>,
}
