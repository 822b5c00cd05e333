//! The only user of `mail-parser`: raw bytes → [`MessageView`]. Lenient by design
//! (Postel's law): whatever arrives, a view comes out, with what could not be read
//! listed in `problems`.

use crate::domain::message::{AttachmentView, BodyText, Mailbox, MessageView};
use mail_parser::{Address, HeaderName, HeaderValue, MessageParser, MimeHeaders, PartType};
use std::sync::LazyLock;

/// Messages nested deeper than this (forward of a forward of ...) are not unwrapped.
const MAX_NESTING: usize = 3;

/// mail-parser's default header parsers, except `Received`, which nothing here reads (its
/// parser was about a tenth of the cost of reading a message). Built once: with a header
/// map, every header is looked up in it.
static PARSER: LazyLock<MessageParser> = LazyLock::new(|| {
    let lists = [
        HeaderName::ListArchive,
        HeaderName::ListHelp,
        HeaderName::ListId,
        HeaderName::ListOwner,
        HeaderName::ListPost,
        HeaderName::ListSubscribe,
        HeaderName::ListUnsubscribe,
    ];
    lists
        .into_iter()
        .fold(MessageParser::new(), |p, h| p.header_address(h))
        .with_mime_headers()
        .with_date_headers()
        .with_address_headers()
        .with_message_ids()
        .header_text(HeaderName::Subject)
        .header_text(HeaderName::Comments)
        .header_id(HeaderName::ReturnPath)
        .header_comma_separated(HeaderName::Keywords)
        .header_comma_separated(HeaderName::ContentLanguage)
        .ignore_header(HeaderName::Received)
});

pub fn view(raw: &[u8]) -> MessageView {
    match undeclared_8bit(raw) {
        Some(utf8) => view_nested(utf8.as_bytes(), 0),
        None => view_nested(raw, 0),
    }
}

/// Old scripts (FormMail and its kin) write 8-bit Latin-1 with no MIME headers at all, so
/// nothing says the charset and the bytes are not UTF-8. Such a message is read as
/// Windows-1252 (the superset of Latin-1 that mail clients assume), headers included.
fn undeclared_8bit(raw: &[u8]) -> Option<String> {
    if std::str::from_utf8(raw).is_ok() {
        return None;
    }
    let declares = |needle: &[u8]| {
        raw.windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
    };
    if declares(b"charset") || declares(b"content-transfer-encoding") {
        return None;
    }
    let (text, _, _) = encoding_rs::WINDOWS_1252.decode(raw);
    Some(text.into_owned())
}

