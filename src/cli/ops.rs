//! Commands that change a lead: `assign`, `accept`, `next`, `done`, `status`, `note`,
//! `snooze`, `optout`, and `sync-team`. Each opens the store, runs one [`crate::ops`]
//! operation in one transaction, prints its summary, and sends the mail it queued.

use crate::clock::Clock;
use crate::config::{Desks, Settings};
use crate::domain::lead::LeadStatus;
use crate::domain::when::{parse_when_exact, split_when, WhenOptions, WHEN_HELP};
use crate::ops::{self, OpError, Outcome};
use crate::outbox::OutboxWorker;
use crate::store::{self, Store};
use anyhow::Context;
use std::process::ExitCode;

/// Who did it, for the history: `--by PERSON` (checked against the team), else `cli`.
const CLI_ACTOR: &str = "cli";

/// One lead operation as the command line asks for it.
#[derive(Debug)]
pub enum Op {
    Assign {
        id: i64,
        person: String,
        why: Option<String>,
    },
    Accept {
        id: i64,
        as_person: Option<String>,
    },
    Next {
        id: i64,
        words: Vec<String>,
    },
    Done {
        id: i64,
    },
    Status {
        id: i64,
        status: String,
    },
    Note {
        id: i64,
        words: Vec<String>,
    },
    Snooze {
        id: i64,
        words: Vec<String>,
    },
    OptOut {
        email: String,
        how: Option<String>,
    },
}

impl Op {
    /// The lead the operation is on (all but `optout`).
    fn lead(&self) -> Option<i64> {
        match self {
            Op::Assign { id, .. }
            | Op::Accept { id, .. }
            | Op::Next { id, .. }
            | Op::Done { id }
            | Op::Status { id, .. }
            | Op::Note { id, .. }
            | Op::Snooze { id, .. } => Some(*id),
            Op::OptOut { .. } => None,
        }
    }
}

/// Runs `op` with the settings of its desk: the lead's (a `--desk` that names another is
/// an error), or for `optout` the one `--desk` names (needed when there are several).
pub async fn run(
    desks: &Desks,
    desk: Option<&str>,
    op: Op,
    by: Option<String>,
) -> anyhow::Result<ExitCode> {
    let store = Store::open(&desks.shared().database_url).await?;
    let settings = match op.lead() {
        None => desks.one(desk)?,
        Some(id) => {
            let mut conn = store.acquire().await?;
            let lead_desk = store::leads::get(&mut conn, id).await?.map(|l| l.desk);
            match (lead_desk.as_deref().and_then(|d| desks.get(d)), desk) {
                (None, _) => return Ok(fail(&OpError::NoSuchLead(id))),
                (Some(s), Some(asked)) if s.desk.id != asked => {
                    eprintln!("error: lead #{id} is on desk {}, not {asked}", s.desk.id);
                    return Ok(ExitCode::from(2));
                }
                (Some(s), _) => s,
            }
        }
    };
    let settings: &Settings = settings;
    let now = Clock::system().now();
    let actor = match by.as_deref() {
        Some(who) => match ops::find_person(settings, who) {
            Ok(p) => p.id.clone(),
            Err(e) => return Ok(fail(&e)),
        },
        None => CLI_ACTOR.to_owned(),
    };
    let mut tx = store.begin().await?;
    let result = apply(&mut tx, settings, op, &actor, now).await;
    let outcome = match result {
        Ok(o) => o,
        Err(e) => {
            tx.rollback().await.ok();
            return Ok(fail(&e));
        }
    };
    tx.commit()
        .await
        .context("Failed to commit the lead change")?;
    println!("{}", outcome.summary);
    if outcome.queued_mail {
        send_now(settings, &store).await;
    }
    Ok(ExitCode::SUCCESS)
}

fn fail(e: &OpError) -> ExitCode {
    eprintln!("error: {e}");
    match e {
        OpError::Store(_) | OpError::Other(_) => ExitCode::from(1),
        _ => ExitCode::from(2),
    }
}

