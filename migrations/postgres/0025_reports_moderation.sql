-- Deliveries signed by the node's own actor (a forwarded report names no reporter).
ALTER TABLE deliveries ALTER COLUMN signer_id DROP NOT NULL;

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
