//! Endpoints for sysadmins' monitors.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use super::{ApiError, AppState};

/// The process is up and answering.
pub async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// The database answers and carries the schema this binary expects.
pub async fn ready(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let unavailable = |why: String| {
        tracing::warn!(reason = %why, "not ready");
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, why)
    };
    let applied = state
        .node
        .store
        .applied_migration()
        .await
        .map_err(|e| unavailable(format!("database unavailable: {e}")))?;
    let expected = state.node.store.latest_known_migration();
    if applied != Some(expected) {
        return Err(unavailable(format!(
            "database schema is at {applied:?}, expected {expected}"
        )));
    }
    Ok(Json(json!({"status": "ready", "schema": expected})))
}
