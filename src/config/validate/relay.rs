//! `[relay]`: tracked addresses (their domain, format and signing secrets), the log
//! address, and what relayed mail may carry and how often.

use super::check::Check;
use crate::config::raw::RawRelay;
use crate::config::{FromMode, RelaySettings};
use crate::domain::token::{TokenKeys, TrackedAddressFormat};

/// None when the secret, the address format or the log address is unusable (each is a
/// problem already).
pub(super) fn validate(c: &mut Check, r: &RawRelay) -> Option<RelaySettings> {
    let domain = c.required(
        "relay.domain",
        &r.domain,
        "set the domain whose mail reaches leadgate's inbox, e.g. \"leads.example.com\"",
    );
    let secret = c.secret("relay.secret", &r.secret, &r.secret_file);
    match &secret {
        None => c.add("relay.secret", "is missing", "set relay.secret (or relay.secret_file, or LEADGATE__RELAY__SECRET) to 32+ random characters: openssl rand -hex 32"),
        Some(s) if s.len() < 16 => c.add("relay.secret", "is shorter than 16 characters", "use 32+ random characters: openssl rand -hex 32"),
        _ => {}
    }
    let address = TrackedAddressFormat::parse(
        r.address.as_deref().unwrap_or("reply+{token}@{domain}"),
        &domain,
    )
    .map_err(|why| {
        c.add(
            "relay.address",
            why,
            "write a format like \"reply+{token}@{domain}\"",
        )
    })
    .ok();
    let log = r
        .log_address
        .as_deref()
        .unwrap_or("log@{domain}")
        .replace("{domain}", &domain);
    let log_address = c.email("relay.log_address", &log);
    let from_mode = match r.from_mode.as_deref().map(str::trim) {
        None | Some("member") => FromMode::Member,
        Some("team") => FromMode::Team,
        Some(other) => {
            c.add(
                "relay.from_mode",
                format!("{other:?} is not a from mode"),
                "write \"member\" (the team member's name) or \"team\" (the team's name)",
            );
            FromMode::Member
        }
    };
    let rate_cap = match r.rate_cap.as_deref() {
        None => crate::domain::ratecap::RateCap::default(),
        Some(s) => crate::domain::ratecap::RateCap::parse(s).unwrap_or_else(|why| {
            c.add(
                "relay.rate_cap",
                why,
                "write a count per window, e.g. \"20/2h\"",
            );
            crate::domain::ratecap::RateCap::default()
        }),
    };
    if r.optout_phrases.iter().any(|p| p.trim().is_empty()) {
        c.add(
            "relay.optout_phrases",
            "has an empty phrase",
            "remove the empty string from the list",
        );
    }
    let optout = crate::domain::optout::OptOutDetector::with_extra(&r.optout_phrases);
    let authserv_id = r
        .authserv_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_ascii_lowercase);
    let mut secrets = vec![secret?.into_bytes()];
    secrets.extend(r.previous_secrets.iter().map(|s| s.clone().into_bytes()));
    Some(RelaySettings {
        from_mode,
        optout,
        rate_cap,
        authserv_id,
        domain,
        keys: TokenKeys::new(secrets),
        address: address?,
        log_address: log_address?,
        require_authenticated_sender: r.require_authenticated_sender.unwrap_or(false),
    })
}
