//! Which service wrote a notification, and the form's name, from real markers only: the
//! sender's domain for hosted services and marketplaces, and the plugins' own subject
//! lines, headers and footers for WordPress plugins. Keyed on nothing site- or
//! person-specific.

use regex::Regex;
use std::sync::LazyLock;

/// What the recognisers see of a message.
pub struct Doc<'a> {
    pub subject: &'a str,
    /// Sender address, lowercase.
    pub from: &'a str,
    pub headers: &'a [(String, String)],
    /// The body as plain text.
    pub plain: &'a str,
}

impl Doc<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn domain_labels(&self) -> Vec<&str> {
        self.from
            .rsplit_once('@')
            .map(|(_, d)| d.split('.').collect())
            .unwrap_or_default()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Provider {
    pub source: &'static str,
    pub form: Option<String>,
    /// Hosted services and marketplaces: their sender is proof of a notification.
    pub hosted: bool,
    pub marketplace: bool,
}

/// Sender domain label → source.
const HOSTED: &[(&str, &str)] = &[
    ("jotform", "jotform"),
    ("typeform", "typeform"),
    ("tally", "tally"),
    ("webflow", "webflow"),
    ("squarespace", "squarespace"),
    ("wix", "wix"),
    ("wixforms", "wix"),
    ("hubspot", "hubspot"),
    ("hubspotemail", "hubspot"),
    ("netlify", "netlify"),
    ("formspree", "formspree"),
    ("zohoforms", "zoho-forms"),
    ("zohopublic", "zoho-forms"),
    ("webforms", "webflow"),
    ("cognitoforms", "cognito-forms"),
    ("paperform", "paperform"),
    ("usebasin", "basin"),
    ("basin", "basin"),
    ("getform", "getform"),
    ("framer", "framer"),
    ("framerforms", "framer"),
    ("formstack", "formstack"),
    ("123formbuilder", "123formbuilder"),
    ("wufoo", "wufoo"),
    ("formsite", "formsite"),
    ("formkeep", "formkeep"),
    ("formcarry", "formcarry"),
    ("formspark", "formspark"),
    ("formsubmit", "formsubmit"),
    ("web3forms", "web3forms"),
    ("staticforms", "staticforms"),
    ("kwesforms", "kwesforms"),
    ("fabform", "fabform"),
    ("formbold", "formbold"),
    ("weebly", "weebly"),
    ("jimdo", "jimdo"),
    ("webnode", "webnode"),
    ("strikingly", "strikingly"),
    ("carrd", "carrd"),
    ("hsforms", "hubspot"),
    ("shopify", "shopify"),
    ("emailjs", "emailjs"),
    ("pipedrive", "pipedrive"),
    ("calendly", "calendly"),
    ("acuityscheduling", "acuity"),
];
const MARKETPLACES: &[(&str, &str)] = &[
    ("thumbtack", "thumbtack"),
    ("angi", "angi"),
    ("angieslist", "angi"),
    ("homeadvisor", "homeadvisor"),
    ("bark", "bark"),
    ("yelp", "yelp"),
    ("houzz", "houzz"),
    ("porch", "porch"),
    ("networx", "networx"),
    ("checkatrade", "checkatrade"),
    ("mybuilder", "mybuilder"),
    ("gigsalad", "gigsalad"),
    ("ratedpeople", "ratedpeople"),
    ("trustatrader", "trustatrader"),
    ("zillow", "zillow"),
    ("avvo", "avvo"),
    ("theknot", "the-knot"),
    ("weddingwire", "weddingwire"),
    ("zola", "zola"),
    ("care", "care-com"),
    ("hipages", "hipages"),
    ("oneflare", "oneflare"),
    ("airtasker", "airtasker"),
    ("serviceseeking", "serviceseeking"),
    ("builderscrack", "builderscrack"),
    ("homestars", "homestars"),
    ("homeguide", "homeguide"),
    ("fixr", "fixr"),
    ("buildzoom", "buildzoom"),
    ("craftjack", "craftjack"),
    ("modernize", "modernize"),
    ("myhammer", "myhammer"),
    ("werkspot", "werkspot"),
    ("instapro", "instapro"),
    ("habitissimo", "habitissimo"),
    ("starofservice", "starofservice"),
    ("lawyers", "lawyers-com"),
    ("justia", "justia"),
    ("findlaw", "findlaw"),
    ("realtor", "realtor-com"),
    ("trulia", "zillow"),
    ("upcounsel", "upcounsel"),
    ("expertise", "expertise"),
];
/// Footer phrases of hosted services, for copies sent from an owner's own mailbox.
const BODY_MARKERS: &[(&str, &str)] = &[
    ("email notifications for google forms", "google-forms"),
    ("google forms", "google-forms"),
    ("made with tally", "tally"),
    ("powered by zoho forms", "zoho-forms"),
    ("powered by cognito forms", "cognito-forms"),
    ("powered by jotform", "jotform"),
    ("made with paperform", "paperform"),
    ("powered by paperform", "paperform"),
    ("powered by basin", "basin"),
    ("powered by getform", "getform"),
    ("sent from your framer site", "framer"),
    ("powered by typeform", "typeform"),
    ("microsoft forms", "microsoft-forms"),
    ("sent from your wix site", "wix"),
    ("powered by wufoo", "wufoo"),
    ("powered by formstack", "formstack"),
    ("powered by 123formbuilder", "123formbuilder"),
];

fn re(s: &str) -> Regex {
    Regex::new(s).expect("static regex")
}

static FWD_PREFIX: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^\s*((re|fwd?|aw|wg|tr|rv|sv|vs|r|i)\s*:\s*)+"));
static WPFORMS_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^(?:new entry|nueva entrada|nouvelle entrée|neuer eintrag|nuova voce|nuova iscrizione|nieuwe inzending|nieuw item|nova entrada|nowy wpis|ny post)\s*(?:\(?#\s*\d+\)?)?\s*:\s*(.+)$",
    )
});
static ELEMENTOR_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)^(?:new message from|nouveau message de|neue nachricht von|nuevo mensaje de|nuovo messaggio da|nieuw bericht van|nova mensagem de)\s*["«„“”']"#,
    )
});
static ELEMENTOR_BODY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(powered by|propulsé par|bereitgestellt von|con la tecnología de|desarrollado por|mit unterstützung von)\s*:?\s*elementor",
    )
});
/// Drupal Webform's default subject.
static DRUPAL_SUBJECT: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^webform submission from\s*:\s*(.+)$"));
/// Craft Formie's default notification text.
static FORMIE_BODY: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?im)^a new submission was made on ["“](.+?)["”]"#));
/// Everest Forms' default subject names the form after "New Form Entry" with no number.
static EVEREST_SUBJECT: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^new form entry\s+([^#\s].*)$"));
/// Divi's contact module: "New Message From <site>" in title case, " - <form>" when titled.
static DIVI_SUBJECT: LazyLock<Regex> =
    LazyLock::new(|| re(r"^New Message From [^\x22“«]+?(?:\s+-\s+(.+))?$"));
static FORMIDABLE_SUBJECT: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^(.+?) form submitted(?: on .+)?$"));
static GRAVITY_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^(?:new submission from|neue einsendung von|nouvelle soumission de|nuevo envío de)\s+(.+)$",
    )
});
static CF7_BODY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(this e-?mail was sent from a contact form on|diese e-mail wurde von einem kontaktformular|cet e-?mail a été envoyé via le formulaire de contact|este (mensaje|correo electrónico) (se envió|se ha enviado|fue enviado) (desde|a través de) un formulario de contacto|questa e-?mail è stata inviata da un modulo di contatto|deze e-?mail is verzonden via een contactformulier|powered by contact form 7|のお問い合わせフォームから送信されました|^message body:|^corps du message\s*:|^nachrichtentext:|^cuerpo del mensaje:)",
    )
});
static CF7_FORM: LazyLock<Regex> =
    LazyLock::new(|| re(r#"(?im)^sent from the ["“](.+?)["”] form on(?-u:\b)"#));
static FORMINATOR_SUBJECT: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^new form entry\s*#?\s*\d*\s+for\s+(.+)$"));
static GOOGLE_SUBJECT: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^new (?:form )?responses?\s*[:\-–—]\s*(.+)$"));
static GOOGLE_BODY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?im)(?:new response received for|a new response was submitted to)\s*["“]?(.+?)["”]?\.?$|^your form,?\s*["“]?(.+?)["”]?,?\s+has new responses"#,
    )
});
static GENERIC_SAAS_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)^(?:new (?:form )?(?:submission|response|entry)s?\s*(?:#\s*\d+\s*)?(?:to|for|from|in|:|-|–)|(?:new )?form submission\s*[-:–]|(?:neue (?:formular)?(?:einsendung|antwort)|neuer eintrag|nouvelle (?:soumission|réponse|entrée)|nueva (?:respuesta|entrada|solicitud)|nuovo invio|nuova risposta|nieuwe (?:inzending|reactie)|nova (?:resposta|submissão|entrada))\s*(?:#\s*\d+\s*)?(?:von|für|zu|de|pour|para|per|da|voor|:|-|–))\s*:?\s*(.+)$",
    )
});

