-- Desks (DESIGN.md "Desks"): several teams in one database. Every lead belongs to one
-- desk; people, round-robin cursors and opt-outs are per desk (the same person may be on
-- several desks). Everything stored before desks existed is the one desk, `default`.
ALTER TABLE leads ADD COLUMN desk TEXT NOT NULL DEFAULT 'default';
CREATE INDEX leads_by_desk ON leads (desk, status);
-- A lead's lookups by address or domain are within its desk: the desk joins those indexes,
-- so that they stay the planner's choice over `leads_by_desk` (which would read the whole
-- desk for one address).
DROP INDEX leads_by_email;
CREATE INDEX leads_by_email ON leads (email_norm, desk, status);
DROP INDEX leads_by_domain;
CREATE INDEX leads_by_domain ON leads (email_domain, desk, status);

-- SQLite cannot change a primary key: the three tables are rebuilt with the desk in it.
CREATE TABLE people_by_desk (
    desk       TEXT NOT NULL DEFAULT 'default',
    id         TEXT NOT NULL,
    name       TEXT NOT NULL,
    email      TEXT NOT NULL,
    active     BIGINT NOT NULL DEFAULT 1,
    synced_at  BIGINT NOT NULL,
    PRIMARY KEY (desk, id)
);
INSERT INTO people_by_desk (desk, id, name, email, active, synced_at)
    SELECT 'default', id, name, email, active, synced_at FROM people;
DROP TABLE people;
ALTER TABLE people_by_desk RENAME TO people;

CREATE TABLE route_state_by_desk (
    desk        TEXT NOT NULL DEFAULT 'default',
    route       TEXT NOT NULL,
    last_person TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (desk, route)
);
INSERT INTO route_state_by_desk (desk, route, last_person, updated_at)
    SELECT 'default', route, last_person, updated_at FROM route_state;
DROP TABLE route_state;
ALTER TABLE route_state_by_desk RENAME TO route_state;

CREATE TABLE opt_outs_by_desk (
    desk       TEXT NOT NULL DEFAULT 'default',
    email_norm TEXT NOT NULL,
    at         BIGINT NOT NULL,
    how        TEXT NOT NULL,
    PRIMARY KEY (desk, email_norm)
);
INSERT INTO opt_outs_by_desk (desk, email_norm, at, how)
    SELECT 'default', email_norm, at, how FROM opt_outs;
DROP TABLE opt_outs;
ALTER TABLE opt_outs_by_desk RENAME TO opt_outs;
-- A global opt-out check looks an address up on every desk.
CREATE INDEX opt_outs_by_email ON opt_outs (email_norm);
