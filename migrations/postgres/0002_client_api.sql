-- The client API: OAuth, statuses and what hangs off them, the home feed, notifications, media.

CREATE TABLE oauth_apps (
    id             BIGINT PRIMARY KEY NOT NULL,
    name           TEXT   NOT NULL,
    website        TEXT,
    -- newline-separated, as registered
    redirect_uris  TEXT   NOT NULL,
    scopes         TEXT   NOT NULL,
    client_id      TEXT   NOT NULL UNIQUE,
    client_secret  TEXT   NOT NULL,
    created_at     BIGINT NOT NULL
);

-- Codes and tokens are stored as SHA-256 hex digests: a leaked database grants no access.
CREATE TABLE oauth_codes (
    code_hash       TEXT   PRIMARY KEY NOT NULL,
    app_id          BIGINT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    account_id      BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    redirect_uri    TEXT   NOT NULL,
    scopes          TEXT   NOT NULL,
    code_challenge  TEXT,
    expires_at      BIGINT NOT NULL
);

CREATE TABLE oauth_tokens (
    id          BIGINT PRIMARY KEY NOT NULL,
    token_hash  TEXT   NOT NULL UNIQUE,
    app_id      BIGINT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    -- NULL for client_credentials (app-only) tokens
    account_id  BIGINT REFERENCES accounts (id) ON DELETE CASCADE,
    scopes      TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX oauth_tokens_account ON oauth_tokens (account_id);

CREATE TABLE statuses (
    id                      BIGINT PRIMARY KEY NOT NULL,
    account_id              BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- ActivityPub id for remote statuses; local ones derive theirs from the id
    uri                     TEXT UNIQUE,
    url                     TEXT,
    -- what the author typed (empty for reblogs and remote statuses)
    text                    TEXT    NOT NULL DEFAULT '',
    content                 TEXT    NOT NULL DEFAULT '',
    spoiler_text            TEXT    NOT NULL DEFAULT '',
    sensitive               BOOLEAN NOT NULL DEFAULT FALSE,
    visibility              TEXT    NOT NULL CHECK (visibility IN ('public', 'unlisted', 'private', 'direct')),
    language                TEXT,
    in_reply_to_id          BIGINT,
    in_reply_to_account_id  BIGINT,
    reblog_of_id            BIGINT REFERENCES statuses (id) ON DELETE CASCADE,
    app_name                TEXT,
    app_website             TEXT,
    created_at              BIGINT  NOT NULL,
    edited_at               BIGINT
);
CREATE INDEX statuses_account ON statuses (account_id, id);
CREATE INDEX statuses_reblog_of ON statuses (reblog_of_id);
CREATE INDEX statuses_reply_to ON statuses (in_reply_to_id);
-- One reblog per account and status.
CREATE UNIQUE INDEX statuses_one_reblog ON statuses (account_id, reblog_of_id);

CREATE TABLE status_edits (
    id            BIGINT PRIMARY KEY NOT NULL,
    status_id     BIGINT  NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    text          TEXT    NOT NULL,
    content       TEXT    NOT NULL,
    spoiler_text  TEXT    NOT NULL,
    sensitive     BOOLEAN NOT NULL,
    -- JSON array of media ids attached in this version
    media_ids     TEXT    NOT NULL DEFAULT '[]',
    created_at    BIGINT  NOT NULL
);
CREATE INDEX status_edits_status ON status_edits (status_id, id);

CREATE TABLE mentions (
    status_id   BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (status_id, account_id)
);
CREATE INDEX mentions_account ON mentions (account_id, status_id);

CREATE TABLE tags (
    id          BIGINT PRIMARY KEY NOT NULL,
    -- lower-cased; display keeps the first spelling seen
    name        TEXT   NOT NULL UNIQUE,
    display     TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);

CREATE TABLE status_tags (
    tag_id     BIGINT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    status_id  BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    PRIMARY KEY (tag_id, status_id)
);
CREATE INDEX status_tags_status ON status_tags (status_id);

CREATE TABLE follows (
    id                 BIGINT PRIMARY KEY NOT NULL,
    account_id         BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id  BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    show_reblogs       BOOLEAN NOT NULL DEFAULT TRUE,
    notify             BOOLEAN NOT NULL DEFAULT FALSE,
    created_at         BIGINT  NOT NULL,
    UNIQUE (account_id, target_account_id)
);
CREATE INDEX follows_target ON follows (target_account_id, id);

CREATE TABLE follow_requests (
    id                 BIGINT PRIMARY KEY NOT NULL,
    account_id         BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id  BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    show_reblogs       BOOLEAN NOT NULL DEFAULT TRUE,
    notify             BOOLEAN NOT NULL DEFAULT FALSE,
    created_at         BIGINT  NOT NULL,
    UNIQUE (account_id, target_account_id)
);
CREATE INDEX follow_requests_target ON follow_requests (target_account_id, id);

CREATE TABLE favourites (
    id          BIGINT PRIMARY KEY NOT NULL,
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id   BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    UNIQUE (account_id, status_id)
);
CREATE INDEX favourites_status ON favourites (status_id, id);

CREATE TABLE bookmarks (
    id          BIGINT PRIMARY KEY NOT NULL,
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id   BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    UNIQUE (account_id, status_id)
);

-- The materialised home timeline: written when a status is posted (fan-out on write), so
-- reading a page is one index range scan whatever the size of the node.
CREATE TABLE home_feed (
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id   BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    -- the author of the status (or the reblogger), so an unfollow can remove its entries
    author_id   BIGINT NOT NULL,
    PRIMARY KEY (account_id, status_id)
);
CREATE INDEX home_feed_author ON home_feed (account_id, author_id);

CREATE TABLE notifications (
    id               BIGINT PRIMARY KEY NOT NULL,
    account_id       BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    from_account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    type             TEXT   NOT NULL,
    status_id        BIGINT REFERENCES statuses (id) ON DELETE CASCADE,
    created_at       BIGINT NOT NULL
);
CREATE INDEX notifications_account ON notifications (account_id, id);

CREATE TABLE media (
    id            BIGINT PRIMARY KEY NOT NULL,
    account_id    BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id     BIGINT REFERENCES statuses (id) ON DELETE SET NULL,
    file_name     TEXT   NOT NULL,
    thumb_name    TEXT   NOT NULL,
    content_type  TEXT   NOT NULL,
    size          BIGINT NOT NULL,
    width         BIGINT NOT NULL,
    height        BIGINT NOT NULL,
    description   TEXT   NOT NULL DEFAULT '',
    focus_x       DOUBLE PRECISION NOT NULL DEFAULT 0,
    focus_y       DOUBLE PRECISION NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);
CREATE INDEX media_status ON media (status_id);

CREATE TABLE markers (
    account_id    BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    timeline      TEXT   NOT NULL,
    last_read_id  TEXT   NOT NULL,
    version       BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (account_id, timeline)
);

CREATE TABLE idempotency_keys (
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    key         TEXT   NOT NULL,
    status_id   BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (account_id, key)
);

-- Profile and posting preferences the client API exposes.
ALTER TABLE accounts ADD COLUMN bot BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE accounts ADD COLUMN default_privacy TEXT NOT NULL DEFAULT 'public';
ALTER TABLE accounts ADD COLUMN default_sensitive BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE accounts ADD COLUMN default_language TEXT;
