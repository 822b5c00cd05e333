//! The emails leadgate writes, as plain data ([`Draft`]); rendering to MIME happens in
//! the outbox. Everything here is pure: the caller passes the lead, the settings, `now`.
//!
//! One way to write an email: each has a [`Purpose`] (the string the outbox stores and the
//! loop header carries), its words come from a template in [`BUNDLED`] (or the owner's
//! file of that name, loaded by the caller), and leadgate's own mail is made by
//! [`Sender::draft`] (one sender, made from the settings). Only the relay's mail to a
//! lead carries someone else's words instead.

use crate::extract::Extraction;
use indexmap::IndexMap;
use jiff::tz::TimeZone;
use jiff::Timestamp;
use minijinja::{context, Environment};
use serde::{Deserialize, Serialize};

/// The first line of every email to an owner about a lead: where a reply goes.
pub const REPLY_MARKER_PREFIX: &str = "##- Reply above this line";

pub fn reply_marker(lead_name: &str) -> String {
    format!("{REPLY_MARKER_PREFIX}: your reply goes to {lead_name} through leadgate -##")
}

/// What an email is. Its string ([`Purpose::as_str`]) is stored in the outbox and sent in
/// the `X-Leadgate-Loop` header: operators and tests rely on these exact strings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// A new lead, to its owner.
    #[default]
    Assignment,
    /// The same person submitted again while their lead is open.
    Resubmission,
    /// A triage item, to its owner.
    Triage,
    /// A lead handed to a new owner, with its status and history.
    Handoff,
    /// To the previous owner: the lead is no longer theirs.
    HandoffNotice,
    Reminder,
    Escalation,
    Digest,
    Review,
    /// A team member's words relayed to the lead: the only mail a lead ever receives.
    RelayToLead,
    /// The lead's words relayed to the owner.
    RelayToOwner,
    /// A stranger's mail to a tracked address, shown to the owner.
    UnknownSender,
    /// A quick action that could not be done.
    ActionError,
    /// A team member's mail that was not relayed to the lead.
    RelayRefused,
    /// A relayed mail to the lead bounced.
    BounceNotice,
    /// A magic link to log in to the board, to the team member who asked for it.
    BoardLogin,
    /// The daily digest across desks, to `[operator] to`.
    OperatorDigest,
}

impl Purpose {
    pub const fn as_str(self) -> &'static str {
        match self {
            Purpose::Assignment => "assignment",
            Purpose::Resubmission => "resubmission",
            Purpose::Triage => "triage",
            Purpose::Handoff => "handoff",
            Purpose::HandoffNotice => "handoff_notice",
            Purpose::Reminder => "reminder",
            Purpose::Escalation => "escalation",
            Purpose::Digest => "digest",
            Purpose::Review => "review",
            Purpose::RelayToLead => "relay_to_lead",
            Purpose::RelayToOwner => "relay_to_owner",
            Purpose::UnknownSender => "unknown_sender",
            Purpose::ActionError => "action_error",
            Purpose::RelayRefused => "relay_refused",
            Purpose::BounceNotice => "bounce_notice",
            Purpose::BoardLogin => "board_login",
            Purpose::OperatorDigest => "operator_digest",
        }
    }
}

