-- Accounts: local staff (domain = '') and, later, remote actors (domain = their node).
-- Timestamps are milliseconds since the Unix epoch on both backends.
CREATE TABLE accounts (
    id               BIGINT PRIMARY KEY NOT NULL,
    username         TEXT    NOT NULL,
    -- lower-cased username: uniqueness is case-insensitive, display keeps the user's spelling
    username_key     TEXT    NOT NULL,
    domain           TEXT    NOT NULL DEFAULT '',
    display_name     TEXT    NOT NULL DEFAULT '',
    note             TEXT    NOT NULL DEFAULT '',
    -- JSON array of {"name": ..., "value": ...}
    fields           TEXT    NOT NULL DEFAULT '[]',
    avatar_path      TEXT    NOT NULL DEFAULT '',
    header_path      TEXT    NOT NULL DEFAULT '',
    email            TEXT,
    password_hash    TEXT,
    private_key_pem  TEXT,
    public_key_pem   TEXT    NOT NULL,
    role             TEXT    NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'moderator', 'admin')),
    locked           BOOLEAN NOT NULL DEFAULT FALSE,
    discoverable     BOOLEAN NOT NULL DEFAULT TRUE,
    suspended        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL
);
CREATE UNIQUE INDEX accounts_username_domain ON accounts (username_key, domain);
CREATE UNIQUE INDEX accounts_email ON accounts (email);
