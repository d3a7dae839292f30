//! OAuth 2 as Mastodon apps use it: app registration, our own login and consent page, code
//! (with PKCE) / client-credentials / (optionally) password grants, revocation, discovery.

// OAuth errors are complete responses (their JSON shape differs from the API's), returned early.
#![allow(clippy::result_large_err)]
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::extract::{Auth, Body, Query};
use crate::convert::mastodon;
use crate::convert::text::escape;
use crate::domain::login::{self, LoginError};
use crate::domain::oauth::{self, GrantError, RevokeError, Scopes, OOB};
use crate::domain::sso::{self, SsoError};
use crate::http::{ApiError, AppState};
use crate::store::accounts::AccountRow;
use crate::store::oauth::AppRow;

/// OAuth errors have their own shape: `{"error": code, "error_description": text}`.
fn oauth_error(status: StatusCode, code: &str, description: &str) -> Response {
    tracing::info!(
        status = status.as_u16(),
        code,
        description,
        "oauth request refused"
    );
    (
        status,
        Json(json!({"error": code, "error_description": description})),
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct AppForm {
    client_name: Option<String>,
    #[serde(default, deserialize_with = "redirect_uris")]
    redirect_uris: Vec<String>,
    scopes: Option<String>,
    website: Option<String>,
}

/// `redirect_uris` as one string (newline-separated), or an array.
fn redirect_uris<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        One(String),
        Many(Vec<String>),
    }
    Ok(match Option::<Raw>::deserialize(d)? {
        None => vec![],
        Some(Raw::One(s)) => s
            .split('\n')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        Some(Raw::Many(v)) => v,
    })
}

pub async fn create_app(
    State(state): State<AppState>,
    Body(form): Body<AppForm>,
) -> Result<Json<Value>, ApiError> {
    let input = oauth::AppInput {
        name: form.client_name,
        redirect_uris: form.redirect_uris,
        scopes: form.scopes,
        website: form.website,
    };
    let app = oauth::register_app(&state.node, input).await?;
    Ok(Json(mastodon::application(
        &app,
        true,
        state.node.push.public_key(),
    )))
}

pub async fn verify_app(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Value>, ApiError> {
    let app = oauth::app(&state.node, auth.token.app_id)
        .await?
        .ok_or_else(super::extract::invalid_token)?;
    Ok(Json(mastodon::application(
        &app,
        false,
        state.node.push.public_key(),
    )))
}

pub async fn server_metadata(State(state): State<AppState>) -> Json<Value> {
    let base = state.node.urls.api("");
    let mut grants = vec!["authorization_code", "client_credentials"];
    if state.node.config.oauth.password_grant {
        grants.push("password");
    }
    Json(json!({
        "issuer": format!("{base}/"),
        "service_documentation": "https://docs.joinmastodon.org/",
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "revocation_endpoint": format!("{base}/oauth/revoke"),
        "app_registration_endpoint": format!("{base}/api/v1/apps"),
        "scopes_supported": oauth::KNOWN_SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": grants,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }))
}

/// The parameters of an authorization request, carried through the login form (and, for a
/// company login, kept by the domain while the user is at the provider).
#[derive(Deserialize, Serialize, Default, Clone)]
pub struct AuthorizeParams {
    #[serde(default)]
    response_type: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    redirect_uri: String,
    scope: Option<String>,
    state: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct LoginForm {
    #[serde(flatten)]
    params: AuthorizeParams,
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    decision: String,
    /// Set on the consent page after a company login: stands for the account.
    sso_ticket: Option<String>,
}

/// Validates an authorization request; errors are shown on our page, never redirected to an
/// unverified URI.
async fn check_request(
    state: &AppState,
    p: &AuthorizeParams,
) -> Result<oauth::Authorization, String> {
    let request = oauth::AuthorizationRequest {
        response_type: &p.response_type,
        client_id: &p.client_id,
        redirect_uri: &p.redirect_uri,
        scope: p.scope.as_deref(),
        code_challenge: p.code_challenge.as_deref(),
        code_challenge_method: p.code_challenge_method.as_deref(),
    };
    oauth::check_authorization(&state.node, &request)
        .await
        .map_err(|e| e.to_string())
}

/// The language of a login page: the console's switch (its cookie), else `Accept-Language`.
pub fn page_lang(headers: &HeaderMap) -> &'static str {
    let chosen = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == "fika_lang")
        .map(|(_, v)| v);
    let accept = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    crate::i18n::negotiate(chosen, accept)
}

/// A message of the login pages in `lang`, with `args`, escaped for HTML.
fn tr(lang: &str, key: &str, args: &[(&str, String)]) -> String {
    escape(&crate::i18n::catalogues().text(lang, key, args))
}

/// The login pages' frame: the console's look (stylesheet, favicon, the node's colour).
fn page(state: &AppState, lang: &str, body: &str) -> Html<String> {
    let config = &state.node.config;
    Html(format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title>\
         <link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">\
         <link rel=\"stylesheet\" href=\"/admin/static/console.css\">\
         <style>:root {{ --accent: {accent}; }}</style>\
         </head><body class=\"login\"><header class=\"top\"><span class=\"brand\">{name}</span></header>\
         <main id=\"main\"><div class=\"card narrow\">{body}</div></main></body></html>\n",
        title = tr(lang, "oauth-title", &[("node", config.server.node_name.clone())]),
        name = escape(&config.server.node_name),
        accent = escape(&config.console.accent_colour),
    ))
}

/// A page for people with an error status, kept as HTML (not turned into API JSON).
fn human_page(status: StatusCode, page: Html<String>) -> Response {
    let mut r = (status, page).into_response();
    r.extensions_mut().insert(crate::http::error::HumanPage);
    r
}

fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        escape(name),
        escape(value)
    )
}

