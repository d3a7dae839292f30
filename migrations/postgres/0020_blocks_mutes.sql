-- What a user keeps out of their sight: accounts they block (either side of a block hides
-- each from the other), accounts they mute (for a while, or until unmuted; optionally their
-- notifications too) and whole peer nodes they block.
CREATE TABLE blocks (
    -- time-ordered, for pagination
    id                 BIGINT PRIMARY KEY NOT NULL,
    account_id         BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- a remote blocker's Block activity, so that an Undo naming it is matched
    ap_id              TEXT,
    created_at         BIGINT NOT NULL,
    UNIQUE (account_id, target_account_id)
);
CREATE INDEX blocks_target ON blocks (target_account_id);

CREATE TABLE mutes (
    id                 BIGINT  PRIMARY KEY NOT NULL,
    account_id         BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id  BIGINT  NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    notifications      BOOLEAN NOT NULL DEFAULT TRUE,
    -- NULL: until unmuted
    expires_at         BIGINT,
    created_at         BIGINT  NOT NULL,
    UNIQUE (account_id, target_account_id)
);

CREATE TABLE domain_blocks (
    id          BIGINT PRIMARY KEY NOT NULL,
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    domain      TEXT   NOT NULL,
    created_at  BIGINT NOT NULL,
    UNIQUE (account_id, domain)
);

-- Accounts of a blocked node, found by their domain.
CREATE INDEX accounts_domain ON accounts (domain);
