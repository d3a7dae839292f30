//! Endorsements (accounts featured on a profile) and follow suggestions: colleagues on this
//! node followed by people one follows, then the most followed here.

use super::statuses::Page;
use super::{in_tx, on_pool, Store, StoreError};

/// Who may be suggested to `$1`: a person on this node, not `$1`, not followed or asked for
/// by `$1`, not dismissed, visible in the directory.
const SUGGESTIBLE: &str = "a.domain = '' AND a.id <> $1 AND NOT a.is_group AND NOT a.bot \
    AND NOT a.suspended AND a.discoverable \
    AND NOT EXISTS (SELECT 1 FROM follows x WHERE x.account_id = $1 AND x.target_account_id = a.id) \
    AND NOT EXISTS (SELECT 1 FROM follow_requests r WHERE r.account_id = $1 AND r.target_account_id = a.id) \
    AND NOT EXISTS (SELECT 1 FROM suggestion_dismissals d WHERE d.account_id = $1 AND d.target_account_id = a.id)";

/// Why an account is suggested, as Mastodon names the sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuggestionSource {
    FriendsOfFriends,
    MostFollowed,
}

impl Store {
    /// Endorses `target` if `account` follows it: `Some(true)` when added, `Some(false)` when
    /// it already was, `None` when `account` does not follow `target` (nothing written). The
    /// follow is checked in the insert, so an unfollow at the same moment cannot leave one.
    pub async fn endorse(&self, account: i64, target: i64) -> Result<Option<bool>, StoreError> {
        Ok(in_tx!(self, |tx| {
            let added = sqlx::query(
                "INSERT INTO endorsements (id, account_id, target_account_id, created_at) \
                 SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM follows \
                 WHERE account_id = $2 AND target_account_id = $3) ON CONFLICT DO NOTHING",
            )
            .bind(crate::ids::next_id())
            .bind(account)
            .bind(target)
            .bind(super::now_millis())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if added > 0 {
                Some(true)
            } else {
                let held: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM endorsements WHERE account_id = $1 AND target_account_id = $2",
                )
                .bind(account)
                .bind(target)
                .fetch_optional(&mut *tx)
                .await?;
                held.map(|_| false)
            }
        }))
    }

    pub async fn unendorse(&self, account: i64, target: i64) -> Result<bool, StoreError> {
        let n = in_tx!(self, |tx| sqlx::query(
            "DELETE FROM endorsements WHERE account_id = $1 AND target_account_id = $2"
        )
        .bind(account)
        .bind(target)
        .execute(&mut *tx)
        .await?
        .rows_affected());
        Ok(n > 0)
    }

    /// A page of (endorsement id, account id) of `account`'s endorsements, newest first.
    pub async fn endorsements(
        &self,
        account: i64,
        page: &Page,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        let (cond, order, binds) = page.sql("e.id", 2);
        let sql = format!(
            "SELECT e.id, e.target_account_id FROM endorsements e JOIN accounts a ON a.id = e.target_account_id \
             WHERE e.account_id = $1 AND NOT a.suspended AND {cond} ORDER BY e.id {order} LIMIT {}",
            page.limit
        );
        let rows: Vec<(i64, i64)> = on_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql).bind(account);
            for b in &binds {
                q = q.bind(b);
            }
            q.fetch_all(pool).await
        })?;
        Ok(page.finish(rows))
    }

    /// Up to `limit` accounts to suggest to `viewer`, best first, with why.
    pub async fn suggestions(
        &self,
        viewer: i64,
        limit: i64,
    ) -> Result<Vec<(i64, SuggestionSource)>, StoreError> {
        let friends = format!(
            "SELECT a.id FROM follows mine JOIN follows theirs ON theirs.account_id = mine.target_account_id \
             JOIN accounts a ON a.id = theirs.target_account_id \
             WHERE mine.account_id = $1 AND {SUGGESTIBLE} \
             GROUP BY a.id ORDER BY COUNT(*) DESC, a.id LIMIT $2"
        );
        let popular = format!(
            "SELECT a.id FROM accounts a LEFT JOIN follows f ON f.target_account_id = a.id \
             WHERE {SUGGESTIBLE} GROUP BY a.id ORDER BY COUNT(f.account_id) DESC, a.id LIMIT $2"
        );
        let (friends, popular) = on_pool!(self, |pool| {
            let friends: Vec<i64> = sqlx::query_scalar(&friends)
                .bind(viewer)
                .bind(limit)
                .fetch_all(pool)
                .await?;
            let popular: Vec<i64> = sqlx::query_scalar(&popular)
                .bind(viewer)
                .bind(limit)
                .fetch_all(pool)
                .await?;
            Ok::<_, sqlx::Error>((friends, popular))
        })?;
        let mut out: Vec<(i64, SuggestionSource)> = friends
            .into_iter()
            .map(|id| (id, SuggestionSource::FriendsOfFriends))
            .collect();
        for id in popular {
            if out.len() as i64 >= limit {
                break;
            }
            if !out.iter().any(|(held, _)| *held == id) {
                out.push((id, SuggestionSource::MostFollowed));
            }
        }
        Ok(out)
    }

    /// Stops suggesting `target` to `account`.
    pub async fn dismiss_suggestion(&self, account: i64, target: i64) -> Result<(), StoreError> {
        in_tx!(self, |tx| sqlx::query(
            "INSERT INTO suggestion_dismissals (account_id, target_account_id, created_at) \
             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
        )
        .bind(account)
        .bind(target)
        .bind(super::now_millis())
        .execute(&mut *tx)
        .await?
        .rows_affected());
        Ok(())
    }
}
