//! Fields of a form notification: who submitted it (name, email, phone, company), what they
//! wrote, their consent, and every other field as extras; plus the provider (source) and
//! the form's name. Pure: a [`MessageView`] in, an [`Extraction`] out.
//!
//! Layers: [`items`] turns any body (text or HTML) into lines and sure pairs; [`pairs`]
//! reads label/value layouts from them; [`labels`] knows what labels mean; [`providers`]
//! names the service; [`forward`] unwraps inline forwards. Config templates come first.

pub(crate) mod dom;
mod forward;
mod items;
mod labels;
mod pairs;
mod providers;
pub mod triage;

use super::message::{Mailbox, MessageView};
use indexmap::IndexMap;
use regex::Regex;
use serde::Serialize;
use std::cell::OnceCell;
use std::sync::LazyLock;

pub use items::Item;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LeadFields {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub company: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Extraction {
    /// The provider, e.g. `contact-form-7`, `webflow`, `generic`.
    pub source: String,
    pub form: Option<String>,
    /// For a `generic` source: the sender's domain, what a route or a person can go by
    /// when the provider is one we do not know.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_hint: Option<String>,
    pub fields: LeadFields,
    pub consent: Option<bool>,
    /// Every other submitted field, by its printed label, in the form's order.
    pub extra: IndexMap<String, String>,
}

impl Extraction {
    /// A notification with no way to reach the submitter: kept, shown as "needs a template".
    pub fn needs_template(&self) -> bool {
        self.fields.email.is_none() && self.fields.phone.is_none()
    }

    fn field_count(&self) -> usize {
        let f = &self.fields;
        [&f.name, &f.email, &f.phone, &f.company, &f.message]
            .iter()
            .filter(|x| x.is_some())
            .count()
            + self.extra.len()
    }
}

/// A site's own notification format, from `[[templates]]` in the config.
#[derive(Clone, Debug)]
pub struct Template {
    pub name: String,
    pub source: String,
    pub match_from: Option<Regex>,
    pub match_subject: Option<Regex>,
    pub match_body: Option<Regex>,
    /// Field name (`name`, `email`, ... or any extra label) → regex with one capture group.
    pub fields: Vec<(String, Regex)>,
}

/// A recognised notification and how sure we are of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Found {
    pub extraction: Extraction,
    /// Sent by a hosted form service or marketplace (its sender proves the kind).
    pub hosted: bool,
    /// Unwrapped from a forward.
    pub forwarded: bool,
    /// From a config template.
    pub templated: bool,
}

/// The fields of `view` if it is a form notification.
pub fn extract(view: &MessageView, templates: &[Template]) -> Option<Extraction> {
    find(view, &Body::of(view), templates, &[]).map(|f| f.extraction)
}

/// Like [`extract`], with what the classifier needs to weigh it; `body` is `view`'s.
/// `off` names providers whose recognisers are switched off (the leave-one-provider-out
/// measurement: what the generic path makes of their mail).
pub fn find(
    view: &MessageView,
    body: &Body,
    templates: &[Template],
    off: &[String],
) -> Option<Found> {
    for t in templates {
        if let Ok(e) = try_template(view, body, t) {
            return Some(Found {
                extraction: e,
                hosted: false,
                forwarded: false,
                templated: true,
            });
        }
    }
    find_depth(view, body, 0, off)
}

/// Whether the body forwards bulk mail (a newsletter whose headers the forward left
/// behind): what the forwarder adds above it is a comment, not a lead.
pub fn forwards_bulk(body: &Body) -> bool {
    forward::unwrap_all(&body.items)
        .iter()
        .any(|fw| bulk_body(&items::to_text(&fw.items)))
}

/// Whether `view` announces a submission or a lead that no recogniser could read: it says
/// a new response, request or lead arrived, a person's request is told in a sentence
/// ("Quinn R. is looking for ..."), or it prints several label/value fields. Such mail is
/// triaged as a notification, never dropped as machine mail.
pub fn notification_like(view: &MessageView, body: &Body) -> bool {
    let subject = providers::subject_core(&view.subject);
    let parsed = body.parsed();
    let printed = parsed.fields.iter().filter(|f| !f.meta).count();
    let told = parsed
        .intro
        .iter()
        .flat_map(|l| sentences(l))
        .chain([subject])
        .any(|l| {
            PERSON_WANTS
                .captures(l.trim())
                .and_then(|c| c.get(1))
                .is_some_and(|m| person_name(m.as_str()).is_some())
        });
    printed >= 3 || told || alert_only(subject, &parsed.intro)
}

