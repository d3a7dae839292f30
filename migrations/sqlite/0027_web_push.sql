-- Web Push (Mastodon's /api/v1/push/subscription): one subscription per access token, and the
-- pushes waiting to be sent. A push is queued in the same statement group as its notification
-- and retried like a delivery; it goes with its notification or subscription.
CREATE TABLE push_subscriptions (
    id            BIGINT PRIMARY KEY NOT NULL,
    token_id      BIGINT NOT NULL UNIQUE REFERENCES oauth_tokens (id) ON DELETE CASCADE,
    account_id    BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- sent in every payload, as Mastodon does, so the app knows which of its logins it is for:
    -- the one token kept as itself, not as a digest (empty with push.send_access_token off)
    access_token  TEXT   NOT NULL,
    endpoint      TEXT   NOT NULL,
    -- base64url, as the app sent them: the user agent's P-256 key and its auth secret
    p256dh        TEXT   NOT NULL,
    auth          TEXT   NOT NULL,
    -- comma-delimited notification types, with a comma at each end: ",mention,follow,"
    alerts        TEXT   NOT NULL,
    -- all, followed, follower or none
    policy        TEXT   NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX push_subscriptions_account ON push_subscriptions (account_id);

CREATE TABLE web_pushes (
    subscription_id  BIGINT NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
    notification_id  BIGINT NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    last_error       TEXT,
    PRIMARY KEY (subscription_id, notification_id)
);
CREATE INDEX web_pushes_due ON web_pushes (next_attempt_at);
