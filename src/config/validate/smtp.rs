//! `[smtp]`: the server leadgate sends through, and `from`, the sender of everything it
//! sends.

use super::check::Check;
use crate::config::raw::RawSmtp;
use crate::config::{SmtpSettings, TlsMode};
use crate::domain::email::EmailAddress;

/// With a file sink, `[smtp]` may hold only `from`: nothing is sent over SMTP.
pub(super) fn validate(
    c: &mut Check,
    s: Option<&RawSmtp>,
    file_sink: bool,
) -> (Option<SmtpSettings>, Option<EmailAddress>) {
    let from_raw = s
        .and_then(|s| s.from.clone())
        .unwrap_or_else(|| "leadgate@localhost.localdomain".into());
    let from = c.email("smtp.from", &from_raw);
    let Some(s) = s.filter(|s| !(file_sink && s.host.is_none())) else {
        return (None, from);
    };
    let tls = c.tls("smtp.tls", &s.tls);
    let host = c.required("smtp.host", &s.host, "set the SMTP server's host name");
    let password = c.secret("smtp.password", &s.password, &s.password_file);
    let credentials = match (&s.username, password) {
        (Some(u), Some(p)) => Some((u.clone(), p)),
        (Some(_), None) => {
            c.add(
                "smtp.password",
                "is missing while smtp.username is set",
                "set smtp.password, smtp.password_file or LEADGATE__SMTP__PASSWORD",
            );
            None
        }
        _ => None,
    };
    let smtp = SmtpSettings {
        port: s.port.unwrap_or(match tls {
            TlsMode::Tls => 465,
            TlsMode::StartTls => 587,
            TlsMode::None => 25,
        }),
        host,
        tls,
        credentials,
        ca_file: s.ca_file.as_ref().map(|f| c.base.join(f)),
        timeout: c.duration("smtp.timeout", &s.timeout, "30s"),
    };
    (Some(smtp), from)
}
