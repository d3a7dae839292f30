//! The notification policy and its requests: what `insert_notification!` filtered, grouped by
//! sender until the recipient accepts (the notifications join the list, the sender is never
//! filtered again) or dismisses (they are deleted).

use sqlx::FromRow;

use super::statuses::Page;
use super::{in_tx, on_pool, Store, StoreError};

/// Each answer is `accept`, `filter` or `drop`.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct NotificationPolicyRow {
    pub for_not_following: String,
    pub for_not_followers: String,
    pub for_new_accounts: String,
    pub for_private_mentions: String,
    pub for_limited_accounts: String,
}

impl Default for NotificationPolicyRow {
    /// What `POLICY_VERDICT_SQL` assumes without a row.
    fn default() -> Self {
        let accept = || "accept".to_string();
        NotificationPolicyRow {
            for_not_following: accept(),
            for_not_followers: accept(),
            for_new_accounts: accept(),
            for_private_mentions: accept(),
            for_limited_accounts: "filter".to_string(),
        }
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct NotificationRequestRow {
    pub id: i64,
    pub account_id: i64,
    pub from_account_id: i64,
    pub last_status_id: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Filtered notifications from the sender, now.
    pub notifications_count: i64,
}

const REQUEST_COLUMNS: &str = "r.id, r.account_id, r.from_account_id, r.last_status_id, \
     r.created_at, r.updated_at, (SELECT COUNT(*) FROM notifications n WHERE n.account_id = \
     r.account_id AND n.from_account_id = r.from_account_id AND n.filtered) AS notifications_count";

/// A request still waiting: some of its notifications are left (a block, a deleted status or
/// clearing the notifications may have taken them all).
const REQUEST_PENDING: &str = "EXISTS (SELECT 1 FROM notifications n WHERE n.account_id = \
     r.account_id AND n.from_account_id = r.from_account_id AND n.filtered)";

impl Store {
    pub async fn notification_policy(
        &self,
        account: i64,
    ) -> Result<NotificationPolicyRow, StoreError> {
        let row = on_pool!(self, |pool| sqlx::query_as(
            "SELECT for_not_following, for_not_followers, for_new_accounts, \
             for_private_mentions, for_limited_accounts FROM notification_policies \
             WHERE account_id = $1"
        )
        .bind(account)
        .fetch_optional(pool)
        .await)?;
        Ok(row.unwrap_or_default())
    }

    pub async fn set_notification_policy(
        &self,
        account: i64,
        p: &NotificationPolicyRow,
    ) -> Result<(), StoreError> {
        in_tx!(self, |tx| sqlx::query(
            "INSERT INTO notification_policies (account_id, for_not_following, \
             for_not_followers, for_new_accounts, for_private_mentions, for_limited_accounts) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id) DO UPDATE SET \
             for_not_following = excluded.for_not_following, \
             for_not_followers = excluded.for_not_followers, \
             for_new_accounts = excluded.for_new_accounts, \
             for_private_mentions = excluded.for_private_mentions, \
             for_limited_accounts = excluded.for_limited_accounts"
        )
        .bind(account)
        .bind(&p.for_not_following)
        .bind(&p.for_not_followers)
        .bind(&p.for_new_accounts)
        .bind(&p.for_private_mentions)
        .bind(&p.for_limited_accounts)
        .execute(&mut *tx)
        .await
        .map(|_| ())?);
        Ok(())
    }

    /// (pending requests, filtered notifications in them).
    pub async fn pending_notification_counts(
        &self,
        account: i64,
    ) -> Result<(i64, i64), StoreError> {
        let counts = on_pool!(self, |pool| sqlx::query_as(&format!(
            "SELECT (SELECT COUNT(*) FROM notification_requests r WHERE r.account_id = $1 \
                 AND {REQUEST_PENDING}), \
                 (SELECT COUNT(*) FROM notifications WHERE account_id = $1 AND filtered)"
        ))
        .bind(account)
        .fetch_one(pool)
        .await)?;
        Ok(counts)
    }

    /// A page of the account's requests, most recently updated first (paged by id, as
    /// Mastodon does).
    pub async fn notification_requests(
        &self,
        account: i64,
        page: &Page,
    ) -> Result<Vec<NotificationRequestRow>, StoreError> {
        let (cond, order, binds) = page.sql("r.id", 2);
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM notification_requests r \
             WHERE r.account_id = $1 AND {REQUEST_PENDING} AND {cond} \
             ORDER BY r.id {order} LIMIT {}",
            page.limit
        );
        let rows = on_pool!(self, |pool| {
            let mut q = sqlx::query_as::<_, NotificationRequestRow>(&sql).bind(account);
            for b in &binds {
                q = q.bind(b);
            }
            q.fetch_all(pool).await
        })?;
        Ok(page.finish(rows))
    }

    pub async fn notification_request(
        &self,
        account: i64,
        id: i64,
    ) -> Result<Option<NotificationRequestRow>, StoreError> {
        let sql = format!(
            "SELECT {REQUEST_COLUMNS} FROM notification_requests r \
             WHERE r.account_id = $1 AND r.id = $2 AND {REQUEST_PENDING}"
        );
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(account)
            .bind(id)
            .fetch_optional(pool)
            .await)?)
    }

    /// Accepts (`accept`) or dismisses the account's requests `ids`, in one transaction:
    /// accepted, their notifications join the list and the senders are never filtered again;
    /// dismissed, their notifications are deleted. Returns how many requests there were.
    pub async fn settle_notification_requests(
        &self,
        account: i64,
        ids: &[i64],
        accept: bool,
    ) -> Result<u64, StoreError> {
        let settled = in_tx!(self, |tx| {
            let mut settled = 0;
            for id in ids {
                let from: Option<i64> = sqlx::query_scalar(
                    "DELETE FROM notification_requests WHERE account_id = $1 AND id = $2 \
                     RETURNING from_account_id",
                )
                .bind(account)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(from) = from else { continue };
                settled += 1;
                let change = if accept {
                    sqlx::query(
                        "INSERT INTO notification_permissions (account_id, from_account_id) \
                         VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    )
                    .bind(account)
                    .bind(from)
                    .execute(&mut *tx)
                    .await?;
                    "UPDATE notifications SET filtered = FALSE \
                     WHERE account_id = $1 AND from_account_id = $2 AND filtered"
                } else {
                    "DELETE FROM notifications \
                     WHERE account_id = $1 AND from_account_id = $2 AND filtered"
                };
                sqlx::query(change)
                    .bind(account)
                    .bind(from)
                    .execute(&mut *tx)
                    .await?;
            }
            settled
        });
        Ok(settled)
    }
}
