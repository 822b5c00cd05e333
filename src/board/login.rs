//! Login without passwords (`[board] login = "magic_link"`): `/login` takes an address;
//! a team member's gets a single-use link through the outbox, a stranger's gets nothing,
//! and both see the same page. `GET /login/{token}` only shows a button (mail scanners
//! follow links with GET and HEAD, and must not use them up); its `POST` uses the link and
//! sets the session cookie. Behind a proxy (`login = "proxy"`) none of this is used.

use super::access::{self, Viewer};
use super::{message, page, random_token, token_hash, unavailable, BoardState};
use crate::config::BoardLogin;
use crate::domain::notify::{self, Purpose};
use crate::store::{self, board};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use std::net::SocketAddr;

/// A person gets no new link while this many of theirs are still usable: the same page
/// is shown, and nothing is mailed (the form must not flood anyone's mailbox).
const MAX_USABLE_LINKS: i64 = 3;

#[derive(serde::Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    email: String,
}

#[derive(serde::Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

fn proxy_page(st: &BoardState) -> Response {
    message(
        StatusCode::NOT_FOUND,
        &st.settings,
        "Log in through your proxy",
        "This board is behind your organisation's login; open /board through it.",
    )
}

pub async fn form(State(st): State<BoardState>) -> Response {
    if st.settings.board.login != BoardLogin::MagicLink {
        return proxy_page(&st);
    }
    page(
        StatusCode::OK,
        "login.html",
        minijinja::context! { team => &st.settings.team.name, step => "ask" },
    )
}

/// Queues a link for a team member's address; the answer is the same for any address.
pub async fn request(State(st): State<BoardState>, Form(f): Form<LoginForm>) -> Response {
    let s = &st.settings;
    if s.board.login != BoardLogin::MagicLink {
        return proxy_page(&st);
    }
    let Some(base) = s.http.public_url.as_deref() else {
        return message(
            StatusCode::SERVICE_UNAVAILABLE,
            s,
            "Login is not set up",
            "Magic links need [http] public_url in leadgate's config; ask whoever runs it.",
        );
    };
    if let Some((email, name)) = access::member(&st.desks, f.email.trim()) {
        let now = st.clock.now();
        let token = random_token();
        let expires = now + s.board.link_valid;
        let link = format!("{}/login/{token}", base.trim_end_matches('/'));
        let ctx = minijinja::context! {
            name => &name,
            team => &s.team.name,
            link => &link,
            expires => notify::format_time(expires, &s.team.timezone),
        };
        let env = crate::templates::environment_or_bundled(s);
        let body = notify::body(&env, "board_login", &ctx, true);
        let draft = s.sender().draft(
            Purpose::BoardLogin,
            vec![email.clone()],
            &format!("Log in to the {} board", s.team.name),
            body,
        );
        let queued = async {
            let mut tx = st.store.begin().await?;
            let usable = board::usable_links(&mut tx, &email, store::millis(now)).await?;
            if usable >= MAX_USABLE_LINKS {
                tracing::warn!(person = %email, usable, "board login link not sent: this many are still usable");
                return anyhow::Ok(false);
            }
            board::insert_login_link(
                &mut tx,
                &token_hash(&token),
                &email,
                store::millis(now),
                store::millis(expires),
            )
            .await?;
            crate::outbox::enqueue(&mut tx, s, &draft, None, now, None).await?;
            tx.commit().await?;
            anyhow::Ok(true)
        }
        .await;
        match queued {
            Ok(true) => {
                st.wake.notify_one();
                tracing::info!(person = %email, "board login link queued");
            }
            Ok(false) => {}
            Err(e) => return unavailable(s, format!("{e:#}")),
        }
    } else {
        // No mail, and the same page: the form does not tell who is in the team.
        tracing::info!("board login asked for an address outside the team; nothing sent");
    }
    page(
        StatusCode::OK,
        "login.html",
        minijinja::context! { team => &s.team.name, step => "sent", minutes => s.board.link_valid.as_mins() },
    )
}

/// The page a mailed link opens: a button, and nothing used up (GET and HEAD are safe).
pub async fn confirm(State(st): State<BoardState>, Path(token): Path<String>) -> Response {
    let s = &st.settings;
    if s.board.login != BoardLogin::MagicLink {
        return proxy_page(&st);
    }
    let now = store::millis(st.clock.now());
    let link = async {
        let mut conn = st.store.acquire().await?;
        board::login_link(&mut conn, &token_hash(&token)).await
    }
    .await;
    match link {
        Ok(Some(l)) if l.used_at.is_none() && l.expires_at > now => page(
            StatusCode::OK,
            "login.html",
            minijinja::context! { team => &s.team.name, step => "confirm", token },
        ),
        Ok(_) => expired(&st),
        Err(e) => unavailable(s, e),
    }
}

fn expired(st: &BoardState) -> Response {
    page(
        StatusCode::NOT_FOUND,
        "login.html",
        minijinja::context! { team => &st.settings.team.name, step => "expired" },
    )
}

/// The button: uses the link (once) and starts a session.
pub async fn enter(State(st): State<BoardState>, Path(token): Path<String>) -> Response {
    let s = &st.settings;
    if s.board.login != BoardLogin::MagicLink {
        return proxy_page(&st);
    }
    let now = st.clock.now();
    let session = random_token();
    let made: store::Result<Option<(i64, String)>> = async {
        let mut tx = st.store.begin().await?;
        let Some(link) = board::login_link(&mut tx, &token_hash(&token)).await? else {
            return Ok(None);
        };
        if access::member(&st.desks, &link.person).is_none()
            || !board::use_login_link(&mut tx, link.id, store::millis(now)).await?
        {
            return Ok(None);
        }
        let id = board::insert_session(
            &mut tx,
            &token_hash(&session),
            &link.person,
            "magic_link",
            store::millis(now),
            store::millis(now + s.board.session),
        )
        .await?;
        tx.commit().await?;
        Ok(Some((id, link.person)))
    }
    .await;
    match made {
        Ok(Some((id, person))) => {
            tracing::info!(session = id, person = %person, "board session started");
            (
                [(
                    header::SET_COOKIE,
                    access::session_set_cookie(&session, s.board.session),
                )],
                Redirect::to("/board"),
            )
                .into_response()
        }
        Ok(None) => expired(&st),
        Err(e) => unavailable(s, e),
    }
}

/// Ends this browser's session (revoked in the database, cookie removed).
pub async fn logout(
    State(st): State<BoardState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    let viewer = match access::viewer(&st, &headers, Some(peer)).await {
        Ok(v) => v,
        Err(e) => return unavailable(&st.settings, e),
    };
    if let Some(
        v @ Viewer::Person {
            session: Some(id), ..
        },
    ) = &viewer
    {
        if !access::csrf_ok(v, &f.csrf) {
            return message(
                StatusCode::FORBIDDEN,
                &st.settings,
                "Not done",
                "The form was stale; reload the page and try again.",
            );
        }
        let revoked = async {
            let mut conn = st.store.acquire().await?;
            board::revoke_session(&mut conn, *id, store::millis(st.clock.now())).await
        }
        .await;
        if let Err(e) = revoked {
            return unavailable(&st.settings, e);
        }
    }
    (
        [(header::SET_COOKIE, access::session_clear_cookie())],
        Redirect::to("/login"),
    )
        .into_response()
}
