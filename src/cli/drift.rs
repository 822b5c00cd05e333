//! Commands of the scheduler, on demand: `sweep`, `digest`, `audit`. `--now` runs them
//! as of another time (tests, catching up, "what would tomorrow's digest say").

use super::print_json;
use crate::clock::Clock;
use crate::config::{Desks, Settings};
use crate::outbox::{OutboxWorker, Step};
use crate::scheduler::{self, digest};
use crate::store::{self, Store};
use anyhow::Context;
use jiff::{SignedDuration, Timestamp};
use std::process::ExitCode;

/// `--now RFC3339`, or the wall clock.
pub fn now_or_clock(now: Option<&str>) -> anyhow::Result<Timestamp> {
    match now {
        Some(t) => t.parse().with_context(|| {
            format!("--now {t:?} is not a time; write it like 2026-11-24T09:00:00Z")
        }),
        None => Ok(Clock::system().now()),
    }
}

async fn open(settings: &Settings, now: Timestamp, sync: bool) -> anyhow::Result<Store> {
    let store = Store::open(&settings.database_url).await?;
    if sync {
        let mut conn = store.acquire().await?;
        store::state::sync_people(
            &mut conn,
            &settings.desk.id,
            &settings.people,
            store::millis(now),
        )
        .await?;
    }
    Ok(store)
}

/// Sends what is due in the outbox as of `now` (mail queued "at" a `--now` in the
/// future would otherwise wait for that time).
async fn deliver(store: &Store, settings: &Settings, now: Timestamp) -> anyhow::Result<usize> {
    let worker = OutboxWorker::new(
        store.clone(),
        crate::app::transport(settings)?,
        settings.outbox.clone(),
        Clock::fixed(now),
    );
    let steps = worker
        .drain()
        .await
        .context("Failed to deliver the outbox")?;
    Ok(steps.iter().filter(|s| matches!(s, Step::Sent(_))).count())
}

pub struct SweepArgs<'a> {
    pub now: Option<&'a str>,
    pub dry_run: bool,
    /// How long to wait for a sweep in progress elsewhere (the daemon's).
    pub lock_wait: std::time::Duration,
    pub json: bool,
}

