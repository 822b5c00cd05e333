//! What a printed label means: the synonym tables (EN/DE/FR/ES and a few more) that map
//! labels to name, email, phone, company, message and consent; the labels that are never
//! submitted data (IP, user agent, timestamps, IDs); and how fields become [`LeadFields`].
//! Extend the tables here; nothing else needs to change.

use super::pairs::Field;
use super::{Extraction, LeadFields};
use regex::Regex;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::LazyLock;

const NAME: &[&str] = &[
    "name",
    "your name",
    "full name",
    "fullname",
    "customer",
    "customer name",
    "client",
    "client name",
    "contact name",
    "contact person",
    "owner name",
    "parent name",
    "parent/guardian name",
    "guardian name",
    "applicant name",
    "realname",
    "real name",
    "sender name",
    "invitee",
    "invitee name",
    "attendee",
    "attendee name",
    "guest name",
    "booked by",
    "requester",
    "requester name",
    "lead name",
    "contact full name",
    "nom",
    "nom complet",
    "votre nom",
    "nom et prénom",
    "prénom et nom",
    "ihr name",
    "vor- und nachname",
    "vollständiger name",
    "ansprechpartner",
    "nombre",
    "nombre completo",
    "tu nombre",
    "su nombre",
    "nombre y apellidos",
    "naam",
    "nome",
    "nome completo",
    "navn",
    "namn",
    "imię i nazwisko",
    "имя",
    "ф.и.о.",
    "фио",
    "お名前",
    "氏名",
    "名前",
];
const FIRST: &[&str] = &[
    "first name",
    "name (first)",
    "firstname",
    "first",
    "given name",
    "forename",
    "forenames",
    "given names",
    "first names",
    "christian name",
    "primeiro nome",
    "nome próprio",
    "imię",
    "名",
    "first name(s)",
    "vorname",
    "prénom",
    "prenom",
    "nombre de pila",
    "voornaam",
    "fornavn",
    "förnamn",
];
const LAST: &[&str] = &[
    "last name",
    "name (last)",
    "lastname",
    "last",
    "surname",
    "family name",
    "nachname",
    "familienname",
    "zuname",
    "cognome",
    "nazwisko",
    "sobrenome",
    "apelido",
    "apelidos",
    "último nome",
    "primer apellido",
    "姓",
    "nom de famille",
    "apellido",
    "apellidos",
    "achternaam",
    "efternavn",
    "efternamn",
];
const COMPANY: &[&str] = &[
    "company",
    "company name",
    "business",
    "business name",
    "organisation",
    "organization",
    "organisation name",
    "organization name",
    "firm",
    "firma",
    "firmenname",
    "unternehmen",
    "société",
    "societe",
    "entreprise",
    "nom de l'entreprise",
    "empresa",
    "nombre de la empresa",
    "employer",
    "agency",
    "bedrijf",
    "azienda",
    "company/organization",
    "organisation/company",
    "società",
    "ragione sociale",
    "empresa/organização",
    "nome da empresa",
    "bedrijfsnaam",
    "firma/unternehmen",
    "nazwa firmy",
    "会社名",
];
const MESSAGE_EXACT: &[&str] = &[
    "message",
    "your message",
    "message body",
    "comments",
    "comment",
    "nachricht",
    "ihre nachricht",
    "mitteilung",
    "votre message",
    "mensaje",
    "tu mensaje",
    "su mensaje",
    "bericht",
    "messaggio",
    "besked",
    "meddelande",
    "details",
    "notes",
    "comentarios",
    "comentario",
    "commentaires",
    "commentaire",
    "kommentar",
    "bemerkung",
    "bemerkungen",
    "anmerkungen",
    "note",
    "nota",
    "note aggiuntive",
    "opmerking",
    "opmerkingen",
    "mensagem",
    "sua mensagem",
    "wiadomość",
    "treść wiadomości",
    "お問い合わせ内容",
    "メッセージ",
    "body",
];
/// Label texts, in any case, that are technical data, not something the person typed.
const DROP: &[&str] = &[
    "ip",
    "ip address",
    "remote ip",
    "ip distante",
    "adresse ip",
    "ip-adresse",
    "dirección ip",
    "user agent",
    "user-agent",
    "user-agent (browser/os)",
    "agent utilisateur",
    "browser",
    "powered by",
    "propulsé par",
    "bereitgestellt von",
    "con la tecnología de",
    "timestamp",
    "submitted",
    "submitted at",
    "submitted on",
    "submission date",
    "date submitted",
    "submission time",
    "entry id",
    "entry",
    "entry #",
    "lead id",
    "lead #",
    "lead number",
    "job #",
    "job id",
    "job number",
    "request #",
    "request id",
    "submission id",
    "form id",
    "form",
    "formulaire",
    "formular",
    "formulario",
    "honeypot",
    "referer id",
    "created at",
    "created",
    "送信日時",
    "受付日時",
    "受信日時",
    "created time",
    "remote host",
    "remote addr",
    "remote user",
    "http user agent",
    "http referer",
    "server name",
    "server software",
    "request method",
];
const META_KEEP: &[&str] = &[
    "page url",
    "page",
    "url",
    "referrer",
    "referer",
    "url de la page",
    "seiten-url",
    "url der seite",
    "url de la página",
    "source url",
    "page submitted on",
    "form url",
    "submitted from",
    "this form submitted at",
    "sent from page",
];

static CONSENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(consent|gdpr|dsgvo|rgpd|privacy|datenschutz|newsletter|(?-u:\b)news(?-u:\b)|marketing|(?-u:\b)offers(?-u:\b)|promotions?|(?-u:\b)opt[ -]?in(?-u:\b)|(?-u:\b)agree|(?-u:\b)acceptance(?-u:\b)|(?-u:\b)accept(?:[eos]?|é)[^\w\n].*(terms|privacy|policy|conditions|data|datenschutz|politique|política|donn)|einwillig|zustimm|einverstanden|confidentialit|privacidad|privacidade|acepto|j'accepte|subscribe|communications|contact(ed)? (me|you)(?-u:\b)|may we contact|can we contact|permission to contact|(?-u:\b)sms(?-u:\b).*(consent|opt)|text messages|(?-u:\b)send me(?-u:\b).*(?-u:\b)(news|offers|updates|reminders|tips|e-?mails)|keep me (informed|updated|posted)|mailing list|zgod|(?-u:\b)rodo(?-u:\b)|toestemming|akkoord|consenso|autorizz|informativa|aceito|concordo|同意)").expect("static regex")
});
static EMAIL_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(e-?mail|mail(?-u:\b)|correo|courriel|электронн|メール)")
        .expect("static regex")
});
static PHONE_LABEL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(phone|(?-u:\b)tel(?-u:\b)|(?-u:\b)tel\.|telefon|telefoon|téléphone|telephone|teléfono|telefono|telefone|telemóvel|telemovel|(?-u:\b)fone(?-u:\b)|mobile|mobiel|(?-u:\b)gsm(?-u:\b)|(?-u:\b)cell|cellulare|handy|portable|móvil|movil|celular|whatsapp|телефон|電話|携帯)").expect("static regex")
});
static MESSAGE_STRONG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(message|comment|anything(?-u:\b)|describe|description|detail|(?-u:\b)notes?(?-u:\b)|question|tell us|inquiry|enquiry|nachricht|mitteilung|anmerkung|anliegen|kommentar|bemerkung|commentaire|mensaje|comentario|consulta|additional information|how can we help|what do you need|beschreibung|précisions|demande|bericht|messaggio|mensagem|wiadomo|opmerking|richiesta|pedido|(?-u:\b)wrote$|schrieb$|a écrit$|escribió$|ha scritto$|schreef$|escreveu$|お問い合わせ|ご相談|ご要望)").expect("static regex")
});
static MESSAGE_WEAK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(help|need|goal|change|situation|hoping|solve|looking for|project|projet|proyecto|progetto|projeto|projekt|vorhaben|request|about|wish|want|problem|issue|cuéntanos|dites-nous|raccontaci|vertel)").expect("static regex")
});
static EMAIL_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
        .expect("static regex")
});
static ACCEPTS_MARKETING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i),?\s*accepts marketing:\s*(true|false|yes|no)").expect("static regex")
});
/// `h*****@e******.org`: an address the service hides from the business.
static MASKED_EMAIL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\S*\*{2,}\S*@\S+").expect("static regex"));
static MAILBOX: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*(.*?)\s*<([^<>@\s]+@[^<>\s]+)>\s*$").expect("static regex"));

