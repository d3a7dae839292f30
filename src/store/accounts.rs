//! The accounts aggregate.

use sqlx::FromRow;

use super::{on_pool, Store, StoreError};

/// An account row as stored.
#[derive(Debug, Clone, FromRow)]
pub struct AccountRow {
    pub id: i64,
    pub username: String,
    pub domain: String,
    pub display_name: String,
    pub note: String,
    pub fields: String,
    pub avatar_path: String,
    pub header_path: String,
    pub email: Option<String>,
    pub password_hash: Option<String>,
    pub private_key_pem: Option<String>,
    pub public_key_pem: String,
    pub role: String,
    pub locked: bool,
    pub discoverable: bool,
    pub suspended: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What creating a local account writes.
#[derive(Debug, Clone)]
pub struct NewLocalAccount {
    pub id: i64,
    pub username: String,
    pub email: Option<String>,
    pub display_name: String,
    pub password_hash: String,
    pub private_key_pem: String,
    pub public_key_pem: String,
    pub role: String,
    pub created_at: i64,
}

const COLUMNS: &str = "id, username, domain, display_name, note, fields, avatar_path, \
    header_path, email, password_hash, private_key_pem, public_key_pem, role, locked, \
    discoverable, suspended, created_at, updated_at";

impl Store {
    pub async fn insert_local_account(&self, a: &NewLocalAccount) -> Result<(), StoreError> {
        let sql = "INSERT INTO accounts (id, username, username_key, domain, display_name, email, \
            password_hash, private_key_pem, public_key_pem, role, created_at, updated_at) \
            VALUES ($1, $2, $3, '', $4, $5, $6, $7, $8, $9, $10, $10)";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(a.id)
            .bind(&a.username)
            .bind(a.username.to_lowercase())
            .bind(&a.display_name)
            .bind(&a.email)
            .bind(&a.password_hash)
            .bind(&a.private_key_pem)
            .bind(&a.public_key_pem)
            .bind(&a.role)
            .bind(a.created_at)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
        .map_err(|e| StoreError::conflict_as(e, "an account with this username or email"))?;
        Ok(())
    }

    /// A local account by username, compared case-insensitively.
    pub async fn local_account_by_username(
        &self,
        username: &str,
    ) -> Result<Option<AccountRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM accounts WHERE username_key = $1 AND domain = ''");
        let row = on_pool!(self, |pool| sqlx::query_as::<_, AccountRow>(&sql)
            .bind(username.to_lowercase())
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    pub async fn list_local_accounts(&self) -> Result<Vec<AccountRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM accounts WHERE domain = '' ORDER BY id");
        let rows = on_pool!(self, |pool| sqlx::query_as::<_, AccountRow>(&sql)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    pub async fn count_local_accounts(&self) -> Result<i64, StoreError> {
        let sql = "SELECT COUNT(*) FROM accounts WHERE domain = '' AND NOT suspended";
        let n = on_pool!(self, |pool| sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(pool)
            .await)?;
        Ok(n)
    }

    /// Sets the password hash; `false` if there is no such local account.
    pub async fn set_password_hash(&self, id: i64, hash: &str) -> Result<bool, StoreError> {
        let sql = "UPDATE accounts SET password_hash = $1, updated_at = $2 WHERE id = $3";
        let done = on_pool!(self, |pool| sqlx::query(sql)
            .bind(hash)
            .bind(super::now_millis())
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    pub async fn set_role(&self, id: i64, role: &str) -> Result<bool, StoreError> {
        let sql = "UPDATE accounts SET role = $1, updated_at = $2 WHERE id = $3";
        let done = on_pool!(self, |pool| sqlx::query(sql)
            .bind(role)
            .bind(super::now_millis())
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }

    pub async fn set_suspended(&self, id: i64, suspended: bool) -> Result<bool, StoreError> {
        let sql = "UPDATE accounts SET suspended = $1, updated_at = $2 WHERE id = $3";
        let done = on_pool!(self, |pool| sqlx::query(sql)
            .bind(suspended)
            .bind(super::now_millis())
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }
}
