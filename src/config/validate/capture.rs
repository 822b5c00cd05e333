//! `[capture]`: what becomes of a triage item.

use super::check::Check;
use crate::config::raw::RawCapture;
use crate::config::{CaptureSettings, TriageMode};

pub(super) fn validate(c: &mut Check, raw: &RawCapture) -> CaptureSettings {
    let triage = match raw.triage.as_deref().map(str::trim) {
        None | Some("owner") => TriageMode::Owner,
        Some("digest") => TriageMode::Digest,
        Some("off") => TriageMode::Off,
        Some(other) => {
            c.add(
                "capture.triage",
                format!("is {other:?}, which is not a triage mode"),
                "use \"owner\" (routed to an owner), \"digest\" (listed in the digest, no owner) or \"off\" (stored as other)",
            );
            TriageMode::Owner
        }
    };
    CaptureSettings { triage }
}