/// Notifications are small; beyond this many bytes a body is not read for fields (a 10 MB
/// message must not cost seconds).
const MAX_BODY: usize = 512 * 1024;

fn head(s: &str) -> &str {
    if s.len() <= MAX_BODY {
        return s;
    }
    let mut end = MAX_BODY;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// A message's body as the recognisers read it, rendered once per message: the text part
/// when there is a real one, else the HTML, as items and as plain text.
///
/// What several readers of one message need (its label/value pairs, the provider it names)
/// is worked out on first use and kept: extraction and triage both read them.
#[derive(Clone, Debug, Default)]
pub struct Body {
    pub items: Vec<Item>,
    /// The items as plain text (pairs as `label: value`), for markers and templates.
    pub plain: String,
    parsed: OnceCell<pairs::Parsed>,
    /// The provider named by the message this body was rendered from (sender, headers,
    /// subject, these items), before any recogniser is switched off.
    provider: OnceCell<Option<providers::Provider>>,
}

impl Body {
    pub fn of(view: &MessageView) -> Body {
        let items = match (
            &view.html,
            view.has_text_part && !view.text.trim().is_empty(),
        ) {
            (Some(html), false) => items::from_html(head(html)),
            _ => items::from_text(head(&view.text)),
        };
        Body::from_items(items)
    }

    fn from_items(items: Vec<Item>) -> Body {
        let plain = items::to_text(&items);
        Body {
            items,
            plain,
            ..Default::default()
        }
    }

    /// The body's label/value pairs and intro lines.
    pub fn parsed(&self) -> &pairs::Parsed {
        self.parsed
            .get_or_init(|| pairs::parse(&self.items, &self.plain))
    }

    /// The provider that the message this body was rendered from names: `subject`, `from`
    /// (lowercase) and `headers` must be that message's, the same on every call. Sources
    /// in `off` are not named.
    pub fn provider(
        &self,
        subject: &str,
        from: &str,
        headers: &[(String, String)],
        off: &[String],
    ) -> Option<providers::Provider> {
        self.provider
            .get_or_init(|| {
                providers::recognise(&providers::Doc {
                    subject,
                    from,
                    headers,
                    plain: &self.plain,
                })
            })
            .clone()
            .filter(|p| !off.iter().any(|o| o == p.source))
    }
}

fn find_depth(view: &MessageView, body: &Body, depth: usize, off: &[String]) -> Option<Found> {
    let items = &body.items;
    let from = view.from.as_ref();
    // A reply quotes its thread below a header block too; only forwards are unwrapped.
    let chain = if REPLY_SUBJECT.is_match(&view.subject) {
        Vec::new()
    } else {
        forward::unwrap_all(items)
    };
    // The innermost forward is the notification; the ones around it are people passing it on.
    for fw in chain.into_iter().rev() {
        let subject = if fw.subject.is_empty() {
            providers::subject_core(&view.subject).to_owned()
        } else {
            fw.subject.clone()
        };
        let fw_body = Body::from_items(fw.items);
        if bulk_body(&fw_body.plain) {
            // a forwarded newsletter (its List-Unsubscribe header was left behind) that
            // shows an example submission is not a notification
            continue;
        }
        if let Some(mut f) = analyse(&subject, fw.from.as_ref(), &fw.reply_to, &[], &fw_body, off) {
            f.forwarded = true;
            return Some(f);
        }
    }
    if depth < 3 {
        for inner in &view.attached_messages {
            if let Some(mut f) = find_depth(inner, &Body::of(inner), depth + 1, off) {
                f.forwarded = true;
                return Some(f);
            }
        }
    }
    let own = analyse(
        &view.subject,
        from,
        &view.reply_to,
        &view.headers,
        body,
        off,
    );
    if own.is_some() {
        return own;
    }
    // A text part that says nothing may sit beside an HTML part that does.
    if let (Some(html), true, true) = (&view.html, view.has_text_part, view.has_html_part) {
        let html_body = Body::from_items(items::from_html(head(html)));
        return analyse(
            &view.subject,
            from,
            &view.reply_to,
            &view.headers,
            &html_body,
            off,
        );
    }
    None
}

/// The marketplaces' sentence layouts beyond the plainest one: "New lead: Quinn R. is
/// looking to hire a painter near Raleigh, NC", "Dana K. requested a quote for Roof
/// Repair". The person is one to four capitalised words (a first name and an initial).
static PERSON_WANTS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:(?i:new (?:lead|request|job|message|quote request|opportunity|customer))\s*[:\-–]\s*)?(\p{Lu}[\p{L}'’-]*\.?(?:\s+\p{Lu}[\p{L}'’-]*\.?){0,3})(?:\s+(?i:in|from)\s+(\p{Lu}[^.!:]{1,60}?))?\s+(?i:is looking for|is looking to hire|is searching for|is interested in|is requesting|has requested|requested|requests|would like|wants|needs|sent you a (?:request|message) (?:for|about)|asked for|asked about)\s+(?i:(?:a|an|some|quotes? for|a quote for|help with|an estimate for|pricing for)\s+)?([^:]+?)(?:\s+(?i:in|near|around|at)\s+(\p{Lu}[^.!:]{1,60}?))?\s*(?:[.!]|:\s*(.*))?$").expect("static regex")
});
/// "It was submitted by Jane Doe (jane@example.com)", "Jane Doe <jane@example.com> wrote":
/// a person named beside their address in a sentence.
static PERSON_AND_ADDRESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(\p{Lu}[\p{L}'’.-]*(?:\s+\p{Lu}[\p{L}'’.-]*){0,3})\s*[(<\[]\s*(?:mailto:)?([A-Za-z0-9._%+'-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})\s*[)>\]]").expect("static regex")
});
/// "You have a new message from Jane Doe", "Neue Anfrage von Max Muster": the person after
/// "from" in a sentence of a customised template.
static PERSON_FROM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:^|\s)(?i:from|by|von|de|da|van|door|od|di)\s+(\p{Lu}[\p{L}'’-]+(?:\s+\p{Lu}[\p{L}'’.-]*){1,3})\s*(?:[.:!,(<]|$|\s+(?i:via|through|on|at|über|sur|en|su|op|com)(?-u:\b))").expect("static regex")
});
static SUBSCRIBED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?-u:\b)(?:newsletter|product news|subscribed to (?:our|the|\w+) (?:news|updates|blog|list|mailing)|marketing e-?mails)(?-u:\b)").expect("static regex")
});

