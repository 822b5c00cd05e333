//! Settings: the TOML file and `LEADGATE__SECTION__KEY` environment overrides, read by the
//! `config` crate into [`raw::RawSettings`], then validated once into [`Settings`], with
//! compiled regexes, parsed durations and checked people. Validation collects every
//! problem with its key and a fix instead of stopping at the first.
//!
//! - [`raw`]: the file as written, every key optional.
//! - `read`: file and environment into [`raw::RawSettings`]; values of the wrong type.
//! - `settings`: the validated [`Settings`] and its parts.
//! - `validate` (below): everything else.

pub mod raw;
mod read;
mod settings;

pub use read::read;
pub use settings::{
    AfterProcessing, CaptureSettings, DigestSettings, FromMode, HttpSettings, ImapSettings,
    OutboxSettings, RelaySettings, Settings, SmtpSettings, StaleSettings, StartFrom, TeamSettings,
    TlsMode, TriageMode,
};

use crate::domain::email::EmailAddress;
use crate::domain::extract::Template;
use crate::domain::hours::BusinessHours;
use crate::domain::lead::LeadStatus;
use crate::domain::route::{Duty, Learn, Person, Rule, Strategy, Target, WithinHours};
use crate::domain::token::{TokenKeys, TrackedAddressFormat};
use jiff::SignedDuration;
use raw::*;
use read::read_collecting;
use regex::Regex;
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

pub const DEFAULT_PATH: &str = "config/leadgate.toml";
pub const ENV_PREFIX: &str = "LEADGATE";

/// One thing wrong with the config: where, what, and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub key: String,
    pub problem: String,
    pub fix: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} (fix: {})", self.key, self.problem, self.fix)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config: {0}")]
    Read(String),
    #[error("the config has {} problem(s):\n{}", .0.len(), .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
}

/// Reads and validates in one go: every problem, of type or of value, with its key.
pub fn load(path: &Path) -> Result<Settings, ConfigError> {
    let (raw, mut problems) = read_collecting(path)?;
    match validate(raw, path.parent().unwrap_or(Path::new("."))) {
        Ok(s) if problems.is_empty() => Ok(s),
        Ok(_) => Err(ConfigError::Invalid(problems)),
        Err(ConfigError::Invalid(more)) => {
            // A value left out for its type is not also "missing".
            let typed: HashSet<String> = problems.iter().map(|p| p.key.clone()).collect();
            problems.extend(more.into_iter().filter(|p| !typed.contains(&p.key)));
            Err(ConfigError::Invalid(problems))
        }
        Err(e) => Err(e),
    }
}

/// Collects problems as validation goes, so `check-config` can print them all.
struct Check {
    problems: Vec<Problem>,
    /// Relative `*_file` paths are read from the config file's folder.
    base: PathBuf,
}

impl Check {
    fn add(&mut self, key: impl Into<String>, problem: impl Into<String>, fix: impl Into<String>) {
        self.problems.push(Problem {
            key: key.into(),
            problem: problem.into(),
            fix: fix.into(),
        });
    }

