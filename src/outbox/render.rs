//! Draft → RFC 5322 bytes, with lettre's builder: encoded headers, text and HTML
//! alternatives, our Message-ID and loop header.

use crate::domain::classify::LOOP_HEADER;
use crate::domain::notify::{header_safe, Draft};
use lettre::message::header::ContentType;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Attachment as LettreAttachment, Mailbox, MultiPart, SinglePart};
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
        purpose: d.purpose.to_string(),
        why,
    };
    let mut b = Message::builder()
        .from(mailbox(
            d.from_name.as_deref(),
            &d.from,
            d.purpose.as_str(),
        )?)
        .subject(header_safe(&d.subject, 250))
        .message_id(Some(format!("<{message_id}>")))
        .date(
            std::time::SystemTime::UNIX_EPOCH
                + std::time::Duration::from_millis(date.as_millisecond().max(0) as u64),
        );
    for to in &d.to {
        b = b.to(mailbox(None, to, d.purpose.as_str())?);
    }
    if let Some(r) = &d.reply_to {
        b = b.reply_to(mailbox(None, r, d.purpose.as_str())?);
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
    let content_type = |ct: &str| {
        ContentType::parse(ct)
            .unwrap_or_else(|_| ContentType::parse("application/octet-stream").expect("static"))
    };
    // Text | HTML; the HTML with its inline images as multipart/related (RFC 2387).
    let alternative = d.html.as_ref().map(|html| {
        if d.inline.is_empty() {
            return MultiPart::alternative_plain_html(d.text.clone(), html.clone());
        }
        let mut related = MultiPart::related().singlepart(SinglePart::html(html.clone()));
        for i in &d.inline {
            related = related.singlepart(
                LettreAttachment::new_inline(header_safe(&i.content_id, 120))
                    .body(i.bytes.clone(), content_type(&i.content_type)),
            );
        }
        MultiPart::alternative()
            .singlepart(SinglePart::plain(d.text.clone()))
            .multipart(related)
    });
    let mut msg = if d.attachments.is_empty() {
        match alternative {
            Some(alt) => b.multipart(alt),
            None => b.singlepart(SinglePart::plain(d.text.clone())),
        }
    } else {
        let mut mixed = match alternative {
            Some(alt) => MultiPart::mixed().multipart(alt),
            None => MultiPart::mixed().singlepart(SinglePart::plain(d.text.clone())),
        };
        for a in &d.attachments {
            mixed = mixed.singlepart(
                LettreAttachment::new(header_safe(&a.filename, 120))
                    .body(a.bytes.clone(), content_type(&a.content_type)),
            );
        }
        b.multipart(mixed)
    }
    .map_err(|e| err(e.to_string()))?;
    let headers = msg.headers_mut();
    headers.insert_raw(HeaderValue::new(
        HeaderName::new_from_ascii_str(LOOP_HEADER),
        d.purpose.to_string(),
    ));
    if let Some(lu) = &d.list_unsubscribe {
        headers.insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("List-Unsubscribe"),
            header_safe(lu, 900),
        ));
        if d.list_unsubscribe_post {
            headers.insert_raw(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".into(),
            ));
        }
    }
    if d.auto_submitted {
        headers.insert_raw(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".into(),
        ));
    }
    Ok(msg.formatted())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::notify::Attachment;

    fn draft() -> Draft {
        Draft {
            from_name: Some("Alice Smith".into()),
            from: "reply+abc@leads.test".into(),
            to: vec!["jane@example.net".into()],
            reply_to: Some("reply+abc@leads.test".into()),
            subject: "Re: your quote".into(),
            text: "Hello Jane".into(),
            purpose: crate::domain::notify::Purpose::RelayToLead,
            ..Default::default()
        }
    }

    #[test]
    fn list_unsubscribe_headers_and_one_click() {
        let mut d = draft();
        d.list_unsubscribe = Some(
            "<mailto:reply+abc@leads.test?subject=unsubscribe>, <https://leads.test/unsubscribe/abc>"
                .into(),
        );
        d.list_unsubscribe_post = true;
        let raw =
            String::from_utf8(render(&d, "lg.1@leads.test", jiff::Timestamp::UNIX_EPOCH).unwrap())
                .unwrap();
        let v = crate::parse::view(raw.as_bytes());
        let unfolded = raw.replace("\r\n ", " ");
        assert!(
            unfolded.contains("List-Unsubscribe: <mailto:reply+abc@leads.test?subject=unsubscribe>, <https://leads.test/unsubscribe/abc>\r\n"),
            "{raw}"
        );
        assert_eq!(
            v.header("List-Unsubscribe-Post").map(str::trim),
            Some("List-Unsubscribe=One-Click")
        );
        assert_eq!(v.text.trim(), "Hello Jane");
    }

    #[test]
    fn attachments_ride_along_in_a_mixed_multipart() {
        let mut d = draft();
        d.attachments.push(Attachment {
            filename: "quote.pdf".into(),
            content_type: "application/pdf".into(),
            bytes: b"%PDF-1.4 fake".to_vec(),
        });
        let raw = render(&d, "lg.2@leads.test", jiff::Timestamp::UNIX_EPOCH).unwrap();
        let v = crate::parse::view(&raw);
        assert_eq!(v.text.trim(), "Hello Jane");
        assert_eq!(v.attachments.len(), 1, "{v:?}");
        assert_eq!(v.attachments[0].filename.as_deref(), Some("quote.pdf"));
        assert!(!String::from_utf8_lossy(&raw).contains("List-Unsubscribe"));
    }

    #[test]
    fn inline_images_sit_beside_the_html_in_a_related_part() {
        let mut d = draft();
        d.html = Some("<p>Hello Jane</p><img src=\"cid:chart@leadgate\">".into());
        d.inline.push(crate::domain::notify::Inline {
            content_id: "chart@leadgate".into(),
            content_type: "image/png".into(),
            bytes: b"\x89PNG fake".to_vec(),
        });
        let raw = render(&d, "lg.3@leads.test", jiff::Timestamp::UNIX_EPOCH).unwrap();
        use mail_parser::MimeHeaders;
        let m = mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert_eq!(m.body_text(0).as_deref(), Some("Hello Jane"));
        assert!(m.body_html(0).unwrap().contains("cid:chart@leadgate"));
        let image = m
            .parts
            .iter()
            .find(|p| p.content_type().is_some_and(|c| c.c_type == "image"))
            .expect("the image part");
        assert_eq!(image.content_id(), Some("chart@leadgate"));
        let text = String::from_utf8_lossy(&raw);
        let alternative = text.find("multipart/alternative").unwrap();
        let related = text.find("multipart/related").unwrap();
        assert!(alternative < related, "related inside alternative:\n{text}");
    }
}