impl std::fmt::Display for Purpose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for Purpose {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Purpose {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// An email leadgate decided to send. Addresses here are already validated.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub from_name: Option<String>,
    pub from: String,
    pub to: Vec<String>,
    pub reply_to: Option<String>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// `Auto-Submitted: auto-generated` on reminders and digests (RFC 3834).
    pub auto_submitted: bool,
    /// What this mail is, for the outbox, the history, the logs and the loop header.
    pub purpose: Purpose,
    /// `List-Unsubscribe` value (RFC 2369), e.g. `<mailto:...>, <https://...>`; on mail to leads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_unsubscribe: Option<String>,
    /// Adds `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058); only with an
    /// https URL in `list_unsubscribe`.
    #[serde(default)]
    pub list_unsubscribe_post: bool,
    /// Files carried over from a relayed mail.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    /// Images the HTML shows by `cid:` (the weekly review's chart).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inline: Vec<Inline>,
}

/// One file attached to a [`Draft`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub filename: String,
    /// `type/subtype`; anything unparsable is sent as `application/octet-stream`.
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// An image shown inside a [`Draft`]'s HTML as `<img src="cid:{content_id}">`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inline {
    /// Without angle brackets.
    pub content_id: String,
    /// `image/png`, ...
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// What an owner needs to see of a lead.
#[derive(Clone, Debug, Serialize)]
pub struct LeadCard {
    pub id: i64,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub company: Option<String>,
    pub message: Option<String>,
    pub consent: Option<bool>,
    pub extra: IndexMap<String, String>,
    pub source: String,
    pub form: Option<String>,
    pub tracked_address: String,
}

impl LeadCard {
    /// The one projection of a lead into what an owner sees: from what was extracted of
    /// the notification (the pipeline) or of the stored lead (operations, reminders).
    pub fn new(id: i64, e: &Extraction, tracked_address: String) -> Self {
        LeadCard {
            id,
            name: e.fields.name.clone(),
            email: e.fields.email.clone(),
            phone: e.fields.phone.clone(),
            company: e.fields.company.clone(),
            message: e.fields.message.clone(),
            consent: e.consent,
            extra: e.extra.clone(),
            source: e.source.clone(),
            form: e.form.clone(),
            tracked_address,
        }
    }

    /// How to call the lead in a subject or a sentence ([`lead_name`]).
    pub fn display_name(&self) -> String {
        lead_name(
            self.id,
            self.name.as_deref(),
            self.email.as_deref(),
            self.phone.as_deref(),
        )
    }

    /// A reference that survives clients dropping headers: `[LG-12]` in subjects and bodies.
    pub fn reference(&self) -> String {
        format!("LG-{}", self.id)
    }
}

/// Who sends, and how times read, for this team. Made from the settings in one place
/// (`Settings::sender`).
#[derive(Clone, Copy, Debug)]
pub struct Sender<'a> {
    pub from: &'a str,
    pub team: &'a str,
    pub timezone: &'a TimeZone,
    /// A desk's `[identity] from_name`, instead of `<team> leads`.
    pub name: Option<&'a str>,
}

impl Sender<'_> {
    /// The display name of leadgate's own mail: the desk's `from_name`, else `Acme leads`.
    pub fn from_name(&self) -> String {
        match self.name {
            Some(n) => n.to_owned(),
            None => format!("{} leads", self.team),
        }
    }

    /// A draft from leadgate itself (not from a tracked address) to `to`.
    pub fn draft(&self, purpose: Purpose, to: Vec<String>, subject: &str, body: Body) -> Draft {
        Draft {
            from_name: Some(self.from_name()),
            from: self.from.to_owned(),
            to,
            subject: header_safe(subject, 200),
            text: body.text,
            html: body.html,
            purpose,
            ..Default::default()
        }
    }
}

/// How a lead is called in subjects and sentences, everywhere (owner emails, digests,
/// reminders, relayed mail): its name, else its address, else its phone, else `lead #12`.
pub fn lead_name(id: i64, name: Option<&str>, email: Option<&str>, phone: Option<&str>) -> String {
    [name, email, phone]
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|s| !s.is_empty())
        .map(str::to_owned)
        .unwrap_or_else(|| format!("lead #{id}"))
}

pub fn consent_text(c: Option<bool>) -> &'static str {
    match c {
        Some(true) => "yes",
        Some(false) => "no",
        None => "not asked",
    }
}

/// Header values built from form fields: no line breaks, no controls, bounded length.
pub fn header_safe(s: &str, max_chars: usize) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let collapsed = flat.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() > max_chars {
        let cut: String = collapsed
            .chars()
            .take(max_chars.saturating_sub(1))
            .collect();
        format!("{cut}…")
    } else {
        collapsed
    }
}

