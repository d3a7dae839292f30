//! The delivery queue: activities waiting to be sent to peer nodes. Rows are written inside the
//! transaction of the change that causes them (`insert_deliveries!`) and claimed by the
//! delivery worker (`jobs::delivery`).

use sqlx::FromRow;

use super::{on_pool, on_writer, Store, StoreError};

/// A delivery to enqueue.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub peer: String,
    pub inbox: String,
    pub activity: String,
    /// The local account whose key signs it; `None`: the node's own actor.
    pub signer_id: Option<i64>,
}

#[derive(Debug, Clone, FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub peer: String,
    pub inbox: String,
    pub activity: String,
    pub signer_id: Option<i64>,
    pub attempts: i64,
}

impl Store {
    /// Up to `limit` pending deliveries due at `now`, oldest first, skipping `open_peers`
    /// (peers whose circuit breaker is open).
    /// Due deliveries, oldest first, leaving out peers in `busy` (those with every slot in
    /// use), so a backlog for one peer cannot hide the others' deliveries.
    pub async fn due_deliveries(
        &self,
        now: i64,
        limit: i64,
        busy: &[String],
    ) -> Result<Vec<DeliveryRow>, StoreError> {
        let skip = if busy.is_empty() {
            String::new()
        } else {
            format!(" AND peer NOT IN ({})", super::placeholders(3, busy.len()))
        };
        let sql = format!(
            "SELECT id, peer, inbox, activity, signer_id, attempts FROM deliveries \
             WHERE state = 'pending' AND next_attempt_at <= $1{skip} \
             ORDER BY next_attempt_at, id LIMIT $2"
        );
        let rows = on_pool!(self, |pool| {
            let mut q = sqlx::query_as::<_, DeliveryRow>(&sql).bind(now).bind(limit);
            for peer in busy {
                q = q.bind(peer);
            }
            q.fetch_all(pool).await
        })?;
        Ok(rows)
    }

    /// Makes due at `now` the pending deliveries leased for their first attempt (or deferred
    /// while their peer's circuit was open), like
    /// [`Store::release_first_inbox_leases`](crate::store::Store::release_first_inbox_leases),
    /// and only for a database one process uses. Returns how many.
    pub async fn release_first_delivery_leases(&self, now: i64) -> Result<u64, StoreError> {
        let n = on_writer!(self, |pool| sqlx::query(
            "UPDATE deliveries SET next_attempt_at = $1 \
             WHERE state = 'pending' AND attempts = 0 AND next_attempt_at > $1"
        )
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(n)
    }

    /// Pushes a delivery's next attempt out (claimed by a worker, or scheduled for a retry).
    pub async fn reschedule_delivery(
        &self,
        id: i64,
        attempts: i64,
        next_at: i64,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        on_writer!(self, |pool| {
            sqlx::query(
            "UPDATE deliveries SET attempts = $1, next_attempt_at = $2, last_error = COALESCE($3, last_error) WHERE id = $4"
        )
        .bind(attempts)
        .bind(next_at)
        .bind(error)
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
        })?;
        Ok(())
    }

    pub async fn delivery_done(&self, id: i64) -> Result<(), StoreError> {
        on_writer!(self, |pool| sqlx::query(
            "DELETE FROM deliveries WHERE id = $1"
        )
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    pub async fn delivery_dead(
        &self,
        id: i64,
        attempts: i64,
        error: &str,
    ) -> Result<(), StoreError> {
        on_writer!(self, |pool| sqlx::query(
            "UPDATE deliveries SET state = 'dead', attempts = $1, last_error = $2 WHERE id = $3"
        )
        .bind(attempts)
        .bind(error)
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// (pending, dead) deliveries per peer.
    pub async fn delivery_counts(&self) -> Result<Vec<(String, String, i64)>, StoreError> {
        let sql = "SELECT peer, state, COUNT(*) FROM deliveries GROUP BY peer, state ORDER BY peer, state";
        let rows = on_pool!(self, |pool| sqlx::query_as::<_, (String, String, i64)>(sql)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// Failed attempts of queued deliveries, per peer.
    pub async fn delivery_failures(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let sql = "SELECT peer, CAST(COALESCE(SUM(attempts), 0) AS BIGINT) FROM deliveries GROUP BY peer ORDER BY peer";
        let rows = on_pool!(self, |pool| sqlx::query_as::<_, (String, i64)>(sql)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }
}

/// Inserts a delivery on any connection or transaction (a macro for the same reason as
/// `insert_notification!`).
macro_rules! insert_delivery {
    ($executor:expr, $d:expr) => {{
        let d: &$crate::store::deliveries::NewDelivery = $d;
        let now = $crate::store::now_millis();
        sqlx::query(
            "INSERT INTO deliveries (id, peer, inbox, activity, signer_id, next_attempt_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6)",
        )
        .bind($crate::ids::next_id())
        .bind(&d.peer)
        .bind(&d.inbox)
        .bind(&d.activity)
        .bind(d.signer_id)
        .bind(now)
        .execute($executor)
        .await
        .map(|_| ())
    }};
}
pub(crate) use insert_delivery;

/// Inserts the deliveries a change causes inside that change's own transaction (`$tx` as bound
/// by `in_tx!`), so the change and its deliveries commit together or not at all: a crash can
/// no longer leave a change that peers never hear of. Every write that federates takes its
/// `&[NewDelivery]` and calls this; there is no stand-alone enqueue.
macro_rules! insert_deliveries {
    ($tx:ident, $deliveries:expr) => {{
        let mut result: Result<(), sqlx::Error> = Ok(());
        for d in $deliveries {
            if let Err(e) = $crate::store::deliveries::insert_delivery!(&mut *$tx, d) {
                result = Err(e);
                break;
            }
        }
        result
    }};
}
pub(crate) use insert_deliveries;
