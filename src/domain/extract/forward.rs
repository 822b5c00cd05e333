//! Inline forwards (Gmail, Outlook, Apple Mail, Thunderbird, in several languages): find the
//! forward marker, read the quoted header block, and hand back the original's sender,
//! subject and body items.

use super::items::Item;
use super::pairs::colon_split;
use crate::domain::message::Mailbox;
use regex::Regex;
use std::sync::LazyLock;

static MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:-{2,}\s*(?:forwarded message|original message|weitergeleitete nachricht|ursprüngliche nachricht|message transféré|message d'origine|mensaje reenviado|mensaje original|messaggio inoltrato|messaggio originale|doorgestuurd bericht|oorspronkelijk bericht|videresendt meddelelse|oprindelig meddelelse|vidarebefordrat meddelande|ursprungligt meddelande|mensagem encaminhada|mensagem original|przekazana wiadomość)\s*-*|begin forwarded message\s*:|début du message réexpédié\s*:|anfang der weitergeleiteten nachricht\s*:|inicio del mensaje reenviado\s*:|_{10,})$").expect("static regex")
});

const FROM: &[&str] = &[
    "from",
    "von",
    "de",
    "da",
    "van",
    "fra",
    "från",
    "od",
    "expéditeur",
];
const SUBJECT: &[&str] = &[
    "sujet",
    "subject",
    "betreff",
    "objet",
    "asunto",
    "oggetto",
    "onderwerp",
    "emne",
    "ämne",
    "assunto",
    "temat",
];
const OTHER: &[&str] = &[
    "date",
    "datum",
    "fecha",
    "data",
    "sent",
    "gesendet",
    "envoyé",
    "envoyé le",
    "enviado",
    "inviato",
    "verzonden",
    "sendt",
    "skickat",
    "to",
    "an",
    "à",
    "a",
    "para",
    "aan",
    "til",
    "till",
    "cc",
    "kopie",
    "reply-to",
    "antwort an",
    "répondre à",
    "do",
    "enviado el",
    "bcc",
    "importance",
    "wichtigkeit",
    "priority",
    "priorität",
    "attachments",
    "anlagen",
    "pièces jointes",
    "adjuntos",
];

pub struct Forwarded {
    pub from: Option<Mailbox>,
    pub subject: String,
    pub items: Vec<Item>,
}

pub fn parse_mailbox(v: &str) -> Option<Mailbox> {
    let v = v.trim();
    if let (Some(a), Some(b)) = (v.rfind('<'), v.rfind('>')) {
        if a < b {
            let addr = v.get(a + 1..b)?.trim();
            let name = v.get(..a)?.trim().trim_matches('"').trim();
            if addr.contains('@') {
                return Some(Mailbox::new(Some(name), addr));
            }
        }
    }
    super::labels::email_in(v).map(|a| Mailbox::new(None, &a))
}

const DATE: &[&str] = &[
    "date",
    "datum",
    "fecha",
    "data",
    "sent",
    "gesendet",
    "envoyé",
    "envoyé le",
    "enviado",
    "inviato",
    "verzonden",
    "sendt",
    "skickat",
    "enviado el",
];

fn key_of(t: &str) -> Option<String> {
    colon_split(t).map(|(k, _)| k.to_lowercase())
}

/// A header block without a marker line (Outlook's HTML forwards draw a rule instead):
/// a `From:` line followed, within three lines, by a date line.
fn bare_header_block(items: &[Item]) -> Option<usize> {
    let lines: Vec<(usize, &str)> = items
        .iter()
        .enumerate()
        .filter_map(|(i, it)| it.line().map(|t| (i, t)))
        .collect();
    let keys: Vec<Option<String>> = lines.iter().map(|(_, t)| key_of(t)).collect();
    lines.iter().enumerate().find_map(|(k, (i, t))| {
        let from = keys[k].as_deref().is_some_and(|key| FROM.contains(&key))
            && colon_split(t).is_some_and(|(_, v)| parse_mailbox(v).is_some());
        let dated = keys
            .iter()
            .skip(k + 1)
            .take(3)
            .any(|key| key.as_deref().is_some_and(|key| DATE.contains(&key)));
        (from && dated).then_some(*i)
    })
}

pub fn unwrap(items: &[Item]) -> Option<Forwarded> {
    let start = match items
        .iter()
        .position(|i| i.line().is_some_and(|t| MARKER.is_match(t.trim())))
    {
        Some(marker) => marker + 1,
        None => bare_header_block(items)?,
    };
    let mut j = start;
    while matches!(items.get(j), Some(Item::Blank)) {
        j += 1;
    }
    let mut from = None;
    let mut subject = String::new();
    let mut seen = 0;
    while let Some(t) = items.get(j).and_then(Item::line) {
        let Some((k, v)) = colon_split(t) else { break };
        let k = k.to_lowercase();
        if FROM.contains(&k.as_str()) && from.is_none() {
            from = parse_mailbox(v);
        } else if SUBJECT.contains(&k.as_str()) && subject.is_empty() {
            subject = v.to_owned();
        } else if !OTHER.contains(&k.as_str()) {
            // an unknown header name in another language: short, and near the top
            let short = k.chars().count() <= 25 && k.split_whitespace().count() <= 3;
            if !short || seen >= 8 {
                break;
            }
        }
        seen += 1;
        j += 1;
    }
    if from.is_none() && subject.is_empty() {
        return None;
    }
    Some(Forwarded {
        from,
        subject,
        items: items.get(j..).unwrap_or_default().to_vec(),
    })
}
