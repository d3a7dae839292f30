//! Web Push subscriptions (one per access token) and the queue of pushes to send.

use sqlx::FromRow;

use super::{in_tx, on_pool, on_writer, Store, StoreError};

#[derive(Debug, Clone, FromRow)]
pub struct PushSubscriptionRow {
    pub id: i64,
    pub token_id: i64,
    pub account_id: i64,
    pub access_token: String,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    /// `,mention,follow,` (see the migration).
    pub alerts: String,
    pub policy: String,
    pub created_at: i64,
}

/// The notification types a subscription may ask for (Mastodon's `data[alerts]` keys).
pub const ALERTS: &[&str] = &[
    "mention",
    "status",
    "reblog",
    "follow",
    "follow_request",
    "favourite",
    "poll",
    "update",
    "admin.sign_up",
    "admin.report",
];

/// Does a stored `alerts` column ask for `kind`?
pub fn alert_on(column: &str, kind: &str) -> bool {
    column.contains(&format!(",{kind},"))
}

const COLUMNS: &str =
    "id, token_id, account_id, access_token, endpoint, p256dh, auth, alerts, policy, created_at";

/// A push that is due, with what sending it needs.
#[derive(Debug, Clone, FromRow)]
pub struct DuePush {
    pub subscription_id: i64,
    pub notification_id: i64,
    pub attempts: i64,
    pub account_id: i64,
    pub access_token: String,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
}

impl Store {
    /// Makes `row` the subscription of its token, replacing any earlier one (and its queue).
    pub async fn set_push_subscription(&self, row: &PushSubscriptionRow) -> Result<(), StoreError> {
        in_tx!(self, |tx| {
            sqlx::query("DELETE FROM push_subscriptions WHERE token_id = $1")
                .bind(row.token_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(&format!(
                "INSERT INTO push_subscriptions ({COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ))
            .bind(row.id)
            .bind(row.token_id)
            .bind(row.account_id)
            .bind(&row.access_token)
            .bind(&row.endpoint)
            .bind(&row.p256dh)
            .bind(&row.auth)
            .bind(&row.alerts)
            .bind(&row.policy)
            .bind(row.created_at)
            .execute(&mut *tx)
            .await
            .map(|_| ())?
        });
        Ok(())
    }

    pub async fn push_subscription_of_token(
        &self,
        token_id: i64,
    ) -> Result<Option<PushSubscriptionRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM push_subscriptions WHERE token_id = $1");
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(token_id)
            .fetch_optional(pool)
            .await)?)
    }

    /// Changes what the token's subscription asks for; false when it has none.
    pub async fn update_push_subscription(
        &self,
        token_id: i64,
        alerts: &str,
        policy: &str,
    ) -> Result<bool, StoreError> {
        let done = on_writer!(self, |pool| sqlx::query(
            "UPDATE push_subscriptions SET alerts = $2, policy = $3 WHERE token_id = $1"
        )
        .bind(token_id)
        .bind(alerts)
        .bind(policy)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done > 0)
    }

    pub async fn delete_push_subscription_of_token(&self, token_id: i64) -> Result<(), StoreError> {
        on_writer!(self, |pool| sqlx::query(
            "DELETE FROM push_subscriptions WHERE token_id = $1"
        )
        .bind(token_id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// The push service said the subscription is gone (404, 410): it goes with its queue.
    pub async fn drop_push_subscription(&self, id: i64) -> Result<(), StoreError> {
        on_writer!(self, |pool| sqlx::query(
            "DELETE FROM push_subscriptions WHERE id = $1"
        )
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Up to `limit` pushes due at `now`, oldest first, each leased until `lease_until` so the
    /// next scan leaves it while it is being sent.
    pub async fn claim_pushes(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<DuePush>, StoreError> {
        let select = "SELECT w.subscription_id, w.notification_id, w.attempts, p.account_id, \
             p.access_token, p.endpoint, p.p256dh, p.auth \
             FROM web_pushes w JOIN push_subscriptions p ON p.id = w.subscription_id \
             WHERE w.next_attempt_at <= $1 ORDER BY w.next_attempt_at, w.notification_id LIMIT $2";
        // Most rounds find nothing: look first without the writer (SQLite's one writer is
        // what posting waits for), and lease in a transaction only when something is due.
        let any: Option<i64> = on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT subscription_id FROM web_pushes WHERE next_attempt_at <= $1 LIMIT 1"
        )
        .bind(now)
        .fetch_optional(pool)
        .await)?;
        if any.is_none() {
            return Ok(Vec::new());
        }
        let due: Vec<DuePush> = in_tx!(self, |tx| {
            let due: Vec<DuePush> = sqlx::query_as(select)
                .bind(now)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
            for d in &due {
                sqlx::query(
                    "UPDATE web_pushes SET next_attempt_at = $3 \
                     WHERE subscription_id = $1 AND notification_id = $2",
                )
                .bind(d.subscription_id)
                .bind(d.notification_id)
                .bind(lease_until)
                .execute(&mut *tx)
                .await?;
            }
            due
        });
        Ok(due)
    }

    /// Drops every queued push (sending is turned off); returns how many.
    pub async fn clear_pushes(&self) -> Result<u64, StoreError> {
        Ok(on_writer!(self, |pool| sqlx::query(
            "DELETE FROM web_pushes"
        )
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?)
    }

    pub async fn push_done(&self, subscription: i64, notification: i64) -> Result<(), StoreError> {
        on_writer!(self, |pool| sqlx::query(
            "DELETE FROM web_pushes WHERE subscription_id = $1 AND notification_id = $2"
        )
        .bind(subscription)
        .bind(notification)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    pub async fn retry_push(
        &self,
        subscription: i64,
        notification: i64,
        attempts: i64,
        next_attempt_at: i64,
        error: &str,
    ) -> Result<(), StoreError> {
        on_writer!(self, |pool| sqlx::query(
            "UPDATE web_pushes SET attempts = $3, next_attempt_at = $4, last_error = $5 \
             WHERE subscription_id = $1 AND notification_id = $2"
        )
        .bind(subscription)
        .bind(notification)
        .bind(attempts)
        .bind(next_attempt_at)
        .bind(error)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }
}
