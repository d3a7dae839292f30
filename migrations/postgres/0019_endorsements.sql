-- Accounts one features on one's profile (Mastodon's endorsements, "pin" an account): only
-- accounts one follows, so an unfollow removes the endorsement.
CREATE TABLE endorsements (
    -- time-ordered, for pagination
    id                 BIGINT PRIMARY KEY NOT NULL,
    account_id         BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at         BIGINT NOT NULL,
    UNIQUE (account_id, target_account_id)
);

-- Follow suggestions a user dismissed: not suggested again.
CREATE TABLE suggestion_dismissals (
    account_id         BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at         BIGINT NOT NULL,
    PRIMARY KEY (account_id, target_account_id)
);
