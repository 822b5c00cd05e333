//! Settings: the TOML file and `LEADGATE__SECTION__KEY` environment overrides, read by the
//! `config` crate into [`raw::RawSettings`], then validated once into [`Settings`], with
//! compiled regexes, parsed durations and checked people. Validation collects every
//! problem with its key and a fix instead of stopping at the first.
//!
//! - [`raw`]: the file as written, every key optional.
//! - `read`: file and environment into [`raw::RawSettings`]; values of the wrong type.
//! - `settings`: the validated [`Settings`] and its parts.
//! - `validate/`: [`raw::RawSettings`] into [`Settings`], one function per section.

mod desks;
pub mod raw;
mod read;
mod settings;
mod validate;

pub use desks::{load_desks, Desks};
pub use read::read;
pub use settings::{
    AfterProcessing, BoardLogin, BoardSettings, CaptureSettings, DeskSettings, DigestSettings,
    FromMode, HttpSettings, Identity, ImapSettings, Inbox, OutboxSettings, RelaySettings, Settings,
    SmtpSettings, StaleSettings, StartFrom, TeamSettings, TlsMode, TriageMode, DEFAULT_DESK,
};
pub use validate::{parse_duration, validate, validate_desk};

use read::read_collecting;
use std::collections::HashSet;
use std::fmt;
use std::path::Path;

pub const DEFAULT_PATH: &str = "config/leadgate.toml";
pub const ENV_PREFIX: &str = "LEADGATE";

/// One thing wrong with the config: where, what, and how to fix it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub key: String,
    pub problem: String,
    pub fix: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} (fix: {})", self.key, self.problem, self.fix)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config: {0}")]
    Read(String),
    #[error("the config has {} problem(s):\n{}", .0.len(), .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
}

/// Reads and validates in one go: every problem, of type or of value, with its key.
pub fn load(path: &Path) -> Result<Settings, ConfigError> {
    let (raw, mut problems) = read_collecting(path)?;
    match validate(raw, path.parent().unwrap_or(Path::new("."))) {
        Ok(s) if problems.is_empty() => Ok(s),
        Ok(_) => Err(ConfigError::Invalid(problems)),
        Err(ConfigError::Invalid(more)) => {
            // A value left out for its type is not also "missing".
            let typed: HashSet<String> = problems.iter().map(|p| p.key.clone()).collect();
            problems.extend(more.into_iter().filter(|p| !typed.contains(&p.key)));
            Err(ConfigError::Invalid(problems))
        }
        Err(e) => Err(e),
    }
}

/// Settings from a TOML text (the demo's bundled config; tests), validated as a file's
/// are; relative paths are relative to `base`.
pub fn from_toml(toml: &str, base: &Path) -> Result<Settings, ConfigError> {
    let raw: raw::RawSettings = config::Config::builder()
        .add_source(config::File::from_str(toml, config::FileFormat::Toml))
        .build()
        .and_then(|c| c.try_deserialize())
        .map_err(|e| ConfigError::Read(e.to_string()))?;
    validate(raw, base)
}

#[cfg(test)]
mod desks_tests;
#[cfg(test)]
mod tests;
