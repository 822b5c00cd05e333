//! What a lead looks like in mail: the owner's card, the handoff email with status and
//! history, the notice to the previous owner.

use super::actor_name;
use crate::config::Settings;
use crate::domain::lead::ActivityKind;
use crate::domain::notify::{self, Draft, LeadCard, Sender};
use crate::domain::route::Person;
use crate::store::leads::{self, Lead};
use jiff::Timestamp;

/// How many history entries a handoff email carries.
const HISTORY_IN_EMAIL: usize = 12;

/// The owner's view of a stored lead.
pub fn card(s: &Settings, row: &Lead) -> LeadCard {
    LeadCard {
        id: row.id,
        name: row.name.clone(),
        email: row.email.as_ref().map(|e| e.to_string()),
        phone: row.phone.clone(),
        company: row.company.clone(),
        message: row.message.clone(),
        consent: row.consent,
        extra: row.extra.clone(),
        source: row.source.clone(),
        form: row.form.clone(),
        tracked_address: s.relay.tracked_address(row.id),
    }
}

fn sender(s: &Settings) -> Sender<'_> {
    Sender {
        from: s.from.as_str(),
        team: &s.team.name,
        timezone: &s.team.timezone,
    }
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
    let mut d = notify::owner_email(
        &card,
        &to.email,
        headline,
        reason,
        None,
        &sender(s),
        "handoff",
    );
    let context = context_text(s, row, history);
    d.text = match d.text.rfind("\n--\n") {
        Some(i) => format!("{}\n{context}{}", &d.text[..i], &d.text[i..]),
        None => format!("{}\n\n{context}", d.text),
    };
    d.html = d.html.map(|h| {
        let block = format!(
            "<h3>Status and history</h3>\n<pre>{}</pre>\n",
            html_escape(&context)
        );
        match h.rfind("</body>") {
            Some(i) => format!("{}{block}{}", &h[..i], &h[i..]),
            None => format!("{h}{block}"),
        }
    });
    d
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
    let (subject, line) = match to {
        Some(p) => (
            format!("Handed on to {}: {lead} [{}]", p.name, card.reference()),
            format!("Lead #{} ({lead}) is now {}'s ({}).", row.id, p.id, p.name),
        ),
        None => (
            format!("Orphaned: {lead} [{}]", card.reference()),
            format!(
                "Lead #{} ({lead}) no longer has an owner; it is listed as orphaned.",
                row.id
            ),
        ),
    };
    let text = format!(
        "{line}\nWhy: {why}\nBy: {} at {}\n\nYou are no longer its owner: there is nothing more for you to do on it.\nLead #{} ({}) at {}.\n",
        actor_name(s, actor),
        notify::format_time(now, &s.team.timezone),
        row.id,
        card.reference(),
        s.team.name,
    );
    Draft {
        from_name: Some(format!("{} leads", s.team.name)),
        from: s.from.as_str().to_owned(),
        to: vec![prev.email.clone()],
        subject: notify::header_safe(&subject, 200),
        text,
        auto_submitted: true,
        purpose: "handoff_notice".into(),
        ..Default::default()
    }
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
