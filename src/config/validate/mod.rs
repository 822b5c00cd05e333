//! Validation: [`RawSettings`] into [`Settings`], one function per TOML section, each taking
//! its raw section and the shared [`Check`] and returning its validated part. Every problem
//! is collected with its key and a fix; only when there are none is there a `Settings`.
//!
//! The sections run in the order below, which is the order `check-config` lists problems
//! in. `[[people]]` comes before the sections that name people, and `[smtp]` before
//! `[outbox]`, whose lease must outlast an SMTP send.

mod accounts;
mod board;
mod capture;
mod check;
mod database;
mod desk;
mod digest;
mod duty;
mod http;
mod imap;
mod outbox;
mod people;
mod relay;
mod routes;
mod smtp;
mod stale;
mod team;
mod templates;

pub use check::parse_duration;

use super::raw::RawSettings;
use super::{ConfigError, Settings};
use check::Check;
use people::PersonIds;
use std::path::Path;

/// `base`: the config file's folder, against which relative paths in it are read.
pub fn validate(raw: RawSettings, base: &Path) -> Result<Settings, ConfigError> {
    validate_desk(raw, base, super::DEFAULT_DESK)
}

/// Validates `raw` as the settings of desk `desk` (its file stem, or
/// [`super::DEFAULT_DESK`] for leadgate.toml's own team).
pub fn validate_desk(raw: RawSettings, base: &Path, desk: &str) -> Result<Settings, ConfigError> {
    let mut c = Check::new(base.to_path_buf());

    let database_url = database::validate(&mut c, &raw.database);
    let imap = raw.imap.as_ref().map(|i| imap::validate(&mut c, "imap", i));
    let file_sink = raw.outbox.file_sink.is_some();
    let (smtp, from) = smtp::validate(&mut c, raw.smtp.as_ref(), file_sink);
    let relay = relay::validate(&mut c, &raw.relay);
    let people = people::validate(&mut c, &raw.people);
    let ids = PersonIds::of(&people);
    let team = team::validate(&mut c, &raw.team, &ids);
    let duty = raw.duty.as_ref().map(|d| duty::validate(&mut c, d, &ids));
    let routes = routes::validate(&mut c, &raw.routes, raw.duty.is_some(), &ids);
    let (accounts, learn) = accounts::validate(&mut c, &raw.accounts, &ids);
    let (stale, sweep_every) = stale::validate(&mut c, &raw.stale);
    let digest = digest::validate(&mut c, &raw.digest);
    let http = http::validate(&mut c, &raw.http);
    let templates = templates::validate(&mut c, &raw.templates);
    let outbox = outbox::validate(&mut c, &raw.outbox, smtp.as_ref());
    let capture = capture::validate(&mut c, &raw.capture);
    let board = board::validate(&mut c, raw.board.as_ref(), &http);
    let desk = desk::validate(
        &mut c,
        desk,
        &raw.name,
        &team.name,
        &raw.inbox,
        &raw.identity,
    );
    let optout_global = desk::optout_global(&mut c, &raw.privacy);

    if !c.problems.is_empty() {
        return Err(ConfigError::Invalid(c.problems));
    }
    Ok(Settings {
        database_url,
        imap,
        smtp,
        from: from.expect("validated above"),
        relay: relay.expect("validated above"),
        team,
        people,
        routes,
        accounts,
        learn,
        duty,
        stale,
        sweep_every,
        digest,
        http,
        templates,
        outbox,
        capture,
        board,
        desk,
        optout_global,
    })
}
