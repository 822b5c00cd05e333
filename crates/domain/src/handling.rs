//! What a handler of one stored message (capture, the relay) is given and gives back, inside
//! the message's transaction.

use super::classify::Classification;
use super::message::MessageView;

/// One stored message as a handler sees it, inside the message's transaction.
pub struct Incoming<'a> {
    /// The `messages` row just written for it.
    pub row: i64,
    pub raw: &'a [u8],
    pub view: &'a MessageView,
    pub classification: &'a Classification,
}

/// What a handler did with a message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Handled {
    /// The lead the message belongs to, if any (the message row is linked to it).
    pub lead: Option<i64>,
    /// Whether outbox rows were written (the sender is then woken after commit).
    pub queued_mail: bool,
}
