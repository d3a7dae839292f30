//! OAuth 2 rules: scopes, secrets, codes and tokens.

use std::collections::BTreeSet;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;

use super::{DomainError, Node};
use crate::convert::views::IssuedToken;
use crate::store::accounts::AccountRow;
use crate::store::now_millis;
use crate::store::oauth::{AppRow, TokenRow};

/// Every scope a client may ask for (Mastodon's list).
pub const KNOWN_SCOPES: &[&str] = &[
    "read",
    "write",
    "follow",
    "push",
    "profile",
    "admin:read",
    "admin:write",
    "read:accounts",
    "read:blocks",
    "read:bookmarks",
    "read:favourites",
    "read:filters",
    "read:follows",
    "read:lists",
    "read:mutes",
    "read:notifications",
    "read:search",
    "read:statuses",
    "write:accounts",
    "write:blocks",
    "write:bookmarks",
    "write:conversations",
    "write:favourites",
    "write:filters",
    "write:follows",
    "write:lists",
    "write:media",
    "write:mutes",
    "write:notifications",
    "write:reports",
    "write:statuses",
    "admin:read:accounts",
    "admin:read:reports",
    "admin:read:domain_allows",
    "admin:read:domain_blocks",
    "admin:read:ip_blocks",
    "admin:read:email_domain_blocks",
    "admin:read:canonical_email_blocks",
    "admin:write:accounts",
    "admin:write:reports",
    "admin:write:domain_allows",
    "admin:write:domain_blocks",
    "admin:write:ip_blocks",
    "admin:write:email_domain_blocks",
    "admin:write:canonical_email_blocks",
];

/// A set of granted scopes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes(BTreeSet<String>);

impl Scopes {
    /// Parses a space- (or `+`-) separated list; empty means Mastodon's default, `read`.
    pub fn parse(raw: &str) -> Result<Scopes, String> {
        let mut set = BTreeSet::new();
        for s in raw.split([' ', '+', ',']).filter(|s| !s.is_empty()) {
            if !KNOWN_SCOPES.contains(&s) {
                return Err(format!("unknown scope {s:?}"));
            }
            set.insert(s.to_string());
        }
        if set.is_empty() {
            set.insert("read".to_string());
        }
        Ok(Scopes(set))
    }

    /// Does this grant allow an endpoint that needs `required` (e.g. `write:statuses`)?
    /// `read`/`write` cover their granular scopes, the legacy `follow` covers follows and
    /// blocks, `admin:read`/`admin:write` their sub-scopes.
    pub fn allows(&self, required: &str) -> bool {
        if self.0.contains(required) {
            return true;
        }
        if let Some((head, rest)) = required.rsplit_once(':') {
            if self.0.contains(head) {
                return true;
            }
            let follow_family = ["follows", "blocks", "mutes"];
            if (head == "read" || head == "write")
                && follow_family.contains(&rest)
                && self.0.contains("follow")
            {
                return true;
            }
        }
        false
    }

    /// Is every scope in `self` also granted by `other`?
    pub fn is_subset_of(&self, other: &Scopes) -> bool {
        self.0.iter().all(|s| other.allows(s))
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl std::fmt::Display for Scopes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v: Vec<&str> = self.iter().collect();
        f.write_str(&v.join(" "))
    }
}

/// A random secret (client ids and secrets, codes, tokens): 256 bits, URL-safe.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What we store instead of a code or token.
pub fn digest(secret: &str) -> String {
    let hash = openssl::sha::sha256(secret.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// PKCE S256: BASE64URL(SHA256(verifier)) must equal the challenge.
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let computed = URL_SAFE_NO_PAD.encode(openssl::sha::sha256(verifier.as_bytes()));
    computed.len() == challenge.len()
        && openssl::memcmp::eq(computed.as_bytes(), challenge.as_bytes())
}

/// Redirect URIs an app may register: the out-of-band URN, or an absolute URI of any scheme
/// (apps use custom schemes such as `oauth2redirect://`), without a fragment.
pub fn validate_redirect_uri(uri: &str) -> Result<(), String> {
    if uri == OOB {
        return Ok(());
    }
    match url::Url::parse(uri) {
        Ok(u) if u.fragment().is_none() => Ok(()),
        Ok(_) => Err("Redirect URI must not contain a fragment.".into()),
        Err(_) => Err("Redirect URI must be an absolute URI.".into()),
    }
}

pub const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";

/// How long an authorization code may be exchanged for a token.
const CODE_LIFETIME_MS: i64 = 10 * 60 * 1000;

/// A valid access token with what it grants and whose it is (`None` for an app-only token).
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub token: TokenRow,
    pub scopes: Scopes,
    pub account: Option<AccountRow>,
}

