//! OpenID Connect with the `openidconnect` crate: discovery (cached), the authorization code
//! flow with PKCE, state and nonce, and the ID token verified against the provider's keys
//! (signature, `iss`, `aud`, `exp`, nonce). An ID token signed by a key we do not hold makes
//! us fetch the key set again once (the provider rotated its keys) before refusing.

use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJsonWebKeySet, CoreProviderMetadata,
};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, IssuerUrl,
    Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse,
};
use serde_json::{Map, Value};
use tokio::sync::Mutex;

use super::{Person, Provider, SsoError};
use crate::config::OidcConfig;
use crate::domain::DomainError;

/// How long a discovery document is trusted before it is fetched again.
const METADATA_TTL: Duration = Duration::from_secs(3600);
/// At most one key-set refresh in this time, so tokens with made-up key ids cannot make us
/// hammer the provider.
const JWKS_REFRESH_MIN_INTERVAL: Duration = Duration::from_secs(10);

pub struct Oidc {
    config: OidcConfig,
    http: reqwest::Client,
    metadata: Mutex<Option<(CoreProviderMetadata, Instant)>>,
    last_jwks_refresh: Mutex<Option<Instant>>,
}

/// A login sent to the provider: where to, and what checks its answer.
pub struct Start {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

fn unavailable(what: &str, e: impl std::fmt::Display) -> SsoError {
    tracing::warn!(error = %e, "{what}");
    SsoError::Unavailable(format!(
        "The identity provider cannot be reached or answered with an error ({what}). Try again \
         later; if it persists, tell your admins."
    ))
}

fn refused(what: &str, e: impl std::fmt::Display) -> SsoError {
    tracing::warn!(error = %e, "OpenID Connect login refused: {what}");
    SsoError::Refused(format!(
        "The login could not be verified ({what}). Start again from the app."
    ))
}

impl Oidc {
    pub fn new(config: &OidcConfig) -> Result<Oidc, DomainError> {
        // No redirects: a provider's endpoints answer directly (and redirects would be an SSRF
        // path from the token endpoint).
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(config.timeout_seconds))
            .connect_timeout(Duration::from_secs(config.timeout_seconds))
            .build()
            .map_err(|e| DomainError::Internal(format!("OpenID Connect HTTP client: {e}")))?;
        Ok(Oidc {
            config: config.clone(),
            http,
            metadata: Mutex::new(None),
            last_jwks_refresh: Mutex::new(None),
        })
    }

