//! The web console's sessions, and the few queries only its pages make.

use super::policy::AuditRow;
use super::{on_pool, on_writer, Store, StoreError};

impl Store {
    pub async fn insert_console_session(
        &self,
        token_hash: &str,
        account: i64,
        csrf: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        on_writer!(self, |pool| {
            sqlx::query(
            "INSERT INTO console_sessions (token_hash, account_id, csrf, created_at, last_seen_at) \
             VALUES ($1, $2, $3, $4, $4)"
        )
        .bind(token_hash)
        .bind(account)
        .bind(csrf)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ())
        })?;
        Ok(())
    }

    /// (account, csrf, last seen) of a session.
    pub async fn console_session(
        &self,
        token_hash: &str,
    ) -> Result<Option<(i64, String, i64)>, StoreError> {
        let sql =
            "SELECT account_id, csrf, last_seen_at FROM console_sessions WHERE token_hash = $1";
        Ok(on_pool!(self, |pool| sqlx::query_as::<
            _,
            (i64, String, i64),
        >(sql)
        .bind(token_hash)
        .fetch_optional(pool)
        .await)?)
    }

    pub async fn touch_console_session(
        &self,
        token_hash: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        on_writer!(self, |pool| sqlx::query(
            "UPDATE console_sessions SET last_seen_at = $2 WHERE token_hash = $1"
        )
        .bind(token_hash)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Ends a session, and every session idle since before `idle_before`.
    pub async fn end_console_session(
        &self,
        token_hash: &str,
        idle_before: i64,
    ) -> Result<(), StoreError> {
        on_writer!(self, |pool| sqlx::query(
            "DELETE FROM console_sessions WHERE token_hash = $1 OR last_seen_at < $2"
        )
        .bind(token_hash)
        .bind(idle_before)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Dead-lettered deliveries to `peer` are tried again now; how many.
    pub async fn retry_dead_deliveries(&self, peer: &str, now: i64) -> Result<u64, StoreError> {
        let n = on_writer!(self, |pool| sqlx::query(
            "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = $2 \
             WHERE peer = $1 AND state = 'dead'"
        )
        .bind(peer)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n)
    }

    /// The last error of a dead letter to each peer.
    pub async fn last_delivery_errors(&self) -> Result<Vec<(String, String)>, StoreError> {
        let sql = "SELECT d.peer, COALESCE(d.last_error, '') FROM deliveries d \
                   WHERE d.last_error IS NOT NULL AND d.id = (SELECT MAX(e.id) FROM deliveries e \
                   WHERE e.peer = d.peer AND e.last_error IS NOT NULL)";
        Ok(on_pool!(self, |pool| {
            sqlx::query_as::<_, (String, String)>(sql)
                .fetch_all(pool)
                .await
        })?)
    }

    /// The audit log filtered by an action prefix and an actor substring, newest first.
    pub async fn audit_log_filtered(
        &self,
        action_prefix: &str,
        actor: &str,
        limit: i64,
    ) -> Result<Vec<AuditRow>, StoreError> {
        let sql = "SELECT id, at, actor, action, domain, detail FROM federation_audit \
                   WHERE action LIKE $1 ESCAPE '\\' AND actor LIKE $2 ESCAPE '\\' ORDER BY id DESC LIMIT $3";
        let like = |s: &str| {
            s.replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        };
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, AuditRow>(sql)
            .bind(format!("{}%", like(action_prefix)))
            .bind(format!("%{}%", like(actor)))
            .bind(limit)
            .fetch_all(pool)
            .await)?)
    }
}