/// Looks a bearer token up and loads its account. `None` for an unknown token and for a token
/// whose account is gone or suspended.
pub async fn authenticate(node: &Node, bearer: &str) -> Result<Option<Authenticated>, DomainError> {
    let Some(token) = node.store.token_by_hash(&digest(bearer)).await? else {
        return Ok(None);
    };
    let scopes = Scopes::parse(&token.scopes).map_err(DomainError::Internal)?;
    let account = match token.account_id {
        Some(id) => match node.store.account_by_id(id).await? {
            Some(a) if !a.suspended => Some(a),
            _ => return Ok(None),
        },
        None => None,
    };
    if let Some(a) = &account {
        super::insights::note_activity(node, a).await;
    }
    Ok(Some(Authenticated {
        token,
        scopes,
        account,
    }))
}

/// An app registration as `POST /api/v1/apps` receives it.
#[derive(Debug, Clone, Default)]
pub struct AppInput {
    pub name: Option<String>,
    pub redirect_uris: Vec<String>,
    pub scopes: Option<String>,
    pub website: Option<String>,
}

/// Registers an app: a name, at least one acceptable redirect URI and known scopes. The row
/// carries the new client id and secret.
pub async fn register_app(node: &Node, input: AppInput) -> Result<AppRow, DomainError> {
    let name = input
        .name
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| DomainError::Invalid("Application name can't be blank".into()))?;
    if name.chars().count() > 200 {
        return Err(DomainError::Invalid("Application name is too long".into()));
    }
    if input.redirect_uris.is_empty() {
        return Err(DomainError::Invalid("Redirect URI can't be blank".into()));
    }
    for uri in &input.redirect_uris {
        validate_redirect_uri(uri).map_err(DomainError::Invalid)?;
    }
    let scopes =
        Scopes::parse(input.scopes.as_deref().unwrap_or("")).map_err(DomainError::Invalid)?;
    let app = AppRow {
        id: crate::ids::next_id(),
        name,
        website: input.website.filter(|w| !w.trim().is_empty()),
        redirect_uris: input.redirect_uris.join("\n"),
        scopes: scopes.to_string(),
        client_id: random_secret(),
        client_secret: random_secret(),
        created_at: now_millis(),
    };
    node.store.insert_app(&app).await?;
    tracing::info!(app = %app.name, "registered an OAuth application");
    Ok(app)
}

/// A registered app by id.
pub async fn app(node: &Node, id: i64) -> Result<Option<AppRow>, DomainError> {
    Ok(node.store.app_by_id(id).await?)
}

/// An authorization request (`/oauth/authorize`) as the app sent it.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuthorizationRequest<'a> {
    pub response_type: &'a str,
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
    pub scope: Option<&'a str>,
    pub code_challenge: Option<&'a str>,
    pub code_challenge_method: Option<&'a str>,
}

/// An authorization request that may be shown to the user: the app and the scopes it asks for.
#[derive(Debug, Clone)]
pub struct Authorization {
    pub app: AppRow,
    pub scopes: Scopes,
}

/// Checks an authorization request. Refusals are `Invalid` with a message for the user (the
/// page shows it; it never redirects to an unverified URI).
pub async fn check_authorization(
    node: &Node,
    r: &AuthorizationRequest<'_>,
) -> Result<Authorization, DomainError> {
    let refuse = |m: &str| DomainError::Invalid(m.to_string());
    if r.response_type != "code" {
        return Err(refuse("response_type must be \"code\"."));
    }
    let app = node
        .store
        .app_by_client_id(r.client_id)
        .await?
        .ok_or_else(|| refuse("Unknown client_id: the app is not registered on this node."))?;
    if !app.redirect_uris.split('\n').any(|u| u == r.redirect_uri) {
        return Err(refuse(
            "redirect_uri does not match one the app registered.",
        ));
    }
    let scopes = Scopes::parse(r.scope.unwrap_or("")).map_err(|e| DomainError::Invalid(e + "."))?;
    let app_scopes = Scopes::parse(&app.scopes).map_err(|e| DomainError::Invalid(e + "."))?;
    if !scopes.is_subset_of(&app_scopes) {
        return Err(refuse(
            "The requested scope exceeds what the app registered.",
        ));
    }
    if let Some(method) = r.code_challenge_method {
        if method != "S256" {
            return Err(refuse("Only the S256 code_challenge_method is supported."));
        }
    }
    if r.code_challenge_method.is_some() && r.code_challenge.unwrap_or("").is_empty() {
        return Err(refuse("code_challenge is missing."));
    }
    Ok(Authorization { app, scopes })
}

