//! The relay decision's inputs ([`Policy`], [`Lead`], [`Message`], [`Case`], [`LeadSide`])
//! and its output ([`Plan`] and its [`Step`]s). Plain data; the decision is in the parent.

use super::from_address;
use crate::actions::QuickAction;
use crate::email::EmailAddress;
use crate::lead::ActivityKind;
use crate::message::MessageView;
use crate::notify::{header_safe, Draft, Sender};
use crate::optout::OptOutDetector;
use crate::ratecap::RateCap;
use crate::route::Person;
use crate::token::{TokenKeys, TrackedAddressFormat};
use jiff::Timestamp;

/// What the relay needs from the settings, filled by the caller.
#[derive(Clone, Copy, Debug)]
pub struct Policy<'a> {
    pub people: &'a [Person],
    /// Person id of the manager: reached by the lead's side while nobody owns the lead.
    pub manager: Option<&'a str>,
    /// leadgate's own address and name (the sender of notices), the team's time zone.
    pub sender: Sender<'a>,
    /// The templates the relay's own words are written from (bundled, or the owner's).
    pub templates: &'a minijinja::Environment<'a>,
    pub relay_domain: &'a str,
    pub address: &'a TrackedAddressFormat,
    pub keys: &'a TokenKeys,
    pub from_name: FromName,
    /// `[http] public_url`, for the one-click `List-Unsubscribe`.
    pub public_url: Option<&'a str>,
    pub require_authenticated_sender: bool,
    /// Only `Authentication-Results` stamped by this server are believed, when set.
    pub authserv_id: Option<&'a str>,
    pub rate_cap: RateCap,
    pub optout: &'a OptOutDetector,
}

/// Whose name a relayed mail to a lead carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FromName {
    Member,
    Team,
}

impl<'a> Policy<'a> {
    pub fn person(&self, id: &str) -> Option<&'a Person> {
        self.people.iter().find(|p| p.id == id)
    }

    pub fn person_by_email(&self, email: &str) -> Option<&'a Person> {
        self.people
            .iter()
            .find(|p| p.email.eq_ignore_ascii_case(email.trim()))
    }

    pub fn tracked_address(&self, lead_id: i64) -> String {
        self.address.address(&self.keys.encode(lead_id))
    }

    /// Whom the lead's side reaches: the owner, or the manager while nobody owns the lead.
    pub fn owner_of(&self, lead: &Lead) -> Option<&'a Person> {
        lead.owner
            .as_deref()
            .and_then(|o| self.person(o))
            .or_else(|| self.manager.and_then(|m| self.person(m)))
    }
}

/// A lead as the relay reads it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lead {
    pub id: i64,
    /// As stored (`new`, `opted_out`, ...).
    pub status: String,
    pub owner: Option<String>,
    pub accepted: bool,
    pub name: Option<String>,
    pub email: Option<String>,
    pub next_action: Option<String>,
    pub next_action_due: Option<Timestamp>,
}

impl Lead {
    pub fn email(&self) -> Option<EmailAddress> {
        self.email
            .as_deref()
            .and_then(|e| EmailAddress::parse(e).ok())
    }
}

/// The message being handled, and when.
#[derive(Clone, Copy, Debug)]
pub struct Message<'a> {
    pub view: &'a MessageView,
    pub now: Timestamp,
}

impl Message<'_> {
    /// The From address, lowercase.
    pub fn sender(&self) -> String {
        from_address(self.view)
    }

    pub(super) fn sender_label(&self) -> String {
        match self.view.from.as_ref() {
            Some(m) => match &m.name {
                Some(n) => format!("{} <{}>", header_safe(n, 80), m.address),
                None => m.address.clone(),
            },
            None => "(no sender)".into(),
        }
    }

    pub(super) fn subject(&self) -> &str {
        &self.view.subject
    }
}

/// Recent relay traffic within the rate cap's window, for the cap.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recent {
    /// Earlier relay-path mail from this sender (the message itself not counted).
    pub from_sender: Vec<Timestamp>,
    /// The same, about this lead only (a team member writes to many leads in a day).
    pub from_sender_about_lead: Vec<Timestamp>,
    /// Mail relayed for this lead (to it, to its owner, from unknown senders).
    pub relays_for_lead: Vec<Timestamp>,
}

