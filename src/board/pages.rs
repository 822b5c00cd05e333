//! The board's pages: `/board` (live leads, those needing an owner or a decision first,
//! then by owner), `/board/leads/{id}` (one lead and its whole history), `/board.json` (the
//! objects `leadgate leads --json` prints), the same read-only through a view link, and
//! the two actions, accept and next action, through [`crate::ops`] as the CLI and email do.

use super::access::{self, Sight, Viewer};
use super::links::{self, ViewScope};
use super::{message, not_found, page, unavailable, BoardState, DEFAULT_DESK};
use crate::config::Settings;
use crate::domain::lead::LeadStatus;
use crate::domain::notify;
use crate::domain::when::{parse_when_exact, WhenOptions, WHEN_HELP};
use crate::ops::view::{self, LeadDetail, LeadView};
use crate::ops::{self, OpError};
use crate::store::board::{self, LastActivity};
use crate::store::leads::Lead;
use crate::store::{self, Store};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
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

fn owner_filter(f: &Filters, viewer: &Viewer, s: &Settings) -> OwnerFilter {
    match f.owner.trim() {
        "" => OwnerFilter::Any,
        "none" => OwnerFilter::Nobody,
        "me" => viewer
            .person()
            .map(|p| OwnerFilter::Person(p.to_owned()))
            .unwrap_or(OwnerFilter::Unknown),
        who => s
            .find_person(who)
            .map(|p| OwnerFilter::Person(p.id.clone()))
            .unwrap_or(OwnerFilter::Unknown),
    }
}

/// A live lead in sight and its drift kinds: what the board sorts, groups and counts.
struct Item {
    row: Lead,
    drift: Vec<String>,
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

/// The live leads this viewer may see, through the filters; with every column (`full`,
/// for the JSON) or only what the page shows.
async fn load(
    store: &Store,
    s: &Settings,
    viewer: &Viewer,
    f: &Filters,
    now: Timestamp,
    full: bool,
) -> store::Result<Vec<Item>> {
    let sight: Sight = access::sight(viewer, s);
    let owner = owner_filter(f, viewer, s);
    // One owner's page reads only their rows.
    let only = match (&sight.owner, &owner) {
        (Some(o), _) => Some(o.clone()),
        (None, OwnerFilter::Person(p)) => Some(p.clone()),
        _ => None,
    };
    let mut conn = store.acquire().await?;
    let rows = if full {
        board::live_leads(&mut conn, only.as_deref()).await?
    } else {
        board::live_rows(&mut conn, only.as_deref()).await?
    };
    drop(conn);
    let active = s.active_people();
    let items = rows
        .into_iter()
        .filter(|r| sight.sees_lead(r))
        .filter(|r| f.desk.is_empty() || access::desk_of(r) == f.desk)
        .filter(|r| f.status.is_empty() || r.status.as_str() == f.status)
        .filter(|r| match &owner {
            OwnerFilter::Person(p) => r.owner.as_deref() == Some(p.as_str()),
            OwnerFilter::Any | OwnerFilter::Nobody => true,
            OwnerFilter::Unknown => false,
        })
        .map(|row| Item {
            drift: view::drift(&row, s, &active, now),
            row,
        })
        .filter(|i| f.drift.is_empty() || i.drift.contains(&f.drift))
        .filter(|i| !matches!(owner, OwnerFilter::Nobody) || i.needs_owner())
        .collect();
    Ok(items)
}

/// One lead as a row of the board.
#[derive(Serialize)]
struct Row<'a> {
    id: i64,
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

fn short_time(t: Timestamp, s: &Settings) -> String {
    t.to_zoned(s.team.timezone.clone())
        .strftime("%a %d %b %H:%M")
        .to_string()
}

fn person_name(s: &Settings, id: &str) -> String {
    s.person(id)
        .map(|p| p.name.clone())
        .unwrap_or_else(|| id.to_owned())
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

fn row<'a>(i: &'a Item, last: Option<&LastActivity>, s: &Settings, now: Timestamp) -> Row<'a> {
    let l = &i.row;
    Row {
        id: l.id,
        name: l
            .name
            .clone()
            .or_else(|| l.email.as_ref().map(|e| e.to_string()))
            .unwrap_or_else(|| format!("lead #{}", l.id)),
        status: l.status.as_str(),
        owner: l.owner.as_deref().map(|o| person_name(s, o)),
        accepted: l.accepted,
        next: l.next_action.as_deref(),
        due: i.due().map(|d| short_time(d, s)),
        overdue: i.overdue(now),
        last_who: last.map(|a| person_name(s, &a.actor)),
        last_what: last.map(|a| direction(&a.kind)),
        last_when: last.map(|a| short_time(store::timestamp(a.at), s)),
        drift: &i.drift,
        source: &l.source,
        form: l.form.as_deref(),
        why: &l.route_reason,
    }
}

