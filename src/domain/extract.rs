//! Fields of a form notification: who submitted it (name, email, phone, company), what they
//! wrote, their consent, and every other field as extras. First cut: label/value lines.

use super::message::MessageView;
use indexmap::IndexMap;
use regex::Regex;
use serde::Serialize;

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

/// The fields of `view` if it is a form notification.
pub fn extract(view: &MessageView, templates: &[Template]) -> Option<Extraction> {
    for t in templates {
        if let Some(e) = by_template(view, t) {
            return Some(e);
        }
    }
    by_labels(view)
}

fn by_template(view: &MessageView, t: &Template) -> Option<Extraction> {
    let from = view.from.as_ref().map(|m| m.address.as_str()).unwrap_or("");
    let matches = |re: &Option<Regex>, s: &str| re.as_ref().is_none_or(|re| re.is_match(s));
    if t.match_from.is_none() && t.match_subject.is_none() && t.match_body.is_none() {
        return None;
    }
    if !(matches(&t.match_from, from)
        && matches(&t.match_subject, &view.subject)
        && matches(&t.match_body, &view.text))
    {
        return None;
    }
    let mut e = Extraction {
        source: t.source.clone(),
        ..Default::default()
    };
    for (field, re) in &t.fields {
        let Some(value) = re
            .captures(&view.text)
            .and_then(|c| c.get(1).or_else(|| c.get(0)))
            .map(|m| m.as_str().trim().to_owned())
        else {
            continue;
        };
        set_field(&mut e, field, value);
    }
    Some(e)
}

fn set_field(e: &mut Extraction, label: &str, value: String) {
    if value.is_empty() {
        return;
    }
    let slot = match label.trim().to_lowercase().as_str() {
        "name" | "your name" | "full name" => &mut e.fields.name,
        "email" | "e-mail" | "your email" | "email address" => &mut e.fields.email,
        "phone" | "telephone" | "phone number" => &mut e.fields.phone,
        "company" | "organisation" | "organization" => &mut e.fields.company,
        "message" | "your message" | "comments" => &mut e.fields.message,
        _ => {
            e.extra.insert(label.trim().to_owned(), value);
            return;
        }
    };
    slot.get_or_insert(value);
}

fn by_labels(view: &MessageView) -> Option<Extraction> {
    let mut e = Extraction {
        source: "generic".into(),
        ..Default::default()
    };
    for line in view.text.lines() {
        if let Some((label, value)) = line.split_once(':') {
            if label.len() <= 40 && !label.contains("http") {
                set_field(&mut e, label, value.trim().to_owned());
            }
        }
    }
    if e.fields.email.is_none() {
        e.fields.email = view.reply_to.first().map(|m| m.address.clone());
    }
    (e.fields.email.is_some() && (e.fields.name.is_some() || e.fields.message.is_some()))
        .then_some(e)
}

/// Tries one template alone, for `leadgate parse --template NAME`: the extraction, or
/// which condition did not hold.
pub fn try_template(view: &MessageView, t: &Template) -> Result<Extraction, String> {
    let from = view.from.as_ref().map(|m| m.address.as_str()).unwrap_or("");
    for (what, re, text) in [
        ("match.from", &t.match_from, from),
        ("match.subject", &t.match_subject, view.subject.as_str()),
        ("match.body", &t.match_body, view.text.as_str()),
    ] {
        if let Some(re) = re {
            if !re.is_match(text) {
                return Err(format!("{what} /{}/ does not match", re.as_str()));
            }
        }
    }
    by_template(view, t).ok_or_else(|| "the template has no match condition".to_owned())
}
