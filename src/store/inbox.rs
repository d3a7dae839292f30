//! The inbox queue (`inbox_jobs`): activities that passed the inbox's checks and need a fetch,
//! waiting for the inbox worker (`jobs::inbox`). A row is written in the same transaction as
//! the activity's `inbox_seen` mark, so an activity is either queued once or known as a
//! duplicate. One acted on in the request is marked seen after its effect.

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
    /// Whether an activity with this id was accepted before.
    pub async fn inbox_seen(&self, activity_id: &str) -> Result<bool, StoreError> {
        let n = on_pool!(self, |pool| sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM inbox_seen WHERE activity_id = $1"
        )
        .bind(activity_id)
        .fetch_one(pool)
        .await)?;
        Ok(n > 0)
    }

    /// Marks an activity seen that was acted on without being queued.
    pub async fn mark_inbox_seen(&self, activity_id: &str) -> Result<(), StoreError> {
        let now = super::now_millis();
        on_writer!(self, |pool| {
            sqlx::query(
            "INSERT INTO inbox_seen (activity_id, received_at) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        )
        .bind(activity_id)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ())
        })?;
        Ok(())
    }

    /// Marks `activity_id` seen and queues `body` for processing as `signer_id`'s, in one
    /// transaction, due at `due_at` (a worker of this process that takes the job at once queues
    /// it leased: due only should the process die before it is done). `None` (and nothing
    /// queued) when the id was seen before.
    pub async fn enqueue_inbox(
        &self,
        activity_id: &str,
        signer_id: i64,
        body: &str,
        due_at: i64,
    ) -> Result<Option<InboxJob>, StoreError> {
        let now = super::now_millis();
        let id = crate::ids::next_id();
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
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(id)
                .bind(activity_id)
                .bind(signer_id)
                .bind(body)
                .bind(now)
                .bind(due_at)
                .execute(&mut *tx)
                .await?;
            }
            fresh
        });
        Ok(queued.then(|| InboxJob {
            id,
            activity_id: activity_id.to_string(),
            signer_id,
            body: body.to_string(),
            attempts: 0,
        }))
    }

    /// Claims up to `limit` jobs due at `now`, oldest first, by pushing their next attempt to
    /// `lease_until`: should the process die while working on one, it becomes due again then.
    /// One statement; on PostgreSQL the rows are locked with `FOR UPDATE SKIP LOCKED`, so
    /// processes sharing one database never claim the same job; SQLite has a single writer.
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
        let claim = format!(
            "UPDATE inbox_jobs SET next_attempt_at = $1 WHERE id IN \
             (SELECT id FROM inbox_jobs WHERE next_attempt_at <= $2 \
              ORDER BY next_attempt_at, id LIMIT $3{lock}) \
             RETURNING id, activity_id, signer_id, body, attempts"
        );
        let mut jobs: Vec<InboxJob> = on_writer!(self, |pool| sqlx::query_as(&claim)
            .bind(lease_until)
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        // RETURNING gives no order: oldest first, as claimed.
        jobs.sort_by_key(|j| j.id);
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

    /// Removes jobs: processed, or dropped.
    pub async fn inbox_jobs_done(&self, ids: &[i64]) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "DELETE FROM inbox_jobs WHERE id IN ({})",
            super::placeholders(1, ids.len())
        );
        on_writer!(self, |pool| {
            let mut q = sqlx::query(&sql);
            for id in ids {
                q = q.bind(*id);
            }
            q.execute(pool).await.map(|_| ())
        })?;
        Ok(())
    }

    /// Makes due at `now` the jobs leased for their first attempt (never tried, due later: only
    /// a lease does that), so what a process that died was working on is not left waiting for
    /// its lease. Only for a database one process uses (SQLite): elsewhere the lease may be a
    /// live process's. Returns how many.
    pub async fn release_first_inbox_leases(&self, now: i64) -> Result<u64, StoreError> {
        let n = on_writer!(self, |pool| {
            sqlx::query(
            "UPDATE inbox_jobs SET next_attempt_at = $1 WHERE attempts = 0 AND next_attempt_at > $1"
        )
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
        })?;
        Ok(n)
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
