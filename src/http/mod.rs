//! HTTP: handlers parse, authenticate, call the domain, serialise. Nothing else lives here.

pub mod activitypub;
pub mod console;
pub mod discovery;
pub mod error;
pub mod mastodon;
pub mod metrics;
pub mod ops;
pub mod pages;
pub mod ratelimit;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, Method};
use axum::routing::{get, post};
use axum::Router;
use fika_federation::policy::ReadPolicy;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{Any, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;

use crate::domain::Node;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub node: Node,
    /// Who may read our AS2 objects; see `fika_federation::policy`.
    pub read_policy: ReadPolicy,
    pub rate_limiter: Arc<ratelimit::RateLimiter>,
    pub metrics: Arc<metrics::Metrics>,
}

/// The address of the client behind a request: the TCP peer, or, when that is a trusted
/// reverse proxy, the address it appended to `X-Forwarded-For`.
pub fn client_ip(state: &AppState, request: &axum::extract::Request) -> Option<std::net::IpAddr> {
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()?
        .0
        .ip();
    Some(client_ip_of(state, peer, request.headers()))
}

/// [`client_ip`] from the TCP peer and the request's headers.
pub fn client_ip_of(
    state: &AppState,
    peer: std::net::IpAddr,
    headers: &axum::http::HeaderMap,
) -> std::net::IpAddr {
    let trusted = state
        .node
        .config
        .server
        .trusted_proxies
        .iter()
        .any(|cidr| metrics::cidr_contains(cidr, peer));
    if !trusted {
        return peer;
    }
    // The proxy appends the address it saw last; anything before it is the client's claim.
    headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .and_then(|a| a.trim().parse().ok())
        .unwrap_or(peer)
}

