//! The one error type of the HTTP layer, rendered as Mastodon does: `{"error": "..."}`.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::domain::DomainError;
use crate::store::StoreError;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "Record not found")
    }
    pub fn unprocessable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }
    /// Logs the cause and tells the client only that it was our fault.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_client_error() {
            tracing::info!(status = self.status.as_u16(), reason = %self.message, "request refused");
        }
        let mut response =
            (self.status, axum::Json(json!({"error": self.message}))).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => {
                ApiError::unprocessable(format!("Validation failed: {what} already exists"))
            }
            StoreError::Connect(_) => {
                tracing::error!(error = %e, "database unavailable");
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "Database unavailable")
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::Invalid(m) | DomainError::Unavailable(m) => {
                ApiError::unprocessable(format!("Validation failed: {m}"))
            }
            DomainError::NotFound(_) => ApiError::not_found(),
            DomainError::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, m),
            DomainError::Conflict(m) => ApiError::unprocessable(format!("Validation failed: {m}")),
            DomainError::Store(s) => s.into(),
            DomainError::Internal(m) => ApiError::internal(m),
            // Only the inbox asks for deferral, and it queues instead of answering with it.
            e @ DomainError::Deferred(_) => ApiError::internal(e.to_string()),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        let status = match &r {
            JsonRejection::JsonDataError(_) => StatusCode::UNPROCESSABLE_ENTITY,
            JsonRejection::MissingJsonContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            // Includes bodies over the size limit (413) and syntax errors (400).
            other => other.status(),
        };
        ApiError::new(status, r.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::bad_request(r.body_text())
    }
}

/// Marks an error response whose body is a page of ours for people (the OAuth login pages),
/// which [`json_errors`] leaves as it is.
#[derive(Debug, Clone, Copy)]
pub struct HumanPage;

/// Gives responses that left a layer or the router without a body of ours (404 from the
/// fallback, 405, 413 from the body limit, panics) the Mastodon error shape.
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    if response.extensions().get::<HumanPage>().is_some() {
        return response;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    if is_json {
        return response;
    }
    let message = match status {
        StatusCode::NOT_FOUND => "Record not found".to_string(),
        StatusCode::PAYLOAD_TOO_LARGE => "Request body is too large".to_string(),
        s => s.canonical_reason().unwrap_or("Error").to_string(),
    };
    let mut json = ApiError::new(status, message).into_response();
    if let Some(allow) = response.headers().get(header::ALLOW) {
        json.headers_mut().insert(header::ALLOW, allow.clone());
    }
    json
}
