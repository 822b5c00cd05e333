//! The problem collector every section validator writes to, and the readers of values that
//! several sections share (required strings, durations, TLS modes, secrets, addresses,
//! regexes). A reader that fails adds a problem with its key and returns a stand-in, so
//! validation goes on and finds the next problem.

use crate::config::{Problem, TlsMode};
use crate::domain::email::EmailAddress;
use jiff::SignedDuration;
use regex::Regex;
use std::path::PathBuf;

/// Collects problems as validation goes, so `check-config` can print them all.
pub(super) struct Check {
    pub(super) problems: Vec<Problem>,
    /// Relative `*_file` paths are read from the config file's folder.
    pub(super) base: PathBuf,
}

impl Check {
    pub(super) fn new(base: PathBuf) -> Self {
        Check {
            problems: Vec::new(),
            base,
        }
    }

    pub(super) fn add(
        &mut self,
        key: impl Into<String>,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) {
        self.problems.push(Problem {
            key: key.into(),
            problem: problem.into(),
            fix: fix.into(),
        });
    }

    pub(super) fn required(&mut self, key: &str, v: &Option<String>, fix: &str) -> String {
        match v.as_deref().map(str::trim) {
            Some(s) if !s.is_empty() => s.to_owned(),
            _ => {
                self.add(key, "is missing", fix);
                String::new()
            }
        }
    }

    pub(super) fn duration(
        &mut self,
        key: &str,
        v: &Option<String>,
        default: &str,
    ) -> SignedDuration {
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

    pub(super) fn tls(&mut self, key: &str, v: &Option<String>) -> TlsMode {
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
    pub(super) fn secret(
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

    pub(super) fn email(&mut self, key: &str, v: &str) -> Option<EmailAddress> {
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

    pub(super) fn regex(&mut self, key: &str, pattern: &str) -> Option<Regex> {
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
