//! Fields told in prose rather than printed as labels: a person named in the intro
//! sentences (with their address, phone, service and place), a contact block without
//! labels, a paragraph in quotation marks, and a hosted service's alert that a lead arrived.
//! Pure: lines in, fields out.

use super::{labels, Item, LeadFields};
use regex::Regex;
use std::sync::LazyLock;

/// A pattern whose group 1 is a person's name of at most four words. Bounded by a counted
/// repetition of a Unicode letter class (`{0,3}` words after the first), it compiles to
/// 0.3-0.5 MB of automaton, kept for the daemon's life; with the words unbounded, to a
/// tenth of that. The unbounded one runs first: where its name has at most four words, its
/// match is the bounded pattern's too (leftmost-first tries more words first, so every
/// longer count failed at that start, and every earlier start failed with any count).
/// Only a longer name needs the bounded pattern, compiled then.
pub(super) struct NamedPerson {
    any: LazyLock<Regex>,
    bounded: LazyLock<Regex>,
}

impl NamedPerson {
    pub(super) fn captures<'h>(&self, hay: &'h str) -> Option<regex::Captures<'h>> {
        let c = self.any.captures(hay)?;
        let words = c
            .get(1)
            .map_or(0, |m| m.as_str().split_whitespace().count());
        if words <= 4 {
            Some(c)
        } else {
            self.bounded.captures(hay)
        }
    }
}

/// `pattern` with `words` as its name's repetition (`WORDS`).
fn named_person(pattern: &str, words: &str) -> Regex {
    Regex::new(&pattern.replace("WORDS", words)).expect("static regex")
}

/// The marketplaces' sentence layouts beyond the plainest one: "New lead: Quinn R. is
/// looking to hire a painter near Raleigh, NC", "Dana K. requested a quote for Roof
/// Repair". The person is one to four capitalised words (a first name and an initial).
const PERSON_WANTS_PATTERN: &str = r"^(?:(?i:new (?:lead|request|job|message|quote request|opportunity|customer))\s*[:\-–]\s*)?(\p{Lu}[\p{L}'’-]*\.?(?:\s+\p{Lu}[\p{L}'’-]*\.?)WORDS)(?:\s+(?i:in|from)\s+(\p{Lu}[^.!:]{1,60}?))?\s+(?i:is looking for|is looking to hire|is searching for|is interested in|is requesting|has requested|requested|requests|would like|wants|needs|sent you a (?:request|message) (?:for|about)|asked for|asked about)\s+(?i:(?:a|an|some|quotes? for|a quote for|help with|an estimate for|pricing for)\s+)?([^:]+?)(?:\s+(?i:in|near|around|at)\s+(\p{Lu}[^.!:]{1,60}?))?\s*(?:[.!]|:\s*(.*))?$";
pub(super) static PERSON_WANTS: NamedPerson = NamedPerson {
    any: LazyLock::new(|| named_person(PERSON_WANTS_PATTERN, "*")),
    bounded: LazyLock::new(|| named_person(PERSON_WANTS_PATTERN, "{0,3}")),
};
/// "It was submitted by Jane Doe (jane@example.com)", "Jane Doe <jane@example.com> wrote":
/// a person named beside their address in a sentence.
const PERSON_AND_ADDRESS_PATTERN: &str = r"(\p{Lu}[\p{L}'’.-]*(?:\s+\p{Lu}[\p{L}'’.-]*)WORDS)\s*[(<\[]\s*(?:mailto:)?([A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})\s*[)>\]]";
pub(super) static PERSON_AND_ADDRESS: NamedPerson = NamedPerson {
    any: LazyLock::new(|| named_person(PERSON_AND_ADDRESS_PATTERN, "*")),
    bounded: LazyLock::new(|| named_person(PERSON_AND_ADDRESS_PATTERN, "{0,3}")),
};
/// "You have a new message from Jane Doe", "Neue Anfrage von Max Muster": the person after
/// "from" in a sentence of a customised template (two to four words).
const PERSON_FROM_PATTERN: &str = r"(?:^|\s)(?i:from|by|von|de|da|van|door|od|di)\s+(\p{Lu}[\p{L}'’-]+(?:\s+\p{Lu}[\p{L}'’.-]*)WORDS)\s*(?:[.:!,(<]|$|\s+(?i:via|through|on|at|über|sur|en|su|op|com)(?-u:\b))";
pub(super) static PERSON_FROM: NamedPerson = NamedPerson {
    any: LazyLock::new(|| named_person(PERSON_FROM_PATTERN, "+")),
    bounded: LazyLock::new(|| named_person(PERSON_FROM_PATTERN, "{1,3}")),
};

