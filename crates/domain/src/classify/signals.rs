//! Content signals for classification: out-of-office subjects in several languages,
//! account/system mail (receipts, password resets, plugin updates, security alerts, test
//! mails, usage warnings), confirmations sent to the submitter, and form spam.

use crate::extract::Extraction;
use crate::message::MessageView;
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
        r"(?i)((?-u:\b)order\s*#?\s*\d+|new order(?-u:\b)|order (confirmation|placed|received|shipped)|(?-u:\b)receipt(?-u:\b)|(?-u:\b)invoice(?-u:\b)|payment (received|failed|confirmation|due)|password reset|reset your password|security alert|new sign-?in|sign-?in attempt|verify your (email|account)|verification code|confirm your (email|account|subscription)|test e-?mail|test message|automatically updated|plugins? (were|have been) updated|update available|(?-u:\b)updated to(?-u:\b)|reached \d+\s?%|submission limit|usage (limit|warning|alert)|your (subscription|plan|trial|account) (is|has|will|was)|billing|rechnung|zahlungsbestätigung|passwort|mot de passe|facture|factura|recibo|contraseña|wachtwoord|fattura)",
    )
});
/// CMS mail that quotes a title or names a person, yet is never a lead.
static SITE_ADMIN_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(please moderate|new comment on|(?-u:\b)comment: [\x22“]|new user registration|password changed|e-?mail address changed|admin email|site health|automatic updates?(?-u:\b)|background updates?|backup (completed|failed|successful)|ssl certificate|domain (renewal|expir)|quote\s*#\s*\d+|estimate\s*#\s*\d+|shipping confirmation|has shipped|shipment (notification|confirmation)|payout|welcome to(?-u:\b)|activate your account)",
    )
});
/// The phrases of service mail in a body, in order (the first that matches is named).
const SYSTEM_BODY_PHRASES: &[&str] = &[
    "you were charged",
    "amount paid",
    "requested a password reset",
    "test email was sent",
    "have automatically updated",
    "we noticed a new sign-in",
    "your forms have received",
];
static SYSTEM_BODY: LazyLock<Regex> =
    LazyLock::new(|| re(&format!("(?i)({})", SYSTEM_BODY_PHRASES.join("|"))));
/// One pass for all of [`SYSTEM_BODY_PHRASES`] before the regex: a case-insensitive
/// alternation has no literal prefilter, so the regex alone walks every byte slowly.
static SYSTEM_BODY_FINDER: LazyLock<aho_corasick::AhoCorasick> = LazyLock::new(|| {
    aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .build(SYSTEM_BODY_PHRASES)
        .expect("static phrases")
});

/// [`SYSTEM_BODY`]'s first match. Text without any phrase in ASCII case is not given to
/// the regex, unless it holds `ſ` or the Kelvin sign (Unicode case folding makes them `s`
/// and `k` for the regex).
fn system_body(head: &str) -> Option<regex::Match<'_>> {
    let may = SYSTEM_BODY_FINDER.is_match(head) || head.contains(['\u{17F}', '\u{212A}']);
    may.then(|| SYSTEM_BODY.find(head)).flatten()
}

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
static URL: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)https?://|www\.|\.test(?-u:\b)|\.ru(?-u:\b)"));

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
    system_body(head).map(|m| format!("account or system mail ({})", m.as_str().to_lowercase()))
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

/// Headers that transactional and bulk mail services put on what they send; a person's
/// mail from their own client carries none of them.
const ESP_HEADERS: &[&str] = &[
    "Feedback-ID",
    "X-SES-Outgoing",
    "X-Mailgun-Sid",
    "X-Mailgun-Tag",
    "X-SG-EID",
    "X-SG-ID",
    "X-MC-User",
    "X-Mandrill-User",
    "X-PM-Message-Id",
    "X-Postmark-Message-Id",
    "X-MSFBL",
    "X-CSA-Complaints",
    "X-Campaign",
    "X-CampaignID",
    "X-Mailjet-Campaign",
    "X-SparkPost-Message-Id",
];

