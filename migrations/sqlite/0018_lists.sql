-- Mastodon lists: named subsets of the accounts one follows, each with its own timeline read
-- from the owner's home feed. An exclusive list's members are left out of the home timeline.
CREATE TABLE lists (
    id              BIGINT  PRIMARY KEY NOT NULL,
    account_id      BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title           TEXT    NOT NULL,
    -- which replies to others the list's timeline shows (Mastodon's names)
    replies_policy  TEXT    NOT NULL DEFAULT 'list' CHECK (replies_policy IN ('followed', 'list', 'none')),
    exclusive       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at      BIGINT  NOT NULL
);
CREATE INDEX lists_account ON lists (account_id, id);

-- Members: accounts the owner follows (unfollowing removes them).
CREATE TABLE list_accounts (
    list_id     BIGINT NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (list_id, account_id)
);
CREATE INDEX list_accounts_account ON list_accounts (account_id);
