//! Logging in with a name and password (the authorization page's form and, where allowed, the
//! password grant): the company directory first when `[ldap]` is set, fika's own passwords
//! where `auth.local_passwords` allows them, and always for the break-glass admin, so a node
//! whose directory is down can still be administered.

use super::accounts;
use super::sso::{self, ldap::Verdict, SsoError};
use super::Node;
use crate::store::accounts::AccountRow;

/// Why a password login let nobody in.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("Invalid username or password.")]
    Invalid,
    #[error(transparent)]
    Sso(#[from] SsoError),
}

impl From<super::DomainError> for LoginError {
    fn from(e: super::DomainError) -> Self {
        LoginError::Sso(SsoError::Domain(e))
    }
}

impl From<crate::store::StoreError> for LoginError {
    fn from(e: crate::store::StoreError) -> Self {
        LoginError::Sso(e.into())
    }
}

/// Is `account` the break-glass admin, which logs in with its fika password whatever the
/// settings say?
fn is_break_glass(node: &Node, account: &AccountRow) -> bool {
    let name = &node.config.auth.break_glass_admin;
    !name.is_empty() && account.username.eq_ignore_ascii_case(name) && account.role == "admin"
}

/// Checks fika's own password of `login`, if that account may use one: local passwords on and
/// an account that is not a company identity's, or the break-glass admin.
async fn local(node: &Node, login: &str, password: &str) -> Result<Option<AccountRow>, LoginError> {
    let candidate = node.store.local_account_by_login(login).await?;
    let allowed = match &candidate {
        Some(a) if is_break_glass(node, a) => true,
        Some(a) => node.config.auth.local_passwords && !node.store.has_identity(a.id).await?,
        None => node.config.auth.local_passwords,
    };
    if !allowed {
        // Verify anyway (against a dummy), so refusals take the same time.
        let _ = accounts::authenticate(&node.store, "", password).await;
        tracing::info!(
            login,
            "local password refused: local passwords are off for this account"
        );
        return Ok(None);
    }
    Ok(accounts::authenticate(&node.store, login, password).await?)
}

/// The account a name and password log in to.
pub async fn password(node: &Node, login: &str, password: &str) -> Result<AccountRow, LoginError> {
    let account = checked_password(node, login, password).await?;
    if sso::login_disabled(node, account.id).await? {
        tracing::info!(account = %account.username, "login refused: disabled by a moderator");
        return Err(SsoError::Disabled.into());
    }
    Ok(account)
}

async fn checked_password(
    node: &Node,
    login: &str,
    password: &str,
) -> Result<AccountRow, LoginError> {
    let login = login.trim();
    // NUL and other control characters are in no name and PostgreSQL refuses NUL outright;
    // an empty password would bind to LDAP anonymously.
    if login.is_empty() || password.is_empty() || login.chars().any(char::is_control) {
        tracing::info!(login = %login.escape_debug(), "login refused: empty or control characters");
        return Err(LoginError::Invalid);
    }
    let Some(directory) = node.sso.ldap.as_ref() else {
        return local(node, login, password)
            .await?
            .ok_or(LoginError::Invalid);
    };
    // The break-glass admin never depends on the directory.
    if let Some(a) = node.store.local_account_by_login(login).await? {
        if is_break_glass(node, &a) {
            return local(node, login, password)
                .await?
                .ok_or(LoginError::Invalid);
        }
    }
    match directory.authenticate(login, password).await {
        Ok(Verdict::Valid(person)) => Ok(sso::sign_in(node, &person).await?),
        Ok(Verdict::WrongPassword) => {
            tracing::info!(login, "login refused: wrong directory password");
            Err(LoginError::Invalid)
        }
        Ok(Verdict::NoSuchUser) => {
            sso::retire_missing_login(node, login).await?;
            local(node, login, password)
                .await?
                .ok_or(LoginError::Invalid)
        }
        Err(e @ SsoError::Unavailable(_)) => match local(node, login, password).await? {
            Some(a) => Ok(a),
            None => Err(e.into()),
        },
        Err(e) => Err(e.into()),
    }
}

/// What a sysadmin should hear at start about the login settings: a break-glass admin that
/// does not exist or is no admin, or no local way in at all while the provider is down.
pub async fn setup_warnings(
    store: &crate::store::Store,
    config: &crate::config::Config,
) -> Result<Vec<String>, super::DomainError> {
    let mut out = Vec::new();
    let name = &config.auth.break_glass_admin;
    if !name.is_empty() {
        match accounts::find_local(store, name).await? {
            None => out.push(format!(
                "auth.break_glass_admin {name:?} is no account on this node: create it with \
                 `fika admin create-user {name} --role admin`"
            )),
            Some(a) if a.role != "admin" => out.push(format!(
                "auth.break_glass_admin {name:?} is a {}, not an admin: it cannot log in with \
                 its password",
                a.effective_role()
            )),
            Some(_) => {}
        }
    } else if !config.auth.local_passwords {
        out.push(
            "auth.local_passwords is off and no auth.break_glass_admin is set: nobody can log \
             in while the identity provider is down"
                .into(),
        );
    }
    Ok(out)
}
