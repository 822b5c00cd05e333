//! The emails leadgate writes, as plain data ([`Draft`]); rendering to MIME happens in
//! the outbox. Everything here is pure: the caller passes the lead, the settings, `now`.

use serde::{Deserialize, Serialize};

/// An email leadgate decided to send. Addresses here are already validated.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub from_name: Option<String>,
    pub from: String,
    pub to: Vec<String>,
    pub reply_to: Option<String>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// `Auto-Submitted: auto-generated` on reminders and digests (RFC 3834).
    pub auto_submitted: bool,
    /// What this mail is, for the history and the logs: `assignment`, `reminder`, `relay`, ...
    pub purpose: String,
}