fn request_fields(p: &AuthorizeParams, scopes: &Scopes) -> String {
    let mut fields = String::new();
    for (k, v) in [
        ("response_type", Some(p.response_type.as_str())),
        ("client_id", Some(p.client_id.as_str())),
        ("redirect_uri", Some(p.redirect_uri.as_str())),
        ("scope", Some(&scopes.to_string() as &str)),
        ("state", p.state.as_deref()),
        ("code_challenge", p.code_challenge.as_deref()),
        ("code_challenge_method", p.code_challenge_method.as_deref()),
    ] {
        if let Some(v) = v {
            fields.push_str(&hidden(k, v));
        }
    }
    fields
}

fn login_page(
    state: &AppState,
    lang: &str,
    p: &AuthorizeParams,
    app: &AppRow,
    scopes: &Scopes,
    error: Option<&str>,
) -> Html<String> {
    let fields = request_fields(p, scopes);
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    let config = &state.node.config;
    let company = if config.oidc.enabled() {
        format!(
            "<form method=\"post\" action=\"/oauth/oidc/start\">{fields}\
             <button type=\"submit\" id=\"oidc-login\">{login_with}</button></form>\
             <p>{or_password}</p>",
            login_with = tr(
                lang,
                "oauth-login-with",
                &[("provider", config.oidc.display_name.clone())]
            ),
            or_password = tr(lang, "oauth-or-password", &[]),
        )
    } else {
        String::new()
    };
    let label = if config.ldap.enabled() {
        "oauth-company-username"
    } else if !config.auth.local_passwords {
        // Only the break-glass admin gets in this way.
        "oauth-emergency-username"
    } else {
        "login-username"
    };
    page(
        state,
        lang,
        &format!(
            "<h1>{node}</h1><p>{asks}</p>{error}{company}\
             <form method=\"post\" action=\"/oauth/authorize\">{fields}\
             <label for=\"username\">{label}</label>\
             <input id=\"username\" name=\"username\" autocomplete=\"username\" required>\
             <label for=\"password\">{password}</label>\
             <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
             <div class=\"buttons\">\
             <button type=\"submit\" name=\"decision\" value=\"approve\">{approve}</button>\
             <button type=\"submit\" name=\"decision\" value=\"deny\" class=\"secondary\" formnovalidate>{deny}</button>\
             </div></form>",
            node = escape(&config.server.node_name),
            asks = asks(lang, &app.name, scopes),
            label = tr(lang, label, &[]),
            password = tr(lang, "login-password", &[]),
            approve = tr(lang, "oauth-login-authorize", &[]),
            deny = tr(lang, "oauth-deny", &[]),
        ),
    )
}

