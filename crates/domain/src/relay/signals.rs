//! Pure helpers for finding a lead when the tracked address was dropped, and for cleaning
//! subjects: the `[LG-12]` tag, references in a body, `Re:` prefixes. No signal here is
//! trusted alone for relaying to a lead; [`Evidence`] weighs them.

use crate::token::{TokenKeys, TrackedAddressFormat};
use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;

// ASCII digits: the ids leadgate writes (a Unicode `\d{1,18}` compiles to 0.5 MB of
// automaton, kept for the daemon's life, and its other digits would not parse as an id).
static TAG: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\[\s*LG-([0-9]{1,18})\s*\]").expect("static regex"));
static BODY_REF: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\bLG-([0-9]{1,18})\b").expect("static regex"));
static PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*((re|aw|sv|vs|antw|réf|ref|rif|tr|fw|fwd|wg|rv|enc)\s*(\[\d+\])?\s*:\s*)+")
        .expect("static regex")
});
static ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)[a-z0-9._%+\-]+@[a-z0-9.\-]+\.[a-z]{2,}").expect("static regex")
});

/// The lead ids of `[LG-n]` tags in a subject.
pub fn subject_tags(subject: &str) -> Vec<i64> {
    TAG.captures_iter(subject)
        .filter_map(|c| c[1].parse().ok())
        .collect()
}

/// The lead ids of `LG-n` references in a body.
pub fn body_refs(text: &str) -> Vec<i64> {
    BODY_REF
        .captures_iter(text)
        .filter_map(|c| c[1].parse().ok())
        .collect()
}

/// Lead ids of valid tracked addresses written in a body (a quoted `Reply-To`, a signature).
pub fn body_tokens(text: &str, format: &TrackedAddressFormat, keys: &TokenKeys) -> Vec<i64> {
    ADDRESS
        .find_iter(text)
        .filter_map(|m| format.token_of(m.as_str()))
        .filter_map(|t| keys.decode(t))
        .collect()
}

/// The subject without `[LG-n]` tags, whitespace collapsed.
pub fn strip_tags(subject: &str) -> String {
    TAG.replace_all(subject, " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The subject without tags and without `Re:`/`Fwd:` prefixes (in the common languages).
pub fn base_subject(subject: &str) -> String {
    let s = strip_tags(subject);
    PREFIX.replace(&s, "").trim().to_string()
}

/// `Re: <base>`, for a reply in a thread.
pub fn reply_subject(subject: &str) -> String {
    let base = base_subject(subject);
    if base.is_empty() {
        String::new()
    } else {
        format!("Re: {base}")
    }
}

/// Is this the subject of a `List-Unsubscribe` mailto (`?subject=unsubscribe`)?
pub fn is_unsubscribe_subject(subject: &str) -> bool {
    base_subject(subject).eq_ignore_ascii_case("unsubscribe")
}

/// Message-IDs of our own (`lg.<hex>@<domain>`) anywhere in a raw message.
pub fn our_message_ids(raw: &str, domain: &str) -> Vec<String> {
    // One pattern for every domain (not one compiled per message): the domain is compared
    // after it, as `(?i)` compared it.
    static OURS: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"(?i)lg\.[0-9a-f]{32}@").expect("static regex"));
    let mut out: Vec<String> = Vec::new();
    for m in OURS.find_iter(raw) {
        let end = m.end() + domain.len();
        let same = raw
            .get(m.end()..end)
            .is_some_and(|d| d.to_lowercase() == domain.to_lowercase());
        if !same {
            continue;
        }
        let id = raw[m.start()..end].to_ascii_lowercase();
        if !out.contains(&id) {
            out.push(id);
        }
    }
    out
}

/// The DSN's reason: `Diagnostic-Code`, else `Status`, else a generic line.
pub fn dsn_reason(raw: &str) -> String {
    for field in ["Diagnostic-Code:", "Status:"] {
        if let Some(line) = raw
            .lines()
            .find(|l| l.len() > field.len() && l[..field.len()].eq_ignore_ascii_case(field))
        {
            return crate::notify::header_safe(line, 200);
        }
    }
    "delivery failed (no reason given)".into()
}

/// How sure we are that a message is about one lead. Weights: our own Message-ID in
/// `In-Reply-To`/`References` or a valid tracked address in the body 2 (strong), a stored
/// message's Message-ID, a subject tag or a body reference 1 (weak).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Evidence {
    scores: BTreeMap<i64, u32>,
}