pub(super) static NEW_ARRIVAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?-u:\b)(?:new (?:gig |job |customer )?(?:responses?|submissions?|entr(?:y|ies)|leads?|requests?|inquir(?:y|ies)|enquir(?:y|ies)|messages?|bookings?)(?-u:\b)|has new responses|(?:is|are) looking for|nouvelle (?:réponse|demande)|neue (?:antwort|anfrage)|nueva (?:respuesta|solicitud)|nuova (?:risposta|richiesta))").expect("static regex")
});

/// A hosted service's alert that a response or a lead arrived, without its answers (they
/// are behind the link): the subject or an opening sentence says so.
pub(super) fn alert_only(subject: &str, intro: &[String]) -> bool {
    let said = |t: &str| NEW_ARRIVAL.is_match(t) && !SUMMARY.is_match(t);
    let summary = SUMMARY.is_match(subject) || intro.iter().take(6).any(|l| SUMMARY.is_match(l));
    !summary && (said(subject) || intro.iter().take(6).any(|l| said(l)))
}

/// A summary of several arrivals ("5 new responses this week") is the provider's digest,
/// not one lead.
pub(super) static SUMMARY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?-u:\b)(?:\d+|several|multiple) new(?-u:\b)|(?-u:\b)(?:weekly|daily|monthly)(?-u:\b)|(?-u:\b)summary(?-u:\b)|(?-u:\b)digest(?-u:\b)|(?-u:\b)this (?:week|month)(?-u:\b)|(?-u:\b)wöchentlich|(?-u:\b)hebdomadaire|(?-u:\b)semanal").expect("static regex")
});

/// A paragraph in quotation marks on its own (marketplaces quote what the customer wrote).
pub(super) fn quoted_paragraph(items: &[Item]) -> Option<String> {
    items.iter().filter_map(Item::line).find_map(|l| {
        let t = l.trim();
        let pairs = [('"', '"'), ('“', '”'), ('«', '»'), ('„', '“')];
        pairs.iter().find_map(|(a, b)| {
            let inner = t.strip_prefix(*a)?.strip_suffix(*b)?.trim();
            (inner.chars().count() >= 20 && !inner.contains(*a)).then(|| inner.to_owned())
        })
    })
}

/// Lines that are only an address or only a phone number, under a line with a person's
/// name: a contact block printed without labels (marketplaces, CRM alerts).
pub(super) fn contact_block(items: &[Item], f: &mut LeadFields) {
    let lines: Vec<&str> = items.iter().filter_map(Item::line).collect();
    let is_email = |l: &str| labels::email_in(l).is_some_and(|a| a.len() + 2 >= l.trim().len());
    let is_phone = |l: &str| phone_token(l).is_some_and(|p| p.len() + 2 >= l.trim().len());
    let Some(first) = lines.iter().position(|l| is_email(l) || is_phone(l)) else {
        return;
    };
    let block: Vec<&str> = lines[first..]
        .iter()
        .take(3)
        .take_while(|l| is_email(l) || is_phone(l))
        .copied()
        .collect();
    let name = first
        .checked_sub(1)
        .and_then(|i| lines.get(i))
        .filter(|l| {
            l.split_whitespace().count() >= 2 && !l.chars().any(|c| c.is_ascii_digit() || c == ':')
        })
        .and_then(|l| person_name(l));
    if name.is_none() {
        return;
    }
    for l in block {
        if is_email(l) && f.email.is_none() {
            f.email = labels::email_in(l);
        } else if is_phone(l) && f.phone.is_none() {
            f.phone = Some(l.trim().to_owned());
        }
    }
    if f.name.is_none() {
        f.name = name;
    }
}

