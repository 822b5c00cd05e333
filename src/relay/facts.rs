//! What the relay's decision needs from the store, read inside the message's transaction:
//! which lead a message reached, the lead as the domain sees it, recent traffic for the
//! rate cap, and the two sides of a lead's conversation. Reads only; every store call of
//! the relay's reading side is here.

use crate::domain::handling::Incoming;
use crate::domain::relay::signals::{self, Evidence, Verdict};
use crate::domain::relay::{Lead, LeadSide, Policy, Recent};
use crate::store::leads;
use crate::store::relay::{self as q, OwnMessage};
use crate::store::{self, Tx};
use jiff::Timestamp;

/// The lead as the relay's decision reads it.
pub fn lead_view(row: &crate::domain::lead::Lead) -> Lead {
    Lead {
        id: row.id,
        status: row.status.as_str().to_owned(),
        owner: row.owner.clone(),
        accepted: row.accepted,
        name: row.name.clone(),
        email: row.email.as_ref().map(|e| e.as_str().to_owned()),
        next_action: row.next_action.clone(),
        next_action_due: row.next_action_due,
    }
}

/// Lead `id` when it is `desk`'s: another desk's lead is not this desk's relay's to touch.
pub async fn lead(tx: &mut Tx<'_>, desk: &str, id: i64) -> anyhow::Result<Option<Lead>> {
    Ok(leads::get(tx, id)
        .await?
        .filter(|l| l.desk == desk)
        .as_ref()
        .map(lead_view))
}

/// The first of `ids` that is a lead we have.
pub async fn first_lead(tx: &mut Tx<'_>, desk: &str, ids: &[i64]) -> anyhow::Result<Option<Lead>> {
    for &id in ids {
        if let Some(lead) = lead(tx, desk, id).await? {
            return Ok(Some(lead));
        }
    }
    Ok(None)
}

/// Our own mails among these Message-IDs, in their order.
pub async fn own_messages(tx: &mut Tx<'_>, ids: &[String]) -> anyhow::Result<Vec<OwnMessage>> {
    Ok(q::own_messages(tx, ids).await?)
}

/// The newest lead of a normalised address that someone is working (see
/// [`leads::latest_worked_by_email`]).
pub async fn latest_worked_lead(
    tx: &mut Tx<'_>,
    desk: &str,
    email_norm: &str,
) -> anyhow::Result<Option<i64>> {
    Ok(leads::latest_worked_by_email(tx, desk, email_norm).await?)
}

/// Relay traffic within the rate cap's window before `now`: from this message's sender
/// (`sender`, lowercase; the message itself not counted), and for `lead`.
pub async fn recent(
    tx: &mut Tx<'_>,
    p: &Policy<'_>,
    msg: &Incoming<'_>,
    sender: &str,
    lead: i64,
    now: Timestamp,
) -> anyhow::Result<Recent> {
    let since = now
        .checked_sub(p.rate_cap.window)
        .map(store::millis)
        .unwrap_or(i64::MIN);
    let stamps = |v: Vec<i64>| v.into_iter().map(store::timestamp).collect::<Vec<_>>();
    Ok(Recent {
        from_sender: stamps(q::mail_from_sender(tx, sender, since, msg.row, None).await?),
        from_sender_about_lead: stamps(
            q::mail_from_sender(tx, sender, since, msg.row, Some(lead)).await?,
        ),
        relays_for_lead: stamps(q::relays_for_lead(tx, lead, since).await?),
    })
}

/// What leadgate sent the team about this lead, oldest first.
pub async fn team_thread(tx: &mut Tx<'_>, lead: i64) -> anyhow::Result<Vec<(String, String)>> {
    Ok(q::team_thread(tx, lead).await?)
}

/// What relaying to `lead` needs, read as the lead is now (after the quick actions).
pub async fn lead_side(
    tx: &mut Tx<'_>,
    scope: crate::domain::optout::Scope<'_>,
    p: &Policy<'_>,
    msg: &Incoming<'_>,
    sender: &str,
    lead: &Lead,
    now: Timestamp,
) -> anyhow::Result<LeadSide> {
    let (opted_out, lead_thread) = match lead.email() {
        Some(email) => {
            let norm = email.normalized();
            let opted = q::opt_out_of(tx, scope, &norm).await?;
            (opted, q::lead_thread(tx, lead.id, &norm).await?)
        }
        None => (None, Vec::new()),
    };
    Ok(LeadSide {
        opted_out,
        lead_thread,
        team_thread: team_thread(tx, lead.id).await?,
        recent: recent(tx, p, msg, sender, lead.id, now).await?,
    })
}

/// Which lead a reply without a tracked address is about, and how sure (`team_sender`:
/// a team member wrote, so subject tags count).
pub async fn thread_verdict(
    tx: &mut Tx<'_>,
    p: &Policy<'_>,
    msg: &Incoming<'_>,
    team_sender: bool,
) -> anyhow::Result<Verdict> {
    let view = msg.view;
    let ids: Vec<String> = view
        .in_reply_to
        .iter()
        .chain(view.references.iter())
        .cloned()
        .collect();
    let mut e = Evidence::default();
    let own = q::own_messages(tx, &ids).await?;
    e.strong(own.iter().filter_map(|m| m.lead));
    e.weak(q::leads_of_stored(tx, &ids, msg.row).await?);
    e.strong(signals::body_tokens(&view.text, p.address, p.keys));
    e.weak(signals::body_refs(&view.text));
    if team_sender {
        e.weak(signals::subject_tags(&view.subject));
    }
    Ok(e.verdict())
}

/// The lead automatic mail is recorded on: the first lead a tracked address names, else
/// the lead of one of our own mails it answers.
pub async fn automatic_lead(
    tx: &mut Tx<'_>,
    desk: &str,
    p: &Policy<'_>,
    msg: &Incoming<'_>,
) -> anyhow::Result<Option<i64>> {
    let tracked = crate::domain::relay::tracked_leads(p, msg.view);
    if let Some(lead) = first_lead(tx, desk, &tracked).await? {
        return Ok(Some(lead.id));
    }
    let view = msg.view;
    let ids: Vec<String> = view
        .in_reply_to
        .iter()
        .chain(view.references.iter())
        .cloned()
        .collect();
    Ok(q::own_messages(tx, &ids)
        .await?
        .into_iter()
        .find_map(|m| m.lead))
}