/// The Mastodon client API and OAuth endpoints (rate-limited).
fn client_api(state: &AppState) -> Router<AppState> {
    use mastodon::*;
    let upload_limit = state.node.config.media.max_image_bytes + 256 * 1024;
    let uploads = Router::new()
        .route("/api/v1/media", post(media::upload))
        .route("/api/v2/media", post(media::upload))
        .route(
            "/api/v1/accounts/update_credentials",
            axum::routing::patch(accounts::update_credentials),
        )
        .layer(DefaultBodyLimit::max(upload_limit));
    Router::new()
        .route("/api/v1/apps", post(oauth::create_app))
        .route("/api/v1/apps/verify_credentials", get(oauth::verify_app))
        .route(
            "/oauth/authorize",
            get(oauth::authorize_page).post(oauth::authorize_submit),
        )
        .route("/oauth/oidc/start", post(oauth::oidc_start))
        .route("/oauth/oidc/callback", get(oauth::oidc_callback))
        .route("/oauth/token", post(oauth::token))
        .route("/oauth/revoke", post(oauth::revoke))
        .route("/api/v1/instance", get(instance::v1))
        .route("/api/v2/instance", get(instance::v2))
        .route("/api/v1/instance/rules", get(instance::rules))
        .route(
            "/api/v1/instance/extended_description",
            get(instance::extended_description),
        )
        .route(
            "/api/v1/instance/privacy_policy",
            get(instance::privacy_policy),
        )
        .route("/api/v1/instance/peers", get(instance::peers))
        .route("/api/v1/instance/activity", get(instance::activity))
        .route("/api/v1/instance/languages", get(instance::languages))
        .route("/api/v1/custom_emojis", get(instance::custom_emojis))
        .route("/api/v1/preferences", get(instance::preferences))
        .route(
            "/api/v1/markers",
            get(instance::get_markers).post(instance::set_markers),
        )
        .route(
            "/api/v1/accounts/verify_credentials",
            get(accounts::verify_credentials),
        )
        .route("/api/v1/accounts/lookup", get(accounts::lookup))
        .route(
            "/api/v1/accounts/familiar_followers",
            get(tags::familiar_followers),
        )
        .route("/api/v1/tags/{name}", get(tags::get))
        .route("/api/v1/tags/{name}/follow", post(tags::follow))
        .route("/api/v1/tags/{name}/unfollow", post(tags::unfollow))
        .route("/api/v1/followed_tags", get(tags::followed))
        .route("/api/v1/accounts/search", get(accounts::search))
        .route(
            "/api/v1/accounts/relationships",
            get(accounts::relationships),
        )
        .route("/api/v1/accounts/{id}", get(accounts::get))
        .route(
            "/api/v1/accounts/{id}/featured_tags",
            get(directory::of_account),
        )
        .route("/api/v1/accounts/{id}/statuses", get(accounts::statuses))
        .route("/api/v1/accounts/{id}/followers", get(accounts::followers))
        .route("/api/v1/accounts/{id}/following", get(accounts::following))
        .route("/api/v1/accounts/{id}/lists", get(lists::of_account))
        .route("/api/v1/accounts/{id}/follow", post(accounts::follow))
        .route("/api/v1/accounts/{id}/unfollow", post(accounts::unfollow))
        .route("/api/v1/accounts/{id}/pin", post(accounts::pin))
        .route("/api/v1/accounts/{id}/unpin", post(accounts::unpin))
        .route("/api/v1/accounts/{id}/block", post(blocks::block))
        .route("/api/v1/accounts/{id}/unblock", post(blocks::unblock))
        .route("/api/v1/accounts/{id}/mute", post(blocks::mute))
        .route("/api/v1/accounts/{id}/unmute", post(blocks::unmute))
        .route("/api/v1/blocks", get(blocks::list_blocks))
        .route("/api/v1/mutes", get(blocks::list_mutes))
        .route(
            "/api/v1/domain_blocks",
            get(blocks::list_domain_blocks)
                .post(blocks::block_domain)
                .delete(blocks::unblock_domain),
        )
        .route("/api/v1/endorsements", get(accounts::endorsements))
        .route("/api/v1/suggestions", get(accounts::suggestions_v1))
        .route(
            "/api/v1/suggestions/{id}",
            axum::routing::delete(accounts::dismiss_suggestion),
        )
        .route("/api/v2/suggestions", get(accounts::suggestions_v2))
        .route("/api/v1/follow_requests", get(accounts::follow_requests))
        .route(
            "/api/v1/follow_requests/{id}/authorize",
            post(accounts::authorize_request),
        )
        .route(
            "/api/v1/follow_requests/{id}/reject",
            post(accounts::reject_request),
        )
        .route(
            "/api/v1/statuses",
            post(statuses::create).get(statuses::get_many),
        )
        .route(
            "/api/v1/statuses/{id}",
            get(statuses::get)
                .delete(statuses::delete)
                .put(statuses::edit),
        )
        .route("/api/v1/statuses/{id}/context", get(statuses::context))
        .route("/api/v1/statuses/{id}/history", get(statuses::history))
        .route("/api/v1/statuses/{id}/source", get(statuses::source))
        .route("/api/v1/statuses/{id}/favourite", post(statuses::favourite))
        .route(
            "/api/v1/statuses/{id}/unfavourite",
            post(statuses::unfavourite),
        )
        .route("/api/v1/statuses/{id}/reblog", post(statuses::reblog))
        .route("/api/v1/statuses/{id}/unreblog", post(statuses::unreblog))
        .route(
            "/api/v1/push/subscription",
            get(push::get)
                .post(push::create)
                .put(push::update)
                .delete(push::delete),
        )
        .route("/api/v1/scheduled_statuses", get(scheduled::list))
        .route(
            "/api/v1/scheduled_statuses/{id}",
            get(scheduled::get)
                .put(scheduled::update)
                .delete(scheduled::cancel),
        )
        .route("/api/v1/statuses/{id}/pin", post(statuses::pin))
        .route("/api/v1/statuses/{id}/mute", post(statuses::mute))
        .route("/api/v1/statuses/{id}/unmute", post(statuses::unmute))
        .route("/api/v1/polls/{id}", get(statuses::poll))
        .route("/api/v1/polls/{id}/votes", post(statuses::vote))
        .route("/api/v1/statuses/{id}/unpin", post(statuses::unpin))
        .route("/api/v1/statuses/{id}/bookmark", post(statuses::bookmark))
        .route(
            "/api/v1/statuses/{id}/unbookmark",
            post(statuses::unbookmark),
        )
        .route(
            "/api/v1/statuses/{id}/favourited_by",
            get(statuses::favourited_by),
        )
        .route(
            "/api/v1/statuses/{id}/reblogged_by",
            get(statuses::reblogged_by),
        )
        .route("/api/v1/timelines/home", get(timelines::home))
        .route("/api/v1/timelines/public", get(timelines::public))
        .route("/api/v1/timelines/tag/{tag}", get(timelines::tag))
        .route("/api/v1/timelines/list/{id}", get(timelines::list_timeline))
        .route("/api/v2/filters", get(filters::list).post(filters::create))
        .route(
            "/api/v2/filters/{id}",
            get(filters::get)
                .put(filters::update)
                .delete(filters::delete),
        )
        .route(
            "/api/v2/filters/{id}/keywords",
            get(filters::keywords_of).post(filters::add_keyword),
        )
        .route(
            "/api/v2/filters/keywords/{id}",
            get(filters::keyword)
                .put(filters::update_keyword)
                .delete(filters::delete_keyword),
        )
        .route(
            "/api/v2/filters/{id}/statuses",
            get(filters::statuses_of).post(filters::add_status),
        )
        .route(
            "/api/v2/filters/statuses/{id}",
            get(filters::status).delete(filters::delete_status),
        )
        .route(
            "/api/v1/filters",
            get(filters::list_v1).post(filters::create_v1),
        )
        .route(
            "/api/v1/filters/{id}",
            get(filters::get_v1)
                .put(filters::update_v1)
                .delete(filters::delete_v1),
        )
        .route("/api/v1/lists", get(lists::all).post(lists::create))
        .route(
            "/api/v1/lists/{id}",
            get(lists::get).put(lists::update).delete(lists::delete),
        )
        .route(
            "/api/v1/lists/{id}/accounts",
            get(lists::members)
                .post(lists::add_members)
                .delete(lists::remove_members),
        )
        .route("/api/v1/bookmarks", get(timelines::bookmarks))
        .route("/api/v1/favourites", get(timelines::favourites))
        .route("/api/v1/notifications", get(notifications::list))
        .route(
            "/api/v1/notifications/unread_count",
            get(notifications::unread_count),
        )
        .route("/api/v2/notifications", get(notifications::grouped))
        .route(
            "/api/v2/notifications/unread_count",
            get(notifications::unread_count),
        )
        .route("/api/v2/notifications/{key}", get(notifications::group))
        .route(
            "/api/v2/notifications/{key}/accounts",
            get(notifications::group_accounts),
        )
        .route(
            "/api/v2/notifications/{key}/dismiss",
            post(notifications::dismiss_group),
        )
        .route("/api/v1/notifications/clear", post(notifications::clear))
        .route(
            "/api/v2/notifications/policy",
            get(notification_requests::policy).patch(notification_requests::change_policy),
        )
        .route(
            "/api/v1/notifications/policy",
            get(notification_requests::policy_v1).put(notification_requests::change_policy_v1),
        )
        .route(
            "/api/v1/notifications/requests",
            get(notification_requests::list),
        )
        .route(
            "/api/v1/notifications/requests/merged",
            get(notification_requests::merged),
        )
        .route(
            "/api/v1/notifications/requests/accept",
            post(notification_requests::accept_many),
        )
        .route(
            "/api/v1/notifications/requests/dismiss",
            post(notification_requests::dismiss_many),
        )
        .route(
            "/api/v1/notifications/requests/{id}",
            get(notification_requests::get),
        )
        .route(
            "/api/v1/notifications/requests/{id}/accept",
            post(notification_requests::accept),
        )
        .route(
            "/api/v1/notifications/requests/{id}/dismiss",
            post(notification_requests::dismiss),
        )
        .route("/api/v1/notifications/{id}", get(notifications::get))
        .route(
            "/api/v1/notifications/{id}/dismiss",
            post(notifications::dismiss),
        )
        .route("/api/v2/search", get(search::v2))
        .route(
            "/api/v1/featured_tags",
            get(directory::list).post(directory::create),
        )
        .route(
            "/api/v1/featured_tags/suggestions",
            get(directory::suggestions),
        )
        .route(
            "/api/v1/featured_tags/{id}",
            axum::routing::delete(directory::delete),
        )
        .route("/api/v1/directory", get(directory::directory))
        .route("/api/v1/groups", get(groups::list).post(groups::create))
        .route(
            "/api/v1/groups/{id}",
            get(groups::get)
                .patch(groups::update)
                .delete(groups::delete),
        )
        .route(
            "/api/v1/groups/{id}/moderators/{account}",
            post(groups::add_moderator).delete(groups::remove_moderator),
        )
        .route("/api/v1/groups/{id}/requests", get(groups::requests))
        .route(
            "/api/v1/groups/{id}/requests/{account}/authorize",
            post(groups::authorize),
        )
        .route(
            "/api/v1/groups/{id}/requests/{account}/reject",
            post(groups::reject),
        )
        .route("/api/v1/groups/{id}/members", get(groups::members))
        .route(
            "/api/v1/groups/{id}/members/{account}/remove",
            post(groups::remove_member),
        )
        .route(
            "/api/v1/groups/{id}/statuses/{status}",
            axum::routing::delete(groups::remove_post),
        )
        .route("/api/v1/media/{id}", get(media::get).put(media::update))
        .route("/api/v1/streaming", get(streaming::websocket))
        .route("/api/v1/streaming/health", get(streaming::health))
        .route("/api/v1/streaming/{*stream}", get(streaming::sse))
        .route(
            "/api/v1/admin/domain_allows",
            get(admin::list_allows).post(admin::create_allow),
        )
        .route(
            "/api/v1/admin/domain_allows/{id}",
            get(admin::get_allow)
                .put(admin::update_allow)
                .delete(admin::delete_allow),
        )
        .route(
            "/api/v1/admin/domain_blocks",
            get(admin::list_blocks).post(admin::create_block),
        )
        .route(
            "/api/v1/admin/domain_blocks/{id}",
            get(admin::get_block).delete(admin::delete_block),
        )
        .route("/api/v1/admin/federation/audit", get(admin::audit))
        .route("/api/v1/reports", post(reports::create))
        .route("/api/v1/conversations", get(conversations::list))
        .route(
            "/api/v1/conversations/{id}",
            axum::routing::delete(conversations::remove),
        )
        .route("/api/v1/conversations/{id}/read", post(conversations::read))
        .route("/api/v1/admin/reports", get(reports::admin_list))
        .route(
            "/api/v1/admin/reports/{id}",
            get(reports::admin_get).put(reports::admin_update),
        )
        .route(
            "/api/v1/admin/reports/{id}/assign_to_self",
            post(reports::assign_to_self),
        )
        .route(
            "/api/v1/admin/reports/{id}/unassign",
            post(reports::unassign),
        )
        .route("/api/v1/admin/reports/{id}/resolve", post(reports::resolve))
        .route("/api/v1/admin/reports/{id}/reopen", post(reports::reopen))
        .route("/api/v1/admin/accounts", get(reports::admin_accounts))
        .route("/api/v2/admin/accounts", get(reports::admin_accounts))
        .route("/api/v1/admin/accounts/{id}", get(reports::admin_account))
        .route("/api/v1/admin/accounts/{id}/action", post(reports::action))
        .route("/api/v1/admin/accounts/{id}/enable", post(reports::enable))
        .route(
            "/api/v1/admin/accounts/{id}/unsilence",
            post(reports::unsilence),
        )
        .route(
            "/api/v1/admin/accounts/{id}/unsuspend",
            post(reports::unsuspend),
        )
        .route(
            "/api/v1/admin/accounts/{id}/unsensitive",
            post(reports::unsensitive),
        )
        .route(
            "/api/v1/admin/accounts/{id}/approve",
            post(reports::approve_or_reject),
        )
        .route(
            "/api/v1/admin/accounts/{id}/reject",
            post(reports::approve_or_reject),
        )
        .route("/api/v1/admin/insights", get(dashboard::insights))
        .route("/api/v1/admin/measures", post(dashboard::measures))
        .route("/api/v1/admin/dimensions", post(dashboard::dimensions))
        .route("/api/v1/admin/retention", post(dashboard::retention))
        .route("/api/v1/admin/trends/tags", get(dashboard::trending_tags))
        .route(
            "/api/v1/admin/trends/statuses",
            get(dashboard::trending_statuses),
        )
        .route("/api/v1/admin/trends/links", get(dashboard::trending_links))
        .route("/api/v1/trends/tags", get(instance::empty_list))
        .route("/api/v1/trends/statuses", get(instance::empty_list))
        .route("/api/v1/announcements", get(announcements::list))
        .route(
            "/api/v1/announcements/{id}/dismiss",
            post(announcements::dismiss),
        )
        .route(
            "/api/v1/announcements/{id}/reactions/{name}",
            axum::routing::put(announcements::add_reaction).delete(announcements::remove_reaction),
        )
        .route(
            "/api/v1/admin/announcements",
            get(announcements::admin_list).post(announcements::admin_create),
        )
        .route(
            "/api/v1/admin/announcements/{id}",
            get(announcements::admin_get)
                .put(announcements::admin_update)
                .delete(announcements::admin_withdraw),
        )
        .route(
            "/api/v1/admin/announcements/{id}/remind",
            post(announcements::admin_remind),
        )
        .merge(uploads)
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            ratelimit::limit,
        ))
}

