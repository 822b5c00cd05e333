//! Our owned view of an email, built by the parser (`parse.rs`, outside the domain) and read
//! by the rest of the domain. Nothing outside `parse.rs` sees `mail-parser` types.

use serde::Serialize;
use std::fmt;
use std::ops::Deref;
use std::sync::OnceLock;

/// One address as written in a header: display name and address, both decoded.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Mailbox {
    pub name: Option<String>,
    pub address: String,
}

impl Mailbox {
    pub fn new(name: Option<&str>, address: &str) -> Self {
        Mailbox {
            name: name.map(str::to_owned).filter(|n| !n.trim().is_empty()),
            address: address.trim().to_owned(),
        }
    }
}

/// An attachment's outline; the bytes stay in the stored raw message.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AttachmentView {
    pub content_type: String,
    pub filename: Option<String>,
    pub size: usize,
}

/// Everything the domain needs to know about one message, decoded to UTF-8.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MessageView {
    /// Message-ID without angle brackets.
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub subject: String,
    pub from: Option<Mailbox>,
    pub reply_to: Vec<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    /// `Delivered-To` values, the envelope recipients as the MTA saw them.
    pub delivered_to: Vec<String>,
    /// `Return-Path`: `Some("")` is the null return path of bounces.
    pub return_path: Option<String>,
    /// `Date` header as RFC 3339, when it parsed.
    pub date: Option<String>,
    /// Every header, name as written and value decoded, in order.
    pub headers: Vec<(String, String)>,
    /// Top-level MIME type, lowercase (`multipart/report`, `text/plain`, ...).
    pub content_type: String,
    /// The plain-text body; converted from HTML when the message has no text part.
    pub text: BodyText,
    /// True when `text` comes from a real text/plain part (not converted from HTML).
    pub has_text_part: bool,
    /// The HTML body, when there is one; for mail with only a text part, that text as HTML.
    pub html: Option<String>,
    /// True when `html` comes from a real text/html part (not converted from text).
    pub has_html_part: bool,
    pub attachments: Vec<AttachmentView>,
    /// `message/rfc822` parts, parsed (forwarded notifications).
    pub attached_messages: Vec<MessageView>,
    /// What could not be read (bad MIME, unknown charset); empty when all went well.
    pub problems: Vec<String>,
}

impl MessageView {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header, by case-insensitive name.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The HTML the sender wrote: `html` when it comes from a real text/html part, never
    /// mail-parser's rendering of a text part (relaying that would add an HTML version
    /// the sender never sent).
    pub fn html_part(&self) -> Option<&str> {
        self.html.as_deref().filter(|_| self.has_html_part)
    }

    /// Every recipient address in To, Cc and Delivered-To, lowercase.
    pub fn recipient_addresses(&self) -> Vec<String> {
        self.to
            .iter()
            .chain(self.cc.iter())
            .map(|m| m.address.to_ascii_lowercase())
            .chain(self.delivered_to.iter().map(|a| a.to_ascii_lowercase()))
            .collect()
    }
}

/// How a text body is made from an HTML body (the parser's renderer).
pub type HtmlToText = fn(&str) -> String;

/// The plain-text body, read as a `str`. For mail without a text part it is converted from
/// the HTML part on first use: classification reads the HTML itself, so most HTML-only
/// mail never needs the conversion (it was a tenth of the cost of reading a message).
#[derive(Clone, Default)]
pub struct BodyText {
    text: OnceLock<String>,
    /// The HTML and the conversion, until the text is first read.
    from_html: Option<(String, HtmlToText)>,
}

impl BodyText {
    /// A body converted from `html` by `convert` when it is first read.
    pub fn from_html(html: String, convert: HtmlToText) -> Self {
        BodyText {
            text: OnceLock::new(),
            from_html: Some((html, convert)),
        }
    }

    pub fn as_str(&self) -> &str {
        self.text.get_or_init(|| match &self.from_html {
            Some((html, convert)) => convert(html),
            None => String::new(),
        })
    }
}

impl Deref for BodyText {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<String> for BodyText {
    fn from(text: String) -> Self {
        BodyText {
            text: OnceLock::from(text),
            from_html: None,
        }
    }
}

impl From<&str> for BodyText {
    fn from(text: &str) -> Self {
        text.to_owned().into()
    }
}

impl fmt::Debug for BodyText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for BodyText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq for BodyText {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for BodyText {}

impl Serialize for BodyText {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}
