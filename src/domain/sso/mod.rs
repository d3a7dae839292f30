//! Logging in with the company's identity (OpenID Connect in `oidc`, LDAP in `ldap`), and what
//! a login does to local accounts: the first creates the account, later ones link by the
//! provider's stable subject and bring name, email and role up to date, and an identity that is
//! gone or outside the required group retires its account (suspended, tokens revoked, audited).

pub mod ldap;
pub mod oidc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;

use super::accounts::{self, Role};
use super::{DomainError, Node};
use crate::config::{Config, RoleGroups};
use crate::store::accounts::{AccountRow, NewLocalAccount};
use crate::store::identities::{IdentityRow, NewIdentity, PendingConsent, SyncedProfile};
use crate::store::now_millis;
use crate::store::policy::Audit;

/// How long the provider's login page and the consent page may take.
const PENDING_LIFETIME_MS: i64 = 10 * 60 * 1000;

/// The identity providers this node is configured with, and what they keep between requests.
pub struct Sso {
    pub oidc: Option<oidc::Oidc>,
    pub ldap: Option<ldap::Ldap>,
}

impl Sso {
    pub fn new(config: &Config) -> Result<Sso, DomainError> {
        Ok(Sso {
            oidc: if config.oidc.enabled() {
                Some(oidc::Oidc::new(&config.oidc)?)
            } else {
                None
            },
            ldap: config
                .ldap
                .enabled()
                .then(|| ldap::Ldap::new(&config.ldap))
                .transpose()?,
        })
    }
}

/// Which kind of provider vouched for a login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Oidc,
    Ldap,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Oidc => "oidc",
            Provider::Ldap => "ldap",
        }
    }
}

/// A person as the provider describes them.
#[derive(Debug, Clone, PartialEq)]
pub struct Person {
    pub provider: Provider,
    /// OIDC: the issuer; LDAP: `ldap`.
    pub issuer: String,
    /// The provider's stable id of the person.
    pub subject: String,
    /// The login name the provider gives (the username is made from it).
    pub login: String,
    pub display_name: String,
    pub email: Option<String>,
    pub groups: Vec<String>,
}

/// Why a company login did not let someone in. Each is one page (`http/mastodon/oauth.rs`).
#[derive(Debug, thiserror::Error)]
pub enum SsoError {
    /// The provider did not answer in time or answered with an error of its own.
    #[error("{0}")]
    Unavailable(String),
    /// What came back is not acceptable (state, code, token); the login starts over.
    #[error("{0}")]
    Refused(String),
    #[error("Your company account is not in the group {0:?}, which this node requires.")]
    NotInRequiredGroup(String),
    /// A local account already has the username (or email) the identity maps to.
    #[error(
        "The username {0:?} belongs to an existing account on this node, which is not linked \
         to your company account. Ask an admin of this node to resolve it (see the operations \
         guide, \"Username collisions\")."
    )]
    Collision(String),
    #[error("The provider gives no usable username ({0:?}): {1}")]
    NoUsername(String, String),
    #[error("This account is suspended.")]
    Suspended,
    #[error("Your login is currently disabled by a moderator of this node.")]
    Disabled,
    #[error(transparent)]
    Domain(#[from] DomainError),
}

impl From<crate::store::StoreError> for SsoError {
    fn from(e: crate::store::StoreError) -> Self {
        SsoError::Domain(e.into())
    }
}

