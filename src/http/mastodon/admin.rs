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

/// Allow and block entries are handled alike; only their scope names and shapes differ.
#[derive(Clone, Copy)]
enum Kind {
    Allow,
    Block,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Allow => "allow",
            Kind::Block => "block",
        }
    }
    fn scope(self, write: bool) -> &'static str {
        match (self, write) {
            (Kind::Allow, false) => "admin:read:domain_allows",
            (Kind::Allow, true) => "admin:write:domain_allows",
            (Kind::Block, false) => "admin:read:domain_blocks",
            (Kind::Block, true) => "admin:write:domain_blocks",
        }
    }
    fn json(self, row: &DomainRow) -> Value {
        match self {
            Kind::Allow => allow_json(row),
            Kind::Block => block_json(row),
        }
    }
}

async fn list(state: &AppState, auth: &Auth, kind: Kind) -> Result<Json<Value>, ApiError> {
    admin(auth, kind.scope(false))?;
    let rows = entries(state, kind.name()).await?;
    Ok(Json(rows.iter().map(|r| kind.json(r)).collect()))
}

async fn one(state: &AppState, kind: Kind, id: &str) -> Result<DomainRow, ApiError> {
    let id = parse_id(id)?;
    entries(state, kind.name())
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(ApiError::not_found)
}

async fn get(state: &AppState, auth: &Auth, kind: Kind, id: &str) -> Result<Json<Value>, ApiError> {
    admin(auth, kind.scope(false))?;
    Ok(Json(kind.json(&one(state, kind, id).await?)))
}

async fn create(
    state: &AppState,
    auth: &Auth,
    kind: Kind,
    raw: &str,
) -> Result<Json<Value>, ApiError> {
    let me = admin(auth, kind.scope(true))?;
    let domain = policy::normalize_domain(raw)?;
    if let Some(existing) = entries(state, kind.name())
        .await?
        .into_iter()
        .find(|r| r.domain == domain)
    {
        // As on Mastodon: allowing twice returns the allow; blocking twice is an error.
        return match kind {
            Kind::Allow => Ok(Json(kind.json(&existing))),
            Kind::Block => Err(ApiError::unprocessable(format!(
                "Validation failed: {domain} is already blocked"
            ))),
        };
    }
    let node = &state.node;
    let row = policy::add(&node.store, &node.config, &who(me), &domain, kind.name()).await?;
    policy::reload(node).await?;
    Ok(Json(kind.json(&row)))
}

async fn delete(
    state: &AppState,
    auth: &Auth,
    kind: Kind,
    id: &str,
) -> Result<Json<Value>, ApiError> {
    let me = admin(auth, kind.scope(true))?;
    let row = one(state, kind, id).await?;
    let node = &state.node;
    policy::remove(
        &node.store,
        &node.config,
        &who(me),
        &row.domain,
        Some(kind.name()),
    )
    .await?;
    policy::reload(node).await?;
    Ok(Json(json!({})))
}

pub async fn list_allows(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Value>, ApiError> {
    list(&state, &auth, Kind::Allow).await
}

pub async fn get_allow(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    get(&state, &auth, Kind::Allow, &id).await
}

pub async fn create_allow(
    State(state): State<AppState>,
    auth: Auth,
    Body(form): Body<DomainForm>,
) -> Result<Json<Value>, ApiError> {
    create(&state, &auth, Kind::Allow, &form.domain).await
}

pub async fn delete_allow(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    delete(&state, &auth, Kind::Allow, &id).await
}

pub async fn list_blocks(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Value>, ApiError> {
    list(&state, &auth, Kind::Block).await
}

pub async fn get_block(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    get(&state, &auth, Kind::Block, &id).await
}

pub async fn create_block(
    State(state): State<AppState>,
    auth: Auth,
    Body(form): Body<DomainForm>,
) -> Result<Json<Value>, ApiError> {
    create(&state, &auth, Kind::Block, &form.domain).await
}

pub async fn delete_block(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    delete(&state, &auth, Kind::Block, &id).await
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
