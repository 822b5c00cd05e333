//! Config templates (`[[templates]]`): a site's own notification format, matched by
//! sender, subject or body and read with one regex per field.

use super::{labels, Body, Extraction, Template};
use crate::message::MessageView;

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
