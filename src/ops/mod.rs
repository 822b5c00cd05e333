//! Lead operations shared by the CLI, the quick actions of the relay and the scheduler,
//! one file per operation (or per group that belongs together): `assign` (and leadgate's
//! `reassign`), `accept`, `next` (and `done`), `status`, `note`, `snooze`, `optout`,
//! `contact`, `triage` (`/lead`, `/notlead`), `reply` (first reply, inbound mail),
//! `orphans`; `card` renders what a lead looks like in mail. This file holds what they
//! share: [`OpError`], [`Outcome`], the quick-action dispatcher [`apply`], lookups.
//!
//! Each runs inside the caller's transaction, checks the domain rules (who may accept,
//! [`crate::domain::lead::LeadStatus::transition`], deadlines in the future), records history (an activity
//! with its actor and detail) and queues the emails it causes through
//! [`crate::outbox::enqueue`], so the change and its mail commit together. Nothing here reads
//! the clock or commits: `now` and the transaction are the caller's.

use crate::config::Settings;
use crate::domain::actions::QuickAction;
use crate::domain::lead::Refusal;
use crate::domain::route::Person;
use crate::store::leads::{self, Lead};
use crate::store::{self, Tx};
use jiff::Timestamp;

mod accept;
mod assign;
mod card;
mod contact;
mod next;
mod note;
mod optout;
mod orphans;
mod reply;
mod snooze;
mod status;
mod triage;
pub mod view;

#[cfg(test)]
mod tests;

use optout::address_of;

pub use accept::accept;
pub use assign::{assign, reassign};
pub use card::{card, context_text, handoff_email};
pub use contact::set_contact;
pub use next::{done, set_next};
pub use note::note;
pub use optout::opt_out;
pub use orphans::{mark_orphans, orphans, reassign_orphans};
pub use reply::{record_first_reply, record_inbound};
pub use snooze::snooze;
pub use status::set_status;
pub use triage::{triage_lead, triage_not_lead, TRIAGE_DECISION};

/// What an operation did, for the CLI's output and the relay's confirmation mail.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Whether outbox rows were written (wake the sender after commit).
    pub queued_mail: bool,
    /// One line for a person: what changed.
    pub summary: String,
}

#[derive(Debug, thiserror::Error)]
pub enum OpError {
    #[error("there is no lead #{0}; `leadgate leads` lists them")]
    NoSuchLead(i64),
    /// The message names the input and lists the team.
    #[error("{0}")]
    NoSuchPerson(String),
    /// A domain rule refused the operation; the message says what is allowed instead.
    #[error("{0}")]
    NotAllowed(String),
    #[error("database error: {0}")]
    Store(#[from] store::Error),
    #[error("{0:#}")]
    Other(#[from] anyhow::Error),
}

/// A domain rule's refusal is the person's to fix, like an unknown lead or person.
impl From<Refusal> for OpError {
    fn from(r: Refusal) -> Self {
        OpError::NotAllowed(r.0)
    }
}

impl OpError {
    /// Whether the operation was refused for a reason the person who asked can fix (an
    /// unknown lead or person, a rule that says no), as opposed to a failure of ours (the
    /// database, a template) that a retry may get past.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            OpError::NoSuchLead(_) | OpError::NoSuchPerson(_) | OpError::NotAllowed(_)
        )
    }
}

/// One quick action from a team member's mail (`actor` is their person id), as the relay
/// runs them: `/assign` hands on without a reason, `/accept` is by the sender, `/optout`
/// opts out the lead's address.
pub async fn apply(
    tx: &mut Tx<'_>,
    s: &Settings,
    lead: i64,
    action: &QuickAction,
    actor: &str,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    match action {
        QuickAction::Assign(to) => assign(tx, s, lead, to, "", actor, now).await,
        QuickAction::Accept => accept(tx, s, lead, actor, now).await,
        QuickAction::Next { due, what } => set_next(tx, s, lead, what, *due, actor, now).await,
        QuickAction::Done => done(tx, s, lead, actor, now).await,
        QuickAction::Status(to) => set_status(tx, s, lead, *to, actor, now).await,
        QuickAction::Note(text) => note(tx, s, lead, text, actor, now).await,
        QuickAction::Snooze { until } => snooze(tx, s, lead, *until, actor, now).await,
        QuickAction::Lead => triage_lead(tx, s, lead, actor, now).await,
        QuickAction::NotLead(why) => triage_not_lead(tx, s, lead, why, actor, now).await,
        QuickAction::Contact { field, value } => {
            set_contact(tx, s, lead, *field, value, actor, now).await
        }
        QuickAction::OptOut => {
            let row = load(tx, s, lead).await?;
            let norm = address_of(&row).ok_or_else(|| {
                OpError::NotAllowed(format!("lead #{lead} has no email address to opt out"))
            })?;
            opt_out(tx, s, &norm, &format!("/optout by {actor}"), actor, now).await
        }
    }
}

/// Lead `lead` when it is this desk's: another desk's lead is not reachable from here (by
/// a quick action, the command line or the board), as if it did not exist.
async fn load(tx: &mut Tx<'_>, s: &Settings, lead: i64) -> Result<Lead, OpError> {
    leads::get(tx, lead)
        .await?
        .filter(|l| l.desk == s.desk.id)
        .ok_or(OpError::NoSuchLead(lead))
}

/// A team member by id, name or email; the error lists the team.
pub fn find_person<'a>(s: &'a Settings, who: &str) -> Result<&'a Person, OpError> {
    s.find_person(who).ok_or_else(|| {
        let team: Vec<String> = s
            .people
            .iter()
            .map(|p| format!("{} ({}, {})", p.id, p.name, p.email))
            .collect();
        OpError::NoSuchPerson(format!(
            "no one called {:?} in the team; the team is: {}",
            who.trim(),
            if team.is_empty() {
                "nobody (add [[people]] to the config)".to_owned()
            } else {
                team.join("; ")
            }
        ))
    })
}

fn actor_name(s: &Settings, actor: &str) -> String {
    s.person(actor)
        .map(|p| p.name.clone())
        .unwrap_or_else(|| actor.to_owned())
}
