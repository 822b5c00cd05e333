//! The `leadgate` command line: one subcommand per operator task, `--json` on listings,
//! `--config PATH` (or `LEADGATE_CONFIG`) everywhere.

mod drift;
mod leads;
mod mail;
mod ops;
mod sessions;

use crate::config::{self, Desks, Settings};
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
    /// The desk a command works on (`[desks]`): listings show every desk without it;
    /// commands on a lead take the lead's desk.
    #[arg(long, global = true, value_name = "ID")]
    pub desk: Option<String>,
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
        /// Switch a provider's recogniser off (repeatable), to see what the generic path
        /// makes of its mail: `--without-provider wpforms`.
        #[arg(long, value_name = "SOURCE")]
        without_provider: Vec<String>,
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
    /// Triage items waiting for a decision: a person's own mail, or a notification
    /// leadgate could not read (`/lead` or `/notlead` through its address decides it).
    Triage {
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
        /// The lead's id.
        id: i64,
        person: String,
        /// Why, for the history and the new owner.
        #[arg(long)]
        why: Option<String>,
        /// Who did it (a team member), for the history; default "cli".
        #[arg(long, value_name = "PERSON")]
        by: Option<String>,
    },
    /// Accept a lead: its owner (default), or `--as PERSON` taking an orphan.
    Accept {
        /// The lead's id.
        id: i64,
        #[arg(long = "as", value_name = "PERSON")]
        as_person: Option<String>,
    },
    /// Set the next action: `next 12 tomorrow 10:00 call back` (team time zone).
    Next {
        /// The lead's id.
        id: i64,
        /// WHEN then WHAT: `2026-11-27 10:00 send the quote`, `3d follow up`, ...
        #[arg(required = true, num_args = 2..)]
        when_what: Vec<String>,
        /// Who did it (a team member), for the history; default "cli".
        #[arg(long, value_name = "PERSON")]
        by: Option<String>,
    },
    /// The next action is done (it is cleared).
    Done {
        /// The lead's id.
        id: i64,
        /// Who did it (a team member), for the history; default "cli".
        #[arg(long, value_name = "PERSON")]
        by: Option<String>,
    },
    /// Change a lead's status: new, contacted, qualified, won, lost, archived, opted_out.
    Status {
        /// The lead's id.
        id: i64,
        status: String,
        /// Who did it (a team member), for the history; default "cli".
        #[arg(long, value_name = "PERSON")]
        by: Option<String>,
    },
    /// An internal note (never sent to the lead).
    Note {
        /// The lead's id.
        id: i64,
        #[arg(required = true)]
        text: Vec<String>,
        /// Who did it (a team member), for the history; default "cli".
        #[arg(long, value_name = "PERSON")]
        by: Option<String>,
    },
    /// No reminders about a lead until WHEN.
    Snooze {
        /// The lead's id.
        id: i64,
        #[arg(required = true)]
        when: Vec<String>,
        /// Who did it (a team member), for the history; default "cli".
        #[arg(long, value_name = "PERSON")]
        by: Option<String>,
    },
    /// Record that an address asked not to be contacted; its open leads become opted_out.
    Optout {
        email: String,
        /// How they asked, for the history.
        #[arg(long)]
        how: Option<String>,
        /// Who did it (a team member), for the history; default "cli".
        #[arg(long, value_name = "PERSON")]
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
    /// One drift pass as of that time: drift state, reminders, escalations, handoffs of
    /// unaccepted leads; what it queued is sent at once.
    Sweep {
        /// The time to sweep as of (RFC 3339); default now.
        #[arg(long)]
        now: Option<String>,
        /// Say what would be done; write and send nothing.
        #[arg(long)]
        dry_run: bool,
        /// How long to wait for a sweep in progress (a running daemon's) before giving up
        /// with a non-zero exit (PostgreSQL), e.g. "30s".
        #[arg(long, default_value = "30s")]
        lock_wait: String,
        #[arg(long)]
        json: bool,
    },
    /// The daily digest (or, with --weekly, the weekly review): printed, or sent.
    Digest {
        #[arg(long)]
        now: Option<String>,
        #[arg(long)]
        weekly: bool,
        /// Print it (the default).
        #[arg(long, conflicts_with = "send")]
        print: bool,
        /// Send it to [digest] to now.
        #[arg(long)]
        send: bool,
        /// Print the HTML part instead of the text.
        #[arg(long)]
        html: bool,
        /// Print the model as JSON.
        #[arg(long)]
        json: bool,
        /// With --weekly: also write the chart to this PNG file.
        #[arg(long)]
        chart: Option<PathBuf>,
        /// The operator's digest across desks (`[operator] to`), desks ranked by drift.
        #[arg(long, conflicts_with = "weekly")]
        operator: bool,
    },
    /// The ownership score and its figures over a period.
    Audit {
        /// A date (2026-11-16), a time, or a duration back from now (7d); default 7d.
        #[arg(long)]
        since: Option<String>,
        #[arg(long)]
        now: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The board's login sessions; `sessions revoke ID` ends one.
    Sessions {
        #[command(subcommand)]
        action: Option<SessionsCommand>,
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

#[derive(Subcommand, Debug)]
pub enum SessionsCommand {
    /// End a session at once: its cookie no longer opens the board.
    Revoke { id: i64 },
}

pub fn main() -> ExitCode {
    quiet_broken_pipe();
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
    let desk = cli.desk.as_deref();
    match cli.command {
        Command::CheckConfig => Ok(check_config(&cli.config)),
        Command::Demo { keep } => crate::demo::run(keep).await.map(|_| ExitCode::SUCCESS),
        Command::Parse {
            paths,
            json,
            template,
            without_provider,
        } => {
            let settings = optional_settings(&cli.config, desk)?;
            let mut ctx = settings
                .as_ref()
                .map(crate::pipeline::classify_context)
                .unwrap_or_default();
            ctx.providers_off = without_provider;
            mail::parse(&paths, json, template.as_deref(), ctx)
        }
        Command::Run => {
            let desks = load(&cli.config)?;
            crate::app::run(desks, crate::app::signals())
                .await
                .map(|_| ExitCode::SUCCESS)
        }
        Command::Import { paths, json } => {
            let desks = load(&cli.config)?;
            let desks = match desk {
                Some(_) => Desks::single((**desks.one(desk)?).clone()),
                None => desks,
            };
            mail::import(desks, &paths, json).await
        }
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
                desk: None,
                status,
                owner,
                needs_template,
                unaccepted,
                orphaned,
                limit: None,
            };
            leads::list(&load(&cli.config)?, desk, filter, drift, json).await
        }
        Command::Triage { json } => leads::triage(&load(&cli.config)?, desk, json).await,
        Command::Show { id, json } => leads::show(&load(&cli.config)?, desk, id, json).await,
        Command::Messages { class, limit, json } => {
            let desks = load(&cli.config)?;
            mail::messages(desks.shared(), class, limit, json).await
        }
        Command::Outbox { json } => mail::outbox(load(&cli.config)?.shared(), json).await,
        Command::Assign {
            id,
            person,
            why,
            by,
        } => {
            let op = ops::Op::Assign { id, person, why };
            ops::run(&load(&cli.config)?, desk, op, by).await
        }
        Command::Accept { id, as_person } => {
            let op = ops::Op::Accept { id, as_person };
            ops::run(&load(&cli.config)?, desk, op, None).await
        }
        Command::Next { id, when_what, by } => {
            let op = ops::Op::Next {
                id,
                words: when_what,
            };
            ops::run(&load(&cli.config)?, desk, op, by).await
        }
        Command::Done { id, by } => {
            ops::run(&load(&cli.config)?, desk, ops::Op::Done { id }, by).await
        }
        Command::Status { id, status, by } => {
            let op = ops::Op::Status { id, status };
            ops::run(&load(&cli.config)?, desk, op, by).await
        }
        Command::Note { id, text, by } => {
            let op = ops::Op::Note { id, words: text };
            ops::run(&load(&cli.config)?, desk, op, by).await
        }
        Command::Snooze { id, when, by } => {
            let op = ops::Op::Snooze { id, words: when };
            ops::run(&load(&cli.config)?, desk, op, by).await
        }
        Command::Optout { email, how, by } => {
            ops::run(
                &load(&cli.config)?,
                desk,
                ops::Op::OptOut { email, how },
                by,
            )
            .await
        }
        Command::SyncTeam { reassign } => {
            let desks = load(&cli.config)?;
            let mut code = ExitCode::SUCCESS;
            for s in desks.select(desk)? {
                code = worst(code, ops::sync_team(s, reassign).await?);
            }
            Ok(code)
        }
        Command::Sweep {
            now,
            dry_run,
            lock_wait,
            json,
        } => {
            let wait = config::parse_duration(&lock_wait)
                .map_err(|why| anyhow::anyhow!("--lock-wait {lock_wait:?}: {why}"))?;
            let desks = load(&cli.config)?;
            let mut code = ExitCode::SUCCESS;
            for s in desks.select(desk)? {
                let args = drift::SweepArgs {
                    now: now.as_deref(),
                    dry_run,
                    lock_wait: wait.unsigned_abs(),
                    json,
                };
                code = worst(code, drift::sweep(s, args).await?);
            }
            Ok(code)
        }
        Command::Digest {
            now,
            weekly,
            print: _,
            send,
            html,
            json,
            chart,
            operator,
        } => {
            let desks = load(&cli.config)?;
            let args = drift::DigestArgs {
                now: now.as_deref(),
                weekly,
                send,
                html,
                json,
                chart: chart.as_deref(),
            };
            if operator {
                let args = drift::DigestArgs {
                    chart: None,
                    ..args
                };
                return drift::operator_digest(&desks, args).await;
            }
            let mut code = ExitCode::SUCCESS;
            for s in desks.select(desk)? {
                code = worst(code, drift::digest(s, args).await?);
            }
            Ok(code)
        }
        Command::Sessions { action, json } => match action {
            None => sessions::list(load(&cli.config)?.shared(), json).await,
            Some(SessionsCommand::Revoke { id }) => {
                sessions::revoke(load(&cli.config)?.shared(), id).await
            }
        },
        Command::Audit { since, now, json } => {
            let desks = load(&cli.config)?;
            drift::audit(&desks, desk, since.as_deref(), now.as_deref(), json).await
        }
    }
}

/// The exit code of several runs (one per desk): the first failure, else success.
fn worst(so_far: ExitCode, next: ExitCode) -> ExitCode {
    if so_far == ExitCode::SUCCESS {
        next
    } else {
        so_far
    }
}

/// `leadgate leads | head` closes our stdout early; `println!` then panics. That is the
/// reader's choice, not an error: exit quietly instead of printing a panic.
fn quiet_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if text.contains("failed printing to stdout") && text.contains("Broken pipe") {
            std::process::exit(0);
        }
        default(info);
    }));
}

fn load(path: &Path) -> anyhow::Result<Desks> {
    Ok(config::load_desks(path)?)
}

/// `parse` works without a config (built-in recognisers only); with one, it also uses the
/// config's templates and relay addresses (of `--desk`, or the first desk).
fn optional_settings(path: &Path, desk: Option<&str>) -> anyhow::Result<Option<Settings>> {
    if !path.exists() && path == Path::new(config::DEFAULT_PATH) {
        return Ok(None);
    }
    let desks = load(path)?;
    let s = match desk {
        Some(_) => desks.one(desk)?,
        None => desks.shared(),
    };
    Ok(Some((**s).clone()))
}

fn check_config(path: &Path) -> ExitCode {
    match config::load_desks(path) {
        Ok(desks) => {
            let s = desks.shared();
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
            if desks.all.len() > 1 {
                for d in &desks.all {
                    println!(
                        "  desk {} ({}): {} people, {} routes",
                        d.desk.id,
                        d.desk.name,
                        d.people.len(),
                        d.routes.len()
                    );
                }
            }
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