    fn required(&mut self, key: &str, v: &Option<String>, fix: &str) -> String {
        match v.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => s.to_owned(),
            _ => {
                self.add(key, "is missing", fix);
                String::new()
            }
        }
    }

    fn duration(&mut self, key: &str, v: &Option<String>, default: &str) -> SignedDuration {
        let s = v.as_deref().unwrap_or(default);
        parse_duration(s).unwrap_or_else(|why| {
            self.add(
                key,
                why,
                "write a duration like \"90s\", \"30m\", \"2h\", \"3d\" or \"1w\"",
            );
            parse_duration(default).expect("defaults parse")
        })
    }

    fn tls(&mut self, key: &str, v: &Option<String>) -> TlsMode {
        match v.as_deref().unwrap_or("tls") {
            "tls" => TlsMode::Tls,
            "starttls" => TlsMode::StartTls,
            "none" => TlsMode::None,
            other => {
                self.add(
                    key,
                    format!("{other:?} is not a TLS mode"),
                    "use \"tls\", \"starttls\" or \"none\"",
                );
                TlsMode::Tls
            }
        }
    }

    /// A secret given inline, or read from a file (systemd credentials, Docker secrets).
    fn secret(
        &mut self,
        key: &str,
        inline: &Option<String>,
        file: &Option<String>,
    ) -> Option<String> {
        match (inline, file) {
            (Some(s), _) if !s.is_empty() => Some(s.clone()),
            (_, Some(f)) => {
                let path = self.base.join(expand_credentials_dir(f));
                match std::fs::read_to_string(&path) {
                    Ok(s) => Some(s.trim_end_matches(['\r', '\n']).to_owned()),
                    Err(e) => {
                        self.add(
                            format!("{key}_file"),
                            format!("cannot read {}: {e}", path.display()),
                            "point it at a readable file holding only the secret",
                        );
                        None
                    }
                }
            }
            _ => None,
        }
    }

    fn email(&mut self, key: &str, v: &str) -> Option<EmailAddress> {
        match EmailAddress::parse(v) {
            Ok(a) => Some(a),
            Err(e) => {
                self.add(
                    key,
                    e.to_string(),
                    "write a plain address like alice@example.com",
                );
                None
            }
        }
    }

    fn regex(&mut self, key: &str, pattern: &str) -> Option<Regex> {
        match Regex::new(pattern) {
            Ok(r) => Some(r),
            Err(e) => {
                let first = e.to_string().lines().last().unwrap_or("").to_owned();
                self.add(
                    key,
                    format!("{pattern:?} is not a valid regex: {first}"),
                    "fix the pattern (Rust regex syntax; (?i) for case-insensitive)",
                );
                None
            }
        }
    }
}

/// `$CREDENTIALS_DIRECTORY/x` in a path is systemd's credentials folder.
fn expand_credentials_dir(path: &str) -> String {
    match std::env::var("CREDENTIALS_DIRECTORY") {
        Ok(dir) => path.replace("$CREDENTIALS_DIRECTORY", &dir),
        Err(_) => path.to_owned(),
    }
}

/// `90s`, `30m`, `2h`, `3d`, `1w`, or combinations like `1h 30m`; days are 24 hours.
pub fn parse_duration(s: &str) -> Result<SignedDuration, String> {
    let span: jiff::Span = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a duration"))?;
    let d = span
        .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
        .map_err(|e| format!("{s:?}: {e}"))?;
    if d.is_negative() {
        return Err(format!("{s:?} is negative"));
    }
    Ok(d)
}

