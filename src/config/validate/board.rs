//! `[board]`: how people log in to the board (`magic_link` or `proxy`), and how long
//! links and sessions last. Proxy login without `trusted_proxies` is refused: anyone who
//! can reach the port could otherwise name themselves in the header.

use super::check::Check;
use crate::config::raw::RawBoard;
use crate::config::{BoardLogin, BoardSettings, HttpSettings};
use jiff::SignedDuration;

/// The header oauth2-proxy and most authenticating proxies set.
const DEFAULT_PROXY_HEADER: &str = "X-Forwarded-Email";

pub(super) fn validate(c: &mut Check, b: Option<&RawBoard>, http: &HttpSettings) -> BoardSettings {
    let Some(b) = b else {
        return BoardSettings::default();
    };
    let positive = |c: &mut Check, key: &str, v: &Option<String>, default: &str| {
        let d = c.duration(key, v, default);
        if d < SignedDuration::from_secs(1) {
            c.add(
                key,
                "is under a second",
                format!("write how long it lasts, e.g. \"{default}\" (the default)"),
            );
        }
        d
    };
    let link_valid = positive(c, "board.link_valid", &b.link_valid, "20m");
    let session = positive(c, "board.session", &b.session, "30d");
    let view_links = positive(c, "board.view_links", &b.view_links, "7d");
    let login = match b.login.as_deref().map(str::trim).unwrap_or("magic_link") {
        "magic_link" => {
            if http.public_url.is_none() {
                c.add(
                    "http.public_url",
                    "is missing, and the board's magic links need it (they are mailed, so they must be absolute)",
                    "write the board's public address, e.g. \"https://leads.example.com\", or set [board] login = \"proxy\"",
                );
            }
            BoardLogin::MagicLink
        }
        "proxy" => proxy(c, b),
        other => {
            c.add(
                "board.login",
                format!("{other:?} is not a login method"),
                "write \"magic_link\" (a link mailed to the person) or \"proxy\" (a reverse proxy authenticates)",
            );
            BoardLogin::MagicLink
        }
    };
    BoardSettings {
        login,
        link_valid,
        session,
        view_links,
    }
}

fn proxy(c: &mut Check, b: &RawBoard) -> BoardLogin {
    let header = b
        .proxy_header
        .as_deref()
        .map(str::trim)
        .unwrap_or(DEFAULT_PROXY_HEADER)
        .to_owned();
    if axum::http::HeaderName::from_bytes(header.as_bytes()).is_err() {
        c.add(
            "board.proxy_header",
            format!("{header:?} is not a header name"),
            format!("write the header your proxy sets with the person's email, e.g. \"{DEFAULT_PROXY_HEADER}\""),
        );
    }
    let written = b.trusted_proxies.to_vec();
    if written.is_empty() {
        c.add(
            "board.trusted_proxies",
            "is missing, and login = \"proxy\" needs it: without it anyone who reaches the port could name themselves in the header",
            "list the addresses your reverse proxy connects from, as CIDRs, e.g. trusted_proxies = [\"127.0.0.1/32\", \"::1/128\"]",
        );
    }
    let mut trusted = Vec::new();
    for (i, net) in written.iter().enumerate() {
        let net = net.trim();
        let parsed = net
            .parse::<ipnet::IpNet>()
            .or_else(|_| net.parse::<std::net::IpAddr>().map(ipnet::IpNet::from));
        match parsed {
            Ok(n) => trusted.push(n),
            Err(_) => c.add(
                format!("board.trusted_proxies[{i}]"),
                format!("{net:?} is not an address or a CIDR"),
                "write an address range like \"10.0.0.0/8\" or an address like \"127.0.0.1\"",
            ),
        }
    }
    BoardLogin::Proxy { header, trusted }
}
