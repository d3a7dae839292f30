-- Statuses to be posted later: what the app sent (Mastodon's `params`), posted by the
-- scheduled-statuses job once `scheduled_at` has come, under an idempotency key of the row's
-- id, so a crash between posting and removing the row never posts twice.
CREATE TABLE scheduled_statuses (
    id            BIGINT PRIMARY KEY NOT NULL,
    account_id    BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    scheduled_at  BIGINT NOT NULL,
    params        TEXT   NOT NULL,
    app_name      TEXT,
    app_website   TEXT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX scheduled_statuses_due ON scheduled_statuses (scheduled_at);
CREATE INDEX scheduled_statuses_account ON scheduled_statuses (account_id, id);
