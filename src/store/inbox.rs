//! The inbox queue (`inbox_jobs`): activities that passed the inbox's checks, waiting for the
//! inbox worker (`jobs::inbox`). A row is written in the same transaction as the activity's
//! `inbox_seen` mark, so an activity is either queued once or known as a duplicate.

use sqlx::FromRow;

use super::{in_tx, on_pool, on_writer, Pool, Store, StoreError};

/// One queued activity, as claimed by a worker.
#[derive(Debug, Clone, FromRow)]
pub struct InboxJob {
    pub id: i64,
    pub activity_id: String,
    pub signer_id: i64,
    pub body: String,
    pub attempts: i64,
}

impl Store {
    /// Marks `activity_id` seen and queues `body` for processing as `signer_id`'s, in one
    /// transaction. `false` (and nothing queued) when the id was seen before.
    pub async fn enqueue_inbox(
        &self,
        activity_id: &str,
        signer_id: i64,
        body: &str,
    ) -> Result<bool, StoreError> {
        let now = super::now_millis();
        let queued = in_tx!(self, |tx| {
            let fresh = sqlx::query(
                "INSERT INTO inbox_seen (activity_id, received_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(activity_id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if fresh {
                sqlx::query(
                    "INSERT INTO inbox_jobs (id, activity_id, signer_id, body, received_at, next_attempt_at) \
                     VALUES ($1, $2, $3, $4, $5, $5)",
                )
                .bind(crate::ids::next_id())
                .bind(activity_id)
                .bind(signer_id)
                .bind(body)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            fresh
        });
        Ok(queued)
    }

    /// Claims up to `limit` jobs due at `now`, oldest first, by pushing their next attempt to
    /// `lease_until`: should the process die while working on one, it becomes due again then.
    /// On PostgreSQL the rows are locked with `FOR UPDATE SKIP LOCKED`, so processes sharing one
    /// database never claim the same job; SQLite has a single writer (`BEGIN IMMEDIATE`).
    pub async fn claim_inbox_jobs(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<InboxJob>, StoreError> {
        let lock = match self.pool {
            Pool::Postgres(_) => " FOR UPDATE SKIP LOCKED",
            Pool::Sqlite(_) => "",
        };
        let select = format!(
            "SELECT id, activity_id, signer_id, body, attempts FROM inbox_jobs \
             WHERE next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2{lock}"
        );
        let jobs = in_tx!(self, |tx| {
            let jobs: Vec<InboxJob> = sqlx::query_as(&select)
                .bind(now)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
            for job in &jobs {
                sqlx::query("UPDATE inbox_jobs SET next_attempt_at = $1 WHERE id = $2")
                    .bind(lease_until)
                    .bind(job.id)
                    .execute(&mut *tx)
                    .await?;
            }
            jobs
        });
        Ok(jobs)
    }

    /// Sets a job's attempts and next attempt (a retry, or a claim given back).
    pub async fn reschedule_inbox_job(
        &self,
        id: i64,
        attempts: i64,
        next_at: i64,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        on_writer!(self, |pool| sqlx::query(
            "UPDATE inbox_jobs SET attempts = $1, next_attempt_at = $2, \
             last_error = COALESCE($3, last_error) WHERE id = $4"
        )
        .bind(attempts)
        .bind(next_at)
        .bind(error)
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Removes a job: processed, or dropped.
    pub async fn inbox_job_done(&self, id: i64) -> Result<(), StoreError> {
        on_writer!(self, |pool| sqlx::query(
            "DELETE FROM inbox_jobs WHERE id = $1"
        )
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// How many accepted activities wait for processing (including those being processed).
    pub async fn inbox_queue_depth(&self) -> Result<i64, StoreError> {
        let n = on_pool!(self, |pool| sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM inbox_jobs"
        )
        .fetch_one(pool)
        .await)?;
        Ok(n)
    }
}
