//! Conversations: `/api/v1/conversations`, read, and removal from the list.

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use axum::Json;
use serde_json::{json, Value};

use super::extract::{parse_id, Auth, Query};
use super::PageParams;
use crate::convert::mastodon;
use crate::domain::conversations;
use crate::http::{ApiError, AppState};

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(q): Query<PageParams>,
) -> Result<Response, ApiError> {
    let me = auth.user("read:statuses")?;
    let (views, keys) = conversations::list(&state.node, me, &q.page(20, 40)?).await?;
    let items = views
        .iter()
        .map(|c| mastodon::conversation_entity(c, &state.node.urls))
        .collect();
    let url = state.node.urls.api("/api/v1/conversations");
    Ok(super::paginated(
        items,
        keys,
        &url,
        &super::query_pairs(&uri),
    ))
}

pub async fn read(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:conversations")?;
    let view = conversations::read(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(mastodon::conversation_entity(&view, &state.node.urls)))
}

pub async fn remove(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:conversations")?;
    conversations::remove(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(json!({})))
}
