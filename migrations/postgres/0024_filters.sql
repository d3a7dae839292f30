-- Mastodon's filters (v2): a title, the contexts it applies in, what it does (warn, hide or
-- blur) and until when; matched by keywords and by chosen statuses.
CREATE TABLE filters (
    id          BIGINT PRIMARY KEY NOT NULL,
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title       TEXT NOT NULL,
    -- comma-separated: home, notifications, public, thread, account
    context     TEXT NOT NULL,
    action      TEXT NOT NULL,
    expires_at  BIGINT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX filters_account ON filters (account_id);

CREATE TABLE filter_keywords (
    id          BIGINT PRIMARY KEY NOT NULL,
    filter_id   BIGINT NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
    keyword     TEXT NOT NULL,
    whole_word  BOOLEAN NOT NULL
);
CREATE INDEX filter_keywords_filter ON filter_keywords (filter_id);

CREATE TABLE filter_statuses (
    id          BIGINT PRIMARY KEY NOT NULL,
    filter_id   BIGINT NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
    status_id   BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    UNIQUE (filter_id, status_id)
);
CREATE INDEX filter_statuses_status ON filter_statuses (status_id);
