-- Deliveries signed by the node's own actor (a forwarded report names no reporter): signer_id
-- may be NULL. SQLite cannot drop NOT NULL, so the table is rebuilt as it was otherwise.
CREATE TABLE deliveries_new (
    id               BIGINT PRIMARY KEY NOT NULL,
    peer             TEXT   NOT NULL,
    inbox            TEXT   NOT NULL,
    activity         TEXT   NOT NULL,
    -- the local account whose key signs it; NULL: the node's own actor
    signer_id        BIGINT REFERENCES accounts (id) ON DELETE CASCADE,
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    state            TEXT   NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'dead')),
    last_error       TEXT,
    created_at       BIGINT NOT NULL
);
INSERT INTO deliveries_new (id, peer, inbox, activity, signer_id, attempts, next_attempt_at,
    state, last_error, created_at)
SELECT id, peer, inbox, activity, signer_id, attempts, next_attempt_at, state, last_error,
    created_at FROM deliveries;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_peer ON deliveries (peer, state);

-- Reports (Mastodon's): by a local user, or received from a peer (`uri`, the Flag's id; the
-- reporter is then the peer's node actor).
CREATE TABLE reports (
    id                          BIGINT PRIMARY KEY NOT NULL,
    account_id                  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id           BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    comment                     TEXT NOT NULL DEFAULT '',
    category                    TEXT NOT NULL,
    -- comma-separated ids
    status_ids                  TEXT NOT NULL DEFAULT '',
    rule_ids                    TEXT NOT NULL DEFAULT '',
    forwarded                   BOOLEAN NOT NULL DEFAULT FALSE,
    uri                         TEXT UNIQUE,
    assigned_account_id         BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    action_taken_by_account_id  BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    action_taken_at             BIGINT,
    created_at                  BIGINT NOT NULL,
    updated_at                  BIGINT NOT NULL
);
CREATE INDEX reports_target ON reports (target_account_id);
CREATE INDEX reports_reporter ON reports (account_id);

-- Moderation besides suspension (a column of accounts): limited to followers (silenced),
-- media forced sensitive, login disabled.
CREATE TABLE account_moderation (
    account_id  BIGINT PRIMARY KEY NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    silenced    BOOLEAN NOT NULL DEFAULT FALSE,
    sensitized  BOOLEAN NOT NULL DEFAULT FALSE,
    disabled    BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at  BIGINT NOT NULL
);

-- A notification about a report (`admin.report` to moderators, the reporter's when resolved).
ALTER TABLE notifications ADD COLUMN report_id BIGINT REFERENCES reports (id) ON DELETE CASCADE;
