//! The board: every live lead of the viewer's desks on one server-rendered page, served by
//! the daemon's HTTP endpoint (DESIGN.md, "The board"). No script at all: forms and links
//! only, so it works with scripts off, and the CSP forbids script outright.
//!
//! - [`access`]: who is looking ([`access::Viewer`]) and what they may see
//!   ([`access::sight`], the one visibility check), sessions, proxy login, CSRF.
//! - [`login`]: magic links (`/login`), the button that turns one into a session, logout.
//! - [`pages`]: `/board`, `/board.json`, and the same through a view link.
//! - [`lead`]: `/board/leads/{id}` and the two actions (accept, next action) through
//!   [`crate::ops`], so their history is the CLI's and the email's.
//! - [`links`]: signed read-only view links for digests and reminders.
//!
//! Mounted by the HTTP endpoint (`http.rs`); speaks no SQL (the store's `board` module does).

pub mod access;
mod lead;
pub mod links;
mod login;
mod pages;

use crate::clock::Clock;
use crate::config::{Desks, Settings};
use crate::store::Store;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use minijinja::Environment;
use std::sync::{Arc, LazyLock};
use tokio::sync::Notify;

/// What the board's handlers read.
#[derive(Clone)]
pub struct BoardState {
    pub store: Store,
    /// The shared settings (`[board]`, `[http]`, the relay keys, the first desk's team).
    pub settings: Arc<Settings>,
    /// Every desk: who is on which, each lead read with its own desk's settings.
    pub desks: Arc<Desks>,
    pub clock: Clock,
    /// Woken after a login link is queued, so it goes out now rather than at the sender's
    /// next idle check.
    pub wake: Arc<Notify>,
}

pub use crate::config::DEFAULT_DESK;

/// Every board response carries these: no script may run, no other site may frame the
/// page, no URL (which may hold a view link) leaks as a referrer, nothing is cached.
const CSP: &str = "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

pub fn router(state: BoardState) -> Router {
    Router::new()
        .route("/login", get(login::form).post(login::request))
        .route("/login/{token}", get(login::confirm).post(login::enter))
        .route("/logout", post(login::logout))
        .route("/board", get(pages::board))
        .route("/board.json", get(pages::board_json))
        .route("/board/style.css", get(stylesheet))
        .route("/board/leads/{id}", get(lead::lead))
        .route("/board/leads/{id}/accept", post(lead::accept))
        .route("/board/leads/{id}/next", post(lead::next))
        .route("/board/view/{token}", get(pages::view_board))
        .route("/board/view/{token}/leads/{id}", get(lead::view_lead))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(state)
}

async fn security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-store, private"),
    );
    r
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../templates/board/board.css"),
    )
        .into_response()
}

/// The board's pages, parsed once; every value is HTML-escaped (`.html` names).
fn templates() -> &'static Environment<'static> {
    static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
        let mut env = crate::domain::notify::environment();
        for (name, text) in [
            (
                "layout.html",
                include_str!("../../templates/board/layout.html"),
            ),
            (
                "board.html",
                include_str!("../../templates/board/board.html"),
            ),
            ("lead.html", include_str!("../../templates/board/lead.html")),
            (
                "login.html",
                include_str!("../../templates/board/login.html"),
            ),
            (
                "message.html",
                include_str!("../../templates/board/message.html"),
            ),
        ] {
            env.add_template(name, text)
                .expect("bundled board template parses");
        }
        env
    });
    &ENV
}

/// A page from `name` with `ctx`; a template error is logged and answered with a 500.
fn page(status: StatusCode, name: &str, ctx: minijinja::Value) -> Response {
    match templates().get_template(name).and_then(|t| t.render(ctx)) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), template = name, "board page failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the page could not be made\n",
            )
                .into_response()
        }
    }
}

/// A short page that says one thing (and perhaps links on).
fn message(status: StatusCode, s: &Settings, title: &str, text: &str) -> Response {
    page(
        status,
        "message.html",
        minijinja::context! { team => &s.team.name, title, text },
    )
}

