//! Opt-outs: recorded once per address; every open lead of the address closes.

use super::{OpError, Outcome};
use crate::config::Settings;
use crate::domain::email::EmailAddress;
use crate::domain::lead::{ActivityKind, LeadStatus};
use crate::store::leads::{self, Lead};
use crate::store::{self, state, Tx};
use jiff::Timestamp;

/// The lead's normalised address, as opt-outs are keyed.
pub(super) fn address_of(row: &Lead) -> Option<String> {
    row.email.as_ref().map(EmailAddress::normalized)
}

/// The address `email_norm` asked not to be contacted (`how`: the phrase, the
/// List-Unsubscribe mailto, the HTTP endpoint, `/optout`): recorded once for the address,
/// and every open lead of it becomes opted out, with history.
pub async fn opt_out(
    tx: &mut Tx<'_>,
    s: &Settings,
    email_norm: &str,
    how: &str,
    actor: &str,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    let email_norm = email_norm.trim().to_lowercase();
    if email_norm.is_empty() {
        return Err(OpError::NotAllowed("no address to opt out".into()));
    }
    let now_ms = store::millis(now);
    let new = state::add_opt_out(tx, &s.desk.id, &email_norm, how, now_ms).await?;
    // Under a global scope the address's open leads on every desk close; else this desk's.
    let open = leads::open_leads_of(tx, s.optout_scope(), &email_norm).await?;
    for row in &open {
        let from = row.status;
        leads::set_status(tx, row.id, LeadStatus::OptedOut, now_ms).await?;
        tx.record(store::NewActivity::new(
            row.id,
            now_ms,
            actor,
            ActivityKind::OptedOut,
            format!("{} → opted_out: {how}", from.as_str()),
        ));
    }
    let ids: Vec<String> = open.iter().map(|r| format!("#{}", r.id)).collect();
    Ok(Outcome {
        queued_mail: false,
        summary: format!(
            "{email_norm} {}{}",
            if new {
                "opted out"
            } else {
                "was already opted out"
            },
            if ids.is_empty() {
                String::new()
            } else {
                format!("; lead {} now opted_out", ids.join(", "))
            }
        ),
    })
}
