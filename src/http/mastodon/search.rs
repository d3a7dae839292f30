//! Search v2: accounts, statuses, hashtags.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::{flex_bool, flex_id, Auth, Query};
use crate::convert::mastodon;
use crate::domain::search;
use crate::http::{ApiError, AppState};

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "flex_bool")]
    resolve: Option<bool>,
    #[serde(default, deserialize_with = "flex_id")]
    limit: Option<String>,
    #[serde(default, deserialize_with = "flex_id")]
    offset: Option<String>,
}

pub async fn v2(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<SearchQuery>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:search")?;
    let limit = q
        .limit
        .as_deref()
        .and_then(|l| l.parse::<i64>().ok())
        .unwrap_or(20)
        .clamp(1, 40);
    let offset = q
        .offset
        .as_deref()
        .and_then(|o| o.parse::<i64>().ok())
        .unwrap_or(0)
        .max(0);
    let resolve = q.resolve.unwrap_or(false);
    let wants = |k: &str| q.kind.as_deref().is_none_or(|t| t.is_empty() || t == k);
    let query = q.q.trim();
    let mut result = json!({"accounts": [], "statuses": [], "hashtags": []});
    if query.is_empty() {
        return Ok(Json(result));
    }
    if wants("accounts") {
        let views = search::accounts(&state.node, query, limit, offset, resolve).await?;
        result["accounts"] = Value::Array(mastodon::accounts(&views, &state.node.urls));
    }
    if wants("statuses") {
        let views = search::statuses(&state.node, me, query, limit, offset, resolve).await?;
        result["statuses"] = Value::Array(mastodon::statuses(&views, &state.node.urls));
    }
    if wants("hashtags") {
        let tags = search::hashtags(&state.node, query, limit).await?;
        result["hashtags"] = Value::Array(
            tags.iter()
                .map(|display| mastodon::tag(display, &state.node.urls))
                .collect(),
        );
    }
    Ok(Json(result))
}