/// What the evidence supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// No lead, or leads that contradict each other.
    Unknown,
    /// One lead, on weak signals: record on it, never relay to the lead.
    Likely(i64),
    /// One lead, on a strong signal confirmed by another: safe to relay.
    Sure(i64),
}

impl Evidence {
    pub fn add(&mut self, lead: i64, weight: u32) {
        *self.scores.entry(lead).or_default() += weight;
    }

    pub fn strong(&mut self, leads: impl IntoIterator<Item = i64>) {
        let mut seen = std::collections::BTreeSet::new();
        for l in leads {
            if seen.insert(l) {
                self.add(l, 2);
            }
        }
    }

    pub fn weak(&mut self, leads: impl IntoIterator<Item = i64>) {
        let mut seen = std::collections::BTreeSet::new();
        for l in leads {
            if seen.insert(l) {
                self.add(l, 1);
            }
        }
    }

    /// One lead with score 3+ (a strong signal and another) is sure; one lead with any
    /// score is likely; two leads are a contradiction, unless one leads by a strong signal.
    pub fn verdict(&self) -> Verdict {
        let mut ranked: Vec<(i64, u32)> = self.scores.iter().map(|(l, s)| (*l, *s)).collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        match ranked.as_slice() {
            [] => Verdict::Unknown,
            [(l, s)] if *s >= 3 => Verdict::Sure(*l),
            [(l, _)] => Verdict::Likely(*l),
            [(l, s), (_, second), ..] if *s >= second + 2 => Verdict::Likely(*l),
            _ => Verdict::Unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_references() {
        assert_eq!(
            subject_tags("Re: New lead: Jane [LG-12] [lg-3]"),
            vec![12, 3]
        );
        assert_eq!(subject_tags("LG-12 without brackets"), Vec::<i64>::new());
        assert_eq!(body_refs("Lead #12 (LG-12) at Acme. xLG-4 no"), vec![12]);
        assert_eq!(
            strip_tags("Re: New lead: Jane  [LG-12]"),
            "Re: New lead: Jane"
        );
        assert_eq!(base_subject("AW: Re: Fwd: Quote [LG-1]"), "Quote");
        assert_eq!(base_subject("Re[2]: Quote"), "Quote");
        assert_eq!(base_subject("Reminder: call"), "Reminder: call");
        assert_eq!(reply_subject("Quote [LG-1]"), "Re: Quote");
        assert!(is_unsubscribe_subject("Unsubscribe"));
        assert!(is_unsubscribe_subject("Re: unsubscribe"));
        assert!(!is_unsubscribe_subject("how do I unsubscribe?"));
    }

    #[test]
    fn tokens_in_a_body_must_verify() {
        let keys = TokenKeys::new(vec![b"secret-secret-secret".to_vec()]);
        let fmt = TrackedAddressFormat::parse("reply+{token}@{domain}", "leads.test").unwrap();
        let good = fmt.address(&keys.encode(7));
        let forged = fmt.address(&TokenKeys::new(vec![b"other".to_vec()]).encode(8));
        let text = format!("> Reply-To: {good}\n> also {forged} and bob@x.test");
        assert_eq!(body_tokens(&text, &fmt, &keys), vec![7]);
    }

    #[test]
    fn one_weak_signal_never_makes_a_sure_lead() {
        let mut e = Evidence::default();
        assert_eq!(e.verdict(), Verdict::Unknown);
        e.weak([5]);
        assert_eq!(e.verdict(), Verdict::Likely(5));
        e.weak([5, 5]);
        assert_eq!(
            e.verdict(),
            Verdict::Likely(5),
            "repeats count once per signal"
        );
        let mut e = Evidence::default();
        e.strong([5]);
        assert_eq!(
            e.verdict(),
            Verdict::Likely(5),
            "a strong signal alone is not sure"
        );
        e.weak([5]);
        assert_eq!(e.verdict(), Verdict::Sure(5));
        e.weak([6]);
        assert_eq!(
            e.verdict(),
            Verdict::Likely(5),
            "a contradiction is never sure"
        );
        let mut e = Evidence::default();
        e.weak([5]);
        e.weak([6]);
        assert_eq!(e.verdict(), Verdict::Unknown);
    }
}
