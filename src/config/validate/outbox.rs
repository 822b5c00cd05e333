//! `[outbox]`: leases and retries of outgoing mail, or a folder to write it to instead of
//! SMTP. Whether mail can go anywhere at all is checked here, with the outbox.

use super::check::Check;
use crate::config::raw::RawOutbox;
use crate::config::{OutboxSettings, SmtpSettings};
use jiff::SignedDuration;
use std::path::PathBuf;

/// `smtp`: the validated `[smtp]`, whose timeout the lease must outlast.
pub(super) fn validate(
    c: &mut Check,
    o: &RawOutbox,
    smtp: Option<&SmtpSettings>,
) -> OutboxSettings {
    let outbox = OutboxSettings {
        lease: c.duration("outbox.lease", &o.lease, "2m"),
        max_attempts: o.max_attempts.unwrap_or(12).max(1),
        retry_after: c.duration("outbox.retry_after", &o.retry_after, "10s"),
        max_retry_after: c.duration("outbox.max_retry_after", &o.max_retry_after, "1h"),
        file_sink: o.file_sink.as_ref().map(PathBuf::from),
    };
    let slowest_send = smtp.map_or(SignedDuration::ZERO, |s| s.timeout * 2);
    if outbox.lease < SignedDuration::from_secs(10) || outbox.lease < slowest_send {
        c.add(
            "outbox.lease",
            "is shorter than a send can take, so a slow send would be retried while it runs (a duplicate email)",
            "keep it at least 10s and twice smtp.timeout, e.g. \"2m\"",
        );
    }
    if smtp.is_none() && outbox.file_sink.is_none() {
        c.add("smtp", "is missing, so leadgate cannot send mail", "add [smtp] host, port, tls, from (or [outbox] file_sink = \"DIR\" to write mail to files)");
    }
    outbox
}
