//! Draft → RFC 5322 bytes, with lettre's builder: encoded headers, text and HTML
//! alternatives, our Message-ID and loop header.

use crate::domain::classify::LOOP_HEADER;
use crate::domain::notify::{header_safe, Draft};
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::Message;

#[derive(Debug, thiserror::Error)]
#[error("cannot build the email ({purpose}): {why}")]
pub struct RenderError {
    pub purpose: String,
    pub why: String,
}

/// A fresh Message-ID in our own domain, so replies to it can be recognised.
pub fn new_message_id(domain: &str) -> String {
    use rand::Rng;
    let n: u128 = rand::thread_rng().gen();
    format!("lg.{n:032x}@{domain}")
}

fn mailbox(name: Option<&str>, addr: &str, purpose: &str) -> Result<Mailbox, RenderError> {
    let email = addr.parse().map_err(|e| RenderError {
        purpose: purpose.to_owned(),
        why: format!("{addr:?}: {e}"),
    })?;
    Ok(Mailbox::new(name.map(|n| header_safe(n, 120)), email))
}

/// Renders `d` with `message_id` (no angle brackets) and the date `date`.
pub fn render(d: &Draft, message_id: &str, date: jiff::Timestamp) -> Result<Vec<u8>, RenderError> {
    let err = |why: String| RenderError {
        purpose: d.purpose.clone(),
        why,
    };
    let mut b = Message::builder()
        .from(mailbox(d.from_name.as_deref(), &d.from, &d.purpose)?)
        .subject(header_safe(&d.subject, 250))
        .message_id(Some(format!("<{message_id}>")))
        .date(
            std::time::SystemTime::UNIX_EPOCH
                + std::time::Duration::from_millis(date.as_millisecond().max(0) as u64),
        );
    for to in &d.to {
        b = b.to(mailbox(None, to, &d.purpose)?);
    }
    if let Some(r) = &d.reply_to {
        b = b.reply_to(mailbox(None, r, &d.purpose)?);
    }
    if let Some(irt) = &d.in_reply_to {
        b = b.in_reply_to(format!("<{irt}>"));
    }
    if !d.references.is_empty() {
        b = b.references(
            d.references
                .iter()
                .map(|r| format!("<{r}>"))
                .collect::<Vec<_>>()
                .join(" "),
        );
    }
    let mut msg = match &d.html {
        Some(html) => b.multipart(MultiPart::alternative_plain_html(
            d.text.clone(),
            html.clone(),
        )),
        None => b.singlepart(SinglePart::plain(d.text.clone())),
    }
    .map_err(|e| err(e.to_string()))?;
    let headers = msg.headers_mut();
    headers.insert_raw(HeaderValue::new(
        HeaderName::new_from_ascii_str(LOOP_HEADER),
        d.purpose.clone(),
    ));
    if d.auto_submitted {
        headers.insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".into(),
        ));
    }
    Ok(msg.formatted())
}
