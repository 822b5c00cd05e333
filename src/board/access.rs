//! Who is looking at the board, and what they may see.
//!
//! A viewer is a team member (logged in by a session cookie, or named by a trusted proxy)
//! or a signed read-only view link. [`sight`] is the one answer to "what may this viewer
//! see": every page and the JSON filter leads through it, and a lead outside it is a 404.

use super::links::ViewScope;
use super::{token_hash, BoardState, DEFAULT_DESK};
use crate::config::{BoardLogin, Settings};
use crate::ops::view::LeadView;
use crate::store::leads::Lead;
use crate::store::{self, board};
use axum::http::HeaderMap;
use std::net::SocketAddr;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "leadgate_session";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Viewer {
    /// A team member, who may act. `csrf` is the token their forms must carry (tied to
    /// the session, or, behind a proxy, to the person).
    Person {
        id: String,
        session: Option<i64>,
        csrf: String,
    },
    /// A signed read-only link from a digest or a reminder.
    Link(ViewScope),
}

impl Viewer {
    pub fn person(&self) -> Option<&str> {
        match self {
            Viewer::Person { id, .. } => Some(id),
            Viewer::Link(ViewScope::Person(p)) => Some(p),
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
        self.sees(desk_of(lead), lead.owner.as_deref())
    }

    pub fn sees_view(&self, lead: &LeadView) -> bool {
        self.sees(desk_of_view(lead), lead.owner.as_deref())
    }
}

/// The desk a lead is on. One desk for now; with desks, the lead's own column.
pub fn desk_of(_lead: &Lead) -> &str {
    DEFAULT_DESK
}

/// [`desk_of`] for a lead as listed.
pub fn desk_of_view(_lead: &LeadView) -> &str {
    DEFAULT_DESK
}

/// The desks a team member belongs to (the manager's are the desks they manage). One
/// desk for now: everyone in the team belongs to it.
fn desks_of(s: &Settings, person: &str) -> Vec<String> {
    if s.person(person).is_some() {
        vec![DEFAULT_DESK.to_owned()]
    } else {
        Vec::new()
    }
}

/// The one visibility check: viewer → the desks and leads they may see.
pub fn sight(viewer: &Viewer, s: &Settings) -> Sight {
    match viewer {
        Viewer::Person { id, .. } => Sight {
            desks: desks_of(s, id),
            owner: None,
        },
        Viewer::Link(ViewScope::Person(p)) => Sight {
            desks: desks_of(s, p),
            owner: Some(p.clone()),
        },
        Viewer::Link(ViewScope::Desk(d)) => Sight {
            desks: if d == DEFAULT_DESK {
                vec![d.clone()]
            } else {
                Vec::new()
            },
            owner: None,
        },
    }
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
            Ok(s.person_by_email(email).map(|p| Viewer::Person {
                id: p.id.clone(),
                session: None,
                csrf: s.relay.keys.sign("board-csrf", &format!("proxy:{}", p.id)),
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
            // A person who left the team keeps no access through an old cookie.
            if s.person(&session.person).is_none() {
                return Ok(None);
            }
            board::touch_session(&mut conn, session.id, now).await?;
            Ok(Some(Viewer::Person {
                id: session.person,
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
