//! The relay's emails as [`Draft`]s, pure: a team member's words to the lead, the lead's
//! (or a stranger's) words to the owner, and notices back to a team member. Recipients
//! come only from the lead and the policy (the team), never from the message.

use super::{signals, FromName, Lead, Policy};
use crate::notify::{body, format_time, header_safe, Attachment, Body, Draft, Purpose};
use crate::route::Person;
use crate::trim::marker_line;
use minijinja::context;

/// How a lead is called in subjects and sentences ([`crate::notify::lead_name`]).
pub fn lead_name(lead: &Lead) -> String {
    crate::notify::lead_name(lead.id, lead.name.as_deref(), lead.email.as_deref(), None)
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
        FromName::Team => s.sender.team.to_owned(),
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
        purpose: Purpose::RelayToLead,
        list_unsubscribe: Some(list_unsubscribe),
        list_unsubscribe_post: https.as_deref().is_some_and(|h| h.starts_with("<https://")),
        attachments: m.attachments,
        inline: Vec::new(),
    }
}

/// The lead's state, for the short block under the relayed words (below the marker, so a
/// reply never carries it back out): `relayed.txt`'s variables.
fn state(s: &Policy<'_>, lead: &Lead) -> minijinja::Value {
    let owner = lead
        .owner
        .as_deref()
        .map(|o| s.person(o).map_or(o.to_owned(), |p| p.name.clone()))
        .unwrap_or_else(|| "nobody (orphaned)".into());
    let next = match (&lead.next_action, lead.next_action_due) {
        (Some(w), Some(d)) => format!("{w}, due {}", format_time(d, s.sender.timezone)),
        _ => "none set".into(),
    };
    context! {
        lead_id => lead.id,
        reference => format!("LG-{}", lead.id),
        name => lead_name(lead),
        status => lead.status,
        owner => owner,
        accepted => lead.accepted,
        next_action => next,
    }
}

/// What leadgate says above words relayed to the owner; `relayed.txt` and `relayed.html`
/// show it as `banner` (`banner.kind` is `opted_out` or `unknown_sender`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Banner {
    /// The lead asked to stop: `what` they did, the address now opted out.
    OptedOut { what: String, email: String },
    /// Neither the lead nor the team wrote; `claimed`: a team address that failed
    /// authentication.
    UnknownSender { who: String, claimed: bool },
}

pub struct ToOwner<'a> {
    pub lead: &'a Lead,
    pub owner_email: &'a str,
    pub tracked: &'a str,
    /// Display name before `<tracked>`: `Jane Doe via leadgate`.
    pub from_name: String,
    /// What leadgate says above the relayed words.
    pub banner: Option<Banner>,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: Option<&'a str>,
    pub thread: &'a [(String, String)],
    pub purpose: Purpose,
    pub attachments: Vec<Attachment>,
}

/// Someone's words relayed to the owner: marker on top, `[LG-n]` in the subject,
/// `Reply-To` the tracked address.
pub fn to_owner(s: &Policy<'_>, o: ToOwner<'_>) -> Draft {
    let (in_reply_to, references) = threading(o.thread);
    let name = lead_name(o.lead);
    let marker = marker_line(&name);
    let ctx = context! {
        marker => marker,
        banner => o.banner,
        text => o.text.trim_end(),
        ..state(s, o.lead)
    };
    // The relayed HTML is the writer's own document: leadgate's part (marker, banner),
    // rendered from `relayed.html`, goes at the top of its body.
    let Body { text, html: top } = body(s.templates, "relayed", &ctx, o.html.is_some());
    let html = o.html.zip(top).map(|(h, top)| insert_after_body(h, &top));
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
        purpose: o.purpose,
        attachments: o.attachments,
        ..Default::default()
    }
}

