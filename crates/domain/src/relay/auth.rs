//! `require_authenticated_sender`: does an `Authentication-Results` header (RFC 8601) show
//! that the From domain was verified? Pure: reads the view's headers only.
//!
//! A pass counts when it is DMARC for the From domain, or DKIM or SPF for a domain aligned
//! with it (equal, or one a subdomain of the other). Anyone can write such a header, so
//! when `authserv_id` is set only headers stamped by that server are read.

use crate::message::MessageView;

/// Whether `view` carries a verified pass for `from_domain`.
pub fn sender_authenticated(
    view: &MessageView,
    from_domain: &str,
    authserv_id: Option<&str>,
) -> bool {
    let from_domain = from_domain.trim().to_ascii_lowercase();
    view.headers_named("Authentication-Results").any(|value| {
        let mut parts = value.split(';');
        let server = parts
            .next()
            .unwrap_or("")
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        if authserv_id.is_some_and(|id| !id.eq_ignore_ascii_case(&server)) {
            return false;
        }
        parts.any(|result| passes(result, &from_domain))
    })
}

/// One `method=result prop=value ...` clause.
fn passes(clause: &str, from_domain: &str) -> bool {
    let clause = strip_comments(clause);
    let mut words = clause.split_whitespace();
    let Some((method, result)) = words.next().and_then(|w| w.split_once('=')) else {
        return false;
    };
    if !result.eq_ignore_ascii_case("pass") {
        return false;
    }
    let props: Vec<(String, String)> = words
        .filter_map(|w| w.split_once('='))
        .map(|(k, v)| {
            (
                k.to_ascii_lowercase(),
                v.trim_matches('"').to_ascii_lowercase(),
            )
        })
        .collect();
    let prop = |name: &str| {
        props
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let domain_of = |v: &str| v.rsplit('@').next().unwrap_or(v).to_string();
    match method.to_ascii_lowercase().as_str() {
        // DMARC's pass is about the From domain by definition; header.from names it.
        "dmarc" => prop("header.from").is_none_or(|d| aligned(&domain_of(d), from_domain)),
        "dkim" => prop("header.d")
            .or(prop("header.i"))
            .is_some_and(|d| aligned(&domain_of(d), from_domain)),
        "spf" => prop("smtp.mailfrom")
            .or(prop("smtp.helo"))
            .is_some_and(|d| aligned(&domain_of(d), from_domain)),
        _ => false,
    }
}

fn aligned(a: &str, b: &str) -> bool {
    !a.is_empty() && (a == b || a.ends_with(&format!(".{b}")) || b.ends_with(&format!(".{a}")))
}

fn strip_comments(s: &str) -> String {
    let mut depth = 0usize;
    s.chars()
        .filter(|c| match c {
            '(' => {
                depth += 1;
                false
            }
            ')' => {
                depth = depth.saturating_sub(1);
                false
            }
            _ => depth == 0,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(results: &[&str]) -> MessageView {
        MessageView {
            headers: results
                .iter()
                .map(|r| ("Authentication-Results".to_string(), r.to_string()))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn dmarc_dkim_or_spf_pass_for_the_from_domain() {
        for h in [
            "mx.team.test; dmarc=pass (p=none) header.from=team.test",
            "mx.team.test; dkim=pass header.d=team.test header.s=s1; spf=fail",
            "mx.team.test; spf=pass smtp.mailfrom=alice@mail.team.test",
            "mx.team.test;\r\n dkim=pass (2048-bit key) header.i=@team.test",
        ] {
            assert!(sender_authenticated(&view(&[h]), "team.test", None), "{h}");
        }
    }

    #[test]
    fn fails_other_domains_and_other_results() {
        for h in [
            "mx.team.test; dmarc=fail header.from=team.test",
            "mx.team.test; dkim=pass header.d=evil.test",
            "mx.team.test; spf=softfail smtp.mailfrom=team.test",
            "mx.team.test; none",
            "mx.team.test; dkim=pass",
            "mx.team.test; dmarc=pass header.from=evilteam.test",
            "mx.team.test; arc=pass",
        ] {
            assert!(!sender_authenticated(&view(&[h]), "team.test", None), "{h}");
        }
        assert!(!sender_authenticated(&view(&[]), "team.test", None));
    }

    #[test]
    fn only_our_server_is_believed_when_named() {
        let forged = view(&["evil.example; dmarc=pass header.from=team.test"]);
        assert!(!sender_authenticated(
            &forged,
            "team.test",
            Some("mx.team.test")
        ));
        let ours = view(&["MX.team.test 1; dmarc=pass header.from=team.test"]);
        assert!(sender_authenticated(
            &ours,
            "team.test",
            Some("mx.team.test")
        ));
    }
}
