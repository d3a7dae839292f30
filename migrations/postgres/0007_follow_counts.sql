-- Follow counts join the status counters in account_stats, kept by triggers: rendering an
-- account that follows thousands no longer counts its follows (the benchmark's heavy user).
ALTER TABLE account_stats ADD COLUMN followers_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE account_stats ADD COLUMN following_count BIGINT NOT NULL DEFAULT 0;

INSERT INTO account_stats (account_id, statuses_count, last_status_at, followers_count, following_count)
SELECT a.id, 0, NULL,
       (SELECT COUNT(*) FROM follows f WHERE f.target_account_id = a.id),
       (SELECT COUNT(*) FROM follows f WHERE f.account_id = a.id)
FROM accounts a
ON CONFLICT (account_id) DO UPDATE SET
    followers_count = excluded.followers_count,
    following_count = excluded.following_count;

CREATE FUNCTION account_stats_follow_insert() RETURNS trigger AS $$
BEGIN
    INSERT INTO account_stats AS s (account_id, followers_count) VALUES (NEW.target_account_id, 1)
    ON CONFLICT (account_id) DO UPDATE SET followers_count = s.followers_count + 1;
    INSERT INTO account_stats AS s (account_id, following_count) VALUES (NEW.account_id, 1)
    ON CONFLICT (account_id) DO UPDATE SET following_count = s.following_count + 1;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER account_stats_follow_insert AFTER INSERT ON follows
FOR EACH ROW EXECUTE FUNCTION account_stats_follow_insert();

CREATE FUNCTION account_stats_follow_delete() RETURNS trigger AS $$
BEGIN
    UPDATE account_stats SET followers_count = GREATEST(followers_count - 1, 0)
    WHERE account_id = OLD.target_account_id;
    UPDATE account_stats SET following_count = GREATEST(following_count - 1, 0)
    WHERE account_id = OLD.account_id;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER account_stats_follow_delete AFTER DELETE ON follows
FOR EACH ROW EXECUTE FUNCTION account_stats_follow_delete();