pub fn format_time(t: Timestamp, tz: &TimeZone) -> String {
    t.to_zoned(tz.clone())
        .strftime("%a %d %b %Y %H:%M %Z")
        .to_string()
}

/// Every template leadgate writes mail from, bundled (`templates/`). A file of the same
/// name in the owner's folder (`[digest] templates`, read outside the domain)
/// replaces it; the names and their variables are the owner's contract: extend, never
/// rename.
pub const BUNDLED: &[(&str, &str)] = &[
    (
        "assignment.txt",
        include_str!("../../../templates/assignment.txt"),
    ),
    (
        "assignment.html",
        include_str!("../../../templates/assignment.html"),
    ),
    ("triage.txt", include_str!("../../../templates/triage.txt")),
    (
        "triage.html",
        include_str!("../../../templates/triage.html"),
    ),
    (
        "handoff_notice.txt",
        include_str!("../../../templates/handoff_notice.txt"),
    ),
    (
        "relayed.txt",
        include_str!("../../../templates/relayed.txt"),
    ),
    (
        "relayed.html",
        include_str!("../../../templates/relayed.html"),
    ),
    (
        "action_error.txt",
        include_str!("../../../templates/action_error.txt"),
    ),
    (
        "relay_refused.txt",
        include_str!("../../../templates/relay_refused.txt"),
    ),
    (
        "bounce_notice.txt",
        include_str!("../../../templates/bounce_notice.txt"),
    ),
    (
        "reminder.txt",
        include_str!("../../../templates/reminder.txt"),
    ),
    (
        "reminder.html",
        include_str!("../../../templates/reminder.html"),
    ),
    (
        "reminders.txt",
        include_str!("../../../templates/reminders.txt"),
    ),
    (
        "reminders.html",
        include_str!("../../../templates/reminders.html"),
    ),
    (
        "board_login.txt",
        include_str!("../../../templates/board_login.txt"),
    ),
    (
        "board_login.html",
        include_str!("../../../templates/board_login.html"),
    ),
    ("digest.txt", include_str!("../../../templates/digest.txt")),
    (
        "digest.html",
        include_str!("../../../templates/digest.html"),
    ),
    (
        "operator.txt",
        include_str!("../../../templates/operator.txt"),
    ),
    (
        "operator.html",
        include_str!("../../../templates/operator.html"),
    ),
    ("review.txt", include_str!("../../../templates/review.txt")),
    (
        "review.html",
        include_str!("../../../templates/review.html"),
    ),
];

/// An empty environment with leadgate's escaping: HTML-escaped `.html`, verbatim text.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            minijinja::AutoEscape::Html
        } else {
            minijinja::AutoEscape::None
        }
    });
    env
}

/// The bundled templates, parsed once.
pub fn bundled() -> &'static Environment<'static> {
    static ENV: std::sync::LazyLock<Environment<'static>> = std::sync::LazyLock::new(|| {
        let mut env = environment();
        for (name, text) in BUNDLED {
            env.add_template(name, text)
                .expect("bundled template parses");
        }
        env
    });
    &ENV
}

/// A rendered email body: text, and HTML where the mail has it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Body {
    pub text: String,
    pub html: Option<String>,
}

/// Renders `{name}.txt` (and `{name}.html` when `html`) with `ctx`. A template that fails
/// to render leaves its error in the body: mail written inside a lead's transaction must
/// not fail it (the scheduler, which can skip a run, renders strictly instead).
pub fn body(env: &Environment<'_>, name: &str, ctx: &minijinja::Value, html: bool) -> Body {
    let render = |file: String| {
        env.get_template(&file)
            .and_then(|t| t.render(ctx))
            .unwrap_or_else(|e| format!("(template {file} failed: {e})"))
    };
    Body {
        text: render(format!("{name}.txt")),
        html: html.then(|| render(format!("{name}.html"))),
    }
}

