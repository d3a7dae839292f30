//! The streaming API: one multiplexed WebSocket, and server-sent events per stream.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::broadcast::error::RecvError;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::StreamExt;

use super::extract::{authenticate, bearer_token, invalid_token, Query};
use crate::convert::mastodon;
use crate::domain::events::Event;
use crate::domain::{
    announcements, blocks, conversations, filters, lists, notifications, statuses,
};
use crate::http::{ApiError, AppState};
use crate::store::accounts::AccountRow;
use crate::store::hidden::Hiding;

/// A subscription: a stream name and, for hashtag and list streams, its parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    name: String,
    param: Option<String>,
}

const STREAMS: &[&str] = &[
    "user",
    "user:notification",
    "public",
    "public:local",
    "public:remote",
    "public:media",
    "public:local:media",
    "public:remote:media",
    "hashtag",
    "hashtag:local",
    "list",
    "direct",
];

/// Why a subscription is refused: (HTTP status, message), as Mastodon's streaming server says.
type Refusal = (StatusCode, String);

impl Stream {
    fn new(name: &str, tag: Option<&str>, list: Option<&str>) -> Result<Stream, String> {
        if !STREAMS.contains(&name) {
            return Err(format!("Unknown stream type {name:?}"));
        }
        let param = if name.starts_with("hashtag") {
            Some(
                tag.map(|t| t.trim_start_matches('#').to_lowercase())
                    .filter(|t| !t.is_empty())
                    .ok_or("No tag for hashtag stream")?,
            )
        } else if name == "list" {
            Some(
                list.map(str::trim)
                    .filter(|l| !l.is_empty())
                    .ok_or("No list for list stream")?
                    .to_string(),
            )
        } else {
            None
        };
        Ok(Stream {
            name: name.to_string(),
            param,
        })
    }

    /// A stream the viewer may open: a list stream only by the list's owner.
    async fn open(
        state: &AppState,
        viewer: &AccountRow,
        name: &str,
        tag: Option<&str>,
        list: Option<&str>,
    ) -> Result<Stream, Refusal> {
        let stream = Stream::new(name, tag, list).map_err(|e| (StatusCode::BAD_REQUEST, e))?;
        if let Some(id) = stream.list_id() {
            let allowed = match id {
                Some(id) => lists::may_stream(&state.node, viewer, id)
                    .await
                    .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?,
                None => false,
            };
            if !allowed {
                return Err((
                    StatusCode::UNAUTHORIZED,
                    "Not authorized to stream this list".into(),
                ));
            }
        }
        Ok(stream)
    }

    /// For a list stream, its list id (`None` inside when it names no list).
    fn list_id(&self) -> Option<Option<i64>> {
        (self.name == "list").then(|| self.param.as_deref().and_then(|p| p.parse().ok()))
    }

    /// The `stream` array of an event, as masto.js matches it.
    fn label(&self) -> Value {
        match &self.param {
            Some(p) => json!([self.name, p]),
            None => json!([self.name]),
        }
    }

    /// Does `event` belong on this stream for `viewer`?
    fn wants(&self, event: &Event, viewer: i64) -> bool {
        let audience = match event {
            Event::Notification { account_id, .. } => {
                return *account_id == viewer
                    && (self.name == "user" || self.name == "user:notification")
            }
            // Announcements are for every local member's `user` stream (a reminder: for some).
            Event::Announcement { to, .. } => {
                return self.name == "user" && to.as_ref().is_none_or(|t| t.contains(&viewer))
            }
            Event::AnnouncementReaction { .. } | Event::AnnouncementDelete { .. } => {
                return self.name == "user"
            }
            Event::FiltersChanged { account_id } => {
                return *account_id == viewer && self.name == "user"
            }
            Event::Status { audience, .. } | Event::Delete { audience, .. } => audience,
        };
        let media_ok = !self.name.ends_with(":media") || audience.with_media;
        match self.name.as_str() {
            // Which of those are in the list is asked in `render`.
            "user" | "list" => audience.home.contains(&viewer),
            "user:notification" => false,
            "public" | "public:media" => audience.public && media_ok,
            "public:local" | "public:local:media" => audience.local && media_ok,
            "public:remote" | "public:remote:media" => {
                audience.public && !audience.local && media_ok
            }
            "hashtag" => {
                audience.public
                    && self
                        .param
                        .as_ref()
                        .is_some_and(|t| audience.tags.contains(t))
            }
            "hashtag:local" => {
                audience.local
                    && self
                        .param
                        .as_ref()
                        .is_some_and(|t| audience.tags.contains(t))
            }
            "direct" => audience.direct.contains(&viewer),
            _ => false,
        }
    }
}

/// The payload of an event that has none.
const NO_PAYLOAD: &str = "undefined";