fn not_found(s: &Settings) -> Response {
    message(
        StatusCode::NOT_FOUND,
        s,
        "Not found",
        "There is nothing here you may see.",
    )
}

/// A database failure: said plainly, logged with its cause.
fn unavailable(s: &Settings, e: impl std::fmt::Display) -> Response {
    tracing::error!(error = %e, "board request failed");
    message(
        StatusCode::SERVICE_UNAVAILABLE,
        s,
        "Try again",
        "The board cannot read the database right now; try again in a moment.",
    )
}

/// Random bytes as hex: login links and session cookies (256 bits).
fn random_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// What the database keeps of a token: its SHA-256, hex.
fn token_hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::access::{sight, Viewer};
    use super::links::{self, ViewScope};
    use crate::config::Settings;
    use jiff::{SignedDuration, Timestamp};

    pub(super) fn settings(extra: &str) -> Settings {
        let toml = format!(
            r#"
[smtp]
from = "leadgate@leads.test"
[outbox]
file_sink = "/nonexistent"
[relay]
domain = "leads.test"
secret = "0123456789abcdef0123456789abcdef"
[team]
name = "Acme"
timezone = "Europe/Berlin"
[[people]]
id = "alice"
name = "Alice Smith"
email = "alice@team.test"
[[people]]
id = "bob"
name = "Bob Jones"
email = "bob@team.test"
{extra}
"#
        );
        crate::config::from_toml(&toml, std::path::Path::new(".")).unwrap()
    }

    fn now() -> Timestamp {
        "2026-12-02T10:00:00Z".parse().unwrap()
    }

    #[test]
    fn view_links_carry_their_scope_until_they_expire() {
        let s = settings("[http]\npublic_url = \"https://leads.example.com/\"");
        let alice = ViewScope::Person {
            desk: "default".into(),
            id: "alice".into(),
        };
        let url = links::url(&s, &alice, now()).unwrap();
        let token = url
            .strip_prefix("https://leads.example.com/board/view/")
            .unwrap();
        assert_eq!(links::verify(&s, token, now()), Some(alice.clone()));
        let later = now() + SignedDuration::from_hours(7 * 24 - 1);
        assert_eq!(links::verify(&s, token, later), Some(alice));
        let expired = now() + SignedDuration::from_hours(7 * 24);
        assert_eq!(links::verify(&s, token, expired), None);
        // Another deployment's secret: nothing.
        let mut other = s.clone();
        other.relay.keys = crate::domain::token::TokenKeys::new(vec![b"another secret".to_vec()]);
        assert_eq!(links::verify(&other, token, now()), None);
        // No public URL: no link in mail.
        assert_eq!(
            links::url(&settings(""), &ViewScope::Desk("default".into()), now()),
            None
        );
    }

    #[test]
    fn a_view_link_sees_its_person_or_its_desk_and_a_member_sees_the_team() {
        let s = crate::config::Desks::single(settings(""));
        let member = Viewer::Person {
            email: "Bob@team.test".into(),
            session: Some(1),
            csrf: "x".into(),
        };
        assert_eq!(sight(&member, &s).desks, ["default"]);
        assert_eq!(sight(&member, &s).owner, None);
        assert_eq!(member.person_on(&s, "default").as_deref(), Some("bob"));
        let stranger = Viewer::Person {
            email: "mallory@example.net".into(),
            session: None,
            csrf: "x".into(),
        };
        assert!(sight(&stranger, &s).desks.is_empty());
        let link = Viewer::Link(ViewScope::Person {
            desk: "default".into(),
            id: "alice".into(),
        });
        assert_eq!(sight(&link, &s).owner.as_deref(), Some("alice"));
        assert!(!link.can_act());
        // Someone who left the team, or a desk that is not ours: nothing.
        let gone = Viewer::Link(ViewScope::Person {
            desk: "default".into(),
            id: "mallory".into(),
        });
        assert!(sight(&gone, &s).desks.is_empty());
        let elsewhere = Viewer::Link(ViewScope::Desk("other".into()));
        assert!(sight(&elsewhere, &s).desks.is_empty());
    }
}