fn cap(re: &Regex, s: &str) -> Option<String> {
    re.captures(s)
        .and_then(|c| c.iter().skip(1).flatten().next())
        .map(|m| clean_form(m.as_str()))
        .filter(|f| !f.is_empty())
}

static ENTRY_NUMBER: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\s*[-–|(\[]?\s*(?:entry|eintrag|entrée|entrada|voce|inzending|wpis|submission|n[ºo°.]?)?\s*#\s*\d+[)\]]?\s*$",
    )
});

static FORM_PREFIX: LazyLock<Regex> = LazyLock::new(|| re(r"(?i)^(?:your |the )?form\s*[:,]\s*"));

fn clean_form(s: &str) -> String {
    let s = ENTRY_NUMBER.replace(s.trim(), "");
    let s = FORM_PREFIX.replace(s.trim(), "");
    s.trim()
        .trim_matches(|c: char| "\"“”«»„'".contains(c))
        .trim()
        .to_owned()
}

/// A name with case and punctuation set aside: "Web3Forms" and `web3forms` are one key.
pub fn name_key(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

fn same_name(a: &str, b: &str) -> bool {
    name_key(a) == name_key(b)
}

fn looks_like_path(s: &str) -> bool {
    s.contains('/') || (s.contains('.') && !s.contains(' '))
}

/// The subject without forward/reply prefixes, leading emoji or symbols, and a leading
/// `[site]` tag: what providers' subject patterns are written against.
pub fn subject_core(subject: &str) -> &str {
    let s = match FWD_PREFIX.find(subject) {
        Some(m) => &subject[m.end()..],
        None => subject,
    };
    let s = s.trim_start_matches(|c: char| !(c.is_alphanumeric() || "[(\"'«„“¿¡".contains(c)));
    let s = match s.strip_prefix('[').and_then(|r| r.split_once(']')) {
        // `[Netlify] Form submission ...` keeps the tag where nothing follows it
        Some((_, rest)) if !rest.trim().is_empty() => {
            rest.trim_start_matches([' ', ':', '-', '–', '|'])
        }
        _ => s,
    };
    s.trim()
}

/// Per hosted service: where its form name is (subject or body) and the pattern.
static FORM_RULES: LazyLock<Vec<(&'static str, bool, Regex)>> = LazyLock::new(|| {
    let rules: &[(&str, bool, &str)] = &[
        (
            "typeform",
            false,
            r"(?i)^new (?:typeform )?response (?:to|for)\s+(.+)$",
        ),
        (
            "tally",
            false,
            r"(?i)^new tally form submission\s*:\s*(.+)$",
        ),
        (
            "tally",
            false,
            r"(?i)^new (?:tally )?submission (?:to|for|on)\s+(.+)$",
        ),
        (
            "webflow",
            true,
            r"(?im)^your form,?\s*(.+?),?\s+on\s+.+?\s+has (?:a )?new submission",
        ),
        (
            "squarespace",
            false,
            r"(?i)^form submission\s*[-–:]\s*(.+)$",
        ),
        ("wix", false, r"(?i)^new submission\s*[:\-–]\s*(.+)$"),
        ("wix", true, r"(?m)^form:\s*(.+?)\s*(?:·|\||$)"),
        (
            "hubspot",
            false,
            r"(?i)^new (?:form )?submission on\s+(.+)$",
        ),
        ("hubspot", true, r"(?m)^.+? submitted (.+)$"),
        (
            "netlify",
            false,
            r"(?i)form submission from\s+(.+?)\s+form(?-u:\b)",
        ),
        ("formspree", true, r"(?im)^new submission for\s+(.+)$"),
        (
            "formstack",
            true,
            r"(?im)^formstack submission for\s*:?\s*\[?(.+?)\]?\s*$",
        ),
        ("calendly", true, r"(?im)^event type\s*:\s*(.+)$"),
        (
            "zoho-forms",
            false,
            r"(?i)^(?:new entry|neuer eintrag|nouvelle entrée|nueva entrada|new submission)\s*[:\-]\s*(.+)$",
        ),
        (
            "zoho-forms",
            true,
            r"(?im)^(?:neuer eintrag in|new entry in|nouvelle entrée dans)\s+(.+)$",
        ),
        (
            "cognito-forms",
            false,
            r"(?i)^(.+?)\s*[-–]\s*(?:new )?entry\s*#?\s*\d*$",
        ),
    ];
    rules
        .iter()
        .map(|(s, body, p)| (*s, *body, re(p)))
        .collect()
});
static FORMSPREE_SUBJECT: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i)^new submission from\s+(.+)$"));