/// A lead as `show` gives it, as a row (the lead's page).
fn row_of_view<'a>(l: &'a LeadView, s: &Settings, now: Timestamp) -> Row<'a> {
    let due = l
        .next_action
        .as_ref()
        .and_then(|n| n["due"].as_str())
        .and_then(|d| d.parse::<Timestamp>().ok());
    Row {
        id: l.id,
        name: l
            .name
            .clone()
            .or_else(|| l.email.clone())
            .unwrap_or_else(|| format!("lead #{}", l.id)),
        status: &l.status,
        owner: l.owner.as_deref().map(|o| person_name(s, o)),
        accepted: l.accepted,
        next: l.next_action.as_ref().and_then(|n| n["what"].as_str()),
        due: due.map(|d| short_time(d, s)),
        overdue: due.is_some_and(|d| d <= now) || l.drift.iter().any(|d| d == "overdue"),
        last_who: None,
        last_what: None,
        last_when: None,
        drift: &l.drift,
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

/// Needing an owner first, then by owner in the team's order; within a group the most
/// urgent first: overdue, then by deadline, then the oldest. At most `limit` per group,
/// with the group's total.
fn groups(
    items: Vec<Item>,
    s: &Settings,
    now: Timestamp,
    limit: usize,
) -> Vec<(Option<String>, usize, Vec<Item>)> {
    let mut by: Vec<(Option<String>, Vec<Item>)> = Vec::new();
    let mut index: HashMap<Option<String>, usize> = HashMap::new();
    by.push((None, Vec::new()));
    index.insert(None, 0);
    for p in &s.people {
        index.insert(Some(p.id.clone()), by.len());
        by.push((Some(p.id.clone()), Vec::new()));
    }
    for i in items {
        let k = (!i.needs_owner()).then(|| i.row.owner.clone().unwrap_or_default());
        let at = *index.entry(k.clone()).or_insert_with(|| {
            by.push((k, Vec::new()));
            by.len() - 1
        });
        by[at].1.push(i);
    }
    by.into_iter()
        .filter(|(_, is)| !is.is_empty())
        .map(|(owner, mut is)| {
            is.sort_by_key(|i| {
                let d = i.due();
                (!i.overdue(now), d.is_none(), d, i.row.id)
            });
            let total = is.len();
            is.truncate(limit);
            (owner, total, is)
        })
        .collect()
}

/// The groups of the page (as [`groups`] makes them) and its counts: total, needing an
/// owner, overdue.
type Grouped = (Vec<(Option<String>, usize, Vec<Item>)>, usize, usize, usize);

/// The plain board (no drift filter): the database groups, counts and ranks every live
/// lead, and only the rows shown are read and get their drift worked out.
async fn page_fast(
    st: &BoardState,
    viewer: &Viewer,
    f: &Filters,
    now: Timestamp,
    limit: usize,
) -> store::Result<Grouped> {
    let s = &st.settings;
    let sight = access::sight(viewer, s);
    let empty = || (Vec::new(), 0, 0, 0);
    // The desks in sight (one for now) and the one asked for.
    let desk = if f.desk.is_empty() {
        DEFAULT_DESK
    } else {
        f.desk.as_str()
    };
    if !sight.desks.iter().any(|d| d == desk) {
        return Ok(empty());
    }
    let owner = match (sight.owner.as_deref(), owner_filter(f, viewer, s)) {
        (_, OwnerFilter::Unknown) => return Ok(empty()),
        (Some(a), OwnerFilter::Person(b)) if a != b => return Ok(empty()),
        (Some(a), _) => Some(a.to_owned()),
        (None, OwnerFilter::Person(b)) => Some(b),
        (None, _) => None,
    };
    let team: Vec<String> = s.people.iter().map(|p| p.id.clone()).collect();
    let q = board::PageQuery {
        team: &team,
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
    let active = s.active_people();
    let mut groups: Vec<(Option<String>, usize, Vec<Item>)> = page
        .groups
        .into_iter()
        .map(|g| {
            let items = g
                .leads
                .into_iter()
                .map(|row| Item {
                    drift: view::drift(&row, s, &active, now),
                    row,
                })
                .collect();
            (g.owner, g.total as usize, items)
        })
        .collect();
    // Needing an owner first, then the team in the config's order.
    let rank = |o: &Option<String>| match o {
        None => 0,
        Some(o) => {
            1 + s
                .people
                .iter()
                .position(|p| &p.id == o)
                .unwrap_or(s.people.len())
        }
    };
    groups.sort_by_key(|(o, _, _)| rank(o));
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
    let s = &st.settings;
    let items = load(&st.store, s, viewer, f, now, false).await?;
    let needing = items.iter().filter(|i| i.needs_owner()).count();
    let overdue = items.iter().filter(|i| i.has("overdue")).count();
    let total = items.len();
    let groups = groups(items, s, now, limit);
    Ok((groups, total, needing, overdue))
}

/// The board for a viewer; `base` is where its links start (`/board`, or a view link's).
async fn render_board(st: &BoardState, viewer: &Viewer, f: &Filters, base: &str) -> Response {
    let s = &st.settings;
    let now = st.clock.now();
    let one_owner = !f.owner.is_empty() || access::sight(viewer, s).owner.is_some();
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
        .map(|(owner, total, is)| Group {
            title: match owner {
                Some(o) => person_name(s, o),
                None => "Needs an owner or a decision".to_owned(),
            },
            more: (*total > is.len()).then(|| match owner {
                Some(o) => format!("owner={o}"),
                None => "owner=none".to_owned(),
            }),
            total: *total,
            rows: is
                .iter()
                .map(|i| row(i, last.get(&i.row.id), s, now))
                .collect(),
        })
        .collect();
    let people: Vec<_> = s
        .people
        .iter()
        .map(|p| minijinja::context! { id => &p.id, name => &p.name })
        .collect();
    page(
        StatusCode::OK,
        "board.html",
        minijinja::context! {
            team => &s.team.name,
            base,
            viewer => viewer.person().map(|p| person_name(s, p)),
            can_act => viewer.can_act(),
            csrf => match viewer { Viewer::Person { csrf, .. } => Some(csrf.as_str()), _ => None },
            filters => f,
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
async fn person(
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
    let s = &st.settings;
    match load(&st.store, s, &viewer, &f, now, true).await {
        Ok(items) => {
            let active = s.active_people();
            let leads: Vec<LeadView> = items
                .iter()
                .map(|i| view::view(&i.row, s, &active, now))
                .collect();
            Json(leads).into_response()
        }
        Err(e) => unavailable(s, e),
    }
}

fn view_scope(st: &BoardState, token: &str) -> Option<ViewScope> {
    links::verify(&st.settings, token, st.clock.now())
}

fn view_expired(st: &BoardState) -> Response {
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

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Done {
    ok: String,
}

/// One lead the viewer may see, with its history; None when there is none they may see.
async fn visible_detail(
    st: &BoardState,
    viewer: &Viewer,
    id: i64,
) -> anyhow::Result<Option<LeadDetail>> {
    let d = view::detail(&st.store, &st.settings, id, st.clock.now()).await?;
    let sight = access::sight(viewer, &st.settings);
    Ok(d.filter(|d| sight.sees_view(&d.lead)))
}

async fn render_lead(
    st: &BoardState,
    viewer: &Viewer,
    id: i64,
    base: &str,
    status: StatusCode,
    note: Option<(&str, String)>,
) -> Response {
    let s = &st.settings;
    let d = match visible_detail(st, viewer, id).await {
        Ok(Some(d)) => d,
        Ok(None) => return not_found(s),
        Err(e) => return unavailable(s, format!("{e:#}")),
    };
    let now = st.clock.now();
    let l = &d.lead;
    let open = matches!(
        l.status.as_str(),
        "triage" | "new" | "contacted" | "qualified"
    );
    let me = viewer.person().filter(|_| viewer.can_act());
    let can_accept = open
        && me.is_some_and(|p| {
            (l.owner.as_deref() == Some(p) && !l.accepted)
                || l.owner.is_none()
                || l.drift.iter().any(|d| d == "orphaned")
        });
    let history: Vec<_> = d
        .history
        .iter()
        .map(|a| {
            minijinja::context! {
                at => a.at.parse::<Timestamp>().map(|t| short_time(t, s)).unwrap_or_else(|_| a.at.clone()),
                actor => person_name(s, &a.actor),
                kind => &a.kind,
                detail => &a.detail,
            }
        })
        .collect();
    let extra: Vec<(String, String)> = d
        .extra
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
                .collect()
        })
        .unwrap_or_default();
    let (note_kind, note_text) = match note {
        Some((k, t)) => (Some(k), Some(t)),
        None => (None, None),
    };
    page(
        status,
        "lead.html",
        minijinja::context! {
            team => &s.team.name,
            base,
            viewer => viewer.person().map(|p| person_name(s, p)),
            can_act => viewer.can_act() && open,
            can_accept,
            csrf => match viewer { Viewer::Person { csrf, .. } => Some(csrf.as_str()), _ => None },
            lead => row_of_view(l, s, now),
            email => &l.email,
            phone => &l.phone,
            company => d.fields["company"].as_str(),
            message => d.fields["message"].as_str(),
            consent => notify::consent_text(d.consent),
            tracked => &l.tracked_address,
            created => short_time(l.created_at.parse().unwrap_or(now), s),
            extra,
            history,
            note_kind,
            note_text,
            when_help => WHEN_HELP,
        },
    )
}

pub async fn lead(
    State(st): State<BoardState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Query(done): Query<Done>,
) -> Response {
    let viewer = match person(&st, &headers, peer).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let note = match done.ok.as_str() {
        "accepted" => Some(("ok", "Accepted: the lead is yours.".to_owned())),
        "next" => Some(("ok", "Next action set.".to_owned())),
        _ => None,
    };
    render_lead(&st, &viewer, id, "/board", StatusCode::OK, note).await
}

pub async fn view_lead(
    State(st): State<BoardState>,
    Path((token, id)): Path<(String, i64)>,
) -> Response {
    match view_scope(&st, &token) {
        Some(scope) => {
            let base = format!("/board/view/{token}");
            render_lead(&st, &Viewer::Link(scope), id, &base, StatusCode::OK, None).await
        }
        None => view_expired(&st),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ActionForm {
    csrf: String,
    when: String,
    what: String,
}

/// An action by the logged-in person on a lead they may see, in one transaction through
/// [`crate::ops`]; then back to the lead's page (or its page with the refusal).
async fn act(
    st: &BoardState,
    headers: &HeaderMap,
    peer: SocketAddr,
    id: i64,
    f: &ActionForm,
    done: &str,
    op: impl AsyncFnOnce(&mut store::Tx, &Settings, &str, Timestamp) -> Result<ops::Outcome, OpError>,
) -> Response {
    let viewer = match person(st, headers, peer).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(actor) = viewer.person().map(str::to_owned) else {
        return not_found(&st.settings);
    };
    if !access::csrf_ok(&viewer, &f.csrf) {
        return render_lead(
            st,
            &viewer,
            id,
            "/board",
            StatusCode::FORBIDDEN,
            Some((
                "error",
                "The form was stale; nothing was changed. Try again.".into(),
            )),
        )
        .await;
    }
    match visible_detail(st, &viewer, id).await {
        Ok(Some(_)) => {}
        Ok(None) => return not_found(&st.settings),
        Err(e) => return unavailable(&st.settings, format!("{e:#}")),
    }
    let now = st.clock.now();
    let result = async {
        let mut tx = st.store.begin().await?;
        match op(&mut tx, &st.settings, &actor, now).await {
            Ok(o) => {
                tx.commit().await?;
                Ok(Ok(o))
            }
            Err(e) if e.is_refusal() => {
                tx.rollback().await.ok();
                Ok(Err(e))
            }
            Err(e) => Err(anyhow::anyhow!(e)),
        }
    }
    .await;
    match result {
        Ok(Ok(outcome)) => {
            if outcome.queued_mail {
                st.wake.notify_one();
            }
            tracing::info!(lead.id = id, actor = %actor, summary = %outcome.summary, "board action");
            Redirect::to(&format!("/board/leads/{id}?ok={done}")).into_response()
        }
        Ok(Err(refused)) => {
            render_lead(
                st,
                &viewer,
                id,
                "/board",
                StatusCode::CONFLICT,
                Some(("error", refused.to_string())),
            )
            .await
        }
        Err(e) => unavailable(&st.settings, format!("{e:#}")),
    }
}

pub async fn accept(
    State(st): State<BoardState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<ActionForm>,
) -> Response {
    act(
        &st,
        &headers,
        peer,
        id,
        &f,
        "accepted",
        async |tx, s, actor, now| ops::accept(tx, s, id, actor, now).await,
    )
    .await
}

pub async fn next(
    State(st): State<BoardState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<ActionForm>,
) -> Response {
    let (when, what) = (f.when.clone(), f.what.clone());
    act(
        &st,
        &headers,
        peer,
        id,
        &f,
        "next",
        async |tx, s, actor, now| {
            let due = parse_when_exact(&when, now, &s.team.timezone, WhenOptions::default())
                .map_err(|e| OpError::NotAllowed(format!("{e}. {WHEN_HELP}")))?;
            ops::set_next(tx, s, id, what.trim(), due, actor, now).await
        },
    )
    .await
}
