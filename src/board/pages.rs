//! The board's lists: `/board` (live leads, those needing an owner or a decision first,
//! then by owner), `/board.json` (the objects `leadgate leads --json` prints), and the same
//! read-only through a view link. One lead's page and its actions are [`super::lead`]'s.

use super::access::{self, Sight, Viewer};
use super::links::{self, ViewScope};
use super::{message, page, unavailable, BoardState};
use crate::config::{Desks, Settings};
use crate::domain::lead::LeadStatus;
use crate::ops::view::{self, LeadView};
use crate::store;
use crate::store::board::{self, LastActivity};
use crate::store::leads::Lead;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::SocketAddr;

/// Leads shown per group on the whole board; a group's own page (`?owner=`) shows them all
/// (up to [`OWNER_LIMIT`]). Ten thousand rows are no glance.
const GROUP_LIMIT: usize = 50;
const OWNER_LIMIT: usize = 2000;

/// The filters, as query parameters (bookmarkable); empty means "any".
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct Filters {
    /// A person (id, name or email), `me`, or `none` (leads that need an owner).
    pub owner: String,
    pub drift: String,
    pub status: String,
    pub desk: String,
}

/// The owner filter resolved: whose leads, or those that need an owner.
enum OwnerFilter {
    Any,
    Person(String),
    Nobody,
    /// A name that is no one: nothing matches.
    Unknown,
}

fn owner_filter(f: &Filters, viewer: &Viewer, desks: &Desks) -> OwnerFilter {
    match f.owner.trim() {
        "" => OwnerFilter::Any,
        "none" => OwnerFilter::Nobody,
        "me" => viewer
            .person(desks)
            .map(OwnerFilter::Person)
            .unwrap_or(OwnerFilter::Unknown),
        who => desks
            .all
            .iter()
            .find_map(|s| s.find_person(who))
            .map(|p| OwnerFilter::Person(p.id.clone()))
            .unwrap_or(OwnerFilter::Unknown),
    }
}

/// The desks to show: those in sight, or the one `?desk=` names if it is in sight.
fn desks_shown(sight: &Sight, f: &Filters) -> Vec<String> {
    sight
        .desks
        .iter()
        .filter(|d| f.desk.is_empty() || **d == f.desk)
        .cloned()
        .collect()
}

/// The drift of a lead, by its own desk's rules (a desk no longer configured: the shared
/// settings, its owner counted as gone).
fn drift_of(row: &Lead, desks: &Desks, now: Timestamp) -> Vec<String> {
    match desks.get(&row.desk) {
        Some(s) => view::drift(row, s, &s.active_people(), now),
        None => view::drift(row, desks.shared(), &Default::default(), now),
    }
}

/// A live lead in sight and its drift kinds: what the board sorts, groups and counts.
pub(super) struct Item {
    pub(super) row: Lead,
    pub(super) drift: Vec<String>,
}

impl Item {
    fn has(&self, kind: &str) -> bool {
        self.drift.iter().any(|d| d == kind)
    }

    fn due(&self) -> Option<Timestamp> {
        self.row.next_action.as_ref().and(self.row.next_action_due)
    }

    fn overdue(&self, now: Timestamp) -> bool {
        self.due().is_some_and(|d| d <= now) || self.has("overdue")
    }

    /// Whether it waits for an owner or a decision: the board's first group.
    fn needs_owner(&self) -> bool {
        self.row.owner.is_none() || self.row.status == LeadStatus::Triage || self.has("orphaned")
    }
}

/// The live leads this viewer may see, through the filters (for a drift filter, which
/// needs every lead's drift).
async fn load(
    st: &BoardState,
    viewer: &Viewer,
    f: &Filters,
    now: Timestamp,
    full: bool,
) -> store::Result<Vec<Item>> {
    let desks = &st.desks;
    let sight: Sight = access::sight(viewer, desks);
    let shown = desks_shown(&sight, f);
    let owner = owner_filter(f, viewer, desks);
    // One owner's page reads only their rows.
    let only = match (&sight.owner, &owner) {
        (Some(o), _) => Some(o.clone()),
        (None, OwnerFilter::Person(p)) => Some(p.clone()),
        _ => None,
    };
    if matches!(owner, OwnerFilter::Unknown) {
        return Ok(Vec::new());
    }
    let rows = {
        let mut conn = st.store.acquire().await?;
        if full {
            board::live_leads(&mut conn, &shown, only.as_deref()).await?
        } else {
            board::live_rows(&mut conn, &shown, only.as_deref()).await?
        }
    };
    let items = rows
        .into_iter()
        .filter(|r| sight.sees_lead(r))
        .filter(|r| f.status.is_empty() || r.status.as_str() == f.status)
        .filter(|r| match &owner {
            OwnerFilter::Person(p) => r.owner.as_deref() == Some(p.as_str()),
            _ => true,
        })
        .map(|row| Item {
            drift: drift_of(&row, desks, now),
            row,
        })
        .filter(|i| f.drift.is_empty() || i.drift.contains(&f.drift))
        .filter(|i| !matches!(owner, OwnerFilter::Nobody) || i.needs_owner())
        .collect();
    Ok(items)
}

