//! The `leadgate` command line: one subcommand per operator task, `--json` on listings,
//! `--config PATH` (or `LEADGATE_CONFIG`) everywhere.

mod leads;
mod mail;

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
