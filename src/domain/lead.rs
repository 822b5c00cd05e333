//! Lead state: status and its allowed transitions, the next action, history entry kinds.

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
    New,
    Contacted,
    Qualified,
    Won,
    Lost,
    Archived,
    OptedOut,
}

impl LeadStatus {
    pub const ALL: [LeadStatus; 7] = [
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

    /// Live leads need an owner and a next action; closed ones need neither.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            LeadStatus::New | LeadStatus::Contacted | LeadStatus::Qualified
        )
    }

    /// The transitions the domain allows. Closed leads may only be archived or reopened
    /// as contacted (a lost lead that writes back); opted-out is final but for archiving.
    pub fn can_become(self, to: LeadStatus) -> bool {
        use LeadStatus::*;
        if self == to {
            return false;
        }
        match self {
            New => true,
            Contacted => !matches!(to, New),
            Qualified => !matches!(to, New | Contacted),
            Won | Lost => matches!(to, Archived | Contacted | OptedOut),
            Archived => matches!(to, Contacted | OptedOut),
            OptedOut => matches!(to, Archived),
        }
    }
}

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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LeadStatus::*;

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
