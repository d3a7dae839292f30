//! The home-feed fan-out queue (`feed_fanout`): one row per posted status naming whose home
//! feeds still need it. Posting writes the row with the status (see
//! [`Store::insert_status`](super::Store::insert_status)); the fan-out worker
//! (`jobs::fanout`) applies it here.

use super::{in_tx, on_pool, Pool, Store, StoreError};

/// Home-feed rows per `INSERT` statement (three bound values each, far below either engine's
/// limit on parameters).
pub const ROWS_PER_STATEMENT: usize = 500;
/// Roughly how many home-feed rows one transaction writes, so a SQLite writer holds the lock
/// briefly and posting is not held up behind a large fan-out. A single queue row larger than
/// this is still applied whole, in one transaction.
pub const ROWS_PER_TRANSACTION: usize = 1_000;
/// Queue rows read per transaction (before the row budget above cuts the list).
const QUEUE_ROWS_PER_TRANSACTION: i64 = 64;

/// One queued fan-out: `status_id` (by `author_id`) goes into the home feeds of `recipients`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fanout {
    pub status_id: i64,
    pub author_id: i64,
    pub recipients: Vec<i64>,
}

/// Splits what posting writes into the author's own home-feed row (written with the status so
/// the author sees it at once) and the remaining recipients (queued, sorted, without
/// duplicates). Returns `(author is a recipient, the others)`.
pub fn split_recipients(author: i64, recipients: &[i64]) -> (bool, Vec<i64>) {
    let mut others: Vec<i64> = recipients
        .iter()
        .copied()
        .filter(|r| *r != author)
        .collect();
    others.sort_unstable();
    others.dedup();
    (recipients.contains(&author), others)
}

/// The queue rows one transaction applies: in order, stopping once `budget` home-feed rows are
/// reached, but always at least one.
pub fn within_budget(fanouts: Vec<Fanout>, budget: usize) -> Vec<Fanout> {
    let mut rows = 0;
    let mut out = Vec::new();
    for f in fanouts {
        if !out.is_empty() && rows + f.recipients.len() > budget {
            break;
        }
        rows += f.recipients.len();
        out.push(f);
    }
    out
}

/// The home-feed rows `(account_id, status_id, author_id)` of `fanouts`, in order, cut into
/// statements of at most `per_statement` rows.
pub fn batches(fanouts: &[Fanout], per_statement: usize) -> Vec<Vec<(i64, i64, i64)>> {
    let per_statement = per_statement.max(1);
    let rows: Vec<(i64, i64, i64)> = fanouts
        .iter()
        .flat_map(|f| f.recipients.iter().map(|r| (*r, f.status_id, f.author_id)))
        .collect();
    rows.chunks(per_statement).map(<[_]>::to_vec).collect()
}

/// `INSERT INTO home_feed ... VALUES ($1, $2, $3), ($4, $5, $6), ... ON CONFLICT DO NOTHING`
/// for `n` rows: re-applying a fan-out is harmless.
pub fn insert_sql(n: usize) -> String {
    let values: Vec<String> = (0..n)
        .map(|i| format!("(${}, ${}, ${})", 3 * i + 1, 3 * i + 2, 3 * i + 3))
        .collect();
    format!(
        "INSERT INTO home_feed (account_id, status_id, author_id) VALUES {} ON CONFLICT DO NOTHING",
        values.join(", ")
    )
}

/// Parses a queue row's recipients; a corrupt list is logged and treated as empty, so one bad
/// row cannot stop the queue.
fn parse_recipients(status_id: i64, json: &str) -> Vec<i64> {
    match serde_json::from_str(json) {
        Ok(ids) => ids,
        Err(e) => {
            tracing::error!(status_id, error = %e, "dropping a fan-out with an unreadable recipient list");
            Vec::new()
        }
    }
}

impl Store {
    /// Applies the oldest queued fan-outs (in status id order) in one transaction: writes their
    /// home-feed rows in multi-row statements and deletes them from the queue. Returns what it
    /// applied (empty when the queue is empty); their rows are committed when this returns.
    ///
    /// On PostgreSQL the queue rows are claimed with `FOR UPDATE SKIP LOCKED`, so several
    /// processes sharing one database never apply the same fan-out twice at once; SQLite has a
    /// single writer (`BEGIN IMMEDIATE`).
    pub async fn apply_fanouts(&self, budget: usize) -> Result<Vec<Fanout>, StoreError> {
        let lock = match self.pool {
            Pool::Postgres(_) => " FOR UPDATE SKIP LOCKED",
            Pool::Sqlite(_) => "",
        };
        let select = format!(
            "SELECT status_id, author_id, recipients FROM feed_fanout ORDER BY status_id LIMIT {QUEUE_ROWS_PER_TRANSACTION}{lock}"
        );
        let applied = in_tx!(self, |tx| {
            let queued: Vec<(i64, i64, String)> =
                sqlx::query_as(&select).fetch_all(&mut *tx).await?;
            let fanouts = within_budget(
                queued
                    .into_iter()
                    .map(|(status_id, author_id, json)| Fanout {
                        status_id,
                        author_id,
                        recipients: parse_recipients(status_id, &json),
                    })
                    .collect(),
                budget,
            );
            for batch in batches(&fanouts, ROWS_PER_STATEMENT) {
                let sql = insert_sql(batch.len());
                let mut q = sqlx::query(&sql);
                for (account, status, author) in &batch {
                    q = q.bind(account).bind(status).bind(author);
                }
                q.execute(&mut *tx).await?;
            }
            for f in &fanouts {
                sqlx::query("DELETE FROM feed_fanout WHERE status_id = $1")
                    .bind(f.status_id)
                    .execute(&mut *tx)
                    .await?;
            }
            fanouts
        });
        Ok(applied)
    }

