//! Lead state: status and its allowed transitions, the next action, history entry kinds,
//! and the lead itself as a typed value.

use crate::email::EmailAddress;
use indexmap::IndexMap;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// What the owner will do next, and by when (`/next`); shown as `{"what", "due"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextAction {
    pub what: String,
    pub due: Timestamp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeadStatus {
    /// A triage item: a person's mail or an unreadable notification waiting for someone
    /// to decide whether it is a lead (`/lead`, `/notlead`, or a reply).
    Triage,
    New,
    Contacted,
    Qualified,
    Won,
    Lost,
    Archived,
    OptedOut,
}

impl LeadStatus {
    pub const ALL: [LeadStatus; 8] = [
        LeadStatus::Triage,
        LeadStatus::New,
        LeadStatus::Contacted,
        LeadStatus::Qualified,
        LeadStatus::Won,
        LeadStatus::Lost,
        LeadStatus::Archived,
        LeadStatus::OptedOut,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LeadStatus::Triage => "triage",
            LeadStatus::New => "new",
            LeadStatus::Contacted => "contacted",
            LeadStatus::Qualified => "qualified",
            LeadStatus::Won => "won",
            LeadStatus::Lost => "lost",
            LeadStatus::Archived => "archived",
            LeadStatus::OptedOut => "opted_out",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|st| st.as_str() == s.trim().to_ascii_lowercase())
    }

    /// Live leads need an owner and a next action; closed ones need neither. A triage item
    /// is live: it needs someone to decide it.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            LeadStatus::Triage | LeadStatus::New | LeadStatus::Contacted | LeadStatus::Qualified
        )
    }

    /// Won, lost, archived and opted-out leads need no owner and never drift.
    pub fn is_closed(self) -> bool {
        !self.is_open()
    }

    /// `to` if the domain allows it, else what a user can do instead (for `/status`).
    pub fn transition(self, to: LeadStatus) -> Result<LeadStatus, String> {
        if self.can_become(to) {
            return Ok(to);
        }
        if self == to {
            return Err(format!("the lead is already {}", to.as_str()));
        }
        let allowed: Vec<&str> = Self::ALL
            .into_iter()
            .filter(|s| self.can_become(*s))
            .map(LeadStatus::as_str)
            .collect();
        let article = if self.as_str().starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        Err(format!(
            "{article} {} lead cannot become {}; it can become {}",
            self.as_str(),
            to.as_str(),
            allowed.join(", ")
        ))
    }

    /// The transitions the domain allows. Closed leads may only be archived or reopened
    /// as contacted (a lost lead that writes back); opted-out is final but for archiving.
    /// A triage item becomes a lead (new), is archived (not a lead) or opts out; nothing
    /// becomes a triage item again.
    pub fn can_become(self, to: LeadStatus) -> bool {
        use LeadStatus::*;
        if self == to || to == Triage {
            return false;
        }
        match self {
            Triage => matches!(to, New | Archived | OptedOut),
            New => true,
            Contacted => !matches!(to, New),
            Qualified => !matches!(to, New | Contacted),
            Won | Lost => matches!(to, Archived | Contacted | OptedOut),
            Archived => matches!(to, Contacted | OptedOut),
            OptedOut => matches!(to, Archived),
        }
    }
}

/// The actor name of leadgate itself in the history.
pub const SYSTEM_ACTOR: &str = "leadgate";

/// The kinds of history entries; stored as their snake_case names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    Captured,
    Resubmitted,
    Assigned,
    Accepted,
    Handoff,
    MessageIn,
    MessageOut,
    Logged,
    Note,
    NextActionSet,
    NextActionDone,
    Status,
    OptedOut,
    Reminder,
    Escalation,
    Bounce,
    Notified,
    Snoozed,
    DriftOpened,
    DriftClosed,
}

impl ActivityKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::Captured => "captured",
            ActivityKind::Resubmitted => "resubmitted",
            ActivityKind::Assigned => "assigned",
            ActivityKind::Accepted => "accepted",
            ActivityKind::Handoff => "handoff",
            ActivityKind::MessageIn => "message_in",
            ActivityKind::MessageOut => "message_out",
            ActivityKind::Logged => "logged",
            ActivityKind::Note => "note",
            ActivityKind::NextActionSet => "next_action_set",
            ActivityKind::NextActionDone => "next_action_done",
            ActivityKind::Status => "status",
            ActivityKind::OptedOut => "opted_out",
            ActivityKind::Reminder => "reminder",
            ActivityKind::Escalation => "escalation",
            ActivityKind::Bounce => "bounce",
            ActivityKind::Notified => "notified",
            ActivityKind::Snoozed => "snoozed",
            ActivityKind::DriftOpened => "drift_opened",
            ActivityKind::DriftClosed => "drift_closed",
        }
    }

    pub const ALL: [ActivityKind; 20] = [
        ActivityKind::Captured,
        ActivityKind::Resubmitted,
        ActivityKind::Assigned,
        ActivityKind::Accepted,
        ActivityKind::Handoff,
        ActivityKind::MessageIn,
        ActivityKind::MessageOut,
        ActivityKind::Logged,
        ActivityKind::Note,
        ActivityKind::NextActionSet,
        ActivityKind::NextActionDone,
        ActivityKind::Status,
        ActivityKind::OptedOut,
        ActivityKind::Reminder,
        ActivityKind::Escalation,
        ActivityKind::Bounce,
        ActivityKind::Notified,
        ActivityKind::Snoozed,
        ActivityKind::DriftOpened,
        ActivityKind::DriftClosed,
    ];

    /// The kind stored under `s` (its snake_case name).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s.trim())
    }
}

