//! Lists: their rows, their members, and their timelines read from the owner's home feed.

use sqlx::FromRow;

use super::statuses::Page;
use super::{in_tx, on_pool, placeholders, Store, StoreError};

/// Which replies to others a list's timeline shows (Mastodon's `replies_policy`). Replies to
/// oneself and to the list's owner are always shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepliesPolicy {
    /// Replies to anyone the owner follows.
    Followed,
    /// Replies to members of the list.
    List,
    /// No replies to others.
    None,
}

impl RepliesPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            RepliesPolicy::Followed => "followed",
            RepliesPolicy::List => "list",
            RepliesPolicy::None => "none",
        }
    }

    pub fn parse(s: &str) -> Option<RepliesPolicy> {
        match s {
            "followed" => Some(RepliesPolicy::Followed),
            "list" => Some(RepliesPolicy::List),
            "none" => Some(RepliesPolicy::None),
            _ => None,
        }
    }
}

impl TryFrom<String> for RepliesPolicy {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        RepliesPolicy::parse(&s).ok_or_else(|| format!("unknown replies policy {s:?}"))
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct ListRow {
    pub id: i64,
    pub account_id: i64,
    pub title: String,
    #[sqlx(try_from = "String")]
    pub replies_policy: RepliesPolicy,
    pub exclusive: bool,
    pub created_at: i64,
}

const LIST_COLUMNS: &str = "id, account_id, title, replies_policy, exclusive, created_at";

/// The SQL condition on the statuses aliased `s` that a list's replies policy lets through;
/// `$OWNER` and `$LIST` are replaced by the caller's placeholders.
fn replies_condition(policy: RepliesPolicy) -> &'static str {
    match policy {
        RepliesPolicy::Followed => {
            "(s.in_reply_to_account_id IS NULL OR s.in_reply_to_account_id = s.account_id \
             OR s.in_reply_to_account_id = $OWNER OR EXISTS (SELECT 1 FROM follows f \
             WHERE f.account_id = $OWNER AND f.target_account_id = s.in_reply_to_account_id))"
        }
        RepliesPolicy::List => {
            "(s.in_reply_to_account_id IS NULL OR s.in_reply_to_account_id = s.account_id \
             OR s.in_reply_to_account_id = $OWNER OR EXISTS (SELECT 1 FROM list_accounts r \
             WHERE r.list_id = $LIST AND r.account_id = s.in_reply_to_account_id))"
        }
        RepliesPolicy::None => {
            "(s.in_reply_to_account_id IS NULL OR s.in_reply_to_account_id = s.account_id \
             OR s.in_reply_to_account_id = $OWNER)"
        }
    }
}