fn view_nested(raw: &[u8], depth: usize) -> MessageView {
    if raw.iter().all(|b| b.is_ascii_whitespace()) {
        return MessageView {
            problems: vec!["the message is empty".into()],
            ..Default::default()
        };
    }
    let Some(msg) = PARSER.parse(raw) else {
        return MessageView {
            problems: vec!["not a MIME message (no headers could be read)".into()],
            ..Default::default()
        };
    };
    let mut v = MessageView {
        message_id: msg.message_id().map(str::to_owned),
        in_reply_to: ids(msg.in_reply_to()),
        references: ids(msg.references()),
        subject: msg.subject().unwrap_or("").to_owned(),
        from: msg.from().and_then(first_mailbox),
        reply_to: mailboxes(msg.reply_to()),
        to: mailboxes(msg.to()),
        cc: mailboxes(msg.cc()),
        date: msg.date().map(|d| d.to_rfc3339()),
        ..Default::default()
    };
    for h in msg.headers() {
        let name = h.name().to_owned();
        // the Date header's value is the date formatted above
        let value = match (h.value(), msg.date(), &v.date) {
            (HeaderValue::DateTime(d), Some(date), Some(text)) if d == date => text.clone(),
            (value, _, _) => header_text(value),
        };
        if name.eq_ignore_ascii_case("Delivered-To") {
            v.delivered_to.push(value.trim().to_owned());
        }
        if name.eq_ignore_ascii_case("Return-Path") {
            v.return_path = Some(value.trim().trim_matches(['<', '>']).to_owned());
        }
        v.headers.push((name, value));
    }
    v.content_type = msg
        .content_type()
        .map(|ct| match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
            None => ct.ctype().to_ascii_lowercase(),
        })
        .unwrap_or_else(|| "text/plain".into());
    let text_part = msg.text_part(0).map(|p| &p.body);
    v.has_text_part = matches!(text_part, Some(PartType::Text(_)));
    v.text = match text_part {
        Some(PartType::Text(t)) => fix_mojibake(t).unwrap_or_else(|| t.to_string()).into(),
        Some(PartType::Html(h)) => BodyText::from_html(h.to_string(), text_of_html),
        _ => BodyText::default(),
    };
    v.has_html_part = matches!(msg.html_part(0).map(|p| &p.body), Some(PartType::Html(_)));
    v.html = msg
        .body_html(0)
        .map(|t| fix_mojibake(&t).unwrap_or_else(|| t.into_owned()));
    for part in msg.attachments() {
        if let PartType::Message(inner) = &part.body {
            if depth < MAX_NESTING {
                v.attached_messages
                    .push(view_nested(inner.raw_message(), depth + 1));
            }
            continue;
        }
        // Clients that forward "as attachment" without message/rfc822 send the original as
        // a file named *.eml (application/octet-stream): it is still a message.
        let eml_file = part
            .attachment_name()
            .is_some_and(|n| n.to_ascii_lowercase().ends_with(".eml"));
        if eml_file && depth < MAX_NESTING && !part.contents().is_empty() {
            v.attached_messages
                .push(view_nested(part.contents(), depth + 1));
            continue;
        }
        v.attachments.push(AttachmentView {
            content_type: part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
                    None => ct.ctype().to_ascii_lowercase(),
                })
                .unwrap_or_default(),
            filename: part.attachment_name().map(str::to_owned),
            size: part.contents().len(),
        });
    }
    // An invitation's text/calendar may be an alternative body rather than an attachment.
    let calendar_part = msg.parts.iter().find(|p| {
        p.content_type().is_some_and(|ct| {
            ct.ctype().eq_ignore_ascii_case("text")
                && ct
                    .subtype()
                    .is_some_and(|s| s.eq_ignore_ascii_case("calendar"))
        })
    });
    if let Some(p) = calendar_part {
        if !v
            .attachments
            .iter()
            .any(|a| a.content_type == "text/calendar")
        {
            v.attachments.push(AttachmentView {
                content_type: "text/calendar".into(),
                filename: p.attachment_name().map(str::to_owned),
                size: p.contents().len(),
            });
        }
    }
    v
}

/// The recipient headers desks are told apart by ([`crate::domain::desk::TRUST_ORDER`]),
/// each with its addresses, read from the header block alone: a message's desk is known
/// before it is parsed whole (and classified with that desk's settings).
pub fn recipients(raw: &[u8]) -> Vec<(&'static str, Vec<String>)> {
    let Some(msg) = PARSER.parse_headers(raw) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for h in msg.headers() {
        let Some(name) = crate::domain::desk::TRUST_ORDER
            .into_iter()
            .find(|n| h.name().eq_ignore_ascii_case(n))
        else {
            continue;
        };
        let addresses = match h.value() {
            HeaderValue::Address(a) => a
                .iter()
                .filter_map(|m| m.address())
                .map(str::to_owned)
                .collect(),
            other => header_text(other)
                .split(',')
                .map(|a| {
                    let a = a.trim();
                    match (a.rfind('<'), a.rfind('>')) {
                        (Some(l), Some(r)) if l < r => a[l + 1..r].trim().to_owned(),
                        _ => a.to_owned(),
                    }
                })
                .filter(|a| a.contains('@'))
                .collect(),
        };
        out.push((name, addresses));
    }
    out
}

/// The messages of an mbox file (`From ` lines split them; `>From ` unquoted), in order.
pub fn mbox(reader: impl std::io::BufRead) -> impl Iterator<Item = std::io::Result<Vec<u8>>> {
    mail_parser::mailbox::mbox::MessageIterator::new(reader).map(|m| m.map(|m| m.unwrap_contents()))
}