/// A lead the message reached, and what deciding about it needs.
#[derive(Clone, Copy, Debug)]
pub struct Reached<'a> {
    pub lead: &'a Lead,
    pub recent: &'a Recent,
    /// What leadgate sent the team about this lead, oldest first: (Message-ID, subject).
    pub team_thread: &'a [(String, String)],
}

/// One of our own mails that bounced.
#[derive(Clone, Copy, Debug)]
pub struct Bounced<'a> {
    pub message_id: &'a str,
    pub purpose: &'a str,
    pub recipients: &'a [String],
}

/// What kind of relay traffic the message is, with what the caller found for it.
#[derive(Clone, Copy, Debug)]
pub enum Case<'a> {
    /// To a tracked address: the first lead a valid token names, if we have it.
    Tracked(Option<Reached<'a>>),
    /// A reply that did not reach a tracked address, linked to a lead by its thread
    /// (`sure`: by a strong signal). `automatic_lead`: the lead an automatic mail is
    /// recorded on (tracked token, else our own Message-ID), looked up when
    /// [`automatic_signal`] says the mail is automatic.
    Thread {
        reached: Reached<'a>,
        sure: bool,
        automatic_lead: Option<i64>,
    },
    /// An auto-reply (classified so, `reason`), and the lead it can be recorded on.
    Automatic { lead: Option<i64>, reason: &'a str },
    /// To the logging address: the newest open lead among its recipients, and to whom.
    Logged(Option<(&'a Lead, &'a str)>),
    /// A bounce of one of our mails about `lead`; `why` is the DSN's reason.
    Bounce {
        lead: &'a Lead,
        bounced: Bounced<'a>,
        why: &'a str,
    },
}

/// What to do, in order; then [`Plan::then`] for a team member's mail.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// The lead the message belongs to (its row is linked to it).
    pub lead: Option<i64>,
    pub steps: Vec<Step>,
    /// Why the relay did what it did, recorded on the message row.
    pub reason: Option<String>,
    /// For the logs, when the message looks like an attack or a mistake.
    pub warning: Option<&'static str>,
    /// A team member's mail: run its quick actions, then [`relay_to_lead`].
    pub then: Option<MemberMail>,
}

/// One thing to write, in plan order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// Queue this mail (the outbox).
    Send(Box<Outgoing>),
    /// A history entry on the lead; the lead's last activity becomes now.
    History(Entry),
    /// A team member's reply went out to the lead (accepts, first reply, contacted).
    FirstReply { lead: i64, by: String },
    /// The lead wrote: its reply clock restarts.
    RecordInbound { lead: i64 },
    /// The lead asked not to be contacted: their address is opted out.
    OptOut {
        lead: i64,
        email_norm: String,
        how: String,
    },
}

/// A mail to queue, about `lead`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    pub lead: i64,
    pub draft: Draft,
    /// Whether the message's attached files go along (the caller adds them).
    pub with_files: bool,
}

/// A history entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub lead: i64,
    pub actor: String,
    pub kind: ActivityKind,
    pub detail: String,
    /// The index in [`Plan::steps`] of the [`Step::Send`] this entry records.
    pub mail: Option<usize>,
}

/// A team member's mail about a lead, after its sender and the rate cap were checked.
#[derive(Clone, Debug, PartialEq)]
pub struct MemberMail {
    pub lead: i64,
    pub member: Person,
    pub via: Via,
    /// All or nothing: a refused one undoes the ones before it.
    pub actions: Vec<QuickAction>,
    /// What may reach the lead: the mail without its actions, trimmed of every quote.
    pub text: String,
}

/// Where a team member's mail came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    Tracked,
    /// A reply whose lead was found by its thread, not by the tracked address.
    Thread,
}

/// What relaying to a lead needs to know, read after the quick actions ran.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeadSide {
    /// The opt-out of the lead's address: when, how.
    pub opted_out: Option<(Timestamp, String)>,
    /// The lead's side of the conversation, oldest first: (Message-ID, subject).
    pub lead_thread: Vec<(String, String)>,
    pub team_thread: Vec<(String, String)>,
    pub recent: Recent,
}