/// A notice from leadgate to a team member (a refused action, a refused relay, a bounce),
/// written from the template named after its purpose (`action_error.txt`, ...) with
/// `ctx`. Marked auto-generated, and it has no tracked `Reply-To`: answering it relays
/// nothing.
pub fn notice(
    s: &Policy<'_>,
    lead: Option<&Lead>,
    to: &str,
    subject: &str,
    purpose: Purpose,
    ctx: minijinja::Value,
) -> Draft {
    let subject = match lead {
        Some(l) => format!("{} [LG-{}]", signals::strip_tags(subject), l.id),
        None => subject.to_owned(),
    };
    Draft {
        auto_submitted: true,
        ..s.sender.draft(
            purpose,
            vec![to.to_owned()],
            &subject,
            body(s.templates, purpose.as_str(), &ctx, false),
        )
    }
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

    /// The relay's own words come from templates now; they read as the `format!`s did.
    #[test]
    fn templated_relay_words_read_as_before() {
        use crate::actions::ACTIONS_HELP;
        let env = crate::notify::bundled();
        let text = |name: &str, ctx: minijinja::Value| body(env, name, &ctx, false).text;
        assert_eq!(
            text("action_error", context! { line => "/nxt 2d", problem => "no such person", actions_help => ACTIONS_HELP }),
            format!("leadgate did not act on your mail, and did not relay it: \"/nxt 2d\" could not be done: no such person.\n\n{ACTIONS_HELP}\n")
        );
        let old = |detail: &str| {
            let mut out = format!(
                "leadgate did not act on your mail, and did not relay it: line {} (\"{}\") {}.\n\n{}\n",
                3, "/next someday", "needs a deadline", ACTIONS_HELP
            );
            if !detail.is_empty() {
                out.push('\n');
                out.push_str(detail);
                out.push('\n');
            }
            out
        };
        for detail in ["", crate::when::WHEN_HELP] {
            assert_eq!(
                text(
                    "action_error",
                    context! { line_number => 3, line => "/next someday", problem => "needs a deadline", detail => detail, actions_help => ACTIONS_HELP }
                ),
                old(detail)
            );
        }
        assert_eq!(
            text("relay_refused", context! { name => "Jane Doe", why => "the lead has no email address.", lead_id => 4 }),
            "leadgate did not relay your mail to Jane Doe: the lead has no email address.\n\nNothing of it was sent to Jane Doe; any quick actions at its top were done. Your mail is kept in lead #4's history.\n"
        );
        assert_eq!(
            text("bounce_notice", context! { name => "Jane Doe", to => "jane@example.net", why => "550 no such user", lead_id => 4 }),
            "Your mail to Jane Doe <jane@example.net>, relayed by leadgate, could not be delivered:\n\n  550 no such user\n\nThe address may be wrong or no longer in use. The bounce is kept in lead #4's history.\n"
        );
        let relayed = |banner: Option<Banner>, accepted: bool, html: bool| {
            let b = body(
                env,
                "relayed",
                &context! {
                    marker => "MARK <x>", banner => banner, text => "Hello\nthere",
                    lead_id => 4, reference => "LG-4", name => "Jane Doe", status => "new",
                    owner => "Alice Smith", accepted => accepted, next_action => "none set",
                },
                html,
            );
            if html {
                b.html.unwrap()
            } else {
                b.text
            }
        };
        let footer = |acc: &str| {
            format!("--\nLead #4 (LG-4) Jane Doe · status new · owner Alice Smith{acc} · next action: none set\nQuick actions at the top of your reply: /next tomorrow call back   /note text   /status won   /done")
        };
        let opted = || Banner::OptedOut {
            what: "unsubscribed".into(),
            email: "jane@example.net".into(),
        };
        let stranger = |claimed| Banner::UnknownSender {
            who: "eve@evil.test".into(),
            claimed,
        };
        let (name, who) = ("Jane Doe", "eve@evil.test");
        let old_opted = format!("{name} unsubscribed. leadgate recorded the opt-out: nothing more will be relayed to jane@example.net.");
        let old_stranger = |claim: &str| {
            format!("[!] From an unknown sender: {who} is neither {name} nor a team member.{claim} leadgate did not relay it to {name} and did not answer the sender. Replying to this email writes to {name}, not to this sender.")
        };
        let claim =
            " It claims a team member's address, but its Authentication-Results do not confirm it.";
        for (banner, old) in [
            (opted(), old_opted.clone()),
            (stranger(false), old_stranger("")),
            (stranger(true), old_stranger(claim)),
        ] {
            assert_eq!(
                relayed(Some(banner.clone()), false, false),
                format!(
                    "MARK <x>\n\n{old}\n\nHello\nthere\n\n{}\n",
                    footer(" (not accepted)")
                )
            );
            assert_eq!(
                relayed(Some(banner), false, true),
                format!(
                    "<p style=\"color:#888\">MARK &lt;x&gt;</p><p><b>{}</b></p>",
                    // As the hand-written escaping had it (no `'` in names here).
                    old.replace('&', "&amp;")
                        .replace('<', "&lt;")
                        .replace('>', "&gt;")
                )
            );
        }
        assert_eq!(
            relayed(None, true, false),
            format!("MARK <x>\n\nHello\nthere\n\n{}\n", footer(""))
        );
        assert_eq!(
            relayed(None, true, true),
            "<p style=\"color:#888\">MARK &lt;x&gt;</p>"
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
