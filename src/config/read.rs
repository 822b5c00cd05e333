//! Reading the config file with `LEADGATE__SECTION__KEY` environment overrides on top into
//! [`RawSettings`]. A value of the wrong type is a problem with its key, collected like the
//! problems validation finds; nothing here judges a value.

use super::raw::RawSettings;
use super::{ConfigError, Problem, ENV_PREFIX};
use std::path::Path;

/// Reads the file at `path` (which must exist) with environment overrides on top. A value
/// of the wrong type is a [`ConfigError::Invalid`] listing every such value.
pub fn read(path: &Path) -> Result<RawSettings, ConfigError> {
    let (raw, problems) = read_collecting(path)?;
    if problems.is_empty() {
        Ok(raw)
    } else {
        Err(ConfigError::Invalid(problems))
    }
}

/// Reads like [`read`], but a value of the wrong type (`imap.port = 99999`) is a problem
/// with its key and the value is left out (as if not written), so that deserialising goes
/// on and every such value is found, not only the first.
pub(super) fn read_collecting(path: &Path) -> Result<(RawSettings, Vec<Problem>), ConfigError> {
    read_collecting_with(path, true)
}

/// Like [`read_collecting`]; `env`: whether `LEADGATE__…` variables override the file (for
/// leadgate.toml, not for a desk file: one variable must not set every desk's key).
pub(super) fn read_collecting_with(
    path: &Path,
    env: bool,
) -> Result<(RawSettings, Vec<Problem>), ConfigError> {
    if !path.exists() {
        return Err(ConfigError::Read(format!(
            "{} does not exist; copy config/leadgate.example.toml there, or pass --config PATH (or set LEADGATE_CONFIG)",
            path.display()
        )));
    }
    let unreadable = |e: config::ConfigError| ConfigError::Read(format!("{}: {e}", path.display()));
    let mut builder = config::Config::builder()
        .add_source(config::File::from(path).format(config::FileFormat::Toml));
    if env {
        builder = builder.add_source(
            config::Environment::with_prefix(ENV_PREFIX)
                .prefix_separator("__")
                .separator("__")
                .try_parsing(true),
        );
    }
    let mut problems: Vec<Problem> = Vec::new();
    let mut left_out: Vec<String> = Vec::new();
    loop {
        let mut b = builder.clone();
        for key in &left_out {
            b = b
                .set_override(key, config::ValueKind::Nil)
                .map_err(unreadable)?;
        }
        let e = match b.build().and_then(|c| c.try_deserialize::<RawSettings>()) {
            Ok(raw) => {
                problems.sort_by(|a, b| a.key.cmp(&b.key));
                return Ok((raw, problems));
            }
            Err(e) => e,
        };
        match type_problem(&e) {
            // Leaving a key out does not help every type (a list, a table): then the
            // problems so far are what we can say.
            Some(p) if !left_out.contains(&p.key) && left_out.len() < 100 => {
                left_out.push(p.key.clone());
                problems.push(p);
            }
            Some(p) => {
                if !problems.contains(&p) {
                    problems.push(p);
                }
                return Err(ConfigError::Invalid(problems));
            }
            None if problems.is_empty() => return Err(unreadable(e)),
            None => {
                problems.push(Problem {
                    key: "(file)".into(),
                    problem: e.to_string(),
                    fix: "correct the value named there".into(),
                });
                return Err(ConfigError::Invalid(problems));
            }
        }
    }
}

/// A value of the wrong type, as a problem with its key and a fix; None for other errors.
fn type_problem(e: &config::ConfigError) -> Option<Problem> {
    let (unexpected, expected, key) = match e {
        config::ConfigError::Type {
            unexpected,
            expected,
            key: Some(key),
            ..
        } => (unexpected.to_string(), *expected, key.clone()),
        config::ConfigError::At {
            error,
            key: Some(key),
            ..
        } => match error.as_ref() {
            config::ConfigError::Type {
                unexpected,
                expected,
                ..
            } => (unexpected.to_string(), *expected, key.clone()),
            other => (other.to_string(), "", key.clone()),
        },
        _ => return None,
    };
    let integer = expected.contains("integer");
    let want = match expected {
        _ if integer && key.ends_with("port") => "a port number from 1 to 65535".to_owned(),
        "an unsigned 16 bit integer" => "a whole number from 0 to 65535".to_owned(),
        _ if integer && expected.contains("unsigned") => "a whole number, 0 or more".to_owned(),
        _ if integer => "a whole number".to_owned(),
        "a boolean" => "true or false".to_owned(),
        "" => "a value of the right type (see config/leadgate.example.toml)".to_owned(),
        other => other.to_owned(),
    };
    let problem = if expected.is_empty() {
        unexpected
    } else {
        format!("{unexpected} is not {want}")
    };
    Some(Problem {
        key,
        problem,
        fix: format!("write {want} (config/leadgate.example.toml documents every key)"),
    })
}