/// The footer of bulk mail: an unsubscribe link for a newsletter, not for notifications.
fn bulk_body(plain: &str) -> bool {
    let lower = plain.to_lowercase();
    lower.contains("unsubscribe") && SUBSCRIBED.is_match(plain)
}

static NEW_ARRIVAL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?-u:\b)(?:new (?:gig |job |customer )?(?:responses?|submissions?|entr(?:y|ies)|leads?|requests?|inquir(?:y|ies)|enquir(?:y|ies)|messages?|bookings?)(?-u:\b)|has new responses|(?:is|are) looking for|nouvelle (?:réponse|demande)|neue (?:antwort|anfrage)|nueva (?:respuesta|solicitud)|nuova (?:risposta|richiesta))").expect("static regex")
});

/// A hosted service's alert that a response or a lead arrived, without its answers (they
/// are behind the link): the subject or an opening sentence says so.
fn alert_only(subject: &str, intro: &[String]) -> bool {
    let said = |t: &str| NEW_ARRIVAL.is_match(t) && !SUMMARY.is_match(t);
    let summary = SUMMARY.is_match(subject) || intro.iter().take(6).any(|l| SUMMARY.is_match(l));
    !summary && (said(subject) || intro.iter().take(6).any(|l| said(l)))
}

/// A summary of several arrivals ("5 new responses this week") is the provider's digest,
/// not one lead.
static SUMMARY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?-u:\b)(?:\d+|several|multiple) new(?-u:\b)|(?-u:\b)(?:weekly|daily|monthly)(?-u:\b)|(?-u:\b)summary(?-u:\b)|(?-u:\b)digest(?-u:\b)|(?-u:\b)this (?:week|month)(?-u:\b)|(?-u:\b)wöchentlich|(?-u:\b)hebdomadaire|(?-u:\b)semanal").expect("static regex")
});

