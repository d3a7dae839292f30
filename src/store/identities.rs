//! Company identities linked to local accounts, OpenID Connect logins in progress, and
//! retiring an account whose identity is gone.

use sqlx::FromRow;

use super::accounts::{AccountRow, NewLocalAccount, COLUMNS};
use super::policy::Audit;
use super::profile_index::reindex_account;
use super::{in_tx, on_pool, on_writer, Store, StoreError};

#[derive(Debug, Clone, FromRow)]
pub struct IdentityRow {
    pub id: i64,
    pub account_id: i64,
    pub provider: String,
    pub issuer: String,
    pub subject: String,
    pub login: String,
    pub groups: String,
    pub created_at: i64,
    pub last_login_at: i64,
    pub retired_at: Option<i64>,
}

/// A role as the columns hold it: a communicator is a `user` with the `communicator` flag
/// (migration 0014), as `Store::set_role` writes it.
fn split_role(role: &str) -> (&str, bool) {
    match role {
        "communicator" => ("user", true),
        other => (other, false),
    }
}

const IDENTITY_COLUMNS: &str = "id, account_id, provider, issuer, subject, login, groups, \
    created_at, last_login_at, retired_at";

/// The identity of a login, as the provider describes it.
#[derive(Debug, Clone)]
pub struct NewIdentity<'a> {
    pub provider: &'a str,
    pub issuer: &'a str,
    pub subject: &'a str,
    pub login: &'a str,
    pub groups: &'a str,
}

/// What each login refreshes on the account from the provider (the display name goes through
/// the profile update, which tells peers).
#[derive(Debug, Clone)]
pub struct SyncedProfile<'a> {
    pub email: Option<&'a str>,
    pub role: &'a str,
    /// A login (not the directory sync): the identity's last login is now.
    pub is_login: bool,
}

