//! The relay's emails as [`Draft`]s, pure: a team member's words to the lead, the lead's
//! (or a stranger's) words to the owner, and notices back to a team member. Recipients
//! come only from the lead and the policy (the team), never from the message.

use super::{signals, FromName, Lead, Policy, TO_LEAD};
use crate::notify::{format_time, header_safe, Attachment, Draft};
use crate::route::Person;
use crate::trim::marker_line;

/// How a lead is called in subjects and sentences.
pub fn lead_name(lead: &Lead) -> String {
    lead.name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .or_else(|| lead.email.clone())
        .unwrap_or_else(|| format!("lead #{}", lead.id))
}

/// The lead's conversation as threading headers: (In-Reply-To, References).
fn threading(thread: &[(String, String)]) -> (Option<String>, Vec<String>) {
    let ids: Vec<String> = thread.iter().map(|(id, _)| id.clone()).collect();
    let refs = ids[ids.len().saturating_sub(20)..].to_vec();
    (ids.last().cloned(), refs)
}

/// The subject the lead sees: the member's subject without our tag, unless it is (a reply
/// to) one of leadgate's internal subjects, which the lead must not see; then the lead's
/// own thread subject, or a neutral one.
pub fn subject_for_lead(
    member_subject: &str,
    internal: &[String],
    lead_thread: &[(String, String)],
    team: &str,
) -> String {
    let base = signals::base_subject(member_subject);
    let is_internal = base.is_empty()
        || internal
            .iter()
            .any(|i| signals::base_subject(i).eq_ignore_ascii_case(&base));
    if !is_internal {
        return header_safe(&signals::strip_tags(member_subject), 200);
    }
    match lead_thread
        .iter()
        .rev()
        .map(|(_, s)| signals::base_subject(s))
        .find(|s| !s.is_empty())
    {
        Some(s) => header_safe(&format!("Re: {s}"), 200),
        None => header_safe(&format!("Your enquiry to {team}"), 200),
    }
}

pub struct ToLead<'a> {
    pub lead: &'a Lead,
    pub lead_email: &'a str,
    pub member: &'a Person,
    pub tracked: &'a str,
    pub token: &'a str,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    pub thread: &'a [(String, String)],
    pub attachments: Vec<Attachment>,
}

/// A team member's trimmed words to the lead, from the tracked address, threaded, with
/// `List-Unsubscribe`.
pub fn to_lead(s: &Policy<'_>, m: ToLead<'_>) -> Draft {
    let (in_reply_to, references) = threading(m.thread);
    let from_name = match s.from_name {
        FromName::Member => m.member.name.clone(),
        FromName::Team => s.team_name.to_owned(),
    };
    let mailto = format!("<mailto:{}?subject=unsubscribe>", m.tracked);
    let https = s
        .public_url
        .map(|u| format!("<{}/unsubscribe/{}>", u.trim_end_matches('/'), m.token));
    let list_unsubscribe = match &https {
        Some(h) => format!("{mailto}, {h}"),
        None => mailto,
    };
    Draft {
        from_name: Some(from_name),
        from: m.tracked.to_owned(),
        to: vec![m.lead_email.to_owned()],
        reply_to: Some(m.tracked.to_owned()),
        subject: m.subject,
        text: m.text,
        html: m.html,
        in_reply_to,
        references,
        auto_submitted: false,
        purpose: TO_LEAD.to_owned(),
        list_unsubscribe: Some(list_unsubscribe),
        list_unsubscribe_post: https.as_deref().is_some_and(|h| h.starts_with("<https://")),
        attachments: m.attachments,
        inline: Vec::new(),
    }
}

/// The lead's state in one short block, under the relayed words (below the marker, so a
/// reply never carries it back out).
pub fn state_footer(s: &Policy<'_>, lead: &Lead) -> String {
    let owner = lead
        .owner
        .as_deref()
        .map(|o| s.person(o).map_or(o.to_owned(), |p| p.name.clone()))
        .unwrap_or_else(|| "nobody (orphaned)".into());
    let next = match (&lead.next_action, lead.next_action_due) {
        (Some(w), Some(d)) => format!("{w}, due {}", format_time(d, s.timezone)),
        _ => "none set".into(),
    };
    format!(
        "--\nLead #{id} (LG-{id}) {name} · status {status} · owner {owner}{acc} · next action: {next}\n\
         Quick actions at the top of your reply: /next tomorrow call back   /note text   /status won   /done",
        id = lead.id,
        name = lead_name(lead),
        status = lead.status,
        acc = if lead.accepted { "" } else { " (not accepted)" },
    )
}

