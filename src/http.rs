//! The daemon's HTTP endpoint (`[http] listen`, off by default): `GET /healthz` (JSON, 200
//! or 503), `GET /metrics` (Prometheus text), and RFC 8058 one-click unsubscribe at
//! `/unsubscribe/{token}` (`POST` opts out; `GET` shows a page with a button that posts,
//! because mail scanners follow links and must not opt anyone out).
//!
//! The board (`/board`, `/login`, ...) is [`crate::board`]'s, merged into this router.
//!
//! The only module that serves HTTP. It reads the store and the watcher's status; the one
//! thing it writes is an opt-out, through [`crate::relay::one_click_unsubscribe`] (the one
//! path, also the tests').

use crate::clock::Clock;
use crate::config::Settings;
use crate::leader::Leadership;
use crate::source::imap::ImapStatus;
use crate::store::{self, outbox, Store};
use axum::extract::{Path, State as AxState};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use minijinja::HtmlEscape;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What the handlers read.
#[derive(Clone)]
pub struct State {
    pub store: Store,
    /// The shared settings (the first desk's): the team name on pages, the relay keys.
    pub settings: Arc<Settings>,
    pub desks: Arc<crate::config::Desks>,
    pub clock: Clock,
    /// None when no `[imap]` is configured.
    pub imap: Option<Arc<ImapStatus>>,
    /// Every mailbox watcher (the shared mailbox's, a desk's folder or account), by name.
    pub watchers: Vec<(String, Arc<ImapStatus>)>,
    pub leadership: Leadership,
    pub metrics: Option<PrometheusHandle>,
    /// Wakes the outbox sender (the board queues login links).
    pub wake: Arc<tokio::sync::Notify>,
}

pub fn router(state: State) -> Router {
    let board = crate::board::router(crate::board::BoardState {
        store: state.store.clone(),
        settings: state.settings.clone(),
        desks: state.desks.clone(),
        clock: state.clock.clone(),
        wake: state.wake.clone(),
    });
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route(
            "/unsubscribe/{token}",
            get(unsubscribe_page).post(unsubscribe),
        )
        .with_state(state)
        .merge(board)
}

/// Serves until `shutdown`; requests in progress are finished.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: State,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    // The peer's address: proxy login believes its header only from `trusted_proxies`.
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await?;
    Ok(())
}

#[derive(Debug, serde::Serialize)]
pub struct Health {
    /// `ok`, or `unhealthy` (then the status code is 503) with `problems` saying why.
    pub status: &'static str,
    pub problems: Vec<String>,
    pub database: DatabaseHealth,
    /// Whether this instance runs the watcher and the scheduler (always, on SQLite).
    pub leader: bool,
    /// Null when no `[imap]` is configured.
    pub imap: Option<ImapHealth>,
    /// Every mailbox watcher with its name (`imap watcher`, `imap watcher of desk a`): a
    /// desk's own account that is down makes the daemon unhealthy too.
    pub watchers: Vec<WatcherHealth>,
    /// Null when the database does not answer.
    pub outbox: Option<outbox::OutboxCounts>,
}

#[derive(Debug, serde::Serialize)]
pub struct DatabaseHealth {
    pub reachable: bool,
    pub backend: &'static str,
}

#[derive(Debug, serde::Serialize)]
pub struct WatcherHealth {
    pub name: String,
    #[serde(flatten)]
    pub imap: ImapHealth,
}

#[derive(Debug, serde::Serialize)]
pub struct ImapHealth {
    pub connected: bool,
    /// RFC 3339; when the last catch-up pass finished.
    pub last_fetch: Option<String>,
    pub last_error: Option<String>,
    pub ingested: u64,
    pub skipped: u64,
}

