//! A desk's identity on its mail (`[identity]`): the signature and the legal footer every
//! email of the desk ends with, text and HTML alike. Applied once, when an email is queued:
//! the outbox keeps the rendered bytes, so a retry sends them as they are, never dressed
//! twice.

use crate::notify::{Draft, Purpose};

/// What a desk adds to its mail.
#[derive(Clone, Copy, Debug, Default)]
pub struct Identity<'a> {
    /// `{owner}` is the name of the person the mail speaks for: the team member whose words
    /// a relayed mail carries, else the desk's own name.
    pub signature: Option<&'a str>,
    pub footer: Option<&'a str>,
    /// The name `{owner}` stands for when no team member speaks.
    pub desk_name: &'a str,
}

impl Identity<'_> {
    pub fn is_empty(&self) -> bool {
        self.signature.is_none() && self.footer.is_none()
    }

    /// `draft` as it goes out: itself when the desk adds nothing, else [`Self::dress`]ed.
    pub fn dressed<'d>(&self, draft: &'d Draft) -> std::borrow::Cow<'d, Draft> {
        match self.is_empty() {
            true => std::borrow::Cow::Borrowed(draft),
            false => std::borrow::Cow::Owned(self.dress(draft)),
        }
    }

    /// `draft` with the signature and footer at the end of its text and HTML.
    pub fn dress(&self, draft: &Draft) -> Draft {
        let mut d = draft.clone();
        let owner = match (draft.purpose, draft.from_name.as_deref()) {
            (Purpose::RelayToLead, Some(member)) => member,
            _ => self.desk_name,
        };
        let lines: Vec<String> = [self.signature.map(|s| s.replace("{owner}", owner))]
            .into_iter()
            .flatten()
            .chain(self.footer.map(str::to_owned))
            .collect();
        if lines.is_empty() {
            return d;
        }
        let tail = lines.join("\n\n");
        d.text = format!("{}\n\n{tail}\n", d.text.trim_end());
        if let Some(html) = &d.html {
            let block: String = lines
                .iter()
                .map(|l| {
                    format!(
                        "<p style=\"color:#52606d;font-size:12px\">{}</p>",
                        minijinja::HtmlEscape(l).to_string().replace('\n', "<br>")
                    )
                })
                .collect();
            d.html = Some(match html.rfind("</body>") {
                Some(at) => format!("{}{block}{}", &html[..at], &html[at..]),
                None => format!("{html}{block}"),
            });
        }
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(purpose: Purpose, html: Option<&str>) -> Draft {
        Draft {
            from_name: Some("Alice Smith".into()),
            text: "Hello\n".into(),
            html: html.map(str::to_owned),
            purpose,
            ..Default::default()
        }
    }

    fn identity() -> Identity<'static> {
        Identity {
            signature: Some("{owner}\nClient A <Roofing>"),
            footer: Some("Client A Ltd, registered in Cardiff"),
            desk_name: "Client A",
        }
    }

    #[test]
    fn a_relayed_mail_is_signed_by_the_member_and_ends_with_the_footer() {
        let d = identity().dress(&draft(
            Purpose::RelayToLead,
            Some("<html><body><p>Hello</p></body></html>"),
        ));
        assert_eq!(
            d.text,
            "Hello\n\nAlice Smith\nClient A <Roofing>\n\nClient A Ltd, registered in Cardiff\n"
        );
        let html = d.html.unwrap();
        assert!(
            html.contains("Alice Smith<br>Client A &lt;Roofing&gt;"),
            "{html}"
        );
        assert!(
            html.ends_with("</p></body></html>"),
            "inside the body: {html}"
        );
    }

    #[test]
    fn leadgates_own_mail_is_signed_with_the_desks_name() {
        let d = identity().dress(&draft(Purpose::Assignment, None));
        assert!(
            d.text.contains("\n\nClient A\nClient A <Roofing>\n"),
            "{}",
            d.text
        );
        assert_eq!(d.html, None);
    }

    #[test]
    fn no_identity_changes_nothing() {
        let none = Identity {
            desk_name: "x",
            ..Default::default()
        };
        assert!(none.is_empty());
        let d = draft(Purpose::Digest, Some("<p>x</p>"));
        assert_eq!(none.dress(&d), d);
    }
}
