//! Hashtags as things to follow and look up: follows, use over the last days, and who follows
//! the tags of a new status.

use super::{in_tx, on_pool, Store, StoreError};

/// (tag id, lower-cased name, display spelling).
pub type TagRow = (i64, String, String);

impl Store {
    pub async fn tag_by_name(&self, name: &str) -> Result<Option<TagRow>, StoreError> {
        let sql = "SELECT id, name, display FROM tags WHERE name = $1";
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, TagRow>(sql)
            .bind(name.to_lowercase())
            .fetch_optional(pool)
            .await)?)
    }

    /// Follows a tag (known already or not); whether it was not followed before.
    pub async fn follow_tag(&self, account: i64, display: &str) -> Result<bool, StoreError> {
        let now = super::now_millis();
        let added = in_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO tags (id, name, display, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING",
            )
            .bind(crate::ids::next_id())
            .bind(display.to_lowercase())
            .bind(display)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO tag_follows (account_id, tag_id, created_at) \
                 SELECT $1, id, $2 FROM tags WHERE name = $3 ON CONFLICT DO NOTHING",
            )
            .bind(account)
            .bind(now)
            .bind(display.to_lowercase())
            .execute(&mut *tx)
            .await?
            .rows_affected()
                > 0
        });
        Ok(added)
    }

    pub async fn unfollow_tag(&self, account: i64, tag_id: i64) -> Result<bool, StoreError> {
        let n = in_tx!(self, |tx| {
            sqlx::query("DELETE FROM tag_follows WHERE account_id = $1 AND tag_id = $2")
                .bind(account)
                .bind(tag_id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    /// The tags `account` follows, most recently followed first.
    pub async fn followed_tags(&self, account: i64, limit: i64) -> Result<Vec<TagRow>, StoreError> {
        let sql =
            "SELECT t.id, t.name, t.display FROM tag_follows f JOIN tags t ON t.id = f.tag_id \
                   WHERE f.account_id = $1 ORDER BY f.created_at DESC, t.id DESC LIMIT $2";
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, TagRow>(sql)
            .bind(account)
            .bind(limit)
            .fetch_all(pool)
            .await)?)
    }

    pub async fn follows_tag(&self, account: i64, tag_id: i64) -> Result<bool, StoreError> {
        let sql = "SELECT 1 FROM tag_follows WHERE account_id = $1 AND tag_id = $2";
        Ok(on_pool!(self, |pool| sqlx::query_scalar::<_, i32>(sql)
            .bind(account)
            .bind(tag_id)
            .fetch_optional(pool)
            .await)?
        .is_some())
    }

    /// Per day since `since` (days since the epoch): statuses using the tag, and their authors.
    pub async fn tag_history(
        &self,
        tag_id: i64,
        since: i64,
    ) -> Result<Vec<(i64, i64, i64)>, StoreError> {
        let sql = "SELECT s.created_at / 86400000 AS day, COUNT(*), COUNT(DISTINCT s.account_id) \
                   FROM status_tags st JOIN statuses s ON s.id = st.status_id \
                   WHERE st.tag_id = $1 AND s.created_at >= $2 \
                   GROUP BY s.created_at / 86400000 ORDER BY day DESC";
        Ok(on_pool!(self, |pool| {
            sqlx::query_as::<_, (i64, i64, i64)>(sql)
                .bind(tag_id)
                .bind(since * 86_400_000)
                .fetch_all(pool)
                .await
        })?)
    }

    /// Local accounts following any of `names` (lower-cased).
    pub async fn tag_followers(&self, names: &[String]) -> Result<Vec<i64>, StoreError> {
        if names.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT DISTINCT f.account_id FROM tag_follows f JOIN tags t ON t.id = f.tag_id \
             JOIN accounts a ON a.id = f.account_id WHERE a.domain = '' AND t.name IN ({})",
            super::placeholders(1, names.len())
        );
        Ok(on_pool!(self, |pool| {
            let mut q = sqlx::query_scalar::<_, i64>(&sql);
            for n in names {
                q = q.bind(n);
            }
            q.fetch_all(pool).await
        })?)
    }

    /// Of `target`'s followers, those `viewer` follows (at most `limit`).
    pub async fn familiar_followers(
        &self,
        viewer: i64,
        target: i64,
        limit: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let sql = "SELECT f.account_id FROM follows f JOIN follows mine \
                   ON mine.target_account_id = f.account_id AND mine.account_id = $1 \
                   WHERE f.target_account_id = $2 AND f.account_id <> $1 ORDER BY f.id LIMIT $3";
        Ok(on_pool!(self, |pool| sqlx::query_scalar::<_, i64>(sql)
            .bind(viewer)
            .bind(target)
            .bind(limit)
            .fetch_all(pool)
            .await)?)
    }

    /// Local statuses written, tokens issued and local accounts created in [from, to).
    pub async fn activity_between(
        &self,
        from: i64,
        to: i64,
    ) -> Result<(i64, i64, i64), StoreError> {
        let statuses = "SELECT COUNT(*) FROM statuses s JOIN accounts a ON a.id = s.account_id \
                        WHERE a.domain = '' AND s.reblog_of_id IS NULL AND s.created_at >= $1 AND s.created_at < $2";
        let logins =
            "SELECT COUNT(DISTINCT account_id) FROM oauth_tokens WHERE account_id IS NOT NULL \
                      AND created_at >= $1 AND created_at < $2";
        let registrations = "SELECT COUNT(*) FROM accounts WHERE domain = '' AND NOT is_group \
                             AND created_at >= $1 AND created_at < $2";
        Ok(on_pool!(self, |pool| {
            let mut out = [0i64; 3];
            for (i, sql) in [statuses, logins, registrations].into_iter().enumerate() {
                out[i] = sqlx::query_scalar::<_, i64>(sql)
                    .bind(from)
                    .bind(to)
                    .fetch_one(pool)
                    .await?;
            }
            Ok::<_, sqlx::Error>((out[0], out[1], out[2]))
        })?)
    }
}