pub async fn sweep(settings: &Settings, args: SweepArgs<'_>) -> anyhow::Result<ExitCode> {
    let SweepArgs {
        now,
        dry_run,
        lock_wait,
        json,
    } = args;
    let now = now_or_clock(now)?;
    let store = open(settings, now, !dry_run).await?;
    // A daemon's sweep takes a second at most: queue behind it rather than skip.
    let report = scheduler::sweep(&store, settings, now, dry_run, Some(lock_wait)).await?;
    if report.skipped {
        if json {
            print_json(&OfDesk {
                desk: &settings.desk.id,
                value: &report,
            })?;
        }
        eprintln!(
            "sweep not done: another sweep of this database (a running daemon's leader \
             sweeps every {:#}) held the sweep lock for all of --lock-wait {:?}; nothing \
             was written. Try again, or leave it to the daemon.",
            settings.sweep_every, lock_wait
        );
        return Ok(ExitCode::FAILURE);
    }
    let sent = if !dry_run && report.queued_mail() {
        deliver(&store, settings, now).await?
    } else {
        0
    };
    if json {
        print_json(&OfDesk {
            desk: &settings.desk.id,
            value: &report,
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    let would = if dry_run { "would " } else { "" };
    println!(
        "sweep as of {}{}: {} open leads looked at, {} drifting ({})",
        report.now,
        if dry_run { " (dry run)" } else { "" },
        report.scanned,
        report.drifting,
        report
            .by_kind
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "  drift {would}open {}, {would}close {}",
        report.opened.len(),
        report.closed.len()
    );
    for r in &report.reminders {
        println!(
            "  {}{} lead #{} ({}) to {}{}",
            would,
            if r.escalated { "escalate" } else { "remind" },
            r.lead,
            r.kind,
            r.to.join(", "),
            if r.queued {
                ""
            } else {
                " (already queued earlier)"
            }
        );
    }
    for m in &report.moved {
        println!(
            "  {would}hand lead #{} from {} to {}: {}",
            m.lead,
            m.from.as_deref().unwrap_or("nobody"),
            m.to.as_deref().unwrap_or("nobody (orphaned)"),
            m.reason
        );
    }
    for l in &report.orphans_reassigned {
        println!("  reassigned orphaned lead #{l}");
    }
    if !dry_run {
        println!("  {sent} email(s) sent");
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Clone, Copy)]
pub struct DigestArgs<'a> {
    pub now: Option<&'a str>,
    pub weekly: bool,
    pub send: bool,
    pub html: bool,
    pub json: bool,
    /// Where to write the weekly chart as PNG.
    pub chart: Option<&'a std::path::Path>,
}

pub async fn digest(settings: &Settings, a: DigestArgs<'_>) -> anyhow::Result<ExitCode> {
    let now = now_or_clock(a.now)?;
    let store = open(settings, now, a.send).await?;
    if a.send {
        let queued = if a.weekly {
            digest::send_weekly(&store, settings, now, None).await?
        } else {
            digest::send_daily(&store, settings, now, None).await?
        };
        match queued {
            Some(id) => {
                let sent = deliver(&store, settings, now).await?;
                println!("queued as outbox #{id}; {sent} email(s) sent");
            }
            None => println!("nothing to send: no lead drifts (or [digest] has no readers)"),
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut conn = store.acquire().await?;
    if a.weekly {
        let since = now.checked_sub(SignedDuration::from_hours(24 * 7))?;
        let r = digest::review(&mut conn, settings, since, now).await?;
        let png = scheduler::chart::review_chart(&r)?;
        if let Some(path) = a.chart {
            std::fs::write(path, &png)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        if a.json {
            print_json(&OfDesk {
                desk: &settings.desk.id,
                value: &r,
            })?;
            return Ok(ExitCode::SUCCESS);
        }
        let mail = digest::review_mail(&r, settings, Some(&png))?;
        print_mail(&mail, a.html);
        return Ok(ExitCode::SUCCESS);
    }
    let d = digest::daily(&mut conn, settings, now).await?;
    if a.json {
        print_json(&OfDesk {
            desk: &settings.desk.id,
            value: &d,
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    let forced = Settings {
        digest: crate::config::DigestSettings {
            send_when_clean: true,
            ..settings.digest.clone()
        },
        ..settings.clone()
    };
    if let Some(mail) = digest::daily_draft(&d, &forced)? {
        if d.clean && !settings.digest.send_when_clean && !a.html {
            println!("(nothing drifts: no digest would be sent)");
        }
        print_mail(&mail, a.html);
    }
    Ok(ExitCode::SUCCESS)
}

/// `digest --operator`: the digest across desks, printed (or `--json`) or sent to
/// `[operator] to`.
pub async fn operator_digest(desks: &Desks, a: DigestArgs<'_>) -> anyhow::Result<ExitCode> {
    use crate::scheduler::operator;
    let now = now_or_clock(a.now)?;
    let shared = desks.shared();
    let store = open(shared, now, false).await?;
    if a.send {
        if desks.operator.is_empty() {
            anyhow::bail!("[operator] to is not set: the operator's digest has no readers");
        }
        let id = operator::send(&store, desks, now).await?;
        let sent = deliver(&store, shared, now).await?;
        println!(
            "queued as outbox #{}; {sent} email(s) sent",
            id.unwrap_or_default()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let mut conn = store.acquire().await?;
    let d = operator::operator(&mut conn, desks, now).await?;
    if a.json {
        print_json(&d)?;
        return Ok(ExitCode::SUCCESS);
    }
    print_mail(&operator::operator_draft(&d, desks)?, a.html);
    Ok(ExitCode::SUCCESS)
}

fn print_mail(m: &crate::domain::notify::Draft, html: bool) {
    if html {
        println!("{}", m.html.as_deref().unwrap_or(""));
        return;
    }
    println!(
        "To: {}\nSubject: {}\n\n{}",
        m.to.join(", "),
        m.subject,
        m.text
    );
}

/// `--since`: a date (2026-11-16, from midnight in the team's zone), a time, or a
/// duration back from now (7d).
pub fn since(s: &Settings, since: Option<&str>, now: Timestamp) -> anyhow::Result<Timestamp> {
    let Some(v) = since else {
        return Ok(now.checked_sub(SignedDuration::from_hours(24 * 7))?);
    };
    if let Ok(t) = v.parse::<Timestamp>() {
        return Ok(t);
    }
    if let Ok(d) = v.parse::<jiff::civil::Date>() {
        return Ok(d.to_zoned(s.team.timezone.clone())?.timestamp());
    }
    match crate::config::parse_duration(v) {
        Ok(d) => Ok(now.checked_sub(d)?),
        Err(_) => anyhow::bail!(
            "--since {v:?} is not a date (2026-11-16), a time (2026-11-16T09:00:00Z) or a duration (7d)"
        ),
    }
}

/// A desk's JSON object: `desk` first, then the object's own keys.
#[derive(serde::Serialize)]
struct OfDesk<'a, T> {
    desk: &'a str,
    #[serde(flatten)]
    value: &'a T,
}

/// `audit`: the ownership score of each desk (`--desk` narrows to one). JSON: one
/// object with `desk` for one desk, an array of them for several.
pub async fn audit(
    desks: &Desks,
    desk: Option<&str>,
    since_arg: Option<&str>,
    now: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let now = now_or_clock(now)?;
    let chosen = desks.select(desk)?;
    let store = open(desks.shared(), now, false).await?;
    let mut conn = store.acquire().await?;
    let mut reviews = Vec::new();
    for s in &chosen {
        let from = since(s, since_arg, now)?;
        reviews.push(digest::review(&mut conn, s, from, now).await?);
    }
    if json {
        let objects: Vec<OfDesk<'_, _>> = chosen
            .iter()
            .zip(&reviews)
            .map(|(s, r)| OfDesk {
                desk: &s.desk.id,
                value: r,
            })
            .collect();
        match objects.as_slice() {
            [one] => print_json(one)?,
            many => print_json(&many)?,
        }
        return Ok(ExitCode::SUCCESS);
    }
    for (s, r) in chosen.iter().zip(&reviews) {
        if chosen.len() > 1 {
            println!("Desk {} ({})", s.desk.id, s.desk.name);
        }
        println!("Ownership score {} of 5 ({})", r.score.score, r.period);
        for c in &r.score.checks {
            println!(
                "  [{}] {:<12} {}",
                if c.passed { "x" } else { " " },
                c.check.as_str(),
                c.detail
            );
        }
        println!("{}", r.score.explanation);
    }
    Ok(ExitCode::SUCCESS)
}
