//! The `leadgate parse --json` record of one message (DESIGN.md's format, which is also
//! the label format of the development corpus).

use super::classify::{Classification, MessageClass};
use super::extract::LeadFields;
use indexmap::IndexMap;
use serde::Serialize;

#[derive(Clone, Debug, Serialize)]
pub struct ParseReport {
    pub file: String,
    pub kind: &'static str,
    pub class: MessageClass,
    pub source: Option<String>,
    pub form: Option<String>,
    pub fields: LeadFields,
    pub consent: Option<bool>,
    pub extra: IndexMap<String, String>,
}

impl ParseReport {
    pub fn new(file: &str, c: &Classification) -> Self {
        match (&c.class, &c.extraction) {
            (MessageClass::Notification, Some(e)) => ParseReport {
                file: file.to_owned(),
                kind: "lead",
                class: c.class,
                source: Some(e.source.clone()),
                form: e.form.clone(),
                fields: e.fields.clone(),
                consent: e.consent,
                extra: e.extra.clone(),
            },
            _ => ParseReport {
                file: file.to_owned(),
                kind: "not_lead",
                class: c.class,
                source: None,
                form: None,
                fields: LeadFields::default(),
                consent: None,
                extra: IndexMap::new(),
            },
        }
    }
}
