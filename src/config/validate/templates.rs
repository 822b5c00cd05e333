//! `[[templates]]`: recognisers the owner writes for notifications no built-in one reads;
//! each needs a source and at least one match condition, and every pattern must compile.

use super::check::Check;
use crate::config::raw::RawTemplate;
use crate::domain::extract::Template;

pub(super) fn validate(c: &mut Check, raw: &[RawTemplate]) -> Vec<Template> {
    let mut templates = Vec::new();
    for (i, t) in raw.iter().enumerate() {
        let key = format!("templates[{i}]");
        let source = c.required(
            &format!("{key}.source"),
            &t.source,
            "name the source this template recognises, e.g. \"acme-site\"",
        );
        let m = &t.match_;
        let mut rx = |k: &str, v: &Option<String>| {
            v.as_deref()
                .and_then(|p| c.regex(&format!("{key}.match.{k}"), p))
        };
        let (match_from, match_subject, match_body) = (
            rx("from", &m.from),
            rx("subject", &m.subject),
            rx("body", &m.body),
        );
        if m.from.is_none() && m.subject.is_none() && m.body.is_none() {
            c.add(
                format!("{key}.match"),
                "has no condition",
                "add match.from, match.subject or match.body (a regex)",
            );
        }
        let fields = t
            .field
            .iter()
            .filter_map(|(f, p)| {
                c.regex(&format!("{key}.field.{f}"), p)
                    .map(|re| (f.clone(), re))
            })
            .collect();
        templates.push(Template {
            name: t.name.clone().unwrap_or_else(|| source.clone()),
            source,
            match_from,
            match_subject,
            match_body,
            fields,
        });
    }
    templates
}
