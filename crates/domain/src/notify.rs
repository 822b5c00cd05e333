//! The emails leadgate writes, as plain data ([`Draft`]); rendering to MIME happens in
//! the outbox. Everything here is pure: the caller passes the lead, the settings, `now`.

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
    /// What this mail is, for the history and the logs: `assignment`, `reminder`, `relay`, ...
    pub purpose: String,
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
    /// How to call the lead in a subject or a sentence.
    pub fn display_name(&self) -> String {
        self.name
            .clone()
            .or_else(|| self.email.clone())
            .or_else(|| self.phone.clone())
            .unwrap_or_else(|| format!("lead #{}", self.id))
    }

    /// A reference that survives clients dropping headers: `[LG-12]` in subjects and bodies.
    pub fn reference(&self) -> String {
        format!("LG-{}", self.id)
    }
}

/// Who sends, and how times read, for this team.
#[derive(Clone, Debug)]
pub struct Sender<'a> {
    pub from: &'a str,
    pub team: &'a str,
    pub timezone: &'a TimeZone,
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

/// The bundled templates, parsed once: every assignment email renders from the same set.
fn templates() -> &'static Environment<'static> {
    static ENV: std::sync::LazyLock<Environment<'static>> = std::sync::LazyLock::new(bundled);
    &ENV
}

fn bundled() -> Environment<'static> {
    let mut env = Environment::new();
    env.add_template(
        "assignment.txt",
        include_str!("../../../templates/assignment.txt"),
    )
    .expect("bundled template parses");
    env.add_template(
        "assignment.html",
        include_str!("../../../templates/assignment.html"),
    )
    .expect("bundled template parses");
    env.add_template("triage.txt", include_str!("../../../templates/triage.txt"))
        .expect("bundled template parses");
    env.add_template(
        "triage.html",
        include_str!("../../../templates/triage.html"),
    )
    .expect("bundled template parses");
    env
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
    let env = templates();
    let render = |name: &str| {
        env.get_template(name)
            .and_then(|t| t.render(&ctx))
            .unwrap_or_else(|e| format!("(template {name} failed: {e})"))
    };
    Draft {
        from_name: Some(format!("{} leads", sender.team)),
        from: sender.from.to_owned(),
        to: vec![owner_email.to_owned()],
        reply_to: Some(card.tracked_address.clone()),
        subject: header_safe(
            &format!(
                "Triage: {who}: {} [{}]",
                if original.subject.trim().is_empty() {
                    "(no subject)"
                } else {
                    original.subject
                },
                card.reference()
            ),
            200,
        ),
        text: render("triage.txt"),
        html: Some(render("triage.html")),
        purpose: "triage".to_owned(),
        ..Default::default()
    }
}

/// The email that tells an owner a lead is theirs: every field, the consent, the deadline,
/// why them, and `Reply-To` the tracked address. `headline` says whether it is new,
/// a handoff or a repeat submission.
pub fn owner_email(
    card: &LeadCard,
    owner_email: &str,
    headline: &str,
    reason: &str,
    due: Option<Timestamp>,
    sender: &Sender<'_>,
    purpose: &str,
) -> Draft {
    let lead = card.display_name();
    let what = match &card.form {
        Some(form) => format!("{} / {form}", card.source),
        None => card.source.clone(),
    };
    let ctx = context! {
        marker => reply_marker(&lead),
        headline => headline,
        reason => reason,
        due => due.map(|d| format_time(d, sender.timezone)),
        name => card.name, email => card.email, phone => card.phone, company => card.company,
        message => card.message, source => card.source, form => card.form,
        consent => consent_text(card.consent),
        extra => card.extra.iter().collect::<Vec<_>>(),
        how_to_reply => format!("Reply to this email to answer {lead}: your reply goes through leadgate and is kept in the lead's history."),
        lead_id => card.id,
        reference => card.reference(),
        team => sender.team,
    };
    let env = templates();
    let render = |name: &str| {
        env.get_template(name)
            .and_then(|t| t.render(&ctx))
            .unwrap_or_else(|e| format!("(template {name} failed: {e})"))
    };
    Draft {
        from_name: Some(format!("{} leads", sender.team)),
        from: sender.from.to_owned(),
        to: vec![owner_email.to_owned()],
        reply_to: Some(card.tracked_address.clone()),
        subject: header_safe(
            &format!("{headline}: {lead} ({what}) [{}]", card.reference()),
            200,
        ),
        text: render("assignment.txt"),
        html: Some(render("assignment.html")),
        purpose: purpose.to_owned(),
        ..Default::default()
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
            from: "leadgate@leads.test",
            team: "Acme",
            timezone: &tz,
        };
        let due: Timestamp = "2026-11-24T09:00:00Z".parse().unwrap();
        let d = owner_email(
            &card(),
            "alice@team.test",
            "New lead",
            "rule pricing: form=Pricing",
            Some(due),
            &sender,
            "assignment",
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
        let d = triage_email(&c, "alice@team.test", "rule all", None, &original, &sender);
        assert!(d.text.starts_with(REPLY_MARKER_PREFIX), "{}", d.text);
        assert_eq!(d.reply_to.as_deref(), Some("reply+abc@leads.test"));
        assert_eq!(d.purpose, "triage");
        assert!(d.text.contains("do you install heat pumps in Leeds?"));
        assert!(d.text.contains("/lead") && d.text.contains("/notlead"));
        assert!(!d.subject.contains('\n') && d.subject.contains("[LG-12]"));
    }

    #[test]
    fn header_safe_flattens_and_bounds() {
        assert_eq!(header_safe("a\r\nBcc: x", 50), "a Bcc: x");
        assert_eq!(header_safe(&"x".repeat(10), 5).chars().count(), 5);
    }
}