/// Lowercase, `_` as space, no decoration (`**Label**`, bullets), no trailing `?:.*` or
/// "(required)", single spaces.
pub fn norm(label: &str) -> String {
    let l = label.to_lowercase().replace('_', " ");
    let l = l
        .trim()
        .trim_start_matches(['*', '#', '•', '·', '▪', '►', '-', '–', '>', ' '])
        .trim_end_matches(['?', ':', '.', '*', ' ', '：']);
    let l = REQUIRED_MARK.replace(l, "");
    let l = l.trim().trim_end_matches(['?', ':', '.', '*', ' ', '：']);
    l.split_whitespace().collect::<Vec<_>>().join(" ")
}

static REQUIRED_MARK: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)\s*\((?:required|optional|obligatoire|facultatif|pflichtfeld|pflicht|optional|obligatorio|opcional|obbligatorio|facoltativo|verplicht|obrigatório|wymagane)\)\s*$").expect("static regex")
});

/// "your first name" → "first name": the possessive that many forms put before a label.
fn without_possessive(l: &str) -> &str {
    const POSSESSIVES: &[&str] = &[
        "your ", "ihr ", "ihre ", "votre ", "vos ", "tu ", "su ", "sus ", "il tuo ", "la tua ",
        "tuo ", "tua ", "uw ", "je ", "seu ", "sua ", "o seu ", "a sua ", "twoje ", "twój ",
    ];
    POSSESSIVES
        .iter()
        .find_map(|p| l.strip_prefix(p))
        .unwrap_or(l)
}

pub fn email_in(v: &str) -> Option<String> {
    EMAIL_VALUE.find(v).map(|m| m.as_str().to_owned())
}

fn in_set(set: &[&str], l: &str) -> bool {
    set.contains(&l) || l.split(" / ").any(|p| set.contains(&p.trim()))
}

fn digits(v: &str) -> usize {
    v.chars().filter(char::is_ascii_digit).count()
}

/// Technical data, not typed by the person; `l` is the label through [`norm`].
fn dropped(l: &str) -> bool {
    DROP.contains(&l) || l.contains("honeypot") || l.starts_with("ip ") || IP_LAST.is_match(l)
}

/// "Remote IP", "送信元IP": a label ending in the word IP.
static IP_LAST: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[^a-z])ip$").expect("static regex"));
/// A call to action with its link ("View the lead in the app: https://..."): the service's
/// button, not a field of the form.
static CALL_TO_ACTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?-u:\b)(view|open|reply|respond|call|click|log ?in|sign ?in|manage|see|check|get in touch|go to|visit|download|unlock|accept|claim|send (a|your) (quote|message)|message (him|her|them))(?-u:\b)").expect("static regex")
});

fn call_to_action(label: &str, value: &str) -> bool {
    value.trim_start().starts_with("http")
        && label.split_whitespace().count() >= 2
        && CALL_TO_ACTION.is_match(label)
}

/// A table's own header row ("Question | Response", "Field | Value"); `l` is the normed label.
fn is_header_row(l: &str, value: &str) -> bool {
    let heads = [
        "question",
        "field",
        "field name",
        "label",
        "frage",
        "feld",
        "champ",
        "pregunta",
        "campo",
    ];
    let answers = [
        "response",
        "answer",
        "value",
        "antwort",
        "wert",
        "réponse",
        "valeur",
        "respuesta",
        "valor",
    ];
    heads.contains(&l) && answers.contains(&norm(value).as_str())
}

