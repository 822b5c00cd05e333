//! Inline forwards (Gmail, Outlook, Apple Mail, Thunderbird, in several languages): find the
//! forward marker, read the quoted header block, and hand back the original's sender,
//! subject and body items.

use super::items::Item;
use super::pairs::colon_split;
use crate::message::Mailbox;
use regex::Regex;
use std::sync::LazyLock;

static MARKER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^(?:-{2,}\s*(?:forwarded message|original message|weitergeleitete nachricht|ursprüngliche nachricht|message transféré|message d'origine|message original|mensaje reenviado|mensaje original|messaggio inoltrato|messaggio originale|doorgestuurd bericht|oorspronkelijk bericht|origineel bericht|videresendt meddelelse|oprindelig meddelelse|vidarebefordrat meddelande|ursprungligt meddelande|mensagem encaminhada|mensagem reencaminhada|mensagem original|przekazana wiadomość|oryginalna wiadomość)\s*-*|(?:begin forwarded message|début du message réexpédié|début du message transféré|anfang der weitergeleiteten nachricht|inicio del mensaje reenviado|comienzo del mensaje reenviado|inizio messaggio inoltrato|begin doorgestuurd bericht|início da mensagem reencaminhada|começo da mensagem encaminhada|início da mensagem encaminhada|początek przekazywanej wiadomości)\s*:|_{10,})$").expect("static regex")
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
    "mittente",
    "afzender",
    "remetente",
    "remitente",
    "nadawca",
    "avsändare",
    "absender",
    "sender",
];
/// Reply-To in the header block: where a form service put the submitter.
const REPLY_TO: &[&str] = &[
    "reply-to",
    "reply to",
    "rispondi-a",
    "rispondi a",
    "antwort an",
    "répondre à",
    "responder a",
    "antwoord aan",
    "odpowiedz do",
    "svara till",
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
/// Header names other than From, Reply-To, Subject and the date (see [`DATE`]).
const OTHER: &[&str] = &[
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
    "do",
    "bcc",
    "importance",
    "wichtigkeit",
    "priority",
    "priorität",
    "attachments",
    "anlagen",
    "pièces jointes",
    "adjuntos",
    "allegati",
    "bijlagen",
    "anexos",
];

pub struct Forwarded {
    pub from: Option<Mailbox>,
    pub reply_to: Vec<Mailbox>,
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
    "enviada em",
    "enviado em",
    "data de envio",
    "wysłano",
    "verstuurd",
    "gesendet am",
    "inviato il",
    "verzonden op",
    "sent on",
];

/// Whether a header name, in any case, is one of `names`. No name is near this many bytes
/// (even lowercasing that shrinks), so longer keys are not lowercased to find out.
fn named(names: &[&str], key: &str) -> bool {
    const LONGEST: usize = 64;
    if key.is_ascii() {
        // the names are lowercase: an ASCII key lowercases to one of them exactly when it
        // equals it but for ASCII case (no String made)
        return names.iter().any(|n| n.eq_ignore_ascii_case(key));
    }
    key.len() <= LONGEST && names.contains(&key.to_lowercase().as_str())
}

/// A header block without a marker line (Outlook's HTML forwards draw a rule instead):
/// a `From:` line followed, within three lines, by a date line.
fn bare_header_block(items: &[Item]) -> Option<usize> {
    let lines: Vec<(usize, &str)> = items
        .iter()
        .enumerate()
        .filter_map(|(i, it)| it.line().map(|t| (i, t)))
        .collect();
    lines.iter().enumerate().find_map(|(k, (i, t))| {
        let (key, value) = colon_split(t)?;
        if !named(FROM, key) || parse_mailbox(value).is_none() {
            return None;
        }
        let dated = lines[k + 1..]
            .iter()
            .take(3)
            .any(|(_, t)| colon_split(t).is_some_and(|(key, _)| named(DATE, key)));
        dated.then_some(*i)
    })
}

/// One level of `> ` quoting taken off, when most lines of `items` carry it (Apple Mail
/// and many clients quote the whole forwarded original, header block included).
pub fn unquote(items: &[Item]) -> Option<Vec<Item>> {
    let lines = items.iter().filter_map(Item::line);
    let (quoted, total) = lines.fold((0, 0), |(q, t), l| {
        (q + usize::from(l.starts_with('>')), t + 1)
    });
    if quoted < 2 || quoted * 10 < total * 6 {
        return None;
    }
    Some(
        items
            .iter()
            .map(|it| match it.line().and_then(|l| l.strip_prefix('>')) {
                Some(rest) => {
                    let rest = rest.trim();
                    if rest.is_empty() {
                        Item::Blank
                    } else {
                        Item::Line {
                            text: rest.to_owned(),
                            bold: false,
                        }
                    }
                }
                None => it.clone(),
            })
            .collect(),
    )
}

/// A forward marker line. Every marker starts with `-`, `_` or one of a few letters (in
/// any case), and those that start with a letter end with `:`: the other lines, nearly
/// all, are not given to the regex.
fn marker_line(line: &str) -> bool {
    let t = line.trim();
    let first = t.as_bytes().first().map(u8::to_ascii_lowercase);
    let candidate = match first {
        Some(b'-' | b'_') => true,
        Some(b'a' | b'b' | b'c' | b'd' | b'i' | b'p') => t.ends_with(':'),
        _ => false,
    };
    candidate && MARKER.is_match(t)
}

/// Forwards nest (a client forwards what a colleague forwarded); no real chain is deeper.
const MAX_NESTING: usize = 6;

/// Every forward in `items`, outermost first: each one's body holds the next.
pub fn unwrap_all(items: &[Item]) -> Vec<Forwarded> {
    let mut chain: Vec<Forwarded> = Vec::new();
    while chain.len() < MAX_NESTING {
        let inner = match chain.last() {
            Some(fw) => unwrap(&fw.items),
            None => unwrap(items),
        };
        match inner {
            Some(fw) => chain.push(fw),
            None => break,
        }
    }
    chain
}

pub fn unwrap(items: &[Item]) -> Option<Forwarded> {
    let start = match items.iter().position(|i| i.line().is_some_and(marker_line)) {
        Some(marker) => marker + 1,
        None => bare_header_block(items)?,
    };
    let rest = items.get(start..).unwrap_or_default();
    let unquoted = unquote(rest);
    let items = unquoted.as_deref().unwrap_or(rest);
    let mut j = 0;
    while matches!(items.get(j), Some(Item::Blank)) {
        j += 1;
    }
    let mut from = None;
    let mut reply_to = Vec::new();
    let mut subject = String::new();
    let mut seen = 0;
    let mut keys: Vec<String> = Vec::new();
    // Thunderbird and Outlook draw the header block as a table: its rows come as pairs.
    let header_at = |j: usize| match items.get(j)? {
        Item::Line { text, .. } => colon_split(text),
        Item::Pair(k, v) => Some((k.trim().trim_end_matches([':', '：']).trim(), v.as_str())),
        Item::Blank => None,
    };
    let known = |k: &str| {
        [FROM, SUBJECT, OTHER, DATE, REPLY_TO]
            .iter()
            .any(|names| names.contains(&k))
    };
    loop {
        // header tables put blank lines between their rows: go on past one only to a
        // header name we know, so the original's own `Label: value` lines stay its body
        let mut next = j;
        while matches!(items.get(next), Some(Item::Blank)) {
            next += 1;
        }
        let Some((k, v)) = header_at(next) else { break };
        let k = k.to_lowercase();
        if next > j && (!known(k.as_str()) || keys.contains(&k)) {
            // a name seen already starts the original's own text (Contact Form 7's
            // body opens with a `From:` line)
            break;
        }
        j = next;
        keys.push(k.clone());
        if FROM.contains(&k.as_str()) && from.is_none() {
            from = parse_mailbox(v);
        } else if REPLY_TO.contains(&k.as_str()) && reply_to.is_empty() {
            reply_to.extend(parse_mailbox(v));
        } else if SUBJECT.contains(&k.as_str()) && subject.is_empty() {
            subject = v.to_owned();
        } else if !OTHER.contains(&k.as_str()) && !DATE.contains(&k.as_str()) {
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
        reply_to,
        subject,
        items: items.get(j..).unwrap_or_default().to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::items::from_text;
    use super::*;

    #[test]
    fn apple_mail_quotes_the_whole_original() {
        let t = "FYI\n\nBegin forwarded message:\n\n> From: Site <web@shop.example.com>\n> Subject: Quote request\n> Date: 1 December 2026\n>\n> Name: Ann Lee\n> Email: ann@example.org\n";
        let fw = unwrap(&from_text(t)).expect("forward");
        assert_eq!(fw.subject, "Quote request");
        assert_eq!(
            fw.from.map(|m| m.address),
            Some("web@shop.example.com".into())
        );
        assert!(fw.items.iter().any(|i| i.line() == Some("Name: Ann Lee")));
    }

    #[test]
    fn nested_forwards_are_unwrapped_to_the_innermost() {
        let t = "see below\n---------- Forwarded message ---------\nFrom: Office <office@agency.example.com>\nSubject: Fwd: New lead\n\nfor you\n\nBegin forwarded message:\n\n> From: Forms <forms@site.example.net>\n> Subject: New lead\n>\n> Name: Bo Chen\n";
        let chain = unwrap_all(&from_text(t));
        assert_eq!(chain.len(), 2);
        let inner = chain.last().expect("inner");
        assert_eq!(
            inner.from.as_ref().map(|m| m.address.as_str()),
            Some("forms@site.example.net")
        );
        assert!(inner
            .items
            .iter()
            .any(|i| i.line() == Some("Name: Bo Chen")));
    }

    #[test]
    fn localised_apple_mail_markers() {
        for m in [
            "Inizio messaggio inoltrato:",
            "Begin doorgestuurd bericht:",
            "Início da mensagem reencaminhada:",
        ] {
            let t = format!("{m}\n\n> From: a@example.com\n> Subject: X\n>\n> Name: Ann\n");
            assert!(unwrap(&from_text(&t)).is_some(), "{m}");
        }
    }
}
