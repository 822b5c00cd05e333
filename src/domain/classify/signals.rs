//! Content signals for classification: out-of-office subjects in several languages,
//! account/system mail (receipts, password resets, plugin updates, security alerts, test
//! mails, usage warnings), confirmations sent to the submitter, and form spam.

use crate::domain::extract::Extraction;
use crate::domain::message::MessageView;
use regex::Regex;
use std::sync::LazyLock;

fn re(s: &str) -> Regex {
    Regex::new(s).expect("static regex")
}

static OOO: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(out of (the )?office|automatic reply|auto[- ]?reply|autoreply|away from (the )?office|on vacation|on leave|abwesenheitsnotiz|automatische antwort|abwesend|außer haus|nicht im büro|réponse automatique|absent du bureau|absence du bureau|en congés?|respuesta automática|fuera de la oficina|ausente|afwezig|automatisch antwoord|buiten kantoor|niet aanwezig|risposta automatica|fuori sede|fuori ufficio|assente|fraværende|automatisk svar|ikke på kontoret|frånvarande|autosvar|fravær|resposta automática|fora do escritório|automatyczna odpowiedź|poza biurem|автоответ)",
    )
});
static REPLY_SUBJECT: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^\s*(re|aw|sv|vs|antw|rif|r)\s*(\[\d+\])?\s*:"));
static FWD_SUBJECT: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^\s*(fwd?|wg|tr|rv|i|enc|doorst)\s*:"));
static NOTIFICATION_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)(new (entry|submission|form|response|lead|message|inquiry|enquiry|request)|form submission|submitted|["“„«].+["”“»])"#,
    )
});
static SYSTEM_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(\border\s*#?\s*\d+|new order\b|order (confirmation|placed|received|shipped)|\breceipt\b|\binvoice\b|payment (received|failed|confirmation|due)|password reset|reset your password|security alert|new sign-?in|sign-?in attempt|verify your (email|account)|verification code|confirm your (email|account|subscription)|test e-?mail|test message|automatically updated|plugins? (were|have been) updated|update available|\bupdated to\b|reached \d+\s?%|submission limit|usage (limit|warning|alert)|your (subscription|plan|trial|account) (is|has|will|was)|billing|rechnung|zahlungsbestätigung|passwort|mot de passe|facture|factura|recibo|contraseña|wachtwoord|fattura)",
    )
});
/// CMS mail that quotes a title or names a person, yet is never a lead.
static SITE_ADMIN_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(please moderate|new comment on|\bcomment: [\x22“]|new user registration|password changed|e-?mail address changed|admin email|site health|automatic updates?\b|background updates?|backup (completed|failed|successful)|ssl certificate|domain (renewal|expir)|quote\s*#\s*\d+|estimate\s*#\s*\d+|shipping confirmation|has shipped|shipment (notification|confirmation)|payout|welcome to\b|activate your account)",
    )
});
static SYSTEM_BODY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(you were charged|amount paid|requested a password reset|test email was sent|have automatically updated|we noticed a new sign-in|your forms have received)",
    )
});
static CONFIRMATION_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^\s*(thank you|thanks|we('ve| have)? received|your (submission|request|message|inquiry|enquiry)( has been| was)? received|confirmation|copy of your|danke für|vielen dank|merci pour|merci de|gracias por|bedankt voor|grazie per)",
    )
});
const SPAM_PATTERN: &str = r"(?i)(\bseo\b|backlinks?|\brank(ing|ings)?\b|first page of google|1st page|page 1 of google|\bloans?\b|casino|crypto|bitcoin|forex|viagra|cialis|followers|money back|guarantee|credit check|no credit|approved in|domain authority|guest post|link building|increase (your )?traffic|make money|earn \$|investment opportunit|\bporn|\bdating\b|\bcheap\b|click here|whatsapp me|marketing services|lead generation services|outsourc)";
static SPAM_WORDS: LazyLock<Regex> = LazyLock::new(|| re(SPAM_PATTERN));
/// The same words with ASCII `\b` and case folding: a superset of [`SPAM_WORDS`] (every
/// `\b` touches an ASCII letter), which the lazy DFA runs on any text, whereas Unicode
/// `\b` sends non-ASCII text to the slow backtracker. Most form text has no spam word.
static SPAM_WORDS_ASCII: LazyLock<Regex> = LazyLock::new(|| {
    regex::RegexBuilder::new(SPAM_PATTERN)
        .unicode(false)
        .build()
        .expect("static regex")
});
static URL: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)https?://|www\.|\.test\b|\.ru\b"));

static BOUNCE_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^\s*(undeliverable|undelivered mail|delivery status notification|mail delivery (failed|failure|subsystem)|returned mail|delivery failure|failure notice|unzustellbar|non remis|no se puede entregar|onbestelbaar|non recapitabile)",
    )
});

static CALENDAR_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^\s*((updated |new )?invitation|invitation mise à jour|(aktualisierte )?einladung|invitación( actualizada)?|uitnodiging|invito)\s*:.+@|^\s*(accepted|declined|tentative|tentatively accepted|canceled event|cancelled event|event canceled|angenommen|abgelehnt|mit vorbehalt|accepté|refusé|aceptado|rechazado)\s*:",
    )
});