/// Renders an event for one viewer: (event name, payload string). `None` when the viewer may
/// not see it (the visibility rules decide, as everywhere).
async fn render(
    state: &AppState,
    viewer: &AccountRow,
    event: &Event,
    stream: &Stream,
) -> Option<(String, String)> {
    match event {
        Event::Status {
            status_id, edited, ..
        } => {
            // Members of an exclusive list stay out of home; a list stream has its own.
            let shown = match (stream.name.as_str(), stream.list_id()) {
                ("user", _) => !lists::hidden_from_home(&state.node, viewer, *status_id)
                    .await
                    .ok()?,
                (_, Some(Some(list))) => lists::streams(&state.node, viewer, list, *status_id)
                    .await
                    .ok()?,
                _ => true,
            };
            if !shown {
                return None;
            }
            // Filtered as the timeline the stream stands for is.
            let context = match stream.name.as_str() {
                "user" | "list" => Some(filters::Context::Home),
                "direct" => None,
                _ => Some(filters::Context::Public),
            };
            let view = match context {
                Some(c) => statuses::views_in(&state.node, viewer, &[*status_id], c).await,
                None => statuses::views(&state.node, Some(viewer), &[*status_id]).await,
            }
            .ok()?
            .pop()?;
            // Not from (nor boosting) someone the viewer blocks or mutes, as in timelines.
            let hidden = blocks::hidden(&state.node, viewer, Hiding::Statuses)
                .await
                .ok()?;
            if blocks::hides(&hidden, &view) {
                return None;
            }
            if stream.name == "direct" {
                // The viewer's conversation as the API lists it, when the status is in one.
                if let Some(c) = conversations::of_status(&state.node, viewer, *status_id)
                    .await
                    .ok()
                    .flatten()
                {
                    let entity = mastodon::conversation_entity(&c, &state.node.urls);
                    return Some(("conversation".into(), entity.to_string()));
                }
                let conversation = mastodon::conversation(&view, viewer.id, &state.node.urls);
                return Some(("conversation".into(), conversation.to_string()));
            }
            let status = mastodon::status(&view, &state.node.urls);
            let name = if *edited { "status.update" } else { "update" };
            Some((name.into(), status.to_string()))
        }
        Event::Delete { status_id, .. } => Some(("delete".into(), status_id.to_string())),
        Event::Notification {
            notification_id, ..
        } => {
            let view = notifications::get(&state.node, viewer, *notification_id)
                .await
                .ok()?;
            let rendered = mastodon::notification(&view, &state.node.urls);
            Some(("notification".into(), rendered.to_string()))
        }
        Event::Announcement { id, .. } => {
            let view = announcements::view(&state.node, viewer, *id).await.ok()?;
            let rendered = mastodon::announcement(&view, &state.node.urls);
            Some(("announcement".into(), rendered.to_string()))
        }
        Event::AnnouncementReaction { id, name, count } => Some((
            "announcement.reaction".into(),
            json!({"name": name, "count": count, "announcement_id": id.to_string()}).to_string(),
        )),
        Event::AnnouncementDelete { id } => Some(("announcement.delete".into(), id.to_string())),
        // No payload, as Mastodon's streaming server sends it: `undefined` over SSE, and left
        // out of a WebSocket frame (see `NO_PAYLOAD`). Apps read their filters again.
        Event::FiltersChanged { .. } => Some(("filters_changed".into(), NO_PAYLOAD.into())),
    }
}

#[derive(Deserialize, Default)]
pub struct StreamQuery {
    stream: Option<String>,
    tag: Option<String>,
    list: Option<String>,
}

/// The viewer of a streaming request; a user token is required (as since Mastodon 4.2).
async fn viewer(state: &AppState, token: Option<String>) -> Result<AccountRow, ApiError> {
    let auth = authenticate(state, &token.ok_or_else(invalid_token)?).await?;
    auth.user("read:statuses").cloned()
}

pub async fn health() -> &'static str {
    "OK"
}

/// `/api/v1/streaming`: a WebSocket, or without an upgrade the server-sent events of the
/// stream named by `?stream=` (as Mastodon's streaming server serves both there).
pub async fn websocket(
    State(state): State<AppState>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    parts: Parts,
) -> Result<Response, ApiError> {
    let protocol = parts
        .headers
        .get("sec-websocket-protocol")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    let token = bearer_token(&parts).or(protocol.clone());
    let viewer = viewer(&state, token).await?;
    let query: StreamQuery = parts
        .uri
        .query()
        .and_then(|q| serde_html_form::from_str(q).ok())
        .unwrap_or_default();
    let mut initial = Vec::new();
    if let Some(name) = &query.stream {
        let stream = Stream::open(
            &state,
            &viewer,
            name,
            query.tag.as_deref(),
            query.list.as_deref(),
        )
        .await
        .map_err(|(status, m)| ApiError::new(status, m))?;
        initial.push(stream);
    }
    let ws = match ws {
        Ok(ws) => ws,
        Err(rejection) => match initial.pop() {
            Some(stream) => return Ok(events(state, viewer, stream)),
            None => return Err(ApiError::bad_request(rejection.body_text())),
        },
    };
    // Browsers require the offered protocol to be echoed when the token travels in it.
    let ws = match protocol {
        Some(p) => ws.protocols([p]),
        None => ws,
    };
    Ok(ws.on_upgrade(move |socket| run_socket(state, viewer, socket, initial)))
}