async fn healthz(AxState(st): AxState<State>) -> Response {
    let counts = tokio::time::timeout(Duration::from_secs(3), async {
        let mut c = st.store.acquire().await?;
        outbox::counts(&mut c).await
    })
    .await;
    let counts = match counts {
        Ok(Ok(c)) => Some(c),
        _ => None,
    };
    let leader = st.leadership.is_leader();
    let of = |s: &ImapStatus| ImapHealth {
        connected: s.connected(),
        last_fetch: s.last_fetch().map(|t| t.to_string()),
        last_error: s.last_error(),
        ingested: s.ingested(),
        skipped: s.skipped(),
    };
    let imap = st.imap.as_deref().map(of);
    let watchers: Vec<WatcherHealth> = st
        .watchers
        .iter()
        .map(|(name, s)| WatcherHealth {
            name: name.clone(),
            imap: of(s),
        })
        .collect();
    let mut problems = Vec::new();
    if counts.is_none() {
        problems.push("the database does not answer".to_owned());
    }
    // Only the leader watches the mailbox; a follower is healthy without a connection.
    if let Some(i) = imap.as_ref().filter(|i| leader && !i.connected) {
        problems.push(match &i.last_error {
            Some(e) => format!("IMAP is not connected: {e}"),
            None => "IMAP is not connected (yet)".to_owned(),
        });
    }
    // The shared mailbox's watcher is said above; the desks' own here.
    for w in watchers.iter().skip(usize::from(imap.is_some())) {
        if leader && !w.imap.connected {
            problems.push(match &w.imap.last_error {
                Some(e) => format!("{} is not connected: {e}", w.name),
                None => format!("{} is not connected (yet)", w.name),
            });
        }
    }
    let health = Health {
        status: if problems.is_empty() {
            "ok"
        } else {
            "unhealthy"
        },
        problems,
        database: DatabaseHealth {
            reachable: counts.is_some(),
            backend: match st.store.backend() {
                store::Backend::Sqlite => "sqlite",
                store::Backend::Postgres => "postgres",
            },
        },
        leader,
        imap,
        watchers,
        outbox: counts,
    };
    let code = if health.problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(health)).into_response()
}

async fn metrics(AxState(st): AxState<State>) -> Response {
    let Some(handle) = &st.metrics else {
        return (StatusCode::NOT_FOUND, "metrics are not recorded\n").into_response();
    };
    let counts = tokio::time::timeout(Duration::from_secs(3), async {
        let mut c = st.store.acquire().await?;
        outbox::counts(&mut c).await
    })
    .await;
    if let Ok(Ok(c)) = counts {
        metrics::gauge!(crate::telemetry::OUTBOX_PENDING).set(c.pending as f64);
        metrics::gauge!(crate::telemetry::OUTBOX_DEAD_ROWS).set(c.dead as f64);
    }
    metrics::gauge!(crate::telemetry::LEADER).set(if st.leadership.is_leader() {
        1.0
    } else {
        0.0
    });
    handle.run_upkeep();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response()
}

/// The page a link opens: nothing changes until the button is pressed.
async fn unsubscribe_page(AxState(st): AxState<State>, Path(token): Path<String>) -> Response {
    if st.settings.relay.keys.decode(&token).is_none() {
        return not_found();
    }
    let team = HtmlEscape(&st.settings.team.name);
    let token = HtmlEscape(&token);
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Unsubscribe</title></head>\
         <body><p>Stop all email from {team} to this address?</p>\
         <form method=\"post\" action=\"/unsubscribe/{token}\">\
         <button type=\"submit\">Unsubscribe</button></form></body></html>\n"
    ))
    .into_response()
}

/// RFC 8058 one-click: `POST /unsubscribe/{token}` (body `List-Unsubscribe=One-Click`, not
/// required). 200 when the lead's address is opted out (also when it already was), 404 for
/// a token that is not ours or a lead that is gone.
async fn unsubscribe(AxState(st): AxState<State>, Path(token): Path<String>) -> Response {
    let unsubscribed =
        crate::relay::one_click_unsubscribe(&st.store, &st.desks, &token, st.clock.now()).await;
    match unsubscribed {
        Ok(Some(_)) => {
            let team = HtmlEscape(&st.settings.team.name);
            Html(format!(
                "<!doctype html><html><head><meta charset=\"utf-8\"><title>Unsubscribed</title></head>\
                 <body><p>Done: {team} will not email this address again.</p></body></html>\n"
            ))
            .into_response()
        }
        Ok(None) => not_found(),
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "one-click unsubscribe failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "cannot record the request now; please try again later\n",
            )
                .into_response()
        }
    }
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "unknown or expired link\n").into_response()
}
