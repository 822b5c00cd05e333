//! `leadgate demo`: the whole pipeline on bundled sample mail, no server needed. The
//! demo's config (`demo/leadgate.toml`) and mails (`demo/mail/`) are compiled in; the
//! database is a temporary SQLite file and outgoing mail goes to a folder of `.eml` files.

use crate::clock::Clock;
use crate::config;
use crate::outbox::transport::Transport;
use crate::outbox::{OutboxWorker, Step};
use crate::pipeline::Pipeline;
use crate::source::{Ingest, IngestOutcome, Origin};
use crate::store::{self, Store};
use anyhow::Context;
use std::path::PathBuf;
use std::sync::Arc;

const CONFIG: &str = include_str!("../demo/leadgate.toml");

const MAILS: [(&str, &[u8]); 7] = [
    (
        "01-webflow-pricing.eml",
        include_bytes!("../demo/mail/01-webflow-pricing.eml"),
    ),
    (
        "02-cf7-gutter.eml",
        include_bytes!("../demo/mail/02-cf7-gutter.eml"),
    ),
    (
        "03-wpforms-roof-leak.eml",
        include_bytes!("../demo/mail/03-wpforms-roof-leak.eml"),
    ),
    (
        "04-generic-skylight.eml",
        include_bytes!("../demo/mail/04-generic-skylight.eml"),
    ),
    (
        "05-webflow-pricing-again.eml",
        include_bytes!("../demo/mail/05-webflow-pricing-again.eml"),
    ),
    (
        "06-out-of-office.eml",
        include_bytes!("../demo/mail/06-out-of-office.eml"),
    ),
    (
        "07-newsletter.eml",
        include_bytes!("../demo/mail/07-newsletter.eml"),
    ),
];

pub async fn run(keep: Option<PathBuf>) -> anyhow::Result<()> {
    let temp = tempfile::tempdir().context("cannot make a temporary folder")?;
    let dir = match keep {
        Some(d) => {
            std::fs::create_dir_all(&d)
                .with_context(|| format!("cannot create {}", d.display()))?;
            d
        }
        None => temp.path().to_path_buf(),
    };
    let mut settings = config::from_toml(CONFIG, &dir)?;
    settings.database_url = format!("sqlite://{}", dir.join("demo.db").display());
    let sent = dir.join("sent");
    settings.outbox.file_sink = Some(sent.clone());

    let clock = Clock::system();
    let store = Store::open(&settings.database_url).await?;
    let mut conn = store.acquire().await?;
    store::state::sync_people(
        &mut conn,
        &settings.desk.id,
        &settings.people,
        store::millis(clock.now()),
    )
    .await?;
    drop(conn);
    let settings = Arc::new(settings);
    let pipeline = Pipeline::new(
        store.clone(),
        settings.clone(),
        clock.clone(),
        Arc::new(tokio::sync::Notify::new()),
    );

    println!(
        "leadgate demo: {} sample mails through the pipeline (database and sent mail in {})\n",
        MAILS.len(),
        dir.display()
    );
    println!("1. Ingest: classify, parse, route, store, queue the owners' emails");
    for (name, raw) in MAILS {
        let outcome = pipeline
            .ingest(raw, Origin::File(format!("demo/mail/{name}")))
            .await?;
        let what = match outcome {
            IngestOutcome::Stored {
                class,
                lead: Some(lead),
                ..
            } => format!("{class:<12} → lead #{lead}"),
            IngestOutcome::Stored { class, .. } => format!("{class:<12} → kept, no lead"),
            IngestOutcome::Duplicate { .. } => "duplicate".to_owned(),
        };
        println!("   {name:<30} {what}");
    }

    let worker = OutboxWorker::new(
        store.clone(),
        Transport::Files(sent.clone()),
        settings.outbox.clone(),
        clock.clone(),
    );
    let steps = worker.drain().await?;
    let sent_count = steps.iter().filter(|s| matches!(s, Step::Sent(_))).count();

    println!("\n2. Leads and their owners");
    let mut conn = store.acquire().await?;
    for l in store::leads::list(&mut conn, &Default::default()).await? {
        println!(
            "   #{} {:<14} {:<30} owner {:<6} ({})",
            l.id,
            l.name.as_deref().unwrap_or("-"),
            l.email
                .as_ref()
                .map_or("(no email: needs a template)", |e| e.as_str()),
            l.owner.as_deref().unwrap_or("nobody"),
            l.route_reason
        );
        for a in store::leads::history(&mut conn, l.id).await? {
            println!("        {:<12} {}", a.kind, a.detail);
        }
    }

    drop(conn);

    println!(
        "\n3. Emails sent ({sent_count}, written to {})",
        sent.display()
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(&sent)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    for f in files {
        let raw = std::fs::read(&f)?;
        let view = crate::parse::view(&raw);
        let to: Vec<String> = view.to.iter().map(|m| m.address.clone()).collect();
        let reply_to: Vec<String> = view.reply_to.iter().map(|m| m.address.clone()).collect();
        println!(
            "   ── {}",
            f.file_name().and_then(|n| n.to_str()).unwrap_or("")
        );
        println!(
            "   To: {}\n   Reply-To: {}\n   Subject: {}",
            to.join(", "),
            reply_to.join(", "),
            view.subject
        );
        for line in view.text.lines().take(14) {
            println!("   │ {line}");
        }
    }
    println!("\nEvery message is stored with its class; `leadgate messages` and `leadgate leads` list them against a real database.");
    store.close().await;
    Ok(())
}
