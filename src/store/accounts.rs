//! The accounts aggregate.

use sqlx::FromRow;

use super::deliveries::{insert_deliveries, NewDelivery};
use super::profile_index::reindex_account;
use super::{in_tx, on_pool, Store, StoreError};

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
    pub bot: bool,
    pub default_privacy: String,
    pub default_sensitive: bool,
    pub default_language: Option<String>,
    pub ap_id: Option<String>,
    pub inbox_url: Option<String>,
    pub shared_inbox_url: Option<String>,
    pub followers_url: Option<String>,
    pub profile_url: Option<String>,
    pub key_id: Option<String>,
    pub avatar_url: Option<String>,
    pub header_url: Option<String>,
    pub fetched_at: Option<i64>,
    /// A `Group` actor: joined by following it; it announces its members' posts.
    pub is_group: bool,
    /// The `communicator` role, stored beside `role` (which stays `user` for a communicator).
    pub communicator: bool,
}

impl AccountRow {
    pub fn is_local(&self) -> bool {
        self.domain.is_empty()
    }

    /// The account's role: `role`, or `communicator`.
    pub fn effective_role(&self) -> &str {
        if self.communicator && self.role == "user" {
            "communicator"
        } else {
            &self.role
        }
    }
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
    /// Listed in the directory and found by profile search (the node's
    /// `accounts.default_discoverable` for new accounts).
    pub discoverable: bool,
    pub created_at: i64,
}

pub(crate) const COLUMNS: &str = "id, username, domain, display_name, note, fields, avatar_path, \
    header_path, email, password_hash, private_key_pem, public_key_pem, role, locked, \
    discoverable, suspended, created_at, updated_at, bot, default_privacy, default_sensitive, \
    default_language, ap_id, inbox_url, shared_inbox_url, followers_url, profile_url, key_id, \
    avatar_url, header_url, fetched_at, is_group, communicator";

