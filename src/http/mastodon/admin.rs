//! The Mastodon admin API for federation: domain allows and blocks (admin role and admin
//! scopes required), and fika's audit log of policy changes.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::{parse_id, Auth, Body, Query};
use crate::convert::mastodon;
use crate::domain::policy::{self, EntryKind as Kind};
use crate::http::{ApiError, AppState};
use crate::store::accounts::AccountRow;
use crate::store::policy::DomainRow;

/// The admin behind a request: the scope, then the role.
pub(super) fn admin<'a>(auth: &'a Auth, scope: &str) -> Result<&'a AccountRow, ApiError> {
    let me = auth.user(scope)?;
    if me.role != "admin" {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "This action is not allowed: it needs the admin role",
        ));
    }
    Ok(me)
}

fn who(me: &AccountRow) -> String {
    format!("api:{}", me.username)
}

#[derive(Deserialize, Default)]
pub struct DomainForm {
    #[serde(default)]
    domain: String,
    /// fika's tier of an allowed peer: `org` (the default) or `partner`.
    #[serde(default)]
    tier: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct TierForm {
    #[serde(default)]
    tier: String,
}

/// Allow and block entries are handled alike; only their scope names and shapes differ.
fn scope(kind: Kind, write: bool) -> &'static str {
    match (kind, write) {
        (Kind::Allow, false) => "admin:read:domain_allows",
        (Kind::Allow, true) => "admin:write:domain_allows",
        (Kind::Block, false) => "admin:read:domain_blocks",
        (Kind::Block, true) => "admin:write:domain_blocks",
    }
}

fn render(kind: Kind, row: &DomainRow) -> Value {
    match kind {
        Kind::Allow => mastodon::domain_allow(row),
        Kind::Block => mastodon::domain_block(row),
    }
}

async fn list(state: &AppState, auth: &Auth, kind: Kind) -> Result<Json<Value>, ApiError> {
    admin(auth, scope(kind, false))?;
    let rows = policy::entries(&state.node, kind).await?;
    Ok(Json(rows.iter().map(|r| render(kind, r)).collect()))
}

async fn get(state: &AppState, auth: &Auth, kind: Kind, id: &str) -> Result<Json<Value>, ApiError> {
    admin(auth, scope(kind, false))?;
    let row = policy::entry(&state.node, kind, parse_id(id)?).await?;
    Ok(Json(render(kind, &row)))
}

async fn create(
    state: &AppState,
    auth: &Auth,
    kind: Kind,
    form: &DomainForm,
) -> Result<Json<Value>, ApiError> {
    let me = admin(auth, scope(kind, true))?;
    let tier = match (kind, form.tier.as_deref()) {
        (_, None) => None,
        (Kind::Allow, Some(t)) => Some(policy::parse_tier(t)?),
        (Kind::Block, Some(_)) => {
            return Err(ApiError::unprocessable(
                "Validation failed: a block has no tier",
            ))
        }
    };
    let row = policy::create_entry(&state.node, &who(me), &form.domain, kind, tier).await?;
    Ok(Json(render(kind, &row)))
}

async fn delete(
    state: &AppState,
    auth: &Auth,
    kind: Kind,
    id: &str,
) -> Result<Json<Value>, ApiError> {
    let me = admin(auth, scope(kind, true))?;
    policy::delete_entry(&state.node, &who(me), kind, parse_id(id)?).await?;
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
    create(&state, &auth, Kind::Allow, &form).await
}

/// fika's extension: changes an allow entry's tier.
pub async fn update_allow(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Body(form): Body<TierForm>,
) -> Result<Json<Value>, ApiError> {
    let me = admin(&auth, scope(Kind::Allow, true))?;
    let tier = policy::parse_tier(&form.tier)?;
    let row = policy::update_entry_tier(&state.node, &who(me), parse_id(&id)?, tier).await?;
    Ok(Json(render(Kind::Allow, &row)))
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
    create(&state, &auth, Kind::Block, &form).await
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
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let rows = policy::audit_log(&state.node, limit).await?;
    Ok(Json(rows.iter().map(mastodon::audit_entry).collect()))
}
