//! Web-form notifications as the suites send them to the shared inbox, in the two shapes
//! WordPress sites mail most: Contact Form 7's default mail (the visitor as `From:` and
//! `Subject:` lines above "Message Body:") and labelled fields (`Name:`, `Email:`, as
//! Elementor and WPForms write them). One builder, so the suites' mail differs only in
//! what each test is about.

/// A notification to `to`; `id` makes its Message-ID unique (tests share one Dovecot).
pub struct Form<'a> {
    pub to: &'a str,
    pub id: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub message: &'a str,
}

impl Form<'_> {
    /// Contact Form 7: the visitor's `subject` in the mail's subject and body, their
    /// address in `Reply-To:`.
    pub fn cf7(&self, subject: &str) -> Vec<u8> {
        let (name, email, message) = (self.name, self.email, self.message);
        self.mail(
            &format!("Reply-To: {email}\r\nSubject: Acme Site \"{subject}\""),
            &format!(
                "From: {name} <{email}>\r\nSubject: {subject}\r\n\r\nMessage Body:\r\n{message}\r\n\r\n-- "
            ),
        )
    }

    /// Labelled fields, with a phone number.
    pub fn labelled(&self) -> Vec<u8> {
        let (name, email, message) = (self.name, self.email, self.message);
        self.mail(
            "Subject: [Acme Site] New submission from Contact",
            &format!(
                "Name: {name}\r\nEmail: {email}\r\nPhone: +1 555 0100\r\nMessage: {message}\r\n\r\n--"
            ),
        )
    }

    /// The site's mail: `heads` after `To:`, then `body` and the site's signature line.
    fn mail(&self, heads: &str, body: &str) -> Vec<u8> {
        format!(
            "From: Acme Site <wordpress@acme.example.com>\r\n\
             To: {to}\r\n\
             {heads}\r\n\
             Message-ID: <{id}@acme.example.com>\r\n\
             Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
             MIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=UTF-8\r\n\
             \r\n\
             {body}\r\n\
             This e-mail was sent from a contact form on Acme Site (https://acme.example.com)\r\n",
            to = self.to,
            id = self.id,
        )
        .into_bytes()
    }
}
