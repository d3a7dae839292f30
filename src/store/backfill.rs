//! Backfills of `org` peers' recent public statuses (`peer_backfills`): one row per peer, kept
//! in step with the policy, with the next page to fetch so that a backfill resumes where it
//! stopped.

use sqlx::FromRow;

use super::deliveries::{insert_deliveries, NewDelivery};
use super::{in_tx, on_pool, on_writer, Store, StoreError};

#[derive(Debug, Clone, FromRow)]
pub struct BackfillRow {
    pub domain: String,
    /// `pending`, `done` or `failed`.
    pub state: String,
    /// The page to fetch next; `None` before the first.
    pub next_page: Option<String>,
    /// Statuses read from the peer so far, and of those, stored here (not held before).
    pub fetched: i64,
    pub stored: i64,
    pub attempts: i64,
    pub last_error: Option<String>,
}

const COLUMNS: &str = "domain, state, next_page, fetched, stored, attempts, last_error";

impl Store {
    /// Makes the rows match `peers` (the `org` peers in force): a pending row for each new
    /// one, none for a domain that is no longer one (so becoming one again starts over).
    pub async fn sync_backfills(&self, peers: &[String]) -> Result<(), StoreError> {
        let now = super::now_millis();
        let existing: Vec<String> = on_pool!(self, |pool| sqlx::query_scalar::<_, String>(
            "SELECT domain FROM peer_backfills"
        )
        .fetch_all(pool)
        .await)?;
        let gone: Vec<&String> = existing.iter().filter(|d| !peers.contains(d)).collect();
        let new: Vec<&String> = peers.iter().filter(|d| !existing.contains(d)).collect();
        if gone.is_empty() && new.is_empty() {
            return Ok(());
        }
        in_tx!(self, |tx| {
            for d in &gone {
                sqlx::query("DELETE FROM peer_backfills WHERE domain = $1")
                    .bind(d.as_str())
                    .execute(&mut *tx)
                    .await?;
            }
            for d in &new {
                sqlx::query(
                    "INSERT INTO peer_backfills (domain, state, next_attempt_at, updated_at) \
                     VALUES ($1, 'pending', $2, $2) ON CONFLICT (domain) DO NOTHING",
                )
                .bind(d.as_str())
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
        });
        Ok(())
    }

    /// Pending backfills due at `now`.
    pub async fn due_backfills(&self, now: i64) -> Result<Vec<BackfillRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM peer_backfills WHERE state = 'pending' AND next_attempt_at <= $1 \
             ORDER BY domain"
        );
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, BackfillRow>(
            &sql
        )
        .bind(now)
        .fetch_all(pool)
        .await)?)
    }

    /// Every backfill, for the metrics.
    pub async fn backfills(&self) -> Result<Vec<BackfillRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM peer_backfills ORDER BY domain");
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, BackfillRow>(
            &sql
        )
        .fetch_all(pool)
        .await)?)
    }

    /// Records a page taken in: the next page (`None` and `done` when finished) and the counts.
    pub async fn save_backfill(&self, row: &BackfillRow) -> Result<(), StoreError> {
        let now = super::now_millis();
        on_writer!(self, |pool| sqlx::query(
            "UPDATE peer_backfills SET state = $1, next_page = $2, fetched = $3, stored = $4, \
             attempts = $5, last_error = $6, updated_at = $7 WHERE domain = $8"
        )
        .bind(&row.state)
        .bind(&row.next_page)
        .bind(row.fetched)
        .bind(row.stored)
        .bind(row.attempts)
        .bind(&row.last_error)
        .bind(now)
        .bind(&row.domain)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Records a finished backfill with the deliveries it causes (this node's discoverable
    /// profiles, to the peer), in one transaction.
    pub async fn finish_backfill(
        &self,
        row: &BackfillRow,
        deliveries: &[NewDelivery],
    ) -> Result<(), StoreError> {
        let now = super::now_millis();
        in_tx!(self, |tx| {
            sqlx::query(
                "UPDATE peer_backfills SET state = 'done', next_page = NULL, fetched = $1, \
                 stored = $2, attempts = $3, last_error = NULL, updated_at = $4 WHERE domain = $5",
            )
            .bind(row.fetched)
            .bind(row.stored)
            .bind(row.attempts)
            .bind(now)
            .bind(&row.domain)
            .execute(&mut *tx)
            .await?;
            insert_deliveries!(tx, deliveries)?;
        });
        Ok(())
    }

    /// Records a failed attempt: tried again at `retry_at`, or given up (`failed`).
    pub async fn backfill_failed(
        &self,
        domain: &str,
        attempts: i64,
        retry_at: Option<i64>,
        error: &str,
    ) -> Result<(), StoreError> {
        let now = super::now_millis();
        let state = if retry_at.is_some() {
            "pending"
        } else {
            "failed"
        };
        on_writer!(self, |pool| sqlx::query(
            "UPDATE peer_backfills SET state = $1, attempts = $2, next_attempt_at = $3, \
             last_error = $4, updated_at = $5 WHERE domain = $6"
        )
        .bind(state)
        .bind(attempts)
        .bind(retry_at.unwrap_or(now))
        .bind(error)
        .bind(now)
        .bind(domain)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }
}
