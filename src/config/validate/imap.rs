//! `[imap]`: the shared inbox's server, login, mailbox, what is done with a processed
//! message, IDLE or polling, and where a first start begins.

use super::check::{parse_duration, Check};
use crate::config::raw::RawImap;
use crate::config::{AfterProcessing, ImapSettings, StartFrom, TlsMode};
use jiff::SignedDuration;

/// `p`: where the section is (`imap`, or a desk's `inbox.imap`), for the problems' keys.
pub(super) fn validate(c: &mut Check, p: &str, i: &RawImap) -> ImapSettings {
    let k = |key: &str| format!("{p}.{key}");
    let tls = c.tls(&k("tls"), &i.tls);
    let host = c.required(&k("host"), &i.host, "set the IMAP server's host name");
    let username = c.required(
        &k("username"),
        &i.username,
        "set the IMAP login of the shared inbox",
    );
    let password = c
        .secret(&k("password"), &i.password, &i.password_file)
        .unwrap_or_else(|| {
            c.add(
                k("password"),
                "is missing",
                "set imap.password, imap.password_file, or LEADGATE__IMAP__PASSWORD",
            );
            String::new()
        });
    let after = match i.after.as_deref().unwrap_or("keyword") {
        "keyword" => AfterProcessing::Keyword,
        "none" => AfterProcessing::Nothing,
        m if m.starts_with("move:") && m.len() > 5 => AfterProcessing::Move(m[5..].to_owned()),
        other => {
            c.add(
                k("after"),
                format!("{other:?} is not an action"),
                "use \"keyword\", \"move:Folder/Name\" or \"none\"",
            );
            AfterProcessing::Keyword
        }
    };
    let start_from = match i.start_from.as_deref().unwrap_or("now") {
        "now" => StartFrom::Now,
        "all" => StartFrom::All,
        ago => match parse_duration(ago) {
            Ok(d) => StartFrom::Ago(d),
            Err(_) => {
                c.add(
                    k("start_from"),
                    format!("{ago:?} is not a start"),
                    "use \"now\", \"all\" or a duration like \"7d\"",
                );
                StartFrom::Now
            }
        },
    };
    let idle_renew = c.duration(&k("idle_renew"), &i.idle_renew, "9m");
    if idle_renew > SignedDuration::from_mins(10) {
        c.add(
            k("idle_renew"),
            "is over 10 minutes",
            "some servers stop pushing silently: keep it at 10m or less",
        );
    }
    ImapSettings {
        port: i
            .port
            .unwrap_or(if tls == TlsMode::Tls { 993 } else { 143 }),
        host,
        tls,
        username,
        password,
        mailbox: i.mailbox.clone().unwrap_or_else(|| "INBOX".into()),
        after,
        keyword: i.keyword.clone().unwrap_or_else(|| "$LeadgateDone".into()),
        idle: i.idle.unwrap_or(true),
        poll: c.duration(&k("poll"), &i.poll, "60s"),
        idle_renew,
        start_from,
        ca_file: i.ca_file.as_ref().map(|f| c.base.join(f)),
        max_attempts: i.max_attempts.unwrap_or(3).max(1),
    }
}
