-- Insights: the days each local account used the node, this node's weekly figures, and the
-- weekly aggregates its `org` peers shared with it (counts only).

-- One row per local account and UTC day (days since the epoch) it made an authenticated
-- request: active users, retention cohorts.
CREATE TABLE account_activity (
    day         BIGINT NOT NULL,
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (day, account_id)
);
CREATE INDEX account_activity_account ON account_activity (account_id, day);

-- This node's exact figures for a week (weeks start on Monday 00:00 UTC; `week` is that
-- instant in milliseconds), as JSON, recomputed while the week may still change.
CREATE TABLE insight_weeks (
    week         BIGINT PRIMARY KEY NOT NULL,
    figures      TEXT   NOT NULL,
    computed_at  BIGINT NOT NULL
);

-- A peer's weekly aggregates as received (the object of its signed activity).
CREATE TABLE insight_reports (
    peer         TEXT   NOT NULL,
    week         BIGINT NOT NULL,
    report       TEXT   NOT NULL,
    received_at  BIGINT NOT NULL,
    PRIMARY KEY (peer, week)
);

-- What was last shared with each peer for a week (a digest of the document), so a week is
-- sent again only when it changed or did not arrive.
CREATE TABLE insight_sends (
    peer     TEXT   NOT NULL,
    week     BIGINT NOT NULL,
    digest   TEXT   NOT NULL,
    sent_at  BIGINT NOT NULL,
    PRIMARY KEY (peer, week)
);
