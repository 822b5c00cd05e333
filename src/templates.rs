//! The templates every email is written from: the bundled ones
//! ([`crate::domain::notify::BUNDLED`], files in `templates/`) and the owner's
//! replacements: a file of the same name in `[digest] templates` wins over the bundled one.
//! This module reads that folder; rendering is the domain's ([`crate::domain::notify`]).

use crate::config::Settings;
use crate::domain::notify;
use anyhow::Context;
use minijinja::Environment;
use std::borrow::Cow;

/// The templates, the owner's where present. Without an owner's folder, the bundled set
/// parsed once per process. A broken owner template is an error that names the file, not
/// a silently bundled fallback.
pub fn environment(s: &Settings) -> anyhow::Result<Cow<'static, Environment<'static>>> {
    let Some(dir) = s.digest.templates.as_ref() else {
        return Ok(Cow::Borrowed(notify::bundled()));
    };
    let mut env = notify::environment();
    for (name, bundled) in notify::BUNDLED {
        let path = dir.join(name);
        if path.is_file() {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read the template {}", path.display()))?;
            env.add_template_owned(name.to_string(), text)
                .with_context(|| format!("the template {} does not parse", path.display()))?;
        } else {
            env.add_template(name, bundled)
                .with_context(|| format!("bundled template {name}"))?;
        }
    }
    Ok(Cow::Owned(env))
}

/// The templates for mail written inside a message's or an operation's transaction: an
/// owner's template that cannot be read or parsed is logged and the bundled set is used,
/// so that a template never stops a lead from being recorded.
pub fn environment_or_bundled(s: &Settings) -> Cow<'static, Environment<'static>> {
    environment(s).unwrap_or_else(|e| {
        tracing::warn!(error = %format!("{e:#}"), "owner templates unusable; using the bundled ones");
        Cow::Borrowed(notify::bundled())
    })
}

pub fn render(env: &Environment<'_>, name: &str, ctx: &minijinja::Value) -> anyhow::Result<String> {
    env.get_template(name)
        .and_then(|t| t.render(ctx))
        .with_context(|| format!("cannot render the template {name}"))
}

/// Renders `{name}.txt` and `{name}.html` strictly: an error names the template.
pub fn body(
    env: &Environment<'_>,
    name: &str,
    ctx: &minijinja::Value,
) -> anyhow::Result<notify::Body> {
    Ok(notify::Body {
        text: render(env, &format!("{name}.txt"), ctx)?,
        html: Some(render(env, &format!("{name}.html"), ctx)?),
    })
}
