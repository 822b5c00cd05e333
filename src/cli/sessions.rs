//! `leadgate sessions`: the board's login sessions (who, since when, until when, revoked
//! or not), and `sessions revoke ID` to end one at once.

use super::print_json;
use crate::clock::Clock;
use crate::config::Settings;
use crate::store::{self, board, Store};
use std::process::ExitCode;

#[derive(serde::Serialize)]
struct SessionView {
    id: i64,
    person: String,
    how: String,
    created_at: String,
    last_seen_at: String,
    expires_at: String,
    revoked_at: Option<String>,
    /// `live`, `expired` or `revoked`.
    state: &'static str,
}

pub async fn list(settings: &Settings, json: bool) -> anyhow::Result<ExitCode> {
    let store = Store::open(&settings.database_url).await?;
    let mut conn = store.acquire().await?;
    let now = store::millis(Clock::system().now());
    let t = |ms: i64| store::timestamp(ms).to_string();
    let views: Vec<SessionView> = board::sessions(&mut conn)
        .await?
        .into_iter()
        .map(|s| SessionView {
            id: s.id,
            state: match (s.revoked_at, s.expires_at > now) {
                (Some(_), _) => "revoked",
                (None, false) => "expired",
                (None, true) => "live",
            },
            person: s.person,
            how: s.how,
            created_at: t(s.created_at),
            last_seen_at: t(s.last_seen_at),
            expires_at: t(s.expires_at),
            revoked_at: s.revoked_at.map(t),
        })
        .collect();
    if json {
        print_json(&views)?;
        return Ok(ExitCode::SUCCESS);
    }
    if views.is_empty() {
        println!("No board sessions yet.");
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY);
    table.set_header(["id", "person", "state", "since", "last seen", "until"]);
    for v in views {
        table.add_row([
            v.id.to_string(),
            v.person,
            v.state.to_owned(),
            v.created_at,
            v.last_seen_at,
            v.revoked_at.unwrap_or(v.expires_at),
        ]);
    }
    println!("{table}");
    println!("End one with `leadgate sessions revoke ID`.");
    Ok(ExitCode::SUCCESS)
}

pub async fn revoke(settings: &Settings, id: i64) -> anyhow::Result<ExitCode> {
    let store = Store::open(&settings.database_url).await?;
    let mut conn = store.acquire().await?;
    let now = store::millis(Clock::system().now());
    if board::revoke_session(&mut conn, id, now).await? {
        println!("session {id} revoked: its cookie no longer opens the board");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "no live session {id} (already revoked, or no such id); `leadgate sessions` lists them"
        );
        Ok(ExitCode::from(2))
    }
}
