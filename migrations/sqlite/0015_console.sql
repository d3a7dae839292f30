-- Sessions of the web console (/admin): the cookie's token and the CSRF token each form
-- carries, stored as the token's SHA-256 digest (a leaked database opens no session).
CREATE TABLE console_sessions (
    token_hash    TEXT   PRIMARY KEY NOT NULL,
    account_id    BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    csrf          TEXT   NOT NULL,
    created_at    BIGINT NOT NULL,
    last_seen_at  BIGINT NOT NULL
);
CREATE INDEX console_sessions_account ON console_sessions (account_id);