static BOUNCE_RETURN_PATH: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^(bounces?|bnc|return|mailer|msprvs\d*|prvs)[-+=._]"));
static MACHINE_MAILER: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(phpmailer|wordpress|swiftmailer|symfony mailer|nodemailer|mailchimp|sendgrid|amazon ses|salesforce|hubspot|marketo|zendesk|freshdesk|intercom)",
    )
});

/// Evidence that a machine sent this mail, not a person at a mail client: a machine or
/// department mailbox as sender, a transactional mail service's headers, a VERP bounce
/// return path, a mailer library.
pub fn machine_sender(view: &MessageView) -> Option<String> {
    if let Some(from) = view.from.as_ref() {
        if crate::extract::triage::machine_address(&from.address) {
            return Some(format!("machine sender ({})", from.address.to_lowercase()));
        }
    }
    if let Some(h) = ESP_HEADERS.iter().find(|h| view.header(h).is_some()) {
        return Some(format!("sent by a mail service ({h} header)"));
    }
    if let Some(rp) = view.return_path.as_deref() {
        let local = rp.trim_matches(['<', '>']).split('@').next().unwrap_or("");
        if BOUNCE_RETURN_PATH.is_match(local) {
            return Some("sent by a mail service (bounce-handling return path)".into());
        }
    }
    if let Some(m) = view
        .header("X-Mailer")
        .and_then(|v| MACHINE_MAILER.find(v).map(|m| m.as_str().to_owned()))
    {
        return Some(format!("sent by software ({m})"));
    }
    None
}

/// Kinds of account mail that services send, by subject: receipts and billing, sign-in and
/// password mail, usage and quota warnings, digests and summaries, account notices.
static SYSTEM_KIND: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(\breceipt\b|\binvoice\b|\bbilling\b|\bpayment\b|\bcharged?\b|\brefund|\border\s*(#|no\.?|number|confirm)|subscription|renewal|\brenew(s|ed|ing)?\b|your (plan|trial)|trial (ends|ending|expire|is over)|card (expir|declined)|password|passcode|\bsign[- ]?in\b|\blog[- ]?in\b|two[- ]factor|\b2fa\b|verification|verify your|confirm your (email|account|address)|security (alert|notice|code)|new device|suspicious|unusual activity|account (locked|suspended|deactivated|notice|update|verification|change)|\busage\b|\bquota\b|\blimits?\b|reached \d+\s?%|used \d+\s?%|\d+\s?% of (your|its|the)|\bbudget\b|\bcredits?\b|(is|est|ist|è|está) (now )?(live|published|publié|veröffentlicht|pubblicato|publicado)|\bpubli(é|shed)\b|almost full|running out|exceeded|storage|\bdigest\b|\bsummary\b|\brecap\b|(daily|weekly|monthly) (report|update|overview)|\d+ new (submissions|entries|responses|leads|messages|inquiries|enquiries)|you have \d+ new|action required|policy update|terms of (service|use)|privacy policy|scheduled maintenance|service (notice|update)|welcome to\b|rechnung|quittung|zahlung|passwort|anmeldung|facture|paiement|mot de passe|connexion|factura|recibo|pago|contraseña|fattura|pagamento|wachtwoord|betaling|factuur)",
    )
});
/// The same kinds in the first lines of a body.
static SYSTEM_KIND_BODY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(you were charged|amount (paid|due|charged)|payment (received|failed|method)|your (receipt|invoice)|reset your password|password reset|requested a (password|new password)|verification code|one-time (code|password)|sign-in (attempt|from)|new sign-in|you('ve| have) (reached|used) \d+\s?%|of your (monthly |plan's )?(limit|quota|submissions)|upgrade your plan|here('s| is) your (daily|weekly|monthly) (digest|summary|report|recap)|your (daily|weekly|monthly) (digest|summary|report|recap)|new (submissions|entries|responses) (today|this week|since))",
    )
});
/// Phrases that are only ever account mail, whoever sends them.
static SYSTEM_STRONG: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(reset your password|password reset|verification code|security alert|new sign-?in|sign-?in attempt|(daily|weekly|monthly) (digest|summary) of|(?-u:\b)digest(?-u:\b).*(?-u:\b)(submissions|entries|responses)(?-u:\b)|\d+ new (submissions|entries|responses)(?-u:\b))",
    )
});

