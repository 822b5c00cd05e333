//! Fields of a form notification: who submitted it (name, email, phone, company), what they
//! wrote, their consent, and every other field as extras; plus the provider (source) and
//! the form's name. Pure: a [`MessageView`] in, an [`Extraction`] out.
//!
//! Layers: [`items`] turns any body (text or HTML) into lines and sure pairs; [`pairs`]
//! reads label/value layouts from them; [`labels`] knows what labels mean; [`providers`]
//! names the service; [`forward`] unwraps inline forwards. Config templates come first.

mod dom;
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
    find(view, &Body::of(view), templates).map(|f| f.extraction)
}

/// Like [`extract`], with what the classifier needs to weigh it; `body` is `view`'s.
pub fn find(view: &MessageView, body: &Body, templates: &[Template]) -> Option<Found> {
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
    find_depth(view, body, 0)
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
#[derive(Clone, Debug, Default)]
pub struct Body {
    pub items: Vec<Item>,
    /// The items as plain text (pairs as `label: value`), for markers and templates.
    pub plain: String,
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
        Body { items, plain }
    }
}

fn find_depth(view: &MessageView, body: &Body, depth: usize) -> Option<Found> {
    let items = &body.items;
    let from = view.from.as_ref();
    // A reply quotes its thread below a header block too; only forwards are unwrapped.
    let inline = if REPLY_SUBJECT.is_match(&view.subject) {
        None
    } else {
        forward::unwrap(items)
    };
    if let Some(fw) = inline {
        let subject = if fw.subject.is_empty() {
            providers::subject_core(&view.subject).to_owned()
        } else {
            fw.subject.clone()
        };
        let fw_body = Body::from_items(fw.items);
        if let Some(mut f) = analyse(&subject, fw.from.as_ref(), &[], &[], &fw_body) {
            f.forwarded = true;
            return Some(f);
        }
    }
    if depth < 3 {
        for inner in &view.attached_messages {
            if let Some(mut f) = find_depth(inner, &Body::of(inner), depth + 1) {
                f.forwarded = true;
                return Some(f);
            }
        }
    }
    let own = analyse(&view.subject, from, &view.reply_to, &view.headers, body);
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
        );
    }
    None
}

static MARKETPLACE_SENTENCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(.+?) (?:is looking for|needs|wants|is interested in|requested|requests) (?:a |an )?(.+?) (?:in|near) (.+?)\.?$").expect("static regex")
});
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
) -> Option<Found> {
    let (items, plain) = (&body.items, &body.plain);
    let from_addr = from.map(|m| m.address.to_lowercase()).unwrap_or_default();
    let provider = providers::detect(&providers::Doc {
        subject,
        from: &from_addr,
        headers,
        plain,
    });
    let parsed = pairs::parse(items, plain);
    let mut e = labels::build(&parsed.fields);
    let marketplace = provider.as_ref().is_some_and(|p| p.marketplace);
    let hosted = provider.as_ref().is_some_and(|p| p.hosted);
    if marketplace {
        if let Some(c) = parsed
            .intro
            .iter()
            .find_map(|l| MARKETPLACE_SENTENCE.captures(l))
        {
            let get = |i| c.get(i).map(|m| m.as_str().trim().to_owned());
            if e.fields.name.is_none() {
                e.fields.name = get(1);
            }
            if let Some(loc) = get(3) {
                e.extra.shift_insert(0, "Location".into(), loc);
            }
            if let Some(svc) = get(2) {
                e.extra.shift_insert(0, "Service".into(), svc);
            }
        }
    }
    if marketplace {
        // relay or masked addresses on the marketplace's own domain are not the person's
        let source = provider.as_ref().map(|p| p.source).unwrap_or("");
        if e.fields.email.as_deref().is_some_and(|a| {
            let d = domain(a).to_lowercase();
            d.split('.').any(|l| l == source) || d == domain(&from_addr)
        }) {
            e.fields.email = None;
        }
    }
    if e.fields.email.is_none() && !marketplace {
        let from_domain = domain(&from_addr);
        e.fields.email = reply_to.iter().map(|m| m.address.to_lowercase()).find(|a| {
            let local = a.split('@').next().unwrap_or("");
            !NOREPLY.is_match(local) && domain(a) != from_domain && a.contains('@')
        });
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
        (f.name.is_some() || contact) && e.field_count() >= 2
    } else {
        contact && (f.name.is_some() || f.message.is_some()) && e.field_count() >= 3
    };
    if !ok {
        return None;
    }
    match provider {
        Some(p) => {
            e.source = p.source.to_owned();
            e.form = p.form;
        }
        None => e.source = "generic".into(),
    }
    Some(Found {
        extraction: e,
        hosted,
        forwarded: false,
        templated: false,
    })
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