pub fn calendar_subject(subject: &str) -> bool {
    CALENDAR_SUBJECT.is_match(subject)
}

pub fn bounce_subject(subject: &str) -> bool {
    BOUNCE_SUBJECT.is_match(subject)
}

pub fn is_reply_subject(subject: &str) -> bool {
    REPLY_SUBJECT.is_match(subject)
}

pub fn looks_forwarded(subject: &str, body: &str) -> bool {
    FWD_SUBJECT.is_match(subject)
        || body.to_lowercase().contains("forwarded message")
        || body.contains("________________________________")
}

/// Phrases that mean an out-of-office reply wherever they stand in the subject.
static OOO_ANYWHERE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(out of (the )?office|automatic reply|abwesenheitsnotiz|automatische antwort|réponse automatique|respuesta automática|automatisch antwoord|risposta automatica|automatisk svar|resposta automática|automatyczna odpowiedź)",
    )
});

pub fn out_of_office(view: &MessageView) -> Option<String> {
    let s = view.subject.trim();
    if let Some(m) = OOO_ANYWHERE.find(s) {
        return Some(format!("out-of-office subject ({})", m.as_str()));
    }
    // weaker words ("absent", "on vacation") only when they open the subject
    let rest = match REPLY_SUBJECT.find(s) {
        Some(m) => s[m.end()..].trim_start(),
        None => s,
    };
    OOO.find(rest)
        .filter(|m| m.start() == 0)
        .map(|m| format!("out-of-office subject ({})", m.as_str()))
}

/// The form's copy to the person who filled it in: sent to the very address it names.
pub fn addressed_to_submitter(view: &MessageView, e: &Extraction) -> bool {
    let Some(email) = e.fields.email.as_deref() else {
        return false;
    };
    !view.to.is_empty()
        && view
            .to
            .iter()
            .all(|m| m.address.eq_ignore_ascii_case(email))
}

/// `text` is the body as plain text.
pub fn system_mail(view: &MessageView, text: &str) -> Option<String> {
    if view
        .header("X-Mailer-Type")
        .is_some_and(|v| v.to_ascii_lowercase().contains("test"))
    {
        return Some("mailer test message".into());
    }
    let subject = view.subject.as_str();
    if let Some(m) = SITE_ADMIN_SUBJECT.find(subject) {
        return Some(format!(
            "site administration mail ({})",
            m.as_str().to_lowercase()
        ));
    }
    if NOTIFICATION_SUBJECT.is_match(subject) {
        return None;
    }
    if let Some(m) = SYSTEM_SUBJECT.find(subject) {
        return Some(format!(
            "account or system mail ({})",
            m.as_str().to_lowercase()
        ));
    }
    let head = text
        .char_indices()
        .nth(4000)
        .map_or(text, |(i, _)| &text[..i]);
    SYSTEM_BODY
        .find(head)
        .map(|m| format!("account or system mail ({})", m.as_str().to_lowercase()))
}

/// The form's confirmation to the person who filled it in (a copy reached us by Bcc).
pub fn confirmation_to_submitter(view: &MessageView) -> Option<String> {
    CONFIRMATION_SUBJECT
        .is_match(&view.subject)
        .then(|| "confirmation sent to the submitter".to_owned())
}

pub fn spam(e: &Extraction) -> Option<String> {
    let f = &e.fields;
    let mut text = String::new();
    for v in [&f.name, &f.company, &f.message].into_iter().flatten() {
        text.push_str(v);
        text.push('\n');
    }
    for v in e.extra.values() {
        if !v.starts_with("http") {
            text.push_str(v);
            text.push('\n');
        }
    }
    // Unicode case folding also matches 'ſ' (s) and the Kelvin sign (k).
    let maybe = text.contains(['\u{17f}', '\u{212a}']) || SPAM_WORDS_ASCII.is_match(&text);
    let mut words: Vec<String> = if maybe {
        SPAM_WORDS
            .find_iter(&text)
            .map(|m| m.as_str().to_lowercase())
            .collect()
    } else {
        Vec::new()
    };
    words.sort();
    words.dedup();
    let urls = URL.find_iter(&text).count();
    let mut score = words.len();
    score += match urls {
        0 | 1 => 0,
        2 => 1,
        _ => 2,
    };
    if text.contains("!!!") {
        score += 1;
    }
    (score >= 3).then(|| format!("form spam ({})", words.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extraction(message: &str) -> Extraction {
        let mut e = Extraction::default();
        e.fields.message = Some(message.into());
        e
    }

    #[test]
    fn spam_words_in_text_with_accents_and_unicode_folding() {
        let s = spam(&extraction(
            "Günstige SEO für Ihre Website: backlinks, casino — schreiben Sie uns",
        ));
        assert!(s.is_some_and(|r| r.contains("seo") && r.contains("casino")));
        // Unicode case folding: the long s matches `s` (the ASCII pre-check must not hide it)
        let s = spam(&extraction("ſeo backlinks casino"));
        assert!(s.is_some_and(|r| r.contains("ſeo")));
        assert_eq!(
            spam(&extraction("Bitte um Rückruf wegen Dachsanierung.")),
            None
        );
    }
}
