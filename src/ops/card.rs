//! What a lead looks like in mail: the owner's card, the handoff email with status and
//! history, the notice to the previous owner.

use super::actor_name;
use super::orphans::extraction_of;
use crate::config::Settings;
use crate::domain::lead::ActivityKind;
use crate::domain::notify::{self, Draft, LeadCard, Purpose};
use crate::domain::route::Person;
use crate::store::leads::{self, Lead};
use jiff::Timestamp;

/// How many history entries a handoff email carries.
const HISTORY_IN_EMAIL: usize = 12;

/// The owner's view of a stored lead.
pub fn card(s: &Settings, row: &Lead) -> LeadCard {
    LeadCard::new(row.id, &extraction_of(row), s.relay.tracked_address(row.id))
}

/// The lead's full context for a new owner: the assignment email (marker line, every
/// field, `Reply-To` the tracked address) plus status, next action and history.
pub fn handoff_email(
    s: &Settings,
    row: &Lead,
    to: &Person,
    headline: &str,
    reason: &str,
    history: &[leads::Activity],
) -> Draft {
    let card = card(s, row);
    notify::owner_email(
        &crate::templates::environment_or_bundled(s),
        &card,
        &to.email,
        notify::OwnerMail {
            purpose: Purpose::Handoff,
            headline,
            reason,
            due: None,
            context: Some(context_text(s, row, history)),
        },
        &s.sender(),
    )
}

/// Status, next action and the latest history entries, as plain text.
pub fn context_text(s: &Settings, row: &Lead, history: &[leads::Activity]) -> String {
    let tz = &s.team.timezone;
    let mut out = format!("Status:   {}\n", row.status.as_str());
    match (&row.next_action, row.next_action_due) {
        (Some(what), Some(due)) => out.push_str(&format!(
            "Next:     {what}, due {}\n",
            notify::format_time(due, tz)
        )),
        (Some(what), None) => out.push_str(&format!("Next:     {what}\n")),
        _ => out.push_str("Next:     none set (set one: /next tomorrow call back)\n"),
    }
    let skip = history.len().saturating_sub(HISTORY_IN_EMAIL);
    if skip > 0 {
        out.push_str(&format!(
            "History (latest {HISTORY_IN_EMAIL} of {}; `leadgate show {}` has all):\n",
            history.len(),
            row.id
        ));
    } else {
        out.push_str("History:\n");
    }
    for a in &history[skip..] {
        let at =
            a.at.parse::<Timestamp>()
                .map(|t| {
                    t.to_zoned(tz.clone())
                        .strftime("%a %d %b %H:%M")
                        .to_string()
                })
                .unwrap_or_else(|_| a.at.clone());
        let detail = if a.kind == ActivityKind::Note.as_str() {
            format!("(note) {}", a.detail)
        } else {
            a.detail.clone()
        };
        out.push_str(&format!(
            "  {at}  {:<10} {:<16} {}\n",
            a.actor,
            a.kind,
            notify::header_safe(&detail, 160)
        ));
    }
    out
}

pub(super) fn handed_on_notice(
    s: &Settings,
    row: &Lead,
    prev: &Person,
    to: Option<&Person>,
    why: &str,
    actor: &str,
    now: Timestamp,
) -> Draft {
    let card = card(s, row);
    let lead = card.display_name();
    let subject = match to {
        Some(p) => format!("Handed on to {}: {lead} [{}]", p.name, card.reference()),
        None => format!("Orphaned: {lead} [{}]", card.reference()),
    };
    let ctx = minijinja::context! {
        lead_id => row.id,
        lead => lead,
        new_owner => to.map(|p| minijinja::context! { id => p.id, name => p.name }),
        why => why,
        by => actor_name(s, actor),
        at => notify::format_time(now, &s.team.timezone),
        reference => card.reference(),
        team => s.team.name,
    };
    let sender = s.sender();
    let body = notify::body(
        &crate::templates::environment_or_bundled(s),
        "handoff_notice",
        &ctx,
        false,
    );
    Draft {
        auto_submitted: true,
        ..sender.draft(
            Purpose::HandoffNotice,
            vec![prev.email.clone()],
            &subject,
            body,
        )
    }
}