pub fn validate(raw: RawSettings, base: &Path) -> Result<Settings, ConfigError> {
    let mut c = Check {
        problems: Vec::new(),
        base: base.to_path_buf(),
    };

    let database_url = raw
        .database
        .url
        .clone()
        .unwrap_or_else(|| "sqlite://leadgate.db".into());
    if !(database_url.starts_with("sqlite:")
        || database_url.starts_with("postgres://")
        || database_url.starts_with("postgresql://"))
    {
        c.add(
            "database.url",
            format!("{database_url:?} is not a database URL"),
            "use \"sqlite://leadgate.db\" or \"postgres://user@host/db\"",
        );
    }

    let imap = raw.imap.as_ref().map(|i| validate_imap(&mut c, i));
    let file_sink = raw.outbox.file_sink.is_some();
    let (smtp, from) = validate_smtp(&mut c, raw.smtp.as_ref(), file_sink);
    let relay = validate_relay(&mut c, &raw.relay);
    let people = validate_people(&mut c, &raw.people);
    let ids: HashSet<&str> = people.iter().map(|p| p.id.as_str()).collect();
    let known = |c: &mut Check, key: &str, id: &str| {
        if !ids.contains(id) {
            c.add(
                key,
                format!("{id:?} is not a person in [[people]]"),
                "use the id of a [[people]] entry",
            );
        }
    };

    let team = {
        let t = &raw.team;
        let tz_name = t.timezone.clone().unwrap_or_else(|| "UTC".into());
        let timezone = jiff::tz::TimeZone::get(&tz_name).unwrap_or_else(|_| {
            c.add(
                "team.timezone",
                format!("{tz_name:?} is not a known time zone"),
                "use an IANA name like \"Europe/Berlin\" or \"America/New_York\"",
            );
            jiff::tz::TimeZone::UTC
        });
        let hours = BusinessHours::parse(t.hours.as_deref().unwrap_or("Mon-Fri 09:00-17:00"))
            .unwrap_or_else(|why| {
                c.add(
                    "team.hours",
                    why,
                    "write days and hours like \"Mon-Fri 09:00-17:00\", or \"always\"",
                );
                BusinessHours::always()
            });
        if let Some(m) = &t.manager {
            known(&mut c, "team.manager", m);
        }
        if let Some(d) = &t.default_owner {
            known(&mut c, "team.default_owner", d);
        }
        let keep_orphans = match t.orphans.as_deref().map(str::trim) {
            None | Some("reassign") => false,
            Some("keep") => true,
            Some(other) => {
                c.add(
                    "team.orphans",
                    format!("{other:?} is not an orphan policy"),
                    "write \"reassign\" (route them again by the rules) or \"keep\"",
                );
                false
            }
        };
        TeamSettings {
            name: t.name.clone().unwrap_or_else(|| "Our team".into()),
            timezone,
            hours,
            manager: t.manager.clone(),
            default_owner: t.default_owner.clone(),
            keep_orphans,
        }
    };

    let duty = raw.duty.as_ref().map(|d| {
        for (i, p) in d.rotation.iter().enumerate() {
            known(&mut c, &format!("duty.rotation[{i}]"), p);
        }
        if d.rotation.is_empty() {
            c.add(
                "duty.rotation",
                "is empty",
                "list the ids of the people who take turns",
            );
        }
        let starts = d
            .starts
            .as_deref()
            .unwrap_or("2026-01-05")
            .parse()
            .unwrap_or_else(|_| {
                c.add(
                    "duty.starts",
                    format!("{:?} is not a date", d.starts),
                    "write the first day of the first period as YYYY-MM-DD",
                );
                jiff::civil::date(2026, 1, 5)
            });
        let every_s = d.every.as_deref().unwrap_or("1w");
        let every: jiff::Span = every_s
            .parse()
            .ok()
            .filter(|s: &jiff::Span| {
                let whole = s.get_hours() == 0
                    && s.get_minutes() == 0
                    && s.get_seconds() == 0
                    && s.get_milliseconds() == 0
                    && s.get_microseconds() == 0
                    && s.get_nanoseconds() == 0;
                s.is_positive() && whole
            })
            .unwrap_or_else(|| {
                c.add(
                    "duty.every",
                    format!("{every_s:?} is not a period"),
                    "write a period of whole days, weeks or months like \"1w\", \"2w\", \"1d\" or \"1mo\"",
                );
                jiff::Span::new().weeks(1)
            });
        Duty {
            rotation: d.rotation.clone(),
            starts,
            every,
        }
    });

    let mut routes = Vec::new();
    let mut names = HashSet::new();
    for (i, r) in raw.routes.iter().enumerate() {
        let key = format!("routes[{i}]");
        let name = r.name.clone().unwrap_or_else(|| format!("route-{}", i + 1));
        if !names.insert(name.clone()) {
            c.add(
                format!("{key}.name"),
                format!("{name:?} is used by two routes"),
                "give every route its own name",
            );
        }
        let mut fields = Vec::new();
        for (f, pattern) in &r.field {
            if let Some(re) = c.regex(&format!("{key}.field.{f}"), pattern) {
                fields.push((f.clone(), re));
            }
        }
        let targets = r.owner.is_some() as u8
            + (!r.pool.is_empty()) as u8
            + (r.duty == Some(true)) as u8
            + (r.account == Some(true)) as u8;
        if targets != 1 {
            c.add(
                &key,
                format!("route {name:?} names {targets} targets"),
                "give exactly one of owner = \"id\", pool = [\"id\", ...], duty = true or account = true",
            );
        }
        let submitters = r.submitter.to_vec();
        for (j, s) in submitters.iter().enumerate() {
            let t = s.trim().trim_start_matches('@');
            let ok = match t.split_once('@') {
                Some((l, d)) => !l.is_empty() && d.contains('.') && !d.contains('@'),
                None => t.contains('.') && !t.contains(char::is_whitespace),
            };
            if !ok {
                c.add(
                    format!("{key}.submitter[{j}]"),
                    format!("{s:?} is neither an address nor a domain"),
                    "write an address like \"jane@client.example\" or a domain like \"client.example\"",
                );
            }
        }
        let hours = match r.hours.as_deref().map(|h| h.trim().to_ascii_lowercase()) {
            None => None,
            Some(h) if h == "in" => Some(WithinHours::In),
            Some(h) if h == "out" => Some(WithinHours::Out),
            Some(h) => {
                c.add(
                    format!("{key}.hours"),
                    format!("{h:?} is not \"in\" or \"out\""),
                    "write hours = \"in\" (within team.hours) or hours = \"out\" (outside them)",
                );
                None
            }
        };
        let target = if r.account == Some(true) {
            Target::Account
        } else if let Some(owner) = &r.owner {
            known(&mut c, &format!("{key}.owner"), owner);
            Target::Person(owner.clone())
        } else if !r.pool.is_empty() {
            for (j, p) in r.pool.iter().enumerate() {
                known(&mut c, &format!("{key}.pool[{j}]"), p);
            }
            let strategy = match r.strategy.as_deref().unwrap_or("round_robin") {
                "round_robin" => Strategy::RoundRobin,
                "least_busy" => Strategy::LeastBusy,
                other => {
                    c.add(
                        format!("{key}.strategy"),
                        format!("{other:?} is not a strategy"),
                        "use \"round_robin\" or \"least_busy\"",
                    );
                    Strategy::RoundRobin
                }
            };
            Target::Pool {
                members: r.pool.clone(),
                strategy,
            }
        } else {
            if raw.duty.is_none() && r.duty == Some(true) {
                c.add(
                    format!("{key}.duty"),
                    "routes to the duty rotation but there is no [duty] section",
                    "add [duty] rotation = [...], starts = \"YYYY-MM-DD\", every = \"1w\"",
                );
            }
            Target::Duty
        };
        routes.push(Rule {
            name,
            sources: r.source.to_vec(),
            forms: r.form.to_vec(),
            fields,
            submitters,
            hours,
            target,
        });
    }

    let mut accounts = BTreeMap::new();
    let mut learn = None;
    let mut customer_status = None;
    for (k, v) in &raw.accounts {
        let key = format!("accounts.{k:?}");
        match k.as_str() {
            "learn" => {
                learn = Some(v);
                continue;
            }
            "customer_status" => {
                customer_status = Some(v);
                continue;
            }
            _ => {}
        }
        let v = match v {
            OneOrMany::One(v) => v.clone(),
            _ => {
                c.add(
                    &key,
                    "is not one person id",
                    "write \"client.example\" = \"id\" (one owner per account)",
                );
                continue;
            }
        };
        known(&mut c, &key, &v);
        let norm = k.trim().trim_start_matches('@').to_ascii_lowercase();
        let ok = match norm.split_once('@') {
            Some((l, d)) => !l.is_empty() && d.contains('.') && !d.contains('@'),
            None => norm.contains('.'),
        } && !norm.contains(char::is_whitespace);
        if !ok {
            c.add(
                &key,
                format!("{k:?} is neither an address nor a domain"),
                "write \"client.example\" = \"id\" or \"jane@client.example\" = \"id\"",
            );
        }
        if accounts.insert(norm, v).is_some() {
            c.add(
                &key,
                format!("{k:?} is listed twice (letter case does not count)"),
                "keep one entry per address or domain",
            );
        }
    }
    let learn = validate_learn(&mut c, learn, customer_status);

    let s = &raw.stale;
    let stale = StaleSettings {
        first_reply_within: c.duration("stale.first_reply_within", &s.first_reply_within, "1h"),
        accept_within: c.duration("stale.accept_within", &s.accept_within, "2h"),
        idle_after: c.duration("stale.idle_after", &s.idle_after, "3d"),
        remind_every: c.duration("stale.remind_every", &s.remind_every, "24h"),
        escalate_after: c.duration("stale.escalate_after", &s.escalate_after, "2d"),
        combine_reminders_over: s.combine_reminders_over.unwrap_or(3),
    };
    if stale.remind_every < SignedDuration::from_mins(1) {
        c.add(
            "stale.remind_every",
            "is under a minute, so every sweep would remind again",
            "write how often a reminder may repeat, e.g. \"24h\"",
        );
    }
    let sweep_every = c.duration("stale.sweep_every", &s.sweep_every, "1m");
    if sweep_every < SignedDuration::from_secs(1) || sweep_every > SignedDuration::from_hours(1) {
        c.add(
            "stale.sweep_every",
            "must be between 1s and 1h",
            "write how often the daemon sweeps, e.g. \"1m\" (the default)",
        );
    }

    let digest = {
        let d = &raw.digest;
        let to =
            d.to.to_vec()
                .iter()
                .enumerate()
                .filter_map(|(i, a)| c.email(&format!("digest.to[{i}]"), a))
                .collect();
        let daily = d.daily.as_deref().and_then(|t| {
            t.parse()
                .map_err(|_| {
                    c.add(
                        "digest.daily",
                        format!("{t:?} is not a time"),
                        "write a time like \"08:00\"",
                    )
                })
                .ok()
        });
        let weekly = d.weekly.as_deref().and_then(|w| {
            parse_weekly(w)
                .map_err(|why| {
                    c.add(
                        "digest.weekly",
                        why,
                        "write a day and a time like \"Mon 08:30\"",
                    )
                })
                .ok()
        });
        let templates = d.templates.as_ref().map(|t| c.base.join(t));
        if let Some(dir) = &templates {
            if !dir.is_dir() {
                c.add(
                    "digest.templates",
                    format!("{} is not a folder", dir.display()),
                    "point it at a folder holding digest.html, digest.txt, reminder.txt, ... (any subset)",
                );
            }
        }
        DigestSettings {
            to,
            daily,
            weekly,
            templates,
            send_when_clean: d.send_when_clean.unwrap_or(false),
        }
    };

    let http = HttpSettings {
        listen: raw.http.listen.as_deref().and_then(|l| {
            l.parse()
                .map_err(|_| {
                    c.add(
                        "http.listen",
                        format!("{l:?} is not an address"),
                        "write an address and port like \"127.0.0.1:8025\"",
                    )
                })
                .ok()
        }),
        public_url: raw.http.public_url.clone(),
    };

    let mut templates = Vec::new();
    for (i, t) in raw.templates.iter().enumerate() {
        let key = format!("templates[{i}]");
        let source = c.required(
            &format!("{key}.source"),
            &t.source,
            "name the source this template recognises, e.g. \"acme-site\"",
        );
        let m = &t.match_;
        let mut rx = |k: &str, v: &Option<String>| {
            v.as_deref()
                .and_then(|p| c.regex(&format!("{key}.match.{k}"), p))
        };
        let (match_from, match_subject, match_body) = (
            rx("from", &m.from),
            rx("subject", &m.subject),
            rx("body", &m.body),
        );
        if m.from.is_none() && m.subject.is_none() && m.body.is_none() {
            c.add(
                format!("{key}.match"),
                "has no condition",
                "add match.from, match.subject or match.body (a regex)",
            );
        }
        let fields = t
            .field
            .iter()
            .filter_map(|(f, p)| {
                c.regex(&format!("{key}.field.{f}"), p)
                    .map(|re| (f.clone(), re))
            })
            .collect();
        templates.push(Template {
            name: t.name.clone().unwrap_or_else(|| source.clone()),
            source,
            match_from,
            match_subject,
            match_body,
            fields,
        });
    }

    let o = &raw.outbox;
    let outbox = OutboxSettings {
        lease: c.duration("outbox.lease", &o.lease, "2m"),
        max_attempts: o.max_attempts.unwrap_or(12).max(1),
        retry_after: c.duration("outbox.retry_after", &o.retry_after, "10s"),
        max_retry_after: c.duration("outbox.max_retry_after", &o.max_retry_after, "1h"),
        file_sink: o.file_sink.as_ref().map(PathBuf::from),
    };
    let slowest_send = smtp
        .as_ref()
        .map_or(SignedDuration::ZERO, |s| s.timeout * 2);
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

    let triage = match raw.capture.triage.as_deref().map(str::trim) {
        None | Some("owner") => TriageMode::Owner,
        Some("digest") => TriageMode::Digest,
        Some("off") => TriageMode::Off,
        Some(other) => {
            c.add(
                "capture.triage",
                format!("is {other:?}, which is not a triage mode"),
                "use \"owner\" (routed to an owner), \"digest\" (listed in the digest, no owner) or \"off\" (stored as other)",
            );
            TriageMode::Owner
        }
    };

    if !c.problems.is_empty() {
        return Err(ConfigError::Invalid(c.problems));
    }
    Ok(Settings {
        database_url,
        imap,
        smtp,
        from: from.expect("validated above"),
        relay: relay.expect("validated above"),
        team,
        people,
        routes,
        accounts,
        learn,
        duty,
        stale,
        sweep_every,
        digest,
        http,
        templates,
        outbox,
        capture: CaptureSettings { triage },
    })
}

