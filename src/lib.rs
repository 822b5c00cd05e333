//! leadgate: web-form notifications in a shared inbox become owned, tracked leads.
//!
//! ```text
//! source (IMAP IDLE | maildir | .eml | mbox)
//!    │ raw bytes, checkpoint
//!    ▼
//! pipeline ── parse (bytes → MessageView) ── classify ── extract ── match ── route
//!    │            one database transaction: message, lead, activities, outbox rows, checkpoint
//!    ▼
//! store (SQLite | PostgreSQL) ──► outbox worker ──► transport (SMTP | file sink)
//! scheduler (clock) ──► drift sweep ──► outbox
//! ```
//!
//! Module map:
//! - [`config`]: raw TOML/env settings validated once into [`config::Settings`], one per
//!   desk ([`config::Desks`]: `[desks] dir`, each desk leadgate.toml's shared sections with
//!   its own team).
//! - [`domain`]: the crate `leadgate-domain` (crates/domain): pure logic, no I/O and no
//!   wall clock: message view, classification, field extraction, triage, routing, tracked
//!   tokens, lead state, drift, the relay's decisions, owner notifications.
//! - [`parse`]: the only user of `mail-parser` (tests aside): bytes → [`domain::message::MessageView`],
//!   an mbox file → its messages.
//! - [`source`]: where raw mail comes from (IMAP watcher, files); one seam, several adapters.
//! - [`store`]: the only module that speaks SQL: the database behind one type, a unit of
//!   work ([`store::Tx`]) with its own error type, rows typed once. The unit of work
//!   holds message rows, emails and history back and writes them in bulk, before any
//!   query reads their table, so every caller batches.
//! - [`pipeline`]: one message = one transaction (read ahead, hold back and write in bulk,
//!   capture a lead with the routing snapshot); one pipeline per desk, chosen by
//!   [`pipeline::Intake`] (a desk's folder or account, or the shared mailbox by recipient).
//! - [`relay`]: tracked-address traffic (sender check, quick actions, trimming, rewriting;
//!   BCC logging, replies without the tracked address, bounces, opt-outs): reads the facts,
//!   lets `domain::relay::decide` plan, writes the plan.
//! - [`ops`]: lead operations (assign, accept, next, status, ...) shared by the CLI, quick
//!   actions and the scheduler, each inside the caller's transaction.
//! - [`outbox`]: every email is first a row written by [`outbox::enqueue`] in the
//!   decision's transaction; the worker delivers it, with retries.
//! - [`templates`]: the templates every email is written from (bundled, or the owner's);
//!   each email's kind is a [`domain::notify::Purpose`].
//! - [`clock`]: the only module that reads the wall clock.
//! - [`app`]: start-up of `leadgate run` and graceful shutdown.
//! - [`leader`]: leader election among instances sharing a PostgreSQL database.
//! - [`http`]: `/healthz`, `/metrics`, RFC 8058 one-click unsubscribe; mounts the board.
//! - [`board`]: the board: live leads on one server-rendered page, magic-link or proxy
//!   login, signed read-only view links, accept and next action through [`ops`].
//! - [`cli`], [`demo`], [`telemetry`]: the command line, the bundled demo, logs and metrics.
//! - [`scheduler`]: drift sweeps (reminders, escalations, acceptance timeout), the daily
//!   digest and the weekly review of each desk, the operator's digest across desks, on a
//!   clock and on demand.
//!
//! Invariants (each has a test):
//! 1. Every notification becomes exactly one lead, across crashes and restarts:
//!    the checkpoint is written in the transaction that records the message, and
//!    messages are deduplicated by Message-ID + body hash.
//! 2. Every email leadgate sends is first an outbox row written in the same transaction
//!    as the decision to send it.
//! 3. No message is deleted or lost: every ingested message is stored with its class.
//! 4. Nothing in the domain does I/O or reads the clock: its crate's manifest has no I/O
//!    crate, and tests/integration/architecture.rs checks that and the rest of this map.

pub mod app;
pub mod board;
pub mod cli;
pub mod clock;
pub mod config;
pub mod demo;
pub use leadgate_domain as domain;
pub mod http;
pub mod leader;
pub mod ops;
pub mod outbox;
pub mod parse;
pub mod pipeline;
pub mod relay;
pub mod scheduler;
pub mod source;
pub mod store;
pub mod telemetry;
pub mod templates;
