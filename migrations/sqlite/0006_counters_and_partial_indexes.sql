-- Per-account counters kept by triggers, so rendering an account does not count its statuses:
-- for a prolific author that was a scan of every one of their rows on each timeline page.
-- statuses_count counts what profiles show (no reblogs, no direct messages); last_status_at
-- is the newest status of any kind and is not lowered when a status is deleted.
CREATE TABLE account_stats (
    account_id      BIGINT PRIMARY KEY NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    statuses_count  BIGINT NOT NULL DEFAULT 0,
    last_status_at  BIGINT
);

INSERT INTO account_stats (account_id, statuses_count, last_status_at)
SELECT account_id,
       SUM(CASE WHEN reblog_of_id IS NULL AND visibility <> 'direct' THEN 1 ELSE 0 END),
       MAX(created_at)
FROM statuses GROUP BY account_id;

CREATE TRIGGER account_stats_status_insert AFTER INSERT ON statuses
BEGIN
    INSERT INTO account_stats (account_id, statuses_count, last_status_at)
    VALUES (NEW.account_id,
            CASE WHEN NEW.reblog_of_id IS NULL AND NEW.visibility <> 'direct' THEN 1 ELSE 0 END,
            NEW.created_at)
    ON CONFLICT (account_id) DO UPDATE SET
        statuses_count = statuses_count + excluded.statuses_count,
        last_status_at = MAX(COALESCE(last_status_at, 0), excluded.last_status_at);
END;

CREATE TRIGGER account_stats_status_delete AFTER DELETE ON statuses
WHEN OLD.reblog_of_id IS NULL AND OLD.visibility <> 'direct'
BEGIN
    UPDATE account_stats SET statuses_count = MAX(statuses_count - 1, 0)
    WHERE account_id = OLD.account_id;
END;

-- Most statuses are neither replies nor reblogs: index only those that are, so counting a
-- status's replies and reblogs stays an index probe whatever the planner's statistics say
-- (with ANALYZE statistics over a column that is almost all NULL, SQLite chose full scans).
DROP INDEX statuses_reblog_of;
CREATE INDEX statuses_reblog_of ON statuses (reblog_of_id) WHERE reblog_of_id IS NOT NULL;
DROP INDEX statuses_reply_to;
CREATE INDEX statuses_reply_to ON statuses (in_reply_to_id) WHERE in_reply_to_id IS NOT NULL;
