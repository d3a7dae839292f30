-- Muted conversations (Mastodon's /api/v1/statuses/:id/mute): the status muted and the root of
-- its thread, as far up as the node holds it. A notification about any status under that root
-- is never written for the user.
CREATE TABLE thread_mutes (
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    root_id     BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    status_id   BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, root_id, status_id)
);