async fn apply(
    tx: &mut store::Tx<'_>,
    s: &Settings,
    op: Op,
    actor: &str,
    now: jiff::Timestamp,
) -> Result<Outcome, OpError> {
    let tz = &s.team.timezone;
    match op {
        Op::Assign { id, person, why } => {
            ops::assign(tx, s, id, &person, why.as_deref().unwrap_or(""), actor, now).await
        }
        Op::Accept { id, as_person } => {
            let who = match as_person {
                Some(p) => p,
                None => {
                    let row = crate::store::leads::get(tx, id)
                        .await?
                        .ok_or(OpError::NoSuchLead(id))?;
                    match row.owner {
                        Some(o) if s.person(&o).is_some() => o,
                        Some(o) => {
                            return Err(OpError::NotAllowed(format!(
                                "lead #{id}'s owner {o} left the team; say who takes it: `accept {id} --as PERSON`"
                            )))
                        }
                        None => {
                            return Err(OpError::NotAllowed(format!(
                                "lead #{id} has no owner; say who takes it: `accept {id} --as PERSON`"
                            )))
                        }
                    }
                }
            };
            ops::accept(tx, s, id, &who, now).await
        }
        Op::Next { id, words } => {
            let text = words.join(" ");
            let (due, what) = split_when(&text, now, tz, WhenOptions::default())
                .map_err(|e| OpError::NotAllowed(format!("{e}\n{WHEN_HELP}")))?;
            if what.is_empty() {
                return Err(OpError::NotAllowed(format!(
                    "say what is to be done after the time: `next {id} tomorrow 10:00 call back`"
                )));
            }
            ops::set_next(tx, s, id, what, due, actor, now).await
        }
        Op::Done { id } => ops::done(tx, s, id, actor, now).await,
        Op::Status { id, status } => {
            let to = LeadStatus::parse(&status).ok_or_else(|| {
                OpError::NotAllowed(format!(
                    "{status:?} is not a status; use one of {}",
                    LeadStatus::ALL.map(LeadStatus::as_str).join(", ")
                ))
            })?;
            ops::set_status(tx, s, id, to, actor, now).await
        }
        Op::Note { id, words } => ops::note(tx, s, id, &words.join(" "), actor, now).await,
        Op::Snooze { id, words } => {
            let text = words.join(" ");
            let until = parse_when_exact(&text, now, tz, WhenOptions::default())
                .map_err(|e| OpError::NotAllowed(format!("{e}\n{WHEN_HELP}")))?;
            ops::snooze(tx, s, id, until, actor, now).await
        }
        Op::OptOut { email, how } => {
            let norm = crate::domain::email::EmailAddress::parse(&email)
                .map_err(|e| OpError::NotAllowed(format!("{email:?}: {e}")))?
                .normalized();
            let how = how.unwrap_or_else(|| "recorded by an operator".into());
            ops::opt_out(tx, s, &norm, &how, actor, now).await
        }
    }
}

/// `sync-team`: the people table follows the config (what `run` does at start); leads
/// of people who left are marked orphaned, and with `reassign` routed again by the rules
/// (unless `[team] orphans = "keep"`).
pub async fn sync_team(settings: &Settings, reassign: bool) -> anyhow::Result<ExitCode> {
    let store = Store::open(&settings.database_url).await?;
    let now = Clock::system().now();
    let mut tx = store.begin().await?;
    store::state::sync_people(
        &mut tx,
        &settings.desk.id,
        &settings.people,
        store::millis(now),
    )
    .await?;
    let marked = ops::mark_orphans(&mut tx, settings, now).await?;
    let moved = if reassign {
        ops::reassign_orphans(&mut tx, settings, now).await?
    } else {
        Vec::new()
    };
    let orphans: Vec<i64> = ops::orphans(&mut tx, settings)
        .await?
        .iter()
        .map(|r| r.id)
        .collect();
    tx.commit().await.context("Failed to sync the team")?;
    println!(
        "{}{} people in the team; newly orphaned: {}; reassigned: {}; orphaned now: {}",
        desk_prefix(settings),
        settings.people.len(),
        list(&marked),
        list(&moved),
        list(&orphans)
    );
    if !moved.is_empty() {
        send_now(settings, &store).await;
    }
    Ok(ExitCode::SUCCESS)
}

/// `desk client-a: ` before a line about one desk, when the config has desks.
fn desk_prefix(s: &Settings) -> String {
    if s.desk.id == crate::config::DEFAULT_DESK {
        String::new()
    } else {
        format!("desk {}: ", s.desk.id)
    }
}

fn list(ids: &[i64]) -> String {
    if ids.is_empty() {
        return "none".into();
    }
    ids.iter()
        .map(|i| format!("#{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Delivers what is due now instead of waiting for the daemon's next outbox pass (the
/// daemon is not woken by another process). Leases keep a running daemon from sending
/// the same row; a failure leaves the row queued for the daemon's retries.
async fn send_now(settings: &Settings, store: &Store) {
    let transport = match crate::app::transport(settings) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("note: the email is queued; the daemon will send it ({e:#})");
            return;
        }
    };
    let worker = OutboxWorker::new(
        store.clone(),
        transport,
        settings.outbox.clone(),
        Clock::system(),
    );
    match tokio::time::timeout(std::time::Duration::from_secs(20), worker.drain()).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => eprintln!("note: the email is queued; the daemon will send it ({e:#})"),
        Err(_) => eprintln!("note: sending took too long; the daemon will finish it"),
    }
}
