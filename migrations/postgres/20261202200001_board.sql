-- The board's logins. Tokens and session ids are stored as their SHA-256 (hex), never as
-- themselves: a copy of the database lets no one log in.

-- Magic links: single use (used_at), valid until expires_at (Unix ms).
CREATE TABLE board_login_links (
    id          BIGSERIAL PRIMARY KEY,
    token_hash  TEXT NOT NULL UNIQUE,
    person      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);

-- Sessions: a cookie's hash, whose person, until when; revoked_at ends one early.
CREATE TABLE board_sessions (
    id           BIGSERIAL PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    person       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    revoked_at   BIGINT,
    how          TEXT NOT NULL
);
