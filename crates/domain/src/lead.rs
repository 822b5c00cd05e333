//! Lead state: status and its allowed transitions, the next action, history entry kinds,
//! and the lead itself as a typed value, with the rules of the operations on it (accept,
//! hand over, change status, decide a triage item) as pure transitions: each says what
//! the operation does or why it is refused, and `leadgate::ops` carries it out.

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
    /// The desk the lead belongs to (its team, routes and identity).
    pub desk: String,
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

/// The domain said no to an operation on a lead; the message names the lead and says what
/// is allowed instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refusal(pub String);

/// What accepting a lead does, when the domain allows it ([`Lead::accept`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Acceptance {
    /// The owner accepts the lead routed or handed to them.
    Accepts,
    /// The owner had accepted it already: nothing changes.
    AlreadyAccepted,
    /// Someone takes a lead without an owner in the team; `previous` is the owner who
    /// left, if any.
    TakesOrphan { previous: Option<String> },
}

/// What handing a lead on does, when the domain allows it ([`Lead::hand_over`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handover {
    /// The actor took the lead themselves: taking a lead is accepting it, whereas handing
    /// it to someone else is a proposal they must accept.
    pub self_assigned: bool,
}

impl Lead {
    /// The rule of `accept`: `by` (a team member's id) accepts the lead. The owner accepts
    /// their own lead; anyone takes a lead with no owner, or whose owner left the team
    /// (`in_team` says who is in it); nobody accepts another member's lead or a closed one.
    pub fn accept(&self, by: &str, in_team: impl Fn(&str) -> bool) -> Result<Acceptance, Refusal> {
        if self.status.is_closed() {
            return Err(Refusal(format!(
                "lead #{} is {}: there is nothing to accept",
                self.id,
                self.status.as_str()
            )));
        }
        match self.owner.as_deref() {
            Some(o) if o == by && self.accepted => Ok(Acceptance::AlreadyAccepted),
            Some(o) if o == by => Ok(Acceptance::Accepts),
            Some(o) if in_team(o) => Err(Refusal(format!(
                "lead #{} is {o}'s, not {by}'s: only the owner accepts it; to take it over, `assign {} {by}` with a reason",
                self.id, self.id
            ))),
            previous => Ok(Acceptance::TakesOrphan {
                previous: previous.map(str::to_owned),
            }),
        }
    }

    /// The rule of `assign` and `reassign`: `actor` hands the lead to `to` (a team
    /// member's id), or leaves it orphaned (`None`). A closed lead has no owner to hand
    /// on; handing a lead to its owner, or orphaning an orphan, changes nothing and is
    /// refused.
    pub fn hand_over(&self, to: Option<&str>, actor: &str) -> Result<Handover, Refusal> {
        if self.status.is_closed() {
            return Err(Refusal(format!(
                "lead #{} is {}: a closed lead has no owner to hand on; reopen it first (status {} contacted)",
                self.id,
                self.status.as_str(),
                self.id
            )));
        }
        let from = self.owner.as_deref();
        match to {
            Some(to) if from == Some(to) => Err(Refusal(format!(
                "lead #{} is already {to}'s{}",
                self.id,
                if self.accepted {
                    ""
                } else {
                    " (not accepted yet: `accept` takes it)"
                }
            ))),
            None if from.is_none() => {
                Err(Refusal(format!("lead #{} has no owner already", self.id)))
            }
            _ => Ok(Handover {
                self_assigned: to == Some(actor),
            }),
        }
    }

    /// Operations that need a live lead (a next action, a snooze) refuse a closed one;
    /// `to_do` says what was asked.
    pub fn require_open(&self, to_do: &str) -> Result<(), Refusal> {
        if self.status.is_closed() {
            return Err(Refusal(format!(
                "lead #{} is {}: reopen it (status {} contacted) to {to_do}",
                self.id,
                self.status.as_str(),
                self.id
            )));
        }
        Ok(())
    }

    /// The rule of `status`: the new status if [`LeadStatus::transition`] allows it.
    pub fn change_status(&self, to: LeadStatus) -> Result<LeadStatus, Refusal> {
        self.status
            .transition(to)
            .map_err(|why| Refusal(format!("lead #{}: {why}", self.id)))
    }

