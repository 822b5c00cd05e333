//! Tracked addresses: `reply+<token>@<relay domain>`, where the token carries the lead id
//! and a MAC over it. The token routes a reply to its lead; it does not authenticate the
//! sender (the relay checks the sender against the team and the lead).

use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Bytes of HMAC-SHA256 kept in a token: 80 bits, far beyond guessing by mail.
const MAC_LEN: usize = 10;

/// Signs and verifies tokens. The first secret signs; every secret verifies, so a rotated
/// secret keeps old addresses working for a grace period.
#[derive(Clone)]
pub struct TokenKeys {
    secrets: Vec<Vec<u8>>,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenKeys({} secrets)", self.secrets.len())
    }
}

impl TokenKeys {
    /// `secrets[0]` signs new tokens. Panics on no secrets: config validation guarantees one.
    pub fn new(secrets: Vec<Vec<u8>>) -> Self {
        assert!(!secrets.is_empty(), "TokenKeys needs at least one secret");
        TokenKeys { secrets }
    }

    /// Lowercase base32 of the lead id (big-endian, leading zero bytes dropped) and the MAC.
    pub fn encode(&self, lead_id: i64) -> String {
        let id_bytes = id_to_bytes(lead_id);
        let mut payload = id_bytes.clone();
        payload.extend_from_slice(&mac(&self.secrets[0], &id_bytes)[..MAC_LEN]);
        BASE32_NOPAD.encode(&payload).to_ascii_lowercase()
    }

    /// The lead id, if the token was made with one of our secrets.
    pub fn decode(&self, token: &str) -> Option<i64> {
        let bytes = BASE32_NOPAD
            .decode(token.trim().to_ascii_uppercase().as_bytes())
            .ok()?;
        if bytes.len() <= MAC_LEN || bytes.len() > MAC_LEN + 8 {
            return None;
        }
        let (id_bytes, tag) = bytes.split_at(bytes.len() - MAC_LEN);
        let valid = self.secrets.iter().any(|secret| {
            let mut m = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key");
            m.update(b"leadgate-lead:");
            m.update(id_bytes);
            m.verify_truncated_left(tag).is_ok()
        });
        if !valid || id_bytes.first() == Some(&0) {
            return None;
        }
        let mut buf = [0u8; 8];
        buf[8 - id_bytes.len()..].copy_from_slice(id_bytes);
        let id = i64::from_be_bytes(buf);
        (id > 0).then_some(id)
    }
}

/// Bytes of HMAC-SHA256 in a signed link ([`TokenKeys::sign`]): 128 bits, for URLs that
/// are pasted and forwarded rather than typed.
const LINK_MAC_LEN: usize = 16;

impl TokenKeys {
    /// `payload` and a MAC over it, lowercase base32: a link that proves it was made with
    /// our secret. `purpose` (e.g. `board-view`) keeps the MACs of different uses apart, so
    /// a tracked-address token is never a valid link and the other way round.
    pub fn sign(&self, purpose: &str, payload: &str) -> String {
        let mut bytes = payload.as_bytes().to_vec();
        bytes.extend_from_slice(&link_mac(&self.secrets[0], purpose, payload.as_bytes()));
        BASE32_NOPAD.encode(&bytes).to_ascii_lowercase()
    }

    /// The payload of a link made by [`TokenKeys::sign`] with one of our secrets and the
    /// same `purpose`.
    pub fn verify(&self, purpose: &str, token: &str) -> Option<String> {
        let bytes = BASE32_NOPAD
            .decode(token.trim().to_ascii_uppercase().as_bytes())
            .ok()?;
        if bytes.len() <= LINK_MAC_LEN {
            return None;
        }
        let (payload, tag) = bytes.split_at(bytes.len() - LINK_MAC_LEN);
        let valid = self.secrets.iter().any(|secret| {
            let mut m = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key");
            m.update(b"leadgate-");
            m.update(purpose.as_bytes());
            m.update(b":");
            m.update(payload);
            m.verify_truncated_left(tag).is_ok()
        });
        valid.then(|| String::from_utf8(payload.to_vec()).ok())?
    }
}

fn link_mac(secret: &[u8], purpose: &str, payload: &[u8]) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key");
    m.update(b"leadgate-");
    m.update(purpose.as_bytes());
    m.update(b":");
    m.update(payload);
    m.finalize().into_bytes()[..LINK_MAC_LEN].to_vec()
}

fn id_to_bytes(id: i64) -> Vec<u8> {
    let be = id.to_be_bytes();
    let first = be.iter().position(|b| *b != 0).unwrap_or(7);
    be[first..].to_vec()
}

fn mac(secret: &[u8], id_bytes: &[u8]) -> Vec<u8> {
    let mut m = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key");
    m.update(b"leadgate-lead:");
    m.update(id_bytes);
    m.finalize().into_bytes().to_vec()
}

/// The configured shape of tracked addresses, e.g. `reply+{token}@{domain}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrackedAddressFormat {
    prefix: String,
    suffix: String,
    domain: String,
}

