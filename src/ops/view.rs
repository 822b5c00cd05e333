//! What a lead looks like in listings: the object `leadgate leads --json` prints
//! (DESIGN.md's contract), `show`'s detail with the history, and the board's rows (the
//! board's JSON is this same object). One projection, so the CLI and the board never differ.

use crate::config::{Desks, Settings};
use crate::store::leads::{self, Lead};
use crate::store::Store;
use serde::Serialize;
use serde_json::Value;
use std::collections::HashSet;

/// A lead as `leadgate leads --json` prints it (DESIGN.md's contract).
#[derive(Serialize)]
pub struct LeadView {
    pub id: i64,
    /// The desk the lead belongs to (`default` without `[desks]`).
    pub desk: String,
    pub status: String,
    pub owner: Option<String>,
    pub accepted: bool,
    pub source: String,
    pub form: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub next_action: Option<Value>,
    pub created_at: String,
    pub last_activity_at: String,
    pub drift: Vec<String>,
    pub tracked_address: String,
    pub needs_template: bool,
    pub route_reason: String,
}

/// `show` adds the fields, extras, consent and the history.
#[derive(Serialize)]
pub struct LeadDetail {
    #[serde(flatten)]
    pub lead: LeadView,
    pub fields: Value,
    pub extra: Value,
    pub consent: Option<bool>,
    pub history: Vec<leads::Activity>,
    /// The typed row the view was made from (the board renders it; JSON has the view).
    #[serde(skip)]
    pub row: Lead,
}

pub fn view(row: &Lead, s: &Settings, active: &HashSet<String>, now: jiff::Timestamp) -> LeadView {
    LeadView {
        id: row.id,
        desk: row.desk.clone(),
        status: row.status.as_str().to_owned(),
        owner: row.owner.clone(),
        accepted: row.accepted,
        source: row.source.clone(),
        form: row.form.clone(),
        name: row.name.clone(),
        email: row.email.as_ref().map(|e| e.to_string()),
        phone: row.phone.clone(),
        next_action: row.next_action.as_ref().map(|what| {
            serde_json::json!({"what": what, "due": row.next_action_due.map(|d| d.to_string())})
        }),
        created_at: row.created_at.to_string(),
        last_activity_at: row.last_activity_at.to_string(),
        drift: drift(row, s, active, now),
        tracked_address: s.relay.tracked_address(row.id),
        needs_template: row.needs_template,
        route_reason: row.route_reason.clone(),
    }
}

/// The drift kinds of a lead now, as `leads --json` names them.
pub fn drift(
    row: &Lead,
    s: &Settings,
    active: &HashSet<String>,
    now: jiff::Timestamp,
) -> Vec<String> {
    let owner_active = row
        .owner
        .as_ref()
        .is_some_and(|o| active.contains(o) && s.person(o).is_some());
    crate::domain::drift::drift(
        &row.facts(owner_active),
        &s.stale,
        &s.team.hours,
        &s.team.timezone,
        now,
    )
    .into_iter()
    .map(|k| k.as_str().to_owned())
    .collect()
}

/// The views of `rows`, each read with its desk's settings (a lead of a desk no longer
/// configured with the first desk's, its owner counted as gone).
pub fn views(desks: &Desks, rows: &[Lead], now: jiff::Timestamp) -> Vec<LeadView> {
    let actives: Vec<HashSet<String>> = desks.all.iter().map(|s| s.active_people()).collect();
    let nobody = HashSet::new();
    rows.iter()
        .map(
            |r| match desks.all.iter().position(|s| s.desk.id == r.desk) {
                Some(i) => view(r, &desks.all[i], &actives[i], now),
                None => view(r, desks.shared(), &nobody, now),
            },
        )
        .collect()
}

pub async fn detail(
    store: &Store,
    desks: &Desks,
    id: i64,
    now: jiff::Timestamp,
) -> anyhow::Result<Option<LeadDetail>> {
    let mut conn = store.acquire().await?;
    let Some(row) = leads::get(&mut conn, id).await? else {
        return Ok(None);
    };
    let Some(settings) = desks.get(&row.desk) else {
        return Ok(None);
    };
    let active = settings.active_people();
    let history = leads::history(&mut conn, id).await?;
    let fields = serde_json::json!({
        "name": row.name, "email": row.email, "phone": row.phone,
        "company": row.company, "message": row.message,
    });
    let extra = serde_json::to_value(&row.extra).expect("strings serialise");
    Ok(Some(LeadDetail {
        lead: view(&row, settings, &active, now),
        fields,
        extra,
        consent: row.consent,
        history,
        row,
    }))
}