/// One lead as a row of the board.
#[derive(Serialize)]
pub(super) struct Row<'a> {
    id: i64,
    /// The desk's name, when there are several.
    desk: Option<String>,
    name: String,
    status: &'a str,
    owner: Option<String>,
    accepted: bool,
    next: Option<&'a str>,
    due: Option<String>,
    overdue: bool,
    last_who: Option<String>,
    last_what: Option<&'static str>,
    last_when: Option<String>,
    drift: &'a [String],
    source: &'a str,
    form: Option<&'a str>,
    why: &'a str,
}

pub(super) fn short_time(t: Timestamp, s: &Settings) -> String {
    t.to_zoned(s.team.timezone.clone())
        .strftime("%a %d %b %H:%M")
        .to_string()
}

/// A person's name on a desk (their id when they are not, or no longer, on it).
pub(super) fn name_on(desks: &Desks, desk: &str, id: &str) -> String {
    desks
        .get(desk)
        .and_then(|s| s.person(id))
        .map(|p| p.name.clone())
        .unwrap_or_else(|| id.to_owned())
}

/// The desk's name for a row, when the deployment has several.
fn desk_label(desks: &Desks, desk: &str) -> Option<String> {
    (desks.all.len() > 1).then(|| {
        desks
            .get(desk)
            .map(|s| s.desk.name.clone())
            .unwrap_or_else(|| desk.to_owned())
    })
}

/// Which way an activity went, in a word.
fn direction(kind: &str) -> &'static str {
    match kind {
        "message_in" | "resubmitted" | "captured" => "in",
        "message_out" | "logged" => "out",
        "accepted" => "accepted",
        "assigned" | "handoff" => "assigned",
        "note" => "note",
        "next_action_set" | "next_action_done" => "next action",
        "status" => "status",
        "snoozed" => "snoozed",
        "opted_out" => "opted out",
        _ => "other",
    }
}

pub(super) fn row<'a>(
    i: &'a Item,
    last: Option<&LastActivity>,
    desks: &Desks,
    s: &Settings,
    now: Timestamp,
) -> Row<'a> {
    let l = &i.row;
    // Times in the lead's desk's zone.
    let s = desks.get(&l.desk).map(AsRef::as_ref).unwrap_or(s);
    Row {
        id: l.id,
        desk: desk_label(desks, &l.desk),
        name: crate::domain::notify::lead_name(
            l.id,
            l.name.as_deref(),
            l.email.as_ref().map(|e| e.as_str()),
            l.phone.as_deref(),
        ),
        status: l.status.as_str(),
        owner: l.owner.as_deref().map(|o| name_on(desks, &l.desk, o)),
        accepted: l.accepted,
        next: l.next_action.as_deref(),
        due: i.due().map(|d| short_time(d, s)),
        overdue: i.overdue(now),
        last_who: last.map(|a| name_on(desks, &l.desk, &a.actor)),
        last_what: last.map(|a| direction(&a.kind)),
        last_when: last.map(|a| short_time(store::timestamp(a.at), s)),
        drift: &i.drift,
        source: &l.source,
        form: l.form.as_deref(),
        why: &l.route_reason,
    }
}

#[derive(Serialize)]
struct Group<'a> {
    title: String,
    /// The group's own page (`?owner=`), when it has more than is shown.
    more: Option<String>,
    total: usize,
    rows: Vec<Row<'a>>,
}

/// A group's key: None for those needing an owner or a decision, else (desk, owner).
type GroupKey = Option<(String, String)>;

/// The groups of the page and its counts: total, needing an owner, overdue.
type Grouped = (Vec<(GroupKey, usize, Vec<Item>)>, usize, usize, usize);

/// Needing an owner first, then by desk and owner in the config's order.
fn group_rank(desks: &Desks, key: &GroupKey) -> (usize, usize) {
    match key {
        None => (0, 0),
        Some((desk, owner)) => {
            let d = desks.all.iter().position(|s| s.desk.id == *desk);
            let p = d.and_then(|d| desks.all[d].people.iter().position(|p| p.id == *owner));
            (1 + d.unwrap_or(desks.all.len()), p.unwrap_or(usize::MAX))
        }
    }
}

