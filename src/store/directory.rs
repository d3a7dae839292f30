//! Who knows what: featured hashtags, profile search and the directory. The index searched is
//! kept by `store::profile_index`.

use sqlx::FromRow;

use super::deliveries::{insert_deliveries, NewDelivery};
use super::profile_index::reindex_account;
use super::{in_tx, on_pool, Pool, Store, StoreError};

/// How many hashtags a profile may feature (also what remote actors are cut to).
pub const MAX_FEATURED_TAGS: usize = 10;

/// A featured hashtag with what the account posted under it.
#[derive(Debug, Clone, FromRow)]
pub struct FeaturedTagRow {
    pub id: i64,
    pub account_id: i64,
    /// Lower-cased.
    pub name: String,
    pub display: String,
    pub statuses_count: i64,
    /// Milliseconds of the newest such status.
    pub last_status_at: Option<i64>,
}

/// The words of a search query as the index tokenises them: runs of letters and digits,
/// lower-cased, at most eight. Anything else (quotes, operators) is a separator, so user input
/// never reaches the full-text syntax.
pub fn query_words(q: &str) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    for w in q.split(|c: char| !c.is_alphanumeric()) {
        let w = w.to_lowercase();
        if !w.is_empty() && !words.contains(&w) && words.len() < 8 {
            words.push(w);
        }
    }
    words
}

/// The three tiered full-text queries for `words` (every word as a prefix, all required):
/// in the handle or display name; in those, the fields or the featured tags; anywhere.
fn tier_queries(pool: &Pool, words: &[String]) -> [String; 3] {
    match pool {
        Pool::Sqlite(_) => {
            let q = |cols: &str| {
                words
                    .iter()
                    .map(|w| format!("{cols}\"{w}\"*"))
                    .collect::<Vec<_>>()
                    .join(" AND ")
            };
            [
                q("{handle display_name} : "),
                q("{handle display_name fields tags} : "),
                q(""),
            ]
        }
        Pool::Postgres(_) => {
            let q = |weights: &str| {
                words
                    .iter()
                    .map(|w| format!("{w}:*{weights}"))
                    .collect::<Vec<_>>()
                    .join(" & ")
            };
            [q("A"), q("AB"), q("")]
        }
    }
}

/// Which accounts the directory lists, and in which order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectoryQuery {
    pub local_only: bool,
    /// Newest accounts first, instead of the most recently active.
    pub newest: bool,
    pub limit: i64,
    pub offset: i64,
}

const TAG_STATS: &str = "FROM status_tags st JOIN tags t ON t.id = st.tag_id \
    JOIN statuses s ON s.id = st.status_id \
    WHERE t.name = f.name AND s.account_id = f.account_id AND s.reblog_of_id IS NULL \
    AND s.visibility IN ('public', 'unlisted')";

impl Store {
    /// The names of an account's featured hashtags, as its actor lists them.
    pub async fn featured_tag_names(&self, account: i64) -> Result<Vec<String>, StoreError> {
        Ok(self
            .featured_tags(account)
            .await?
            .into_iter()
            .map(|t| t.display)
            .collect())
    }

