//! The operator's digest (`[operator] to`): once a day, one email across desks with the
//! desks ranked by drift, so whoever runs the deployment for many teams sees at a glance
//! which team is losing leads. Ownership problems rank first (orphaned, unaccepted), then
//! missed deadlines (overdue) and undecided triage, then any drift.

use super::scan;
use crate::config::{Desks, Settings};
use crate::domain::drift::DriftKind;
use crate::domain::notify::{Draft, Purpose};
use crate::store::{self, drift as drift_store, Db, Store};
use crate::templates;
use jiff::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;

/// One desk's line.
#[derive(Clone, Debug, Serialize)]
pub struct DeskDrift {
    pub desk: String,
    pub name: String,
    pub live: u64,
    pub drifting: usize,
    pub orphaned: usize,
    pub unaccepted: usize,
    pub overdue: usize,
    pub untriaged: usize,
    /// A signed read-only link to the desk's board, when `[http] public_url` is set.
    pub board: Option<String>,
}

impl DeskDrift {
    /// Worst first: leads nobody has accepted, then missed deadlines, then any drift.
    fn rank(&self) -> impl Ord {
        std::cmp::Reverse((
            self.orphaned + self.unaccepted,
            self.overdue + self.untriaged,
            self.drifting,
        ))
    }
}

/// Live leads of a desk that no desk file names any more (its file was removed or
/// renamed): nobody sweeps, reminds or digests them until the file is back.
#[derive(Clone, Debug, Serialize)]
pub struct Unfiled {
    pub desk: String,
    pub live: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct OperatorDigest {
    pub title: String,
    pub date: String,
    pub live: u64,
    pub drifting: usize,
    /// Ranked, the worst first.
    pub desks: Vec<DeskDrift>,
    pub unfiled: Vec<Unfiled>,
}

/// The desks of live leads that no desk file names, with how many each holds.
pub async fn unfiled(conn: &mut impl Db, desks: &Desks) -> anyhow::Result<Vec<Unfiled>> {
    Ok(unfiled_of(&store::leads::live_by_desk(conn).await?, desks))
}

fn unfiled_of(live: &BTreeMap<String, u64>, desks: &Desks) -> Vec<Unfiled> {
    live.iter()
        .filter(|(desk, _)| !desks.all.iter().any(|s| &s.desk.id == *desk))
        .map(|(desk, live)| Unfiled {
            desk: desk.clone(),
            live: *live,
        })
        .collect()
}

/// Every desk's drift as of `now`, ranked.
pub async fn operator(
    conn: &mut impl Db,
    desks: &Desks,
    now: Timestamp,
) -> anyhow::Result<OperatorDigest> {
    let live = store::leads::live_by_desk(conn).await?;
    let mut lines = Vec::with_capacity(desks.all.len());
    for s in &desks.all {
        let leads = scan(conn, s, now).await?;
        let count = |k: DriftKind| leads.iter().filter(|l| l.kinds().contains(&k)).count();
        lines.push(DeskDrift {
            desk: s.desk.id.clone(),
            name: s.desk.name.clone(),
            live: live.get(&s.desk.id).copied().unwrap_or(0),
            drifting: leads.iter().filter(|l| !l.drift.is_empty()).count(),
            orphaned: count(DriftKind::Orphaned),
            unaccepted: count(DriftKind::Unaccepted),
            overdue: count(DriftKind::Overdue),
            untriaged: count(DriftKind::Untriaged),
            board: crate::board::links::url(
                desks.shared(),
                &crate::board::links::ViewScope::Desk(s.desk.id.clone()),
                now,
            ),
        });
    }
    // Stable: equal desks keep the config's order.
    lines.sort_by_key(|d| d.rank());
    let shared = desks.shared();
    let date = now.to_zoned(shared.team.timezone.clone()).date();
    Ok(OperatorDigest {
        title: format!("Leads across {} desks", lines.len()),
        date: date.to_string(),
        live: lines.iter().map(|d| d.live).sum(),
        drifting: lines.iter().map(|d| d.drifting).sum(),
        desks: lines,
        unfiled: unfiled_of(&live, desks),
    })
}

pub fn operator_draft(d: &OperatorDigest, desks: &Desks) -> anyhow::Result<Draft> {
    let s: &Settings = desks.shared();
    let env = templates::environment(s)?;
    let ctx = minijinja::Value::from_serialize(d);
    Ok(Draft {
        auto_submitted: true,
        ..s.sender().draft(
            Purpose::OperatorDigest,
            desks.operator.iter().map(|a| a.to_string()).collect(),
            &d.title,
            templates::body(&env, "operator", &ctx)?,
        )
    })
}

/// Queues the operator's digest when it is due (at leadgate.toml's `[digest] daily` time,
/// 08:00 without one, in its team's zone) and not yet sent today; true when queued.
pub async fn operator_scheduled(
    store: &Store,
    desks: &Desks,
    now: Timestamp,
) -> anyhow::Result<bool> {
    if desks.operator.is_empty() {
        return Ok(false);
    }
    let shared = desks.shared();
    let at = shared
        .digest
        .daily
        .unwrap_or(jiff::civil::Time::constant(8, 0, 0, 0));
    let local = now.to_zoned(shared.team.timezone.clone());
    if local.time() < at {
        return Ok(false);
    }
    let key = format!("digest:operator:{}", local.date());
    let mut tx = store.begin().await?;
    if drift_store::once_key_used(&mut tx, &key).await? {
        return Ok(false);
    }
    let id = queue(&mut tx, desks, now, Some(&key)).await?;
    tx.commit().await?;
    Ok(id.is_some())
}

/// `leadgate digest --operator --send`: queued now, whether or not today's went out.
pub async fn send(store: &Store, desks: &Desks, now: Timestamp) -> anyhow::Result<Option<i64>> {
    let mut tx = store.begin().await?;
    let id = match queue(&mut tx, desks, now, None).await? {
        Some(email) => Some(tx.email_id(email).await?),
        None => None,
    };
    tx.commit().await?;
    Ok(id)
}

/// The operator's digest as of `now`, written to the outbox in `tx`.
async fn queue(
    tx: &mut store::Tx<'_>,
    desks: &Desks,
    now: Timestamp,
    once_key: Option<&str>,
) -> anyhow::Result<Option<store::EmailRef>> {
    let d = operator(tx, desks, now).await?;
    let draft = operator_draft(&d, desks)?;
    crate::outbox::enqueue(tx, desks.shared(), &draft, None, now, once_key).await
}
