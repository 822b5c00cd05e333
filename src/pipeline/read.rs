//! The CPU part of a message, before its transaction: parse, classify, the dedupe key.

use super::*;

/// A message read before its transaction: the CPU part of the pipeline.
pub(super) struct Read {
    pub(super) view: MessageView,
    pub(super) classification: Classification,
    pub(super) quarantined: bool,
    pub(super) dedupe_key: String,
    pub(super) raw_sha256: String,
}

pub(super) fn read(raw: &[u8], ctx: &ClassifyContext) -> Read {
    let (view, classification, quarantined) = read_safely(raw, ctx);
    let dedupe_key = dedupe_key(&view, raw);
    Read {
        view,
        classification,
        quarantined,
        dedupe_key,
        raw_sha256: hex::encode(Sha256::digest(raw)),
    }
}

/// The normalised submitter address of a notification (what capture looks its lead up by).
pub(super) fn notification_email(r: &Read) -> Option<String> {
    match &r.classification.extraction {
        Some(e) if r.classification.captures() => e
            .fields
            .email
            .as_deref()
            .and_then(|a| EmailAddress::parse(a).ok())
            .map(|a| a.normalized()),
        _ => None,
    }
}

pub fn classify_context(s: &Settings) -> ClassifyContext {
    ClassifyContext {
        tracked: Some(s.relay.address.clone()),
        log_address: Some(s.relay.log_address.normalized()),
        team_addresses: s
            .people
            .iter()
            .map(|p| p.email.to_ascii_lowercase())
            .collect(),
        message_id_domain: Some(s.relay.domain.clone()),
        templates: s.templates.clone(),
        providers_off: Vec::new(),
        triage_off: s.capture.triage == TriageMode::Off,
    }
}

/// Same Message-ID and same body: the same message, whatever the transport added on top.
/// Without a Message-ID the whole raw message stands in.
pub fn dedupe_key(view: &MessageView, raw: &[u8]) -> String {
    let mut h = Sha256::new();
    match &view.message_id {
        Some(id) => {
            h.update(b"mid:");
            h.update(id.trim().as_bytes());
            h.update([0]);
            h.update(body_of(raw));
        }
        None => {
            h.update(b"raw:");
            h.update(body_of(raw));
        }
    }
    hex::encode(h.finalize())
}

/// The bytes after the header block (after the first empty line).
pub(super) fn body_of(raw: &[u8]) -> &[u8] {
    for (i, w) in raw.windows(2).enumerate() {
        if w == b"\n\n" {
            return &raw[i + 2..];
        }
        if w == b"\n\r" && raw.get(i + 2) == Some(&b'\n') {
            return &raw[i + 3..];
        }
    }
    raw
}

/// Parse and classify, turning a panic in either into a stored `other` message: bad input
/// must never stop the mail behind it.
pub(super) fn read_safely(
    raw: &[u8],
    ctx: &ClassifyContext,
) -> (MessageView, Classification, bool) {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let view = crate::parse::view(raw);
        let c = classify(&view, ctx);
        (view, c)
    }));
    match result {
        Ok((view, c)) => (view, c, false),
        Err(panic) => {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".into());
            tracing::error!(panic = %why, "reading a message panicked; stored as other and quarantined");
            let c = Classification {
                class: MessageClass::Other,
                reason: format!("leadgate could not read this message (internal error: {why})"),
                extraction: None,
                triage: false,
            };
            (MessageView::default(), c, true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    pub(super) fn dedupe_ignores_transport_headers_but_not_the_body() {
        let a = b"Received: by mx1\r\nMessage-ID: <x@y>\r\nSubject: s\r\n\r\nbody\r\n";
        let b = b"Received: by mx2\r\nDelivered-To: other@z\r\nMessage-ID: <x@y>\r\nSubject: s\r\n\r\nbody\r\n";
        let c = b"Received: by mx1\r\nMessage-ID: <x@y>\r\nSubject: s\r\n\r\nother body\r\n";
        let key = |raw: &[u8]| dedupe_key(&crate::parse::view(raw), raw);
        assert_eq!(key(a), key(b));
        assert_ne!(key(a), key(c));
    }
}