impl TrackedAddressFormat {
    /// `template` must have `{token}` in its local part; `{domain}` is replaced by `domain`.
    pub fn parse(template: &str, domain: &str) -> Result<Self, String> {
        let full = template.replace("{domain}", domain);
        let (local, dom) = full
            .rsplit_once('@')
            .ok_or_else(|| format!("{template:?} has no @"))?;
        let (prefix, suffix) = local
            .split_once("{token}")
            .ok_or_else(|| format!("{template:?} has no {{token}} before the @"))?;
        if dom.contains('{') || suffix.contains("{token}") {
            return Err(format!(
                "{template:?} may name {{token}} once, in the local part"
            ));
        }
        Ok(TrackedAddressFormat {
            prefix: prefix.to_ascii_lowercase(),
            suffix: suffix.to_ascii_lowercase(),
            domain: dom.to_ascii_lowercase(),
        })
    }

    pub fn address(&self, token: &str) -> String {
        format!("{}{}{}@{}", self.prefix, token, self.suffix, self.domain)
    }

    /// The token of an address in this format (case-insensitive), or None.
    pub fn token_of<'a>(&self, address: &'a str) -> Option<&'a str> {
        let (local, dom) = address.trim().rsplit_once('@')?;
        if !dom.eq_ignore_ascii_case(&self.domain)
            || local.len() < self.prefix.len() + self.suffix.len()
        {
            return None;
        }
        let (head, rest) = local.split_at(self.prefix.len());
        let (token, tail) = rest.split_at(rest.len() - self.suffix.len());
        (head.eq_ignore_ascii_case(&self.prefix)
            && tail.eq_ignore_ascii_case(&self.suffix)
            && !token.is_empty())
        .then_some(token)
    }

    pub fn domain(&self) -> &str {
        &self.domain
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(vec![b"first secret".to_vec()])
    }

    #[test]
    fn signed_links_verify_only_with_our_secret_and_their_purpose() {
        let t = keys().sign("board-view", "p:alice:1767225600000");
        assert_eq!(
            keys().verify("board-view", &t).as_deref(),
            Some("p:alice:1767225600000")
        );
        assert_eq!(keys().verify("board-other", &t), None);
        let other = TokenKeys::new(vec![b"another secret".to_vec()]);
        assert_eq!(other.verify("board-view", &t), None);
        let rotated = TokenKeys::new(vec![b"new".to_vec(), b"first secret".to_vec()]);
        assert!(rotated.verify("board-view", &t).is_some());
        let mut forged = t.clone();
        forged.replace_range(0..1, if t.starts_with('a') { "b" } else { "a" });
        assert_eq!(keys().verify("board-view", &forged), None);
        // A tracked-address token is not a link, whatever its bytes.
        assert_eq!(keys().verify("lead", &keys().encode(42)), None);
    }

    #[test]
    fn round_trips_ids_of_every_size() {
        for id in [1, 42, 255, 256, 70_000, i64::MAX] {
            let t = keys().encode(id);
            assert!(
                t.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
                "{t}"
            );
            assert_eq!(keys().decode(&t), Some(id));
            assert_eq!(
                keys().decode(&t.to_uppercase()),
                Some(id),
                "case-insensitive"
            );
        }
    }

    #[test]
    fn refuses_forged_and_altered_tokens() {
        let t = keys().encode(7);
        let other = TokenKeys::new(vec![b"other secret".to_vec()]);
        assert_eq!(other.decode(&t), None, "another secret's token");
        let mut flipped: Vec<char> = t.chars().collect();
        flipped[0] = if flipped[0] == 'a' { 'b' } else { 'a' };
        assert_eq!(
            keys().decode(&flipped.into_iter().collect::<String>()),
            None
        );
        // A valid MAC for lead 7 must not open lead 8.
        assert_ne!(keys().decode(&keys().encode(8)), Some(7));
        for junk in ["", "abc", "reply", "0000000000000000000000", "éé"] {
            assert_eq!(keys().decode(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn rotated_secret_still_verifies_old_tokens() {
        let old = TokenKeys::new(vec![b"old".to_vec()]).encode(5);
        let rotated = TokenKeys::new(vec![b"new".to_vec(), b"old".to_vec()]);
        assert_eq!(rotated.decode(&old), Some(5));
        assert_ne!(rotated.encode(5), old, "new tokens use the new secret");
    }

    #[test]
    fn address_format_builds_and_reads_addresses() {
        let f = TrackedAddressFormat::parse("reply+{token}@{domain}", "Leads.Test").unwrap();
        assert_eq!(f.address("abc"), "reply+abc@leads.test");
        assert_eq!(f.token_of("Reply+ABC@leads.TEST"), Some("ABC"));
        assert_eq!(f.token_of("reply+@leads.test"), None);
        assert_eq!(f.token_of("reply+abc@other.test"), None);
        assert_eq!(f.token_of("inbox@leads.test"), None);
        let bare = TrackedAddressFormat::parse("{token}@reply.example.com", "x").unwrap();
        assert_eq!(bare.token_of("abc@reply.example.com"), Some("abc"));
        assert!(TrackedAddressFormat::parse("reply@{domain}", "x").is_err());
    }
}
