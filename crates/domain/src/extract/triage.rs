//! What a triage item carries when no recogniser could read it: for a person's own mail
//! (an inquiry) the sender as contact, the text they wrote and a phone number in it; for a
//! notification that could not be read, the provider its sender or markers name.
//! Pure, like the rest of the extraction; it never decides whether a message is triage
//! (that is `classify`'s call).

use super::{forward, items, Body, LeadFields};
use crate::message::{Mailbox, MessageView};
use crate::trim::{trim_reply_with, TrimOptions};
use regex::Regex;
use std::sync::LazyLock;

/// The provider named by the sender's domain, headers, subject or footer, if any, and
/// whether it is a hosted service or marketplace (its sender proves the kind).
pub fn provider_of(view: &MessageView, body: &Body) -> Option<(&'static str, bool)> {
    let from = view
        .from
        .as_ref()
        .map(|m| m.address.to_lowercase())
        .unwrap_or_default();
    body.provider(&view.subject, &from, &view.headers, &[])
        .map(|p| (p.source, p.hosted))
}

/// Local parts that are mailboxes of machines or departments, never the person writing.
static MACHINE_LOCAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(no[-_.]?reply|do[-_.]?not[-_.]?reply|donotreply|noreply|mailer|mailer-daemon|postmaster|daemon|bounces?|notifications?|notify|alerts?|system|automated?|auto|wordpress|robot|bot|billing|invoices?|receipts?|accounts?|security|updates?|news|newsletters?|marketing|support-noreply|info-noreply)([-_.+].*)?$",
    )
    .expect("static regex")
});

/// Whether `address`'s local part names a machine or department mailbox (`no-reply@`,
/// `notifications@`, `billing@`, ...).
pub fn machine_address(address: &str) -> bool {
    let local = address.rsplit_once('@').map_or(address, |(l, _)| l);
    MACHINE_LOCAL.is_match(local.trim())
}

/// The person to answer: `Reply-To` when it names a person's mailbox, else `From`.
fn contact(view: &MessageView) -> Option<&Mailbox> {
    view.reply_to
        .iter()
        .find(|m| m.address.contains('@') && !machine_address(&m.address))
        .or(view.from.as_ref())
        .filter(|m| m.address.contains('@'))
}

/// A phone number as people write it: 7 to 15 digits with spaces, dots, dashes, slashes
/// or brackets, optionally after `+`.
static PHONE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\+|(?-u:\b))\(?\d[\d\s().\-/]{5,20}\d(?-u:\b)").expect("static regex")
});
static DATE_OR_TIME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{1,2}[:.]\d{2})$",
    )
    .expect("static regex")
});

/// The first phone number in `text`, as written.
pub fn phone_in(text: &str) -> Option<String> {
    PHONE.find_iter(text).find_map(|m| {
        let s = m.as_str().trim();
        let digits = s.chars().filter(char::is_ascii_digit).count();
        let one_line = !s.contains('\n');
        (one_line && (7..=15).contains(&digits) && !DATE_OR_TIME.is_match(s)).then(|| s.to_owned())
    })
}

/// Lines that end what a person wrote on a phone or webmail client.
static SENT_FROM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?im)^\s*(sent from my|get outlook for|von meinem|envoyé de mon|enviado desde mi|verzonden vanaf mijn|inviato da)(?-u:\b).*$")
        .expect("static regex")
});

/// At most this many characters of a person's text are kept as the message.
const MAX_MESSAGE: usize = 20_000;

/// An inquiry's contact and text: the sender (name and address), the text they wrote
/// (without the quoted history below it or a `-- ` signature), and the first phone
/// number in it (signature included: that is where people put their number).
pub fn inquiry_fields(view: &MessageView, text: &str) -> LeadFields {
    let who = contact(view);
    let name = who
        .and_then(|m| m.name.clone())
        .or_else(|| {
            // A Reply-To without a name: the From's name, when it is the same person's mail.
            let from = view.from.as_ref()?;
            (!machine_address(&from.address))
                .then(|| from.name.clone())
                .flatten()
        })
        .map(|n| n.trim().trim_matches(['"', '\'']).trim().to_owned())
        .filter(|n| !n.is_empty() && !n.contains('@'));
    let with_signature = trim_reply_with(text, TrimOptions::default()).reply;
    let own = trim_reply_with(
        text,
        TrimOptions {
            strip_signature: true,
        },
    )
    .reply;
    let own = match SENT_FROM.find(&own) {
        Some(m) => own[..m.start()].to_owned(),
        None => own,
    };
    let message: String = own.trim().chars().take(MAX_MESSAGE).collect();
    LeadFields {
        name,
        email: who.map(|m| m.address.trim().to_lowercase()),
        phone: phone_in(&with_signature),
        company: None,
        message: (!message.is_empty()).then_some(message),
    }
}

/// A person's mail that a team member forwarded inline: the original sender's contact and
/// text, when the forward names a sender who is not a machine.
pub fn forwarded_inquiry(body: &Body) -> Option<LeadFields> {
    let fw = forward::unwrap(&body.items)?;
    let from = fw
        .from
        .filter(|m| m.address.contains('@') && !machine_address(&m.address))?;
    let inner = MessageView {
        subject: fw.subject,
        from: Some(from),
        ..Default::default()
    };
    Some(inquiry_fields(&inner, &items::to_text(&fw.items)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_as_people_write_them_and_not_dates_or_prices() {
        assert_eq!(
            phone_in("Tom, 07700 900123").as_deref(),
            Some("07700 900123")
        );
        assert_eq!(
            phone_in("call +44 (0)113 496 0000 any time").as_deref(),
            Some("+44 (0)113 496 0000")
        );
        assert_eq!(phone_in("on 2026-12-01 at 10.30"), None);
        assert_eq!(phone_in("about 1500 pounds"), None);
    }

    #[test]
    fn machine_mailboxes_are_not_people() {
        for a in [
            "no-reply@x.com",
            "noreply@x.com",
            "notifications@x.com",
            "billing@x.com",
            "do_not_reply@x.com",
        ] {
            assert!(machine_address(a), "{a}");
        }
        for a in [
            "tom@x.com",
            "info@x.com",
            "nora@x.com",
            "accounting.jane@x.com",
        ] {
            assert!(!machine_address(a), "{a}");
        }
    }
}