/// A random secret (state, ticket): 256 bits, URL-safe. Its own copy of `oauth::random_secret`,
/// since `oauth` logs in through this module.
fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored instead of a state or ticket.
fn digest(secret: &str) -> String {
    let hash = openssl::sha::sha256(secret.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// A username by fika's rules (`names::check_username`) from what a provider gives: the part
/// before `@` of an email-like name, separators (`.`, `-`, space) as `_`, other characters
/// dropped, at most 30. `None` when nothing is left.
pub fn normalise_username(raw: &str) -> Option<String> {
    let local = raw.split('@').next().unwrap_or("");
    let mut out = String::new();
    for c in local.chars() {
        let mapped = match c {
            c if c.is_ascii_alphanumeric() => Some(c),
            '_' | '.' | '-' | ' ' => Some('_'),
            _ => None,
        };
        if let Some(c) = mapped {
            if !(c == '_' && (out.is_empty() || out.ends_with('_'))) {
                out.push(c);
            }
        }
    }
    let mut out: String = out.chars().take(crate::names::MAX_USERNAME_LEN).collect();
    while out.ends_with('_') {
        out.pop();
    }
    crate::names::check_username(&out).ok().map(|_| out)
}

/// Is `wanted` (a group name or DN from the settings) among `groups` (names or DNs as the
/// provider lists them)? Case-insensitive; a DN also matches by its first value (`cn=staff,…`
/// is `staff`).
pub fn in_group(groups: &[String], wanted: &str) -> bool {
    let first_value = |g: &str| -> Option<String> {
        let rdn = g.split(',').next()?;
        let (_, value) = rdn.split_once('=')?;
        Some(value.trim().to_string())
    };
    groups.iter().any(|g| {
        g.eq_ignore_ascii_case(wanted)
            || first_value(g).is_some_and(|v| v.eq_ignore_ascii_case(wanted))
    })
}

fn in_any(groups: &[String], wanted: &[String]) -> bool {
    wanted.iter().any(|w| in_group(groups, w))
}

/// The role groups grant: admin over moderator over communicator over user.
pub fn role_for(groups: &[String], roles: &RoleGroups<'_>) -> Role {
    if in_any(groups, roles.admin_groups) {
        Role::Admin
    } else if in_any(groups, roles.moderator_groups) {
        Role::Moderator
    } else if in_any(groups, roles.communicator_groups) {
        Role::Communicator
    } else {
        Role::User
    }
}

fn roles_of<'a>(config: &'a Config, provider: Provider) -> RoleGroups<'a> {
    match provider {
        Provider::Oidc => config.oidc.roles(),
        Provider::Ldap => config.ldap.roles(),
    }
}

/// Lets a person the provider vouched for in: their account, created on the first login.
/// Refused (and an existing account retired) outside the required group; refused without
/// writing anything when the username is another account's.
/// Is `account`'s login disabled by a moderator (`domain::reports`)?
pub(crate) async fn login_disabled(node: &Node, account: i64) -> Result<bool, SsoError> {
    Ok(node
        .store
        .moderation_of(&[account])
        .await?
        .get(&account)
        .is_some_and(|m| m.disabled))
}

pub async fn sign_in(node: &Node, person: &Person) -> Result<AccountRow, SsoError> {
    let account = apply(node, person, true).await?;
    if login_disabled(node, account.id).await? {
        tracing::info!(account = %account.username, "login refused: disabled by a moderator");
        return Err(SsoError::Disabled);
    }
    Ok(account)
}

