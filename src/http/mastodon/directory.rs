//! Featured hashtags and the profile directory.

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::{flex_bool, flex_id, parse_id, Auth, Body, Query};
use crate::convert::mastodon;
use crate::domain::directory;
use crate::http::{ApiError, AppState};
use crate::store::directory::DirectoryQuery;

pub async fn list(State(state): State<AppState>, auth: Auth) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:accounts")?;
    let tags = directory::featured_tags(&state.node, me).await?;
    Ok(Json(Value::Array(mastodon::featured_tags(
        &tags,
        &state.node.urls,
    ))))
}

#[derive(Deserialize, Default)]
pub struct FeatureForm {
    name: Option<String>,
}

pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Body(form): Body<FeatureForm>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:accounts")?;
    let name = form
        .name
        .ok_or_else(|| ApiError::unprocessable("Validation failed: Name can't be blank"))?;
    let tag = directory::feature(&state.node, me, &name).await?;
    Ok(Json(mastodon::featured_tag(&tag, &state.node.urls)))
}

pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:accounts")?;
    directory::unfeature(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(json!({})))
}

pub async fn suggestions(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:accounts")?;
    let tags = directory::suggestions(&state.node, me).await?;
    Ok(Json(Value::Array(
        tags.iter()
            .map(|display| mastodon::tag(display, &state.node.urls))
            .collect(),
    )))
}

pub async fn of_account(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    auth.require("read:accounts")?;
    let tags = directory::featured_tags_of(&state.node, parse_id(&id)?).await?;
    Ok(Json(Value::Array(mastodon::featured_tags(
        &tags,
        &state.node.urls,
    ))))
}

#[derive(Deserialize, Default)]
pub struct DirectoryParams {
    #[serde(default, deserialize_with = "flex_bool")]
    local: Option<bool>,
    order: Option<String>,
    #[serde(default, deserialize_with = "flex_id")]
    offset: Option<String>,
    #[serde(default, deserialize_with = "flex_id")]
    limit: Option<String>,
}

fn number(v: &Option<String>, name: &str, default: i64) -> Result<i64, ApiError> {
    v.as_deref().map_or(Ok(default), |s| {
        s.parse::<i64>()
            .map_err(|_| ApiError::bad_request(format!("{name} must be a number")))
    })
}

/// `GET /api/v1/directory`. Public in Mastodon; here, like an account's page, it takes a token
/// (an app's is enough), as nothing of the intranet is served to anonymous callers.
pub async fn directory(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<DirectoryParams>,
) -> Result<Json<Value>, ApiError> {
    auth.require("read:accounts")?;
    let query = DirectoryQuery {
        local_only: q.local.unwrap_or(false),
        newest: q.order.as_deref() == Some("new"),
        limit: number(&q.limit, "limit", 40)?.clamp(1, 80),
        offset: number(&q.offset, "offset", 0)?.max(0),
    };
    let views = directory::list(&state.node, query).await?;
    Ok(Json(Value::Array(mastodon::accounts(
        &views,
        &state.node.urls,
    ))))
}