fn hosted_form(source: &str, d: &Doc<'_>) -> Option<String> {
    let s = subject_core(d.subject);
    if source == "jotform" {
        return Some(clean_form(s)).filter(|x| !x.is_empty());
    }
    let by_rule = FORM_RULES
        .iter()
        .filter(|(src, _, _)| *src == source)
        .find_map(|(_, body, re)| cap(re, if *body { d.plain } else { s }));
    let formspree = || {
        (source == "formspree")
            .then(|| cap(&FORMSPREE_SUBJECT, s))
            .flatten()
            .filter(|f| !looks_like_path(f))
    };
    by_rule
        .or_else(formspree)
        .or_else(|| cap(&GENERIC_SAAS_SUBJECT, s).filter(|f| !looks_like_path(f)))
}

/// A "Powered by X" footer line. The product's length (2 to 31 characters) is checked by
/// [`powered_by`], not by a counted repetition: `{1,30}?` of Unicode `\w` compiles to
/// 1.8 MB of automaton (0.13 MB without), kept for the daemon's life.
static POWERED_BY: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?im)^\s*(?:powered by|sent (?:by|via|with)|made with|created with|built with|propulsé par|bereitgestellt von|erstellt mit|creado con|realizzato con)\s*:?\s*([\w][\w .-]+?)\s*[.!]?\s*$",
    )
});