/// A lead as stored, read and typed once (by the store): a status this build knows,
/// times as instants, the address as an address, the form's other fields in its order.
#[derive(Clone, Debug, PartialEq)]
pub struct Lead {
    pub id: i64,
    pub status: LeadStatus,
    pub owner: Option<String>,
    pub accepted: bool,
    pub assigned_at: Option<Timestamp>,
    pub source: String,
    pub form: Option<String>,
    pub name: Option<String>,
    pub email: Option<EmailAddress>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub message: Option<String>,
    pub consent: Option<bool>,
    /// The form's other fields, in its order.
    pub extra: IndexMap<String, String>,
    pub needs_template: bool,
    pub route_rule: Option<String>,
    pub route_reason: String,
    /// What is next, and by when; each may be set without the other.
    pub next_action: Option<String>,
    pub next_action_due: Option<Timestamp>,
    pub created_at: Timestamp,
    pub last_activity_at: Timestamp,
    pub first_reply_at: Option<Timestamp>,
    pub last_inbound_at: Option<Timestamp>,
    pub last_outbound_at: Option<Timestamp>,
    pub snoozed_until: Option<Timestamp>,
    pub previous_lead: Option<i64>,
    /// The first acceptance window missed, while nobody has accepted (see the migration).
    pub unaccepted_since: Option<Timestamp>,
}

impl Lead {
    /// The next action when both its parts are set.
    pub fn next(&self) -> Option<NextAction> {
        match (&self.next_action, self.next_action_due) {
            (Some(what), Some(due)) => Some(NextAction {
                what: what.clone(),
                due,
            }),
            _ => None,
        }
    }

    /// What the drift rules need to know of this lead. `owner_active`: whether the owner
    /// is still in the team.
    pub fn facts(&self, owner_active: bool) -> crate::drift::LeadFacts {
        crate::drift::LeadFacts {
            status: self.status,
            owner: self.owner.clone(),
            owner_active,
            accepted: self.accepted,
            assigned_at: self.assigned_at,
            created_at: self.created_at,
            first_reply_at: self.first_reply_at,
            last_inbound_at: self.last_inbound_at,
            last_outbound_at: self.last_outbound_at,
            next_action: self.next(),
            last_activity_at: self.last_activity_at,
            snoozed_until: self.snoozed_until,
            unaccepted_since: self.unaccepted_since,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LeadStatus::*;
    use super::{ActivityKind, LeadStatus};

    #[test]
    fn the_whole_transition_table() {
        // Rows: from; columns: to, in ALL order
        // (triage new contacted qualified won lost archived opted_out).
        let table = [
            (Triage, "-+----++"),
            (New, "--++++++"),
            (Contacted, "---+++++"),
            (Qualified, "----++++"),
            (Won, "--+---++"),
            (Lost, "--+---++"),
            (Archived, "--+----+"),
            (OptedOut, "------+-"),
        ];
        for (from, row) in table {
            for (to, cell) in LeadStatus::ALL.into_iter().zip(row.chars()) {
                assert_eq!(from.can_become(to), cell == '+', "{from:?} -> {to:?}");
                assert_eq!(from.transition(to).is_ok(), cell == '+');
            }
        }
    }

    #[test]
    fn a_refused_transition_says_what_is_allowed() {
        assert_eq!(
            OptedOut.transition(Contacted),
            Err("an opted_out lead cannot become contacted; it can become archived".into())
        );
        assert_eq!(Won.transition(Won), Err("the lead is already won".into()));
        assert_eq!(New.transition(Contacted), Ok(Contacted));
    }

    #[test]
    fn open_and_closed_partition_the_statuses() {
        for s in LeadStatus::ALL {
            assert_ne!(s.is_open(), s.is_closed(), "{s:?}");
            assert_eq!(LeadStatus::parse(&s.as_str().to_uppercase()), Some(s));
        }
        assert!(New.is_open() && Contacted.is_open() && Qualified.is_open());
        assert!(Triage.is_open(), "an undecided triage item is live");
        assert_eq!(LeadStatus::parse("pending"), None);
    }

    #[test]
    fn activity_kinds_round_trip_their_names() {
        for k in ActivityKind::ALL {
            assert_eq!(ActivityKind::parse(k.as_str()), Some(k));
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.as_str())
            );
        }
    }

    #[test]
    fn open_leads_move_forward_and_closed_ones_stay_closed() {
        assert!(New.can_become(Contacted));
        assert!(Contacted.can_become(Won));
        assert!(!Contacted.can_become(New), "no way back to new");
        assert!(!Won.can_become(Qualified));
        assert!(Lost.can_become(Contacted), "a lost lead that writes back");
        assert!(!OptedOut.can_become(Contacted), "opt-out is final");
        assert!(!New.can_become(New));
    }
}
