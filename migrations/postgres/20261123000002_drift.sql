-- Drift bookkeeping for the sweep (src/scheduler.rs). Times are Unix milliseconds.

-- One row per open drift episode of a lead: what the reminder rules must remember across
-- restarts. The row goes when the kind closes.
CREATE TABLE drift_state (
    lead_id       BIGINT NOT NULL,
    kind          TEXT NOT NULL,
    first_seen    BIGINT NOT NULL,
    last_reminded BIGINT,
    escalated     BIGINT,
    PRIMARY KEY (lead_id, kind)
);

-- Every episode, opened and (later) closed: the weekly review's "drift events opened and
-- closed" and the chart's drift per day.
CREATE TABLE drift_events (
    id        BIGSERIAL PRIMARY KEY,
    lead_id   BIGINT NOT NULL,
    kind      TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    closed_at BIGINT
);
CREATE INDEX drift_events_by_lead ON drift_events (lead_id, kind, closed_at);
CREATE INDEX drift_events_opened ON drift_events (opened_at);
CREATE INDEX drift_events_closed ON drift_events (closed_at);

-- Who a lead moved away from after not accepting it, so the next pick skips them.
CREATE TABLE drift_moves (
    lead_id BIGINT NOT NULL,
    person  TEXT NOT NULL,
    at      BIGINT NOT NULL,
    PRIMARY KEY (lead_id, person)
);

-- Scheduled jobs already done (`digest:daily:2026-11-24`), whether they sent mail or
-- found nothing to say: a clean day is not re-examined every minute.
CREATE TABLE scheduler_runs (
    key TEXT PRIMARY KEY,
    at  BIGINT NOT NULL
);