/// `Some(true)` for a ticked box or agreeing sentence, `Some(false)` for an explicit no.
pub fn consent_value(v: &str) -> Option<bool> {
    let l = v.trim().to_lowercase();
    if l.is_empty() {
        return None;
    }
    let no = [
        "no",
        "n",
        "false",
        "0",
        "off",
        "nein",
        "non",
        "unchecked",
        "not checked",
        "none",
        "nee",
        "nej",
    ];
    if no.contains(&l.as_str())
        || l.starts_with("no,")
        || l.starts_with("no ")
        || l.starts_with("no.")
        || l.starts_with("i do not")
        || l.starts_with("i don't")
        || l.starts_with("nein,")
    {
        return Some(false);
    }
    Some(true)
}

#[derive(Clone, Copy)]
enum Role {
    Name,
    First,
    Last,
    Email,
    Phone,
    Company,
    Message(u8),
    Consent,
    From,
    Extra,
}

/// What a normed label says about its field before the value is looked at. Forms repeat
/// the same few labels, so this is worked out once per label text (see [`label_info`]).
#[derive(Clone, Copy)]
struct LabelTraits {
    dropped: bool,
    meta_keep: bool,
    consent: bool,
    /// "From" and its translations: a `Name <address>` value is the submitter.
    from: bool,
    /// An email label: the field is the email if its value holds an address.
    email: bool,
    /// A phone label: the field is the phone if its value has six digits or more.
    phone: bool,
    /// The role the label alone decides, after the value checks above.
    fixed: Option<Role>,
    /// A weak message label: a message if the value is long or has several lines.
    weak_message: bool,
}

impl LabelTraits {
    fn of(l: &str) -> Self {
        let reach_number = l.contains("number")
            && ["reach", "call", "contact", "best"]
                .iter()
                .any(|w| l.contains(w));
        LabelTraits {
            dropped: dropped(l),
            meta_keep: META_KEEP.contains(&l) || page_address_label(l),
            consent: CONSENT.is_match(l) && !l.contains("e-mail address") && l != "email",
            from: matches!(
                l,
                "from"
                    | "von"
                    | "de"
                    | "expéditeur"
                    | "absender"
                    | "remitente"
                    | "sender"
                    | "mittente"
                    | "afzender"
                    | "remetente"
            ),
            email: EMAIL_LABEL.is_match(l),
            phone: PHONE_LABEL.is_match(l) || reach_number,
            fixed: fixed_role(l),
            weak_message: MESSAGE_WEAK.is_match(l),
        }
    }

    /// The role of a field with this label and `value`.
    fn role(&self, value: &str) -> Role {
        if self.consent {
            return Role::Consent;
        }
        if self.from && MAILBOX.is_match(value) {
            return Role::From;
        }
        if self.email && email_in(value).is_some() {
            return Role::Email;
        }
        if self.phone && digits(value) >= 6 {
            return Role::Phone;
        }
        if let Some(role) = self.fixed {
            return role;
        }
        if self.weak_message && (value.chars().count() >= 40 || value.contains('\n')) {
            return Role::Message(1);
        }
        Role::Extra
    }
}