pub fn router(state: AppState) -> Router {
    let max_body = state.node.config.server.max_body_bytes;
    let transport_limit = max_body.max(state.node.config.media.max_image_bytes + 256 * 1024);
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
        // Named, not `*`: by the Fetch standard `*` does not cover `Authorization`, which every
        // authenticated call of a web client sends. The preflight's own list is answered.
        .allow_headers(tower_http::cors::AllowHeaders::mirror_request())
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
        .route("/metrics", get(metrics::serve))
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
        .route("/users/{username}/statuses/{id}", get(activitypub::status))
        .route(
            "/users/{username}/statuses/{id}/activity",
            get(activitypub::group_announce),
        )
        .route(
            "/users/{username}/{collection}",
            get(activitypub::collection),
        )
        .route(
            "/users/{username}/collections/featured",
            get(activitypub::featured),
        )
        .route("/users/{username}/inbox", post(activitypub::inbox))
        .route("/inbox", post(activitypub::inbox))
        .route("/actor", get(activitypub::node_actor))
        .route("/actor/outbox", get(activitypub::node_outbox))
        .route("/{profile}", get(pages::profile))
        .route(
            "/.well-known/oauth-authorization-server",
            get(mastodon::oauth::server_metadata),
        )
        .route("/media/{name}", get(mastodon::media::file))
        .route("/static/{name}", get(mastodon::media::default_image))
        .merge(client_api(&state))
        .merge(console::routes())
        .fallback(|| async { ApiError::not_found() })
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                axum::http::StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
            )
        })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::record,
        ))
        .with_state(state)
        .layer(DefaultBodyLimit::max(max_body))
        // The transport limit admits uploads; each route's extractor limit is the real one.
        .layer(RequestBodyLimitLayer::new(transport_limit))
        .layer(CatchPanicLayer::new())
        // Outside the limit and panic layers, so their plain responses get our JSON shape too.
        .layer(axum::middleware::map_response(error::json_errors))
        .layer(cors)
        .layer(TraceLayer::new_for_http())
}