/// The products [`POWERED_BY`] names, each at most 31 characters as `{1,30}?` would allow:
/// where the shortest name that ends the line is longer, the bounded pattern failed at that
/// start and went on at the next line, and so does this.
fn powered_by(text: &str) -> impl Iterator<Item = &str> {
    let mut at = 0;
    std::iter::from_fn(move || loop {
        let c = POWERED_BY.captures_at(text, at)?;
        let (whole, name) = (c.get(0)?, c.get(1)?);
        if name.as_str().chars().count() <= 31 {
            at = whole.end();
            return Some(name.as_str());
        }
        at = whole.start() + text[whole.start()..].find('\n')? + 1;
    })
}
/// Products whose mail we read with the WordPress plugins' weak evidence: WordPress itself,
/// its mailer and SMTP plugins.
const WORDPRESS_WORDS: &[&str] = &[
    "wordpress",
    "phpmailer",
    "wp mail",
    "wp-mail",
    "post smtp",
    "fluentsmtp",
    "easy wp smtp",
    "contact form 7",
    "wpforms",
    "gravity forms",
    "formidable",
    "fluent forms",
    "elementor",
    "ninja forms",
    "forminator",
];

/// The mail names a product of its own (an `X-Mailer`, a "Powered by" footer) that is not
/// WordPress: a back-end we may not know, whose layout must not be taken for a plugin's.
fn foreign_product(d: &Doc<'_>) -> bool {
    let wordpress = |v: &str| {
        let v = v.to_lowercase();
        WORDPRESS_WORDS.iter().any(|w| v.contains(w))
    };
    let mailer = ["X-Mailer", "User-Agent", "X-Generator"]
        .iter()
        .filter_map(|h| d.header(h))
        .any(|v| !wordpress(v));
    let footer = powered_by(d.plain).any(|m| !wordpress(m));
    mailer || footer
}

