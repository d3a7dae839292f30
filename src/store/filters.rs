//! Filters (Mastodon's v2): a viewer's filters with their keywords and chosen statuses.

use sqlx::FromRow;

use super::{in_tx, on_pool, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct FilterRow {
    pub id: i64,
    pub account_id: i64,
    pub title: String,
    /// Comma-separated contexts (home, notifications, public, thread, account).
    pub context: String,
    /// warn, hide or blur.
    pub action: String,
    pub expires_at: Option<i64>,
    pub created_at: i64,
}

impl FilterRow {
    pub fn contexts(&self) -> impl Iterator<Item = &str> {
        self.context.split(',').filter(|c| !c.is_empty())
    }

    pub fn active(&self, now: i64) -> bool {
        self.expires_at.is_none_or(|at| at > now)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct KeywordRow {
    pub id: i64,
    pub filter_id: i64,
    pub keyword: String,
    pub whole_word: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct FilterStatusRow {
    pub id: i64,
    pub filter_id: i64,
    pub status_id: i64,
}

/// A filter with what it matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterSet {
    pub filter: FilterRow,
    pub keywords: Vec<KeywordRow>,
    pub statuses: Vec<FilterStatusRow>,
}

/// What an update of a filter changes besides its row.
#[derive(Debug, Clone, Default)]
pub struct KeywordChanges {
    pub added: Vec<KeywordRow>,
    pub changed: Vec<KeywordRow>,
    pub removed: Vec<i64>,
}

/// Writes one keyword with the statement's executor (a transaction).
macro_rules! insert_keyword {
    ($executor:expr, $k:expr) => {{
        let k: &KeywordRow = $k;
        sqlx::query(
            "INSERT INTO filter_keywords (id, filter_id, keyword, whole_word) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(k.id)
        .bind(k.filter_id)
        .bind(&k.keyword)
        .bind(k.whole_word)
        .execute($executor)
        .await
        .map(|_| ())
    }};
}

const FILTER_COLUMNS: &str = "id, account_id, title, context, action, expires_at, created_at";

impl Store {
    /// All of `account`'s filters (oldest first) with their keywords and statuses: one query
    /// when it has none, as most viewers.
    pub async fn filters_of(&self, account: i64) -> Result<Vec<FilterSet>, StoreError> {
        let sql = format!("SELECT {FILTER_COLUMNS} FROM filters WHERE account_id = $1 ORDER BY id");
        let filters: Vec<FilterRow> = on_pool!(self, |pool| {
            sqlx::query_as(&sql).bind(account).fetch_all(pool).await
        })?;
        if filters.is_empty() {
            return Ok(Vec::new());
        }
        // Keywords and statuses in one round trip: (filter, id, keyword, whole_word, status).
        type Part = (i64, i64, Option<String>, Option<bool>, Option<i64>);
        let parts: Vec<Part> = on_pool!(self, |pool| {
            sqlx::query_as(
                "SELECT k.filter_id, k.id, k.keyword, k.whole_word, CAST(NULL AS BIGINT) \
                 FROM filter_keywords k JOIN filters f ON f.id = k.filter_id WHERE f.account_id = $1 \
                 UNION ALL SELECT s.filter_id, s.id, CAST(NULL AS TEXT), CAST(NULL AS BOOLEAN), s.status_id \
                 FROM filter_statuses s JOIN filters f ON f.id = s.filter_id WHERE f.account_id = $1 \
                 ORDER BY 2",
            )
            .bind(account)
            .fetch_all(pool)
            .await
        })?;
        let mut sets: Vec<FilterSet> = filters
            .into_iter()
            .map(|filter| FilterSet {
                filter,
                keywords: vec![],
                statuses: vec![],
            })
            .collect();
        for (filter_id, id, keyword, whole_word, status_id) in parts {
            let Some(set) = sets.iter_mut().find(|s| s.filter.id == filter_id) else {
                continue;
            };
            match (keyword, status_id) {
                (Some(keyword), _) => set.keywords.push(KeywordRow {
                    id,
                    filter_id,
                    keyword,
                    whole_word: whole_word.unwrap_or(false),
                }),
                (None, Some(status_id)) => set.statuses.push(FilterStatusRow {
                    id,
                    filter_id,
                    status_id,
                }),
                (None, None) => {}
            }
        }
        Ok(sets)
    }

    pub async fn filter(&self, account: i64, id: i64) -> Result<Option<FilterSet>, StoreError> {
        Ok(self
            .filters_of(account)
            .await?
            .into_iter()
            .find(|s| s.filter.id == id))
    }

    /// Writes a new filter with its keywords.
    pub async fn insert_filter(&self, set: &FilterSet) -> Result<(), StoreError> {
        let f = &set.filter;
        in_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO filters (id, account_id, title, context, action, expires_at, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(f.id)
            .bind(f.account_id)
            .bind(&f.title)
            .bind(&f.context)
            .bind(&f.action)
            .bind(f.expires_at)
            .bind(f.created_at)
            .execute(&mut *tx)
            .await?;
            for k in &set.keywords {
                insert_keyword!(&mut *tx, k)?;
            }
        });
        Ok(())
    }

    /// Changes a filter's row and its keywords, in one transaction. The keywords changed or
    /// removed were checked to be the filter's.
    pub async fn update_filter(
        &self,
        filter: &FilterRow,
        keywords: &KeywordChanges,
    ) -> Result<(), StoreError> {
        in_tx!(self, |tx| {
            sqlx::query(
                "UPDATE filters SET title = $2, context = $3, action = $4, expires_at = $5 \
                 WHERE id = $1",
            )
            .bind(filter.id)
            .bind(&filter.title)
            .bind(&filter.context)
            .bind(&filter.action)
            .bind(filter.expires_at)
            .execute(&mut *tx)
            .await?;
            for k in &keywords.added {
                insert_keyword!(&mut *tx, k)?;
            }
            for k in &keywords.changed {
                sqlx::query(
                    "UPDATE filter_keywords SET keyword = $3, whole_word = $4 \
                     WHERE id = $1 AND filter_id = $2",
                )
                .bind(k.id)
                .bind(k.filter_id)
                .bind(&k.keyword)
                .bind(k.whole_word)
                .execute(&mut *tx)
                .await?;
            }
            for id in &keywords.removed {
                sqlx::query("DELETE FROM filter_keywords WHERE id = $1 AND filter_id = $2")
                    .bind(id)
                    .bind(filter.id)
                    .execute(&mut *tx)
                    .await?;
            }
        });
        Ok(())
    }

    /// Deletes one of `account`'s filters; `false` when it has no such filter.
    pub async fn delete_filter(&self, account: i64, id: i64) -> Result<bool, StoreError> {
        let n = on_pool!(self, |pool| {
            sqlx::query("DELETE FROM filters WHERE id = $1 AND account_id = $2")
                .bind(id)
                .bind(account)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        Ok(n > 0)
    }

    /// Deletes a keyword; with `and_empty_filter`, also its filter if nothing is left in it
    /// (a v1 filter is one keyword).
    pub async fn delete_keyword(
        &self,
        keyword: &KeywordRow,
        and_empty_filter: bool,
    ) -> Result<(), StoreError> {
        in_tx!(self, |tx| {
            sqlx::query("DELETE FROM filter_keywords WHERE id = $1")
                .bind(keyword.id)
                .execute(&mut *tx)
                .await?;
            if and_empty_filter {
                sqlx::query(
                    "DELETE FROM filters WHERE id = $1 \
                     AND NOT EXISTS (SELECT 1 FROM filter_keywords WHERE filter_id = $1) \
                     AND NOT EXISTS (SELECT 1 FROM filter_statuses WHERE filter_id = $1)",
                )
                .bind(keyword.filter_id)
                .execute(&mut *tx)
                .await?;
            }
        });
        Ok(())
    }

    /// Adds a status to a filter; `false` when the filter has it already.
    pub async fn insert_filter_status(&self, row: &FilterStatusRow) -> Result<bool, StoreError> {
        let n = on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO filter_statuses (id, filter_id, status_id) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(row.id)
            .bind(row.filter_id)
            .bind(row.status_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(n > 0)
    }

    pub async fn delete_filter_status(&self, id: i64) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query("DELETE FROM filter_statuses WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await
                .map(|_| ())
        })?;
        Ok(())
    }
}
