//! Polls: a status's answers and their counts, the votes cast here, and the two things the
//! polls job works on (local polls whose counts peers have not heard yet, and polls that
//! ended).

use std::collections::HashMap;

use super::deliveries::{insert_deliveries, NewDelivery};
use super::{in_tx, on_pool, placeholders, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollOption {
    pub title: String,
    pub votes_count: i64,
}

/// A status's poll. For a peer's poll the counts are what its node last reported, plus the
/// votes cast here since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PollRow {
    pub status_id: i64,
    pub expires_at: Option<i64>,
    pub multiple: bool,
    pub hide_totals: bool,
    pub voters_count: i64,
    pub options: Vec<PollOption>,
}

impl PollRow {
    pub fn expired(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }

    pub fn votes_count(&self) -> i64 {
        self.options.iter().map(|o| o.votes_count).sum()
    }
}

/// What casting votes did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Voted {
    Counted,
    /// The account had voted already (on a single-choice poll, or at all when `once`): nothing
    /// written.
    AlreadyVoted,
}

/// Writes a poll inside the transaction `$tx` that writes its status.
macro_rules! insert_poll {
    ($tx:ident, $poll:expr) => {{
        let p: &$crate::store::polls::PollRow = $poll;
        let mut result = sqlx::query(
            "INSERT INTO polls (status_id, expires_at, multiple, hide_totals, voters_count) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(p.status_id)
        .bind(p.expires_at)
        .bind(p.multiple)
        .bind(p.hide_totals)
        .bind(p.voters_count)
        .execute(&mut *$tx)
        .await
        .map(|_| ());
        for (position, o) in p.options.iter().enumerate() {
            if result.is_err() {
                break;
            }
            result = sqlx::query(
                "INSERT INTO poll_options (status_id, position, title, votes_count) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(p.status_id)
            .bind(position as i32)
            .bind(&o.title)
            .bind(o.votes_count)
            .execute(&mut *$tx)
            .await
            .map(|_| ());
        }
        result
    }};
}
pub(crate) use insert_poll;

impl Store {
    /// The polls of those of `ids` that have one.
    pub async fn polls_of(&self, ids: &[i64]) -> Result<HashMap<i64, PollRow>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT p.status_id, p.expires_at, p.multiple, p.hide_totals, p.voters_count, \
               o.title, o.votes_count \
             FROM polls p JOIN poll_options o ON o.status_id = p.status_id \
             WHERE p.status_id IN ({}) ORDER BY p.status_id, o.position",
            placeholders(1, ids.len())
        );
        type Line = (i64, Option<i64>, bool, bool, i64, String, i64);
        let lines: Vec<Line> = on_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql);
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(pool).await
        })?;
        let mut polls: HashMap<i64, PollRow> = HashMap::new();
        for (status_id, expires_at, multiple, hide_totals, voters_count, title, votes_count) in
            lines
        {
            polls
                .entry(status_id)
                .or_insert_with(|| PollRow {
                    status_id,
                    expires_at,
                    multiple,
                    hide_totals,
                    voters_count,
                    options: Vec::new(),
                })
                .options
                .push(PollOption { title, votes_count });
        }
        Ok(polls)
    }

    pub async fn poll(&self, status: i64) -> Result<Option<PollRow>, StoreError> {
        Ok(self.polls_of(&[status]).await?.remove(&status))
    }

    /// Casts `account`'s votes (answer positions, each with the vote Note's id when a peer's
    /// voter sent it) and counts them, with the deliveries they cause. A local poll is marked
    /// for an Update to peers, which the polls job sends with the counts as they are then.
    /// `once`: refused if the account voted before at all (the client API); otherwise only on
    /// a single-choice poll, since a peer sends one vote per answer of a multiple-choice poll.
    pub async fn vote(
        &self,
        status: i64,
        account: i64,
        choices: &[(i32, Option<String>)],
        once: bool,
        local_poll: bool,
        deliveries: &[NewDelivery],
    ) -> Result<Voted, StoreError> {
        let now = super::now_millis();
        Ok(in_tx!(self, |tx| {
            let (held, multiple): (i64, bool) = sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM poll_votes WHERE status_id = $1 AND account_id = $2), \
                   multiple FROM polls WHERE status_id = $1",
            )
            .bind(status)
            .bind(account)
            .fetch_one(&mut *tx)
            .await?;
            if held > 0 && (once || !multiple) {
                Voted::AlreadyVoted
            } else {
                let mut counted = 0;
                for (choice, ap_id) in choices {
                    let inserted = sqlx::query(
                        "INSERT INTO poll_votes (status_id, account_id, choice, ap_id, created_at) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                    )
                    .bind(status)
                    .bind(account)
                    .bind(choice)
                    .bind(ap_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if inserted > 0 {
                        counted += 1;
                        sqlx::query(
                            "UPDATE poll_options SET votes_count = votes_count + 1 \
                             WHERE status_id = $1 AND position = $2",
                        )
                        .bind(status)
                        .bind(choice)
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                if counted > 0 {
                    sqlx::query(
                        "UPDATE polls SET voters_count = voters_count + $2, \
                           dirty = (dirty OR $3) WHERE status_id = $1",
                    )
                    .bind(status)
                    .bind(i64::from(held == 0))
                    .bind(local_poll)
                    .execute(&mut *tx)
                    .await?;
                    insert_deliveries!(tx, deliveries)?;
                }
                Voted::Counted
            }
        }))
    }

    /// A peer's poll as its node now reports it. Counts reported for answers this node does
    /// not know (the poll was edited) are left alone.
    pub async fn set_poll_counts(
        &self,
        status: i64,
        counts: &[(String, i64)],
        voters_count: Option<i64>,
        expires_at: Option<i64>,
    ) -> Result<(), StoreError> {
        in_tx!(self, |tx| {
            for (title, votes) in counts {
                sqlx::query(
                    "UPDATE poll_options SET votes_count = $3 WHERE status_id = $1 AND title = $2",
                )
                .bind(status)
                .bind(title)
                .bind(votes)
                .execute(&mut *tx)
                .await?;
            }
            sqlx::query(
                "UPDATE polls SET voters_count = COALESCE($2, voters_count), \
                   expires_at = COALESCE($3, expires_at) WHERE status_id = $1",
            )
            .bind(status)
            .bind(voters_count)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
        });
        Ok(())
    }

    /// Local polls whose counts changed since peers last heard, oldest first.
    pub async fn dirty_polls(&self, limit: i64) -> Result<Vec<i64>, StoreError> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT status_id FROM polls WHERE dirty ORDER BY status_id LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await
        })?)
    }

    /// Clears a poll's mark with the Update that tells peers its counts, in one transaction.
    /// A vote counted after the Update was built marks it again.
    pub async fn poll_told(
        &self,
        status: i64,
        seen: &PollRow,
        deliveries: &[NewDelivery],
    ) -> Result<(), StoreError> {
        in_tx!(self, |tx| {
            // Cleared only if no vote came in since the counts were read.
            sqlx::query(
                "UPDATE polls SET dirty = FALSE WHERE status_id = $1 AND voters_count = $2 \
                 AND (SELECT COALESCE(SUM(votes_count), 0) FROM poll_options \
                      WHERE status_id = $1) = $3",
            )
            .bind(status)
            .bind(seen.voters_count)
            .bind(seen.votes_count())
            .execute(&mut *tx)
            .await?;
            insert_deliveries!(tx, deliveries)?;
        });
        Ok(())
    }

    /// Polls that ended by `now` whose end has not been told yet, with their author.
    pub async fn ended_polls(&self, now: i64, limit: i64) -> Result<Vec<(i64, i64)>, StoreError> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT p.status_id, s.account_id FROM polls p \
                 JOIN statuses s ON s.id = p.status_id \
                 WHERE NOT p.ended AND p.expires_at <= $1 ORDER BY p.expires_at LIMIT $2",
            )
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await
        })?)
    }

    /// The accounts that voted on a poll: the local ones, or those on other nodes.
    pub async fn poll_voters(&self, status: i64, local: bool) -> Result<Vec<i64>, StoreError> {
        let sql = format!(
            "SELECT DISTINCT v.account_id FROM poll_votes v \
             JOIN accounts a ON a.id = v.account_id \
             WHERE v.status_id = $1 AND a.domain {} ''",
            if local { "=" } else { "<>" }
        );
        Ok(on_pool!(self, |pool| {
            sqlx::query_scalar(&sql).bind(status).fetch_all(pool).await
        })?)
    }
}