fn text_head(text: &str, chars: usize) -> &str {
    text.char_indices()
        .nth(chars)
        .map_or(text, |(i, _)| &text[..i])
}

/// Account mail from a service (receipts, password resets, usage warnings, digests of
/// submissions, security alerts, account and billing notices), recognised by its kind and
/// a machine sender (`machine`: the caller knows the sender is a provider); mail that
/// only a service sends is recognised by its wording alone. A person asking about their
/// invoice is not system mail: without machine evidence a kind word is not enough.
pub fn provider_system_mail(view: &MessageView, text: &str, machine: bool) -> Option<String> {
    let subject = view.subject.as_str();
    let head = text_head(text, 2000);
    if let Some(m) = SYSTEM_STRONG.find(subject) {
        return Some(format!(
            "provider system mail ({})",
            m.as_str().to_lowercase()
        ));
    }
    if !(machine || machine_sender(view).is_some()) {
        return None;
    }
    SYSTEM_KIND
        .find(subject)
        .or_else(|| SYSTEM_KIND_BODY.find(head))
        .map(|m| format!("provider system mail ({})", m.as_str().to_lowercase()))
}

/// Subject words of form mail when a machine sent it ("[Site] Contact form", "Anfrage").
static FORMISH_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)((?-u:\b)form(?-u:\b)|formular|formulaire|formulario|(?-u:\b)modulo(?-u:\b)|(?-u:\b)entry(?-u:\b)|submission|enquiry|inquiry|anfrage|(?-u:\b)demande(?-u:\b)|solicitud|richiesta|aanvraag|(?-u:\b)lead(?-u:\b)|quote request|booking request|contact request|callback request|new response|new message)",
    )
});
static FORM_BODY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(form submission|new submission|new (form )?entry|new response|new lead|submitted (via|on|through|from|using)|sent (via|from|through) (the|your) .{0,40}form|has (submitted|filled (out|in))|view (the )?(full )?(submission|entry|response|lead))",
    )
});
/// A `Label: value` line. The label's length (at most 41 characters, one more when it
/// ends in the optional space before the colon) is checked by [`label_lines`], not by a
/// counted repetition: `{0,40}` of a Unicode letter class compiles to 3.5 MB of automaton
/// (0.17 MB without), which the daemon would keep for its life.
static LABEL_LINE: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?m)^\s*[\p{L}][\p{L}\d ()/'._-]*\s?:\s+\S"));

/// How many `Label: value` lines [`LABEL_LINE`] finds, with the label's length bounded as
/// `{0,40}` would: a line whose label is too long is skipped and the search goes on at the
/// next line, where the bounded pattern would have gone on.
fn label_lines(text: &str) -> usize {
    let mut n = 0;
    let mut at = 0;
    while let Some(m) = LABEL_LINE.find_at(text, at) {
        let line = m.as_str().trim_start();
        let label = &line[..line.find(':').unwrap_or(line.len())];
        let chars = label.chars().count();
        let fits = chars <= 41 || (chars == 42 && label.ends_with(char::is_whitespace));
        if fits {
            n += 1;
            at = m.end();
        } else {
            // The bounded pattern failed at this start: its next try is the next line.
            at = match text[m.start()..].find('\n') {
                Some(i) => m.start() + i + 1,
                None => break,
            };
        }
    }
    n
}

/// What makes an unread message look like a form notification: a notification subject, or
/// a machine sender (`provider`: a provider was detected) with form words in the subject
/// or body or a label/value layout. `None` for mail a person wrote.
pub fn notification_marker(
    view: &MessageView,
    text: &str,
    provider: Option<&str>,
) -> Option<String> {
    let subject = view.subject.as_str();
    let head = text_head(text, 4000);
    let labelled = label_lines(head) >= 2;
    let machine = provider.is_some() || machine_sender(view).is_some();
    let by = |what: String| match provider {
        Some(p) => Some(format!("{what}, {p}")),
        None => Some(what),
    };
    if let Some(m) = NOTIFICATION_SUBJECT.find(subject) {
        if machine || labelled {
            return by(format!("subject: {}", m.as_str()));
        }
    }
    if !machine {
        return None;
    }
    // Form scripts send from their own no-reply address with the submitter in Reply-To.
    let from_domain = view
        .from
        .as_ref()
        .and_then(|m| m.address.rsplit_once('@'))
        .map(|(_, d)| d.to_ascii_lowercase());
    let person_reply_to = view.reply_to.iter().find(|m| {
        let d = m
            .address
            .rsplit_once('@')
            .map(|(_, d)| d.to_ascii_lowercase());
        d.is_some() && d != from_domain && !crate::extract::triage::machine_address(&m.address)
    });
    if let Some(m) = person_reply_to {
        return by(format!(
            "a machine sender with a person's Reply-To ({})",
            m.address.to_lowercase()
        ));
    }
    if let Some(m) = FORMISH_SUBJECT.find(subject) {
        return by(format!("subject: {}", m.as_str()));
    }
    if let Some(m) = FORM_BODY.find(head) {
        return by(format!("body: {}", m.as_str().to_lowercase()));
    }
    if labelled {
        return by("label/value lines from a machine sender".into());
    }
    None
}

/// Cold sales outreach: phrases of pitches, not of people asking for a service. Two of
/// them are needed; a prospect rarely writes one.
static PITCH: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(white[- ]label|(?-u:\b)MRR(?-u:\b)|(?-u:\b)ROI(?-u:\b)|(businesses|companies|agencies|brands|firms|teams) like yours|we help (businesses|companies|agencies|brands|firms|teams|local)|(\d+|fifteen|ten|twenty|thirty)[- ]min(ute)?s? (call|chat|meeting|demo)|(book|schedule|hop on) a (quick |short )?(call|meeting|demo)|calendly\.com|not the right person|(won't|will not|wouldn't) follow up|(reply|respond) (with )?[\x22“']?(no|stop|unsubscribe)|partnerships?(?-u:\b)|lead generation|appointment setting|guest post|link building|outsourc|our (platform|agency|team) (helps|can help)|increase your (revenue|sales|leads|traffic)|grow your (business|agency|revenue))",
    )
});