/// A paragraph in quotation marks on its own (marketplaces quote what the customer wrote).
fn quoted_paragraph(items: &[Item]) -> Option<String> {
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
fn contact_block(items: &[Item], f: &mut LeadFields) {
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
const NOT_A_PERSON: &[&str] = &[
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

fn person_name(candidate: &str) -> Option<String> {
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
struct IntroPerson {
    name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    message: Option<String>,
    service: Option<String>,
    location: Option<String>,
}

/// A paragraph cut into sentences, but not after an initial ("Quinn R. is looking ...").
fn sentences(line: &str) -> Vec<&str> {
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

static PHONE_IN_TEXT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\+\d{1,3}[\s.-]?)?(?:\(\d{2,5}\)[\s.-]?)?\d{2,6}(?:[\s.-]\d{2,6}){1,4}")
        .expect("static regex")
});
static PHONE_WORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?-u:\b)(phone|call|ring|reach|tel|mobile|cell|number|whatsapp|text|telefon|téléphone|teléfono|telefono|llamar|appeler|anrufen|bellen|chiamare)").expect("static regex")
});

/// A phone number written in a sentence that speaks of calling ("You can reach her on
/// 555-0147"): seven digits at least, and not a date.
fn phone_in_sentence(s: &str) -> Option<String> {
    if !PHONE_WORD.is_match(s) {
        return None;
    }
    phone_token(s)
}

fn phone_token(s: &str) -> Option<String> {
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
fn service_text(s: &str) -> Option<String> {
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

fn intro_person(lines: &[String], subject: &str) -> IntroPerson {
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

/// An address a marketplace or a privacy service hands out in the person's stead (a relay
/// on the sender's own domain, `reply-xyz@messages.example`, a masked `j***@gmail.com`):
/// mail reaches the person only through the service, so it is not their address.
fn masked_address(addr: &str, from_addr: &str, marketplace: &str) -> bool {
    let addr = addr.to_lowercase();
    let (local, dom) = addr.rsplit_once('@').unwrap_or(("", ""));
    let from_dom = domain(from_addr);
    let registrable = |d: &str| -> String {
        let labels: Vec<&str> = d.split('.').collect();
        labels[labels.len().saturating_sub(2)..].join(".")
    };
    let relay_label = dom.split('.').any(|l| {
        [
            "relay",
            "reply",
            "replies",
            "messages",
            "msg",
            "proxy",
            "masked",
            "anonymous",
            "privaterelay",
            "conversations",
            "inbound",
            "leadmail",
        ]
        .contains(&l)
    });
    let token = !marketplace.is_empty()
        && local.len() >= 16
        && local.chars().filter(char::is_ascii_digit).count() >= 4
        && local.chars().filter(char::is_ascii_alphabetic).count() >= 4
        && !local.contains('.');
    addr.contains('*')
        || (!marketplace.is_empty() && dom.split('.').any(|l| l == marketplace))
        || (!from_dom.is_empty()
            && registrable(dom) == registrable(from_dom)
            && !marketplace.is_empty())
        || relay_label
        || token
}

static REPLY_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)^\s*(re|aw|sv|vs|antw|rif|r)\s*(\[\d+\])?\s*:").expect("static regex")
});
static NOREPLY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(no-?reply|do-?not-?reply|donotreply|mailer|wordpress|notifications?|forms?|bounce)",
    )
    .expect("static regex")
});

fn domain(addr: &str) -> &str {
    addr.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
}

