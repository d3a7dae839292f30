-- Announcements that replace the mass mail, and the `communicator` role that may publish them.

-- A communicator publishes announcements and has no other rights beyond a user's. Kept beside
-- `role` rather than in its CHECK list, which SQLite cannot change in place; the node reads the
-- two as one role (`AccountRow::effective_role`).
ALTER TABLE accounts ADD COLUMN communicator BOOLEAN NOT NULL DEFAULT FALSE;

-- An announcement: this node's own (origin '') or one an allowed peer published to the
-- organisation (origin: its domain, ap_id: its AS2 id).
CREATE TABLE announcements (
    id            BIGINT PRIMARY KEY NOT NULL,
    origin        TEXT    NOT NULL DEFAULT '',
    ap_id         TEXT    UNIQUE,
    -- the node's name the announcement is shown under (a peer's, for theirs)
    origin_name   TEXT    NOT NULL DEFAULT '',
    author_id     BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    -- what the author typed (ours), and the HTML shown
    text          TEXT    NOT NULL DEFAULT '',
    content       TEXT    NOT NULL,
    language      TEXT,
    -- `node`: this node only; `org`: also every peer that accepts announcements from it
    reach         TEXT    NOT NULL CHECK (reach IN ('node', 'org')),
    starts_at     BIGINT,
    ends_at       BIGINT,
    all_day       BOOLEAN NOT NULL DEFAULT FALSE,
    published_at  BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL,
    withdrawn_at  BIGINT,
    -- the last reminder asked for (by its origin), and whether staff's streams were told of the
    -- current version (it may start later than it was published)
    reminded_at   BIGINT,
    streamed      BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX announcements_active ON announcements (withdrawn_at, starts_at);

-- A dismissal is a read.
CREATE TABLE announcement_reads (
    announcement_id  BIGINT NOT NULL REFERENCES announcements (id) ON DELETE CASCADE,
    account_id       BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    read_at          BIGINT NOT NULL,
    PRIMARY KEY (announcement_id, account_id)
);

CREATE TABLE announcement_reactions (
    announcement_id  BIGINT NOT NULL REFERENCES announcements (id) ON DELETE CASCADE,
    account_id       BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name             TEXT   NOT NULL,
    created_at       BIGINT NOT NULL,
    PRIMARY KEY (announcement_id, account_id, name)
);

-- On the origin: the counts each peer reported (aggregates only: never who).
CREATE TABLE announcement_peer_counts (
    announcement_id  BIGINT NOT NULL REFERENCES announcements (id) ON DELETE CASCADE,
    peer             TEXT   NOT NULL,
    reached          BIGINT NOT NULL,
    read             BIGINT NOT NULL,
    -- JSON object: reaction name -> count
    reactions        TEXT   NOT NULL DEFAULT '{}',
    updated_at       BIGINT NOT NULL,
    PRIMARY KEY (announcement_id, peer)
);

-- On a receiving node: a report of counts owed to the origin, sent once due (coalesced, so a
-- burst of dismissals is one report).
CREATE TABLE announcement_reports (
    announcement_id  BIGINT PRIMARY KEY NOT NULL REFERENCES announcements (id) ON DELETE CASCADE,
    -- NULL: nothing owed
    due_at           BIGINT,
    last_sent_at     BIGINT,
    -- bumped by every change, so a report sent while another change came in is owed again
    version          BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX announcement_reports_due ON announcement_reports (due_at);

-- Per peer: whether announcements travel between this node and it (both ways). Without a row,
-- `org` peers do and partners do not.
CREATE TABLE peer_settings (
    domain         TEXT    PRIMARY KEY NOT NULL,
    announcements  BOOLEAN NOT NULL
);
