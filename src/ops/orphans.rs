//! Orphans: open leads whose owner left the team or that have none; marked once, and
//! routed again unless `[team] orphans = "keep"`.

use super::assign::reassign;
use super::OpError;
use crate::config::Settings;
use crate::domain::extract::{Extraction, LeadFields};
use crate::domain::lead::ActivityKind;
use crate::domain::route::{account_keys, route};
use crate::store::leads::{self, Lead};
use crate::store::{self, state, Tx};
use jiff::Timestamp;

/// Open leads whose owner left the team (not in `settings.people`) or that have none.
pub async fn orphans(tx: &mut Tx<'_>, s: &Settings) -> Result<Vec<Lead>, OpError> {
    let team: Vec<String> = s.people.iter().map(|p| p.id.clone()).collect();
    Ok(leads::orphaned_open_leads(tx, &s.desk.id, &team).await?)
}

/// After a team change: each open lead whose owner left gets one history entry saying so
/// (drift kind `orphaned`, recorded once per assignment). Returns the leads marked now.
/// Run at start, after [`state::sync_people`].
pub async fn mark_orphans(
    tx: &mut Tx<'_>,
    s: &Settings,
    now: Timestamp,
) -> Result<Vec<i64>, OpError> {
    let mut marked = Vec::new();
    for row in orphans(tx, s).await? {
        let Some(owner) = row.owner.as_deref() else {
            continue;
        };
        let detail = format!("orphaned: {owner} left the team");
        let since = store::millis(row.assigned_at.unwrap_or(row.created_at));
        if leads::has_activity(tx, row.id, ActivityKind::DriftOpened, &detail, since).await? {
            continue;
        }
        tx.record(store::NewActivity::system(
            row.id,
            store::millis(now),
            ActivityKind::DriftOpened,
            &detail,
        ));
        marked.push(row.id);
    }
    Ok(marked)
}

/// Open leads whose owner left the team, or with none, are routed again by the rules and
/// handed to the new owner (who must accept), unless `[team] orphans = "keep"`. Leads
/// the rules give nobody stay orphaned. Returns the leads that got a new owner.
pub async fn reassign_orphans(
    tx: &mut Tx<'_>,
    s: &Settings,
    now: Timestamp,
) -> Result<Vec<i64>, OpError> {
    mark_orphans(tx, s, now).await?;
    if s.team.keep_orphans {
        return Ok(Vec::new());
    }
    let now_ms = store::millis(now);
    let mut moved = Vec::new();
    let orphans = orphans(tx, s).await?;
    if orphans.is_empty() {
        return Ok(moved);
    }
    // Read once and kept current as each reassignment moves a lead (the open counts are
    // a GROUP BY over every open lead).
    let mut routing = store::routing::snapshot(tx, &s.desk.id, true).await?;
    for row in orphans {
        let keys = row
            .email
            .as_ref()
            .map(|e| account_keys(e.as_str(), &s.learn))
            .unwrap_or_default();
        // Earlier leads only (the orphan's own owner is the one who left), so not the
        // snapshot's newest-lead lookup.
        let past_owners = leads::past_owners(tx, &s.desk.id, &keys, row.id).await?;
        let ctx = s.routing_context(routing.cursors(), routing.open_counts(), &past_owners, now);
        let assignment = route(&extraction_of(&row), &s.routes, &ctx);
        let Some(owner) = assignment.owner.as_deref() else {
            continue;
        };
        if Some(owner) == row.owner.as_deref() || s.person(owner).is_none() {
            continue;
        }
        let reason = match row.owner.as_deref() {
            Some(o) => format!("{o} left the team; routed again: {}", assignment.reason),
            None => format!("orphaned; routed again: {}", assignment.reason),
        };
        reassign(tx, s, row.id, Some(owner), &reason, now).await?;
        if let Some((rule, person)) = &assignment.cursor {
            state::save_route_cursor(tx, &s.desk.id, rule, person, now_ms).await?;
        }
        routing.moved(
            row.id,
            row.owner.as_deref(),
            Some(owner),
            assignment.cursor.as_ref(),
        );
        moved.push(row.id);
    }
    Ok(moved)
}

pub(super) fn extraction_of(row: &Lead) -> Extraction {
    Extraction {
        source: row.source.clone(),
        form: row.form.clone(),
        fields: LeadFields {
            name: row.name.clone(),
            email: row.email.as_ref().map(|e| e.to_string()),
            phone: row.phone.clone(),
            company: row.company.clone(),
            message: row.message.clone(),
        },
        consent: row.consent,
        extra: row.extra.clone(),
        ..Default::default()
    }
}