fn analyse(
    subject: &str,
    from: Option<&Mailbox>,
    reply_to: &[Mailbox],
    headers: &[(String, String)],
    body: &Body,
    off: &[String],
) -> Option<Found> {
    let items = &body.items;
    let from_addr = from.map(|m| m.address.to_lowercase()).unwrap_or_default();
    let provider = body.provider(subject, &from_addr, headers, off);
    let parsed = body.parsed();
    let mut e = labels::build(&parsed.fields);
    let marketplace = provider.as_ref().is_some_and(|p| p.marketplace);
    let hosted = provider.as_ref().is_some_and(|p| p.hosted);
    // what the form itself printed as fields, before sentences and signatures add to it
    let labelled = e.field_count();
    let f = &e.fields;
    // sentences are read only for what the fields left open (they cost regexes per line)
    let open = f.name.is_none()
        || (f.email.is_none() && f.phone.is_none())
        || f.message.is_none()
        || marketplace;
    let intro = if open {
        intro_person(&parsed.intro, providers::subject_core(subject))
    } else {
        IntroPerson::default()
    };
    if e.fields.name.is_none() {
        e.fields.name = intro.name;
    }
    if e.fields.email.is_none() {
        e.fields.email = intro.email;
    }
    if e.fields.phone.is_none() {
        e.fields.phone = intro.phone;
    }
    if e.fields.message.is_none() {
        e.fields.message = intro.message;
    }
    if e.fields.email.is_none() {
        contact_block(items, &mut e.fields);
    }
    if e.fields.message.is_none() {
        e.fields.message = quoted_paragraph(items);
    }
    if !e.extra.contains_key("Service") && (marketplace || e.fields.email.is_none()) {
        if let Some(loc) = intro.location.filter(|_| !e.extra.contains_key("Location")) {
            e.extra.shift_insert(0, "Location".into(), loc);
        }
        if let Some(svc) = intro.service {
            e.extra.shift_insert(0, "Service".into(), svc);
        }
    }
    let market_source = provider
        .as_ref()
        .filter(|p| p.marketplace)
        .map(|p| p.source)
        .unwrap_or("");
    if e.fields
        .email
        .as_deref()
        .is_some_and(|a| masked_address(a, &from_addr, market_source))
    {
        e.fields.email = None;
    }
    if e.fields.email.is_none() && !marketplace {
        let from_domain = domain(&from_addr);
        let person = reply_to.iter().find(|m| {
            let a = m.address.to_lowercase();
            let local = a.split('@').next().unwrap_or("");
            !NOREPLY.is_match(local) && domain(&a) != from_domain && a.contains('@')
        });
        if let Some(m) = person {
            e.fields.email = Some(m.address.to_lowercase());
            // the provider puts the submitter there, display name and all
            if e.fields.name.is_none() {
                e.fields.name = m.name.as_deref().and_then(person_name);
            }
        }
    }
    if e.fields.email.is_none() && !marketplace {
        // scripts that send "from" the submitter: From's name is the person's name
        let same_person = from.is_some_and(|m| {
            m.name.as_deref().is_some_and(|n| {
                e.fields
                    .name
                    .as_deref()
                    .is_some_and(|x| x.trim().eq_ignore_ascii_case(n.trim()))
            })
        });
        if same_person {
            e.fields.email = Some(from_addr.clone());
        }
    }
    let f = &e.fields;
    let contact = f.email.is_some() || f.phone.is_some();
    let ok = if hosted {
        ((f.name.is_some() || contact) && e.field_count() >= 2)
            // an alert that only links to the answers: a lead to look up at the provider
            || (e.field_count() <= 2 && alert_only(subject, &parsed.intro))
    } else {
        // a person's own mail has a name and a number in its signature: a notification
        // prints fields (one will do when a plugin's own markers name it)
        let printed = if provider.is_some() { 1 } else { 2 };
        contact
            && (f.name.is_some() || f.message.is_some())
            && e.field_count() >= 3
            && labelled >= printed
    };
    if !ok {
        return None;
    }
    match provider {
        Some(p) => {
            e.source = p.source.to_owned();
            e.form = p.form;
        }
        None => {
            e.source = "generic".into();
            e.source_hint = Some(domain(&from_addr).to_owned()).filter(|d| !d.is_empty());
        }
    }
    drop_service_text(&mut e);
    Some(Found {
        extraction: e,
        hosted,
        forwarded: false,
        templated: false,
    })
}

