//! The `leadgate` command line: one subcommand per operator task, `--json` on listings,
//! `--config PATH` (or `LEADGATE_CONFIG`) everywhere.

mod leads;
mod mail;
mod ops;

use crate::config::{self, Settings};
use crate::telemetry::{self, LogFormat};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "leadgate",
    version,
    about = "Web-form notifications in a shared inbox become owned, tracked leads"
)]
pub struct Cli {
    /// The config file.
    #[arg(long, global = true, env = "LEADGATE_CONFIG", default_value = config::DEFAULT_PATH)]
    pub config: PathBuf,
    /// Log lines as human-readable text or JSON.
    #[arg(long, global = true, value_enum, default_value = "human")]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// The daemon: IMAP watcher, outbox sender.
    Run,
    /// Process .eml files, maildirs or mbox files through the pipeline.
    Import {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Classify and parse only; one JSON object per message with --json.
    Parse {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        #[arg(long)]
        json: bool,
        /// Try one [[templates]] entry of the config (by name) against the files.
        #[arg(long)]
        template: Option<String>,
    },
    /// List leads.
    Leads {
        #[arg(long)]
        status: Option<String>,
        #[arg(long)]
        owner: Option<String>,
        /// Only leads with this drift kind (orphaned, unaccepted, overdue, ...).
        #[arg(long)]
        drift: Option<String>,
        /// Only notifications that gave no submitter email.
        #[arg(long)]
        needs_template: bool,
        #[arg(long)]
        unaccepted: bool,
        #[arg(long)]
        orphaned: bool,
        #[arg(long)]
        json: bool,
    },
    /// One lead with its whole history.
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Hand a lead to PERSON (id, name or email); they must accept it.
    Assign {
        id: i64,
        person: String,
        /// Why, for the history and the new owner.
        #[arg(long)]
        why: Option<String>,
        /// Who hands it on (a team member), for the history.
        #[arg(long)]
        by: Option<String>,
    },
    /// Accept a lead: its owner (default), or `--as PERSON` taking an orphan.
    Accept {
        id: i64,
        #[arg(long = "as", value_name = "PERSON")]
        as_person: Option<String>,
    },
    /// Set the next action: `next 12 tomorrow 10:00 call back` (team time zone).
    Next {
        id: i64,
        /// WHEN then WHAT: `2026-11-27 10:00 send the quote`, `3d follow up`, ...
        #[arg(required = true, num_args = 2.., allow_hyphen_values = true)]
        when_what: Vec<String>,
        #[arg(long)]
        by: Option<String>,
    },
    /// The next action is done (it is cleared).
    Done {
        id: i64,
        #[arg(long)]
        by: Option<String>,
    },
    /// Change a lead's status: new, contacted, qualified, won, lost, archived, opted_out.
    Status {
        id: i64,
        status: String,
        #[arg(long)]
        by: Option<String>,
    },
    /// An internal note (never sent to the lead).
    Note {
        id: i64,
        #[arg(required = true, allow_hyphen_values = true)]
        text: Vec<String>,
        #[arg(long)]
        by: Option<String>,
    },
    /// No reminders about a lead until WHEN.
    Snooze {
        id: i64,
        #[arg(required = true)]
        when: Vec<String>,
        #[arg(long)]
        by: Option<String>,
    },
    /// Record that an address asked not to be contacted; its open leads become opted_out.
    Optout {
        email: String,
        /// How they asked, for the history.
        #[arg(long)]
        how: Option<String>,
        #[arg(long)]
        by: Option<String>,
    },
    /// Make the team in the database match the config (as `run` does at start); open
    /// leads of people who left are orphaned, and routed again with --reassign.
    SyncTeam {
        #[arg(long)]
        reassign: bool,
    },
    /// Every ingested message with its class.
    Messages {
        #[arg(long)]
        class: Option<String>,
        #[arg(long, default_value_t = 100)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// Emails in the outbox, pending, sent and dead.
    Outbox {
        #[arg(long)]
        json: bool,
    },
    /// Validate the config; every problem with its key and a fix.
    CheckConfig,
    /// The whole pipeline on bundled sample mail, no server needed.
    Demo {
        /// Keep the demo's database and sent mail in this folder instead of a temporary one.
        #[arg(long)]
        keep: Option<PathBuf>,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let default_level = match cli.command {
        Command::Run => "info",
        _ => "warn",
    };
    telemetry::init(cli.log_format, default_level);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(dispatch(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

async fn dispatch(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::CheckConfig => Ok(check_config(&cli.config)),
        Command::Demo { keep } => crate::demo::run(keep).await.map(|_| ExitCode::SUCCESS),
        Command::Parse {
            paths,
            json,
            template,
        } => {
            let settings = optional_settings(&cli.config)?;
            mail::parse(&paths, json, template.as_deref(), settings.as_ref())
        }
        Command::Run => {
            let settings = load(&cli.config)?;
            crate::app::run(settings).await.map(|_| ExitCode::SUCCESS)
        }
        Command::Import { paths, json } => mail::import(load(&cli.config)?, &paths, json).await,
        Command::Leads {
            status,
            owner,
            drift,
            needs_template,
            unaccepted,
            orphaned,
            json,
        } => {
            let filter = crate::store::leads::LeadFilter {
                status,
                owner,
                needs_template,
                unaccepted,
                orphaned,
                limit: None,
            };
            leads::list(load(&cli.config)?, filter, drift, json).await
        }
        Command::Show { id, json } => leads::show(load(&cli.config)?, id, json).await,
        Command::Messages { class, limit, json } => {
            mail::messages(load(&cli.config)?, class, limit, json).await
        }
        Command::Outbox { json } => mail::outbox(load(&cli.config)?, json).await,
        Command::Assign {
            id,
            person,
            why,
            by,
        } => ops::run(load(&cli.config)?, ops::Op::Assign { id, person, why }, by).await,
        Command::Accept { id, as_person } => {
            ops::run(load(&cli.config)?, ops::Op::Accept { id, as_person }, None).await
        }
        Command::Next { id, when_what, by } => {
            let op = ops::Op::Next {
                id,
                words: when_what,
            };
            ops::run(load(&cli.config)?, op, by).await
        }
        Command::Done { id, by } => ops::run(load(&cli.config)?, ops::Op::Done { id }, by).await,
        Command::Status { id, status, by } => {
            ops::run(load(&cli.config)?, ops::Op::Status { id, status }, by).await
        }
        Command::Note { id, text, by } => {
            let op = ops::Op::Note { id, words: text };
            ops::run(load(&cli.config)?, op, by).await
        }
        Command::Snooze { id, when, by } => {
            let op = ops::Op::Snooze { id, words: when };
            ops::run(load(&cli.config)?, op, by).await
        }
        Command::Optout { email, how, by } => {
            ops::run(load(&cli.config)?, ops::Op::OptOut { email, how }, by).await
        }
        Command::SyncTeam { reassign } => ops::sync_team(load(&cli.config)?, reassign).await,
    }
}

fn load(path: &Path) -> anyhow::Result<Settings> {
    Ok(config::load(path)?)
}

/// `parse` works without a config (built-in recognisers only); with one, it also uses the
/// config's templates and relay addresses.
fn optional_settings(path: &Path) -> anyhow::Result<Option<Settings>> {
    if !path.exists() && path == Path::new(config::DEFAULT_PATH) {
        return Ok(None);
    }
    load(path).map(Some)
}

fn check_config(path: &Path) -> ExitCode {
    match config::load(path) {
        Ok(s) => {
            println!(
                "{}: ok ({} people, {} routes, {} templates, imap {}, smtp {})",
                path.display(),
                s.people.len(),
                s.routes.len(),
                s.templates.len(),
                if s.imap.is_some() { "on" } else { "off" },
                if s.smtp.is_some() {
                    "on"
                } else {
                    "off (file sink)"
                },
            );
            ExitCode::SUCCESS
        }
        Err(config::ConfigError::Invalid(problems)) => {
            eprintln!("{}: {} problem(s)", path.display(), problems.len());
            for p in problems {
                eprintln!("  {}: {}\n      fix: {}", p.key, p.problem, p.fix);
            }
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(2)
        }
    }
}

/// Prints `value` as pretty JSON on stdout.
fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