/// Every phrase the recognisers look for in a body (footers, plugin names, default
/// texts), lowercase ASCII: one pass over the body finds them all.
const PHRASES: &[&str] = &[
    "email notifications for google forms",
    "google forms",
    "made with tally",
    "powered by zoho forms",
    "powered by cognito forms",
    "powered by jotform",
    "made with paperform",
    "powered by paperform",
    "powered by basin",
    "powered by getform",
    "sent from your framer site",
    "powered by typeform",
    "microsoft forms",
    "sent from your wix site",
    "powered by wufoo",
    "powered by formstack",
    "powered by 123formbuilder",
    "wpforms",
    "a new submission was made on",
    "everest forms",
    "formidable",
    "user-agent (browser/os)",
    "ninja forms",
    "fluent forms",
    "this form submitted at",
    "forminator",
    "gravity forms",
];

static PHRASE_FINDER: LazyLock<aho_corasick::AhoCorasick> = LazyLock::new(|| {
    aho_corasick::AhoCorasick::builder()
        .ascii_case_insensitive(true)
        .match_kind(aho_corasick::MatchKind::LeftmostLongest)
        .build(PHRASES)
        .expect("static phrases")
});

/// For each phrase, the phrases it contains ("email notifications for google forms"
/// holds "google forms"): a leftmost-longest search reports only the longer one.
static CONTAINED: LazyLock<Vec<u64>> = LazyLock::new(|| {
    PHRASES
        .iter()
        .map(|p| {
            PHRASES
                .iter()
                .enumerate()
                .filter(|(_, q)| p.contains(*q))
                .fold(0u64, |bits, (i, _)| bits | 1 << i)
        })
        .collect()
});

/// Which of [`PHRASES`] a body holds.
struct Phrases(u64);

impl Phrases {
    fn in_body(plain: &str) -> Self {
        const _: () = assert!(PHRASES.len() <= 64);
        let mut bits = 0u64;
        for m in PHRASE_FINDER.find_iter(plain) {
            bits |= CONTAINED[m.pattern().as_usize()];
        }
        Phrases(bits)
    }

    fn has(&self, phrase: &str) -> bool {
        let i = PHRASES.iter().position(|p| *p == phrase);
        debug_assert!(i.is_some(), "{phrase} is not in PHRASES");
        i.is_some_and(|i| self.0 & (1 << i) != 0)
    }
}