/// Groups `items` (all in sight): within a group the most urgent first (overdue, then by
/// deadline, then the oldest), at most `limit`, with the group's total.
fn groups(
    items: Vec<Item>,
    desks: &Desks,
    now: Timestamp,
    limit: usize,
) -> Vec<(GroupKey, usize, Vec<Item>)> {
    let mut by: HashMap<GroupKey, Vec<Item>> = HashMap::new();
    for i in items {
        let k = (!i.needs_owner())
            .then(|| (i.row.desk.clone(), i.row.owner.clone().unwrap_or_default()));
        by.entry(k).or_default().push(i);
    }
    let mut out: Vec<(GroupKey, usize, Vec<Item>)> = by
        .into_iter()
        .map(|(key, mut is)| {
            is.sort_by_key(|i| {
                let d = i.due();
                (!i.overdue(now), d.is_none(), d, i.row.id)
            });
            let total = is.len();
            is.truncate(limit);
            (key, total, is)
        })
        .collect();
    out.sort_by_key(|(k, _, _)| group_rank(desks, k));
    out
}

/// The plain board (no drift filter): the database groups, counts and ranks every live
/// lead, and only the rows shown are read and get their drift worked out.
async fn page_fast(
    st: &BoardState,
    viewer: &Viewer,
    f: &Filters,
    now: Timestamp,
    limit: usize,
) -> store::Result<Grouped> {
    let desks = &st.desks;
    let sight = access::sight(viewer, desks);
    let shown = desks_shown(&sight, f);
    let empty = || (Vec::new(), 0, 0, 0);
    let owner = match (sight.owner.as_deref(), owner_filter(f, viewer, desks)) {
        (_, OwnerFilter::Unknown) => return Ok(empty()),
        (Some(a), OwnerFilter::Person(b)) if a != b => return Ok(empty()),
        (Some(a), _) => Some(a.to_owned()),
        (None, OwnerFilter::Person(b)) => Some(b),
        (None, _) => None,
    };
    let q = board::PageQuery {
        desks: &shown,
        owner: owner.as_deref(),
        status: (!f.status.is_empty()).then_some(f.status.as_str()),
        nobody: f.owner.trim() == "none",
        now: store::millis(now),
        limit: limit as i64,
    };
    let page = {
        let mut conn = st.store.acquire().await?;
        board::page(&mut conn, &q).await?
    };
    let mut groups: Vec<(GroupKey, usize, Vec<Item>)> = page
        .groups
        .into_iter()
        .map(|g| {
            let items = g
                .leads
                .into_iter()
                .map(|row| Item {
                    drift: drift_of(&row, desks, now),
                    row,
                })
                .collect();
            (g.owner, g.total as usize, items)
        })
        .collect();
    groups.sort_by_key(|(k, _, _)| group_rank(desks, k));
    Ok((
        groups,
        page.total as usize,
        page.needing as usize,
        page.overdue as usize,
    ))
}

/// With a drift filter: every live lead in sight is read and its drift worked out.
async fn page_by_drift(
    st: &BoardState,
    viewer: &Viewer,
    f: &Filters,
    now: Timestamp,
    limit: usize,
) -> store::Result<Grouped> {
    let items = load(st, viewer, f, now, false).await?;
    let needing = items.iter().filter(|i| i.needs_owner()).count();
    let overdue = items.iter().filter(|i| i.has("overdue")).count();
    let total = items.len();
    let groups = groups(items, &st.desks, now, limit);
    Ok((groups, total, needing, overdue))
}