/// Rows that are the service's own text, not the submitter's: a label naming the service
/// ("Google Forms: Create and analyze surveys", "Formstack Submission For"), the form's
/// name printed again as a field, the contact block's name line read as a label.
fn drop_service_text(e: &mut Extraction) {
    let key = providers::name_key;
    let source = key(&e.source);
    let form = e.form.clone();
    let name = e.fields.name.clone();
    e.extra.retain(|label, value| {
        let service = source.len() >= 4 && source != "generic" && key(label).contains(&source);
        let form_again = form.as_deref().is_some_and(|f| f == value.trim());
        let name_line = name.as_deref().is_some_and(|n| n == label.trim());
        !(service || form_again || name_line)
    });
}

/// Applies one config template to `view` (whose body is `body`), for `leadgate parse
/// --template NAME`: the error says which match condition failed, or which fields found
/// nothing.
pub fn try_template(view: &MessageView, body: &Body, t: &Template) -> Result<Extraction, String> {
    if t.match_from.is_none() && t.match_subject.is_none() && t.match_body.is_none() {
        return Err(format!(
            "template {:?} has no match condition (match.from, match.subject or match.body)",
            t.name
        ));
    }
    let from = view.from.as_ref().map(|m| m.address.as_str()).unwrap_or("");
    let body = body.plain.as_str();
    let checks = [
        ("match.from", &t.match_from, from),
        ("match.subject", &t.match_subject, view.subject.as_str()),
        ("match.body", &t.match_body, body),
    ];
    for (what, re, s) in checks {
        if let Some(re) = re {
            if !re.is_match(s) {
                let shown: String = s.chars().take(80).collect();
                return Err(format!(
                    "template {:?}: {what} /{}/ does not match {shown:?}",
                    t.name,
                    re.as_str()
                ));
            }
        }
    }
    let mut e = Extraction {
        source: t.source.clone(),
        ..Default::default()
    };
    let mut missing = Vec::new();
    for (field, re) in &t.fields {
        let value = re
            .captures(body)
            .and_then(|c| c.get(1).or_else(|| c.get(0)))
            .map(|m| m.as_str().trim().to_owned())
            .filter(|v| !v.is_empty());
        match value {
            Some(v) => set_field(&mut e, field, v),
            None => missing.push(field.as_str()),
        }
    }
    if !t.fields.is_empty() && missing.len() == t.fields.len() {
        return Err(format!(
            "template {:?}: no field found anything ({})",
            t.name,
            missing.join(", ")
        ));
    }
    Ok(e)
}