async fn run_socket(
    state: AppState,
    viewer: AccountRow,
    mut socket: WebSocket,
    mut subs: Vec<Stream>,
) {
    let mut events = state.node.hub.subscribe();
    let mut closing = state.node.hub.closing();
    let mut ping = tokio::time::interval(Duration::from_secs(30));
    loop {
        tokio::select! {
            _ = closing.changed() => {
                let _ = socket.send(Message::Close(None)).await;
                break;
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    if let Some(reply) = handle_command(&state, &viewer, &mut subs, text.as_str()).await {
                        if socket.send(Message::Text(reply.into())).await.is_err() {
                            break;
                        }
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            event = events.recv() => match event {
                Ok(event) => {
                    for stream in subs.clone() {
                        if !stream.wants(&event, viewer.id) {
                            continue;
                        }
                        if let Some((name, payload)) = render(&state, &viewer, &event, &stream).await {
                            let mut frame = json!({"stream": stream.label(), "event": name, "payload": payload});
                            if payload == NO_PAYLOAD {
                                frame.as_object_mut().map(|f| f.remove("payload"));
                            }
                            if socket.send(Message::Text(frame.to_string().into())).await.is_err() {
                                return;
                            }
                        }
                    }
                }
                Err(RecvError::Lagged(n)) => tracing::warn!(missed = n, "a WebSocket stream fell behind"),
                Err(RecvError::Closed) => break,
            },
            _ = ping.tick() => {
                if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    break;
                }
            }
        }
    }
}

#[derive(Deserialize)]
struct Command {
    #[serde(rename = "type")]
    kind: String,
    stream: String,
    tag: Option<String>,
    list: Option<String>,
}

/// Applies a subscribe / unsubscribe message; returns an error frame for a bad one.
async fn handle_command(
    state: &AppState,
    viewer: &AccountRow,
    subs: &mut Vec<Stream>,
    text: &str,
) -> Option<String> {
    let command: Command = match serde_json::from_str(text) {
        Ok(c) => c,
        Err(e) => {
            return Some(
                json!({"error": format!("Invalid message: {e}"), "status": 400}).to_string(),
            )
        }
    };
    let (tag, list) = (command.tag.as_deref(), command.list.as_deref());
    match command.kind.as_str() {
        "subscribe" => {
            let stream = match Stream::open(state, viewer, &command.stream, tag, list).await {
                Ok(s) => s,
                Err((status, e)) => {
                    return Some(json!({"error": e, "status": status.as_u16()}).to_string())
                }
            };
            if !subs.contains(&stream) {
                subs.push(stream);
            }
            None
        }
        "unsubscribe" => {
            let stream = match Stream::new(&command.stream, tag, list) {
                Ok(s) => s,
                Err(e) => return Some(json!({"error": e, "status": 400}).to_string()),
            };
            subs.retain(|s| *s != stream);
            None
        }
        other => Some(
            json!({"error": format!("Unknown message type {other:?}"), "status": 400}).to_string(),
        ),
    }
}

/// Server-sent events for one stream: `/api/v1/streaming/user`, `/public/local`, `/hashtag`...
pub async fn sse(
    State(state): State<AppState>,
    Path(path): Path<String>,
    Query(query): Query<StreamQuery>,
    parts: Parts,
) -> Result<Response, ApiError> {
    let viewer = viewer(&state, bearer_token(&parts)).await?;
    let name = path.trim_matches('/').replace('/', ":");
    let stream = Stream::open(
        &state,
        &viewer,
        &name,
        query.tag.as_deref(),
        query.list.as_deref(),
    )
    .await
    .map_err(|(status, m)| ApiError::new(status, m))?;
    Ok(events(state, viewer, stream))
}

/// The server-sent events of one stream until the client leaves or the node stops.
fn events(state: AppState, viewer: AccountRow, stream: Stream) -> Response {
    let viewer = Arc::new(viewer);
    let state_closing = state.node.hub.closing();
    let events = BroadcastStream::new(state.node.hub.subscribe());
    let out = events.then(move |event| {
        let (state, viewer, stream) = (state.clone(), viewer.clone(), stream.clone());
        async move {
            let Ok(event) = event else { return None };
            if !stream.wants(&event, viewer.id) {
                return None;
            }
            render(&state, &viewer, &event, &stream).await
        }
    });
    // The stream ends when the node stops, so it does not hold up a graceful shutdown.
    let closing = tokio_stream::wrappers::WatchStream::new(state_closing)
        .filter(|c| *c)
        .map(|_| None);
    let out = out
        .filter_map(|e| e)
        .map(Some)
        .merge(closing)
        .take_while(|e| e.is_some())
        .filter_map(|e| e)
        .map(|(name, payload)| Ok::<_, Infallible>(SseEvent::default().event(name).data(payload)));
    Sse::new(out)
        .keep_alive(
            KeepAlive::new()
                .interval(Duration::from_secs(15))
                .text("thump"),
        )
        .into_response()
}
