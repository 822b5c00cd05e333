//! Opt-out detection in a lead's reply (already trimmed of quotes): configurable phrases,
//! matched as whole words, case-insensitively, in the first few lines only. A long mail
//! that mentions "unsubscribe" in its fifth paragraph is a conversation, not a request.
//! Owns no state and does no I/O; recording the opt-out is the caller's job.

/// Phrases that ask to stop, in the languages our teams meet most. Matched as whole
/// words after normalisation (case, punctuation, hyphens), so "E-Mails" = "e mails".
pub const DEFAULT_PHRASES: &[&str] = &[
    // en
    "unsubscribe",
    "unsubscribe me",
    "stop emailing me",
    "stop e-mailing me",
    "stop sending me",
    "stop contacting me",
    "stop writing to me",
    "please remove me",
    "remove me from your list",
    "remove me from your mailing list",
    "take me off your list",
    "take me off your mailing list",
    "do not contact me",
    "don't contact me",
    "do not email me",
    "don't email me",
    "no more emails",
    "opt out",
    "opt me out",
    // de
    "abmelden",
    "abbestellen",
    "austragen",
    "keine weiteren e-mails",
    "keine e-mails mehr",
    "keine weiteren nachrichten",
    "nicht mehr kontaktieren",
    "nicht mehr anschreiben",
    "entfernen sie mich",
    // fr
    "désabonner",
    "me désabonner",
    "désinscrire",
    "me désinscrire",
    "ne plus recevoir",
    "ne plus me contacter",
    "arrêtez de m'écrire",
    "retirez-moi",
    // es
    "darme de baja",
    "dar de baja",
    "no quiero recibir",
    "no me contacten",
    "dejen de escribirme",
    "dejen de enviarme",
    "cancelar la suscripción",
    // da
    "afmeld",
    "afmelde",
    "afmeld mig",
    "fjern mig",
    "stop med at skrive",
    "stop med at sende",
    "kontakt mig ikke",
    // nl, it, sv, pt
    "afmelden",
    "uitschrijven",
    "disiscrivimi",
    "cancellami",
    "avregistrera",
    "sluta skicka",
    "descadastrar",
    "parem de enviar",
];

/// A reply that is nothing but one of these words is an opt-out too ("STOP").
pub const DEFAULT_WHOLE_MESSAGE: &[&str] = &["stop", "stopp", "remove", "remove me", "unsubscribe"];

/// Words that, just before a phrase in the same sentence, turn it around
/// ("don't unsubscribe me", "ich will mich nicht abmelden").
const NEGATIONS: &[&str] = &[
    "not", "don t", "dont", "never", "nicht", "nie", "pas", "ikke", "niet", "inte", "non",
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptOutDetector {
    phrases: Vec<(String, String)>, // (as configured, normalised)
    whole: Vec<String>,
    /// How many non-blank lines from the top are read.
    pub max_lines: usize,
}

/// What matched, for the history entry ("opted out: \"please remove me\" on line 2").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OptOutMatch {
    pub phrase: String,
    /// 1-based line number in the text given.
    pub line: usize,
}

impl Default for OptOutDetector {
    fn default() -> Self {
        Self::new(DEFAULT_PHRASES.iter().copied())
    }
}

impl OptOutDetector {
    /// A detector for these phrases (replacing the defaults); blank phrases are skipped.
    pub fn new<S: AsRef<str>>(phrases: impl IntoIterator<Item = S>) -> Self {
        let phrases = phrases
            .into_iter()
            .map(|p| (p.as_ref().trim().to_string(), normalise(p.as_ref())))
            .filter(|(_, n)| !n.is_empty())
            .collect();
        OptOutDetector {
            phrases,
            whole: DEFAULT_WHOLE_MESSAGE.iter().map(|w| normalise(w)).collect(),
            max_lines: 4,
        }
    }

    /// The defaults plus the team's own phrases.
    pub fn with_extra<S: AsRef<str>>(extra: impl IntoIterator<Item = S>) -> Self {
        let mut all: Vec<String> = DEFAULT_PHRASES.iter().map(|s| s.to_string()).collect();
        all.extend(extra.into_iter().map(|s| s.as_ref().to_string()));
        Self::new(all)
    }

    /// The first opt-out request in `reply`, if any.
    pub fn detect(&self, reply: &str) -> Option<OptOutMatch> {
        let whole = normalise(reply);
        if let Some(w) = self.whole.iter().find(|w| **w == whole) {
            let line = reply
                .lines()
                .position(|l| !l.trim().is_empty())
                .unwrap_or(0)
                + 1;
            return Some(OptOutMatch {
                phrase: w.clone(),
                line,
            });
        }
        let lines = reply
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .take(self.max_lines);
        for (i, line) in lines {
            for sentence in line.split(['.', '!', '?', ';', ':', ',']) {
                let s = format!(" {} ", normalise(sentence));
                for (raw, phrase) in &self.phrases {
                    let needle = format!(" {phrase} ");
                    let mut from = 0;
                    while let Some(pos) = s.get(from..).and_then(|rest| rest.find(&needle)) {
                        let at = from + pos;
                        if !negated(&s[..at]) {
                            return Some(OptOutMatch {
                                phrase: raw.clone(),
                                line: i + 1,
                            });
                        }
                        from = at + needle.len() - 1;
                    }
                }
            }
        }
        None
    }
}

