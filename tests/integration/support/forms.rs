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
        let Form {
            to,
            id,
            name,
            email,
            message,
        } = self;
        format!(
            "From: Acme Site <wordpress@acme.example.com>\r\n\
             To: {to}\r\n\
             Reply-To: {email}\r\n\
             Subject: Acme Site \"{subject}\"\r\n\
             Message-ID: <{id}@acme.example.com>\r\n\
             Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
             MIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=UTF-8\r\n\
             \r\n\
             From: {name} <{email}>\r\n\
             Subject: {subject}\r\n\
             \r\n\
             Message Body:\r\n\
             {message}\r\n\
             \r\n\
             -- \r\n\
             This e-mail was sent from a contact form on Acme Site (https://acme.example.com)\r\n"
        )
        .into_bytes()
    }

    /// Labelled fields, with a phone number.
    pub fn labelled(&self) -> Vec<u8> {
        let Form {
            to,
            id,
            name,
            email,
            message,
        } = self;
        format!(
            "From: Acme Site <wordpress@acme.example.com>\r\n\
             To: {to}\r\n\
             Subject: [Acme Site] New submission from Contact\r\n\
             Message-ID: <{id}@acme.example.com>\r\n\
             Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
             MIME-Version: 1.0\r\n\
             Content-Type: text/plain; charset=UTF-8\r\n\
             \r\n\
             Name: {name}\r\n\
             Email: {email}\r\n\
             Phone: +1 555 0100\r\n\
             Message: {message}\r\n\
             \r\n\
             --\r\n\
             This e-mail was sent from a contact form on Acme Site (https://acme.example.com)\r\n"
        )
        .into_bytes()
    }
}
