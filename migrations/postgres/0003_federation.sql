-- Federation: remote actors in accounts, activity ids for matching Accept / Undo, the delivery
-- queue, inbound idempotency, the node's own key, and tombstones of deleted statuses.

ALTER TABLE accounts ADD COLUMN ap_id TEXT;
ALTER TABLE accounts ADD COLUMN inbox_url TEXT;
ALTER TABLE accounts ADD COLUMN shared_inbox_url TEXT;
ALTER TABLE accounts ADD COLUMN followers_url TEXT;
ALTER TABLE accounts ADD COLUMN profile_url TEXT;
ALTER TABLE accounts ADD COLUMN key_id TEXT;
ALTER TABLE accounts ADD COLUMN avatar_url TEXT;
ALTER TABLE accounts ADD COLUMN header_url TEXT;
ALTER TABLE accounts ADD COLUMN fetched_at BIGINT;
CREATE UNIQUE INDEX accounts_ap_id ON accounts (ap_id);
CREATE INDEX accounts_key_id ON accounts (key_id);

ALTER TABLE follows ADD COLUMN ap_id TEXT;
ALTER TABLE follow_requests ADD COLUMN ap_id TEXT;
ALTER TABLE favourites ADD COLUMN ap_id TEXT;
ALTER TABLE media ADD COLUMN remote_url TEXT;

-- The node's own actor (/actor) signs fetches that are not on behalf of a user.
CREATE TABLE node_keys (
    id               BIGINT PRIMARY KEY NOT NULL,
    private_key_pem  TEXT   NOT NULL,
    public_key_pem   TEXT   NOT NULL,
    created_at       BIGINT NOT NULL
);

-- One row per delivery still to make (or given up on: state 'dead'); removed once delivered.
CREATE TABLE deliveries (
    id               BIGINT PRIMARY KEY NOT NULL,
    peer             TEXT   NOT NULL,
    inbox            TEXT   NOT NULL,
    activity         TEXT   NOT NULL,
    -- the local account whose key signs it
    signer_id        BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    state            TEXT   NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'dead')),
    last_error       TEXT,
    created_at       BIGINT NOT NULL
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_peer ON deliveries (peer, state);

-- Activity ids already processed: the same activity delivered twice has one effect.
CREATE TABLE inbox_seen (
    activity_id  TEXT   PRIMARY KEY NOT NULL,
    received_at  BIGINT NOT NULL
);

-- Deleted local statuses answer 410 Gone.
CREATE TABLE tombstones (
    uri         TEXT   PRIMARY KEY NOT NULL,
    deleted_at  BIGINT NOT NULL
);
