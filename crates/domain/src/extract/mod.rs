//! Fields of a form notification: who submitted it (name, email, phone, company), what they
//! wrote, their consent, and every other field as extras; plus the provider (source) and
//! the form's name. Pure: a [`MessageView`] in, an [`Extraction`] out.
//!
//! Layers: [`items`] turns any body (text or HTML) into lines and sure pairs; [`pairs`]
//! reads label/value layouts from them; [`labels`] knows what labels mean; [`providers`]
//! names the service; [`forward`] unwraps inline forwards; [`prose`] reads what is told in
//! sentences instead of labels. Config templates ([`template`]) come first.

pub(crate) mod dom;
mod forward;
mod items;
mod labels;
mod pairs;
mod prose;
mod providers;
mod template;
pub mod triage;

use super::message::{Mailbox, MessageView};
use indexmap::IndexMap;
use regex::Regex;
use serde::Serialize;
use std::cell::OnceCell;
use std::sync::LazyLock;

pub use items::Item;
use prose::{
    alert_only, contact_block, intro_person, person_name, quoted_paragraph, sentences, IntroPerson,
    PERSON_WANTS,
};
pub use template::try_template;

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

static SUBSCRIBED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)(?-u:\b)(?:newsletter|product news|subscribed to (?:our|the|\w+) (?:news|updates|blog|list|mailing)|marketing e-?mails)(?-u:\b)").expect("static regex")
});

/// The footer of bulk mail: an unsubscribe link for a newsletter, not for notifications.
fn bulk_body(plain: &str) -> bool {
    let lower = plain.to_lowercase();
    lower.contains("unsubscribe") && SUBSCRIBED.is_match(plain)
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
