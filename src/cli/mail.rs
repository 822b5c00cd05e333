//! Commands about mail: `parse`, `import`, `messages`, `outbox`.

use super::print_json;
use crate::clock::Clock;
use crate::config::{Desks, Settings};
use crate::domain::classify::{classify, ClassifyContext};
use crate::domain::report::{Kind, ParseReport};
use crate::pipeline::Intake;
use crate::source::{files, Ingest, IngestOutcome, Origin};
use crate::store::{self, Store};
use anyhow::Context;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

pub fn parse(
    paths: &[PathBuf],
    json: bool,
    template: Option<&str>,
    ctx: ClassifyContext,
) -> anyhow::Result<ExitCode> {
    let template = match template {
        Some(name) => {
            let t = ctx.templates.iter().find(|t| t.name == name).with_context(|| {
                let names: Vec<&str> = ctx.templates.iter().map(|t| t.name.as_str()).collect();
                format!("no [[templates]] entry named {name:?} in the config (there are: {names:?})")
            })?;
            Some(t.clone())
        }
        None => None,
    };
    let mut failed = false;
    for m in files::read_all(paths)? {
        let view = crate::parse::view(&m.raw);
        if let Some(t) = &template {
            let body = crate::domain::extract::Body::of(&view);
            match crate::domain::extract::try_template(&view, &body, t) {
                Ok(e) => println!(
                    "{}: template {:?} matched\n{}",
                    m.origin,
                    t.name,
                    serde_json::to_string_pretty(&e)?
                ),
                Err(why) => {
                    failed = true;
                    println!("{}: template {:?} did not match: {why}", m.origin, t.name);
                }
            }
            continue;
        }
        let c = classify(&view, &ctx);
        let report = ParseReport::new(&m.origin, &c);
        if json {
            println!("{}", serde_json::to_string(&report)?);
        } else {
            let who = report
                .fields
                .name
                .clone()
                .or(report.fields.email.clone())
                .unwrap_or_default();
            println!(
                "{:<8} {:<13} {:<16} {:<30} {}",
                match report.kind {
                    Kind::Lead => "lead",
                    Kind::Triage => "triage",
                    Kind::NotLead => "not_lead",
                },
                c.class.as_str(),
                report.source.as_deref().unwrap_or("-"),
                who,
                m.origin
            );
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `import`: each message to its desk as the daemon's shared mailbox would send it (by
/// recipient), or all to the one desk `--desk` names (the caller narrows `desks`).
pub async fn import(desks: Desks, paths: &[PathBuf], json: bool) -> anyhow::Result<ExitCode> {
    let messages = files::read_all(paths)?;
    let store = Store::open(&desks.shared().database_url).await?;
    let mut conn = store.acquire().await?;
    let now = store::millis(crate::clock::Clock::system().now());
    for s in &desks.all {
        store::state::sync_people(&mut conn, &s.desk.id, &s.people, now).await?;
    }
    drop(conn);
    let clock = Clock::system();
    let wake = Arc::new(tokio::sync::Notify::new());
    let pipelines = Intake::pipelines(&desks, &store, &clock, &wake);
    let pipeline = Intake::shared(&desks, pipelines, &store);
    let bar = indicatif::ProgressBar::new(messages.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}")
            .expect("static template"),
    );
    if json {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let (mut leads, mut duplicates, mut others) = (0, 0, 0);
    let mut results = Vec::new();
    for m in messages {
        let outcome = pipeline
            .ingest(&m.raw, Origin::File(m.origin.clone()))
            .await?;
        match &outcome {
            IngestOutcome::Stored { lead: Some(_), .. } => leads += 1,
            IngestOutcome::Stored { .. } => others += 1,
            IngestOutcome::Duplicate { .. } => duplicates += 1,
        }
        results.push(serde_json::json!({
            "file": m.origin,
            "outcome": match &outcome {
                IngestOutcome::Stored { message_row, class, lead } => serde_json::json!({"stored": message_row, "class": class, "lead": lead}),
                IngestOutcome::Duplicate { message_row } => serde_json::json!({"duplicate_of": message_row}),
            }
        }));
        bar.inc(1);
    }
    bar.finish_and_clear();
    if json {
        print_json(&results)?;
    } else {
        println!("imported: {leads} to leads, {others} other messages, {duplicates} duplicates; the outbox sends with `leadgate run`");
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn messages(
    settings: &Settings,
    class: Option<String>,
    limit: i64,
    json: bool,
) -> anyhow::Result<ExitCode> {
    if let Some(c) = &class {
        if crate::domain::classify::MessageClass::parse(c).is_none() {
            anyhow::bail!(
                "--class {c:?} is not a class; use one of: {}",
                crate::domain::classify::ALL_CLASSES
                    .map(|c| c.as_str())
                    .join(", ")
            );
        }
    }
    let store = Store::open(&settings.database_url).await?;
    let mut conn = store.acquire().await?;
    let rows = store::messages::list(&mut conn, class.as_deref(), limit).await?;
    if json {
        print_json(&rows)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY);
    table.set_header(["id", "received", "class", "lead", "from", "subject", "why"]);
    for r in rows {
        table.add_row([
            r.id.to_string(),
            r.received_at,
            r.class + if r.quarantined { " (quarantined)" } else { "" },
            r.lead.map(|l| l.to_string()).unwrap_or_default(),
            r.sender.unwrap_or_default(),
            r.subject.unwrap_or_default().chars().take(40).collect(),
            r.reason,
        ]);
    }
    println!("{table}");
    Ok(ExitCode::SUCCESS)
}

pub async fn outbox(settings: &Settings, json: bool) -> anyhow::Result<ExitCode> {
    let store = Store::open(&settings.database_url).await?;
    let mut conn = store.acquire().await?;
    let rows = store::outbox::list(&mut conn).await?;
    if json {
        print_json(&rows)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY);
    table.set_header([
        "id",
        "status",
        "purpose",
        "lead",
        "to",
        "subject",
        "attempts",
        "last error",
    ]);
    for r in rows {
        table.add_row([
            r.id.to_string(),
            r.status,
            r.purpose,
            r.lead.map(|l| l.to_string()).unwrap_or_default(),
            r.recipients.join(", "),
            r.subject.chars().take(50).collect(),
            r.attempts.to_string(),
            r.last_error.unwrap_or_default(),
        ]);
    }
    println!("{table}");
    Ok(ExitCode::SUCCESS)
}
