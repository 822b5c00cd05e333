-- leadgate schema, PostgreSQL. Times are Unix milliseconds (BIGINT); flags are 0/1 BIGINT so the
-- same queries run on PostgreSQL (migrations/sqlite holds the twin of this file).

CREATE TABLE people (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    email      TEXT NOT NULL,
    active     BIGINT NOT NULL DEFAULT 1,
    synced_at  BIGINT NOT NULL
);

CREATE TABLE leads (
    id               BIGSERIAL PRIMARY KEY,
    status           TEXT NOT NULL,
    owner            TEXT,
    accepted         BIGINT NOT NULL DEFAULT 0,
    assigned_at      BIGINT,
    source           TEXT NOT NULL,
    form             TEXT,
    name             TEXT,
    email            TEXT,
    email_norm       TEXT,
    email_domain     TEXT,
    phone            TEXT,
    company          TEXT,
    message          TEXT,
    consent          BIGINT,
    extra            TEXT NOT NULL DEFAULT '{}',
    needs_template   BIGINT NOT NULL DEFAULT 0,
    route_rule       TEXT,
    route_reason     TEXT NOT NULL DEFAULT '',
    next_action      TEXT,
    next_action_due  BIGINT,
    created_at       BIGINT NOT NULL,
    last_activity_at BIGINT NOT NULL,
    first_reply_at   BIGINT,
    last_inbound_at  BIGINT,
    last_outbound_at BIGINT,
    snoozed_until    BIGINT,
    previous_lead    BIGINT
);
CREATE INDEX leads_by_email ON leads (email_norm, status);
CREATE INDEX leads_by_domain ON leads (email_domain);
CREATE INDEX leads_by_owner ON leads (owner, status);
CREATE INDEX leads_by_status ON leads (status);

-- Every ingested message, once: dedupe_key is SHA-256 of Message-ID and body.
CREATE TABLE messages (
    id          BIGSERIAL PRIMARY KEY,
    dedupe_key  TEXT NOT NULL UNIQUE,
    raw_sha256  TEXT NOT NULL,
    message_id  TEXT,
    received_at BIGINT NOT NULL,
    origin      TEXT NOT NULL,
    class       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    sender      TEXT,
    subject     TEXT,
    lead_id     BIGINT REFERENCES leads (id),
    quarantined BIGINT NOT NULL DEFAULT 0,
    size        BIGINT NOT NULL,
    raw         BYTEA NOT NULL
);
CREATE INDEX messages_by_message_id ON messages (message_id);
CREATE INDEX messages_by_lead ON messages (lead_id);
CREATE INDEX messages_by_class ON messages (class);

-- Each time a message was seen (an IMAP UID, a file): a re-delivery is a sighting, not a lead.
CREATE TABLE sightings (
    id          BIGSERIAL PRIMARY KEY,
    message_row BIGINT NOT NULL REFERENCES messages (id),
    origin      TEXT NOT NULL,
    seen_at     BIGINT NOT NULL
);
CREATE INDEX sightings_by_message ON sightings (message_row);

CREATE TABLE activities (
    id          BIGSERIAL PRIMARY KEY,
    lead_id     BIGINT NOT NULL REFERENCES leads (id),
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    detail      TEXT NOT NULL,
    message_row BIGINT,
    outbox_id   BIGINT
);
CREATE INDEX activities_by_lead ON activities (lead_id, id);

CREATE TABLE outbox (
    id              BIGSERIAL PRIMARY KEY,
    created_at      BIGINT NOT NULL,
    purpose         TEXT NOT NULL,
    lead_id         BIGINT,
    message_id      TEXT NOT NULL,
    envelope_from   TEXT NOT NULL,
    recipients      TEXT NOT NULL,
    subject         TEXT NOT NULL,
    raw             BYTEA NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_owner     TEXT,
    lease_until     BIGINT,
    last_error      TEXT,
    sent_at         BIGINT,
    -- Set for mail that must never be sent twice (a reminder per lead, kind and period).
    once_key        TEXT UNIQUE
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_by_message_id ON outbox (message_id);

CREATE TABLE mailbox_state (
    mailbox     TEXT PRIMARY KEY,
    uidvalidity BIGINT NOT NULL,
    last_uid    BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE route_state (
    route       TEXT PRIMARY KEY,
    last_person TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE opt_outs (
    email_norm TEXT PRIMARY KEY,
    at         BIGINT NOT NULL,
    how        TEXT NOT NULL
);