/// [`sign_in`] for a login (`is_login`) or for the directory sync, which only refreshes.
async fn apply(node: &Node, person: &Person, is_login: bool) -> Result<AccountRow, SsoError> {
    let roles = roles_of(&node.config, person.provider);
    let provider = person.provider.as_str();
    let identity = node
        .store
        .identity_by_subject(provider, &person.issuer, &person.subject)
        .await?;
    if let Some(group) = roles.required_group {
        if !in_group(&person.groups, group) {
            if let Some(identity) = &identity {
                retire(
                    node,
                    identity,
                    &format!("no longer in the required group {group:?}"),
                )
                .await?;
            }
            tracing::info!(provider, login = %person.login, group, "login refused: not in the required group");
            return Err(SsoError::NotInRequiredGroup(group.to_string()));
        }
    }
    let role = role_for(&person.groups, &roles);
    let groups = serde_json::to_string(&person.groups).unwrap_or_else(|_| "[]".into());
    let email = person
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| e.contains('@'))
        .map(str::to_lowercase);
    match identity {
        Some(identity) => {
            let account = node
                .store
                .account_by_id(identity.account_id)
                .await?
                .ok_or(DomainError::NotFound("account"))?;
            if account.suspended {
                tracing::info!(provider, account = %account.username, "login refused: the account is suspended");
                return Err(SsoError::Suspended);
            }
            let profile = SyncedProfile {
                email: email.as_deref(),
                role: role.as_str(),
                is_login,
            };
            let row = node
                .store
                .sync_identity(identity.id, account.id, &person.login, &groups, &profile)
                .await
                .map_err(|e| match e {
                    crate::store::StoreError::Conflict(_) => {
                        SsoError::Collision(email.clone().unwrap_or_default())
                    }
                    other => other.into(),
                })?;
            if row.effective_role() != account.effective_role() {
                tracing::info!(account = %row.username, from = %account.effective_role(), to = %row.effective_role(), "role changed by the identity provider's groups");
            }
            if row.display_name == person.display_name {
                return Ok(row);
            }
            // A profile update, so peers hear of the new name too.
            let input = accounts::ProfileInput {
                display_name: Some(person.display_name.clone()),
                ..Default::default()
            };
            accounts::update_profile(node, &row, input).await?;
            Ok(node
                .store
                .account_by_id(row.id)
                .await?
                .ok_or(DomainError::NotFound("account"))?)
        }
        None => provision(node, person, role, email.as_deref(), &groups).await,
    }
}

async fn provision(
    node: &Node,
    person: &Person,
    role: Role,
    email: Option<&str>,
    groups: &str,
) -> Result<AccountRow, SsoError> {
    let username = normalise_username(&person.login).ok_or_else(|| {
        SsoError::NoUsername(
            person.login.clone(),
            "it has no letters or digits to make a username from".into(),
        )
    })?;
    // Never take over a local account: the same name may be someone else.
    let taken = node.store.local_account_by_username(&username).await?;
    let email_taken = match email {
        Some(e) => node.store.local_account_by_login(e).await?,
        None => None,
    };
    if let Some(other) = taken.or(email_taken) {
        tracing::warn!(provider = person.provider.as_str(), login = %person.login, subject = %person.subject, existing = %other.username, "login refused: the username or email belongs to an unlinked local account");
        return Err(SsoError::Collision(other.username));
    }
    let (private_key_pem, public_key_pem) =
        tokio::task::spawn_blocking(accounts::generate_key_pair)
            .await
            .map_err(|e| DomainError::Internal(e.to_string()))??;
    let account = NewLocalAccount {
        id: crate::ids::next_id(),
        username: username.clone(),
        email: email.map(str::to_owned),
        display_name: person.display_name.clone(),
        // Provisioned accounts have no fika password: the provider is their only way in.
        password_hash: String::new(),
        private_key_pem,
        public_key_pem,
        role: role.as_str().to_owned(),
        discoverable: node.config.accounts.default_discoverable,
        created_at: now_millis(),
    };
    let identity = NewIdentity {
        provider: person.provider.as_str(),
        issuer: &person.issuer,
        subject: &person.subject,
        login: &person.login,
        groups,
    };
    let row = node
        .store
        .provision_account(&account, &identity)
        .await
        .map_err(|e| match e {
            crate::store::StoreError::Conflict(_) => SsoError::Collision(username.clone()),
            other => other.into(),
        })?;
    tracing::info!(provider = person.provider.as_str(), account = %row.username, role = %row.effective_role(), "created an account for a company identity");
    Ok(row)
}

/// Suspends the account of an identity that is gone or not allowed in any more and revokes
/// every token of it, with an audit entry naming the reason. Idempotent.
pub async fn retire(node: &Node, identity: &IdentityRow, reason: &str) -> Result<(), DomainError> {
    if identity.retired_at.is_some() {
        return Ok(());
    }
    let account = node.store.account_by_id(identity.account_id).await?;
    let username = account.map(|a| a.username).unwrap_or_default();
    let detail = format!(
        "{username} ({} login {:?}): {reason}",
        identity.provider, identity.login
    );
    let audit = Audit {
        actor: "sso",
        action: "account.retire",
        domain: None,
        detail: &detail,
    };
    let revoked = node
        .store
        .retire_identity(identity.id, identity.account_id, reason, &audit)
        .await?;
    tracing::warn!(account = %username, provider = %identity.provider, login = %identity.login, reason, revoked, "retired an account: suspended and its tokens revoked");
    Ok(())
}