/// "APP asks to use your account with these permissions: SCOPES."
fn asks(lang: &str, app: &str, scopes: &Scopes) -> String {
    let text = crate::i18n::catalogues().text(
        lang,
        "oauth-asks",
        &[("app", "\u{1}".into()), ("scopes", "\u{2}".into())],
    );
    escape(&text)
        .replace('\u{1}', &format!("<strong>{}</strong>", escape(app)))
        .replace(
            '\u{2}',
            &format!("<code>{}</code>", escape(&scopes.to_string())),
        )
}

/// After a company login: the user approves or denies the app as themselves.
fn consent_page(
    state: &AppState,
    lang: &str,
    checked: &oauth::Authorization,
    account: &AccountRow,
    ticket: &str,
) -> Html<String> {
    page(
        state,
        lang,
        &format!(
            "<h1>{node}</h1><p>{logged_in}</p><p>{asks}</p>\
             <form method=\"post\" action=\"/oauth/authorize\">{ticket}\
             <div class=\"buttons\">\
             <button type=\"submit\" name=\"decision\" value=\"approve\">{approve}</button>\
             <button type=\"submit\" name=\"decision\" value=\"deny\" class=\"secondary\">{deny}</button>\
             </div></form>",
            node = escape(&state.node.config.server.node_name),
            logged_in = tr(lang, "oauth-logged-in-as", &[("user", format!("@{}", account.username))]),
            asks = asks(lang, &checked.app.name, &checked.scopes),
            approve = tr(lang, "oauth-authorize", &[]),
            deny = tr(lang, "oauth-deny", &[]),
            ticket = hidden("sso_ticket", ticket),
        ),
    )
}

/// The page for a company login that let nobody in; the status says why.
fn sso_error_page(state: &AppState, lang: &str, e: SsoError) -> Response {
    let status = match &e {
        SsoError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        SsoError::Refused(_) => StatusCode::BAD_REQUEST,
        SsoError::NotInRequiredGroup(_) | SsoError::Suspended | SsoError::Disabled => {
            StatusCode::FORBIDDEN
        }
        SsoError::Collision(_) => StatusCode::CONFLICT,
        SsoError::NoUsername(..) => StatusCode::UNPROCESSABLE_ENTITY,
        SsoError::Domain(d) => {
            tracing::error!(error = %d, "company login failed");
            let message = crate::i18n::catalogues().text(lang, "oauth-went-wrong", &[]);
            return error_page(state, lang, StatusCode::INTERNAL_SERVER_ERROR, &message);
        }
    };
    tracing::info!(status = status.as_u16(), reason = %e, "company login refused");
    human_page(
        status,
        page(
            state,
            lang,
            &format!(
                "<h1>{}</h1><p class=\"error\" role=\"alert\">{}</p>",
                tr(lang, "oauth-cannot-login", &[]),
                escape(&e.to_string())
            ),
        ),
    )
}

fn error_page(state: &AppState, lang: &str, status: StatusCode, message: &str) -> Response {
    tracing::info!(reason = message, "authorization request refused");
    human_page(
        status,
        page(
            state,
            lang,
            &format!(
                "<h1>{}</h1><p class=\"error\">{}</p>",
                tr(lang, "oauth-cannot-authorize", &[]),
                escape(message)
            ),
        ),
    )
}

pub async fn authorize_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<AuthorizeParams>,
) -> Response {
    let lang = page_lang(&headers);
    match check_request(&state, &p).await {
        Ok(c) => login_page(&state, lang, &p, &c.app, &c.scopes, None).into_response(),
        Err(m) => error_page(&state, lang, StatusCode::BAD_REQUEST, &m),
    }
}

