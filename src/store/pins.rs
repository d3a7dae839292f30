//! Statuses pinned to a profile.

use super::deliveries::{insert_deliveries, NewDelivery};
use super::{in_tx, on_pool, Store, StoreError};

/// What pinning did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pinned {
    Added,
    AlreadyPinned,
    /// `account` has `limit` pins already: nothing written.
    LimitReached,
}

impl Store {
    /// Pins `status` for `account` unless it has `limit` pins (`None`: no limit, for what a
    /// peer says its accounts pinned), with the deliveries (an Add to the followers' nodes).
    pub async fn pin(
        &self,
        account: i64,
        status: i64,
        limit: Option<i64>,
        deliveries: &[NewDelivery],
    ) -> Result<Pinned, StoreError> {
        Ok(in_tx!(self, |tx| {
            // (this status pinned, all the account's pins) in one query.
            let (held, count): (i64, i64) = sqlx::query_as(
                "SELECT COALESCE(SUM(CASE WHEN status_id = $2 THEN 1 ELSE 0 END), 0), COUNT(*) \
                 FROM status_pins WHERE account_id = $1",
            )
            .bind(account)
            .bind(status)
            .fetch_one(&mut *tx)
            .await?;
            if held > 0 {
                Pinned::AlreadyPinned
            } else if limit.is_some_and(|l| count >= l) {
                Pinned::LimitReached
            } else {
                sqlx::query(
                    "INSERT INTO status_pins (id, account_id, status_id, created_at) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(crate::ids::next_id())
                .bind(account)
                .bind(status)
                .bind(super::now_millis())
                .execute(&mut *tx)
                .await?;
                insert_deliveries!(tx, deliveries)?;
                Pinned::Added
            }
        }))
    }

    /// Unpins; the deliveries (a Remove) are written only if it was pinned.
    pub async fn unpin(
        &self,
        account: i64,
        status: i64,
        deliveries: &[NewDelivery],
    ) -> Result<bool, StoreError> {
        Ok(in_tx!(self, |tx| {
            let n = sqlx::query("DELETE FROM status_pins WHERE account_id = $1 AND status_id = $2")
                .bind(account)
                .bind(status)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n > 0 {
                insert_deliveries!(tx, deliveries)?;
            }
            n > 0
        }))
    }

    /// The statuses `account` pinned, newest pin first.
    pub async fn pinned_statuses(&self, account: i64) -> Result<Vec<i64>, StoreError> {
        Ok(on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT status_id FROM status_pins WHERE account_id = $1 ORDER BY id DESC"
        )
        .bind(account)
        .fetch_all(pool)
        .await)?)
    }
}
