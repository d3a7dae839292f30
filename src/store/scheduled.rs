//! Statuses scheduled for later.

use sqlx::FromRow;

use super::statuses::Page;
use super::{in_tx, on_pool, Store, StoreError};

#[derive(Debug, Clone, FromRow)]
pub struct ScheduledRow {
    pub id: i64,
    pub account_id: i64,
    pub scheduled_at: i64,
    /// JSON, as `domain::scheduled` writes it.
    pub params: String,
    pub app_name: Option<String>,
    pub app_website: Option<String>,
    pub created_at: i64,
}

const COLUMNS: &str = "id, account_id, scheduled_at, params, app_name, app_website, created_at";

impl Store {
    pub async fn insert_scheduled(&self, row: &ScheduledRow) -> Result<(), StoreError> {
        in_tx!(self, |tx| sqlx::query(
            "INSERT INTO scheduled_statuses (id, account_id, scheduled_at, params, app_name, \
             app_website, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        )
        .bind(row.id)
        .bind(row.account_id)
        .bind(row.scheduled_at)
        .bind(&row.params)
        .bind(&row.app_name)
        .bind(&row.app_website)
        .bind(row.created_at)
        .execute(&mut *tx)
        .await
        .map(|_| ())?);
        Ok(())
    }

    /// `account`'s scheduled status `id`.
    pub async fn scheduled(
        &self,
        account: i64,
        id: i64,
    ) -> Result<Option<ScheduledRow>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM scheduled_statuses WHERE account_id = $1 AND id = $2");
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(account)
            .bind(id)
            .fetch_optional(pool)
            .await)?)
    }

    /// A page of `account`'s scheduled statuses, newest first.
    pub async fn scheduled_page(
        &self,
        account: i64,
        page: &Page,
    ) -> Result<Vec<ScheduledRow>, StoreError> {
        let (cond, order, binds) = page.sql("id", 2);
        let sql = format!(
            "SELECT {COLUMNS} FROM scheduled_statuses WHERE account_id = $1 AND {cond} \
             ORDER BY id {order} LIMIT {}",
            page.limit
        );
        let rows: Vec<ScheduledRow> = on_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql).bind(account);
            for b in &binds {
                q = q.bind(b);
            }
            q.fetch_all(pool).await
        })?;
        Ok(page.finish(rows))
    }

    /// Moves `account`'s scheduled status `id` to `at`; `false` if there is none.
    pub async fn reschedule(&self, account: i64, id: i64, at: i64) -> Result<bool, StoreError> {
        let n = in_tx!(self, |tx| sqlx::query(
            "UPDATE scheduled_statuses SET scheduled_at = $1 WHERE account_id = $2 AND id = $3"
        )
        .bind(at)
        .bind(account)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected());
        Ok(n > 0)
    }

    /// Removes `account`'s scheduled status `id`; `false` if there was none.
    pub async fn delete_scheduled(&self, account: i64, id: i64) -> Result<bool, StoreError> {
        let n = in_tx!(self, |tx| sqlx::query(
            "DELETE FROM scheduled_statuses WHERE account_id = $1 AND id = $2"
        )
        .bind(account)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected());
        Ok(n > 0)
    }

    /// Up to `limit` scheduled statuses due at `now`, the earliest first.
    pub async fn due_scheduled(
        &self,
        now: i64,
        limit: i64,
    ) -> Result<Vec<ScheduledRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM scheduled_statuses WHERE scheduled_at <= $1 \
             ORDER BY scheduled_at, id LIMIT $2"
        );
        Ok(on_pool!(self, |pool| sqlx::query_as(&sql)
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await)?)
    }

    /// How many statuses `account` has scheduled.
    pub async fn scheduled_count(&self, account: i64) -> Result<i64, StoreError> {
        Ok(on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM scheduled_statuses WHERE account_id = $1"
        )
        .bind(account)
        .fetch_one(pool)
        .await)?)
    }
}
