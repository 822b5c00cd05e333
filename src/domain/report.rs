//! The per-message result of `leadgate parse --json`, in exactly the shape of the
//! corpus labels: `{"file","kind","class","source","form","fields","consent","extra"}`.

use super::classify::{Classification, MessageClass};
use super::extract::LeadFields;
use indexmap::IndexMap;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Lead,
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
    /// `kind` is `lead` exactly when the class is `notification`.
    pub fn new(file: &str, c: &Classification) -> Self {
        let lead = c.class == MessageClass::Notification;
        let e = c.extraction.as_ref().filter(|_| lead);
        ParseReport {
            file: file.to_owned(),
            kind: if lead { Kind::Lead } else { Kind::NotLead },
            class: c.class,
            source: e.map(|e| e.source.clone()),
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
        };
        let j = ParseReport::new("a.eml", &c).to_json();
        assert_eq!(
            j.to_string(),
            r#"{"file":"a.eml","kind":"not_lead","class":"bounce","source":null,"form":null,"fields":{},"consent":null,"extra":{}}"#
        );
    }
}
