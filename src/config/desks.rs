//! Desks: several teams in one deployment (DESIGN.md "Desks"). `[desks] dir` in
//! leadgate.toml names a folder whose every `*.toml` is a desk (its id is the file stem):
//! the team sections of a single-team config plus `name`, `[inbox]` and `[identity]`. Each
//! desk becomes a whole [`Settings`]: leadgate.toml's shared sections (database, IMAP,
//! SMTP, relay, HTTP, outbox, capture, privacy) with the desk's team, so every part of
//! leadgate that works on one team's settings works on a desk's unchanged.
//!
//! A config without desks is one desk, [`DEFAULT_DESK`]; with desks, leadgate.toml's own
//! team (when it lists people) is that desk too, and the fallback unless another is named.

use super::raw::RawSettings;
use super::read::{read_collecting, read_collecting_with};
use super::validate::validate_desk;
use super::{ConfigError, Inbox, Problem, Settings, DEFAULT_DESK};
use crate::domain::email::EmailAddress;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Every desk of the deployment, validated; at least one.
#[derive(Clone, Debug)]
pub struct Desks {
    /// In a stable order: leadgate.toml's own team first, then the desk files by name.
    pub all: Vec<Arc<Settings>>,
    /// The desk that mail matching no desk goes to (an index into `all`); without one,
    /// such mail is stored as `other`.
    pub fallback: Option<usize>,
    /// `[operator] to`: who gets the daily digest across desks.
    pub operator: Vec<EmailAddress>,
}

impl Desks {
    /// One team, one desk: a config without `[desks]`.
    pub fn single(settings: Settings) -> Self {
        Desks {
            all: vec![Arc::new(settings)],
            fallback: Some(0),
            operator: Vec::new(),
        }
    }

    /// The settings every desk shares (database, IMAP, SMTP, outbox, HTTP) are read here.
    pub fn shared(&self) -> &Arc<Settings> {
        &self.all[0]
    }

    pub fn get(&self, id: &str) -> Option<&Arc<Settings>> {
        self.all.iter().find(|s| s.desk.id == id)
    }

    pub fn ids(&self) -> Vec<&str> {
        self.all.iter().map(|s| s.desk.id.as_str()).collect()
    }

    /// The desks a command works on: all, or the one `--desk` names.
    pub fn select(&self, desk: Option<&str>) -> anyhow::Result<Vec<&Arc<Settings>>> {
        match desk {
            None => Ok(self.all.iter().collect()),
            Some(id) => self.get(id).map(|s| vec![s]).ok_or_else(|| {
                anyhow::anyhow!(
                    "--desk {id:?}: no such desk (the desks are: {})",
                    self.ids().join(", ")
                )
            }),
        }
    }

    /// The one desk a write without a lead names (`optout`): `--desk`, or the only desk.
    pub fn one(&self, desk: Option<&str>) -> anyhow::Result<&Arc<Settings>> {
        match (desk, self.all.len()) {
            (Some(_), _) => Ok(self.select(desk)?[0]),
            (None, 1) => Ok(&self.all[0]),
            (None, _) => anyhow::bail!(
                "there are several desks ({}): say which with --desk ID",
                self.ids().join(", ")
            ),
        }
    }
}

/// Sections that belong to leadgate.toml: their problems are reported once, from it, not
/// again for every desk that inherits them.
const SHARED: &[&str] = &[
    "database", "imap", "smtp", "relay", "http", "outbox", "capture", "privacy", "desks",
    "operator", "board",
];

fn is_shared(key: &str) -> bool {
    let section = key.split(['.', '[']).next().unwrap_or(key);
    SHARED.contains(&section)
}