    /// How many fan-outs are waiting.
    pub async fn pending_fanouts(&self) -> Result<i64, StoreError> {
        let n = on_pool!(self, |pool| sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM feed_fanout"
        )
        .fetch_one(pool)
        .await)?;
        Ok(n)
    }
}

/// Queues a fan-out on any connection or transaction of either backend (a macro, so each
/// backend's arm gets its own monomorphic query). Writes nothing for an empty list.
macro_rules! queue_fanout {
    ($executor:expr, $status_id:expr, $author_id:expr, $recipients:expr) => {{
        let recipients: &[i64] = $recipients;
        if recipients.is_empty() {
            Ok(())
        } else {
            sqlx::query(
                "INSERT INTO feed_fanout (status_id, author_id, recipients, created_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind($status_id)
            .bind($author_id)
            .bind(serde_json::to_string(recipients).unwrap_or_else(|_| "[]".into()))
            .bind($crate::store::now_millis())
            .execute($executor)
            .await
            .map(|_| ())
        }
    }};
}
pub(crate) use queue_fanout;

#[cfg(test)]
mod tests {
    use super::*;

    fn fanout(status_id: i64, recipients: std::ops::Range<i64>) -> Fanout {
        Fanout {
            status_id,
            author_id: 7,
            recipients: recipients.collect(),
        }
    }

    #[test]
    fn batches_cover_every_row_once_in_order_and_respect_the_size() {
        let fanouts = vec![fanout(1, 0..1200), fanout(2, 5000..5001), fanout(3, 0..0)];
        let out = batches(&fanouts, 500);
        assert_eq!(
            out.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![500, 500, 201]
        );
        let flat: Vec<(i64, i64, i64)> = out.into_iter().flatten().collect();
        let expected: Vec<(i64, i64, i64)> =
            (0..1200).map(|r| (r, 1, 7)).chain([(5000, 2, 7)]).collect();
        assert_eq!(flat, expected);
        assert!(batches(&[], 500).is_empty());
        assert!(batches(&[fanout(1, 0..0)], 500).is_empty());
        assert_eq!(batches(&[fanout(1, 0..500)], 500).len(), 1);
        assert_eq!(batches(&[fanout(1, 0..501)], 500).len(), 2);
    }

    #[test]
    fn insert_sql_numbers_three_placeholders_per_row() {
        assert_eq!(
            insert_sql(2),
            "INSERT INTO home_feed (account_id, status_id, author_id) VALUES ($1, $2, $3), \
             ($4, $5, $6) ON CONFLICT DO NOTHING"
        );
        assert!(insert_sql(ROWS_PER_STATEMENT)
            .ends_with("($1498, $1499, $1500) ON CONFLICT DO NOTHING"));
    }

    #[test]
    fn a_transaction_takes_queue_rows_in_order_within_the_budget() {
        let rows = vec![fanout(1, 0..300), fanout(2, 0..300), fanout(3, 0..10)];
        let ids = |v: Vec<Fanout>| v.iter().map(|f| f.status_id).collect::<Vec<_>>();
        assert_eq!(ids(within_budget(rows.clone(), 1000)), vec![1, 2, 3]);
        assert_eq!(ids(within_budget(rows.clone(), 600)), vec![1, 2]);
        assert_eq!(ids(within_budget(rows.clone(), 599)), vec![1]);
        // One fan-out larger than the budget still goes, alone.
        assert_eq!(ids(within_budget(rows, 10)), vec![1]);
        assert!(within_budget(Vec::new(), 10).is_empty());
    }

    #[test]
    fn the_author_is_split_off_and_the_rest_deduplicated() {
        assert_eq!(split_recipients(5, &[9, 5, 3, 9]), (true, vec![3, 9]));
        assert_eq!(split_recipients(5, &[9, 3]), (false, vec![3, 9]));
        assert_eq!(split_recipients(5, &[5]), (true, vec![]));
        assert_eq!(split_recipients(5, &[]), (false, vec![]));
    }
}
