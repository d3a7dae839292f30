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
    let query = notifications::ListQuery {
        account: q.account_id.as_deref().map(parse_id).transpose()?,
        types: q.types,
        exclude_types: q.exclude_types,
    };
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
