-- Activities accepted by the inbox and not processed yet: the inbox answers once a row is
-- written (with the activity's inbox_seen mark, in one transaction), a worker processes it.
CREATE TABLE inbox_jobs (
    id               BIGINT PRIMARY KEY NOT NULL,
    activity_id      TEXT   NOT NULL UNIQUE,
    -- the verified signer, whose activity this is
    signer_id        BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    body             TEXT   NOT NULL,
    received_at      BIGINT NOT NULL,
    attempts         BIGINT NOT NULL DEFAULT 0,
    next_attempt_at  BIGINT NOT NULL,
    last_error       TEXT
);
CREATE INDEX inbox_jobs_due ON inbox_jobs (next_attempt_at);