/// The provider `d` names, if any (sources switched off are filtered by the caller:
/// [`super::Body::provider`] keeps this result for both extraction and triage).
pub fn recognise(d: &Doc<'_>) -> Option<Provider> {
    let labels = d.domain_labels();
    let found = Phrases::in_body(d.plain);
    let subject = subject_core(d.subject);
    let hosted = |source: &'static str| Provider {
        source,
        // a default subject that names the service ("New Submission from Web3Forms")
        form: hosted_form(source, d).filter(|f| !same_name(f, source)),
        hosted: true,
        marketplace: false,
    };
    for (label, source) in MARKETPLACES {
        if labels.contains(label) {
            return Some(Provider {
                source,
                form: None,
                hosted: true,
                marketplace: true,
            });
        }
    }
    for (label, source) in HOSTED {
        if labels.contains(label) {
            return Some(hosted(source));
        }
    }
    let google = d
        .header("X-Google-Original-From")
        .is_some_and(|v| v.to_lowercase().contains("apps script"));
    let google_forms = found.has("google forms")
        || (GOOGLE_SUBJECT.is_match(subject) && GOOGLE_BODY.is_match(d.plain));
    if google || google_forms {
        return Some(Provider {
            source: "google-forms",
            form: cap(&GOOGLE_SUBJECT, subject).or_else(|| cap(&GOOGLE_BODY, d.plain)),
            hosted: true,
            marketplace: false,
        });
    }
    for (marker, source) in BODY_MARKERS {
        if found.has(marker) {
            return Some(hosted(source));
        }
    }
    let plugin = |source: &'static str, form: Option<String>| {
        Some(Provider {
            source,
            form,
            hosted: false,
            marketplace: false,
        })
    };
    // Layout and default subjects alone are weak evidence: an unknown back-end may print
    // the same. They name a plugin only when nothing names another product.
    // worked out only when a weak rule would decide (it reads the whole body)
    let foreign = std::cell::OnceCell::new();
    let weak_ok = || !*foreign.get_or_init(|| foreign_product(d));
    let dashed = d
        .plain
        .lines()
        .filter(|l| {
            let t = l.trim();
            t.starts_with("--- ") && t.ends_with(" ---")
        })
        .count();
    if d.header("X-WPForms-Notification").is_some()
        || found.has("wpforms")
        || ((WPFORMS_SUBJECT.is_match(subject) || dashed >= 2) && weak_ok())
    {
        return plugin("wpforms", cap(&WPFORMS_SUBJECT, subject));
    }
    if let Some(c) = DRUPAL_SUBJECT.captures(subject) {
        return plugin("drupal-webform", c.get(1).map(|m| clean_form(m.as_str())));
    }
    if let Some(form) = found
        .has("a new submission was made on")
        .then(|| cap(&FORMIE_BODY, d.plain))
        .flatten()
    {
        return plugin("formie", Some(form));
    }
    if found.has("everest forms") || (EVEREST_SUBJECT.is_match(subject) && weak_ok()) {
        return plugin("everest-forms", cap(&EVEREST_SUBJECT, subject));
    }
    if DIVI_SUBJECT.is_match(subject) && weak_ok() {
        return plugin("divi", cap(&DIVI_SUBJECT, subject));
    }
    if ELEMENTOR_SUBJECT.is_match(subject) || ELEMENTOR_BODY.is_match(d.plain) {
        return plugin("elementor", None);
    }
    if found.has("formidable")
        || ((FORMIDABLE_SUBJECT.is_match(subject) || found.has("user-agent (browser/os)"))
            && weak_ok())
    {
        return plugin("formidable", cap(&FORMIDABLE_SUBJECT, subject));
    }
    if subject.to_lowercase().contains("ninja forms") || found.has("ninja forms") {
        return plugin("ninja-forms", None);
    }
    if found.has("fluent forms")
        || ((found.has("this form submitted at")
            || subject.to_lowercase().ends_with("new form submission"))
            && weak_ok())
    {
        return plugin("fluent-forms", None);
    }
    if FORMINATOR_SUBJECT.is_match(subject) || found.has("forminator") {
        return plugin("forminator", cap(&FORMINATOR_SUBJECT, subject));
    }
    if (CF7_BODY.is_match(d.plain) && weak_ok()) || CF7_FORM.is_match(d.plain) {
        return plugin("contact-form-7", cap(&CF7_FORM, d.plain));
    }
    if found.has("gravity forms") || (GRAVITY_SUBJECT.is_match(subject) && weak_ok()) {
        return plugin("gravity-forms", cap(&GRAVITY_SUBJECT, subject));
    }
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_powered_by_product_is_at_most_31_characters() {
        let names = |t: &str| -> Vec<String> { super::powered_by(t).map(str::to_owned).collect() };
        let name = |n: usize| format!("P{}", "x".repeat(n - 1));
        assert_eq!(names(&format!("Powered by {}\n", name(31))), [name(31)]);
        assert!(names(&format!("Powered by {}\n", name(32))).is_empty());
        // A too-long one does not hide the next line's.
        assert_eq!(
            names(&format!("Powered by {}\nMade with Formie\n", name(40))),
            ["Formie"]
        );
    }
}
