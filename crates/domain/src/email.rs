//! Email addresses valid by construction: nothing that reaches a header or an SMTP
//! envelope is a raw string from a message or a form.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct EmailAddress(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{input:?} is not an email address: {why}")]
pub struct InvalidEmail {
    pub input: String,
    pub why: &'static str,
}

impl EmailAddress {
    /// Accepts `local@domain` with a dotted or bracketed domain; refuses anything that could
    /// smuggle a header, a second recipient or a route (whitespace, controls, `<>,;:"()[]\`).
    pub fn parse(input: &str) -> Result<Self, InvalidEmail> {
        let bad = |why| InvalidEmail {
            input: input.chars().take(200).collect(),
            why,
        };
        let s = input.trim();
        if s.is_empty() {
            return Err(bad("it is empty"));
        }
        if s.len() > 254 {
            return Err(bad("it is longer than 254 characters"));
        }
        if s.chars()
            .any(|c| c.is_control() || c.is_whitespace() || "<>,;:\"()[]\\".contains(c))
        {
            return Err(bad("it contains a space, a control or a special character"));
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(|| bad("it has no @"))?;
        if local.is_empty() || local.len() > 64 || local.contains('@') {
            return Err(bad("the part before @ is empty, too long or has another @"));
        }
        if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
            return Err(bad("the part before @ has a misplaced dot"));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2
            || labels.iter().any(|l| {
                l.is_empty()
                    || l.len() > 63
                    || l.starts_with('-')
                    || l.ends_with('-')
                    || !l.chars().all(|c| c.is_alphanumeric() || c == '-')
            })
        {
            return Err(bad("the domain is not a dotted host name"));
        }
        Ok(EmailAddress(format!("{local}@{}", domain.to_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form that identifies a person: lowercase. Opt-outs and repeat submissions key on it.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or("")
    }

    pub fn local_part(&self) -> &str {
        self.0.rsplit_once('@').map(|(l, _)| l).unwrap_or("")
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses_and_lowercases_the_domain() {
        let a = EmailAddress::parse(" Jane.Doe+x@Example.NET ").unwrap();
        assert_eq!(a.as_str(), "Jane.Doe+x@example.net");
        assert_eq!(a.normalized(), "jane.doe+x@example.net");
        assert_eq!(a.domain(), "example.net");
    }

    #[test]
    fn refuses_header_injection_and_lists() {
        for bad in [
            "a@b.com\r\nBcc: x@y.com",
            "a@b.com, c@d.com",
            "<a@b.com>",
            "a b@c.com",
            "nodomain@",
            "@nolocal.com",
            "a@localhost",
            "a@-x.com",
            "",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