/// `[accounts] learn` and `customer_status` (see [`Learn`]).
fn validate_learn(c: &mut Check, learn: Option<&OneOrMany>, status: Option<&OneOrMany>) -> Learn {
    const FIX: &str = "write learn = \"customers\" (earlier customers' owners; the default), \"any\" (every earlier lead's owner) or \"off\" (only the accounts listed here)";
    let learn = match learn {
        None => "customers".to_owned(),
        Some(OneOrMany::One(v)) => v.trim().to_ascii_lowercase(),
        Some(_) => {
            c.add("accounts.learn", "is not one word", FIX);
            "customers".to_owned()
        }
    };
    let statuses = match status.map(OneOrMany::to_vec) {
        None => vec![LeadStatus::Won],
        Some(list) => {
            let mut out = Vec::new();
            for v in &list {
                match LeadStatus::parse(v) {
                    Some(st @ (LeadStatus::Won | LeadStatus::Qualified)) if !out.contains(&st) => {
                        out.push(st)
                    }
                    Some(LeadStatus::Won | LeadStatus::Qualified) => {}
                    _ => c.add(
                        "accounts.customer_status",
                        format!("{v:?} does not make a lead a customer"),
                        "write customer_status = \"won\" or [\"won\", \"qualified\"]",
                    ),
                }
            }
            if list.is_empty() {
                c.add(
                    "accounts.customer_status",
                    "is empty",
                    "write customer_status = \"won\" or [\"won\", \"qualified\"], or learn = \"any\"",
                );
            }
            out
        }
    };
    match learn.as_str() {
        "customers" => Learn::Customers(if statuses.is_empty() {
            vec![LeadStatus::Won]
        } else {
            statuses
        }),
        "any" | "off" => {
            if status.is_some() {
                c.add(
                    "accounts.customer_status",
                    format!("applies only to learn = \"customers\", not {learn:?}"),
                    "remove customer_status, or set learn = \"customers\"",
                );
            }
            if learn == "any" {
                Learn::Any
            } else {
                Learn::Off
            }
        }
        other => {
            c.add(
                "accounts.learn",
                format!("{other:?} is not a way to learn accounts"),
                FIX,
            );
            Learn::default()
        }
    }
}

