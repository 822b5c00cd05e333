//! Signed read-only view links: `{public_url}/board/view/{token}`, where the token carries
//! the scope (a person's leads, or a desk) and an expiry, signed with the relay secret
//! (HMAC, [`crate::domain::token::TokenKeys::sign`]). Digests, reviews and reminders carry
//! them, so one click opens the live view; nothing can be changed through one.

use crate::config::Settings;
use jiff::Timestamp;

/// The HMAC purpose of view links: a token of another use never verifies as one.
const PURPOSE: &str = "board-view";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ViewScope {
    /// One person's leads on one desk.
    Person { desk: String, id: String },
    /// Every lead of a desk.
    Desk(String),
}

/// A signed token for `scope`, valid `[board] view_links` from `now`.
pub fn token(s: &Settings, scope: &ViewScope, now: Timestamp) -> String {
    let until = now.as_millisecond() + s.board.view_links.as_millis() as i64;
    let payload = match scope {
        ViewScope::Person { desk, id } => format!("p:{until}:{desk}:{id}"),
        ViewScope::Desk(d) => format!("d:{until}:{d}"),
    };
    s.relay.keys.sign(PURPOSE, &payload)
}

/// The link for `scope`, when `[http] public_url` is set (mail needs absolute links).
pub fn url(s: &Settings, scope: &ViewScope, now: Timestamp) -> Option<String> {
    let base = s.http.public_url.as_deref()?.trim_end_matches('/');
    Some(format!("{base}/board/view/{}", token(s, scope, now)))
}

/// The scope of a token we signed that has not expired at `now`.
pub fn verify(s: &Settings, token: &str, now: Timestamp) -> Option<ViewScope> {
    let payload = s.relay.keys.verify(PURPOSE, token)?;
    let (kind, rest) = payload.split_once(':')?;
    let (until, who) = rest.split_once(':')?;
    if until.parse::<i64>().ok()? <= now.as_millisecond() || who.is_empty() {
        return None;
    }
    match kind {
        "p" => {
            let (desk, id) = who.split_once(':')?;
            Some(ViewScope::Person {
                desk: desk.to_owned(),
                id: id.to_owned(),
            })
        }
        "d" => Some(ViewScope::Desk(who.to_owned())),
        _ => None,
    }
}
