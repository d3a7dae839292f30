-- Polls (a status as a Question): local ones counted from their votes here, a peer's as its
-- node reports them in Create and Update.
CREATE TABLE polls (
    status_id     BIGINT PRIMARY KEY NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    expires_at    BIGINT,
    multiple      BOOLEAN NOT NULL,
    hide_totals   BOOLEAN NOT NULL DEFAULT FALSE,
    voters_count  BIGINT NOT NULL DEFAULT 0,
    -- a local poll whose counts changed since peers last heard (the polls job sends an Update)
    dirty         BOOLEAN NOT NULL DEFAULT FALSE,
    -- its end was told (notifications to author and voters, and the closing Update)
    ended         BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX polls_open ON polls (expires_at) WHERE NOT ended;
CREATE INDEX polls_dirty ON polls (status_id) WHERE dirty;

CREATE TABLE poll_options (
    status_id    BIGINT NOT NULL REFERENCES polls (status_id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    title        TEXT NOT NULL,
    votes_count  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (status_id, position)
);

-- One row per answer chosen; a peer's voter's rows carry the vote Note's id.
CREATE TABLE poll_votes (
    status_id   BIGINT NOT NULL REFERENCES polls (status_id) ON DELETE CASCADE,
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    choice      INTEGER NOT NULL,
    ap_id       TEXT,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (status_id, account_id, choice)
);
CREATE INDEX poll_votes_account ON poll_votes (account_id);