/// What a triage email shows beyond the card: what kind of item it is, and the message as
/// it came (the owner decides on the original, not on what leadgate made of it).
#[derive(Clone, Debug)]
pub struct TriageOriginal<'a> {
    /// True for a person's own mail, false for a notification leadgate could not read.
    pub inquiry: bool,
    pub subject: &'a str,
    /// The message's text, in full (bounded by the caller).
    pub text: &'a str,
}

/// The email that gives an owner a triage item to decide: the original text, `Reply-To`
/// the tracked address, and the commands that decide it (`/lead`, `/notlead`, a reply).
pub fn triage_email(
    env: &Environment<'_>,
    card: &LeadCard,
    owner_email: &str,
    reason: &str,
    due: Option<Timestamp>,
    original: &TriageOriginal<'_>,
    sender: &Sender<'_>,
) -> Draft {
    let who = card.display_name();
    let (headline, what) = if original.inquiry {
        (
            "Wrote to the inbox",
            "A person wrote to the shared inbox directly. Nobody else was told.",
        )
    } else {
        (
            "Unreadable notification",
            "This looks like a form notification, but leadgate could not read its fields.",
        )
    };
    let source = (!original.inquiry).then(|| card.source.clone());
    let ctx = context! {
        marker => reply_marker(&who),
        headline => headline,
        what => what,
        reason => reason,
        due => due.map(|d| format_time(d, sender.timezone)),
        name => card.name, email => card.email, phone => card.phone,
        source => source,
        subject => header_safe(original.subject, 200),
        original => original.text,
        lead_id => card.id,
        reference => card.reference(),
        team => sender.team,
    };
    let subject = format!(
        "Triage: {who}: {} [{}]",
        if original.subject.trim().is_empty() {
            "(no subject)"
        } else {
            original.subject
        },
        card.reference()
    );
    Draft {
        reply_to: Some(card.tracked_address.clone()),
        ..sender.draft(
            Purpose::Triage,
            vec![owner_email.to_owned()],
            &subject,
            body(env, "triage", &ctx, true),
        )
    }
}

/// What an owner email says beyond the card.
#[derive(Clone, Debug)]
pub struct OwnerMail<'a> {
    /// [`Purpose::Assignment`], [`Purpose::Resubmission`] or [`Purpose::Handoff`].
    pub purpose: Purpose,
    /// Whether it is new, a handoff or a repeat submission: `New lead`, ...
    pub headline: &'a str,
    /// Why this owner.
    pub reason: &'a str,
    /// The first reply's deadline.
    pub due: Option<Timestamp>,
    /// The lead's status, next action and history as text, for a new owner (a handoff);
    /// templates show it as `context`.
    pub context: Option<String>,
}

