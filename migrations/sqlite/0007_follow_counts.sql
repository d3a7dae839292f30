-- Follow counts join the status counters in account_stats, kept by triggers: rendering an
-- account that follows thousands no longer counts its follows (the benchmark's heavy user).
ALTER TABLE account_stats ADD COLUMN followers_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE account_stats ADD COLUMN following_count BIGINT NOT NULL DEFAULT 0;

INSERT INTO account_stats (account_id, statuses_count, last_status_at, followers_count, following_count)
SELECT a.id, 0, NULL,
       (SELECT COUNT(*) FROM follows f WHERE f.target_account_id = a.id),
       (SELECT COUNT(*) FROM follows f WHERE f.account_id = a.id)
FROM accounts a
WHERE true
ON CONFLICT (account_id) DO UPDATE SET
    followers_count = excluded.followers_count,
    following_count = excluded.following_count;

CREATE TRIGGER account_stats_follow_insert AFTER INSERT ON follows
BEGIN
    INSERT INTO account_stats (account_id, followers_count) VALUES (NEW.target_account_id, 1)
    ON CONFLICT (account_id) DO UPDATE SET followers_count = followers_count + 1;
    INSERT INTO account_stats (account_id, following_count) VALUES (NEW.account_id, 1)
    ON CONFLICT (account_id) DO UPDATE SET following_count = following_count + 1;
END;

CREATE TRIGGER account_stats_follow_delete AFTER DELETE ON follows
BEGIN
    UPDATE account_stats SET followers_count = MAX(followers_count - 1, 0)
    WHERE account_id = OLD.target_account_id;
    UPDATE account_stats SET following_count = MAX(following_count - 1, 0)
    WHERE account_id = OLD.account_id;
END;