fn redirect_with(uri: &str, params: &[(&str, &str)]) -> Response {
    let mut url = match url::Url::parse(uri) {
        Ok(u) => u,
        Err(_) => return ApiError::bad_request("invalid redirect_uri").into_response(),
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    Redirect::to(url.as_str()).into_response()
}

pub async fn authorize_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(form): Body<LoginForm>,
) -> Response {
    let lang = page_lang(&headers);
    if let Some(ticket) = &form.sso_ticket {
        return consent_submit(&state, lang, ticket, &form.decision).await;
    }
    let p = form.params.clone();
    let checked = match check_request(&state, &p).await {
        Ok(c) => c,
        Err(m) => return error_page(&state, lang, StatusCode::BAD_REQUEST, &m),
    };
    if form.decision == "deny" {
        return deny(&state, lang, &p);
    }
    let account = match login::password(&state.node, &form.username, &form.password).await {
        Ok(a) => a,
        Err(LoginError::Invalid) => {
            tracing::info!(login = %form.username.escape_debug(), "failed login on the authorization page");
            let invalid = crate::i18n::catalogues().text(lang, "oauth-invalid-login", &[]);
            let page = login_page(
                &state,
                lang,
                &p,
                &checked.app,
                &checked.scopes,
                Some(&invalid),
            );
            return human_page(StatusCode::UNAUTHORIZED, page);
        }
        Err(LoginError::Sso(e)) => return sso_error_page(&state, lang, e),
    };
    approve(&state, lang, &p, &checked, &account).await
}