/// The email that tells an owner a lead is theirs: every field, the consent, the deadline,
/// why them, and `Reply-To` the tracked address. `headline` says whether it is new,
/// a handoff or a repeat submission.
pub fn owner_email(
    env: &Environment<'_>,
    card: &LeadCard,
    owner_email: &str,
    m: OwnerMail<'_>,
    sender: &Sender<'_>,
) -> Draft {
    let lead = card.display_name();
    let what = match &card.form {
        Some(form) => format!("{} / {form}", card.source),
        None => card.source.clone(),
    };
    let ctx = context! {
        marker => reply_marker(&lead),
        headline => m.headline,
        reason => m.reason,
        due => m.due.map(|d| format_time(d, sender.timezone)),
        name => card.name, email => card.email, phone => card.phone, company => card.company,
        message => card.message, source => card.source, form => card.form,
        consent => consent_text(card.consent),
        extra => card.extra.iter().collect::<Vec<_>>(),
        how_to_reply => format!("Reply to this email to answer {lead}: your reply goes through leadgate and is kept in the lead's history."),
        lead_id => card.id,
        reference => card.reference(),
        team => sender.team,
        context => m.context,
    };
    let subject = format!("{}: {lead} ({what}) [{}]", m.headline, card.reference());
    Draft {
        reply_to: Some(card.tracked_address.clone()),
        ..sender.draft(
            m.purpose,
            vec![owner_email.to_owned()],
            &subject,
            body(env, "assignment", &ctx, true),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card() -> LeadCard {
        let mut extra = IndexMap::new();
        extra.insert("Service".to_owned(), "Roof <repair>".to_owned());
        LeadCard {
            id: 12,
            name: Some("Jane Doe\r\nBcc: evil@example.org".into()),
            email: Some("jane@example.net".into()),
            phone: None,
            company: None,
            message: Some("Line one\nLine two".into()),
            consent: Some(true),
            extra,
            source: "webflow".into(),
            form: Some("Pricing".into()),
            tracked_address: "reply+abc@leads.test".into(),
        }
    }

    #[test]
    fn owner_email_carries_marker_fields_deadline_and_reply_to() {
        let tz = TimeZone::get("Europe/Berlin").unwrap();
        let sender = Sender {
            name: None,
            from: "leadgate@leads.test",
            team: "Acme",
            timezone: &tz,
        };
        let due: Timestamp = "2026-11-24T09:00:00Z".parse().unwrap();
        let d = owner_email(
            bundled(),
            &card(),
            "alice@team.test",
            OwnerMail {
                purpose: Purpose::Assignment,
                headline: "New lead",
                reason: "rule pricing: form=Pricing",
                due: Some(due),
                context: None,
            },
            &sender,
        );
        assert!(d.text.starts_with(REPLY_MARKER_PREFIX), "{}", d.text);
        assert_eq!(d.reply_to.as_deref(), Some("reply+abc@leads.test"));
        assert_eq!(d.to, vec!["alice@team.test"]);
        assert!(d.text.contains("Line one\nLine two"));
        assert!(d.text.contains("Service: Roof <repair>"));
        assert!(d.text.contains("Consent:  yes"));
        assert!(d.text.contains("Tue 24 Nov 2026 10:00 CET"), "{}", d.text);
        assert!(d.text.contains("rule pricing: form=Pricing"));
        let html = d.html.unwrap();
        assert!(html.contains("Roof &lt;repair&gt;"), "HTML is escaped");
        assert!(
            !d.subject.contains('\n') && !d.subject.contains('\r'),
            "{:?}",
            d.subject
        );
        assert!(d.subject.contains("[LG-12]"));
    }

    #[test]
    fn triage_email_carries_the_original_the_commands_and_reply_to() {
        let tz = TimeZone::get("Europe/Berlin").unwrap();
        let sender = Sender {
            name: None,
            from: "leadgate@leads.test",
            team: "Acme",
            timezone: &tz,
        };
        let mut c = card();
        c.name = Some("Tom".into());
        let original = TriageOriginal {
            inquiry: true,
            subject: "Heat pumps\r\nBcc: x@evil.test",
            text: "Hi, do you install heat pumps in Leeds?\n\nTom, 07700 900123",
        };
        let d = triage_email(
            bundled(),
            &c,
            "alice@team.test",
            "rule all",
            None,
            &original,
            &sender,
        );
        assert!(d.text.starts_with(REPLY_MARKER_PREFIX), "{}", d.text);
        assert_eq!(d.reply_to.as_deref(), Some("reply+abc@leads.test"));
        assert_eq!(d.purpose, "triage");
        assert!(d.text.contains("do you install heat pumps in Leeds?"));
        assert!(d.text.contains("/lead") && d.text.contains("/notlead"));
        assert!(!d.subject.contains('\n') && d.subject.contains("[LG-12]"));
    }

    /// The handoff's status block comes from the templates now; it reads as when it was
    /// spliced into the rendered assignment email (before the `--` line, before `</body>`).
    #[test]
    fn handoff_context_reads_as_the_old_splice() {
        let tz = TimeZone::get("Europe/Berlin").unwrap();
        let sender = Sender {
            name: None,
            from: "leadgate@leads.test",
            team: "Acme",
            timezone: &tz,
        };
        let context = "Status:   contacted\nNext:     call <back>, due Tue\nHistory:\n  Mon 23 Nov 10:00  alice      note             (note) it's \"urgent\" & 2/3\n";
        let mail = |context: Option<String>| {
            owner_email(
                bundled(),
                &card(),
                "carol@team.test",
                OwnerMail {
                    purpose: Purpose::Handoff,
                    headline: "Handed to you",
                    reason: "alice: on leave",
                    due: None,
                    context,
                },
                &sender,
            )
        };
        let plain = mail(None);
        let new = mail(Some(context.to_owned()));
        let i = plain.text.rfind("\n--\n").unwrap();
        let spliced = format!("{}\n{context}{}", &plain.text[..i], &plain.text[i..]);
        assert_eq!(new.text, spliced);
        let h = plain.html.unwrap();
        let i = h.rfind("</body>").unwrap();
        let block = format!(
            "<h3>Status and history</h3>\n<pre>{}</pre>\n",
            minijinja::HtmlEscape(context)
        );
        assert_eq!(new.html.unwrap(), format!("{}{block}{}", &h[..i], &h[i..]));
        assert_eq!(new.subject, plain.subject);
        assert_eq!(new.purpose, "handoff");
    }

    #[test]
    fn handoff_notice_reads_as_before() {
        let render = |new_owner: Option<minijinja::Value>| {
            body(
                bundled(),
                "handoff_notice",
                &context! {
                    lead_id => 7, lead => "Jane Doe", new_owner => new_owner,
                    why => "on leave", by => "Erin Boss", at => "Mon 23 Nov 2026 10:00 CET",
                    reference => "LG-7", team => "Acme",
                },
                false,
            )
        };
        let tail = "Why: on leave\nBy: Erin Boss at Mon 23 Nov 2026 10:00 CET\n\nYou are no longer its owner: there is nothing more for you to do on it.\nLead #7 (LG-7) at Acme.\n";
        let to = render(Some(context! { id => "carol", name => "Carol Jones" }));
        assert_eq!(
            to.text,
            format!("Lead #7 (Jane Doe) is now carol's (Carol Jones).\n{tail}")
        );
        assert_eq!(to.html, None);
        assert_eq!(
            render(None).text,
            format!("Lead #7 (Jane Doe) no longer has an owner; it is listed as orphaned.\n{tail}")
        );
    }

    #[test]
    fn purposes_keep_their_strings() {
        let all = [
            (Purpose::Assignment, "assignment"),
            (Purpose::Resubmission, "resubmission"),
            (Purpose::Triage, "triage"),
            (Purpose::Handoff, "handoff"),
            (Purpose::HandoffNotice, "handoff_notice"),
            (Purpose::Reminder, "reminder"),
            (Purpose::Escalation, "escalation"),
            (Purpose::Digest, "digest"),
            (Purpose::Review, "review"),
            (Purpose::RelayToLead, "relay_to_lead"),
            (Purpose::RelayToOwner, "relay_to_owner"),
            (Purpose::UnknownSender, "unknown_sender"),
            (Purpose::ActionError, "action_error"),
            (Purpose::RelayRefused, "relay_refused"),
            (Purpose::BounceNotice, "bounce_notice"),
            (Purpose::BoardLogin, "board_login"),
            (Purpose::OperatorDigest, "operator_digest"),
        ];
        for (p, s) in all {
            assert_eq!(p.as_str(), s);
            assert_eq!(serde_json::to_value(p).unwrap(), s);
        }
    }

    #[test]
    fn a_lead_is_called_by_name_then_address_then_phone_then_number() {
        let n = |name, email, phone| lead_name(7, name, email, phone);
        assert_eq!(n(Some("Jane"), Some("j@x.test"), None), "Jane");
        assert_eq!(n(Some("  "), Some("j@x.test"), None), "j@x.test");
        assert_eq!(n(None, None, Some("+1 555")), "+1 555");
        assert_eq!(n(None, Some(""), None), "lead #7");
    }

    #[test]
    fn header_safe_flattens_and_bounds() {
        assert_eq!(header_safe("a\r\nBcc: x", 50), "a Bcc: x");
        assert_eq!(header_safe(&"x".repeat(10), 5).chars().count(), 5);
    }
}