/// The board for a viewer; `base` is where its links start (`/board`, or a view link's).
async fn render_board(st: &BoardState, viewer: &Viewer, f: &Filters, base: &str) -> Response {
    let s = &st.settings;
    let now = st.clock.now();
    let desks = &st.desks;
    let sight = access::sight(viewer, desks);
    let one_owner = !f.owner.is_empty() || sight.owner.is_some();
    let limit = if one_owner { OWNER_LIMIT } else { GROUP_LIMIT };
    let grouped = if f.drift.is_empty() {
        page_fast(st, viewer, f, now, limit).await
    } else {
        page_by_drift(st, viewer, f, now, limit).await
    };
    let (grouped, total, needing, overdue) = match grouped {
        Ok(x) => x,
        Err(e) => return unavailable(s, e),
    };
    // The last activity of the rows shown only: a few hundred, not every live lead.
    let shown: Vec<i64> = grouped
        .iter()
        .flat_map(|(_, _, is)| is.iter().map(|i| i.row.id))
        .collect();
    let last = async {
        let mut conn = st.store.acquire().await?;
        board::last_activities(&mut conn, &shown).await
    }
    .await;
    let last = match last {
        Ok(l) => l,
        Err(e) => return unavailable(s, e),
    };
    let groups: Vec<Group<'_>> = grouped
        .iter()
        .map(|(key, total, is)| Group {
            title: match key {
                Some((desk, o)) => match desk_label(desks, desk) {
                    Some(d) => format!("{} ({d})", name_on(desks, desk, o)),
                    None => name_on(desks, desk, o),
                },
                None => "Needs an owner or a decision".to_owned(),
            },
            more: (*total > is.len()).then(|| match key {
                Some((desk, o)) => format!("owner={o}&desk={desk}"),
                None => "owner=none".to_owned(),
            }),
            total: *total,
            rows: is
                .iter()
                .map(|i| row(i, last.get(&i.row.id), desks, s, now))
                .collect(),
        })
        .collect();
    // The people of the desks in sight, once each, for the owner filter.
    let mut people: Vec<minijinja::Value> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for d in desks
        .all
        .iter()
        .filter(|d| sight.desks.contains(&d.desk.id))
    {
        for p in d.people.iter().filter(|p| seen.insert(p.id.clone())) {
            people.push(minijinja::context! { id => &p.id, name => &p.name });
        }
    }
    let desk_choices: Vec<minijinja::Value> = desks
        .all
        .iter()
        .filter(|d| desks.all.len() > 1 && sight.desks.contains(&d.desk.id))
        .map(|d| minijinja::context! { id => &d.desk.id, name => &d.desk.name })
        .collect();
    page(
        StatusCode::OK,
        "board.html",
        minijinja::context! {
            team => &s.team.name,
            base,
            viewer => viewer.name(desks),
            can_act => viewer.can_act(),
            csrf => match viewer { Viewer::Person { csrf, .. } => Some(csrf.as_str()), _ => None },
            filters => f,
            desks => desk_choices,
            filtered => !(f.owner.is_empty() && f.drift.is_empty() && f.status.is_empty() && f.desk.is_empty()),
            total,
            needing,
            overdue,
            groups,
            people,
            drift_kinds => ["orphaned", "unaccepted", "no_first_reply", "unanswered", "no_next_action", "overdue", "idle"],
            statuses => ["triage", "new", "contacted", "qualified"],
            now => short_time(now, s),
        },
    )
}

/// The logged-in team member, or the answer to give instead (to the login page).
pub(super) async fn person(
    st: &BoardState,
    headers: &HeaderMap,
    peer: SocketAddr,
) -> Result<Viewer, Response> {
    match access::viewer(st, headers, Some(peer)).await {
        Ok(Some(v)) => Ok(v),
        Ok(None) => Err(match st.settings.board.login {
            crate::config::BoardLogin::MagicLink => Redirect::to("/login").into_response(),
            crate::config::BoardLogin::Proxy { .. } => message(
                StatusCode::UNAUTHORIZED,
                &st.settings,
                "Not logged in",
                "The board is reached through your organisation's login.",
            ),
        }),
        Err(e) => Err(unavailable(&st.settings, e)),
    }
}

pub async fn board(
    State(st): State<BoardState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(f): Query<Filters>,
) -> Response {
    match person(&st, &headers, peer).await {
        Ok(v) => render_board(&st, &v, &f, "/board").await,
        Err(r) => r,
    }
}

/// The same objects as `leadgate leads --json`, for the leads the viewer may see.
pub async fn board_json(
    State(st): State<BoardState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(f): Query<Filters>,
) -> Response {
    let viewer = match access::viewer(&st, &headers, Some(peer)).await {
        Ok(Some(v)) => v,
        Ok(None) => {
            return (
                StatusCode::UNAUTHORIZED,
                Json(serde_json::json!({"error": "not logged in: /login"})),
            )
                .into_response()
        }
        Err(e) => return unavailable(&st.settings, e),
    };
    let now = st.clock.now();
    match load(&st, &viewer, &f, now, true).await {
        Ok(items) => {
            let rows: Vec<Lead> = items.into_iter().map(|i| i.row).collect();
            let leads: Vec<LeadView> = view::views(&st.desks, &rows, now);
            Json(leads).into_response()
        }
        Err(e) => unavailable(&st.settings, e),
    }
}

pub(super) fn view_scope(st: &BoardState, token: &str) -> Option<ViewScope> {
    links::verify(&st.settings, token, st.clock.now())
}

pub(super) fn view_expired(st: &BoardState) -> Response {
    message(
        StatusCode::NOT_FOUND,
        &st.settings,
        "This view link has expired",
        "View links in leadgate's mail work for a while only; the newest digest has a fresh one.",
    )
}

pub async fn view_board(
    State(st): State<BoardState>,
    Path(token): Path<String>,
    Query(f): Query<Filters>,
) -> Response {
    match view_scope(&st, &token) {
        Some(scope) => {
            render_board(
                &st,
                &Viewer::Link(scope),
                &f,
                &format!("/board/view/{token}"),
            )
            .await
        }
        None => view_expired(&st),
    }
}
