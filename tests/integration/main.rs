//! Every integration test, in one binary: one link step instead of one per suite, and the
//! suites run side by side (`cargo test` ran separate binaries one after another). Test
//! paths carry the suite as their module: `spine::restart_misses_nothing_...`.
//!
//! Sharing one process means sharing the mail lab at the same moment: each test keeps to
//! its own `sN.test` domain, IMAP folder and Message-IDs (see [`support`] and
//! [`support::app`]); what must not overlap is said there.
//!
//! `scripts/test` runs this binary twice: every test on SQLite, then the modules that
//! start the daemon with a database (`TestApp`) again on PostgreSQL, chosen by module
//! name.

mod support;

// The layout of src/ (no circles between modules): reads the source, runs nothing.
mod architecture;

// The parser and classifier on files: no network, no database.
mod golden;
mod malformed;

// The IMAP and SMTP adapters against the mail lab.
mod imap_source;
mod smtp_sender;

// The daemon and CLI end to end (`TestApp`): mail lab and a database.
mod board;
mod desks;
mod drift;
mod ownership;
mod production;
mod relay;
mod spine;
mod triage;
