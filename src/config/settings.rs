//! The validated settings: every value usable as is (compiled regexes, parsed durations and
//! times, checked people). Built only by [`super::validate()`]; nothing here reads a file
//! or reports a problem.

use crate::domain::email::EmailAddress;
use crate::domain::extract::Template;
use crate::domain::hours::BusinessHours;
use crate::domain::route::{Duty, Learn, Person, RoutingContext, Rule};
use crate::domain::token::{TokenKeys, TrackedAddressFormat};
use jiff::SignedDuration;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsMode {
    Tls,
    StartTls,
    None,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AfterProcessing {
    Keyword,
    Move(String),
    Nothing,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StartFrom {
    Now,
    Ago(SignedDuration),
    All,
}

#[derive(Clone, Debug)]
pub struct ImapSettings {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub username: String,
    pub password: String,
    pub mailbox: String,
    pub after: AfterProcessing,
    pub keyword: String,
    pub idle: bool,
    pub poll: SignedDuration,
    /// IDLE is re-issued this often: some servers stop pushing silently.
    pub idle_renew: SignedDuration,
    pub start_from: StartFrom,
    pub ca_file: Option<PathBuf>,
    /// A message that fails this many times is quarantined instead of blocking the queue.
    pub max_attempts: u32,
}

#[derive(Clone, Debug)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub credentials: Option<(String, String)>,
    pub ca_file: Option<PathBuf>,
    pub timeout: SignedDuration,
}

#[derive(Clone, Debug)]
pub struct RelaySettings {
    pub domain: String,
    pub keys: TokenKeys,
    pub address: TrackedAddressFormat,
    pub log_address: EmailAddress,
    pub require_authenticated_sender: bool,
    /// Whose name a relayed mail to a lead carries.
    pub from_mode: FromMode,
    pub optout: crate::domain::optout::OptOutDetector,
    pub rate_cap: crate::domain::ratecap::RateCap,
    /// When set, only `Authentication-Results` headers from this authserv-id are believed
    /// (ours); without it, any such header is (fine when the MTA strips foreign ones).
    pub authserv_id: Option<String>,
}

impl RelaySettings {
    /// The tracked address of a lead: where the lead's replies and the owner's go.
    pub fn tracked_address(&self, lead_id: i64) -> String {
        self.address.address(&self.keys.encode(lead_id))
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FromMode {
    /// `"Alice Smith" <tracked address>`
    #[default]
    Member,
    /// `"<team name>" <tracked address>`
    Team,
}

#[derive(Clone, Debug)]
pub struct TeamSettings {
    pub name: String,
    pub timezone: jiff::tz::TimeZone,
    pub hours: BusinessHours,
    pub manager: Option<String>,
    pub default_owner: Option<String>,
    /// `[team] orphans = "keep"`: leads whose owner left stay orphaned (listed in the
    /// digest) instead of being routed again by the rules.
    pub keep_orphans: bool,
}

/// `[stale]`: the drift thresholds, as the drift rules take them.
pub use crate::domain::drift::StaleRules as StaleSettings;

#[derive(Clone, Debug)]
pub struct DigestSettings {
    pub to: Vec<EmailAddress>,
    pub daily: Option<jiff::civil::Time>,
    pub weekly: Option<(jiff::civil::Weekday, jiff::civil::Time)>,
    /// Owner-edited templates (`[digest] templates`): files here replace bundled ones.
    pub templates: Option<PathBuf>,
    pub send_when_clean: bool,
}

#[derive(Clone, Debug)]
pub struct HttpSettings {
    pub listen: Option<std::net::SocketAddr>,
    pub public_url: Option<String>,
}

/// `[board]`: how people log in to the board, and how long links and sessions last.
#[derive(Clone, Debug)]
pub struct BoardSettings {
    pub login: BoardLogin,
    /// How long a magic link may be used (once).
    pub link_valid: SignedDuration,
    /// How long a session cookie lasts.
    pub session: SignedDuration,
    /// How long a signed read-only view link (in digests and reminders) works.
    pub view_links: SignedDuration,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BoardLogin {
    /// A link mailed through the outbox to a team member's address.
    MagicLink,
    /// A reverse proxy authenticates and names the person in `header` (an email
    /// address); only peers in `trusted` are believed.
    Proxy {
        header: String,
        trusted: Vec<ipnet::IpNet>,
    },
}

impl Default for BoardSettings {
    fn default() -> Self {
        BoardSettings {
            login: BoardLogin::MagicLink,
            link_valid: SignedDuration::from_mins(20),
            session: SignedDuration::from_hours(30 * 24),
            view_links: SignedDuration::from_hours(7 * 24),
        }
    }
}

#[derive(Clone, Debug)]
pub struct OutboxSettings {
    /// How long a sender holds an email it is sending; if it dies meanwhile, another
    /// attempt (any instance) starts after this.
    pub lease: SignedDuration,
    pub max_attempts: u32,
    pub retry_after: SignedDuration,
    pub max_retry_after: SignedDuration,
    pub file_sink: Option<PathBuf>,
}

/// `[capture] triage`: what becomes of a triage item (a person's own mail, or a
/// notification no recogniser could read).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TriageMode {
    /// Stored with status `triage`, routed to an owner like a lead, who decides it.
    #[default]
    Owner,
    /// Stored with status `triage` without an owner; the digest lists it.
    Digest,
    /// Stored as a message of class `other`, as before triage existed.
    Off,
}

#[derive(Clone, Debug, Default)]
pub struct CaptureSettings {
    pub triage: TriageMode,
}

/// Which mail is a desk's (`[inbox]`).
#[derive(Clone, Debug, Default)]
pub enum Inbox {
    /// No `[inbox]`: the desk gets what `[desks] fallback` sends it (everything, when it is
    /// the only desk).
    #[default]
    Fallback,
    /// Mail of the shared `[imap]` account that names one of these (lowercase) addresses.
    Addresses(Vec<String>),
    /// A folder of the shared `[imap]` account.
    Folder(String),
    /// An IMAP account of the desk's own.
    Account(Box<ImapSettings>),
}

/// `[identity]`: how a desk's mail presents itself; the relay domain is in
/// [`Settings::relay`] (a desk's tracked addresses and Message-IDs use it).
#[derive(Clone, Debug, Default)]
pub struct Identity {
    /// The display name of leadgate's own mail (else the team's name).
    pub from_name: Option<String>,
    /// Appended to relayed mail and notices; `{owner}` is the owner's name.
    pub signature: Option<String>,
    /// Legal lines at the very end of every email.
    pub footer: Option<String>,
}

/// One desk: a team with its inbox and identity. A config without `[desks]` is the one
/// desk [`DEFAULT_DESK`].
#[derive(Clone, Debug)]
pub struct DeskSettings {
    /// The file stem of its desk file; [`DEFAULT_DESK`] for leadgate.toml's own team.
    pub id: String,
    pub name: String,
    pub inbox: Inbox,
    pub identity: Identity,
}

/// The desk of leadgate.toml's own team, and of every lead stored before desks existed.
pub const DEFAULT_DESK: &str = "default";

/// Validated settings: every value here is usable as is.
#[derive(Clone, Debug)]
pub struct Settings {
    pub database_url: String,
    pub imap: Option<ImapSettings>,
    pub smtp: Option<SmtpSettings>,
    /// The envelope and header sender of everything leadgate sends.
    pub from: EmailAddress,
    pub relay: RelaySettings,
    pub team: TeamSettings,
    pub people: Vec<Person>,
    pub routes: Vec<Rule>,
    /// Submitter domain or address (lowercase) → person id.
    pub accounts: BTreeMap<String, String>,
    /// `[accounts] learn`: which earlier leads make accounts besides `accounts`.
    pub learn: Learn,
    pub duty: Option<Duty>,
    pub stale: StaleSettings,
    /// How often the leader's scheduler sweeps (`[stale] sweep_every`).
    pub sweep_every: SignedDuration,
    pub digest: DigestSettings,
    pub http: HttpSettings,
    pub templates: Vec<Template>,
    pub outbox: OutboxSettings,
    pub capture: CaptureSettings,
    pub board: BoardSettings,
    /// Which desk these settings are (a config without desks: [`DEFAULT_DESK`]).
    pub desk: DeskSettings,
    /// `[privacy] optout_scope = "global"`: an opt-out on one desk holds on every desk.
    pub optout_global: bool,
}

impl Settings {
    /// The ids of the people in the team now: the one answer to "is this owner active?"
    /// for the sweep and `leads` alike.
    pub fn active_people(&self) -> std::collections::HashSet<String> {
        self.people.iter().map(|p| p.id.clone()).collect()
    }

    /// Who leadgate's own mail is from, and how its times read: the one place that makes
    /// the sender from the settings.
    pub fn sender(&self) -> crate::domain::notify::Sender<'_> {
        crate::domain::notify::Sender {
            name: self.desk.identity.from_name.as_deref(),
            from: self.from.as_str(),
            team: &self.team.name,
            timezone: &self.team.timezone,
        }
    }

    /// Which opt-outs hold for this desk (`[privacy] optout_scope`).
    pub fn optout_scope(&self) -> crate::domain::optout::Scope<'_> {
        let desk = self.desk.id.as_str();
        match self.optout_global {
            true => crate::domain::optout::Scope::Global { desk },
            false => crate::domain::optout::Scope::Desk(desk),
        }
    }

    /// What this desk adds to each of its emails (signature, footer).
    pub fn identity(&self) -> crate::domain::identity::Identity<'_> {
        crate::domain::identity::Identity {
            signature: self.desk.identity.signature.as_deref(),
            footer: self.desk.identity.footer.as_deref(),
            desk_name: self
                .desk
                .identity
                .from_name
                .as_deref()
                .unwrap_or(&self.desk.name),
        }
    }

    pub fn person(&self, id: &str) -> Option<&Person> {
        self.people.iter().find(|p| p.id == id)
    }

    /// A person by id, name or email, as `/assign` and `leadgate assign` accept them.
    pub fn find_person(&self, who: &str) -> Option<&Person> {
        let w = who.trim().trim_start_matches('@');
        self.people.iter().find(|p| {
            p.id.eq_ignore_ascii_case(w)
                || p.name.eq_ignore_ascii_case(w)
                || p.email.eq_ignore_ascii_case(w)
        })
    }

    /// The route named `name` (a lead's `rule`), for [`crate::domain::route::next_owner`].
    pub fn route(&self, name: &str) -> Option<&Rule> {
        self.routes.iter().find(|r| r.name == name)
    }

    /// Routing's view of these settings plus what the store knows: the round-robin
    /// cursors, open leads per person and owners of past leads by
    /// [`crate::domain::route::account_keys`].
    pub fn routing_context<'a>(
        &'a self,
        cursors: &'a std::collections::HashMap<String, String>,
        open_leads: &'a std::collections::HashMap<String, u32>,
        past_owners: &'a std::collections::HashMap<String, crate::domain::route::PastOwner>,
        now: jiff::Timestamp,
    ) -> RoutingContext<'a> {
        RoutingContext {
            people: &self.people,
            duty: self.duty.as_ref(),
            cursors,
            open_leads,
            now,
            timezone: &self.team.timezone,
            hours: &self.team.hours,
            default_owner: self.team.default_owner.as_deref(),
            accounts: &self.accounts,
            past_owners,
        }
    }

    pub fn person_by_email(&self, email: &str) -> Option<&Person> {
        self.people
            .iter()
            .find(|p| p.email.eq_ignore_ascii_case(email.trim()))
    }
}