#[derive(Debug, Clone, FromRow)]
pub struct PendingLogin {
    pub nonce: String,
    pub pkce_verifier: String,
    pub request: String,
    pub expires_at: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct PendingConsent {
    pub account_id: i64,
    pub request: String,
    pub expires_at: i64,
}

impl Store {
    pub async fn identity_by_subject(
        &self,
        provider: &str,
        issuer: &str,
        subject: &str,
    ) -> Result<Option<IdentityRow>, StoreError> {
        let sql = format!(
            "SELECT {IDENTITY_COLUMNS} FROM identities \
             WHERE provider = $1 AND issuer = $2 AND subject = $3"
        );
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, IdentityRow>(
            &sql
        )
        .bind(provider)
        .bind(issuer)
        .bind(subject)
        .fetch_optional(pool)
        .await)?)
    }

    /// Identities of a provider that are not retired, for the directory sync.
    pub async fn active_identities(&self, provider: &str) -> Result<Vec<IdentityRow>, StoreError> {
        let sql = format!(
            "SELECT {IDENTITY_COLUMNS} FROM identities \
             WHERE provider = $1 AND retired_at IS NULL ORDER BY id"
        );
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, IdentityRow>(
            &sql
        )
        .bind(provider)
        .fetch_all(pool)
        .await)?)
    }

    /// Identities of a provider, not retired, last seen with this login name (any case).
    pub async fn active_identities_by_login(
        &self,
        provider: &str,
        login: &str,
    ) -> Result<Vec<IdentityRow>, StoreError> {
        let sql = format!(
            "SELECT {IDENTITY_COLUMNS} FROM identities \
             WHERE provider = $1 AND retired_at IS NULL AND LOWER(login) = $2"
        );
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, IdentityRow>(
            &sql
        )
        .bind(provider)
        .bind(login.to_lowercase())
        .fetch_all(pool)
        .await)?)
    }

    /// Does any identity link to this account (it is the provider's, not a local one)?
    pub async fn has_identity(&self, account_id: i64) -> Result<bool, StoreError> {
        let sql = "SELECT COUNT(*) FROM identities WHERE account_id = $1";
        let n = on_pool!(self, |pool| sqlx::query_scalar::<_, i64>(sql)
            .bind(account_id)
            .fetch_one(pool)
            .await)?;
        Ok(n > 0)
    }

    /// Creates the account of a first login and links the identity to it, in one transaction:
    /// a username taken meanwhile fails both.
    pub async fn provision_account(
        &self,
        account: &NewLocalAccount,
        identity: &NewIdentity<'_>,
    ) -> Result<AccountRow, StoreError> {
        let now = super::now_millis();
        let insert_account = "INSERT INTO accounts (id, username, username_key, domain, \
            display_name, email, password_hash, private_key_pem, public_key_pem, role, \
            discoverable, created_at, updated_at, communicator) \
            VALUES ($1, $2, $3, '', $4, $5, NULL, $6, $7, $8, $9, $10, $10, $11)";
        let (role, communicator) = split_role(&account.role);
        let insert_identity = "INSERT INTO identities (id, account_id, provider, issuer, subject, \
            login, groups, created_at, last_login_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)";
        let select = format!("SELECT {COLUMNS} FROM accounts WHERE id = $1");
        let row = in_tx!(self, |tx| {
            sqlx::query(insert_account)
                .bind(account.id)
                .bind(&account.username)
                .bind(account.username.to_lowercase())
                .bind(&account.display_name)
                .bind(&account.email)
                .bind(&account.private_key_pem)
                .bind(&account.public_key_pem)
                .bind(role)
                .bind(account.discoverable)
                .bind(account.created_at)
                .bind(communicator)
                .execute(&mut *tx)
                .await
                .map_err(|e| {
                    StoreError::conflict_as(e, "an account with this username or email")
                })?;
            sqlx::query(insert_identity)
                .bind(crate::ids::next_id())
                .bind(account.id)
                .bind(identity.provider)
                .bind(identity.issuer)
                .bind(identity.subject)
                .bind(identity.login)
                .bind(identity.groups)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::conflict_as(e, "this identity"))?;
            reindex_account!(tx, account.id);
            sqlx::query_as::<_, AccountRow>(&select)
                .bind(account.id)
                .fetch_one(&mut *tx)
                .await?
        });
        Ok(row)
    }

    /// Links an existing account to an identity, with its audit entry.
    pub async fn link_identity(
        &self,
        account_id: i64,
        identity: &NewIdentity<'_>,
        audit: &Audit<'_>,
    ) -> Result<(), StoreError> {
        let now = super::now_millis();
        let sql = "INSERT INTO identities (id, account_id, provider, issuer, subject, login, \
            groups, created_at, last_login_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)";
        in_tx!(self, |tx| {
            sqlx::query(sql)
                .bind(crate::ids::next_id())
                .bind(account_id)
                .bind(identity.provider)
                .bind(identity.issuer)
                .bind(identity.subject)
                .bind(identity.login)
                .bind(identity.groups)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::conflict_as(e, "this identity"))?;
            super::policy::insert_audit!(&mut *tx, audit)?;
        });
        Ok(())
    }

    /// A later login: the account's email and role as the provider says now, and the
    /// identity's last login and groups. An identity retired before is active again (its
    /// account was unsuspended by an admin, or the login would not get here).
    pub async fn sync_identity(
        &self,
        identity_id: i64,
        account_id: i64,
        login: &str,
        groups: &str,
        profile: &SyncedProfile<'_>,
    ) -> Result<AccountRow, StoreError> {
        let now = super::now_millis();
        let update_account = "UPDATE accounts SET email = $1, role = $2, updated_at = $3, \
            communicator = $5 WHERE id = $4";
        let (role, communicator) = split_role(profile.role);
        // The directory sync refreshes the same things without it being a login.
        let update_identity = "UPDATE identities SET login = $1, groups = $2, \
            last_login_at = CASE WHEN $5 THEN $3 ELSE last_login_at END, \
            retired_at = NULL, retired_reason = NULL WHERE id = $4";
        let select = format!("SELECT {COLUMNS} FROM accounts WHERE id = $1");
        let row = in_tx!(self, |tx| {
            sqlx::query(update_account)
                .bind(profile.email)
                .bind(role)
                .bind(now)
                .bind(account_id)
                .bind(communicator)
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::conflict_as(e, "an account with this email"))?;
            sqlx::query(update_identity)
                .bind(login)
                .bind(groups)
                .bind(now)
                .bind(identity_id)
                .bind(profile.is_login)
                .execute(&mut *tx)
                .await?;
            reindex_account!(tx, account_id);
            sqlx::query_as::<_, AccountRow>(&select)
                .bind(account_id)
                .fetch_one(&mut *tx)
                .await?
        });
        Ok(row)
    }

    /// Retires an account whose identity is gone or no longer allowed in: suspends it, deletes
    /// every token and pending code of it, marks the identity, and writes the audit entry, in
    /// one transaction. Returns the number of tokens revoked.
    pub async fn retire_identity(
        &self,
        identity_id: i64,
        account_id: i64,
        reason: &str,
        audit: &Audit<'_>,
    ) -> Result<u64, StoreError> {
        let now = super::now_millis();
        let revoked = in_tx!(self, |tx| {
            sqlx::query("UPDATE accounts SET suspended = TRUE, updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(account_id)
                .execute(&mut *tx)
                .await?;
            let revoked = sqlx::query("DELETE FROM oauth_tokens WHERE account_id = $1")
                .bind(account_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query("DELETE FROM oauth_codes WHERE account_id = $1")
                .bind(account_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM sso_consents WHERE account_id = $1")
                .bind(account_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE identities SET retired_at = $1, retired_reason = $2 WHERE id = $3")
                .bind(now)
                .bind(reason)
                .bind(identity_id)
                .execute(&mut *tx)
                .await?;
            super::policy::insert_audit!(&mut *tx, audit)?;
            revoked
        });
        Ok(revoked)
    }

    /// A retired identity that is back in the directory and allowed in: the account is active
    /// again, with its audit entry.
    pub async fn reinstate_identity(
        &self,
        identity_id: i64,
        account_id: i64,
        audit: &Audit<'_>,
    ) -> Result<(), StoreError> {
        let now = super::now_millis();
        in_tx!(self, |tx| {
            sqlx::query("UPDATE accounts SET suspended = FALSE, updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(account_id)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "UPDATE identities SET retired_at = NULL, retired_reason = NULL WHERE id = $1",
            )
            .bind(identity_id)
            .execute(&mut *tx)
            .await?;
            super::policy::insert_audit!(&mut *tx, audit)?;
        });
        Ok(())
    }

    pub async fn insert_sso_login(
        &self,
        state_hash: &str,
        login: &PendingLogin,
    ) -> Result<(), StoreError> {
        let now = super::now_millis();
        let sql = "INSERT INTO sso_logins (state_hash, nonce, pkce_verifier, request, expires_at) \
                   VALUES ($1, $2, $3, $4, $5)";
        in_tx!(self, |tx| {
            // Abandoned logins go as new ones come.
            sqlx::query("DELETE FROM sso_logins WHERE expires_at < $1")
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM sso_consents WHERE expires_at < $1")
                .bind(now)
                .execute(&mut *tx)
                .await?;
            sqlx::query(sql)
                .bind(state_hash)
                .bind(&login.nonce)
                .bind(&login.pkce_verifier)
                .bind(&login.request)
                .bind(login.expires_at)
                .execute(&mut *tx)
                .await?;
        });
        Ok(())
    }

    /// Removes and returns a pending login: a state is good for one callback.
    pub async fn take_sso_login(
        &self,
        state_hash: &str,
    ) -> Result<Option<PendingLogin>, StoreError> {
        let select = "SELECT nonce, pkce_verifier, request, expires_at FROM sso_logins \
                      WHERE state_hash = $1";
        let row = in_tx!(self, |tx| {
            let row = sqlx::query_as::<_, PendingLogin>(select)
                .bind(state_hash)
                .fetch_optional(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM sso_logins WHERE state_hash = $1")
                .bind(state_hash)
                .execute(&mut *tx)
                .await?;
            row
        });
        Ok(row)
    }

    pub async fn insert_sso_consent(
        &self,
        ticket_hash: &str,
        consent: &PendingConsent,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO sso_consents (ticket_hash, account_id, request, expires_at) \
                   VALUES ($1, $2, $3, $4)";
        on_writer!(self, |pool| sqlx::query(sql)
            .bind(ticket_hash)
            .bind(consent.account_id)
            .bind(&consent.request)
            .bind(consent.expires_at)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Removes and returns a consent ticket: one decision per login.
    pub async fn take_sso_consent(
        &self,
        ticket_hash: &str,
    ) -> Result<Option<PendingConsent>, StoreError> {
        let select = "SELECT account_id, request, expires_at FROM sso_consents \
                      WHERE ticket_hash = $1";
        let row = in_tx!(self, |tx| {
            let row = sqlx::query_as::<_, PendingConsent>(select)
                .bind(ticket_hash)
                .fetch_optional(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM sso_consents WHERE ticket_hash = $1")
                .bind(ticket_hash)
                .execute(&mut *tx)
                .await?;
            row
        });
        Ok(row)
    }
}