impl Store {
    /// The lists `owner` made, oldest first (as Mastodon lists them).
    pub async fn lists_of(&self, owner: i64) -> Result<Vec<ListRow>, StoreError> {
        let sql = format!("SELECT {LIST_COLUMNS} FROM lists WHERE account_id = $1 ORDER BY id");
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, ListRow>(&sql)
            .bind(owner)
            .fetch_all(pool)
            .await)?)
    }

    pub async fn list_by_id(&self, id: i64) -> Result<Option<ListRow>, StoreError> {
        let sql = format!("SELECT {LIST_COLUMNS} FROM lists WHERE id = $1");
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, ListRow>(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?)
    }

    pub async fn count_lists(&self, owner: i64) -> Result<i64, StoreError> {
        let sql = "SELECT COUNT(*) FROM lists WHERE account_id = $1";
        Ok(on_pool!(self, |pool| sqlx::query_scalar::<_, i64>(sql)
            .bind(owner)
            .fetch_one(pool)
            .await)?)
    }

    pub async fn insert_list(&self, list: &ListRow) -> Result<(), StoreError> {
        in_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO lists (id, account_id, title, replies_policy, exclusive, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(list.id)
            .bind(list.account_id)
            .bind(&list.title)
            .bind(list.replies_policy.as_str())
            .bind(list.exclusive)
            .bind(list.created_at)
            .execute(&mut *tx)
            .await?;
        });
        Ok(())
    }

    /// Writes a list's title, policy and exclusivity.
    pub async fn update_list(&self, list: &ListRow) -> Result<(), StoreError> {
        in_tx!(self, |tx| {
            sqlx::query(
                "UPDATE lists SET title = $1, replies_policy = $2, exclusive = $3 WHERE id = $4",
            )
            .bind(&list.title)
            .bind(list.replies_policy.as_str())
            .bind(list.exclusive)
            .bind(list.id)
            .execute(&mut *tx)
            .await?;
        });
        Ok(())
    }

    /// Deletes a list and its members.
    pub async fn delete_list(&self, id: i64) -> Result<(), StoreError> {
        in_tx!(self, |tx| {
            sqlx::query("DELETE FROM list_accounts WHERE list_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM lists WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        });
        Ok(())
    }

    /// Member account ids of a list, newest account id first, one page (all with `None`).
    pub async fn list_member_ids(
        &self,
        list: i64,
        page: Option<&Page>,
    ) -> Result<Vec<i64>, StoreError> {
        let (cond, order, binds, limit) = match page {
            Some(p) => {
                let (c, o, b) = p.sql("la.account_id", 2);
                (c, o, b, format!(" LIMIT {}", p.limit))
            }
            None => ("1 = 1".to_string(), "DESC", vec![], String::new()),
        };
        let sql = format!(
            "SELECT la.account_id FROM list_accounts la JOIN accounts a ON a.id = la.account_id \
             WHERE la.list_id = $1 AND NOT a.suspended AND {cond} \
             ORDER BY la.account_id {order}{limit}"
        );
        let ids: Vec<i64> = on_pool!(self, |pool| {
            let mut q = sqlx::query_scalar(&sql).bind(list);
            for b in &binds {
                q = q.bind(b);
            }
            q.fetch_all(pool).await
        })?;
        Ok(match page {
            Some(p) => p.finish(ids),
            None => ids,
        })
    }

    /// Of `accounts`, those already members of `list`.
    pub async fn list_members_among(
        &self,
        list: i64,
        accounts: &[i64],
    ) -> Result<Vec<i64>, StoreError> {
        if accounts.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT account_id FROM list_accounts WHERE list_id = $1 AND account_id IN ({})",
            placeholders(2, accounts.len())
        );
        Ok(on_pool!(self, |pool| {
            let mut q = sqlx::query_scalar::<_, i64>(&sql).bind(list);
            for a in accounts {
                q = q.bind(a);
            }
            q.fetch_all(pool).await
        })?)
    }

    /// Adds members of `owner`'s list, all or none: `false` (and nothing written) when one is
    /// not followed by the owner at this moment; a member added meanwhile is a conflict.
    pub async fn add_list_members(
        &self,
        list: i64,
        owner: i64,
        accounts: &[i64],
    ) -> Result<bool, StoreError> {
        let now = super::now_millis();
        let added = in_tx!(self, |tx| {
            for a in accounts {
                let n = sqlx::query(
                    "INSERT INTO list_accounts (list_id, account_id, created_at) \
                     SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM follows \
                     WHERE account_id = $4 AND target_account_id = $2)",
                )
                .bind(list)
                .bind(a)
                .bind(now)
                .bind(owner)
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::conflict_as(e, "Account"))?
                .rows_affected();
                if n == 0 {
                    // Returning drops the transaction uncommitted: nothing is kept.
                    return Ok(false);
                }
            }
            true
        });
        Ok(added)
    }

    pub async fn remove_list_members(&self, list: i64, accounts: &[i64]) -> Result<(), StoreError> {
        if accounts.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "DELETE FROM list_accounts WHERE list_id = $1 AND account_id IN ({})",
            placeholders(2, accounts.len())
        );
        in_tx!(self, |tx| {
            let mut q = sqlx::query(&sql).bind(list);
            for a in accounts {
                q = q.bind(a);
            }
            q.execute(&mut *tx).await?;
        });
        Ok(())
    }

    /// The lists of `owner` that hold `account`.
    pub async fn lists_containing(
        &self,
        owner: i64,
        account: i64,
    ) -> Result<Vec<ListRow>, StoreError> {
        let sql =
            "SELECT l.id, l.account_id, l.title, l.replies_policy, l.exclusive, l.created_at \
                   FROM lists l JOIN list_accounts la ON la.list_id = l.id \
                   WHERE l.account_id = $1 AND la.account_id = $2 ORDER BY l.id";
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, ListRow>(sql)
            .bind(owner)
            .bind(account)
            .fetch_all(pool)
            .await)?)
    }

    /// Ids of a list's timeline: the statuses of its members in its owner's home feed that
    /// its replies policy lets through; one page, or only `status` when given (is it there?).
    pub async fn list_feed(
        &self,
        list: &ListRow,
        page: &Page,
        status: Option<i64>,
    ) -> Result<Vec<i64>, StoreError> {
        let (cond, order, binds) = page.sql("h.status_id", 3);
        let only = match status {
            Some(_) => format!(" AND h.status_id = ${}", binds.len() + 3),
            None => String::new(),
        };
        let replies = replies_condition(list.replies_policy)
            .replace("$OWNER", "$1")
            .replace("$LIST", "$2");
        let unseen = super::hidden::status_visible_sql(
            "h.status_id",
            "h.author_id",
            list.account_id,
            super::now_millis(),
        );
        let sql = format!(
            "SELECT h.status_id FROM home_feed h JOIN statuses s ON s.id = h.status_id \
             WHERE h.account_id = $1 AND h.author_id IN \
             (SELECT m.account_id FROM list_accounts m WHERE m.list_id = $2) \
             AND {replies} AND {unseen} AND {cond}{only} ORDER BY h.status_id {order} LIMIT {}",
            page.limit
        );
        let ids: Vec<i64> = on_pool!(self, |pool| {
            let mut q = sqlx::query_scalar(&sql).bind(list.account_id).bind(list.id);
            for b in &binds {
                q = q.bind(b);
            }
            if let Some(s) = status {
                q = q.bind(s);
            }
            q.fetch_all(pool).await
        })?;
        Ok(page.finish(ids))
    }

    /// Whether `status`'s author is a member of one of `owner`'s exclusive lists (so it stays
    /// out of the owner's home timeline).
    pub async fn in_exclusive_list(&self, owner: i64, status: i64) -> Result<bool, StoreError> {
        let sql = "SELECT 1 FROM statuses s JOIN list_accounts la ON la.account_id = s.account_id \
                   JOIN lists l ON l.id = la.list_id \
                   WHERE s.id = $1 AND l.account_id = $2 AND l.exclusive LIMIT 1";
        Ok(on_pool!(self, |pool| sqlx::query_scalar::<_, i32>(sql)
            .bind(status)
            .bind(owner)
            .fetch_optional(pool)
            .await)?
        .is_some())
    }
}
