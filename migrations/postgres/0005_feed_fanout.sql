-- The home-feed fan-out queue. Posting writes the status, the author's own home-feed row and one
-- row here naming the other recipients; the fan-out worker turns it into home_feed rows in
-- batches and deletes it in the same transaction, so a crash never loses or half-applies it.
CREATE TABLE feed_fanout (
    status_id   BIGINT PRIMARY KEY NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    -- the author of the status (or the reblogger): home_feed.author_id
    author_id   BIGINT NOT NULL,
    -- JSON array of account ids whose home feeds get the status
    recipients  TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);
