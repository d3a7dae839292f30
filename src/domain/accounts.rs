//! Accounts: who may exist, with which name, role and credentials.

use std::fmt;
use std::str::FromStr;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use rand::distributions::{Alphanumeric, DistString};
use rand::rngs::OsRng;

use super::DomainError;
use crate::convert::views::{AccountView, CredentialView};
use crate::store::accounts::{AccountRow, NewLocalAccount};
use crate::store::{now_millis, Store};

pub const MIN_PASSWORD_LEN: usize = 8;
/// What peers verify today; see ARCHITECTURE.md.
const RSA_BITS: u32 = 2048;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    User,
    /// Publishes announcements (internal communications, HR); no moderation rights.
    Communicator,
    Moderator,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Communicator => "communicator",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = DomainError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "user" => Ok(Role::User),
            "communicator" => Ok(Role::Communicator),
            "moderator" => Ok(Role::Moderator),
            "admin" => Ok(Role::Admin),
            other => Err(DomainError::Invalid(format!(
                "unknown role {other:?}: expected user, communicator, moderator or admin"
            ))),
        }
    }
}

/// See [`crate::names::check_username`].
pub fn validate_username(name: &str) -> Result<(), DomainError> {
    crate::names::check_username(name).map_err(DomainError::Invalid)
}

fn validate_password(password: &str) -> Result<(), DomainError> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(DomainError::Invalid(format!(
            "password must be at least {MIN_PASSWORD_LEN} characters"
        )));
    }
    Ok(())
}

fn validate_email(email: &str) -> Result<(), DomainError> {
    match email.split_once('@') {
        Some((local, host)) if !local.is_empty() && (host.contains('.') || host == "localhost") => {
            Ok(())
        }
        _ => Err(DomainError::Invalid(format!(
            "{email:?} is not an email address"
        ))),
    }
}

/// A random password for accounts created by the node or an admin.
pub fn generate_password() -> String {
    Alphanumeric.sample_string(&mut OsRng, 24)
}

pub fn hash_password(password: &str) -> Result<String, DomainError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| DomainError::Internal(format!("hashing password: {e}")))
}

/// Checks a password against a stored hash; a malformed hash counts as a mismatch.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A fresh RSA key pair as (private PKCS#8 PEM, public SPKI PEM).
pub fn generate_key_pair() -> Result<(String, String), DomainError> {
    let internal = |e: openssl::error::ErrorStack| DomainError::Internal(format!("RSA: {e}"));
    let key = PKey::from_rsa(Rsa::generate(RSA_BITS).map_err(internal)?).map_err(internal)?;
    let private = key.private_key_to_pem_pkcs8().map_err(internal)?;
    let public = key.public_key_to_pem().map_err(internal)?;
    let utf8 = |b: Vec<u8>| String::from_utf8(b).map_err(|e| DomainError::Internal(e.to_string()));
    Ok((utf8(private)?, utf8(public)?))
}

pub struct NewAccount<'a> {
    pub username: &'a str,
    pub email: Option<&'a str>,
    pub password: &'a str,
    pub role: Role,
    /// In the directory and profile search: the node's `accounts.default_discoverable`.
    pub discoverable: bool,
}

pub async fn create_local_account(
    store: &Store,
    new: NewAccount<'_>,
) -> Result<AccountRow, DomainError> {
    validate_username(new.username)?;
    validate_password(new.password)?;
    let email = new.email.map(str::trim).filter(|e| !e.is_empty());
    if let Some(email) = email {
        validate_email(email)?;
    }
    if store
        .local_account_by_username(new.username)
        .await?
        .is_some()
    {
        return Err(DomainError::Conflict(format!(
            "username {:?} is taken",
            new.username
        )));
    }
    // Both are CPU-heavy; keep them off the async workers.
    let password = new.password.to_owned();
    let (hash, (private_key_pem, public_key_pem)) = tokio::task::spawn_blocking(move || {
        Ok::<_, DomainError>((hash_password(&password)?, generate_key_pair()?))
    })
    .await
    .map_err(|e| DomainError::Internal(e.to_string()))??;
    let row = NewLocalAccount {
        id: crate::ids::next_id(),
        username: new.username.to_owned(),
        email: email.map(str::to_lowercase),
        display_name: String::new(),
        password_hash: hash,
        private_key_pem,
        public_key_pem,
        role: new.role.as_str().to_owned(),
        discoverable: new.discoverable,
        created_at: now_millis(),
    };
    store.insert_local_account(&row).await?;
    store
        .local_account_by_username(new.username)
        .await?
        .ok_or(DomainError::NotFound("account"))
}

/// A local account by username. Names that could never be valid find nothing without asking
/// the database (PostgreSQL rejects some bytes, such as NUL, outright).
pub async fn find_local(store: &Store, username: &str) -> Result<Option<AccountRow>, DomainError> {
    if validate_username(username).is_err() {
        return Ok(None);
    }
    Ok(store.local_account_by_username(username).await?)
}