/// Links an existing local account to a company identity (an admin's resolution of a
/// username collision), with an audit entry. A linked account logs in through the provider
/// only: its fika password stops working.
pub async fn link(
    store: &crate::store::Store,
    actor: &str,
    username: &str,
    provider: &str,
    issuer: &str,
    subject: &str,
) -> Result<(), DomainError> {
    if issuer.is_empty() || subject.is_empty() {
        return Err(DomainError::Invalid(
            "the issuer and the subject must not be empty".into(),
        ));
    }
    let account = accounts::find_local(store, username)
        .await?
        .ok_or(DomainError::NotFound("account"))?;
    if store
        .identity_by_subject(provider, issuer, subject)
        .await?
        .is_some()
    {
        return Err(DomainError::Conflict(
            "this identity is linked to an account already".into(),
        ));
    }
    let detail = format!("{username} linked to {provider} identity {subject:?} ({issuer})");
    let audit = Audit {
        actor,
        action: "account.link",
        domain: None,
        detail: &detail,
    };
    store
        .link_identity(
            account.id,
            &NewIdentity {
                provider,
                issuer,
                subject,
                login: username,
                groups: "[]",
            },
            &audit,
        )
        .await?;
    Ok(())
}

/// An OpenID Connect login on its way to the provider.
#[derive(Debug, Clone)]
pub struct Begun {
    /// Where to send the browser.
    pub url: String,
    /// The state: the browser must bring it back in [`binding_cookie`] too, so a callback
    /// link made by someone else (login CSRF) does not log this browser in as them.
    pub state: String,
}

/// The name of the cookie that binds a login's state to the browser that started it (one per
/// login, so logins in two tabs do not disturb each other).
pub fn binding_cookie(state: &str) -> String {
    format!("fika_oidc_{}", &digest(state)[..16])
}

/// Starts an OpenID Connect login for the app's authorization request (`request`, opaque to
/// the domain and given back by [`finish_oidc`]). Nothing is written unless the provider
/// answered.
pub async fn begin_oidc(node: &Node, request: &str) -> Result<Begun, SsoError> {
    let oidc = node.sso.oidc.as_ref().ok_or_else(|| {
        SsoError::Refused("OpenID Connect is not configured on this node.".into())
    })?;
    let start = oidc.begin(&callback_url(node)).await?;
    node.store
        .insert_sso_login(
            &digest(&start.state),
            &crate::store::identities::PendingLogin {
                nonce: start.nonce,
                pkce_verifier: start.pkce_verifier,
                request: request.to_owned(),
                expires_at: now_millis() + PENDING_LIFETIME_MS,
            },
        )
        .await?;
    Ok(Begun {
        url: start.url,
        state: start.state,
    })
}

/// Where the provider sends the browser back.
pub fn callback_url(node: &Node) -> String {
    node.urls.api("/oauth/oidc/callback")
}

/// A login the provider vouched for, waiting for the user's decision on the app.
#[derive(Debug, Clone)]
pub struct Vouched {
    pub account: AccountRow,
    /// The app's authorization request as [`begin_oidc`] got it.
    pub request: String,
    /// Proves the decision comes from this login; good once.
    pub ticket: String,
}

