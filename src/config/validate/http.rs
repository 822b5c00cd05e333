//! `[http]`: where the health, metrics and unsubscribe endpoint listens, and its public URL.

use super::check::Check;
use crate::config::raw::RawHttp;
use crate::config::HttpSettings;

pub(super) fn validate(c: &mut Check, h: &RawHttp) -> HttpSettings {
    HttpSettings {
        listen: h.listen.as_deref().and_then(|l| {
            l.parse()
                .map_err(|_| {
                    c.add(
                        "http.listen",
                        format!("{l:?} is not an address"),
                        "write an address and port like \"127.0.0.1:8025\"",
                    )
                })
                .ok()
        }),
        public_url: h.public_url.clone(),
    }
}