impl Store {
    /// Inserts a local account and its search document.
    pub async fn insert_local_account(&self, a: &NewLocalAccount) -> Result<(), StoreError> {
        let sql = "INSERT INTO accounts (id, username, username_key, domain, display_name, email, \
            password_hash, private_key_pem, public_key_pem, role, discoverable, created_at, \
            updated_at, communicator) VALUES ($1, $2, $3, '', $4, $5, $6, $7, $8, $9, $10, $11, $11, $12)";
        let (role, communicator) = match a.role.as_str() {
            "communicator" => ("user", true),
            other => (other, false),
        };
        in_tx!(self, |tx| {
            sqlx::query(sql)
                .bind(a.id)
                .bind(&a.username)
                .bind(a.username.to_lowercase())
                .bind(&a.display_name)
                .bind(&a.email)
                .bind(&a.password_hash)
                .bind(&a.private_key_pem)
                .bind(&a.public_key_pem)
                .bind(role)
                .bind(a.discoverable)
                .bind(a.created_at)
                .bind(communicator)
                .execute(&mut *tx)
                .await
                .map_err(|e| {
                    StoreError::conflict_as(e, "an account with this username or email")
                })?;
            reindex_account!(tx, a.id);
        });
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

    pub async fn has_local_accounts(&self) -> Result<bool, StoreError> {
        let sql = "SELECT COUNT(*) FROM (SELECT 1 FROM accounts WHERE domain = '' LIMIT 1) one";
        let n = on_pool!(self, |pool| sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(pool)
            .await)?;
        Ok(n > 0)
    }

    /// The oldest active local admin: the node's contact.
    pub async fn first_admin(&self) -> Result<Option<AccountRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM accounts WHERE domain = '' AND role = 'admin' \
             AND NOT suspended ORDER BY id LIMIT 1"
        );
        let row = on_pool!(self, |pool| sqlx::query_as::<_, AccountRow>(&sql)
            .fetch_optional(pool)
            .await)?;
        Ok(row)
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
        // A communicator is a user with the communicator flag (see the accounts migration 0014).
        let (role, communicator) = match role {
            "communicator" => ("user", true),
            other => (other, false),
        };
        let sql = "UPDATE accounts SET role = $1, communicator = $4, updated_at = $2 WHERE id = $3";
        let done = on_pool!(self, |pool| sqlx::query(sql)
            .bind(role)
            .bind(super::now_millis())
            .bind(id)
            .bind(communicator)
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

/// Counters shown on an Account entity.
#[derive(Debug, Clone, Copy, Default)]
pub struct AccountCounts {
    pub followers: i64,
    pub following: i64,
    pub statuses: i64,
    /// Milliseconds of the newest status, if any.
    pub last_status_at: Option<i64>,
    /// Moderators limited (silenced) the account. Not a count, but read with them in the one
    /// query an account's figures take.
    pub limited: bool,
}

/// Profile changes; `None` leaves a column as it is.
#[derive(Debug, Clone, Default)]
pub struct ProfileUpdate {
    pub display_name: Option<String>,
    pub note: Option<String>,
    pub fields: Option<String>,
    pub avatar_path: Option<String>,
    pub header_path: Option<String>,
    pub locked: Option<bool>,
    pub bot: Option<bool>,
    pub discoverable: Option<bool>,
    pub default_privacy: Option<String>,
    pub default_sensitive: Option<bool>,
    pub default_language: Option<String>,
}

impl ProfileUpdate {
    /// `row` as [`Store::update_profile`] will leave it, so the Update sent to peers can be
    /// built before the write and committed with it. Keep in step with that query.
    pub fn apply(&self, row: &mut AccountRow) {
        fn set<T: Clone>(field: &mut T, value: &Option<T>) {
            if let Some(v) = value {
                *field = v.clone();
            }
        }
        set(&mut row.display_name, &self.display_name);
        set(&mut row.note, &self.note);
        set(&mut row.fields, &self.fields);
        set(&mut row.avatar_path, &self.avatar_path);
        set(&mut row.header_path, &self.header_path);
        set(&mut row.locked, &self.locked);
        set(&mut row.bot, &self.bot);
        set(&mut row.discoverable, &self.discoverable);
        set(&mut row.default_privacy, &self.default_privacy);
        set(&mut row.default_sensitive, &self.default_sensitive);
        if self.default_language.is_some() {
            row.default_language = self.default_language.clone();
        }
        row.updated_at = super::now_millis();
    }
}

impl Store {
    pub async fn account_by_id(&self, id: i64) -> Result<Option<AccountRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM accounts WHERE id = $1");
        let row = on_pool!(self, |pool| sqlx::query_as::<_, AccountRow>(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    pub async fn accounts_by_ids(&self, ids: &[i64]) -> Result<Vec<AccountRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM accounts WHERE id IN ({})",
            super::placeholders(1, ids.len())
        );
        let rows = on_pool!(self, |pool| {
            let mut q = sqlx::query_as::<_, AccountRow>(&sql);
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(pool).await
        })?;
        Ok(rows)
    }

    /// A local account by email or username, for logging in.
    pub async fn local_account_by_login(
        &self,
        login: &str,
    ) -> Result<Option<AccountRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM accounts WHERE domain = '' AND (email = $1 OR username_key = $1)"
        );
        let row = on_pool!(self, |pool| sqlx::query_as::<_, AccountRow>(&sql)
            .bind(login.trim().to_lowercase())
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    pub async fn account_counts(
        &self,
        ids: &[i64],
    ) -> Result<std::collections::HashMap<i64, AccountCounts>, StoreError> {
        let mut out: std::collections::HashMap<i64, AccountCounts> = ids
            .iter()
            .map(|id| (*id, AccountCounts::default()))
            .collect();
        if ids.is_empty() {
            return Ok(out);
        }
        let list = super::placeholders(1, ids.len());
        let sql = format!(
            "SELECT a.id, COALESCE(st.followers_count, 0), COALESCE(st.following_count, 0), \
               COALESCE(st.statuses_count, 0), st.last_status_at, COALESCE(m.silenced, FALSE) \
             FROM accounts a LEFT JOIN account_stats st ON st.account_id = a.id \
             LEFT JOIN account_moderation m ON m.account_id = a.id \
             WHERE a.id IN ({list})"
        );
        let rows: Vec<(i64, i64, i64, i64, Option<i64>, bool)> = on_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql);
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(pool).await
        })?;
        for (id, followers, following, statuses, last, limited) in rows {
            out.insert(
                id,
                AccountCounts {
                    followers,
                    following,
                    statuses,
                    last_status_at: last,
                    limited,
                },
            );
        }
        Ok(out)
    }

    /// Applies a profile update, rebuilds its search document and writes its deliveries (the
    /// Update of the actor to peers with followers) in the same transaction.
    pub async fn update_profile(
        &self,
        id: i64,
        u: &ProfileUpdate,
        deliveries: &[NewDelivery],
    ) -> Result<(), StoreError> {
        let sql = "UPDATE accounts SET \
            display_name = COALESCE($1, display_name), note = COALESCE($2, note), \
            fields = COALESCE($3, fields), avatar_path = COALESCE($4, avatar_path), \
            header_path = COALESCE($5, header_path), locked = COALESCE($6, locked), \
            bot = COALESCE($7, bot), discoverable = COALESCE($8, discoverable), \
            default_privacy = COALESCE($9, default_privacy), \
            default_sensitive = COALESCE($10, default_sensitive), \
            default_language = COALESCE($11, default_language), updated_at = $12 \
            WHERE id = $13";
        in_tx!(self, |tx| {
            sqlx::query(sql)
                .bind(&u.display_name)
                .bind(&u.note)
                .bind(&u.fields)
                .bind(&u.avatar_path)
                .bind(&u.header_path)
                .bind(u.locked)
                .bind(u.bot)
                .bind(u.discoverable)
                .bind(&u.default_privacy)
                .bind(u.default_sensitive)
                .bind(&u.default_language)
                .bind(super::now_millis())
                .bind(id)
                .execute(&mut *tx)
                .await?;
            reindex_account!(tx, id);
            insert_deliveries!(tx, deliveries)?;
        });
        Ok(())
    }
}