/// Words that make "from X Y" a site, a form or a company, not a person.
pub(super) const NOT_A_PERSON: &[&str] = &[
    "form",
    "forms",
    "website",
    "site",
    "web",
    "contact",
    "page",
    "team",
    "inc",
    "ltd",
    "llc",
    "gmbh",
    "services",
    "service",
    "company",
    "formular",
    "formulaire",
    "formulario",
    "modulo",
    "kontaktformular",
    "online",
    "shop",
    "store",
    "studio",
    "group",
    "app",
    "support",
];

pub(super) fn person_name(candidate: &str) -> Option<String> {
    let c = candidate.trim().trim_end_matches([',', ':']);
    let words: Vec<&str> = c.split_whitespace().collect();
    let person = !words.is_empty()
        && words.len() <= 4
        && !words.iter().any(|w| {
            let w = w
                .trim_matches(|ch: char| !ch.is_alphanumeric())
                .to_lowercase();
            NOT_A_PERSON.contains(&w.as_str())
        });
    person.then(|| c.to_owned())
}

/// A person named in the intro sentences of a notification (customised templates, classic
/// scripts such as FormMail, marketplaces): name, address, service and place.
#[derive(Default)]
pub(super) struct IntroPerson {
    pub(super) name: Option<String>,
    pub(super) email: Option<String>,
    pub(super) phone: Option<String>,
    pub(super) message: Option<String>,
    pub(super) service: Option<String>,
    pub(super) location: Option<String>,
}

/// A paragraph cut into sentences, but not after an initial ("Quinn R. is looking ...").
pub(super) fn sentences(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let b = line.as_bytes();
    for (i, c) in line.char_indices() {
        if !matches!(c, '.' | '!' | '?') || b.get(i + 1) != Some(&b' ') {
            continue;
        }
        let word = line[start..i].rsplit(' ').next().unwrap_or("");
        let initial = word.chars().count() == 1 && word.chars().all(char::is_uppercase);
        if !initial {
            out.push(line[start..=i].trim());
            start = i + 1;
        }
    }
    out.push(line[start..].trim());
    out.retain(|s| !s.is_empty());
    out
}

pub(super) static PHONE_IN_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,5}\)[\s.-]?)?\d{2,6}(?:[\s.-]\d{2,6}){1,4}")
        .expect("static regex")
});
pub(super) static PHONE_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?-u:\b)(phone|call|ring|reach|tel|mobile|cell|number|whatsapp|text|telefon|téléphone|teléfono|telefono|llamar|appeler|anrufen|bellen|chiamare)").expect("static regex")
});

/// A phone number written in a sentence that speaks of calling ("You can reach her on
/// 555-0147"): seven digits at least, and not a date.
pub(super) fn phone_in_sentence(s: &str) -> Option<String> {
    if !PHONE_WORD.is_match(s) {
        return None;
    }
    phone_token(s)
}

pub(super) fn phone_token(s: &str) -> Option<String> {
    PHONE_IN_TEXT
        .find_iter(s)
        .map(|m| m.as_str().trim())
        .find(|m| {
            let digits = m.chars().filter(char::is_ascii_digit).count();
            let date = m.len() == 10
                && m.chars().filter(|c| *c == '-').count() == 2
                && m.starts_with(['1', '2']);
            (7..=15).contains(&digits) && !date
        })
        .map(str::to_owned)
}

/// What follows "is looking for": a service, not the provider itself ("your services").
pub(super) fn service_text(s: &str) -> Option<String> {
    let s = s.trim().trim_end_matches(['.', '!', ':', ',']).trim();
    let first = s.split_whitespace().next().unwrap_or("").to_lowercase();
    let vague = [
        "your",
        "you",
        "our",
        "us",
        "someone",
        "a",
        "an",
        "the",
        "quote",
        "quotes",
        "estimate",
        "information",
        "info",
        "working",
    ]
    .contains(&first.as_str());
    (!s.is_empty() && !vague && s.chars().count() <= 80).then(|| s.to_owned())
}

