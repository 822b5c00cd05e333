//! Which desk a message of a shared mailbox is for (DESIGN.md "Desks"). One IMAP login can
//! feed several desks by recipient alias: the recipients are tried header by header in the
//! order of how far each is to be trusted — `Delivered-To` and `X-Original-To` (what the
//! receiving MTA wrote: the envelope) before `To` and `Cc` (what the sender wrote) — and
//! within a header in order. Replies to tracked addresses and BCCs to the log address go to
//! the desk whose relay domain they name; where several desks share a relay domain, the
//! tracked address's lead says (the caller looks its desk up).

use crate::token::{TokenKeys, TrackedAddressFormat};
use std::collections::HashMap;

/// The recipient headers a desk is recognised by, most trusted first.
pub const TRUST_ORDER: [&str; 4] = ["Delivered-To", "X-Original-To", "To", "Cc"];

/// What [`Directory::resolve`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// A desk (an index into the caller's list), and why (`Delivered-To info@a.example`).
    Desk { desk: usize, why: String },
    /// A tracked address of a relay domain several desks share: the lead's desk.
    Lead(i64),
    /// No recipient names a desk: the fallback desk.
    Fallback(usize),
    /// No recipient names a desk and there is no fallback.
    Nobody { why: String },
}

/// The desks' aliases and relay addresses, built once from the config.
#[derive(Clone, Debug, Default)]
pub struct Directory {
    aliases: HashMap<String, usize>,
    /// Per tracked-address format (its template and domain), the desks that use it.
    relays: Vec<(TrackedAddressFormat, String, Vec<usize>)>,
    fallback: Option<usize>,
}

impl Directory {
    pub fn new(fallback: Option<usize>) -> Self {
        Directory {
            fallback,
            ..Default::default()
        }
    }

    /// The desk that mail for no desk goes to.
    pub fn fallback(&self) -> Option<usize> {
        self.fallback
    }

    /// `address` (any case) is desk `desk`'s.
    pub fn alias(&mut self, address: &str, desk: usize) {
        self.aliases
            .insert(address.trim().to_ascii_lowercase(), desk);
    }

    /// Desk `desk` relays through `format`, and takes BCCs at `log_address`.
    pub fn relay(&mut self, format: &TrackedAddressFormat, log_address: &str, desk: usize) {
        let log = log_address.trim().to_ascii_lowercase();
        match self
            .relays
            .iter_mut()
            .find(|(f, l, _)| f == format && *l == log)
        {
            Some((_, _, desks)) => desks.push(desk),
            None => self.relays.push((format.clone(), log, vec![desk])),
        }
    }

    /// The desk of a message whose recipient headers are `headers` (name, addresses).
    pub fn resolve(&self, headers: &[(&str, Vec<String>)], keys: &TokenKeys) -> Claim {
        for name in TRUST_ORDER {
            for (_, addresses) in headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)) {
                for a in addresses {
                    let a = a.trim().trim_matches(['<', '>']).to_ascii_lowercase();
                    if let Some(desk) = self.aliases.get(&a) {
                        let why = format!("{name} {a}");
                        return Claim::Desk { desk: *desk, why };
                    }
                    if let Some(claim) = self.relayed(&a, name, keys) {
                        return claim;
                    }
                }
            }
        }
        match self.fallback {
            Some(desk) => Claim::Fallback(desk),
            None => Claim::Nobody {
                why: "no recipient is an address of a desk, and [desks] fallback is not set".into(),
            },
        }
    }

    fn relayed(&self, address: &str, header: &str, keys: &TokenKeys) -> Option<Claim> {
        for (format, log, desks) in &self.relays {
            let token = format.token_of(address);
            if token.is_none() && address != log {
                continue;
            }
            if let [only] = desks.as_slice() {
                let why = format!("{header} {address} (its relay address)");
                return Some(Claim::Desk { desk: *only, why });
            }
            // Shared by several desks: a tracked address names its lead; the log address
            // names none (the fallback desk takes it).
            if let Some(lead) = token.and_then(|t| keys.decode(t)) {
                return Some(Claim::Lead(lead));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::new(vec![b"a secret of sixteen+".to_vec()])
    }

    fn directory() -> Directory {
        let mut d = Directory::new(Some(0));
        d.alias("Info@Client-A.example", 1);
        d.alias("hello@client-b.example", 2);
        let own = TrackedAddressFormat::parse("reply+{token}@{domain}", "leads.client-b.example")
            .unwrap();
        d.relay(&own, "log@leads.client-b.example", 2);
        let shared =
            TrackedAddressFormat::parse("reply+{token}@{domain}", "leads.agency.example").unwrap();
        d.relay(&shared, "log@leads.agency.example", 0);
        d.relay(&shared, "log@leads.agency.example", 1);
        d
    }

    fn headers(list: &[(&'static str, &str)]) -> Vec<(&'static str, Vec<String>)> {
        list.iter()
            .map(|(n, a)| (*n, vec![a.to_string()]))
            .collect()
    }

    #[test]
    fn an_alias_is_matched_whatever_its_case() {
        let h = headers(&[("To", "INFO@client-a.EXAMPLE")]);
        assert!(matches!(
            directory().resolve(&h, &keys()),
            Claim::Desk { desk: 1, .. }
        ));
    }

    #[test]
    fn the_envelope_recipient_is_trusted_before_to_and_cc() {
        // Sent to client A's address with client B's in Cc, delivered for client B: B's.
        let h = headers(&[
            ("To", "info@client-a.example"),
            ("Cc", "someone@else.example"),
            ("Delivered-To", "hello@client-b.example"),
        ]);
        let Claim::Desk { desk, why } = directory().resolve(&h, &keys()) else {
            panic!("no desk")
        };
        assert_eq!(desk, 2);
        assert_eq!(why, "Delivered-To hello@client-b.example");
        let h = headers(&[
            ("Cc", "hello@client-b.example"),
            ("X-Original-To", "info@client-a.example"),
        ]);
        assert!(matches!(
            directory().resolve(&h, &keys()),
            Claim::Desk { desk: 1, .. }
        ));
    }

    #[test]
    fn a_desks_own_relay_domain_names_the_desk() {
        let h = headers(&[("To", "reply+anything@leads.client-b.example")]);
        assert!(matches!(
            directory().resolve(&h, &keys()),
            Claim::Desk { desk: 2, .. }
        ));
        let h = headers(&[("Cc", "log@leads.client-b.example")]);
        assert!(matches!(
            directory().resolve(&h, &keys()),
            Claim::Desk { desk: 2, .. }
        ));
    }

    #[test]
    fn a_shared_relay_domain_names_the_lead_and_only_a_genuine_token_counts() {
        let token = keys().encode(42);
        let h = headers(&[("To", &format!("reply+{token}@leads.agency.example"))]);
        assert_eq!(directory().resolve(&h, &keys()), Claim::Lead(42));
        // A forged token is no claim: the fallback desk takes the message.
        let h = headers(&[("To", "reply+forged@leads.agency.example")]);
        assert_eq!(directory().resolve(&h, &keys()), Claim::Fallback(0));
    }

    #[test]
    fn mail_for_no_desk_goes_to_the_fallback_or_nowhere() {
        let h = headers(&[("To", "stranger@elsewhere.example")]);
        assert_eq!(directory().resolve(&h, &keys()), Claim::Fallback(0));
        let mut d = directory();
        d.fallback = None;
        assert!(matches!(d.resolve(&h, &keys()), Claim::Nobody { .. }));
    }
}
