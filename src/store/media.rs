//! Media attachments (the files live under the data directory).

use sqlx::FromRow;

use super::{on_pool, placeholders, Store, StoreError};

#[derive(Debug, Clone, FromRow)]
pub struct MediaRow {
    pub id: i64,
    pub account_id: i64,
    pub status_id: Option<i64>,
    pub file_name: String,
    pub thumb_name: String,
    pub content_type: String,
    pub size: i64,
    pub width: i64,
    pub height: i64,
    pub description: String,
    pub focus_x: f64,
    pub focus_y: f64,
    pub created_at: i64,
    /// For a remote status's attachment: where the file lives (nothing is stored here).
    pub remote_url: Option<String>,
}

const COLUMNS: &str = "id, account_id, status_id, file_name, thumb_name, content_type, size, \
    width, height, description, focus_x, focus_y, created_at, remote_url";

impl Store {
    pub async fn insert_media(&self, m: &MediaRow) -> Result<(), StoreError> {
        let sql = format!(
            "INSERT INTO media ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        );
        on_pool!(self, |pool| sqlx::query(&sql)
            .bind(m.id)
            .bind(m.account_id)
            .bind(m.status_id)
            .bind(&m.file_name)
            .bind(&m.thumb_name)
            .bind(&m.content_type)
            .bind(m.size)
            .bind(m.width)
            .bind(m.height)
            .bind(&m.description)
            .bind(m.focus_x)
            .bind(m.focus_y)
            .bind(m.created_at)
            .bind(&m.remote_url)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    pub async fn media_by_ids(&self, ids: &[i64]) -> Result<Vec<MediaRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM media WHERE id IN ({})",
            placeholders(1, ids.len())
        );
        let rows = on_pool!(self, |pool| {
            let mut q = sqlx::query_as::<_, MediaRow>(&sql);
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(pool).await
        })?;
        Ok(rows)
    }

    pub async fn media_of_statuses(&self, ids: &[i64]) -> Result<Vec<MediaRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM media WHERE status_id IN ({}) ORDER BY id",
            placeholders(1, ids.len())
        );
        let rows = on_pool!(self, |pool| {
            let mut q = sqlx::query_as::<_, MediaRow>(&sql);
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(pool).await
        })?;
        Ok(rows)
    }

    pub async fn update_media(
        &self,
        id: i64,
        description: Option<&str>,
        focus: Option<(f64, f64)>,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE media SET description = COALESCE($1, description), \
                   focus_x = COALESCE($2, focus_x), focus_y = COALESCE($3, focus_y) WHERE id = $4";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(description)
            .bind(focus.map(|f| f.0))
            .bind(focus.map(|f| f.1))
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// The media row whose stored file (original or thumbnail) is `name`.
    pub async fn media_by_file(&self, name: &str) -> Result<Option<MediaRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM media WHERE file_name <> '' AND (file_name = $1 OR thumb_name = $1)"
        );
        let row = on_pool!(self, |pool| sqlx::query_as::<_, MediaRow>(&sql)
            .bind(name)
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }
}
