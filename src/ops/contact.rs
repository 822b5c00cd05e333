//! Correcting the contact (`/name`, `/email`, `/phone`, `/company`), with the old value
//! in the history.

use super::{load, OpError, Outcome};
use crate::config::Settings;
use crate::domain::actions::ContactField;
use crate::domain::email::EmailAddress;
use crate::domain::lead::ActivityKind;
use crate::store::leads;
use crate::store::{self, Tx};
use jiff::Timestamp;

/// `/name`, `/email`, `/phone`, `/company`: corrects the contact, recorded with the old value.
pub async fn set_contact(
    tx: &mut Tx<'_>,
    s: &Settings,
    lead: i64,
    field: ContactField,
    value: &str,
    actor: &str,
    now: Timestamp,
) -> Result<Outcome, OpError> {
    let row = load(tx, s, lead).await?;
    let now_ms = store::millis(now);
    let (old, norm) = match field {
        ContactField::Name => (row.name.clone(), None),
        ContactField::Phone => (row.phone.clone(), None),
        ContactField::Company => (row.company.clone(), None),
        ContactField::Email => {
            let email =
                EmailAddress::parse(value).map_err(|e| OpError::NotAllowed(e.to_string()))?;
            (
                row.email.as_ref().map(|e| e.to_string()),
                Some(email.normalized()),
            )
        }
    };
    leads::set_contact(tx, lead, field.as_str(), value, norm.as_deref(), now_ms).await?;
    let detail = match old {
        Some(old) => format!("{} corrected: {value} (was: {old})", field.as_str()),
        None => format!("{} set: {value}", field.as_str()),
    };
    tx.record(store::NewActivity::new(
        lead,
        now_ms,
        actor,
        ActivityKind::Note,
        &detail,
    ));
    Ok(Outcome {
        queued_mail: false,
        summary: format!("lead #{lead}: {detail}"),
    })
}