pub(super) fn intro_person(lines: &[String], subject: &str) -> IntroPerson {
    let mut p = IntroPerson::default();
    let sentences = lines.iter().flat_map(|l| sentences(l)).chain([subject]);
    for l in sentences {
        // cheap tests first: each pattern needs a word or a character the line must hold
        let lower = l.to_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| lower.contains(w));
        if p.phone.is_none() && l.bytes().filter(u8::is_ascii_digit).count() >= 7 {
            p.phone = phone_in_sentence(l);
        }
        if p.name.is_none() && l.contains('@') {
            if let Some(c) = PERSON_AND_ADDRESS.captures(l) {
                p.name = c.get(1).and_then(|m| person_name(m.as_str()));
                p.email = c.get(2).map(|m| m.as_str().to_owned());
            }
        }
        let wants = [
            "look",
            "need",
            "want",
            "interest",
            "request",
            "would like",
            "sent you",
            "ask",
        ];
        if p.service.is_none() && has(&wants) {
            if let Some(c) = PERSON_WANTS.captures(l.trim()) {
                if let Some(name) = c.get(1).and_then(|m| person_name(m.as_str())) {
                    p.name.get_or_insert(name);
                    p.service = c.get(3).and_then(|m| service_text(m.as_str()));
                    p.location = c
                        .get(4)
                        .or_else(|| c.get(2))
                        .map(|m| m.as_str().trim().to_owned());
                    p.message = c
                        .get(5)
                        .map(|m| {
                            m.as_str()
                                .trim()
                                .trim_matches(|ch: char| "\"“”‘’'".contains(ch))
                                .trim()
                                .to_owned()
                        })
                        .filter(|m| m.chars().count() >= 20);
                }
            }
        }
        let from_words = [
            "from ", "by ", "von ", "de ", "da ", "van ", "door ", "od ", "di ",
        ];
        if p.name.is_none() && has(&from_words) {
            if let Some(c) = PERSON_FROM.captures(l) {
                p.name = c.get(1).and_then(|m| person_name(m.as_str()));
            }
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name_and_place(c: &regex::Captures<'_>) -> (String, Option<String>) {
        let name = c.get(1).map(|m| m.as_str().to_owned()).unwrap_or_default();
        let place = c.get(4).or_else(|| c.get(2)).map(|m| m.as_str().to_owned());
        (name, place)
    }

    #[test]
    fn a_name_of_up_to_four_words_is_read_by_the_small_pattern() {
        let c = PERSON_WANTS
            .captures("Quinn R. is looking to hire a painter near Raleigh")
            .unwrap();
        assert_eq!(
            name_and_place(&c),
            ("Quinn R.".into(), Some("Raleigh".into()))
        );
        let c = PERSON_FROM
            .captures("You have a new message from Jane Van Der Doe via the website")
            .unwrap();
        assert_eq!(&c[1], "Jane Van Der Doe");
        let c = PERSON_AND_ADDRESS
            .captures("It was submitted by Jane Doe (jane@example.com)")
            .unwrap();
        assert_eq!((&c[1], &c[2]), ("Jane Doe", "jane@example.com"));
    }

    #[test]
    fn past_four_capitalised_words_the_bounded_pattern_decides() {
        // Unbounded, the name would run on to "Mitte"; four words at most, it is "Jane Doe"
        // and the place follows "In".
        let c = PERSON_WANTS
            .captures("Jane Doe In Berlin Mitte wants a new roof.")
            .unwrap();
        assert_eq!(
            name_and_place(&c),
            ("Jane Doe".into(), Some("Berlin Mitte".into()))
        );
        // The four words before the address, not the five capitalised words of the line.
        let c = PERSON_AND_ADDRESS
            .captures("Sent By Mary Ann Van Doe <mary@example.com>")
            .unwrap();
        assert_eq!(&c[1], "Mary Ann Van Doe");
        // Five words after "from" are no name; the bounded pattern goes on to the next
        // "from"-word ("van", in any case) and the two words after it.
        let c = PERSON_FROM
            .captures("A message from Anna Maria Van Der Heide.")
            .unwrap();
        assert_eq!(&c[1], "Der Heide.");
    }
}
