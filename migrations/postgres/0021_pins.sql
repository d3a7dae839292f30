-- Statuses an account pins to its profile (Mastodon's pins, the actor's `featured`
-- collection); remote accounts' pins as their Add and Remove activities tell.
CREATE TABLE status_pins (
    -- time-ordered: the newest pin is listed first
    id          BIGINT PRIMARY KEY NOT NULL,
    account_id  BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id   BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    UNIQUE (account_id, status_id)
);
CREATE INDEX status_pins_status ON status_pins (status_id);
