//! The Mastodon admin API for federation: domain allows and blocks (admin role and admin
//! scopes required), and fika's audit log of policy changes.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::{parse_id, Auth, Body, Query};
use crate::convert::rfc3339_millis;
use crate::domain::policy;
use crate::http::{ApiError, AppState};
use crate::store::accounts::AccountRow;
use crate::store::policy::DomainRow;

/// The admin behind a request: the scope, then the role.
fn admin<'a>(auth: &'a Auth, scope: &str) -> Result<&'a AccountRow, ApiError> {
    let me = auth.user(scope)?;
    if me.role != "admin" {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "This action is not allowed: it needs the admin role",
        ));
    }
    Ok(me)
}

fn allow_json(r: &DomainRow) -> Value {
    json!({"id": r.id.to_string(), "domain": r.domain, "created_at": rfc3339_millis(r.created_at)})
}

fn block_json(r: &DomainRow) -> Value {
    json!({
        "id": r.id.to_string(), "domain": r.domain, "digest": hex_sha256(&r.domain),
        "created_at": rfc3339_millis(r.created_at), "severity": "suspend",
        "reject_media": true, "reject_reports": true,
        "private_comment": null, "public_comment": null, "obfuscate": false,
    })
}

fn hex_sha256(s: &str) -> String {
    openssl::sha::sha256(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn who(me: &AccountRow) -> String {
    format!("api:{}", me.username)
}

async fn entries(state: &AppState, kind: &str) -> Result<Vec<DomainRow>, ApiError> {
    Ok(state
        .node
        .store
        .policy_domains()
        .await?
        .into_iter()
        .filter(|r| r.kind == kind)
        .collect())
}

#[derive(Deserialize, Default)]
pub struct DomainForm {
    #[serde(default)]
    domain: String,
}

pub async fn list_allows(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Value>, ApiError> {
    admin(&auth, "admin:read:domain_allows")?;
    Ok(Json(
        entries(&state, "allow")
            .await?
            .iter()
            .map(allow_json)
            .collect(),
    ))
}

pub async fn get_allow(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    admin(&auth, "admin:read:domain_allows")?;
    let id = parse_id(&id)?;
    entries(&state, "allow")
        .await?
        .iter()
        .find(|r| r.id == id)
        .map(|r| Json(allow_json(r)))
        .ok_or_else(ApiError::not_found)
}

pub async fn create_allow(
    State(state): State<AppState>,
    auth: Auth,
    Body(form): Body<DomainForm>,
) -> Result<Json<Value>, ApiError> {
    let me = admin(&auth, "admin:write:domain_allows")?;
    let node = &state.node;
    let row = policy::add(&node.store, &node.config, &who(me), &form.domain, "allow").await?;
    policy::reload(node).await?;
    Ok(Json(allow_json(&row)))
}

pub async fn delete_allow(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = admin(&auth, "admin:write:domain_allows")?;
    let id = parse_id(&id)?;
    let row = entries(&state, "allow")
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(ApiError::not_found)?;
    let node = &state.node;
    policy::remove(
        &node.store,
        &node.config,
        &who(me),
        &row.domain,
        Some("allow"),
    )
    .await?;
    policy::reload(node).await?;
    Ok(Json(json!({})))
}

pub async fn list_blocks(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Value>, ApiError> {
    admin(&auth, "admin:read:domain_blocks")?;
    Ok(Json(
        entries(&state, "block")
            .await?
            .iter()
            .map(block_json)
            .collect(),
    ))
}

pub async fn get_block(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    admin(&auth, "admin:read:domain_blocks")?;
    let id = parse_id(&id)?;
    entries(&state, "block")
        .await?
        .iter()
        .find(|r| r.id == id)
        .map(|r| Json(block_json(r)))
        .ok_or_else(ApiError::not_found)
}

pub async fn create_block(
    State(state): State<AppState>,
    auth: Auth,
    Body(form): Body<DomainForm>,
) -> Result<Json<Value>, ApiError> {
    let me = admin(&auth, "admin:write:domain_blocks")?;
    let node = &state.node;
    let domain = policy::normalize_domain(&form.domain)?;
    if entries(&state, "block")
        .await?
        .iter()
        .any(|r| r.domain == domain)
    {
        return Err(ApiError::unprocessable(
            "Validation failed: this domain is already blocked",
        ));
    }
    let row = policy::add(&node.store, &node.config, &who(me), &domain, "block").await?;
    policy::reload(node).await?;
    Ok(Json(block_json(&row)))
}

pub async fn delete_block(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = admin(&auth, "admin:write:domain_blocks")?;
    let id = parse_id(&id)?;
    let row = entries(&state, "block")
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(ApiError::not_found)?;
    let node = &state.node;
    policy::remove(
        &node.store,
        &node.config,
        &who(me),
        &row.domain,
        Some("block"),
    )
    .await?;
    policy::reload(node).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    limit: Option<i64>,
}

/// `GET /api/v1/admin/federation/audit` (fika's own): every policy change, newest first.
pub async fn audit(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Value>, ApiError> {
    admin(&auth, "admin:read:domain_allows")?;
    let rows = state
        .node
        .store
        .audit_log(q.limit.unwrap_or(100).clamp(1, 1000))
        .await?;
    Ok(Json(rows
        .iter()
        .map(|a| json!({"id": a.id.to_string(), "at": rfc3339_millis(a.at), "actor": a.actor, "action": a.action, "domain": a.domain, "detail": a.detail}))
        .collect()))
}
