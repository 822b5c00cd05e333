//! One lead: `/board/leads/{id}` (its facts and whole history, also read-only through a
//! view link) and the two actions, accept (or take an orphan) and set the next action,
//! through [`crate::ops`] as the CLI and quick actions run them, so the history rows are
//! the same whichever way an action came.

use super::access::{self, Viewer};
use super::pages::{name_on, person, row, short_time, view_expired, view_scope, Item};
use super::{not_found, page, unavailable, BoardState};
use crate::config::Settings;
use crate::domain::notify;
use crate::domain::when::{parse_when_exact, WhenOptions, WHEN_HELP};
use crate::ops::view::{self, LeadDetail};
use crate::ops::{self, OpError};
use crate::store;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use jiff::Timestamp;
use serde::Deserialize;
use std::net::SocketAddr;

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
    let d = view::detail(&st.store, &st.desks, id, st.clock.now()).await?;
    let sight = access::sight(viewer, &st.desks);
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
    // The lead's desk's settings: its people, its zone.
    let s = st.desks.get(&l.desk).map(AsRef::as_ref).unwrap_or(s);
    let open = d.row.status.is_open();
    let desks = &st.desks;
    let me = viewer
        .person_on(desks, &l.desk)
        .filter(|_| viewer.can_act());
    let can_accept = open
        && me.as_deref().is_some_and(|p| {
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
                actor => name_on(desks, &l.desk, &a.actor),
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
    let item = Item {
        row: d.row,
        drift: l.drift.clone(),
    };
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
            viewer => viewer.name(desks),
            can_act => me.is_some() && open,
            can_accept,
            csrf => match viewer { Viewer::Person { csrf, .. } => Some(csrf.as_str()), _ => None },
            lead => row(&item, None, desks, s, now),
            email => &l.email,
            phone => &l.phone,
            company => d.fields["company"].as_str(),
            message => d.fields["message"].as_str(),
            consent => notify::consent_text(d.consent),
            tracked => &l.tracked_address,
            created => short_time(item.row.created_at, s),
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
    op: impl AsyncFnOnce(
        &mut store::Tx<'_>,
        &Settings,
        &str,
        Timestamp,
    ) -> Result<ops::Outcome, OpError>,
) -> Response {
    let viewer = match person(st, headers, peer).await {
        Ok(v) => v,
        Err(r) => return r,
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
    let desk = match visible_detail(st, &viewer, id).await {
        Ok(Some(d)) => d.lead.desk,
        Ok(None) => return not_found(&st.settings),
        Err(e) => return unavailable(&st.settings, format!("{e:#}")),
    };
    // The lead's desk's settings and the viewer's id there: an operator who sees the
    // desk but is not on it may look, not act.
    let (Some(settings), Some(actor)) = (st.desks.get(&desk), viewer.person_on(&st.desks, &desk))
    else {
        return not_found(&st.settings);
    };
    let now = st.clock.now();
    let result = async {
        let mut tx = st.store.begin().await?;
        match op(&mut tx, settings, &actor, now).await {
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