/// The files attached to a message (not nested messages), with their bytes, for the relay
/// to carry over: (file name, `type/subtype`, bytes). Empty when the message does not parse.
pub fn attachment_files(raw: &[u8]) -> Vec<(Option<String>, String, Vec<u8>)> {
    let Some(msg) = PARSER.parse(raw) else {
        return Vec::new();
    };
    msg.attachments()
        .filter(|part| !matches!(part.body, PartType::Message(_)))
        .map(|part| {
            let ct = part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{}", ct.ctype(), sub).to_ascii_lowercase(),
                    None => ct.ctype().to_ascii_lowercase(),
                })
                .unwrap_or_else(|| "application/octet-stream".into());
            (
                part.attachment_name().map(str::to_owned),
                ct,
                part.contents().to_vec(),
            )
        })
        .collect()
}

fn ids(h: &HeaderValue<'_>) -> Vec<String> {
    match h {
        HeaderValue::Text(t) => vec![t.to_string()],
        HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
        _ => Vec::new(),
    }
}

fn mailboxes(a: Option<&Address<'_>>) -> Vec<Mailbox> {
    a.map(|a| {
        a.iter()
            .filter_map(|addr| addr.address().map(|email| Mailbox::new(addr.name(), email)))
            .collect()
    })
    .unwrap_or_default()
}

fn first_mailbox(a: &Address<'_>) -> Option<Mailbox> {
    mailboxes(Some(a)).into_iter().next()
}

fn header_text(v: &HeaderValue<'_>) -> String {
    match v {
        HeaderValue::Text(t) => t.to_string(),
        HeaderValue::TextList(l) => l.join(", "),
        HeaderValue::Address(a) => a
            .iter()
            .filter_map(|m| m.address())
            .collect::<Vec<_>>()
            .join(", "),
        HeaderValue::DateTime(d) => d.to_rfc3339(),
        HeaderValue::ContentType(ct) => match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub),
            None => ct.ctype().to_string(),
        },
        HeaderValue::Received(_) | HeaderValue::Empty => String::new(),
    }
}

/// The text of an HTML body, as mail-parser renders it for `body_text`.
fn text_of_html(html: &str) -> String {
    let text = mail_parser::decoders::html::html_to_text(html);
    fix_mojibake(&text).unwrap_or(text)
}

/// UTF-8 bytes that were declared (or guessed) as Latin-1/Windows-1252 decode to "Ã©",
/// "â€™" and the like. When the text re-encodes to Windows-1252 exactly and those bytes
/// are valid UTF-8, the UTF-8 reading is the right one.
fn fix_mojibake(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let suspicious =
        memchr::memchr_iter(0xC3, b).any(|i| matches!(b.get(i + 1), Some(0x82 | 0x83 | 0xA2)));
    if !suspicious {
        return None;
    }
    let (bytes, _, unmappable) = encoding_rs::WINDOWS_1252.encode(s);
    if unmappable {
        return None;
    }
    let fixed = std::str::from_utf8(&bytes).ok()?;
    (fixed != s).then(|| fixed.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn undeclared_8bit_mail_is_read_as_latin1() {
        let raw = b"From: jose@example.org (Jos\xe9 Mart\xednez)\r\nSubject: Estimate\r\n\r\nIt was submitted by Jos\xe9 Mart\xednez\r\n";
        let v = view(raw);
        assert!(v.text.contains("José Martínez"), "{}", v.text.as_str());
        // a declared charset is mail-parser's to decode, as before
        let declared = b"Subject: s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nJos\xe9\r\n";
        assert!(!view(declared).text.contains("José"));
    }

    #[test]
    fn html_only_mail_is_converted_to_text_when_read_and_a_text_part_is_kept_as_is() {
        let html_only = b"From: a@example.com\r\nSubject: s\r\nContent-Type: text/html\r\n\r\n<p>Hello <b>there</b></p><p>Second line</p>";
        let v = view(html_only);
        assert!(!v.has_text_part);
        let parsed = MessageParser::default()
            .parse(&html_only[..])
            .expect("parses");
        let expected = parsed.body_text(0).expect("a text rendering");
        assert!(expected.contains("Second line"), "{expected}");
        assert_eq!(&*v.text, expected.as_ref());

        let with_text =
            b"From: a@example.com\r\nSubject: s\r\nContent-Type: text/plain\r\n\r\nJust text\r\n";
        let v = view(with_text);
        assert!(v.has_text_part);
        assert_eq!(v.text.trim(), "Just text");
    }
}