    /// The provider's discovery document and keys, fetched when not cached or stale.
    async fn metadata(&self) -> Result<CoreProviderMetadata, SsoError> {
        let mut cached = self.metadata.lock().await;
        if let Some((m, at)) = cached.as_ref() {
            if at.elapsed() < METADATA_TTL {
                return Ok(m.clone());
            }
        }
        let issuer = IssuerUrl::new(self.config.issuer.clone())
            .map_err(|e| unavailable("the issuer URL is invalid", e))?;
        let m = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| unavailable("discovery failed", e))?;
        *cached = Some((m.clone(), Instant::now()));
        Ok(m)
    }

    /// Fetches the key set again (the provider rotated its keys), at most once in
    /// [`JWKS_REFRESH_MIN_INTERVAL`]. `false` when it was refreshed too recently.
    async fn refresh_jwks(&self) -> Result<bool, SsoError> {
        {
            let mut last = self.last_jwks_refresh.lock().await;
            if last.is_some_and(|t| t.elapsed() < JWKS_REFRESH_MIN_INTERVAL) {
                return Ok(false);
            }
            *last = Some(Instant::now());
        }
        let m = self.metadata().await?;
        let jwks = CoreJsonWebKeySet::fetch_async(m.jwks_uri(), &self.http)
            .await
            .map_err(|e| unavailable("fetching the signing keys failed", e))?;
        tracing::info!(
            keys = jwks.keys().len(),
            "fetched the OpenID provider's signing keys again"
        );
        *self.metadata.lock().await = Some((m.set_jwks(jwks), Instant::now()));
        Ok(true)
    }

    fn client(
        &self,
        m: CoreProviderMetadata,
        redirect: &str,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        SsoError,
    > {
        let secret = (!self.config.client_secret.is_empty())
            .then(|| ClientSecret::new(self.config.client_secret.clone()));
        let redirect = RedirectUrl::new(redirect.to_owned())
            .map_err(|e| SsoError::Domain(DomainError::Internal(e.to_string())))?;
        Ok(CoreClient::from_provider_metadata(
            m,
            ClientId::new(self.config.client_id.clone()),
            secret,
        )
        .set_redirect_uri(redirect))
    }

    /// The provider's authorization URL with a fresh state, nonce and PKCE challenge.
    pub async fn begin(&self, redirect: &str) -> Result<Start, SsoError> {
        let client = self.client(self.metadata().await?, redirect)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge);
        for scope in self.config.scopes.iter().filter(|s| *s != "openid") {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.url();
        Ok(Start {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges the code, verifies the ID token and reads the person from its claims and the
    /// provider's userinfo endpoint.
    pub async fn finish(
        &self,
        code: &str,
        nonce: &str,
        pkce_verifier: &str,
        redirect: &str,
    ) -> Result<Person, SsoError> {
        let metadata = self.metadata().await?;
        let client = self.client(metadata.clone(), redirect)?;
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| unavailable("the provider has no token endpoint", e))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|e| match e {
                // The provider answered and refused (a used or wrong code).
                openidconnect::RequestTokenError::ServerResponse(r) => {
                    refused("the provider refused the code", r)
                }
                other => unavailable("exchanging the code failed", other),
            })?;
        let id_token = response
            .id_token()
            .ok_or_else(|| refused("no ID token", "the token response has no id_token"))?;
        let nonce = Nonce::new(nonce.to_owned());
        let verified = {
            let verifier = client.id_token_verifier();
            id_token
                .claims(&verifier, &nonce)
                .map(|c| c.subject().to_string())
        };
        let subject = match verified {
            Ok(s) => s,
            Err(ClaimsVerificationError::SignatureVerification(e)) => {
                // Perhaps signed with a key published since we fetched the set.
                if !self.refresh_jwks().await? {
                    return Err(refused("the signature does not verify", e));
                }
                let client = self.client(self.metadata().await?, redirect)?;
                let verifier = client.id_token_verifier();
                id_token
                    .claims(&verifier, &nonce)
                    .map(|c| c.subject().to_string())
                    .map_err(|e| refused("the signature does not verify", e))?
            }
            Err(e) => return Err(refused("the ID token is not valid for this node", e)),
        };
        // Verified above: the payload can now be read for the claims the settings name.
        let mut claims = jwt_payload(&id_token.to_string())
            .ok_or_else(|| refused("the ID token is malformed", "payload"))?;
        if let Some(url) = metadata.userinfo_endpoint() {
            let info = self
                .userinfo(url.url().as_str(), response.access_token().secret())
                .await?;
            if info.get("sub").and_then(Value::as_str) != Some(subject.as_str()) {
                return Err(refused("userinfo is about someone else", "sub differs"));
            }
            for (k, v) in info {
                claims.entry(k).or_insert(v);
            }
        }
        Ok(person_from_claims(
            &self.config,
            metadata.issuer().as_str(),
            &subject,
            &claims,
        ))
    }

    async fn userinfo(
        &self,
        url: &str,
        access_token: &str,
    ) -> Result<Map<String, Value>, SsoError> {
        let response = self
            .http
            .get(url)
            .bearer_auth(access_token)
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| unavailable("the userinfo request failed", e))?;
        if !response.status().is_success() {
            return Err(unavailable(
                "the userinfo request failed",
                response.status(),
            ));
        }
        response
            .json::<Map<String, Value>>()
            .await
            .map_err(|e| unavailable("the userinfo answer is not JSON", e))
    }
}

/// The claims of a JWT, unverified: call only on a token already verified.
fn jwt_payload(jwt: &str) -> Option<Map<String, Value>> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    serde_json::from_slice(&bytes).ok()
}

fn claim_str(claims: &Map<String, Value>, name: &str) -> Option<String> {
    match claims.get(name)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The person the claims describe, by the claim names the settings give. Groups may be an
/// array of names or one name.
pub fn person_from_claims(
    config: &OidcConfig,
    issuer: &str,
    subject: &str,
    claims: &Map<String, Value>,
) -> Person {
    let groups = match claims.get(&config.groups_claim) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(Value::String(s)) => vec![s.clone()],
        _ => vec![],
    };
    let login = claim_str(claims, &config.username_claim).unwrap_or_default();
    Person {
        provider: Provider::Oidc,
        issuer: issuer.to_owned(),
        subject: subject.to_owned(),
        display_name: claim_str(claims, &config.display_name_claim)
            .unwrap_or_default()
            .chars()
            .take(30)
            .collect(),
        email: claim_str(claims, &config.email_claim),
        login,
        groups,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_map_by_the_configured_names() {
        let mut config = OidcConfig::default();
        let claims: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "sub": "u1", "preferred_username": "ada.l", "name": "Ada Lovelace",
            "email": "ada@hq.example", "groups": ["staff", "it-admins"], "upn": "alovelace"
        }))
        .unwrap();
        let p = person_from_claims(&config, "https://idp", "u1", &claims);
        assert_eq!(p.login, "ada.l");
        assert_eq!(p.display_name, "Ada Lovelace");
        assert_eq!(p.email.as_deref(), Some("ada@hq.example"));
        assert_eq!(p.groups, vec!["staff", "it-admins"]);
        config.username_claim = "upn".into();
        config.groups_claim = "roles".into();
        let p = person_from_claims(&config, "https://idp", "u1", &claims);
        assert_eq!(p.login, "alovelace");
        assert!(p.groups.is_empty());
    }

    #[test]
    fn jwt_payloads_decode() {
        let body = URL_SAFE_NO_PAD.encode(br#"{"sub":"x"}"#);
        let claims = jwt_payload(&format!("e30.{body}.sig")).unwrap();
        assert_eq!(claims["sub"], "x");
        assert!(jwt_payload("garbage").is_none());
    }
}
