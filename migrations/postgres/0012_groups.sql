-- Groups (FEP-1b12): a group is an account whose actor is a `Group`. Joining is following it;
-- a locked group takes follow requests its moderators decide. The group announces the posts
-- of its members to every member's node.
ALTER TABLE accounts ADD COLUMN is_group BOOLEAN NOT NULL DEFAULT FALSE;

-- The group a status was posted into (a local or remote group account): members of that group
-- may see it whatever its scope, and replies in its thread are sent to the group as well.
ALTER TABLE statuses ADD COLUMN group_id BIGINT REFERENCES accounts (id) ON DELETE SET NULL;
CREATE INDEX statuses_group ON statuses (group_id);

-- Settings of the groups hosted here.
CREATE TABLE groups (
    account_id  BIGINT PRIMARY KEY NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- who may post into it: its members, or any account on an allowed node
    posting     TEXT   NOT NULL DEFAULT 'members' CHECK (posting IN ('members', 'anyone')),
    created_by  BIGINT REFERENCES accounts (id) ON DELETE SET NULL,
    created_at  BIGINT NOT NULL
);

-- Owners and moderators: local accounts.
CREATE TABLE group_moderators (
    group_id    BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role        TEXT   NOT NULL CHECK (role IN ('owner', 'moderator')),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (group_id, account_id)
);
CREATE INDEX group_moderators_account ON group_moderators (account_id);

-- Accounts banned from a group: they cannot join again, and nothing of theirs is announced.
CREATE TABLE group_bans (
    group_id    BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    reason      TEXT   NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (group_id, account_id)
);
