-- Federation policy managed by admins (on top of the configuration file), and its audit log.

CREATE TABLE federation_domains (
    id          BIGINT PRIMARY KEY NOT NULL,
    domain      TEXT   NOT NULL,
    kind        TEXT   NOT NULL CHECK (kind IN ('allow', 'block')),
    created_at  BIGINT NOT NULL,
    UNIQUE (domain, kind)
);

CREATE TABLE federation_settings (
    key    TEXT PRIMARY KEY NOT NULL,
    value  TEXT NOT NULL
);

-- Append-only: rows are inserted, never updated or deleted.
CREATE TABLE federation_audit (
    id      BIGINT PRIMARY KEY NOT NULL,
    at      BIGINT NOT NULL,
    actor   TEXT   NOT NULL,
    action  TEXT   NOT NULL,
    domain  TEXT,
    detail  TEXT   NOT NULL DEFAULT ''
);
