//! HTTP: handlers parse, authenticate, call the domain, serialise. Nothing else lives here.

pub mod activitypub;
pub mod discovery;
pub mod error;
pub mod ops;
pub mod pages;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, Method};
use axum::routing::get;
use axum::Router;
use fika_federation::policy::ReadPolicy;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;

use crate::config::Config;
use crate::convert::NodeUrls;
use crate::store::Store;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub urls: Arc<NodeUrls>,
    /// Who may read our AS2 objects; see `fika_federation::policy`.
    pub read_policy: ReadPolicy,
}

pub fn router(state: AppState) -> Router {
    let max_body = state.config.server.max_body_bytes;
    // Web clients run on other origins and authenticate with bearer tokens, never cookies, so
    // any origin may call; they need Link and the rate-limit headers to paginate and back off.
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers(Any)
        .expose_headers([
            header::LINK,
            HeaderName::from_static("x-ratelimit-limit"),
            HeaderName::from_static("x-ratelimit-remaining"),
            HeaderName::from_static("x-ratelimit-reset"),
            HeaderName::from_static("x-request-id"),
        ])
        .max_age(Duration::from_secs(3600));

    Router::new()
        .route("/", get(pages::landing))
        .route("/health", get(ops::health))
        .route("/ready", get(ops::ready))
        .route("/.well-known/webfinger", get(discovery::webfinger))
        .route("/.well-known/host-meta", get(discovery::host_meta))
        .route(
            "/.well-known/host-meta.json",
            get(discovery::host_meta_json),
        )
        .route("/.well-known/nodeinfo", get(discovery::nodeinfo_links))
        .route("/nodeinfo/{version}", get(discovery::nodeinfo))
        .route("/users/{username}", get(activitypub::actor))
        .route("/{profile}", get(pages::profile))
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
            )
        })
        .with_state(state)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(RequestBodyLimitLayer::new(max_body))
        .layer(CatchPanicLayer::new())
        // Outside the limit and panic layers, so their plain responses get our JSON shape too.
        .layer(axum::middleware::map_response(error::json_errors))
        .layer(cors)
        .layer(TraceLayer::new_for_http())
}
