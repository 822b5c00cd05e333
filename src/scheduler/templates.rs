//! The bundled reminder, digest and review templates, and the owner's replacements: a
//! file of the same name in `[digest] templates` wins over the bundled one.

use crate::config::Settings;
use anyhow::Context;
use minijinja::Environment;

/// Every template the scheduler renders, with its bundled text.
pub const BUNDLED: &[(&str, &str)] = &[
    ("reminder.txt", include_str!("../../templates/reminder.txt")),
    (
        "reminder.html",
        include_str!("../../templates/reminder.html"),
    ),
    (
        "reminders.txt",
        include_str!("../../templates/reminders.txt"),
    ),
    (
        "reminders.html",
        include_str!("../../templates/reminders.html"),
    ),
    ("digest.txt", include_str!("../../templates/digest.txt")),
    ("digest.html", include_str!("../../templates/digest.html")),
    ("review.txt", include_str!("../../templates/review.txt")),
    ("review.html", include_str!("../../templates/review.html")),
];

/// The templates, the owner's where present. A broken owner template is an error that
/// names the file, not a silently bundled fallback.
pub fn environment(s: &Settings) -> anyhow::Result<Environment<'static>> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            minijinja::AutoEscape::Html
        } else {
            minijinja::AutoEscape::None
        }
    });
    for (name, bundled) in BUNDLED {
        let own = s
            .digest
            .templates
            .as_ref()
            .map(|dir| dir.join(name))
            .filter(|p| p.is_file());
        match own {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .with_context(|| format!("cannot read the template {}", path.display()))?;
                env.add_template_owned(name.to_string(), text)
                    .with_context(|| format!("the template {} does not parse", path.display()))?;
            }
            None => env
                .add_template(name, bundled)
                .with_context(|| format!("bundled template {name}"))?,
        }
    }
    Ok(env)
}

pub fn render(env: &Environment<'_>, name: &str, ctx: &minijinja::Value) -> anyhow::Result<String> {
    env.get_template(name)
        .and_then(|t| t.render(ctx))
        .with_context(|| format!("cannot render the template {name}"))
}
