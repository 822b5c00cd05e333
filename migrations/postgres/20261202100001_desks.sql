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

ALTER TABLE people ADD COLUMN desk TEXT NOT NULL DEFAULT 'default';
ALTER TABLE people DROP CONSTRAINT people_pkey;
ALTER TABLE people ADD PRIMARY KEY (desk, id);

ALTER TABLE route_state ADD COLUMN desk TEXT NOT NULL DEFAULT 'default';
ALTER TABLE route_state DROP CONSTRAINT route_state_pkey;
ALTER TABLE route_state ADD PRIMARY KEY (desk, route);

ALTER TABLE opt_outs ADD COLUMN desk TEXT NOT NULL DEFAULT 'default';
ALTER TABLE opt_outs DROP CONSTRAINT opt_outs_pkey;
ALTER TABLE opt_outs ADD PRIMARY KEY (desk, email_norm);
-- A global opt-out check looks an address up on every desk.
CREATE INDEX opt_outs_by_email ON opt_outs (email_norm);
