//! Notifications.

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::{flex_bool, flex_id, parse_id, Auth, Query};
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
    #[serde(default, deserialize_with = "flex_bool")]
    include_filtered: Option<bool>,
}

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(q): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let me = auth.user("read:notifications")?;
    let page = q.page.page(40, 80)?;
    let query = domain_query(q)?;
    let list = notifications::list(&state.node, me, &query, &page).await?;
    let items = mastodon::notifications(&list.notifications, &state.node.urls);
    Ok(paginated(
        items,
        list.keys,
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
    let view = notifications::get(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(mastodon::notification(&view, &state.node.urls)))
}

pub async fn dismiss(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:notifications")?;
    notifications::dismiss(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(json!({})))
}

pub async fn clear(State(state): State<AppState>, auth: Auth) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:notifications")?;
    notifications::clear(&state.node, me).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize, Default)]
pub struct GroupedQuery {
    #[serde(flatten)]
    list: ListQuery,
    /// Which types may be grouped (Mastodon's default: favourite, follow, reblog).
    #[serde(default, rename = "grouped_types[]", alias = "grouped_types")]
    grouped_types: Option<Vec<String>>,
}

fn domain_query(q: ListQuery) -> Result<notifications::ListQuery, ApiError> {
    Ok(notifications::ListQuery {
        account: q.account_id.as_deref().map(parse_id).transpose()?,
        types: q.types,
        exclude_types: q.exclude_types,
        include_filtered: q.include_filtered.unwrap_or(false),
    })
}

/// `GET /api/v2/notifications`: grouped notifications.
pub async fn grouped(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(q): Query<GroupedQuery>,
) -> Result<Response, ApiError> {
    let me = auth.user("read:notifications")?;
    let page = q.list.page.page(40, 80)?;
    let grouped_types = q.grouped_types.unwrap_or_else(|| {
        notifications::GROUPED_TYPES
            .iter()
            .map(|t| t.to_string())
            .collect()
    });
    let query = domain_query(q.list)?;
    let found = notifications::grouped(&state.node, me, &query, &grouped_types, &page).await?;
    let body = mastodon::grouped_notifications(&found, &state.node.urls);
    let mut response = paginated(
        vec![],
        found.keys,
        &state.node.urls.api("/api/v2/notifications"),
        &query_pairs(&uri),
    );
    // The Link header of a page, around the grouped document.
    let headers = std::mem::take(response.headers_mut());
    let mut out = axum::response::IntoResponse::into_response(Json(body));
    if let Some(link) = headers.get(axum::http::header::LINK) {
        out.headers_mut()
            .insert(axum::http::header::LINK, link.clone());
    }
    Ok(out)
}

pub async fn group(
    State(state): State<AppState>,
    auth: Auth,
    Path(key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:notifications")?;
    let found = notifications::group_of(&state.node, me, &key).await?;
    Ok(Json(mastodon::grouped_notifications(
        &found,
        &state.node.urls,
    )))
}

pub async fn group_accounts(
    State(state): State<AppState>,
    auth: Auth,
    Path(key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:notifications")?;
    let found = notifications::group_accounts(&state.node, me, &key).await?;
    Ok(Json(Value::Array(mastodon::accounts(
        &found,
        &state.node.urls,
    ))))
}

pub async fn dismiss_group(
    State(state): State<AppState>,
    auth: Auth,
    Path(key): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:notifications")?;
    notifications::dismiss_group(&state.node, me, &key).await?;
    Ok(Json(json!({})))
}

#[derive(Deserialize, Default)]
pub struct UnreadQuery {
    #[serde(flatten)]
    list: ListQuery,
}

/// `GET /api/v{1,2}/notifications/unread_count`: after the `notifications` read marker.
pub async fn unread_count(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<UnreadQuery>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:notifications")?;
    let limit = match q.list.page.limit.as_deref() {
        Some(l) => l
            .parse::<i64>()
            .map_err(|_| ApiError::bad_request("limit must be a number"))?,
        None => 100,
    }
    .clamp(1, 1000);
    let query = domain_query(q.list)?;
    let count = notifications::unread_count(&state.node, me, &query, limit).await?;
    Ok(Json(json!({ "count": count })))
}