/// Issues an authorization code for an approved request; the code itself (only its digest is
/// stored), valid for ten minutes.
pub async fn issue_code(
    node: &Node,
    authorization: &Authorization,
    account: &AccountRow,
    redirect_uri: &str,
    code_challenge: Option<&str>,
) -> Result<String, DomainError> {
    let code = random_secret();
    node.store
        .insert_code(
            &digest(&code),
            authorization.app.id,
            account.id,
            redirect_uri,
            &authorization.scopes.to_string(),
            code_challenge.filter(|c| !c.is_empty()),
            now_millis() + CODE_LIFETIME_MS,
        )
        .await?;
    tracing::info!(account = %account.username, app = %authorization.app.name, "authorized an application");
    Ok(code)
}

/// A token request (`POST /oauth/token`), the client's credentials already taken from the
/// body or HTTP Basic auth.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokenRequest<'a> {
    pub grant_type: &'a str,
    pub client_id: &'a str,
    pub client_secret: Option<&'a str>,
    pub code: Option<&'a str>,
    pub redirect_uri: Option<&'a str>,
    pub code_verifier: Option<&'a str>,
    pub scope: Option<&'a str>,
    pub username: Option<&'a str>,
    pub password: Option<&'a str>,
}

/// Why a token request is refused; each is one OAuth error code.
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    #[error("client authentication failed")]
    InvalidClient,
    #[error("the authorization grant is invalid")]
    InvalidGrant,
    /// The password grant's login was wrong.
    #[error("invalid username or password")]
    InvalidLogin,
    #[error("the requested scope is invalid")]
    InvalidScope,
    #[error("grant type {0:?} is not supported")]
    UnsupportedGrantType(String),
    #[error(transparent)]
    Domain(#[from] DomainError),
}

impl From<crate::store::StoreError> for GrantError {
    fn from(e: crate::store::StoreError) -> Self {
        GrantError::Domain(e.into())
    }
}

/// Issues an access token: for an authorization code (with PKCE, or the client's secret), for
/// the client itself (client credentials), or, when the node allows it, for a login.
pub async fn grant(node: &Node, r: &TokenRequest<'_>) -> Result<IssuedToken, GrantError> {
    let app = node
        .store
        .app_by_client_id(r.client_id)
        .await?
        .ok_or(GrantError::InvalidClient)?;
    let secret_ok = r.client_secret.is_some_and(|s| {
        openssl::memcmp::eq(s.as_bytes(), app.client_secret.as_bytes())
            && s.len() == app.client_secret.len()
    });
    let app_scopes = Scopes::parse(&app.scopes).map_err(DomainError::Internal)?;
    let requested = |fallback: &Scopes| -> Result<Scopes, GrantError> {
        match r.scope.filter(|s| !s.trim().is_empty()) {
            None => Ok(fallback.clone()),
            Some(s) => {
                let scopes = Scopes::parse(s).map_err(|_| GrantError::InvalidScope)?;
                if scopes.is_subset_of(&app_scopes) {
                    Ok(scopes)
                } else {
                    Err(GrantError::InvalidScope)
                }
            }
        }
    };
    let (account_id, scopes) = match r.grant_type {
        "authorization_code" => {
            let code = r.code.ok_or(GrantError::InvalidGrant)?;
            let row = node
                .store
                .take_code(&digest(code))
                .await?
                .ok_or(GrantError::InvalidGrant)?;
            if row.app_id != app.id || row.expires_at < now_millis() {
                return Err(GrantError::InvalidGrant);
            }
            if r.redirect_uri.is_some_and(|u| u != row.redirect_uri) {
                return Err(GrantError::InvalidGrant);
            }
            match &row.code_challenge {
                // With PKCE the verifier proves the caller; public clients have no secret.
                Some(challenge) if !pkce_matches(r.code_verifier.unwrap_or(""), challenge) => {
                    return Err(GrantError::InvalidGrant)
                }
                Some(_) => {}
                None if !secret_ok => return Err(GrantError::InvalidClient),
                None => {}
            }
            let scopes = Scopes::parse(&row.scopes).map_err(|_| GrantError::InvalidGrant)?;
            (Some(row.account_id), scopes)
        }
        "client_credentials" => {
            if !secret_ok {
                return Err(GrantError::InvalidClient);
            }
            (None, requested(&Scopes::parse("read").unwrap_or_default())?)
        }
        "password" if node.config.oauth.password_grant => {
            if !secret_ok {
                return Err(GrantError::InvalidClient);
            }
            let scopes = requested(&Scopes::parse("read").unwrap_or_default())?;
            let account =
                super::login::password(node, r.username.unwrap_or(""), r.password.unwrap_or(""))
                    .await
                    .map_err(|e| match e {
                        super::login::LoginError::Invalid => GrantError::InvalidLogin,
                        super::login::LoginError::Sso(super::sso::SsoError::Unavailable(m)) => {
                            GrantError::Domain(DomainError::Unavailable(m))
                        }
                        super::login::LoginError::Sso(super::sso::SsoError::Domain(e)) => {
                            GrantError::Domain(e)
                        }
                        super::login::LoginError::Sso(other) => {
                            GrantError::Domain(DomainError::Invalid(other.to_string()))
                        }
                    })?;
            (Some(account.id), scopes)
        }
        other => return Err(GrantError::UnsupportedGrantType(other.to_string())),
    };
    let token = random_secret();
    let created_at = now_millis();
    node.store
        .insert_token(
            crate::ids::next_id(),
            &digest(&token),
            app.id,
            account_id,
            &scopes.to_string(),
            created_at,
        )
        .await?;
    Ok(IssuedToken {
        token,
        scopes: scopes.to_string(),
        created_at,
    })
}

