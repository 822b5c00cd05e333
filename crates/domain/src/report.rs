//! The per-message result of `leadgate parse --json`, in exactly the shape of the
//! corpus labels: `{"file","kind","class","source","form","fields","consent","extra"}`.
//! `kind` is `lead` (a readable notification), `triage` (a person's inquiry or an
//! unreadable notification, with whatever was found) or `not_lead`.

use super::classify::{Classification, MessageClass};
use super::extract::LeadFields;
use indexmap::IndexMap;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Lead,
    Triage,
    NotLead,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ParseReport {
    pub file: String,
    pub kind: Kind,
    pub class: MessageClass,
    pub source: Option<String>,
    pub form: Option<String>,
    /// The sender's domain when the provider is not one leadgate knows (`generic`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_hint: Option<String>,
    /// Only the fields that were found.
    pub fields: LeadFields,
    pub consent: Option<bool>,
    pub extra: IndexMap<String, String>,
}

impl ParseReport {
    /// `kind` is `lead` for a readable notification, `triage` for a triage item (its
    /// `source` is the detected provider, null for an inquiry or when none was found).
    pub fn new(file: &str, c: &Classification) -> Self {
        let kind = if c.triage {
            Kind::Triage
        } else if c.class == MessageClass::Notification {
            Kind::Lead
        } else {
            Kind::NotLead
        };
        let e = c.extraction.as_ref().filter(|_| kind != Kind::NotLead);
        ParseReport {
            file: file.to_owned(),
            kind,
            class: c.class,
            source: e
                .map(|e| e.source.clone())
                .filter(|s| !s.is_empty() && c.class != MessageClass::Inquiry),
            form: e.and_then(|e| e.form.clone()),
            source_hint: e.and_then(|e| e.source_hint.clone()),
            fields: e.map(|e| e.fields.clone()).unwrap_or_default(),
            consent: e.and_then(|e| e.consent),
            extra: e.map(|e| e.extra.clone()).unwrap_or_default(),
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_lead_is_empty() {
        let c = Classification {
            class: MessageClass::Bounce,
            reason: "x".into(),
            extraction: None,
            triage: false,
        };
        let j = ParseReport::new("a.eml", &c).to_json();
        assert_eq!(
            j.to_string(),
            r#"{"file":"a.eml","kind":"not_lead","class":"bounce","source":null,"form":null,"fields":{},"consent":null,"extra":{}}"#
        );
    }
}
