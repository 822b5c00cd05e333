//! What a message is: a form notification (a lead), relay traffic, a logged BCC, a reply,
//! an auto-reply, a bounce, a newsletter, spam, a calendar invite, or other.
//! Only notifications make leads; every other class is still stored and listable.

mod signals;

use super::extract::{self, Extraction, Template};
use super::message::MessageView;
use super::token::TrackedAddressFormat;
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageClass {
    Notification,
    Reply,
    Relay,
    BccLog,
    AutoReply,
    Bounce,
    Newsletter,
    Spam,
    Calendar,
    Other,
}

impl MessageClass {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageClass::Notification => "notification",
            MessageClass::Reply => "reply",
            MessageClass::Relay => "relay",
            MessageClass::BccLog => "bcc_log",
            MessageClass::AutoReply => "auto_reply",
            MessageClass::Bounce => "bounce",
            MessageClass::Newsletter => "newsletter",
            MessageClass::Spam => "spam",
            MessageClass::Calendar => "calendar",
            MessageClass::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ALL_CLASSES.iter().copied().find(|c| c.as_str() == s)
    }
}

pub const ALL_CLASSES: [MessageClass; 10] = [
    MessageClass::Notification,
    MessageClass::Reply,
    MessageClass::Relay,
    MessageClass::BccLog,
    MessageClass::AutoReply,
    MessageClass::Bounce,
    MessageClass::Newsletter,
    MessageClass::Spam,
    MessageClass::Calendar,
    MessageClass::Other,
];

/// What classification needs to know about this installation. `Default` is a bare
/// installation with no relay and no team (what `leadgate parse` uses without a config).
#[derive(Clone, Debug, Default)]
pub struct ClassifyContext {
    pub tracked: Option<TrackedAddressFormat>,
    /// The BCC logging address, lowercase.
    pub log_address: Option<String>,
    /// Team members' addresses, lowercase.
    pub team_addresses: Vec<String>,
    /// Domain of the Message-IDs leadgate writes; mail carrying it in `References` is a reply
    /// to one of our threads.
    pub message_id_domain: Option<String>,
    pub templates: Vec<Template>,
    /// Providers whose recognisers are switched off (`leadgate parse --without-provider`):
    /// how the generic path reads their mail.
    pub providers_off: Vec<String>,
}

/// The loop header leadgate puts on everything it sends; mail carrying it is our own.
pub const LOOP_HEADER: &str = "X-Leadgate-Loop";

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Classification {
    pub class: MessageClass,
    /// Why, in a few words, for `leadgate show` and the message listing.
    pub reason: String,
    /// The extracted lead, for notifications.
    #[serde(skip)]
    pub extraction: Option<Extraction>,
}

impl Classification {
    fn of(class: MessageClass, reason: impl Into<String>) -> Self {
        Classification {
            class,
            reason: reason.into(),
            extraction: None,
        }
    }
}

