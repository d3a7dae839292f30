//! OAuth applications, authorization codes and access tokens.

use sqlx::FromRow;

use super::{on_pool, Store, StoreError};

#[derive(Debug, Clone, FromRow)]
pub struct AppRow {
    pub id: i64,
    pub name: String,
    pub website: Option<String>,
    pub redirect_uris: String,
    pub scopes: String,
    pub client_id: String,
    pub client_secret: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct CodeRow {
    pub app_id: i64,
    pub account_id: i64,
    pub redirect_uri: String,
    pub scopes: String,
    pub code_challenge: Option<String>,
    pub expires_at: i64,
}

/// A token as looked up for a request, with what the request needs to know about its owner.
#[derive(Debug, Clone, FromRow)]
pub struct TokenRow {
    pub id: i64,
    pub app_id: i64,
    pub account_id: Option<i64>,
    pub scopes: String,
    pub created_at: i64,
    pub app_name: String,
    pub app_website: Option<String>,
}

impl Store {
    pub async fn insert_app(&self, app: &AppRow) -> Result<(), StoreError> {
        let sql = "INSERT INTO oauth_apps (id, name, website, redirect_uris, scopes, client_id, \
                   client_secret, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(app.id)
            .bind(&app.name)
            .bind(&app.website)
            .bind(&app.redirect_uris)
            .bind(&app.scopes)
            .bind(&app.client_id)
            .bind(&app.client_secret)
            .bind(app.created_at)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    pub async fn app_by_client_id(&self, client_id: &str) -> Result<Option<AppRow>, StoreError> {
        let sql = "SELECT id, name, website, redirect_uris, scopes, client_id, client_secret, \
                   created_at FROM oauth_apps WHERE client_id = $1";
        let row = on_pool!(self, |pool| sqlx::query_as::<_, AppRow>(sql)
            .bind(client_id)
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    pub async fn app_by_id(&self, id: i64) -> Result<Option<AppRow>, StoreError> {
        let sql = "SELECT id, name, website, redirect_uris, scopes, client_id, client_secret, \
                   created_at FROM oauth_apps WHERE id = $1";
        let row = on_pool!(self, |pool| sqlx::query_as::<_, AppRow>(sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn insert_code(
        &self,
        code_hash: &str,
        app_id: i64,
        account_id: i64,
        redirect_uri: &str,
        scopes: &str,
        code_challenge: Option<&str>,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO oauth_codes (code_hash, app_id, account_id, redirect_uri, scopes, \
                   code_challenge, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(code_hash)
            .bind(app_id)
            .bind(account_id)
            .bind(redirect_uri)
            .bind(scopes)
            .bind(code_challenge)
            .bind(expires_at)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Removes and returns a code: a code can be exchanged once, even when the exchange fails.
    pub async fn take_code(&self, code_hash: &str) -> Result<Option<CodeRow>, StoreError> {
        let select = "SELECT app_id, account_id, redirect_uri, scopes, code_challenge, expires_at \
                      FROM oauth_codes WHERE code_hash = $1";
        let delete = "DELETE FROM oauth_codes WHERE code_hash = $1";
        let row = super::in_tx!(self, |tx| {
            let row = sqlx::query_as::<_, CodeRow>(select)
                .bind(code_hash)
                .fetch_optional(&mut *tx)
                .await?;
            sqlx::query(delete)
                .bind(code_hash)
                .execute(&mut *tx)
                .await?;
            row
        });
        Ok(row)
    }

    pub async fn insert_token(
        &self,
        id: i64,
        token_hash: &str,
        app_id: i64,
        account_id: Option<i64>,
        scopes: &str,
        created_at: i64,
    ) -> Result<(), StoreError> {
        let sql =
            "INSERT INTO oauth_tokens (id, token_hash, app_id, account_id, scopes, created_at) \
                   VALUES ($1, $2, $3, $4, $5, $6)";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(id)
            .bind(token_hash)
            .bind(app_id)
            .bind(account_id)
            .bind(scopes)
            .bind(created_at)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    pub async fn token_by_hash(&self, token_hash: &str) -> Result<Option<TokenRow>, StoreError> {
        let sql = "SELECT t.id, t.app_id, t.account_id, t.scopes, t.created_at, \
                   a.name AS app_name, a.website AS app_website \
                   FROM oauth_tokens t JOIN oauth_apps a ON a.id = t.app_id \
                   WHERE t.token_hash = $1";
        let row = on_pool!(self, |pool| sqlx::query_as::<_, TokenRow>(sql)
            .bind(token_hash)
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    /// Deletes a token if it belongs to `app_id`; the number of tokens deleted.
    pub async fn revoke_token(&self, token_hash: &str, app_id: i64) -> Result<u64, StoreError> {
        let sql = "DELETE FROM oauth_tokens WHERE token_hash = $1 AND app_id = $2";
        let n = on_pool!(self, |pool| sqlx::query(sql)
            .bind(token_hash)
            .bind(app_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
        Ok(n)
    }

    pub async fn token_app_id(&self, token_hash: &str) -> Result<Option<i64>, StoreError> {
        let sql = "SELECT app_id FROM oauth_tokens WHERE token_hash = $1";
        let id = on_pool!(self, |pool| sqlx::query_scalar::<_, i64>(sql)
            .bind(token_hash)
            .fetch_optional(pool)
            .await)?;
        Ok(id)
    }
}