fn parse_weekly(s: &str) -> Result<(jiff::civil::Weekday, jiff::civil::Time), String> {
    use jiff::civil::Weekday::*;
    let (day, time) = s
        .trim()
        .split_once(char::is_whitespace)
        .ok_or_else(|| format!("{s:?} has no day and time"))?;
    let d = day.to_ascii_lowercase();
    let weekday = [
        (Monday, "mon"),
        (Tuesday, "tue"),
        (Wednesday, "wed"),
        (Thursday, "thu"),
        (Friday, "fri"),
        (Saturday, "sat"),
        (Sunday, "sun"),
    ]
    .into_iter()
    .find(|(_, n)| d.starts_with(n))
    .map(|(w, _)| w)
    .ok_or_else(|| format!("{day:?} is not a weekday"))?;
    let time = time
        .trim()
        .parse()
        .map_err(|_| format!("{time:?} is not a time"))?;
    Ok((weekday, time))
}

fn validate_imap(c: &mut Check, i: &RawImap) -> ImapSettings {
    let tls = c.tls("imap.tls", &i.tls);
    let host = c.required("imap.host", &i.host, "set the IMAP server's host name");
    let username = c.required(
        "imap.username",
        &i.username,
        "set the IMAP login of the shared inbox",
    );
    let password = c
        .secret("imap.password", &i.password, &i.password_file)
        .unwrap_or_else(|| {
            c.add(
                "imap.password",
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
                "imap.after",
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
                    "imap.start_from",
                    format!("{ago:?} is not a start"),
                    "use \"now\", \"all\" or a duration like \"7d\"",
                );
                StartFrom::Now
            }
        },
    };
    let idle_renew = c.duration("imap.idle_renew", &i.idle_renew, "9m");
    if idle_renew > SignedDuration::from_mins(10) {
        c.add(
            "imap.idle_renew",
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
        poll: c.duration("imap.poll", &i.poll, "60s"),
        idle_renew,
        start_from,
        ca_file: i.ca_file.as_ref().map(|f| c.base.join(f)),
        max_attempts: i.max_attempts.unwrap_or(3).max(1),
    }
}

