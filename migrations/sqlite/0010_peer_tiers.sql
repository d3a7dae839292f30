-- Tiers of allowed peers: `org` (a node of this organisation: receives every public status,
-- and its public statuses are listed here) or `partner` (federates through follows only).
ALTER TABLE federation_domains ADD COLUMN tier TEXT NOT NULL DEFAULT 'org'
    CHECK (tier IN ('org', 'partner'));

-- Backfill of an `org` peer's recent public statuses, one row per peer: resumable (the next
-- page to fetch is kept), removed when the peer stops being an `org` peer so that becoming one
-- again starts over (storing is idempotent: a status held already is not stored twice).
CREATE TABLE peer_backfills (
    domain           TEXT   PRIMARY KEY NOT NULL,
    state            TEXT   NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
    next_page        TEXT,
    fetched          BIGINT NOT NULL DEFAULT 0,
    stored           BIGINT NOT NULL DEFAULT 0,
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    last_error       TEXT,
    updated_at       BIGINT NOT NULL
);
