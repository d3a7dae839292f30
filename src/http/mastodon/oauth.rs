//! OAuth 2 as Mastodon apps use it: app registration, our own login and consent page, code
//! (with PKCE) / client-credentials / (optionally) password grants, revocation, discovery.

// OAuth errors are complete responses (their JSON shape differs from the API's), returned early.
#![allow(clippy::result_large_err)]
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::{Auth, Body, Query};
use crate::convert::text::escape;
use crate::domain::accounts;
use crate::domain::oauth::{self, digest, random_secret, Scopes, OOB};
use crate::http::{ApiError, AppState};
use crate::store::now_millis;
use crate::store::oauth::AppRow;

const CODE_LIFETIME_MS: i64 = 10 * 60 * 1000;

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

fn app_json(app: &AppRow, with_secret: bool) -> Value {
    let uris: Vec<&str> = app.redirect_uris.split('\n').collect();
    let scopes: Vec<&str> = app.scopes.split(' ').collect();
    let mut v = json!({
        "id": app.id.to_string(),
        "name": app.name,
        "website": app.website,
        "scopes": scopes,
        "redirect_uri": app.redirect_uris,
        "redirect_uris": uris,
        "vapid_key": "",
    });
    if with_secret {
        v["client_id"] = json!(app.client_id);
        v["client_secret"] = json!(app.client_secret);
        v["client_secret_expires_at"] = json!(0);
    }
    v
}

pub async fn create_app(
    State(state): State<AppState>,
    Body(form): Body<AppForm>,
) -> Result<Json<Value>, ApiError> {
    let name = form
        .client_name
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .ok_or_else(|| {
            ApiError::unprocessable("Validation failed: Application name can't be blank")
        })?;
    if name.chars().count() > 200 {
        return Err(ApiError::unprocessable(
            "Validation failed: Application name is too long",
        ));
    }
    if form.redirect_uris.is_empty() {
        return Err(ApiError::unprocessable(
            "Validation failed: Redirect URI can't be blank",
        ));
    }
    for uri in &form.redirect_uris {
        oauth::validate_redirect_uri(uri)
            .map_err(|m| ApiError::unprocessable(format!("Validation failed: {m}")))?;
    }
    let scopes = Scopes::parse(form.scopes.as_deref().unwrap_or(""))
        .map_err(|m| ApiError::unprocessable(format!("Validation failed: {m}")))?;
    let app = AppRow {
        id: crate::ids::next_id(),
        name,
        website: form.website.filter(|w| !w.trim().is_empty()),
        redirect_uris: form.redirect_uris.join("\n"),
        scopes: scopes.to_string(),
        client_id: random_secret(),
        client_secret: random_secret(),
        created_at: now_millis(),
    };
    state.node.store.insert_app(&app).await?;
    tracing::info!(app = %app.name, "registered an OAuth application");
    Ok(Json(app_json(&app, true)))
}

pub async fn verify_app(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Value>, ApiError> {
    let app = state
        .node
        .store
        .app_by_id(auth.token.app_id)
        .await?
        .ok_or_else(super::extract::invalid_token)?;
    Ok(Json(app_json(&app, false)))
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

/// The parameters of an authorization request, carried through the login form.
#[derive(Deserialize, Default, Clone)]
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
}

struct Checked {
    app: AppRow,
    scopes: Scopes,
}

/// Validates an authorization request; errors are shown on our page, never redirected to an
/// unverified URI.
async fn check_request(state: &AppState, p: &AuthorizeParams) -> Result<Checked, String> {
    if p.response_type != "code" {
        return Err("response_type must be \"code\".".into());
    }
    let app = state
        .node
        .store
        .app_by_client_id(&p.client_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or("Unknown client_id: the app is not registered on this node.")?;
    if !app.redirect_uris.split('\n').any(|u| u == p.redirect_uri) {
        return Err("redirect_uri does not match one the app registered.".into());
    }
    let scopes = Scopes::parse(p.scope.as_deref().unwrap_or("")).map_err(|e| e + ".")?;
    let app_scopes = Scopes::parse(&app.scopes).map_err(|e| e + ".")?;
    if !scopes.is_subset_of(&app_scopes) {
        return Err("The requested scope exceeds what the app registered.".into());
    }
    if let Some(method) = &p.code_challenge_method {
        if method != "S256" {
            return Err("Only the S256 code_challenge_method is supported.".into());
        }
    }
    if p.code_challenge_method.is_some() && p.code_challenge.as_deref().unwrap_or("").is_empty() {
        return Err("code_challenge is missing.".into());
    }
    Ok(Checked { app, scopes })
}

fn page(node_name: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Log in to {name}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem}}\
         label,input,button{{display:block;width:100%;margin:.4rem 0}}input{{padding:.5rem}}\
         button{{padding:.6rem;margin-top:1rem}}.error{{color:#b00020}}code{{font-size:1.2rem;word-break:break-all}}</style>\
         </head><body><main>{body}</main></body></html>\n",
        name = escape(node_name)
    ))
}

fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        escape(name),
        escape(value)
    )
}

fn login_page(
    state: &AppState,
    p: &AuthorizeParams,
    app: &AppRow,
    scopes: &Scopes,
    error: Option<&str>,
) -> Html<String> {
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
    let error = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    let node_name = &state.node.config.server.node_name;
    page(
        node_name,
        &format!(
            "<h1>{node}</h1><p><strong>{app}</strong> asks to use your account with these \
             permissions: <code>{scopes}</code>.</p>{error}\
             <form method=\"post\" action=\"/oauth/authorize\">{fields}\
             <label for=\"username\">Username or email</label>\
             <input id=\"username\" name=\"username\" autocomplete=\"username\" required>\
             <label for=\"password\">Password</label>\
             <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>\
             <button type=\"submit\" name=\"decision\" value=\"approve\">Log in and authorize</button>\
             <button type=\"submit\" name=\"decision\" value=\"deny\" formnovalidate>Deny</button>\
             </form>",
            node = escape(node_name),
            app = escape(&app.name),
            scopes = escape(&scopes.to_string()),
        ),
    )
}

fn error_page(state: &AppState, status: StatusCode, message: &str) -> Response {
    tracing::info!(reason = message, "authorization request refused");
    (
        status,
        page(
            &state.node.config.server.node_name,
            &format!(
                "<h1>Cannot authorize</h1><p class=\"error\">{}</p>",
                escape(message)
            ),
        ),
    )
        .into_response()
}

