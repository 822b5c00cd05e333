-- The first acceptance window a lead missed (Unix ms), kept while the sweep hands it on
-- and cleared when someone accepts: a lead nobody accepted stays `unaccepted` (and in the
-- digest's "need an owner") however many times it is moved on.
ALTER TABLE leads ADD COLUMN unaccepted_since BIGINT;
