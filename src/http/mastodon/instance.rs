//! What apps read about the node before and after logging in.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::extract::{Auth, Body, Query};
use crate::domain::media::SUPPORTED_TYPES;
use crate::domain::statuses::{MAX_CHARACTERS, MAX_MEDIA};
use crate::http::{ApiError, AppState};

fn version() -> String {
    format!(
        "{} (compatible; fika {})",
        fika_federation::nodeinfo::MASTODON_COMPAT_VERSION,
        env!("CARGO_PKG_VERSION")
    )
}

fn streaming_base(state: &AppState) -> String {
    let base = state.node.urls.api("");
    match base.strip_prefix("https://") {
        Some(rest) => format!("wss://{rest}"),
        None => format!("ws://{}", base.trim_start_matches("http://")),
    }
}

fn configuration(state: &AppState) -> Value {
    json!({
        "urls": {"streaming": streaming_base(state), "status": null},
        "vapid": {"public_key": ""},
        "accounts": {"max_featured_tags": 0, "max_pinned_statuses": 0},
        "statuses": {
            "max_characters": MAX_CHARACTERS,
            "max_media_attachments": MAX_MEDIA,
            "characters_reserved_per_url": 23,
            // Department-only statuses: accepted as `local_only` or `visibility: "local"`;
            // what a status without either gets.
            "local_only": true,
            "default_local_only": state.node.config.statuses.default_local_only,
        },
        "media_attachments": {
            "supported_mime_types": SUPPORTED_TYPES,
            "description_limit": 1500,
            "image_size_limit": state.node.config.media.max_image_bytes,
            "image_matrix_limit": crate::domain::media::MAX_PIXELS,
            "video_size_limit": 0,
            "video_frame_rate_limit": 0,
            "video_matrix_limit": 0,
        },
        "polls": {
            "max_options": 0,
            "max_characters_per_option": 0,
            "min_expiration": 0,
            "max_expiration": 0,
        },
        "translation": {"enabled": false},
        "timelines_access": {
            "live_feeds": {"local": "authenticated", "remote": "authenticated"},
            "hashtag_feeds": {"local": "authenticated", "remote": "authenticated"},
            "trending_link_feeds": {"local": "disabled", "remote": "disabled"},
        },
        "limited_federation": true,
    })
}

async fn contact_account(state: &AppState) -> Result<Value, ApiError> {
    match state.node.store.first_admin().await? {
        Some(a) => Ok(crate::domain::accounts::views(&state.node, &[a.id])
            .await?
            .pop()
            .map(|a| crate::convert::mastodon::account_view(&a, &state.node.urls))
            .unwrap_or(Value::Null)),
        None => Ok(Value::Null),
    }
}

/// Open to every caller (also in allowlist mode): apps read it before they can log in.
pub async fn v2(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let urls = &state.node.urls;
    let users = state.node.store.count_local_accounts().await?;
    Ok(Json(json!({
        "domain": urls.domain,
        "title": state.node.config.server.node_name,
        "version": version(),
        "source_url": urls.api("/"),
        "description": "A fika node: the internal social network of this organisation.",
        "usage": {"users": {"active_month": users}},
        "thumbnail": {"url": urls.api("/static/header.png"), "blurhash": null, "versions": {}},
        "icon": [],
        "languages": ["en"],
        "configuration": configuration(&state),
        "registrations": {"enabled": false, "approval_required": true, "message": null, "url": null},
        "api_versions": {"mastodon": 1},
        "contact": {"email": "", "account": contact_account(&state).await?},
        "rules": [],
    })))
}

pub async fn v1(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let urls = &state.node.urls;
    let users = state.node.store.count_local_accounts().await?;
    let mut config = configuration(&state);
    if let Some(c) = config.as_object_mut() {
        c.remove("urls");
    }
    Ok(Json(json!({
        "uri": urls.domain,
        "title": state.node.config.server.node_name,
        "short_description": "A fika node: the internal social network of this organisation.",
        "description": "A fika node: the internal social network of this organisation.",
        "email": "",
        "version": version(),
        "urls": {"streaming_api": streaming_base(&state)},
        "stats": {"user_count": users, "status_count": 0, "domain_count": 0},
        "thumbnail": urls.api("/static/header.png"),
        "languages": ["en"],
        "registrations": false,
        "approval_required": true,
        "invites_enabled": false,
        "configuration": config,
        "contact_account": contact_account(&state).await?,
        "rules": [],
    })))
}

pub async fn custom_emojis() -> Json<Value> {
    Json(json!([]))
}

pub async fn empty_list() -> Json<Value> {
    Json(json!([]))
}

pub async fn preferences(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:accounts")?;
    Ok(Json(json!({
        "posting:default:visibility": me.default_privacy,
        // The node's default for apps that send no `local_only` (no per-user setting yet).
        "posting:default:local_only": state.node.config.statuses.default_local_only,
        "posting:default:sensitive": me.default_sensitive,
        "posting:default:language": me.default_language,
        "reading:expand:media": "default",
        "reading:expand:spoilers": false,
    })))
}

#[derive(Deserialize)]
pub struct MarkerQuery {
    #[serde(default, rename = "timeline[]", alias = "timeline")]
    timeline: Vec<String>,
}

pub async fn get_markers(
    State(state): State<AppState>,
    auth: Auth,
    Query(q): Query<MarkerQuery>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:statuses")?;
    let mut out = Map::new();
    for m in state.node.store.markers(me.id).await? {
        if q.timeline.is_empty() || q.timeline.contains(&m.timeline) {
            out.insert(
                m.timeline.clone(),
                json!({
                    "last_read_id": m.last_read_id,
                    "version": m.version,
                    "updated_at": crate::convert::rfc3339_millis(m.updated_at),
                }),
            );
        }
    }
    Ok(Json(Value::Object(out)))
}

/// `home[last_read_id]=…` as a form, or `{"home": {"last_read_id": …}}` as JSON.
#[derive(Deserialize, Default)]
pub struct MarkerForm {
    #[serde(default, rename = "home[last_read_id]")]
    home_flat: Option<String>,
    #[serde(default, rename = "notifications[last_read_id]")]
    notifications_flat: Option<String>,
    home: Option<MarkerValue>,
    notifications: Option<MarkerValue>,
}

#[derive(Deserialize, Default)]
pub struct MarkerValue {
    #[serde(default, deserialize_with = "super::extract::flex_id")]
    last_read_id: Option<String>,
}

pub async fn set_markers(
    State(state): State<AppState>,
    auth: Auth,
    Body(form): Body<MarkerForm>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:statuses")?.clone();
    let home = form.home_flat.or(form.home.and_then(|m| m.last_read_id));
    let notifications = form
        .notifications_flat
        .or(form.notifications.and_then(|m| m.last_read_id));
    for (timeline, value) in [("home", home), ("notifications", notifications)] {
        if let Some(v) = value {
            state.node.store.set_marker(me.id, timeline, &v).await?;
        }
    }
    get_markers(State(state), auth, Query(MarkerQuery { timeline: vec![] })).await
}