pub async fn authorize_page(
    State(state): State<AppState>,
    Query(p): Query<AuthorizeParams>,
) -> Response {
    match check_request(&state, &p).await {
        Ok(c) => login_page(&state, &p, &c.app, &c.scopes, None).into_response(),
        Err(m) => error_page(&state, StatusCode::BAD_REQUEST, &m),
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
    Body(form): Body<LoginForm>,
) -> Response {
    let p = form.params.clone();
    let checked = match check_request(&state, &p).await {
        Ok(c) => c,
        Err(m) => return error_page(&state, StatusCode::BAD_REQUEST, &m),
    };
    let state_param = p.state.clone().unwrap_or_default();
    if form.decision == "deny" {
        if p.redirect_uri == OOB {
            return error_page(&state, StatusCode::OK, "You denied the request.");
        }
        let mut params = vec![
            ("error", "access_denied"),
            ("error_description", "The user denied the request"),
        ];
        if p.state.is_some() {
            params.push(("state", &state_param));
        }
        return redirect_with(&p.redirect_uri, &params);
    }
    let account =
        match accounts::authenticate(&state.node.store, &form.username, &form.password).await {
            Ok(Some(a)) => a,
            Ok(None) => {
                tracing::info!(login = %form.username, "failed login on the authorization page");
                let page = login_page(
                    &state,
                    &p,
                    &checked.app,
                    &checked.scopes,
                    Some("Invalid username or password."),
                );
                return (StatusCode::UNAUTHORIZED, page).into_response();
            }
            Err(e) => return ApiError::from(e).into_response(),
        };
    let code = random_secret();
    if let Err(e) = state
        .node
        .store
        .insert_code(
            &digest(&code),
            checked.app.id,
            account.id,
            &p.redirect_uri,
            &checked.scopes.to_string(),
            p.code_challenge.as_deref().filter(|c| !c.is_empty()),
            now_millis() + CODE_LIFETIME_MS,
        )
        .await
    {
        return ApiError::from(e).into_response();
    }
    tracing::info!(account = %account.username, app = %checked.app.name, "authorized an application");
    if p.redirect_uri == OOB {
        return page(
            &state.node.config.server.node_name,
            &format!(
                "<h1>Authorization code</h1><p>Copy this code and paste it into {}:</p>\
                 <p><code id=\"authorization-code\">{}</code></p>",
                escape(&checked.app.name),
                escape(&code)
            ),
        )
        .into_response();
    }
    let mut params = vec![("code", code.as_str())];
    if p.state.is_some() {
        params.push(("state", &state_param));
    }
    redirect_with(&p.redirect_uri, &params)
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
    match issue_token(&state, &headers, form).await {
        Ok(v) => Json(v).into_response(),
        Err(r) => r,
    }
}

async fn issue_token(
    state: &AppState,
    headers: &HeaderMap,
    form: TokenForm,
) -> Result<Value, Response> {
    let store = &state.node.store;
    let internal = |e: crate::store::StoreError| ApiError::from(e).into_response();
    let (client_id, client_secret) = match (&form.client_id, basic_credentials(headers)) {
        (Some(id), _) => (id.clone(), form.client_secret.clone()),
        (None, Some((id, secret))) => (id, Some(secret)),
        (None, None) => (String::new(), None),
    };
    let invalid_client = || {
        oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.")
    };
    let app = store
        .app_by_client_id(&client_id)
        .await
        .map_err(internal)?
        .ok_or_else(invalid_client)?;
    let secret_ok = client_secret.as_deref().is_some_and(|s| {
        openssl::memcmp::eq(s.as_bytes(), app.client_secret.as_bytes())
            && s.len() == app.client_secret.len()
    });
    let app_scopes =
        Scopes::parse(&app.scopes).map_err(|e| ApiError::internal(e).into_response())?;
    let requested = |fallback: &Scopes| -> Result<Scopes, Response> {
        match form.scope.as_deref().filter(|s| !s.trim().is_empty()) {
            None => Ok(fallback.clone()),
            Some(s) => {
                let scopes = Scopes::parse(s).map_err(|_| invalid_scope())?;
                if scopes.is_subset_of(&app_scopes) {
                    Ok(scopes)
                } else {
                    Err(invalid_scope())
                }
            }
        }
    };
    let (account_id, scopes) = match form.grant_type.as_str() {
        "authorization_code" => {
            let invalid_grant = || {
                oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.")
            };
            let code = form.code.as_deref().ok_or_else(invalid_grant)?;
            let row = store
                .take_code(&digest(code))
                .await
                .map_err(internal)?
                .ok_or_else(invalid_grant)?;
            if row.app_id != app.id || row.expires_at < now_millis() {
                return Err(invalid_grant());
            }
            if form
                .redirect_uri
                .as_deref()
                .is_some_and(|u| u != row.redirect_uri)
            {
                return Err(invalid_grant());
            }
            match &row.code_challenge {
                // With PKCE the verifier proves the caller; public clients have no secret.
                Some(challenge) => {
                    let verifier = form.code_verifier.as_deref().unwrap_or("");
                    if !oauth::pkce_matches(verifier, challenge) {
                        return Err(invalid_grant());
                    }
                }
                None if !secret_ok => return Err(invalid_client()),
                None => {}
            }
            let scopes = Scopes::parse(&row.scopes).map_err(|_| invalid_grant())?;
            (Some(row.account_id), scopes)
        }
        "client_credentials" => {
            if !secret_ok {
                return Err(invalid_client());
            }
            (None, requested(&Scopes::parse("read").unwrap_or_default())?)
        }
        "password" if state.node.config.oauth.password_grant => {
            if !secret_ok {
                return Err(invalid_client());
            }
            let scopes = requested(&Scopes::parse("read").unwrap_or_default())?;
            let account = accounts::authenticate(
                store,
                form.username.as_deref().unwrap_or(""),
                form.password.as_deref().unwrap_or(""),
            )
            .await
            .map_err(|e| ApiError::from(e).into_response())?
            .ok_or_else(|| {
                oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "Invalid username or password.",
                )
            })?;
            (Some(account.id), scopes)
        }
        other => {
            return Err(oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                &format!("The authorization grant type {other:?} is not supported by this node."),
            ))
        }
    };
    let token = random_secret();
    let created_at = now_millis();
    store
        .insert_token(
            crate::ids::next_id(),
            &digest(&token),
            app.id,
            account_id,
            &scopes.to_string(),
            created_at,
        )
        .await
        .map_err(internal)?;
    Ok(json!({
        "access_token": token,
        "token_type": "Bearer",
        "scope": scopes.to_string(),
        "created_at": created_at / 1000,
    }))
}

fn invalid_scope() -> Response {
    oauth_error(
        StatusCode::BAD_REQUEST,
        "invalid_scope",
        "The requested scope is invalid, unknown, or malformed.",
    )
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
    let store = &state.node.store;
    let (client_id, secret) = match (&form.client_id, basic_credentials(&headers)) {
        (Some(id), _) => (id.clone(), form.client_secret.clone()),
        (None, Some((id, s))) => (id, Some(s)),
        (None, None) => (String::new(), None),
    };
    let app = match store.app_by_client_id(&client_id).await {
        Ok(Some(a)) if secret.as_deref() == Some(a.client_secret.as_str()) => a,
        Ok(_) => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "Client authentication failed.",
            )
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    let hash = digest(&form.token);
    match store.token_app_id(&hash).await {
        Ok(Some(owner)) if owner != app.id => oauth_error(
            StatusCode::FORBIDDEN,
            "unauthorized_client",
            "You are not authorized to revoke this token",
        ),
        Ok(_) => match store.revoke_token(&hash, app.id).await {
            // Revoking an unknown or already revoked token succeeds (RFC 7009).
            Ok(_) => Json(json!({})).into_response(),
            Err(e) => ApiError::from(e).into_response(),
        },
        Err(e) => ApiError::from(e).into_response(),
    }
}