/// Reads and validates leadgate.toml and every desk file: every problem of every file, a
/// desk file's prefixed with its path (`desks/client-a.toml: team.timezone`).
pub fn load_desks(path: &Path) -> Result<Desks, ConfigError> {
    let (raw, mut problems) = read_collecting(path)?;
    let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let typed: HashSet<String> = problems.iter().map(|p| p.key.clone()).collect();
    let dir = raw.desks.dir.clone();
    let main_is_desk = dir.is_none() || !raw.people.is_empty();
    let mut all = Vec::new();
    match validate_desk(raw.clone(), &base, DEFAULT_DESK) {
        Ok(s) if main_is_desk => all.push(s),
        Ok(_) => {}
        Err(ConfigError::Invalid(more)) => {
            problems.extend(more.into_iter().filter(|p| !typed.contains(&p.key)))
        }
        Err(e) => return Err(e),
    }
    if let Some(dir) = &dir {
        for (file, shown) in desk_files(&base, dir, &mut problems) {
            match desk(&raw, &base, &file, &shown) {
                Ok(s) => all.push(s),
                Err(more) => problems.extend(more),
            }
        }
        if all.is_empty() && problems.is_empty() {
            problems.push(Problem {
                key: "desks.dir".into(),
                problem: format!("{dir:?} holds no desk file and leadgate.toml lists no people"),
                fix: "add a desk file (e.g. desks/client-a.toml) or [[people]] to leadgate.toml"
                    .into(),
            });
        }
    }
    let fallback = fallback(&raw, &all, main_is_desk, &mut problems);
    check_claims(&all, &mut problems);
    let operator = raw
        .operator
        .to
        .to_vec()
        .iter()
        .enumerate()
        .filter_map(|(i, a)| match EmailAddress::parse(a) {
            Ok(e) => Some(e),
            Err(_) => {
                problems.push(Problem {
                    key: format!("operator.to[{i}]"),
                    problem: format!("{a:?} is not an email address"),
                    fix: "write an address like \"ops@agency.example\"".into(),
                });
                None
            }
        })
        .collect();
    if !problems.is_empty() {
        return Err(ConfigError::Invalid(problems));
    }
    Ok(Desks {
        all: all.into_iter().map(Arc::new).collect(),
        fallback,
        operator,
    })
}

/// The `*.toml` files of `[desks] dir`, sorted, each with the path problems name it by.
fn desk_files(base: &Path, dir: &str, problems: &mut Vec<Problem>) -> Vec<(PathBuf, String)> {
    let folder = base.join(dir);
    let entries = match std::fs::read_dir(&folder) {
        Ok(e) => e,
        Err(e) => {
            problems.push(Problem {
                key: "desks.dir".into(),
                problem: format!("cannot read {}: {e}", folder.display()),
                fix: "point it at a folder of desk files, relative to leadgate.toml".into(),
            });
            return Vec::new();
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let shown = Path::new(dir)
                .join(f.file_name().unwrap_or_default())
                .display()
                .to_string();
            (f, shown)
        })
        .collect()
}

