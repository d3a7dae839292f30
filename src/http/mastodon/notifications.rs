//! Notifications.

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::{flex_id, parse_id, Auth, Query};
use super::{paginated, query_pairs, PageParams};
use crate::convert::mastodon;
use crate::domain::notifications;
use crate::http::{ApiError, AppState};

#[derive(Deserialize, Default)]
pub struct ListQuery {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, rename = "types[]", alias = "types")]
    types: Vec<String>,
    #[serde(default, rename = "exclude_types[]", alias = "exclude_types")]
    exclude_types: Vec<String>,
    #[serde(default, deserialize_with = "flex_id")]
    account_id: Option<String>,
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let me = auth.user("read:notifications")?;
    let page = q.page.page(40, 80)?;
    let account = q.account_id.as_deref().map(parse_id).transpose()?;
    let rows = state
        .node
        .store
        .notifications(me.id, &q.types, &q.exclude_types, account, &page)
        .await?;
    let keys = rows.first().zip(rows.last()).map(|(a, b)| (a.id, b.id));
    let views = notifications::views(&state.node, me, &rows).await?;
    let items = mastodon::notifications(&views, &state.node.urls);
    Ok(paginated(
        items,
        keys,
        &state.node.urls.api("/api/v1/notifications"),
        &query_pairs(&uri),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:notifications")?;
    let row = state
        .node
        .store
        .notification(me.id, parse_id(&id)?)
        .await?
        .ok_or_else(ApiError::not_found)?;
    notifications::views(&state.node, me, &[row])
        .await?
        .pop()
        .map(|n| Json(mastodon::notification(&n, &state.node.urls)))
        .ok_or_else(ApiError::not_found)
}

pub async fn dismiss(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:notifications")?;
    let id = parse_id(&id)?;
    state
        .node
        .store
        .notification(me.id, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    state
        .node
        .store
        .delete_notifications(me.id, Some(id))
        .await?;
    Ok(Json(json!({})))
}

pub async fn clear(State(state): State<AppState>, auth: Auth) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:notifications")?;
    state.node.store.delete_notifications(me.id, None).await?;
    Ok(Json(json!({})))
}