/// The role a normed label `l` gives whatever the value (names, company, message).
fn fixed_role(l: &str) -> Option<Role> {
    let bare = without_possessive(l);
    if bare != l {
        if let Some(role @ (Role::First | Role::Last | Role::Name | Role::Company)) =
            fixed_role(bare)
        {
            return Some(role);
        }
    }
    if in_set(FIRST, l) || name_part(l, &["first", "given", "fore", "christian"]) {
        return Some(Role::First);
    }
    if in_set(LAST, l) || name_part(l, &["last", "family", "sur"]) {
        return Some(Role::Last);
    }
    if in_set(FIRST, l) {
        return Some(Role::First);
    }
    if in_set(LAST, l) {
        return Some(Role::Last);
    }
    if in_set(NAME, l) {
        return Some(Role::Name);
    }
    let company_word = l
        .split(|c: char| !c.is_alphanumeric())
        .any(|w| w == "company")
        || (l.contains("name") && (l.contains("business") || l.contains("organi")));
    if in_set(COMPANY, l) || company_word {
        return Some(Role::Company);
    }
    if l.contains("name")
        && (l.contains("your") || l.contains("full"))
        && !l.contains("business")
        && !l.contains("pet")
        && !l.contains("child")
    {
        return Some(Role::Name);
    }
    if in_set(MESSAGE_EXACT, l) {
        return Some(Role::Message(3));
    }
    if MESSAGE_STRONG.is_match(l) {
        return Some(Role::Message(2));
    }
    None
}

/// "URL pagina", "Adres strony", "Referring page": the page the form was sent from,
/// whatever the language.
fn page_address_label(l: &str) -> bool {
    const PAGE: &[&str] = &[
        "url",
        "referrer",
        "referer",
        "referring",
        "page",
        "pagina",
        "página",
        "seite",
        "strony",
        "pagina-url",
        "seiten-url",
    ];
    let words: Vec<&str> = l.split_whitespace().collect();
    words.len() <= 4 && words.iter().any(|w| PAGE.contains(w))
}

/// "first name", "name (first)", "name - first", "surname": a label naming one part of
/// a person's name by one of `words`.
fn name_part(l: &str, words: &[&str]) -> bool {
    let tokens: Vec<&str> = l
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let named = tokens.iter().any(|w| *w == "name" || *w == "names");
    (tokens.len() <= 7 && named && tokens.iter().any(|w| words.contains(w)))
        || (tokens.len() <= 3
            && tokens
                .iter()
                .any(|w| words.iter().any(|p| format!("{p}name") == *w)))
}

/// A label as printed → its normed text and traits, remembered per thread. The table is
/// emptied when it grows past [`LABEL_MEMO_MAX`], so hostile input cannot grow it.
struct LabelInfo {
    norm: String,
    traits: LabelTraits,
}

const LABEL_MEMO_MAX: usize = 4096;

thread_local! {
    static LABEL_MEMO: RefCell<HashMap<String, Rc<LabelInfo>>> = RefCell::new(HashMap::new());
}

fn label_info(label: &str) -> Rc<LabelInfo> {
    LABEL_MEMO.with(|memo| {
        if let Some(info) = memo.borrow().get(label) {
            return Rc::clone(info);
        }
        let norm = norm(label);
        let traits = LabelTraits::of(&norm);
        let info = Rc::new(LabelInfo { norm, traits });
        let mut memo = memo.borrow_mut();
        if memo.len() >= LABEL_MEMO_MAX {
            memo.clear();
        }
        memo.insert(label.to_owned(), Rc::clone(&info));
        info
    })
}

/// A name field printed as its parts, one per line (`first = Marisol` / `last = Reyes`).
fn name_from_parts(value: &str) -> String {
    let parts: Option<Vec<&str>> = value
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_once(" = ").map(|(_, v)| v.trim()))
        .collect();
    match parts {
        Some(p) if p.len() >= 2 => p.join(" "),
        _ => value.to_owned(),
    }
}

fn extra_key(label: &str) -> String {
    label.trim().trim_end_matches([':', '：']).trim().to_owned()
}

fn strip_quotes(v: &str) -> &str {
    let t = v.trim();
    // `"What they wrote"` followed by the service's own lines: the quote is the message
    if let Some((first, _rest)) = t.split_once("\n\n") {
        let q = strip_quotes(first);
        if q.len() < first.trim().len() {
            return q;
        }
    }
    for (a, b) in [('"', '"'), ('“', '”'), ('«', '»'), ('„', '“')] {
        if t.starts_with(a) && t.ends_with(b) && t.chars().count() >= 2 {
            let inner = &t[a.len_utf8()..t.len() - b.len_utf8()];
            if !inner.contains(a) && !inner.contains(b) {
                return inner.trim();
            }
        }
    }
    t
}