/// Detection with the default phrases.
pub fn detect_opt_out(reply: &str) -> Option<OptOutMatch> {
    OptOutDetector::default().detect(reply)
}

/// Lowercase, every non-alphanumeric run as one space, trimmed.
fn normalise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with(' ') && !out.is_empty() {
            out.push(' ');
        }
    }
    out.trim_end().to_string()
}

/// Is one of the last three words before the phrase a negation?
fn negated(before: &str) -> bool {
    let words: Vec<&str> = before.split_whitespace().collect();
    let tail = &words[words.len().saturating_sub(3)..];
    let tail = format!(" {} ", tail.join(" "));
    NEGATIONS.iter().any(|n| tail.contains(&format!(" {n} ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phrase(reply: &str) -> Option<String> {
        detect_opt_out(reply).map(|m| m.phrase)
    }

    #[test]
    fn detects_requests_in_several_languages() {
        let cases = [
            ("Please remove me from your list.", "please remove me"),
            ("Hi,\n\nstop emailing me!\n\nJane", "stop emailing me"),
            ("UNSUBSCRIBE", "unsubscribe"),
            (
                "Bitte keine weiteren E-Mails. Danke",
                "keine weiteren e-mails",
            ),
            ("Ich möchte mich abmelden.", "abmelden"),
            (
                "Bonjour,\nje souhaite ne plus recevoir vos messages.",
                "ne plus recevoir",
            ),
            ("Merci de me désabonner", "désabonner"),
            ("Hola, quiero darme de baja.", "darme de baja"),
            ("Hej\nAfmeld venligst.", "afmeld"),
        ];
        for (reply, want) in cases {
            assert_eq!(phrase(reply).as_deref(), Some(want), "reply: {reply:?}");
        }
    }

    #[test]
    fn reports_the_line_of_the_match() {
        let m = detect_opt_out("Hello,\n\nThanks, but please remove me.\nBest").unwrap();
        assert_eq!(m.line, 3);
    }

    #[test]
    fn a_bare_stop_is_an_opt_out_but_stop_in_a_sentence_is_not() {
        assert!(detect_opt_out("  Stop.\n").is_some());
        assert_eq!(
            phrase("Please don't stop the project, we need it done."),
            None
        );
        assert_eq!(phrase("Can you stop by on Monday?"), None);
    }

    #[test]
    fn whole_words_only() {
        // "abmelden" must not match inside "Anmeldeformular" or "unsubscribed" inside prose.
        assert_eq!(phrase("Wir haben das Anmeldeformular ausgefüllt."), None);
        assert_eq!(
            phrase("I already unsubscribed from the other list, all good."),
            None
        );
        assert_eq!(phrase("We need an optout clause in the contract"), None);
    }

    #[test]
    fn negated_requests_are_not_opt_outs() {
        assert_eq!(phrase("Don't unsubscribe me, I love these updates."), None);
        assert_eq!(phrase("Ich will mich nicht abmelden."), None);
        assert_eq!(
            phrase("No. Unsubscribe me."),
            Some("unsubscribe".into()),
            "a negation in an earlier sentence does not count"
        );
    }

    #[test]
    fn only_the_first_lines_count() {
        let long = "Hi Bob,\n\nthanks for the quote.\nWe would like to go ahead.\n\
                    Start date is Monday.\nOur newsletter tool has an unsubscribe link bug.\n";
        assert_eq!(phrase(long), None);
    }

    #[test]
    fn configured_phrases_replace_or_extend_the_defaults() {
        let custom = OptOutDetector::new(["kein Interesse"]);
        assert!(custom.detect("Kein Interesse, danke.").is_some());
        assert!(
            custom.detect("Please remove me").is_none(),
            "defaults replaced"
        );
        let extended = OptOutDetector::with_extra(["leave me alone"]);
        assert!(extended.detect("just LEAVE me alone").is_some());
        assert!(extended.detect("please remove me").is_some());
    }

    #[test]
    fn odd_input_does_not_panic() {
        assert_eq!(phrase(""), None);
        assert_eq!(phrase("\u{0}\u{feff}😀 ---"), None);
        assert_eq!(phrase("ß́́́ not"), None);
    }
}

/// Which opt-outs hold for a desk: its own (each client is its own data controller), or
/// every desk's (`[privacy] optout_scope = "global"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope<'a> {
    Desk(&'a str),
    Global { desk: &'a str },
}

impl<'a> Scope<'a> {
    /// The desk an opt-out is recorded on.
    pub fn desk(&self) -> &'a str {
        match self {
            Scope::Desk(d) | Scope::Global { desk: d } => d,
        }
    }

    pub fn is_global(&self) -> bool {
        matches!(self, Scope::Global { .. })
    }
}
