//! `/api/v1/scheduled_statuses`: list, get, move (`scheduled_at`), cancel.

use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::{parse_id, Auth, Body, Query};
use super::{paginated, query_pairs, PageParams};
use crate::convert::mastodon;
use crate::domain::scheduled;
use crate::http::{ApiError, AppState};

pub async fn list(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Query(q): Query<PageParams>,
) -> Result<Response, ApiError> {
    let me = auth.user("read:statuses")?;
    let page = q.page(20, 40)?;
    let views = scheduled::list(&state.node, me, &page).await?;
    let keys = views
        .first()
        .zip(views.last())
        .map(|(a, b)| (a.row.id, b.row.id));
    let items = views
        .iter()
        .map(|v| mastodon::scheduled_status(v, &state.node.urls))
        .collect();
    let url = state.node.urls.api("/api/v1/scheduled_statuses");
    Ok(paginated(items, keys, &url, &query_pairs(&uri)))
}

pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:statuses")?;
    let view = scheduled::get(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(mastodon::scheduled_status(&view, &state.node.urls)))
}

#[derive(Deserialize, Default)]
pub struct MoveForm {
    scheduled_at: Option<String>,
}

pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Body(form): Body<MoveForm>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:statuses")?;
    let at = form
        .scheduled_at
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ApiError::unprocessable("Validation failed: scheduled_at is missing"))?;
    let view = scheduled::reschedule(&state.node, me, parse_id(&id)?, &at).await?;
    Ok(Json(mastodon::scheduled_status(&view, &state.node.urls)))
}

pub async fn cancel(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:statuses")?;
    scheduled::cancel(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(json!({})))
}
