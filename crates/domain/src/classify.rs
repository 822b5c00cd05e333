//! What a message is: a form notification (a lead), relay traffic, a logged BCC, a reply,
//! an auto-reply, a bounce, a newsletter, spam, a calendar invite, a person's own inquiry,
//! or other. Notifications make leads; a person's inquiry and a notification that could not
//! be read are triage items (DESIGN.md "Triage": nothing a person wrote stays unowned);
//! every other class is still stored and listable.

mod signals;

use super::extract::{self, triage, Extraction, Template};
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
    /// A person wrote to the inbox directly: no notification markers (a triage item).
    Inquiry,
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
            MessageClass::Inquiry => "inquiry",
            MessageClass::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ALL_CLASSES.iter().copied().find(|c| c.as_str() == s)
    }
}

pub const ALL_CLASSES: [MessageClass; 11] = [
    MessageClass::Notification,
    MessageClass::Reply,
    MessageClass::Relay,
    MessageClass::BccLog,
    MessageClass::AutoReply,
    MessageClass::Bounce,
    MessageClass::Newsletter,
    MessageClass::Spam,
    MessageClass::Calendar,
    MessageClass::Inquiry,
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
    /// `[capture] triage = "off"`: triage items are stored as `other`, as before triage.
    pub triage_off: bool,
}

/// The loop header leadgate puts on everything it sends; mail carrying it is our own.
pub const LOOP_HEADER: &str = "X-Leadgate-Loop";

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Classification {
    pub class: MessageClass,
    /// Why, in a few words, for `leadgate show` and the message listing.
    pub reason: String,
    /// The extracted lead, for notifications; for triage items whatever was found (the
    /// sender as contact, their text; the detected provider as `source`, empty if none).
    #[serde(skip)]
    pub extraction: Option<Extraction>,
    /// A triage item: an inquiry, or a notification that could not be read. A person
    /// decides whether it is a lead.
    #[serde(skip)]
    pub triage: bool,
}

impl Classification {
    fn of(class: MessageClass, reason: impl Into<String>) -> Self {
        Classification {
            class,
            reason: reason.into(),
            extraction: None,
            triage: false,
        }
    }

    fn triage(class: MessageClass, reason: impl Into<String>, e: Extraction) -> Self {
        Classification {
            class,
            reason: reason.into(),
            extraction: Some(e),
            triage: true,
        }
    }

    /// Whether this message makes a lead or a triage item (what capture stores).
    pub fn captures(&self) -> bool {
        self.extraction.is_some() && (self.triage || self.class == MessageClass::Notification)
    }
}

/// Decides what `view` is. Never fails: unreadable mail is `other` with the reason.
pub fn classify(view: &MessageView, ctx: &ClassifyContext) -> Classification {
    let c = classify_inner(view, ctx);
    if c.triage && ctx.triage_off {
        return Classification::of(
            MessageClass::Other,
            format!("{} ([capture] triage = \"off\")", c.reason),
        );
    }
    c
}

fn classify_inner(view: &MessageView, ctx: &ClassifyContext) -> Classification {
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
    let from_team = !from.is_empty() && ctx.team_addresses.contains(&from);
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
            triage: false,
        };
    }
    if signals::is_reply_subject(&view.subject) {
        return Classification::of(MessageClass::Reply, "a reply (Re: subject)");
    }
    if let Some(problem) = view.problems.first() {
        return Classification::of(MessageClass::Other, format!("unreadable: {problem}"));
    }
    unread(view, text, &body, from_team)
}