/// The provider's callback: checks the state (once, and that this browser started the login:
/// `bound` is the value of its [`binding_cookie`]), exchanges the code, verifies the ID token
/// and lets the person in ([`sign_in`]).
pub async fn finish_oidc(
    node: &Node,
    state: &str,
    bound: Option<&str>,
    code: Option<&str>,
    provider_error: Option<&str>,
) -> Result<Vouched, SsoError> {
    let oidc = node.sso.oidc.as_ref().ok_or_else(|| {
        SsoError::Refused("OpenID Connect is not configured on this node.".into())
    })?;
    let same_browser = bound.is_some_and(|b| {
        b.len() == state.len() && openssl::memcmp::eq(b.as_bytes(), state.as_bytes())
    });
    if !same_browser {
        tracing::info!("OpenID Connect callback refused: the state is not this browser's");
        return Err(SsoError::Refused(
            "This login was not started in this browser (state). Start again from the app.".into(),
        ));
    }
    let pending = node
        .store
        .take_sso_login(&digest(state))
        .await?
        .filter(|p| p.expires_at >= now_millis())
        .ok_or_else(|| {
            SsoError::Refused(
                "This login link is unknown, used already or expired (state). Start again from \
                 the app."
                    .into(),
            )
        })?;
    if let Some(error) = provider_error {
        return Err(SsoError::Refused(format!(
            "The identity provider refused the login: {error}."
        )));
    }
    let code = code.ok_or_else(|| SsoError::Refused("The provider sent no code.".into()))?;
    let person = oidc
        .finish(
            code,
            &pending.nonce,
            &pending.pkce_verifier,
            &callback_url(node),
        )
        .await?;
    let account = sign_in(node, &person).await?;
    let ticket = random_secret();
    node.store
        .insert_sso_consent(
            &digest(&ticket),
            &PendingConsent {
                account_id: account.id,
                request: pending.request.clone(),
                expires_at: now_millis() + PENDING_LIFETIME_MS,
            },
        )
        .await?;
    Ok(Vouched {
        account,
        request: pending.request,
        ticket,
    })
}

/// The user's decision on the consent page: the account and the app's request, once per
/// ticket.
pub async fn take_consent(node: &Node, ticket: &str) -> Result<(AccountRow, String), SsoError> {
    let refused = || {
        SsoError::Refused(
            "This consent page was used already or has expired. Start again from the app.".into(),
        )
    };
    let consent = node
        .store
        .take_sso_consent(&digest(ticket))
        .await?
        .filter(|c| c.expires_at >= now_millis())
        .ok_or_else(refused)?;
    let account = node
        .store
        .account_by_id(consent.account_id)
        .await?
        .filter(|a| !a.suspended)
        .ok_or_else(refused)?;
    Ok((account, consent.request))
}

/// A sync that would retire more than half of at least ten accounts is more likely a changed
/// setting or directory layout than half the company leaving at once: it retires nobody.
pub fn looks_misconfigured(checked: usize, gone: usize) -> bool {
    checked >= 10 && gone * 2 > checked
}

/// What one run of the directory sync did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub checked: usize,
    pub retired: usize,
    pub updated: usize,
}

/// Checks every active LDAP identity against the directory: one no longer found (under
/// `ldap.sync_filter`) or outside the required group is retired; the others get their name,
/// email and role as the directory says. A directory that cannot be reached retires nobody.
pub async fn sync_directory(node: &Node) -> Result<SyncReport, SsoError> {
    let Some(directory) = node.sso.ldap.as_ref() else {
        return Ok(SyncReport::default());
    };
    let identities = node
        .store
        .active_identities(Provider::Ldap.as_str())
        .await?;
    let subjects: Vec<String> = identities.iter().map(|i| i.subject.clone()).collect();
    let found = directory.lookup(&subjects).await?;
    let mut report = SyncReport {
        checked: identities.len(),
        ..SyncReport::default()
    };
    let gone = found
        .iter()
        .filter(|f| matches!(f, ldap::Found::Gone))
        .count();
    if looks_misconfigured(identities.len(), gone) {
        tracing::error!(
            checked = identities.len(),
            gone,
            "directory sync: most accounts were not found; retiring nobody (check ldap.user_base, ldap.sync_filter and ldap.uuid_attribute)"
        );
        return Err(SsoError::Unavailable(
            "the directory answered, but most accounts were not found in it".into(),
        ));
    }
    let required = node.config.ldap.roles().required_group;
    for (identity, found) in identities.iter().zip(found) {
        match found {
            ldap::Found::Gone => {
                retire(node, identity, "no longer found in the directory").await?;
                report.retired += 1;
            }
            ldap::Found::Present(person) => {
                if let Some(group) = required.filter(|g| !in_group(&person.groups, g)) {
                    retire(
                        node,
                        identity,
                        &format!("no longer in the required group {group:?}"),
                    )
                    .await?;
                    report.retired += 1;
                    continue;
                }
                match apply(node, &person, false).await {
                    Ok(_) => report.updated += 1,
                    Err(SsoError::Suspended) => {}
                    Err(e) => {
                        tracing::warn!(login = %identity.login, error = %e, "directory sync could not update an account")
                    }
                }
            }
        }
    }
    Ok(report)
}

