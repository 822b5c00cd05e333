//! Who is looking at the board, and what they may see.
//!
//! A viewer is a team member (logged in by a session cookie, or named by a trusted proxy)
//! or a signed read-only view link. [`sight`] is the one answer to "what may this viewer
//! see": every page and the JSON filter leads through it, and a lead outside it is a 404.

use super::links::ViewScope;
use super::{token_hash, BoardState};
use crate::config::{BoardLogin, Desks};
use crate::ops::view::LeadView;
use crate::store::leads::Lead;
use crate::store::{self, board};
use axum::http::HeaderMap;
use std::net::SocketAddr;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "leadgate_session";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Viewer {
    /// A team member, who may act, known by their email address (the same person may be
    /// on several desks, with an id on each). `csrf` is the token their forms must carry
    /// (tied to the session, or, behind a proxy, to the person).
    Person {
        email: String,
        session: Option<i64>,
        csrf: String,
    },
    /// A signed read-only link from a digest or a reminder.
    Link(ViewScope),
}

impl Viewer {
    /// The viewer's person id on `desk` (None: not a member there, or a desk-wide link).
    pub fn person_on(&self, desks: &Desks, desk: &str) -> Option<String> {
        match self {
            Viewer::Person { email, .. } => desks
                .get(desk)
                .and_then(|s| s.person_by_email(email))
                .map(|p| p.id.clone()),
            Viewer::Link(ViewScope::Person { desk: d, id }) if d == desk => Some(id.clone()),
            Viewer::Link(_) => None,
        }
    }

    /// The viewer's person id on the first desk they belong to (`?owner=me`).
    pub fn person(&self, desks: &Desks) -> Option<String> {
        match self {
            Viewer::Person { email, .. } => desks
                .all
                .iter()
                .find_map(|s| s.person_by_email(email))
                .map(|p| p.id.clone()),
            Viewer::Link(ViewScope::Person { id, .. }) => Some(id.clone()),
            Viewer::Link(ViewScope::Desk(_)) => None,
        }
    }

    /// What to call the viewer on the page.
    pub fn name(&self, desks: &Desks) -> Option<String> {
        match self {
            Viewer::Person { email, .. } => desks
                .all
                .iter()
                .find_map(|s| s.person_by_email(email))
                .map(|p| p.name.clone()),
            Viewer::Link(ViewScope::Person { desk, id }) => Some(
                desks
                    .get(desk)
                    .and_then(|s| s.person(id))
                    .map(|p| p.name.clone())
                    .unwrap_or_else(|| id.clone()),
            ),
            Viewer::Link(ViewScope::Desk(_)) => None,
        }
    }

    pub fn can_act(&self) -> bool {
        matches!(self, Viewer::Person { .. })
    }
}

/// What a viewer may see: leads of these desks, and only one owner's when `owner` is set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sight {
    pub desks: Vec<String>,
    pub owner: Option<String>,
}

impl Sight {
    /// Whether a lead on `desk` owned by `owner` is in sight.
    pub fn sees(&self, desk: &str, owner: Option<&str>) -> bool {
        self.desks.iter().any(|d| d == desk)
            && self
                .owner
                .as_ref()
                .is_none_or(|o| owner == Some(o.as_str()))
    }

    pub fn sees_lead(&self, lead: &Lead) -> bool {
        self.sees(&lead.desk, lead.owner.as_deref())
    }

    pub fn sees_view(&self, lead: &LeadView) -> bool {
        self.sees(&lead.desk, lead.owner.as_deref())
    }
}

/// The one visibility check: viewer → the desks and leads they may see. A person sees the
/// desks they are on (a manager sees the desks they manage, being on them); `[operator]`
/// members see every desk; a view link sees its scope, while its desk and person exist.
pub fn sight(viewer: &Viewer, desks: &Desks) -> Sight {
    match viewer {
        Viewer::Person { email, .. } => {
            let operator = desks
                .operator
                .iter()
                .any(|a| a.as_str().eq_ignore_ascii_case(email));
            Sight {
                desks: desks
                    .all
                    .iter()
                    .filter(|s| operator || s.person_by_email(email).is_some())
                    .map(|s| s.desk.id.clone())
                    .collect(),
                owner: None,
            }
        }
        Viewer::Link(ViewScope::Person { desk, id }) => Sight {
            desks: desks
                .get(desk)
                .filter(|s| s.person(id).is_some())
                .map(|s| vec![s.desk.id.clone()])
                .unwrap_or_default(),
            owner: Some(id.clone()),
        },
        Viewer::Link(ViewScope::Desk(d)) => Sight {
            desks: desks
                .get(d)
                .map(|s| vec![s.desk.id.clone()])
                .unwrap_or_default(),
            owner: None,
        },
    }
}

