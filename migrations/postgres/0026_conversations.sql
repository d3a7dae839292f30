-- Conversations (Mastodon's): a thread of direct statuses, keyed by its first direct status,
-- and each local participant's view of it.
CREATE TABLE direct_threads (
    status_id        BIGINT PRIMARY KEY NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    conversation_id  BIGINT NOT NULL
);

CREATE TABLE conversations (
    account_id       BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    conversation_id  BIGINT NOT NULL,
    -- its newest status; the conversation goes with it when it is deleted
    last_status_id   BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    unread           BOOLEAN NOT NULL,
    -- comma-separated: the other participants
    participant_ids  TEXT NOT NULL,
    PRIMARY KEY (account_id, conversation_id)
);
CREATE INDEX conversations_recent ON conversations (account_id, last_status_id);