pub fn cold_outreach(text: &str) -> Option<String> {
    let head = text_head(text, 4000);
    let mut found: Vec<String> = PITCH
        .find_iter(head)
        .map(|m| m.as_str().to_lowercase())
        .collect();
    found.sort();
    found.dedup();
    (found.len() >= 2).then(|| format!("cold sales outreach ({})", found.join(", ")))
}

/// Mail from the inbox's own organisation: the sender's domain is a recipient's domain
/// (not a free-mail domain, where unrelated people share it). A colleague's note, not a
/// prospect.
pub fn same_organisation(view: &MessageView) -> Option<String> {
    let from = view.from.as_ref()?.address.to_ascii_lowercase();
    let (_, domain) = from.rsplit_once('@')?;
    if domain.is_empty() || crate::route::is_free_mail_domain(domain) {
        return None;
    }
    view.recipient_addresses()
        .iter()
        .any(|a| a.rsplit_once('@').is_some_and(|(_, d)| d == domain))
        .then(|| format!("internal mail (sender and inbox share {domain})"))
}

#[cfg(test)]
mod tests {
    use super::label_lines;

    #[test]
    fn a_label_line_counts_up_to_41_characters_and_a_too_long_one_does_not_hide_the_next() {
        let label = |n: usize| format!("A{}", "b".repeat(n - 1));
        assert_eq!(label_lines(&format!("{}: x\n", label(41))), 1);
        assert_eq!(label_lines(&format!("{}: x\n", label(42))), 0);
        assert_eq!(label_lines(&format!("{} : x\n", label(41))), 1);
        // The colon's line break belongs to the long label's line: the next line counts.
        assert_eq!(label_lines(&format!("{}:\nName: Jane\n", label(50))), 1);
    }

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