/// A team member of any desk by email address: (their address as configured, name).
pub fn member(desks: &Desks, email: &str) -> Option<(String, String)> {
    desks
        .all
        .iter()
        .find_map(|s| s.person_by_email(email))
        .map(|p| (p.email.clone(), p.name.clone()))
}

/// The logged-in team member of this request, if any: by the proxy's header (proxy
/// login, trusted peers only) or by the session cookie (magic links).
pub async fn viewer(
    st: &BoardState,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> store::Result<Option<Viewer>> {
    let s = &st.settings;
    match &s.board.login {
        BoardLogin::Proxy { header, trusted } => {
            let Some(peer) = peer else {
                return Ok(None);
            };
            if !trusted.iter().any(|net| net.contains(&peer.ip())) {
                if headers.contains_key(header.as_str()) {
                    tracing::warn!(peer = %peer, header = %header, "ignored the login header from an untrusted peer");
                }
                return Ok(None);
            }
            let Some(email) = headers.get(header.as_str()).and_then(|v| v.to_str().ok()) else {
                return Ok(None);
            };
            Ok(member(&st.desks, email).map(|(email, _)| Viewer::Person {
                csrf: s.relay.keys.sign("board-csrf", &format!("proxy:{email}")),
                email,
                session: None,
            }))
        }
        BoardLogin::MagicLink => {
            let Some(token) = session_cookie(headers) else {
                return Ok(None);
            };
            let now = store::millis(st.clock.now());
            let mut conn = st.store.acquire().await?;
            let Some(session) = board::live_session(&mut conn, &token_hash(&token), now).await?
            else {
                return Ok(None);
            };
            // Someone who left every desk keeps no access through an old cookie.
            if member(&st.desks, &session.person).is_none() {
                return Ok(None);
            }
            board::touch_session(&mut conn, session.id, now).await?;
            Ok(Some(Viewer::Person {
                email: session.person,
                session: Some(session.id),
                csrf: csrf_for_session(&token),
            }))
        }
    }
}

/// The CSRF token of a session: derived from its secret cookie, which no other site can
/// read, so a form on another site cannot carry it.
pub fn csrf_for_session(session_token: &str) -> String {
    token_hash(&format!("csrf:{session_token}"))
}

/// Whether a form's CSRF token is the viewer's (compared in constant time).
pub fn csrf_ok(viewer: &Viewer, given: &str) -> bool {
    match viewer {
        Viewer::Person { csrf, .. } => {
            csrf.len() == given.len()
                && csrf
                    .bytes()
                    .zip(given.bytes())
                    .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                    == 0
        }
        Viewer::Link(_) => false,
    }
}

fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == SESSION_COOKIE)
        .map(|c| c.value().to_owned())
}

/// The `Set-Cookie` value of a new session.
pub fn session_set_cookie(token: &str, valid: jiff::SignedDuration) -> String {
    cookie::Cookie::build((SESSION_COOKIE, token.to_owned()))
        .path("/")
        .http_only(true)
        .secure(true)
        .same_site(cookie::SameSite::Strict)
        .max_age(cookie::time::Duration::seconds(valid.as_secs()))
        .build()
        .to_string()
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn session_clear_cookie() -> String {
    cookie::Cookie::build((SESSION_COOKIE, ""))
        .path("/")
        .http_only(true)
        .secure(true)
        .same_site(cookie::SameSite::Strict)
        .max_age(cookie::time::Duration::ZERO)
        .build()
        .to_string()
}

/// The token of the session cookie in this request (logout revokes it).
pub fn session_token(headers: &HeaderMap) -> Option<String> {
    session_cookie(headers)
}