/// Fields → an extraction (source and form are set by the caller).
pub fn build(fields: &[Field]) -> Extraction {
    let mut e = Extraction::default();
    let mut f = LeadFields::default();
    let (mut first, mut last) = (None::<String>, None::<String>);
    let mut message: Option<(u8, usize)> = None;
    let mut extras: Vec<(String, String, Option<u8>)> = Vec::new();
    for field in fields {
        let (label, value) = (field.label.as_str(), field.value.trim());
        let info = label_info(label);
        let (l, traits) = (info.norm.as_str(), info.traits);
        if traits.dropped
            || (field.meta && !traits.meta_keep)
            || is_header_row(l, value)
            || call_to_action(label, value)
            || (traits.email && MASKED_EMAIL.is_match(value))
        {
            continue;
        }
        if field.meta {
            extras.push((extra_key(label), value.to_owned(), None));
            continue;
        }
        match traits.role(value) {
            Role::Consent => {
                if e.consent.is_none() {
                    e.consent = consent_value(value);
                }
            }
            Role::From => {
                if let Some(c) = MAILBOX.captures(value) {
                    let name = c.get(1).map(|m| m.as_str().trim_matches('"').trim());
                    if let Some(n) = name.filter(|n| !n.is_empty()) {
                        f.name.get_or_insert_with(|| n.to_owned());
                    }
                    if let Some(a) = c.get(2) {
                        f.email.get_or_insert_with(|| a.as_str().to_owned());
                    }
                }
            }
            Role::Email => {
                if f.email.is_none() {
                    f.email = email_in(value);
                    if let Some(c) = ACCEPTS_MARKETING.captures(value) {
                        let yes = c.get(1).map(|m| m.as_str().to_lowercase());
                        e.consent = Some(matches!(yes.as_deref(), Some("true" | "yes")));
                    }
                } else {
                    extras.push((extra_key(label), value.to_owned(), None));
                }
            }
            Role::Phone if f.phone.is_none() => f.phone = Some(value.to_owned()),
            Role::First if first.is_none() => first = Some(value.to_owned()),
            Role::Last if last.is_none() => last = Some(value.to_owned()),
            Role::Name if f.name.is_none() => f.name = Some(name_from_parts(value)),
            Role::Company if f.company.is_none() => f.company = Some(value.to_owned()),
            Role::Message(score) => {
                let idx = extras.len();
                extras.push((extra_key(label), value.to_owned(), Some(score)));
                // of two message-like fields, the free text is the much longer one
                let len = value.chars().count();
                let better = |(s, i): (u8, usize)| {
                    score > s || (score == s && len > 2 * extras[i].1.chars().count())
                };
                if message.is_none_or(better) {
                    message = Some((score, idx));
                }
            }
            _ => extras.push((extra_key(label), value.to_owned(), None)),
        }
    }
    if let (Some(name), None, Some(l)) = (&f.name, &first, &last) {
        // "Name" used as the given name beside a "Last name" field
        if !name.contains(l.as_str()) {
            f.name = Some(format!("{name} {l}"));
        }
    }
    if let (Some(name), Some(a), None) = (&f.name, &first, &last) {
        // "Vorname" / "Name", "Prénom" / "Nom": the plain name field is the family name
        if !name.contains(a.as_str()) {
            f.name = Some(format!("{a} {name}"));
        }
    }
    if f.name.is_none() {
        f.name = match (first, last) {
            (Some(a), Some(b)) => Some(format!("{a} {b}")),
            (a, b) => a.or(b),
        };
    }
    for (idx, (k, v, _)) in extras.into_iter().enumerate() {
        if message.is_some_and(|(_, m)| m == idx) {
            f.message = Some(strip_quotes(&v).to_owned());
        } else if !e.extra.contains_key(&k) {
            e.extra.insert(k, v);
        }
    }
    e.fields = f;
    e
}
