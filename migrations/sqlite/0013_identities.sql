-- Company identities (OpenID Connect, LDAP) linked to local accounts, and logins in progress.

-- One row per identity that has logged in. Accounts link by the provider's stable subject
-- (OIDC iss + sub; LDAP entryUUID, objectGUID or DN), never by username.
CREATE TABLE identities (
    id             BIGINT PRIMARY KEY NOT NULL,
    account_id     BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    provider       TEXT   NOT NULL CHECK (provider IN ('oidc', 'ldap')),
    -- OIDC: the issuer URL; LDAP: 'ldap'
    issuer         TEXT   NOT NULL,
    subject        TEXT   NOT NULL,
    -- the login name the provider gave last time (for the sync job and the audit log)
    login          TEXT   NOT NULL,
    -- JSON array of the groups the provider listed last time
    groups         TEXT   NOT NULL DEFAULT '[]',
    created_at     BIGINT NOT NULL,
    last_login_at  BIGINT NOT NULL,
    -- set when the identity was found gone or disabled and the account suspended
    retired_at     BIGINT,
    retired_reason TEXT
);
CREATE UNIQUE INDEX identities_subject ON identities (provider, issuer, subject);
CREATE INDEX identities_account ON identities (account_id);

-- An OpenID Connect login sent to the provider and not back yet: the state (its digest), the
-- nonce and PKCE verifier to check the answer with, and the app's authorization request to
-- continue. Taken (deleted) by the callback, so a state works once.
CREATE TABLE sso_logins (
    state_hash     TEXT   PRIMARY KEY NOT NULL,
    nonce          TEXT   NOT NULL,
    pkce_verifier  TEXT   NOT NULL,
    request        TEXT   NOT NULL,
    expires_at     BIGINT NOT NULL
);

-- A login the provider vouched for, waiting for the user to approve the app on the consent
-- page. Taken by that decision.
CREATE TABLE sso_consents (
    ticket_hash    TEXT   PRIMARY KEY NOT NULL,
    account_id     BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    request        TEXT   NOT NULL,
    expires_at     BIGINT NOT NULL
);