fn set_field(e: &mut Extraction, field: &str, value: String) {
    let slot = match field.trim().to_lowercase().as_str() {
        "name" => &mut e.fields.name,
        "email" => &mut e.fields.email,
        "phone" => &mut e.fields.phone,
        "company" => &mut e.fields.company,
        "message" => &mut e.fields.message,
        "form" => &mut e.form,
        "consent" => {
            e.consent = labels::consent_value(&value);
            return;
        }
        _ => {
            e.extra.insert(field.trim().to_owned(), value);
            return;
        }
    };
    slot.get_or_insert(value);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(subject: &str, text: &str) -> MessageView {
        MessageView {
            subject: subject.into(),
            from: Some(Mailbox::new(None, "web@acme.example.com")),
            text: text.into(),
            has_text_part: true,
            ..Default::default()
        }
    }

    fn template(subject: &str, fields: &[(&str, &str)]) -> Template {
        Template {
            name: "acme".into(),
            source: "acme-site".into(),
            match_from: None,
            match_subject: Some(Regex::new(subject).expect("re")),
            match_body: None,
            fields: fields
                .iter()
                .map(|(k, r)| (k.to_string(), Regex::new(r).expect("re")))
                .collect(),
        }
    }

    #[test]
    fn template_extracts_and_explains_failures() {
        let v = view(
            "Website enquiry",
            "Who: Ann Lee\nMail: ann@example.org\nBudget: 5k\n",
        );
        let t = template(
            "^Website enquiry",
            &[
                ("name", r"(?m)^Who: (.+)$"),
                ("email", r"Mail: (\S+)"),
                ("Budget", r"Budget: (.+)"),
            ],
        );
        let e = try_template(&v, &Body::of(&v), &t).expect("matches");
        assert_eq!(e.source, "acme-site");
        assert_eq!(e.fields.name.as_deref(), Some("Ann Lee"));
        assert_eq!(e.extra.get("Budget").map(String::as_str), Some("5k"));
        assert_eq!(
            extract(&v, &[t]).map(|e| e.source),
            Some("acme-site".into())
        );

        let err = try_template(
            &view("Other", ""),
            &Body::default(),
            &template("^Website", &[]),
        )
        .unwrap_err();
        assert!(err.contains("match.subject"), "{err}");
        let t = template("^Website", &[("name", "Nobody: (.+)")]);
        let err = try_template(&v, &Body::of(&v), &t).unwrap_err();
        assert!(err.contains("no field") && err.contains("name"), "{err}");
    }

    fn from(addr: &str, subject: &str, text: &str) -> MessageView {
        MessageView {
            from: Some(Mailbox::new(None, addr)),
            ..view(subject, text)
        }
    }

    #[test]
    fn a_marketplace_sentence_gives_name_service_and_place_even_before_the_verb() {
        let e = extract(
            &from(
                "leads@somemarket.example",
                "New job lead",
                "Good news. Casey L. in Portland, OR needs help with Divorce & Separation.\n\nPhone: (503) 555-0141\nBudget: $2,000\n",
            ),
            &[],
        )
        .expect("lead");
        assert_eq!(e.fields.name.as_deref(), Some("Casey L."));
        assert_eq!(
            e.extra.get("Service").map(String::as_str),
            Some("Divorce & Separation")
        );
        assert_eq!(
            e.extra.get("Location").map(String::as_str),
            Some("Portland, OR")
        );
    }

    #[test]
    fn a_person_named_beside_their_address_in_the_intro_is_the_submitter() {
        let e = extract(
            &from(
                "nobody@shop.example.com",
                "Feedback form",
                "Below is the result of your feedback form. It was submitted by\nJo Park (jo.park@example.org) on Monday\n-----\n\nphone: 555-0101\n\ncomments: Please call me back.\n",
            ),
            &[],
        )
        .expect("lead");
        assert_eq!(e.fields.name.as_deref(), Some("Jo Park"));
        assert_eq!(e.fields.email.as_deref(), Some("jo.park@example.org"));
        assert_eq!(e.fields.message.as_deref(), Some("Please call me back."));
    }

    #[test]
    fn a_signature_with_a_name_and_number_does_not_make_a_persons_mail_a_notification() {
        let v = MessageView {
            from: Some(Mailbox::new(Some("Tom Hale"), "tom@example.net")),
            ..view(
                "Heat pumps",
                "Hi,\n\nDo you install heat pumps in Leeds?\n\nThanks,\nTom Hale\n07700 900123\n",
            )
        };
        assert_eq!(extract(&v, &[]), None);
    }

    #[test]
    fn a_hosted_alert_without_answers_is_a_lead_to_look_up_but_a_digest_is_not() {
        let alert = from(
            "forms-noreply@wufoo.example",
            "New response: Garden Design",
            "You have a new response.\nView responses: https://wufoo.example/r/1\n",
        );
        let e = extract(&alert, &[]).expect("alert");
        assert_eq!(e.source, "wufoo");
        assert!(e.needs_template());
        let digest = from(
            "forms-noreply@wufoo.example",
            "5 new responses this week",
            "You have 5 new responses this week.\nView responses: https://wufoo.example/r/1\n",
        );
        assert_eq!(extract(&digest, &[]), None);
    }

    #[test]
    fn a_plugins_weak_markers_yield_to_a_product_the_mail_names_itself() {
        let text = "--- Name ---\nAnn Lee\n\n--- Email ---\nann@example.org\n\n--- Message ---\nHello there\n";
        let mut v = view("Contact request", text);
        assert_eq!(extract(&v, &[]).map(|e| e.source), Some("wpforms".into()));
        v.headers = vec![("X-Mailer".into(), "Acme Forms 2.1".into())];
        let e = extract(&v, &[]).expect("still a lead");
        assert_eq!(e.source, "generic");
        assert_eq!(e.source_hint.as_deref(), Some("acme.example.com"));
    }

    #[test]
    fn relay_and_masked_addresses_are_never_the_leads_email() {
        assert!(masked_address(
            "a1b2c3d4e5f6g7h8@thumbtack.example",
            "no-reply@thumbtack.example",
            "thumbtack"
        ));
        assert!(masked_address(
            "reply-7@messages.houzz.example",
            "x@houzz.example",
            ""
        ));
        assert!(masked_address("h*****@e******.org", "x@y.example", ""));
        assert!(!masked_address(
            "michaelrodriguez1985@example.com",
            "web@site.example",
            ""
        ));
    }

    #[test]
    fn name_parts_under_other_labels_and_languages_are_joined() {
        for (text, want) in [
            ("Prénom: Marie\nNom: Dupont\nE-mail: m@example.fr\nMessage: Bonjour\n", "Marie Dupont"),
            ("Nome: Elena\nCognome: Marchi\nEmail: e@example.it\nMessaggio: Ciao\n", "Elena Marchi"),
            ("Imię: Anna\nNazwisko: Nowak\nE-mail: a@example.pl\nWiadomość: Dzień dobry\n", "Anna Nowak"),
            ("Your first name: Rosa\nAnd your last name, Rosa?: Delgado\nEmail: r@example.org\nMessage: Hi\n", "Rosa Delgado"),
        ] {
            let e = extract(&view("Contact", text), &[]).expect(text);
            assert_eq!(e.fields.name.as_deref(), Some(want), "{text}");
        }
    }

    #[test]
    fn markdown_bullets_and_quoted_messages_are_layout_not_values() {
        let e = extract(
            &view(
                "New lead",
                "**Name**: Bo Chen\n- **Email:** bo@example.org\n• Phone: 555-0102\n**Message**:\n> First line\n> second line\n",
            ),
            &[],
        )
        .expect("lead");
        assert_eq!(e.fields.name.as_deref(), Some("Bo Chen"));
        assert_eq!(e.fields.email.as_deref(), Some("bo@example.org"));
        assert_eq!(e.fields.phone.as_deref(), Some("555-0102"));
        assert_eq!(e.fields.message.as_deref(), Some("First line\nsecond line"));
    }

    #[test]
    fn the_innermost_of_nested_forwards_wins_over_the_forwarders() {
        let text = "FYI\n---------- Forwarded message ---------\nFrom: Site Owner <owner@site.example.com>\nSubject: Fwd: New Entry: Quote\n\nBegin forwarded message:\n\n> From: WordPress <wordpress@site.example.com>\n> Subject: New Entry: Quote\n>\n> Name: Ann Lee\n> Email: ann@example.org\n> Message: A quote please\n";
        let e = extract(
            &from("agent@agency.example", "Fwd: Fwd: New Entry: Quote", text),
            &[],
        )
        .expect("lead");
        assert_eq!(e.source, "wpforms");
        assert_eq!(e.form.as_deref(), Some("Quote"));
        assert_eq!(e.fields.name.as_deref(), Some("Ann Lee"));
        assert_eq!(e.fields.email.as_deref(), Some("ann@example.org"));
    }

    #[test]
    fn a_forwarded_newsletter_with_an_example_submission_is_not_a_notification() {
        let text = "Worth a try?\n\n---------- Forwarded message ---------\nFrom: Forms Co <news@formsco.example>\nSubject: Tips for your contact form\n\nExample submission:\nName: Jane Example\nEmail: jane@example.com\nMessage: A quote please\n\nYou're receiving this because you subscribed to our product news.\nUnsubscribe: https://formsco.example/u\n";
        assert_eq!(
            extract(&from("owner@studio.example", "Fwd: Tips", text), &[]),
            None
        );
    }

    #[test]
    fn generic_labels_in_other_languages() {
        let e = extract(
            &view(
                "Kontaktanfrage",
                "Vorname: Eva\nNachname: Roth\nE-Mail: eva@example.de\nTelefon: 0170 5551234\nIhre Nachricht: Bitte um Rückruf.\nDatenschutz: Ja\n",
            ),
            &[],
        )
        .expect("lead");
        assert_eq!(e.fields.name.as_deref(), Some("Eva Roth"));
        assert_eq!(e.fields.message.as_deref(), Some("Bitte um Rückruf."));
        assert_eq!(e.consent, Some(true));
        assert_eq!(e.source, "generic");
    }
}