/// One desk file as a desk: leadgate.toml's shared sections with the file's team.
fn desk(
    main: &RawSettings,
    base: &Path,
    file: &Path,
    shown: &str,
) -> Result<Settings, Vec<Problem>> {
    let at = |p: Problem| Problem {
        key: format!("{shown}: {}", p.key),
        ..p
    };
    let id = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut problems = Vec::new();
    if id.is_empty()
        || !id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        problems.push(at(Problem {
            key: "(file name)".into(),
            problem: format!("{id:?} is not a desk id"),
            fix: "name desk files with lowercase letters, digits, - and _ (client-a.toml)".into(),
        }));
    }
    let (d, typed) = match read_collecting_with(file, false) {
        Ok(r) => r,
        Err(ConfigError::Invalid(p)) => return Err(p.into_iter().map(at).collect()),
        Err(ConfigError::Read(why)) => {
            return Err(vec![at(Problem {
                key: "(file)".into(),
                problem: why,
                fix: "write the desk file as TOML".into(),
            })])
        }
    };
    problems.extend(typed.into_iter().map(at));
    // Paths in a desk file are read from its own folder.
    let here = file.parent().unwrap_or(base);
    let near = |p: &Option<String>| p.as_ref().map(|p| here.join(p).display().to_string());
    let mut team = d.team.clone();
    team.holidays_ics = near(&d.team.holidays_ics);
    let mut digest = d.digest.clone();
    digest.templates = near(&d.digest.templates);
    let mut inbox = d.inbox.clone();
    if let Some(imap) = inbox.imap.as_mut() {
        imap.password_file = near(&imap.password_file);
        imap.ca_file = near(&imap.ca_file);
    }
    let inherits_stale = d.stale == Default::default();
    let inherits_templates = d.templates.is_empty();
    let mut relay = main.relay.clone();
    if let Some(domain) = &d.identity.relay_domain {
        relay.domain = Some(domain.trim().to_owned());
    }
    let merged = RawSettings {
        relay,
        team,
        people: d.people,
        routes: d.routes,
        accounts: d.accounts,
        duty: d.duty,
        stale: if inherits_stale {
            main.stale.clone()
        } else {
            d.stale
        },
        digest,
        templates: if inherits_templates {
            main.templates.clone()
        } else {
            d.templates
        },
        name: d.name,
        inbox,
        identity: d.identity,
        ..main.clone()
    };
    match validate_desk(merged, base, &id) {
        Ok(s) if problems.is_empty() => Ok(s),
        Ok(_) => Err(problems),
        Err(ConfigError::Invalid(more)) => {
            let inherited = |k: &str| {
                is_shared(k)
                    || (inherits_stale && k.starts_with("stale"))
                    || (inherits_templates && k.starts_with("templates"))
            };
            problems.extend(more.into_iter().filter(|p| !inherited(&p.key)).map(at));
            Err(problems)
        }
        Err(e) => Err(vec![at(Problem {
            key: "(file)".into(),
            problem: e.to_string(),
            fix: "correct the desk file".into(),
        })]),
    }
}

/// `[desks] fallback`: a desk's id; without it leadgate.toml's own team, or the only desk.
fn fallback(
    raw: &RawSettings,
    all: &[Settings],
    main_is_desk: bool,
    problems: &mut Vec<Problem>,
) -> Option<usize> {
    match raw.desks.fallback.as_deref().map(str::trim) {
        Some(id) => {
            let found = all.iter().position(|s| s.desk.id == id);
            if found.is_none() && !all.is_empty() {
                let ids: Vec<&str> = all.iter().map(|s| s.desk.id.as_str()).collect();
                problems.push(Problem {
                    key: "desks.fallback".into(),
                    problem: format!("{id:?} is not a desk"),
                    fix: format!("name one of: {}", ids.join(", ")),
                });
            }
            found
        }
        None if all.len() == 1 || (main_is_desk && !all.is_empty()) => Some(0),
        None => None,
    }
}

/// Two desks must not claim the same alias, folder or account: a message would have two
/// owners' teams. A desk with no way in when several desks exist gets no mail.
fn check_claims(all: &[Settings], problems: &mut Vec<Problem>) {
    let mut claimed: BTreeMap<String, &str> = BTreeMap::new();
    for s in all {
        let claims: Vec<String> = match &s.desk.inbox {
            Inbox::Addresses(a) => a.clone(),
            Inbox::Folder(f) => vec![format!("folder {f}")],
            Inbox::Account(i) => vec![format!("imap {}@{} {}", i.username, i.host, i.mailbox)],
            Inbox::Fallback => Vec::new(),
        };
        for c in claims {
            if let Some(other) = claimed.insert(c.clone(), &s.desk.id) {
                problems.push(Problem {
                    key: format!("desk {}: inbox", s.desk.id),
                    problem: format!("claims {c}, which desk {other:?} claims too"),
                    fix: "give each address, folder or account to one desk".into(),
                });
            }
        }
    }
}