/// The consent page's decision after a company login.
async fn consent_submit(state: &AppState, lang: &str, ticket: &str, decision: &str) -> Response {
    let (account, request) = match sso::take_consent(&state.node, ticket).await {
        Ok(v) => v,
        Err(e) => return sso_error_page(state, lang, e),
    };
    let p: AuthorizeParams = match serde_json::from_str(&request) {
        Ok(p) => p,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    let checked = match check_request(state, &p).await {
        Ok(c) => c,
        Err(m) => return error_page(state, lang, StatusCode::BAD_REQUEST, &m),
    };
    if decision == "deny" {
        return deny(state, lang, &p);
    }
    approve(state, lang, &p, &checked, &account).await
}

fn deny(state: &AppState, lang: &str, p: &AuthorizeParams) -> Response {
    if p.redirect_uri == OOB {
        let denied = crate::i18n::catalogues().text(lang, "oauth-denied", &[]);
        return error_page(state, lang, StatusCode::OK, &denied);
    }
    let state_param = p.state.clone().unwrap_or_default();
    let mut params = vec![
        ("error", "access_denied"),
        ("error_description", "The user denied the request"),
    ];
    if p.state.is_some() {
        params.push(("state", &state_param));
    }
    redirect_with(&p.redirect_uri, &params)
}

/// Issues the code for an approved request and hands it to the app.
async fn approve(
    state: &AppState,
    lang: &str,
    p: &AuthorizeParams,
    checked: &oauth::Authorization,
    account: &AccountRow,
) -> Response {
    let code = match oauth::issue_code(
        &state.node,
        checked,
        account,
        &p.redirect_uri,
        p.code_challenge.as_deref(),
    )
    .await
    {
        Ok(code) => code,
        Err(e) => return ApiError::from(e).into_response(),
    };
    if p.redirect_uri == OOB {
        return page(
            state,
            lang,
            &format!(
                "<h1>{}</h1><p>{}</p><p><code id=\"authorization-code\">{}</code></p>",
                tr(lang, "oauth-code-heading", &[]),
                tr(
                    lang,
                    "oauth-code-copy",
                    &[("app", checked.app.name.clone())]
                ),
                escape(&code)
            ),
        )
        .into_response();
    }
    let state_param = p.state.clone().unwrap_or_default();
    let mut params = vec![("code", code.as_str())];
    if p.state.is_some() {
        params.push(("state", &state_param));
    }
    redirect_with(&p.redirect_uri, &params)
}

/// "Log in with …": sends the browser to the OpenID provider, keeping the app's request.
pub async fn oidc_start(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(p): Body<AuthorizeParams>,
) -> Response {
    let lang = page_lang(&headers);
    if let Err(m) = check_request(&state, &p).await {
        return error_page(&state, lang, StatusCode::BAD_REQUEST, &m);
    }
    let request = match serde_json::to_string(&p) {
        Ok(r) => r,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    match sso::begin_oidc(&state.node, &request).await {
        Ok(begun) => {
            let secure = if state.node.urls.base.scheme() == "https" {
                "; Secure"
            } else {
                ""
            };
            // Lax: sent on the provider's top-level redirect back, not on cross-site requests.
            let cookie = format!(
                "{}={}; Path=/oauth/oidc/callback; Max-Age=600; HttpOnly; SameSite=Lax{secure}",
                sso::binding_cookie(&begun.state),
                begun.state
            );
            let mut r = Redirect::to(&begun.url).into_response();
            if let Ok(v) = axum::http::HeaderValue::from_str(&cookie) {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        Err(e) => sso_error_page(&state, lang, e),
    }
}

#[derive(Deserialize, Default)]
pub struct CallbackParams {
    #[serde(default)]
    state: String,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The OpenID provider sends the browser back here; the app's authorization goes on with the
/// consent page.
pub async fn oidc_callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(c): Query<CallbackParams>,
) -> Response {
    let lang = page_lang(&headers);
    let name = sso::binding_cookie(&c.state);
    let bound = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string());
    let provider_error = c
        .error
        .as_deref()
        .map(|e| match c.error_description.as_deref() {
            Some(d) => format!("{e}: {d}"),
            None => e.to_string(),
        });
    let vouched = match sso::finish_oidc(
        &state.node,
        &c.state,
        bound.as_deref(),
        c.code.as_deref(),
        provider_error.as_deref(),
    )
    .await
    {
        Ok(v) => v,
        Err(e) => return sso_error_page(&state, lang, e),
    };
    let p: AuthorizeParams = match serde_json::from_str(&vouched.request) {
        Ok(p) => p,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    match check_request(&state, &p).await {
        Ok(checked) => {
            consent_page(&state, lang, &checked, &vouched.account, &vouched.ticket).into_response()
        }
        Err(m) => error_page(&state, lang, StatusCode::BAD_REQUEST, &m),
    }
}

#[derive(Deserialize, Default)]
pub struct TokenForm {
    #[serde(default)]
    grant_type: String,
    code: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    scope: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

/// Client credentials from HTTP Basic auth, when the body has none.
fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    use base64::Engine;
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, b64) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(form): Body<TokenForm>,
) -> Response {
    let (client_id, client_secret) = match (&form.client_id, basic_credentials(&headers)) {
        (Some(id), _) => (id.clone(), form.client_secret.clone()),
        (None, Some((id, secret))) => (id, Some(secret)),
        (None, None) => (String::new(), None),
    };
    let request = oauth::TokenRequest {
        grant_type: &form.grant_type,
        client_id: &client_id,
        client_secret: client_secret.as_deref(),
        code: form.code.as_deref(),
        redirect_uri: form.redirect_uri.as_deref(),
        code_verifier: form.code_verifier.as_deref(),
        scope: form.scope.as_deref(),
        username: form.username.as_deref(),
        password: form.password.as_deref(),
    };
    match oauth::grant(&state.node, &request).await {
        Ok(token) => Json(mastodon::token(&token)).into_response(),
        Err(GrantError::InvalidClient) => oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method."),
        Err(GrantError::InvalidGrant) => oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."),
        Err(GrantError::InvalidLogin) => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Invalid username or password.",
        ),
        Err(GrantError::InvalidScope) => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "The requested scope is invalid, unknown, or malformed.",
        ),
        Err(GrantError::UnsupportedGrantType(other)) => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            &format!("The authorization grant type {other:?} is not supported by this node."),
        ),
        Err(GrantError::Domain(e)) => ApiError::from(e).into_response(),
    }
}

#[derive(Deserialize, Default)]
pub struct RevokeForm {
    client_id: Option<String>,
    client_secret: Option<String>,
    #[serde(default)]
    token: String,
}

pub async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Body(form): Body<RevokeForm>,
) -> Response {
    let (client_id, secret) = match (&form.client_id, basic_credentials(&headers)) {
        (Some(id), _) => (id.clone(), form.client_secret.clone()),
        (None, Some((id, s))) => (id, Some(s)),
        (None, None) => (String::new(), None),
    };
    match oauth::revoke(&state.node, &client_id, secret.as_deref(), &form.token).await {
        Ok(()) => Json(json!({})).into_response(),
        Err(RevokeError::InvalidClient) => oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed.",
        ),
        Err(RevokeError::NotOwner) => oauth_error(
            StatusCode::FORBIDDEN,
            "unauthorized_client",
            "You are not authorized to revoke this token",
        ),
        Err(RevokeError::Domain(e)) => ApiError::from(e).into_response(),
    }
}
