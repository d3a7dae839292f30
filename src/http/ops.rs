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
    let schema = crate::domain::instance::schema(&state.node)
        .await
        .map_err(|e| unavailable(format!("database unavailable: {e}")))?;
    if !schema.is_current() {
        return Err(unavailable(format!(
            "database schema is at {:?}, expected {}",
            schema.applied, schema.expected
        )));
    }
    Ok(Json(json!({"status": "ready", "schema": schema.expected})))
}