/// With a file sink, `[smtp]` may hold only `from`: nothing is sent over SMTP.
fn validate_smtp(
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

fn validate_relay(c: &mut Check, r: &RawRelay) -> Option<RelaySettings> {
    let domain = c.required(
        "relay.domain",
        &r.domain,
        "set the domain whose mail reaches leadgate's inbox, e.g. \"leads.example.com\"",
    );
    let secret = c.secret("relay.secret", &r.secret, &r.secret_file);
    match &secret {
        None => c.add("relay.secret", "is missing", "set relay.secret (or relay.secret_file, or LEADGATE__RELAY__SECRET) to 32+ random characters: openssl rand -hex 32"),
        Some(s) if s.len() < 16 => c.add("relay.secret", "is shorter than 16 characters", "use 32+ random characters: openssl rand -hex 32"),
        _ => {}
    }
    let address = TrackedAddressFormat::parse(
        r.address.as_deref().unwrap_or("reply+{token}@{domain}"),
        &domain,
    )
    .map_err(|why| {
        c.add(
            "relay.address",
            why,
            "write a format like \"reply+{token}@{domain}\"",
        )
    })
    .ok();
    let log = r
        .log_address
        .as_deref()
        .unwrap_or("log@{domain}")
        .replace("{domain}", &domain);
    let log_address = c.email("relay.log_address", &log);
    let from_mode = match r.from_mode.as_deref().map(str::trim) {
        None | Some("member") => FromMode::Member,
        Some("team") => FromMode::Team,
        Some(other) => {
            c.add(
                "relay.from_mode",
                format!("{other:?} is not a from mode"),
                "write \"member\" (the team member's name) or \"team\" (the team's name)",
            );
            FromMode::Member
        }
    };
    let rate_cap = match r.rate_cap.as_deref() {
        None => crate::domain::ratecap::RateCap::default(),
        Some(s) => crate::domain::ratecap::RateCap::parse(s).unwrap_or_else(|why| {
            c.add(
                "relay.rate_cap",
                why,
                "write a count per window, e.g. \"20/2h\"",
            );
            crate::domain::ratecap::RateCap::default()
        }),
    };
    if r.optout_phrases.iter().any(|p| p.trim().is_empty()) {
        c.add(
            "relay.optout_phrases",
            "has an empty phrase",
            "remove the empty string from the list",
        );
    }
    let optout = crate::domain::optout::OptOutDetector::with_extra(&r.optout_phrases);
    let authserv_id = r
        .authserv_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_ascii_lowercase);
    let mut secrets = vec![secret?.into_bytes()];
    secrets.extend(r.previous_secrets.iter().map(|s| s.clone().into_bytes()));
    Some(RelaySettings {
        from_mode,
        optout,
        rate_cap,
        authserv_id,
        domain,
        keys: TokenKeys::new(secrets),
        address: address?,
        log_address: log_address?,
        require_authenticated_sender: r.require_authenticated_sender.unwrap_or(false),
    })
}