/// Decides what `view` is. Never fails: unreadable mail is `other` with the reason.
pub fn classify(view: &MessageView, ctx: &ClassifyContext) -> Classification {
    if view.header(LOOP_HEADER).is_some() {
        return Classification::of(MessageClass::Other, "leadgate's own mail (loop header)");
    }
    if let Some(reason) = bounce_signal(view) {
        return Classification::of(MessageClass::Bounce, reason);
    }
    if let Some(reason) = auto_reply_signal(view) {
        return Classification::of(MessageClass::AutoReply, reason);
    }
    if let Some(tracked) = &ctx.tracked {
        if view
            .recipient_addresses()
            .iter()
            .any(|a| tracked.token_of(a).is_some())
        {
            return Classification::of(MessageClass::Relay, "sent to a tracked address");
        }
    }
    if let Some(log) = &ctx.log_address {
        if view.recipient_addresses().iter().any(|a| a == log) {
            return Classification::of(MessageClass::BccLog, "sent to the logging address");
        }
    }
    if is_calendar(view) {
        return Classification::of(MessageClass::Calendar, "calendar invitation");
    }
    let from = view
        .from
        .as_ref()
        .map(|m| m.address.to_ascii_lowercase())
        .unwrap_or_default();
    let own_thread = ctx.message_id_domain.as_deref().is_some_and(|d| {
        view.in_reply_to
            .iter()
            .chain(view.references.iter())
            .any(|id| id.to_ascii_lowercase().ends_with(&d.to_ascii_lowercase()))
    });
    let body = extract::Body::of(view);
    if !from.is_empty() && ctx.team_addresses.contains(&from) && view.attached_messages.is_empty() {
        // A team member's own mail is a reply in one of our threads (the relay finds the
        // lead by its evidence), a forward (handled below), or internal.
        if own_thread || view.subject.contains("[LG-") {
            return Classification::of(
                MessageClass::Reply,
                "a team member's reply in one of leadgate's threads",
            );
        }
        if !signals::looks_forwarded(&view.subject, &body.plain) {
            return Classification::of(MessageClass::Other, "internal mail from a team member");
        }
    }
    // Mail without a text part is read in the rendering the extractors use (the text
    // converted by the parser is only made when something else asks for it).
    let text = if view.has_text_part {
        &view.text
    } else {
        body.plain.as_str()
    };
    if let Some(reason) = signals::system_mail(view, text) {
        return Classification::of(MessageClass::Other, reason);
    }
    let found = extract::find(view, &body, &ctx.templates, &ctx.providers_off);
    let strong = found
        .as_ref()
        .is_some_and(|f| f.hosted || f.templated || f.forwarded);
    if own_thread {
        return Classification::of(MessageClass::Reply, "a reply in one of leadgate's threads");
    }
    let list = view.header("List-Id").is_some() || view.header("List-Unsubscribe").is_some();
    if let Some(reason) = bulk_signal(view) {
        // Providers and their mail services mark notifications as bulk or auto-generated
        // and add List-Unsubscribe; a real list (List-Id) only counts as a notification
        // when the sender is a known form service.
        let listed = view.header("List-Id").is_some();
        let notification = found.as_ref().is_some_and(|_| strong || !listed);
        if !notification {
            let class = if list {
                MessageClass::Newsletter
            } else {
                MessageClass::AutoReply
            };
            return Classification::of(class, reason);
        }
    }
    let threaded = !view.in_reply_to.is_empty() || !view.references.is_empty();
    if threaded && !strong && (found.is_none() || signals::is_reply_subject(&view.subject)) {
        return Classification::of(MessageClass::Reply, "a reply in a thread (In-Reply-To)");
    }
    if let Some(reason) = signals::confirmation_to_submitter(view) {
        return Classification::of(MessageClass::AutoReply, reason);
    }
    if let Some(f) = found {
        if signals::addressed_to_submitter(view, &f.extraction) {
            return Classification::of(
                MessageClass::AutoReply,
                "a copy addressed to the submitter (confirmation)",
            );
        }
        if let Some(reason) = signals::spam(&f.extraction) {
            return Classification::of(MessageClass::Spam, reason);
        }
        let e = f.extraction;
        let mut reason = format!("form notification from {}", e.source);
        if f.forwarded {
            reason.push_str(" (forwarded)");
        }
        if e.needs_template() {
            reason.push_str("; no email or phone found: needs a template");
        }
        return Classification {
            class: MessageClass::Notification,
            reason,
            extraction: Some(e),
        };
    }
    if signals::is_reply_subject(&view.subject) {
        return Classification::of(MessageClass::Reply, "a reply (Re: subject)");
    }
    if let Some(problem) = view.problems.first() {
        return Classification::of(MessageClass::Other, format!("unreadable: {problem}"));
    }
    Classification::of(MessageClass::Other, "no form fields found")
}

fn is_calendar(view: &MessageView) -> bool {
    signals::calendar_subject(&view.subject)
        || view.content_type == "text/calendar"
        || view.attachments.iter().any(|a| {
            a.content_type == "text/calendar"
                || a.content_type == "application/ics"
                || a.filename
                    .as_deref()
                    .is_some_and(|f| f.to_ascii_lowercase().ends_with(".ics"))
        })
}

fn bounce_signal(view: &MessageView) -> Option<String> {
    if view.content_type == "multipart/report" {
        return Some("multipart/report (delivery status notification)".into());
    }
    if view.return_path.as_deref() == Some("") {
        return Some("null return path".into());
    }
    if signals::bounce_subject(&view.subject) {
        return Some("delivery failure subject".into());
    }
    let from = view.from.as_ref().map(|m| m.address.to_ascii_lowercase())?;
    let local = from.split('@').next().unwrap_or("");
    (local == "mailer-daemon" || local == "postmaster").then(|| format!("sent by {local}"))
}

/// Signals that always mean an automatic answer, whatever the body looks like.
fn auto_reply_signal(view: &MessageView) -> Option<String> {
    if let Some(v) = view.header("Auto-Submitted") {
        let v = v.trim().to_ascii_lowercase();
        if v.starts_with("auto-replied") {
            return Some(format!("Auto-Submitted: {v}"));
        }
    }
    for h in ["X-Autoreply", "X-Autorespond", "X-Autorespond-Id"] {
        if view.header(h).is_some() {
            return Some(format!("{h} header"));
        }
    }
    if view
        .header("Precedence")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("auto_reply"))
    {
        return Some("Precedence: auto_reply".into());
    }
    if let Some(reason) = signals::out_of_office(view) {
        return Some(reason);
    }
    None
}