pub struct ToOwner<'a> {
    pub lead: &'a Lead,
    pub owner_email: &'a str,
    pub tracked: &'a str,
    /// Display name before `<tracked>`: `Jane Doe via leadgate`.
    pub from_name: String,
    /// Lines above the relayed words (an unknown-sender flag, an opt-out).
    pub banner: Option<String>,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: Option<&'a str>,
    pub thread: &'a [(String, String)],
    pub purpose: &'a str,
    pub attachments: Vec<Attachment>,
}

/// Someone's words relayed to the owner: marker on top, `[LG-n]` in the subject,
/// `Reply-To` the tracked address.
pub fn to_owner(s: &Policy<'_>, o: ToOwner<'_>) -> Draft {
    let (in_reply_to, references) = threading(o.thread);
    let name = lead_name(o.lead);
    let marker = marker_line(&name);
    let banner = o
        .banner
        .as_deref()
        .map(|b| format!("{b}\n\n"))
        .unwrap_or_default();
    let text = format!(
        "{marker}\n\n{banner}{}\n\n{}\n",
        o.text.trim_end(),
        state_footer(s, o.lead)
    );
    let html = o.html.map(|h| {
        let top = format!(
            "<p style=\"color:#888\">{}</p>{}",
            escape(&marker),
            o.banner
                .as_deref()
                .map(|b| format!("<p><b>{}</b></p>", escape(b)))
                .unwrap_or_default()
        );
        insert_after_body(h, &top)
    });
    let tag = format!("[LG-{}]", o.lead.id);
    let base = signals::strip_tags(o.subject);
    let subject = if base.is_empty() {
        format!("Message from {name} {tag}")
    } else {
        format!("{base} {tag}")
    };
    Draft {
        from_name: Some(o.from_name),
        from: o.tracked.to_owned(),
        to: vec![o.owner_email.to_owned()],
        reply_to: Some(o.tracked.to_owned()),
        subject: header_safe(&subject, 200),
        text,
        html,
        in_reply_to,
        references,
        purpose: o.purpose.to_owned(),
        attachments: o.attachments,
        ..Default::default()
    }
}

/// A notice from leadgate to a team member (a refused action, a refused relay, a bounce).
/// Marked auto-generated, and it has no tracked `Reply-To`: answering it relays nothing.
pub fn notice(
    s: &Policy<'_>,
    lead: Option<&Lead>,
    to: &str,
    subject: &str,
    text: String,
    purpose: &str,
) -> Draft {
    let subject = match lead {
        Some(l) => format!("{} [LG-{}]", signals::strip_tags(subject), l.id),
        None => subject.to_owned(),
    };
    Draft {
        from_name: Some(format!("{} leads", s.team_name)),
        from: s.from.to_owned(),
        to: vec![to.to_owned()],
        subject: header_safe(&subject, 200),
        text,
        auto_submitted: true,
        purpose: purpose.to_owned(),
        ..Default::default()
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn insert_after_body(html: &str, top: &str) -> String {
    let lower = html.to_ascii_lowercase();
    match lower
        .find("<body")
        .and_then(|i| lower[i..].find('>').map(|j| i + j + 1))
    {
        Some(at) => format!("{}{top}{}", &html[..at], &html[at..]),
        None => format!("{top}{html}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_subjects_never_reach_the_lead() {
        let internal = vec!["New lead: Jane Doe (webflow / Pricing) [LG-3]".to_string()];
        assert_eq!(
            subject_for_lead(
                "Re: New lead: Jane Doe (webflow / Pricing) [LG-3]",
                &internal,
                &[],
                "Acme"
            ),
            "Your enquiry to Acme"
        );
        let thread = vec![("a@x".to_string(), "Roof quote".to_string())];
        assert_eq!(
            subject_for_lead(
                "RE: New lead: Jane Doe (webflow / Pricing)",
                &internal,
                &thread,
                "Acme"
            ),
            "Re: Roof quote"
        );
        assert_eq!(
            subject_for_lead("Your quote [LG-3]", &internal, &thread, "Acme"),
            "Your quote"
        );
    }

    #[test]
    fn body_tag_goes_after_the_body_element() {
        assert_eq!(
            insert_after_body("<html><BODY class=x><p>hi</p></body></html>", "<p>M</p>"),
            "<html><BODY class=x><p>M</p><p>hi</p></body></html>"
        );
        assert_eq!(
            insert_after_body("<p>hi</p>", "<p>M</p>"),
            "<p>M</p><p>hi</p>"
        );
    }
}