    /// An account's featured hashtags, oldest first, with their counts.
    pub async fn featured_tags(&self, account: i64) -> Result<Vec<FeaturedTagRow>, StoreError> {
        let sql = format!(
            "SELECT f.id, f.account_id, f.name, f.display, \
             (SELECT COUNT(*) {TAG_STATS}) AS statuses_count, \
             (SELECT MAX(s.created_at) {TAG_STATS}) AS last_status_at \
             FROM featured_tags f WHERE f.account_id = $1 ORDER BY f.id"
        );
        let rows = on_pool!(self, |pool| sqlx::query_as::<_, FeaturedTagRow>(&sql)
            .bind(account)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// Features a hashtag (`name` lower-cased), reindexes the profile and writes the
    /// deliveries of the changed actor; `false`, and nothing written, when the account already
    /// features [`MAX_FEATURED_TAGS`]. A tag featured already is a [`StoreError::Conflict`].
    pub async fn add_featured_tag(
        &self,
        account: i64,
        name: &str,
        display: &str,
        deliveries: &[NewDelivery],
    ) -> Result<bool, StoreError> {
        let added = in_tx!(self, |tx| {
            let held: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM featured_tags WHERE account_id = $1")
                    .bind(account)
                    .fetch_one(&mut *tx)
                    .await?;
            if held >= MAX_FEATURED_TAGS as i64 {
                false
            } else {
                sqlx::query(
                    "INSERT INTO featured_tags (id, account_id, name, display, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(crate::ids::next_id())
                .bind(account)
                .bind(name)
                .bind(display)
                .bind(super::now_millis())
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::conflict_as(e, "this featured tag"))?;
                reindex_account!(tx, account);
                insert_deliveries!(tx, deliveries)?;
                true
            }
        });
        Ok(added)
    }

    /// Stops featuring a hashtag, reindexes the profile and writes the deliveries of the
    /// changed actor; `false`, and nothing written, if it was not featured.
    pub async fn remove_featured_tag(
        &self,
        account: i64,
        id: i64,
        deliveries: &[NewDelivery],
    ) -> Result<bool, StoreError> {
        let removed = in_tx!(self, |tx| {
            let n = sqlx::query("DELETE FROM featured_tags WHERE id = $1 AND account_id = $2")
                .bind(id)
                .bind(account)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n > 0 {
                reindex_account!(tx, account);
                insert_deliveries!(tx, deliveries)?;
            }
            n > 0
        });
        Ok(removed)
    }

    /// The hashtags an account used most that it does not feature: display spellings.
    pub async fn tag_suggestions(
        &self,
        account: i64,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        let sql = "SELECT t.display FROM status_tags st JOIN tags t ON t.id = st.tag_id \
            JOIN statuses s ON s.id = st.status_id WHERE s.account_id = $1 AND NOT EXISTS \
            (SELECT 1 FROM featured_tags f WHERE f.account_id = $1 AND f.name = t.name) \
            GROUP BY t.id, t.display ORDER BY COUNT(*) DESC, t.display LIMIT $2";
        let rows = on_pool!(self, |pool| sqlx::query_scalar::<_, String>(sql)
            .bind(account)
            .bind(limit)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// Discoverable accounts that are not suspended, for the directory.
    pub async fn directory(&self, q: &DirectoryQuery) -> Result<Vec<i64>, StoreError> {
        let local = if q.local_only {
            " AND a.domain = ''"
        } else {
            ""
        };
        let order = if q.newest {
            "a.created_at DESC, a.id DESC"
        } else {
            "COALESCE(st.last_status_at, 0) DESC, a.id DESC"
        };
        let sql = format!(
            "SELECT a.id FROM accounts a LEFT JOIN account_stats st ON st.account_id = a.id \
             WHERE a.discoverable AND NOT a.suspended{local} ORDER BY {order} LIMIT $1 OFFSET $2"
        );
        let ids = on_pool!(self, |pool| sqlx::query_scalar::<_, i64>(&sql)
            .bind(q.limit)
            .bind(q.offset)
            .fetch_all(pool)
            .await)?;
        Ok(ids)
    }

    /// Accounts for a search term, best first, `limit` from `offset`: the exact handle;
    /// handles starting with it (any account: a handle finds everyone); then, over
    /// discoverable accounts only, the full-text tiers: every word in the handle or display
    /// name, in those or the fields and featured tags, anywhere including the bio. Within a
    /// tier, accounts come in id order, which lets each tier stop at the page instead of
    /// ranking every match. Suspended accounts never.
    pub async fn search_accounts(
        &self,
        term: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let term = term.replace('\0', "").to_lowercase();
        let want = (offset + limit).max(0);
        let words = query_words(&term);
        let postgres = matches!(self.pool, Pool::Postgres(_));
        let mut ids: Vec<i64> = Vec::new();
        fn add(found: Vec<i64>, ids: &mut Vec<i64>) {
            for id in found {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        let exact = "SELECT id FROM accounts WHERE username_key = $1 AND NOT suspended \
            ORDER BY domain <> '', id";
        add(self.ids(exact, &[&term], want).await?, &mut ids);
        // A prefix as a range on the username index on SQLite (byte order); PostgreSQL
        // compares by collation, so LIKE there.
        if postgres {
            let sql = "SELECT id FROM accounts WHERE username_key LIKE $1 ESCAPE '\\' \
                AND NOT suspended ORDER BY username_key, id LIMIT $2";
            let pattern = format!("{}%", super::escape_like(&term));
            add(self.ids(sql, &[&pattern], want).await?, &mut ids);
        } else {
            let sql = "SELECT id FROM accounts WHERE username_key >= $1 AND username_key < $2 \
                AND NOT suspended ORDER BY username_key, id LIMIT $3";
            let end = format!("{term}{}", char::MAX);
            add(self.ids(sql, &[&term, &end], want).await?, &mut ids);
        }
        if !words.is_empty() && (ids.len() as i64) < want {
            let [q1, q2, q3] = tier_queries(&self.pool, &words);
            if postgres {
                // One index scan; the tiers are weights of the same document.
                let sql = "SELECT s.account_id FROM account_search s \
                    JOIN accounts a ON a.id = s.account_id \
                    WHERE s.doc @@ to_tsquery('simple', $3) AND a.discoverable \
                    AND NOT a.suspended ORDER BY CASE \
                    WHEN s.doc @@ to_tsquery('simple', $1) THEN 1 \
                    WHEN s.doc @@ to_tsquery('simple', $2) THEN 2 ELSE 3 END, s.account_id \
                    LIMIT $4";
                add(self.ids(sql, &[&q1, &q2, &q3], want).await?, &mut ids);
            } else {
                // FTS5 cannot test a column filter per row: one query per tier, each in rowid
                // order so it stops at the page.
                let sql = "SELECT account_search.rowid FROM account_search \
                    JOIN accounts a ON a.id = account_search.rowid \
                    WHERE account_search MATCH $1 AND a.discoverable AND NOT a.suspended \
                    ORDER BY account_search.rowid LIMIT $2";
                for q in [q1, q2, q3] {
                    if ids.len() as i64 >= want {
                        break;
                    }
                    add(self.ids(sql, &[&q], want).await?, &mut ids);
                }
            }
        }
        Ok(ids
            .into_iter()
            .skip(offset.max(0) as usize)
            .take(limit.max(0) as usize)
            .collect())
    }

    /// Ids from `sql` with text binds `$1..` and `limit` bound last (when it has a place).
    async fn ids(&self, sql: &str, binds: &[&str], limit: i64) -> Result<Vec<i64>, StoreError> {
        let limited = sql.contains(&format!("${}", binds.len() + 1));
        let ids = on_pool!(self, |pool| {
            let mut q = sqlx::query_scalar::<_, i64>(sql);
            for b in binds {
                q = q.bind(*b);
            }
            if limited {
                q = q.bind(limit);
            }
            q.fetch_all(pool).await
        })?;
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_words_keep_only_letters_and_digits() {
        assert_eq!(query_words("Terraform"), vec!["terraform"]);
        assert_eq!(
            query_words("\"k8s\" OR *drop* (table)"),
            vec!["k8s", "or", "drop", "table"]
        );
        assert_eq!(query_words("s_alice Zoë"), vec!["s", "alice", "zoë"]);
        assert!(query_words("@-_!").is_empty());
        assert_eq!(query_words("a b c d e f g h i j").len(), 8);
    }
}