/// Signals of machine or bulk mail that a recognised notification may still carry.
fn bulk_signal(view: &MessageView) -> Option<String> {
    if let Some(v) = view.header("Auto-Submitted") {
        if !v.trim().eq_ignore_ascii_case("no") {
            return Some(format!("Auto-Submitted: {}", v.trim()));
        }
    }
    if let Some(v) = view.header("Precedence") {
        let v = v.trim().to_ascii_lowercase();
        if ["bulk", "junk", "list"].contains(&v.as_str()) {
            return Some(format!("Precedence: {v}"));
        }
    }
    if view.header("List-Id").is_some() {
        return Some("List-Id header (mailing list)".into());
    }
    if view.header("List-Unsubscribe").is_some() {
        return Some("List-Unsubscribe header (newsletter)".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::message::Mailbox;

    fn mail(subject: &str, headers: &[(&str, &str)], text: &str) -> MessageView {
        MessageView {
            subject: subject.into(),
            from: Some(Mailbox::new(Some("Someone"), "someone@example.net")),
            to: vec![Mailbox::new(None, "leads@example.com")],
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            text: text.into(),
            has_text_part: true,
            content_type: "text/plain".into(),
            ..Default::default()
        }
    }

    const FORM: &str = "Name: Ann Lee\nEmail: ann@example.org\nPhone: 555 0100 111\nMessage: hi\n";

    fn class(v: &MessageView) -> MessageClass {
        classify(v, &ClassifyContext::default()).class
    }

    #[test]
    fn a_team_members_mail_in_our_threads_is_a_reply_and_other_internal_mail_is_other() {
        let ctx = ClassifyContext {
            team_addresses: vec!["alice@team.test".into()],
            message_id_domain: Some("leads.test".into()),
            ..Default::default()
        };
        let mut v = mail("Re: the quote", &[], "Thanks, sending it today.");
        v.from = Some(Mailbox::new(Some("Alice"), "alice@team.test"));
        assert_eq!(classify(&v, &ctx).class, MessageClass::Other, "internal");
        v.in_reply_to = vec!["lg.0123abcd@leads.test".into()];
        assert_eq!(
            classify(&v, &ctx).class,
            MessageClass::Reply,
            "our Message-ID"
        );
        v.in_reply_to.clear();
        v.subject = "Re: New lead: Jane Doe [LG-12]".into();
        assert_eq!(
            classify(&v, &ctx).class,
            MessageClass::Reply,
            "our subject tag"
        );
    }

    #[test]
    fn out_of_office_in_several_languages() {
        for s in [
            "Out of Office: Re: quote",
            "Abwesenheitsnotiz: Ihre Anfrage",
            "Réponse automatique : devis",
            "Respuesta automática: presupuesto",
            "Automatisch antwoord: offerte",
            "Risposta automatica: preventivo",
            "Automatisk svar: tilbud",
            "Absent du bureau jusqu'au 3",
        ] {
            assert_eq!(class(&mail(s, &[], FORM)), MessageClass::AutoReply, "{s}");
        }
        let lead = mail("New Entry: Dog sitting while on vacation", &[], FORM);
        assert_eq!(class(&lead), MessageClass::Notification);
    }

    #[test]
    fn header_signals() {
        let v = mail("x", &[("Auto-Submitted", "auto-replied")], FORM);
        assert_eq!(class(&v), MessageClass::AutoReply);
        let v = mail("x", &[("X-Autorespond", "yes")], FORM);
        assert_eq!(class(&v), MessageClass::AutoReply);
        let v = mail("Hello", &[("Precedence", "bulk")], "Some news for you.");
        assert_eq!(class(&v), MessageClass::AutoReply);
        let v = mail("Hello", &[("List-Id", "<news.example.net>")], FORM);
        assert_eq!(class(&v), MessageClass::Newsletter);
        let v = mail("x", &[(LOOP_HEADER, "1")], FORM);
        assert_eq!(class(&v), MessageClass::Other);
        let mut v = mail("x", &[], FORM);
        v.return_path = Some(String::new());
        assert_eq!(class(&v), MessageClass::Bounce);
        let v = mail("Undeliverable: quote", &[], FORM);
        assert_eq!(class(&v), MessageClass::Bounce);
    }

    #[test]
    fn context_addresses() {
        let mut ctx = ClassifyContext {
            log_address: Some("log@leads.example.com".into()),
            team_addresses: vec!["someone@example.net".into()],
            ..Default::default()
        };
        let mut v = mail("Re: your quote", &[], "Hi Ann, see attached.");
        v.cc.push(Mailbox::new(None, "log@leads.example.com"));
        assert_eq!(classify(&v, &ctx).class, MessageClass::BccLog);
        ctx.log_address = None;
        let v = mail("Callback", &[], FORM);
        assert_eq!(classify(&v, &ctx).class, MessageClass::Other);
    }

    #[test]
    fn notifications_without_contact_need_a_template() {
        let v = mail("New lead", &[], "Name: Ann Lee\nService: Roof\n");
        assert_eq!(class(&v), MessageClass::Other);
        let mut v = mail(
            "New submission",
            &[],
            "Name: Ann\nWhat do you need: a roof\n",
        );
        v.from = Some(Mailbox::new(Some("Webflow"), "no-reply@webflow.com"));
        let c = classify(&v, &ClassifyContext::default());
        assert_eq!(c.class, MessageClass::Notification);
        assert!(c.extraction.is_some_and(|e| e.needs_template()));
    }
}