/// A login name the directory does not know (any more): the LDAP identity last seen with it,
/// if any, is retired, so someone removed from the directory is retired on their next try.
pub async fn retire_missing_login(node: &Node, login: &str) -> Result<(), DomainError> {
    let identities = node
        .store
        .active_identities_by_login(Provider::Ldap.as_str(), login)
        .await?;
    for identity in identities {
        retire(node, &identity, "no longer found in the directory").await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_fikas_rules() {
        assert_eq!(normalise_username("ada").as_deref(), Some("ada"));
        assert_eq!(
            normalise_username("Ada.Lovelace@hq.example").as_deref(),
            Some("Ada_Lovelace")
        );
        assert_eq!(
            normalise_username("jean-luc picard").as_deref(),
            Some("jean_luc_picard")
        );
        assert_eq!(normalise_username("zoë").as_deref(), Some("zo"));
        assert_eq!(normalise_username("__x__").as_deref(), Some("x"));
        assert_eq!(normalise_username("*)(uid=*").as_deref(), Some("uid"));
        assert_eq!(normalise_username("a\0b").as_deref(), Some("ab"));
        assert_eq!(normalise_username(&"a".repeat(40)).unwrap().len(), 30);
        for none in ["", "@hq", "...", "ééé", "*"] {
            assert_eq!(normalise_username(none), None, "{none:?}");
        }
    }

    #[test]
    fn groups_map_to_roles() {
        let admins = vec!["it-admins".to_string()];
        let mods = vec!["cn=moderators,ou=groups,dc=hq".to_string()];
        let comms = vec!["comms".to_string()];
        let roles = RoleGroups {
            admin_groups: &admins,
            moderator_groups: &mods,
            communicator_groups: &comms,
            required_group: Some("staff"),
        };
        let g = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(role_for(&g(&["staff"]), &roles), Role::User);
        assert_eq!(
            role_for(&g(&["IT-Admins", "moderators"]), &roles),
            Role::Admin
        );
        assert_eq!(
            role_for(&g(&["cn=Moderators,ou=groups,dc=hq"]), &roles),
            Role::Moderator
        );
        assert_eq!(role_for(&g(&["moderators"]), &roles), Role::User);
        assert_eq!(
            role_for(&g(&["comms", "staff"]), &roles),
            Role::Communicator
        );
        assert_eq!(role_for(&g(&["comms", "IT-admins"]), &roles), Role::Admin);
        assert!(in_group(&g(&["cn=staff,ou=groups,dc=hq"]), "staff"));
        assert!(in_group(
            &g(&["cn=staff,ou=groups,dc=hq"]),
            "CN=staff,ou=groups,dc=hq"
        ));
        assert!(!in_group(&g(&["cn=staffing,ou=groups"]), "staff"));
        assert!(!in_group(&[], "staff"));
    }

    #[test]
    fn a_sync_that_would_retire_most_accounts_retires_none() {
        assert!(!looks_misconfigured(2, 2));
        assert!(!looks_misconfigured(10, 5));
        assert!(looks_misconfigured(10, 6));
        assert!(looks_misconfigured(1000, 1000));
    }

    #[test]
    fn secrets_are_random() {
        assert_ne!(random_secret(), random_secret());
        assert_eq!(digest("x").len(), 64);
    }
}
