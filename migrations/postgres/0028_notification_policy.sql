-- The notification policy (Mastodon's /api/v2/notifications/policy): per user, what becomes of
-- notifications from people they do not follow, who do not follow them, new accounts, private
-- mentions and accounts limited by moderators: accepted, filtered into a request, or dropped.
CREATE TABLE notification_policies (
    account_id            BIGINT PRIMARY KEY NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    for_not_following     TEXT NOT NULL,
    for_not_followers     TEXT NOT NULL,
    for_new_accounts      TEXT NOT NULL,
    for_private_mentions  TEXT NOT NULL,
    for_limited_accounts  TEXT NOT NULL
);

-- A filtered notification stays out of the list, streams and pushes until its request is
-- accepted.
ALTER TABLE notifications ADD COLUMN filtered BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX notifications_filtered ON notifications (account_id, from_account_id) WHERE filtered;

-- One request per recipient and sender with filtered notifications.
CREATE TABLE notification_requests (
    id               BIGINT PRIMARY KEY NOT NULL,
    account_id       BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    from_account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    last_status_id   BIGINT REFERENCES statuses (id) ON DELETE SET NULL,
    created_at       BIGINT NOT NULL,
    updated_at       BIGINT NOT NULL,
    UNIQUE (account_id, from_account_id)
);

-- Senders a user accepted a request from: their notifications are never filtered again.
CREATE TABLE notification_permissions (
    account_id       BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    from_account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, from_account_id)
);