/// Why a revocation is refused.
#[derive(Debug, thiserror::Error)]
pub enum RevokeError {
    #[error("client authentication failed")]
    InvalidClient,
    /// The token belongs to another app.
    #[error("the token is another app's")]
    NotOwner,
    #[error(transparent)]
    Domain(#[from] DomainError),
}

impl From<crate::store::StoreError> for RevokeError {
    fn from(e: crate::store::StoreError) -> Self {
        RevokeError::Domain(e.into())
    }
}

/// Revokes one of the client's tokens. Revoking an unknown or already revoked token succeeds
/// (RFC 7009).
pub async fn revoke(
    node: &Node,
    client_id: &str,
    client_secret: Option<&str>,
    token: &str,
) -> Result<(), RevokeError> {
    let app = match node.store.app_by_client_id(client_id).await? {
        Some(a) if client_secret == Some(a.client_secret.as_str()) => a,
        _ => return Err(RevokeError::InvalidClient),
    };
    let hash = digest(token);
    match node.store.token_app_id(&hash).await? {
        Some(owner) if owner != app.id => Err(RevokeError::NotOwner),
        _ => {
            node.store.revoke_token(&hash, app.id).await?;
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_implication() {
        let s = Scopes::parse("read write:statuses follow").unwrap();
        assert!(s.allows("read:notifications"));
        assert!(s.allows("write:statuses"));
        assert!(!s.allows("write:media"));
        assert!(s.allows("write:follows"));
        assert!(!s.allows("admin:read:domain_allows"));
        let admin = Scopes::parse("admin:read").unwrap();
        assert!(admin.allows("admin:read:domain_allows"));
        assert!(!admin.allows("admin:write:domain_allows"));
        assert_eq!(Scopes::parse("").unwrap().to_string(), "read");
        assert!(Scopes::parse("read sudo").is_err());
        assert!(Scopes::parse("read:statuses").unwrap().is_subset_of(&s));
        assert!(!Scopes::parse("push").unwrap().is_subset_of(&s));
    }

    #[test]
    fn pkce_s256() {
        // RFC 7636 appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches(verifier, challenge));
        assert!(!pkce_matches("other", challenge));
    }

    #[test]
    fn redirect_uris() {
        assert!(validate_redirect_uri(OOB).is_ok());
        assert!(validate_redirect_uri("oauth2redirect://com.keylesspalace.tusky/").is_ok());
        assert!(validate_redirect_uri("https://app.example/cb").is_ok());
        assert!(validate_redirect_uri("not a uri").is_err());
        assert!(validate_redirect_uri("https://app.example/cb#x").is_err());
    }

    #[test]
    fn secrets_are_random_and_digests_stable() {
        assert_ne!(random_secret(), random_secret());
        assert_eq!(digest("a"), digest("a"));
        assert_eq!(digest("a").len(), 64);
    }
}
