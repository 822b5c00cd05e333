//! Commands about leads: `leads`, `triage` and `show`.

use super::print_json;
use crate::config::Desks;
use crate::ops::view::{detail, views, LeadView};
use crate::store::leads::{self, LeadFilter};
use crate::store::Store;
use serde::Serialize;
use std::process::ExitCode;

pub async fn list(
    desks: &Desks,
    desk: Option<&str>,
    mut filter: LeadFilter,
    drift_kind: Option<String>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    if let Some(d) = desk {
        filter.desk = Some(desks.select(Some(d))?[0].desk.id.clone());
    }
    let store = Store::open(&desks.shared().database_url).await?;
    let mut conn = store.acquire().await?;
    let now = crate::clock::Clock::system().now();
    let rows = leads::list(&mut conn, &filter).await?;
    let several = desks.all.len() > 1;
    let views: Vec<LeadView> = views(desks, &rows, now)
        .into_iter()
        .filter(|v| drift_kind.as_ref().is_none_or(|k| v.drift.contains(k)))
        .collect();
    if json {
        print_json(&views)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY);
    let mut header = vec!["id"];
    if several {
        header.push("desk");
    }
    header.extend([
        "status",
        "owner",
        "name",
        "email",
        "source / form",
        "next action",
        "drift",
    ]);
    table.set_header(header);
    for v in views {
        let mut row = vec![v.id.to_string()];
        if several {
            row.push(v.desk.clone());
        }
        row.extend([
            v.status,
            match (&v.owner, v.accepted) {
                (Some(o), true) => o.clone(),
                (Some(o), false) => format!("{o} (not accepted)"),
                (None, _) => "-".into(),
            },
            v.name.unwrap_or_default(),
            v.email.unwrap_or_else(|| {
                if v.needs_template {
                    "(needs a template)".into()
                } else {
                    String::new()
                }
            }),
            format!(
                "{}{}",
                v.source,
                v.form.map(|f| format!(" / {f}")).unwrap_or_default()
            ),
            v.next_action
                .map(|n| {
                    format!(
                        "{} by {}",
                        n["what"].as_str().unwrap_or(""),
                        n["due"].as_str().unwrap_or("")
                    )
                })
                .unwrap_or_default(),
            v.drift.join(", "),
        ]);
        table.add_row(row);
    }
    println!("{table}");
    Ok(ExitCode::SUCCESS)
}

/// A triage item as `leadgate triage --json` prints it: the lead's fields plus what kind
/// of item it is and the start of what the person wrote.
#[derive(Serialize)]
pub struct TriageView {
    #[serde(flatten)]
    pub lead: LeadView,
    /// `inquiry` (a person's own mail) or `notification` (one leadgate could not read).
    pub class: &'static str,
    pub message: Option<String>,
}

pub async fn triage(desks: &Desks, desk: Option<&str>, json: bool) -> anyhow::Result<ExitCode> {
    let store = Store::open(&desks.shared().database_url).await?;
    let mut conn = store.acquire().await?;
    let now = crate::clock::Clock::system().now();
    let filter = LeadFilter {
        status: Some(crate::domain::lead::LeadStatus::Triage.as_str().into()),
        desk: match desk {
            Some(d) => Some(desks.select(Some(d))?[0].desk.id.clone()),
            None => None,
        },
        ..Default::default()
    };
    let rows = leads::list(&mut conn, &filter).await?;
    let views: Vec<TriageView> = views(desks, &rows, now)
        .into_iter()
        .zip(&rows)
        .map(|(lead, r)| TriageView {
            lead,
            class: if r.source == crate::pipeline::TRIAGE_INQUIRY_SOURCE {
                "inquiry"
            } else {
                "notification"
            },
            message: r
                .message
                .as_deref()
                .map(|m| crate::domain::notify::header_safe(m, 200)),
        })
        .collect();
    if json {
        print_json(&views)?;
        return Ok(ExitCode::SUCCESS);
    }
    if views.is_empty() {
        println!("Nothing waits for a decision.");
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_BORDERS_ONLY);
    table.set_header(["id", "kind", "owner", "from", "arrived", "drift", "text"]);
    for v in views {
        let from = match (&v.lead.name, &v.lead.email) {
            (Some(n), Some(e)) => format!("{n} <{e}>"),
            (n, e) => n.clone().or(e.clone()).unwrap_or_default(),
        };
        table.add_row([
            v.lead.id.to_string(),
            if v.class == "inquiry" {
                "inquiry".to_owned()
            } else {
                format!("notification ({})", v.lead.source)
            },
            v.lead.owner.clone().unwrap_or_else(|| "-".into()),
            from,
            v.lead.created_at.clone(),
            v.lead.drift.join(", "),
            v.message.unwrap_or_default().chars().take(60).collect(),
        ]);
    }
    println!("{table}");
    println!("Decide one by mail to its tracked address: /lead, /notlead why, or an answer to the sender.");
    Ok(ExitCode::SUCCESS)
}

/// Lead `id` with its history, when it is on one of `desks` (another desk's lead is not
/// there for whoever asks with these).
pub async fn show(
    desks: &Desks,
    desk: Option<&str>,
    id: i64,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let store = Store::open(&desks.shared().database_url).await?;
    let narrowed;
    let desks = match desk {
        Some(_) => {
            narrowed = Desks::single((**desks.one(desk)?).clone());
            &narrowed
        }
        None => desks,
    };
    let Some(d) = detail(&store, desks, id, crate::clock::Clock::system().now()).await? else {
        eprintln!("no lead #{id}; `leadgate leads` lists them");
        return Ok(ExitCode::from(1));
    };
    if json {
        print_json(&d)?;
        return Ok(ExitCode::SUCCESS);
    }
    let l = &d.lead;
    println!(
        "Lead #{} · {} · {}",
        l.id,
        l.status,
        l.name.as_deref().unwrap_or("(no name)")
    );
    println!("  desk:     {}", l.desk);
    println!(
        "  owner:    {}",
        match (&l.owner, l.accepted) {
            (Some(o), true) => format!("{o} (accepted)"),
            (Some(o), false) => format!("{o} (not accepted yet)"),
            (None, _) => "nobody (orphaned)".into(),
        }
    );
    println!("  why:      {}", l.route_reason);
    println!("  email:    {}", l.email.as_deref().unwrap_or("-"));
    println!("  phone:    {}", l.phone.as_deref().unwrap_or("-"));
    println!(
        "  source:   {}{}",
        l.source,
        l.form
            .as_ref()
            .map(|f| format!(" / {f}"))
            .unwrap_or_default()
    );
    println!(
        "  consent:  {}",
        crate::domain::notify::consent_text(d.consent)
    );
    if let Some(n) = &l.next_action {
        println!(
            "  next:     {} by {}",
            n["what"].as_str().unwrap_or(""),
            n["due"].as_str().unwrap_or("")
        );
    }
    if !l.drift.is_empty() {
        println!("  drift:    {}", l.drift.join(", "));
    }
    println!("  reply to: {}", l.tracked_address);
    if let Some(m) = d.fields["message"].as_str() {
        println!("  message:\n    {}", m.replace('\n', "\n    "));
    }
    if let Some(extra) = d.extra.as_object() {
        for (k, v) in extra {
            println!("  {k}: {}", v.as_str().unwrap_or(""));
        }
    }
    println!("History:");
    for a in &d.history {
        println!("  {}  {:<16} {:<10} {}", a.at, a.kind, a.actor, a.detail);
    }
    Ok(ExitCode::SUCCESS)
}
