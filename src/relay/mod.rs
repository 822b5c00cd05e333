//! Tracked-address traffic: verify the sender → quick actions → trim → rewrite → outbox.
//! Also BCC logging, replies that lost the tracked address, bounces of relayed mail and
//! auto-replies (recorded, never answered).

pub mod auth;
pub mod compose;
pub mod signals;

use crate::config::Settings;
use crate::pipeline::{Handled, Incoming};
use crate::store::Conn;

/// Handles relay, bcc_log, reply, bounce and auto_reply messages inside the message's
/// transaction. Not written yet: such messages are stored with their class only.
pub async fn handle(
    _tx: &mut Conn,
    _settings: &Settings,
    _msg: &Incoming<'_>,
    _now: jiff::Timestamp,
) -> anyhow::Result<Handled> {
    Ok(Handled::default())
}