fn validate_people(c: &mut Check, raw: &[RawPerson]) -> Vec<Person> {
    let mut out: Vec<Person> = Vec::new();
    for (i, p) in raw.iter().enumerate() {
        let key = format!("people[{i}]");
        let id = c.required(
            &format!("{key}.id"),
            &p.id,
            "give every person a short id like \"alice\"",
        );
        if !id.is_empty()
            && !id
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || "-_.".contains(ch))
        {
            c.add(
                format!("{key}.id"),
                format!("{id:?} has characters other than letters, digits, - _ ."),
                "use a short id like \"alice\"",
            );
        }
        if out.iter().any(|o| o.id == id) {
            c.add(
                format!("{key}.id"),
                format!("{id:?} is used twice"),
                "give every person their own id",
            );
        }
        let email_raw = c.required(
            &format!("{key}.email"),
            &p.email,
            "set the person's email address",
        );
        let email = if email_raw.is_empty() {
            None
        } else {
            c.email(&format!("{key}.email"), &email_raw)
        };
        if let Some(e) = &email {
            if out.iter().any(|o| o.email.eq_ignore_ascii_case(e.as_str())) {
                c.add(
                    format!("{key}.email"),
                    format!("{e} belongs to two people"),
                    "give every person their own address",
                );
            }
        }
        let away_until = p.away_until.as_deref().and_then(|d| {
            d.parse()
                .map_err(|_| {
                    c.add(
                        format!("{key}.away_until"),
                        format!("{d:?} is not a date"),
                        "write YYYY-MM-DD",
                    )
                })
                .ok()
        });
        if p.active == Some(false) {
            // Inactive people stay out of routing; their leads become orphaned.
            continue;
        }
        out.push(Person {
            name: p.name.clone().unwrap_or_else(|| id.clone()),
            id,
            email: email.map(|e| e.to_string()).unwrap_or_default(),
            away_until,
            capacity: p.capacity,
        });
    }
    out
}

#[cfg(test)]
mod tests;