async fn existing(store: &Store, username: &str) -> Result<AccountRow, DomainError> {
    find_local(store, username)
        .await?
        .ok_or(DomainError::NotFound("account"))
}

pub async fn set_password(
    store: &Store,
    username: &str,
    password: &str,
) -> Result<(), DomainError> {
    validate_password(password)?;
    let account = existing(store, username).await?;
    let password = password.to_owned();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| DomainError::Internal(e.to_string()))??;
    store.set_password_hash(account.id, &hash).await?;
    Ok(())
}

pub async fn set_role(store: &Store, username: &str, role: Role) -> Result<(), DomainError> {
    let account = existing(store, username).await?;
    store.set_role(account.id, role.as_str()).await?;
    Ok(())
}

pub async fn set_suspended(
    store: &Store,
    username: &str,
    suspended: bool,
) -> Result<(), DomainError> {
    let account = existing(store, username).await?;
    store.set_suspended(account.id, suspended).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["ada", "Ada_Lovelace", "x", "a1_2", &"a".repeat(30)] {
            validate_username(ok).unwrap();
        }
        for bad in [
            "",
            "ada lovelace",
            "ada@hq",
            "ada-l",
            "zoë",
            &"a".repeat(31),
        ] {
            assert!(validate_username(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn roles_parse_in_any_case() {
        assert_eq!("Admin".parse::<Role>().unwrap(), Role::Admin);
        assert_eq!("moderator".parse::<Role>().unwrap(), Role::Moderator);
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn passwords_hash_and_verify() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong horse", &hash));
        assert!(!verify_password("correct horse", "not a hash"));
        assert_eq!(generate_password().len(), 24);
    }

    #[test]
    fn key_pairs_are_rsa_2048_pem() {
        let (private, public) = generate_key_pair().unwrap();
        assert!(private.starts_with("-----BEGIN PRIVATE KEY-----"));
        let key = PKey::public_key_from_pem(public.as_bytes()).unwrap();
        assert_eq!(key.rsa().unwrap().size() * 8, 2048);
    }
}

/// Accounts of `ids` with their counters, keyed by id.
pub async fn views_by_id(
    node: &super::Node,
    ids: &[i64],
) -> Result<std::collections::HashMap<i64, AccountView>, DomainError> {
    let mut unique: Vec<i64> = ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    let rows = node.store.accounts_by_ids(&unique).await?;
    let counts = node.store.account_counts(&unique).await?;
    Ok(rows
        .into_iter()
        .map(|a| {
            let counts = counts.get(&a.id).copied().unwrap_or_default();
            (a.id, AccountView { row: a, counts })
        })
        .collect())
}

/// A page of accounts listed through a relation (followers, follow requests, who favourited a
/// status): the accounts in order, and the relation ids of the first and last as cursors.
#[derive(Debug, Clone, Default)]
pub struct AccountPage {
    pub accounts: Vec<AccountView>,
    /// (newest, oldest) relation ids; `None` for an empty page.
    pub keys: Option<(i64, i64)>,
}

/// The page of `rows`, (relation id, account id) pairs as the store lists them.
pub async fn page(node: &super::Node, rows: &[(i64, i64)]) -> Result<AccountPage, DomainError> {
    let keys = rows.first().zip(rows.last()).map(|(a, b)| (a.0, b.0));
    let ids: Vec<i64> = rows.iter().map(|r| r.1).collect();
    Ok(AccountPage {
        accounts: views(node, &ids).await?,
        keys,
    })
}

/// An account others may look at: known and not suspended, else NotFound.
pub async fn visible(node: &super::Node, id: i64) -> Result<AccountRow, DomainError> {
    node.store
        .account_by_id(id)
        .await?
        .filter(|a| !a.suspended)
        .ok_or(DomainError::NotFound("account"))
}

/// Accounts of `ids` in the given order, skipping unknown ones.
pub async fn views(node: &super::Node, ids: &[i64]) -> Result<Vec<AccountView>, DomainError> {
    let map = views_by_id(node, ids).await?;
    Ok(ids.iter().filter_map(|id| map.get(id).cloned()).collect())
}

/// The signed-in user's own account, with the follow requests waiting.
pub async fn credential(
    node: &super::Node,
    row: &AccountRow,
) -> Result<CredentialView, DomainError> {
    let counts = node.store.account_counts(&[row.id]).await?;
    let requests = node
        .store
        .follow_list(
            row.id,
            crate::store::social::FollowList::Requests,
            &crate::store::statuses::Page {
                limit: 1000,
                ..Default::default()
            },
        )
        .await?
        .len() as i64;
    Ok(CredentialView {
        account: AccountView {
            row: row.clone(),
            counts: counts.get(&row.id).copied().unwrap_or_default(),
        },
        follow_requests_count: requests,
    })
}

/// Checks a login for the OAuth pages and the password grant: the account, if the password
/// matches and the account may log in. Costs one password hash either way.
pub async fn authenticate(
    store: &Store,
    login: &str,
    password: &str,
) -> Result<Option<AccountRow>, DomainError> {
    let account = store.local_account_by_login(login).await?;
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = match account.as_ref().and_then(|a| a.password_hash.clone()) {
        Some(h) => h,
        // Verify against something anyway, so a wrong username costs as much as a wrong password.
        None => DUMMY
            .get_or_init(|| hash_password(&generate_password()).unwrap_or_default())
            .clone(),
    };
    let password = password.to_owned();
    let ok = tokio::task::spawn_blocking(move || verify_password(&password, &hash))
        .await
        .map_err(|e| DomainError::Internal(e.to_string()))?;
    Ok(account.filter(|a| ok && !a.suspended && a.password_hash.is_some()))
}

/// Profile changes from `update_credentials`. Images are uploads already checked by the media
/// rules; `fields` replaces all fields when given.
#[derive(Debug, Default)]
pub struct ProfileInput {
    pub display_name: Option<String>,
    pub note: Option<String>,
    pub locked: Option<bool>,
    pub bot: Option<bool>,
    pub discoverable: Option<bool>,
    pub fields: Option<Vec<(String, String)>>,
    pub avatar: Option<Vec<u8>>,
    pub header: Option<Vec<u8>>,
    pub privacy: Option<String>,
    pub sensitive: Option<bool>,
    pub language: Option<String>,
}

pub const MAX_FIELDS: usize = 4;

/// Applies a profile change and answers the account as it now is.
pub async fn update_profile(
    node: &super::Node,
    account: &AccountRow,
    input: ProfileInput,
) -> Result<CredentialView, DomainError> {
    if let Some(name) = &input.display_name {
        if name.chars().count() > 30 {
            return Err(DomainError::Invalid(
                "Display name is too long (maximum is 30 characters)".into(),
            ));
        }
    }
    if let Some(note) = &input.note {
        if note.chars().count() > 500 {
            return Err(DomainError::Invalid(
                "Note is too long (maximum is 500 characters)".into(),
            ));
        }
    }
    if let Some(p) = &input.privacy {
        p.parse::<super::audience::Scope>()
            .map_err(|e| DomainError::Invalid(e.to_string()))?;
    }
    let fields = match &input.fields {
        Some(f) => {
            let kept: Vec<&(String, String)> = f
                .iter()
                .filter(|(n, v)| !n.trim().is_empty() || !v.trim().is_empty())
                .collect();
            if kept.len() > MAX_FIELDS {
                return Err(DomainError::Invalid(format!(
                    "At most {MAX_FIELDS} profile fields"
                )));
            }
            let json: Vec<serde_json::Value> = kept
                .iter()
                .map(|(n, v)| serde_json::json!({"name": n.trim(), "value": v.trim()}))
                .collect();
            Some(serde_json::Value::Array(json).to_string())
        }
        None => None,
    };
    let mut update = crate::store::accounts::ProfileUpdate {
        display_name: input.display_name.map(|s| s.trim().to_string()),
        note: input.note,
        fields,
        locked: input.locked,
        bot: input.bot,
        discoverable: input.discoverable,
        default_privacy: input.privacy,
        default_sensitive: input.sensitive,
        default_language: input.language,
        ..Default::default()
    };
    let data_dir = node.config.data_dir.clone();
    if let Some(bytes) = input.avatar {
        let m = super::media::upload(&node.store, &data_dir, account.id, bytes, None, None).await?;
        update.avatar_path = Some(m.file_name);
    }
    if let Some(bytes) = input.header {
        let m = super::media::upload(&node.store, &data_dir, account.id, bytes, None, None).await?;
        update.header_path = Some(m.file_name);
    }
    // The Update peers get is built from the row as the update will leave it, and committed
    // with it.
    let mut fresh = node
        .store
        .account_by_id(account.id)
        .await?
        .ok_or(DomainError::NotFound("account"))?;
    update.apply(&mut fresh);
    let featured = super::directory::featured_names(node, account.id).await?;
    let deliveries = super::federation::outbound::profile_deliveries(
        node,
        &fresh,
        &featured,
        account.discoverable,
    )
    .await?;
    node.store
        .update_profile(account.id, &update, &deliveries)
        .await?;
    super::federation::outbound::wake_deliveries(node, !deliveries.is_empty());
    let fresh = node
        .store
        .account_by_id(account.id)
        .await?
        .ok_or(DomainError::NotFound("account"))?;
    credential(node, &fresh).await
}
