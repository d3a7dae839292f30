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
use crate::store::accounts::{AccountRow, NewLocalAccount};
use crate::store::{now_millis, Store};

/// Longest username; Mastodon uses 30 as well.
pub const MAX_USERNAME_LEN: usize = 30;
pub const MIN_PASSWORD_LEN: usize = 8;
/// What peers verify today; see ARCHITECTURE.md.
const RSA_BITS: u32 = 2048;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    User,
    Moderator,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
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
            "moderator" => Ok(Role::Moderator),
            "admin" => Ok(Role::Admin),
            other => Err(DomainError::Invalid(format!(
                "unknown role {other:?}: expected user, moderator or admin"
            ))),
        }
    }
}

/// Letters, digits and underscore, 1 to 30 of them: what fits in `acct:NAME@DOMAIN` and in
/// every Mastodon app's mention parser.
pub fn validate_username(name: &str) -> Result<(), DomainError> {
    if name.is_empty() {
        return Err(DomainError::Invalid("username must not be empty".into()));
    }
    if name.chars().count() > MAX_USERNAME_LEN {
        return Err(DomainError::Invalid(format!(
            "username must be at most {MAX_USERNAME_LEN} characters"
        )));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Err(DomainError::Invalid(format!(
            "username may contain only letters, digits and underscore, not {bad:?}"
        )));
    }
    Ok(())
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