    /// `/lead` and `/notlead` decide a triage item, and nothing else; `to_do` says what
    /// was asked.
    pub fn require_triage(&self, to_do: &str) -> Result<(), Refusal> {
        if self.status != LeadStatus::Triage {
            return Err(Refusal(format!(
                "lead #{} is not a triage item (it is {}), so there is nothing to {to_do}; use /status to change a lead's status",
                self.id,
                self.status.as_str()
            )));
        }
        Ok(())
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

    mod transitions {
        use super::super::{Acceptance, Handover, Lead, LeadStatus, Refusal};
        use jiff::Timestamp;

        fn lead(status: LeadStatus, owner: Option<&str>, accepted: bool) -> Lead {
            let t: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
            Lead {
                id: 7,
                status,
                owner: owner.map(str::to_owned),
                accepted,
                assigned_at: None,
                source: "contact-form-7".into(),
                form: None,
                name: None,
                email: None,
                phone: None,
                company: None,
                message: None,
                consent: None,
                extra: Default::default(),
                needs_template: false,
                route_rule: None,
                route_reason: String::new(),
                next_action: None,
                next_action_due: None,
                created_at: t,
                last_activity_at: t,
                first_reply_at: None,
                last_inbound_at: None,
                last_outbound_at: None,
                snoozed_until: None,
                previous_lead: None,
                unaccepted_since: None,
                desk: "default".into(),
            }
        }

        fn team(who: &str) -> bool {
            matches!(who, "alice" | "bob")
        }

        #[test]
        fn the_owner_accepts_their_lead_once_and_again_is_a_no_op() {
            let l = lead(LeadStatus::New, Some("alice"), false);
            assert_eq!(l.accept("alice", team), Ok(Acceptance::Accepts));
            let l = lead(LeadStatus::New, Some("alice"), true);
            assert_eq!(l.accept("alice", team), Ok(Acceptance::AlreadyAccepted));
        }

        #[test]
        fn nobody_accepts_another_members_lead() {
            let l = lead(LeadStatus::Contacted, Some("alice"), false);
            assert_eq!(
                l.accept("bob", team),
                Err(Refusal("lead #7 is alice's, not bob's: only the owner accepts it; to take it over, `assign 7 bob` with a reason".into()))
            );
        }

        #[test]
        fn anyone_takes_a_lead_without_an_owner_or_whose_owner_left() {
            let l = lead(LeadStatus::New, None, false);
            assert_eq!(
                l.accept("bob", team),
                Ok(Acceptance::TakesOrphan { previous: None })
            );
            let l = lead(LeadStatus::Triage, Some("dave"), true);
            assert_eq!(
                l.accept("bob", team),
                Ok(Acceptance::TakesOrphan {
                    previous: Some("dave".into())
                })
            );
        }

        #[test]
        fn a_closed_lead_has_nothing_to_accept() {
            let l = lead(LeadStatus::Won, Some("alice"), false);
            assert_eq!(
                l.accept("alice", team),
                Err(Refusal("lead #7 is won: there is nothing to accept".into()))
            );
        }

        #[test]
        fn handing_to_someone_else_is_a_proposal_and_taking_it_yourself_accepts() {
            let l = lead(LeadStatus::New, Some("alice"), true);
            assert_eq!(
                l.hand_over(Some("bob"), "alice"),
                Ok(Handover {
                    self_assigned: false
                })
            );
            assert_eq!(
                l.hand_over(Some("bob"), "bob"),
                Ok(Handover {
                    self_assigned: true
                })
            );
            assert_eq!(
                l.hand_over(None, "leadgate"),
                Ok(Handover {
                    self_assigned: false
                })
            );
        }

        #[test]
        fn handing_a_lead_to_its_owner_or_orphaning_an_orphan_is_refused() {
            let l = lead(LeadStatus::New, Some("alice"), false);
            assert_eq!(
                l.hand_over(Some("alice"), "bob"),
                Err(Refusal(
                    "lead #7 is already alice's (not accepted yet: `accept` takes it)".into()
                ))
            );
            let l = lead(LeadStatus::New, Some("alice"), true);
            assert_eq!(
                l.hand_over(Some("alice"), "bob"),
                Err(Refusal("lead #7 is already alice's".into()))
            );
            let l = lead(LeadStatus::New, None, false);
            assert_eq!(
                l.hand_over(None, "leadgate"),
                Err(Refusal("lead #7 has no owner already".into()))
            );
        }

        #[test]
        fn a_closed_lead_is_not_handed_on() {
            let l = lead(LeadStatus::Lost, Some("alice"), true);
            assert_eq!(
                l.hand_over(Some("bob"), "alice"),
                Err(Refusal("lead #7 is lost: a closed lead has no owner to hand on; reopen it first (status 7 contacted)".into()))
            );
        }

        #[test]
        fn next_actions_and_snoozes_need_a_live_lead() {
            assert_eq!(
                lead(LeadStatus::Contacted, None, false).require_open("snooze it"),
                Ok(())
            );
            assert_eq!(
                lead(LeadStatus::Archived, None, false).require_open("snooze it"),
                Err(Refusal(
                    "lead #7 is archived: reopen it (status 7 contacted) to snooze it".into()
                ))
            );
        }

        #[test]
        fn a_status_change_follows_the_transition_table_and_names_the_lead() {
            let l = lead(LeadStatus::New, None, false);
            assert_eq!(l.change_status(LeadStatus::Won), Ok(LeadStatus::Won));
            assert_eq!(
                l.change_status(LeadStatus::New),
                Err(Refusal("lead #7: the lead is already new".into()))
            );
        }

        #[test]
        fn only_a_triage_item_is_decided() {
            assert_eq!(
                lead(LeadStatus::Triage, None, false).require_triage("decide with /lead"),
                Ok(())
            );
            assert_eq!(
                lead(LeadStatus::New, None, false).require_triage("decide with /lead"),
                Err(Refusal("lead #7 is not a triage item (it is new), so there is nothing to decide with /lead; use /status to change a lead's status".into()))
            );
        }
    }
}