/// Mail no recogniser read and no rule above placed: provider system mail, machine mail,
/// cold outreach and internal mail are `other` (or spam) with the reason; whatever else a
/// person wrote, and a notification that could not be read, is a triage item.
fn unread(view: &MessageView, text: &str, body: &extract::Body, from_team: bool) -> Classification {
    let provider = triage::provider_of(view, body);
    if let Some(reason) = signals::provider_system_mail(view, text, provider.is_some()) {
        return Classification::of(MessageClass::Other, reason);
    }
    if extract::forwards_bulk(body) {
        return Classification::of(MessageClass::Newsletter, "a forwarded newsletter");
    }
    if from_team {
        // Only a team member's forward of a person's mail gets here (see above).
        return match triage::forwarded_inquiry(body) {
            Some(fields) => Classification::triage(
                MessageClass::Inquiry,
                "a person's mail forwarded by a team member: triage",
                Extraction {
                    fields,
                    ..Default::default()
                },
            ),
            None => Classification::of(
                MessageClass::Other,
                "a team member's forward with no readable sender",
            ),
        };
    }
    let marker = signals::notification_marker(view, text, provider.map(|(s, _)| s)).or_else(|| {
        // a sender we do not know: its content alone says whether it announces a lead
        (provider.is_none() && extract::notification_like(view, body))
            .then(|| "it announces a submission or a lead".to_owned())
    });
    if let Some(marker) = marker {
        let source = provider.map(|(s, _)| s.to_owned()).unwrap_or_default();
        let mut e = Extraction {
            source,
            ..Default::default()
        };
        // The submitter is sometimes in Reply-To even when the body says nothing readable.
        if let Some(rt) = view
            .reply_to
            .iter()
            .find(|m| m.address.contains('@') && !triage::machine_address(&m.address))
        {
            e.fields.email = Some(rt.address.trim().to_lowercase());
            e.fields.name = rt.name.clone();
        }
        return Classification::triage(
            MessageClass::Notification,
            format!("looks like a form notification ({marker}) but could not be read: triage"),
            e,
        );
    }
    if let Some((source, true)) = provider {
        return Classification::of(
            MessageClass::Other,
            format!("mail from {source} that is not a notification (provider system mail)"),
        );
    }
    if let Some(reason) = signals::machine_sender(view) {
        return Classification::of(MessageClass::Other, reason);
    }
    if let Some(reason) = signals::cold_outreach(text) {
        return Classification::of(MessageClass::Spam, reason);
    }
    if let Some(reason) = signals::same_organisation(view) {
        return Classification::of(MessageClass::Other, reason);
    }
    let fields = triage::inquiry_fields(view, text);
    if fields.email.is_none() {
        return Classification::of(MessageClass::Other, "no sender address: nobody to answer");
    }
    if fields.message.is_none() && view.subject.trim().is_empty() && view.attachments.is_empty() {
        return Classification::of(MessageClass::Other, "an empty message");
    }
    Classification::triage(
        MessageClass::Inquiry,
        "a person's own mail (no notification markers): triage",
        Extraction {
            fields,
            ..Default::default()
        },
    )
}

/// A reply (`c`) that no lead claimed (the relay found no thread, tracked address or
/// reference), written by a person outside the team: a triage inquiry, since nothing a
/// person wrote stays unowned. `None` for machine, bulk and internal mail, for mail with
/// no sender address, and with `[capture] triage = "off"`.
pub fn unclaimed_reply(
    view: &MessageView,
    c: &Classification,
    ctx: &ClassifyContext,
) -> Option<Classification> {
    if c.class != MessageClass::Reply || ctx.triage_off {
        return None;
    }
    let from = view.from.as_ref()?.address.to_ascii_lowercase();
    if ctx.team_addresses.contains(&from)
        || bulk_signal(view).is_some()
        || auto_reply_signal(view).is_some()
        || signals::machine_sender(view).is_some()
        || signals::same_organisation(view).is_some()
    {
        return None;
    }
    let fields = triage::inquiry_fields(view, &view.text);
    fields.email.as_ref()?;
    Some(Classification::triage(
        MessageClass::Inquiry,
        "a person's reply in no lead's thread: triage",
        Extraction {
            fields,
            ..Default::default()
        },
    ))
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
mod tests;
