//! Logs and metrics. Logs: human-readable by default, JSON lines with `--log-format json`;
//! `RUST_LOG` filters as usual (default `info`, or `warn` for one-shot commands). Every line
//! of one message's life carries the fields of its [`message_span`] (`imap.uid` or the
//! file, then `message.row` and `lead.id` once known).
//!
//! Metrics: the names below are the contract of `GET /metrics` (Prometheus text format);
//! code records them with the `metrics` macros wherever the event happens, and
//! [`install_metrics`] makes the recorder that the HTTP endpoint renders.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use tracing_subscriber::EnvFilter;

/// Counter, label `class`: messages stored, by class (`notification`, `reply`, ...).
pub const MESSAGES: &str = "leadgate_messages_total";
/// Counter: new leads (resubmissions attached to an open lead are not counted).
pub const LEADS_CREATED: &str = "leadgate_leads_created_total";
/// Counter, label `rule`: leads routed, by the route rule that picked the owner; `account`
/// for an account's owner, `default` for the default owner, `none` when orphaned.
pub const ASSIGNMENTS: &str = "leadgate_assignments_total";
/// Counters: outbox rows delivered, scheduled for a retry, dead-lettered.
pub const OUTBOX_SENT: &str = "leadgate_outbox_sent_total";
pub const OUTBOX_RETRIED: &str = "leadgate_outbox_retried_total";
pub const OUTBOX_DEAD: &str = "leadgate_outbox_dead_total";
/// Gauges, set at each scrape: outbox rows waiting, and dead-lettered rows in the database.
pub const OUTBOX_PENDING: &str = "leadgate_outbox_pending";
pub const OUTBOX_DEAD_ROWS: &str = "leadgate_outbox_dead";
/// Counter: IMAP connection failures followed by a reconnect.
pub const IMAP_RECONNECTS: &str = "leadgate_imap_reconnects_total";
/// Histogram (seconds): one message through the pipeline, parse to commit.
pub const PROCESSING_SECONDS: &str = "leadgate_message_processing_seconds";
/// Gauge, label `kind` (`orphaned`, `unaccepted`, `no_first_reply`, `unanswered`,
/// `no_next_action`, `overdue`, `idle`): live leads drifting, as of the last sweep. Set by
/// the scheduler: `metrics::gauge!(DRIFT_LEADS, "kind" => kind).set(n as f64)`.
pub const DRIFT_LEADS: &str = "leadgate_drift_leads";
/// Gauge: 1 while this instance is the leader (runs the watcher and the scheduler).
pub const LEADER: &str = "leadgate_leader";

/// The `rule` label of [`ASSIGNMENTS`].
pub fn rule_label(a: &crate::domain::route::Assignment) -> String {
    match (&a.rule, &a.owner) {
        (Some(rule), _) => rule.clone(),
        (None, Some(_)) if a.reason.starts_with("account ") => "account".into(),
        (None, Some(_)) => "default".into(),
        (None, None) => "none".into(),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

pub fn init(format: LogFormat, default_level: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Human => builder.try_init(),
        // The span list puts `imap.uid`, `message.row` and `lead.id` on every line.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .try_init(),
    };
}

/// The process-wide Prometheus recorder (installed once; later calls return the same
/// handle). None only if another recorder was installed first.
pub fn install_metrics() -> Option<PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let buckets = [
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
            ];
            let handle = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(PROCESSING_SECONDS.into()), &buckets)
                .ok()?
                .install_recorder()
                .map_err(|e| tracing::warn!(error = %e, "metrics recorder not installed"))
                .ok()?;
            describe();
            Some(handle)
        })
        .clone()
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(MESSAGES, "Messages stored, by class");
    describe_counter!(LEADS_CREATED, "Leads created");
    describe_counter!(ASSIGNMENTS, "Leads routed, by route rule");
    describe_counter!(OUTBOX_SENT, "Outbox emails delivered");
    describe_counter!(
        OUTBOX_RETRIED,
        "Outbox sends that failed and will be retried"
    );
    describe_counter!(OUTBOX_DEAD, "Outbox emails dead-lettered");
    describe_gauge!(OUTBOX_PENDING, "Outbox emails waiting to be sent");
    describe_gauge!(
        OUTBOX_DEAD_ROWS,
        "Dead-lettered outbox emails in the database"
    );
    describe_counter!(
        IMAP_RECONNECTS,
        "IMAP connection failures followed by a reconnect"
    );
    describe_histogram!(
        PROCESSING_SECONDS,
        Unit::Seconds,
        "One message through the pipeline, parse to commit"
    );
    describe_gauge!(
        DRIFT_LEADS,
        "Live leads drifting, by kind, as of the last sweep"
    );
    describe_gauge!(
        LEADER,
        "1 while this instance runs the watcher and the scheduler"
    );
    // Present from the first scrape, so rates work before the first event.
    for name in [
        LEADS_CREATED,
        OUTBOX_SENT,
        OUTBOX_RETRIED,
        OUTBOX_DEAD,
        IMAP_RECONNECTS,
    ] {
        metrics::counter!(name).absolute(0);
    }
}
