//! AS2 documents served to peers. Every one of them asks the federation policy first.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use fika_federation::actor::key_only_person;
use fika_federation::policy::{Access, ObjectKind, Requester};
use fika_federation::protocol::Tombstone;
use fika_federation::{accepts_activity_json, AS_CONTEXT};
use serde_json::json;

use super::{ApiError, AppState};
use crate::convert::activitypub::local_person;
use crate::domain::federation::outbound::{self, CollectionDoc, Listing, Served};
use crate::domain::federation::verify::VerifyError;
use crate::domain::DomainError;

const AS2_CONTENT_TYPE: &str = "application/activity+json; charset=utf-8";

fn as2(value: serde_json::Value) -> Response {
    let mut response = Json(value).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(AS2_CONTENT_TYPE),
    );
    // The same URL answers browsers with a redirect: caches must keep the two apart.
    response
        .headers_mut()
        .insert(header::VARY, HeaderValue::from_static("Accept"));
    response
}

/// Who is asking: anonymous without a signature, otherwise the verified signer (an invalid
/// signature is a 401, a signer from a refused domain a 403, before anything is read).
async fn requester(
    state: &AppState,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
) -> Result<Requester, ApiError> {
    if !headers.contains_key("signature") {
        return Ok(Requester::Anonymous);
    }
    let signer = verify_request(state, "GET", uri, headers, None).await?;
    let key_domain = signer
        .key_id
        .as_deref()
        .and_then(|k| url::Url::parse(k).ok())
        .and_then(|u| fika_federation::policy::url_domain(&u))
        .unwrap_or_default();
    Ok(Requester::Signed {
        key_domain,
        actor_domain: signer.domain.clone(),
    })
}

/// Applies the read policy for an object; `Ok(access)` when something may be served.
async fn read_access(
    state: &AppState,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    object: ObjectKind,
) -> Result<Access, ApiError> {
    let net = &state.node.fed.net;
    read_access_for(state, uri, headers, object, |d| net.allows(d)).await
}

/// [`read_access`] for the peers `admitted` says.
async fn read_access_for(
    state: &AppState,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    object: ObjectKind,
    admitted: impl Fn(&str) -> bool,
) -> Result<Access, ApiError> {
    let who = requester(state, uri, headers).await?;
    match state.read_policy.decide(&who, object, admitted) {
        refused @ (Access::Unauthorized(_) | Access::Forbidden(_)) => Err(refuse(refused)),
        granted => Ok(granted),
    }
}

fn refuse(access: Access) -> ApiError {
    match access {
        Access::Unauthorized(why) => ApiError::new(StatusCode::UNAUTHORIZED, why),
        Access::Forbidden(why) => ApiError::new(StatusCode::FORBIDDEN, why),
        Access::Full | Access::KeyOnly => ApiError::internal("refuse called with a grant"),
    }
}

pub async fn actor(
    State(state): State<AppState>,
    Path(username): Path<String>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let wants_as2 = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(accepts_activity_json);
    let account = crate::domain::accounts::find_local(&state.node.store, &username)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if !wants_as2 {
        return Ok(
            Redirect::to(state.node.urls.profile(&account.username).as_str()).into_response(),
        );
    }
    if account.suspended {
        return Err(ApiError::new(StatusCode::GONE, "Account suspended"));
    }
    match read_access(&state, &uri, &headers, ObjectKind::Actor).await? {
        Access::Full => {
            let tags = crate::domain::directory::featured_names(&state.node, account.id).await?;
            Ok(as2(local_person(&account, &tags, &state.node.urls)))
        }
        Access::KeyOnly => {
            let id = state.node.urls.actor(&account.username);
            Ok(as2(key_only_person(&id, &account.public_key_pem)))
        }
        refused => Err(refuse(refused)),
    }
}

/// The signature of an incoming request, checked as far as possible: the signer's account.
/// Errors are 401 (so peers that try RFC 9421 first fall back to cavage) or 403 (policy).
async fn verify_request(
    state: &AppState,
    method: &str,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: Option<&[u8]>,
) -> Result<crate::store::accounts::AccountRow, ApiError> {
    let lookup = |name: &str| -> Option<String> {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    let request = fika_federation::signatures::RequestParts {
        method,
        path_and_query: uri.path_and_query().map(|p| p.as_str()).unwrap_or("/"),
        header: &lookup,
    };
    crate::domain::federation::verify::signer(&state.node, &request, body)
        .await
        .map_err(|e| match e {
            VerifyError::Unsigned(why) => ApiError::new(StatusCode::UNAUTHORIZED, why),
            VerifyError::Refused(why) => ApiError::new(StatusCode::FORBIDDEN, why),
            VerifyError::Store(e) => e.into(),
        })
}

/// `POST /inbox` and `/users/NAME/inbox`: verify, check the policy and the activity's shape,
/// then queue it once per activity id and answer 202. The inbox worker (`jobs::inbox`) acts on
/// it, so a peer never waits for the fetches that acting may need.
pub async fn inbox(
    State(state): State<AppState>,
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let signer = verify_request(&state, method.as_str(), &uri, &headers, Some(&body)).await?;
    let activity: serde_json::Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("Malformed JSON body: {e}")))?;
    let actor = activity
        .get("actor")
        .and_then(fika_federation::activities::id_of)
        .ok_or_else(|| ApiError::bad_request("activity has no actor"))?;
    if Some(actor) != signer.ap_id.as_deref() {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "the activity's actor is not the signer",
        ));
    }
    let actor_domain = url::Url::parse(actor)
        .ok()
        .and_then(|u| fika_federation::policy::url_domain(&u))
        .unwrap_or_default();
    if !state.node.fed.net.allows(&actor_domain) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("{actor_domain} is not allowed to federate with this node"),
        ));
    }
    let id = activity
        .get("id")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| ApiError::bad_request("activity has no id"))?;
    // from_slice accepted it, so it is UTF-8.
    let text = String::from_utf8_lossy(&body);
    crate::domain::inbox::accept(&state.node, &signer, id, &activity, &text)
        .await
        .map_err(|e| match e {
            DomainError::Invalid(why) => ApiError::unprocessable(why),
            other => other.into(),
        })?;
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `/actor`: the node's own actor, which signs fetches not made for a particular user.
pub async fn node_actor(State(state): State<AppState>) -> Result<Response, ApiError> {
    Ok(as2(outbound::node_actor(&state.node).await?))
}

/// `/users/NAME/statuses/ID`: a local status as a Note; public and unlisted ones only until
/// authorized fetch decides per requester; 410 Gone after a delete.
pub async fn status(
    State(state): State<AppState>,
    Path((username, id)): Path<(String, String)>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    read_access(&state, &uri, &headers, ObjectKind::Content).await?;
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    match outbound::served_note(&state.node, &username, id).await? {
        Served::Note(note) => Ok(as2(json!(note.with_context()))),
        Served::Gone(tombstone) => {
            let mut r = as2(json!(Tombstone {
                context: Some(AS_CONTEXT),
                ..tombstone
            }));
            *r.status_mut() = StatusCode::GONE;
            Ok(r)
        }
    }
}

/// `/users/GROUP/statuses/ID/activity`: a group's announce of a post, with the post as the
/// group holds it, for members' nodes to check what the group relays. A private group's only
/// to peers with members.
pub async fn group_announce(
    State(state): State<AppState>,
    Path((username, id)): Path<(String, String)>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let who = requester(&state, &uri, &headers).await?;
    let net = &state.node.fed.net;
    let access = state
        .read_policy
        .decide(&who, ObjectKind::Content, |d| net.allows(d));
    if let refused @ (Access::Unauthorized(_) | Access::Forbidden(_)) = access {
        return Err(refuse(refused));
    }
    let domain = match &who {
        Requester::Signed { actor_domain, .. } => Some(actor_domain.as_str()),
        Requester::Anonymous => None,
    };
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    let doc = outbound::served_announce(&state.node, &username, id, domain).await?;
    Ok(as2(doc))
}

fn page_param(uri: &axum::http::Uri) -> Option<i64> {
    uri.query().and_then(|q| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("page=").and_then(|v| v.parse().ok()))
    })
}

/// `/actor/outbox`: the node's public statuses, newest first, for `org` peers' backfill;
/// `?page=N` (from 1) for a page of it. Partners are refused: they hear of statuses through
/// follows only.
pub async fn node_outbox(
    State(state): State<AppState>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let net = &state.node.fed.net;
    read_access_for(&state, &uri, &headers, ObjectKind::Content, |d| {
        net.tier(d) == Some(fika_federation::policy::Tier::Org)
    })
    .await?;
    let doc = match outbound::node_collection(&state.node, page_param(&uri)).await? {
        CollectionDoc::Whole(c) => json!(c),
        CollectionDoc::Page(p) => json!(p),
    };
    Ok(as2(doc))
}

/// `/users/:name/collections/featured`: the account's pinned statuses.
pub async fn featured(
    State(state): State<AppState>,
    Path(username): Path<String>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    read_access(&state, &uri, &headers, ObjectKind::Content).await?;
    Ok(as2(outbound::featured(&state.node, &username).await?))
}

/// Followers / following / outbox of a local account as an OrderedCollection; `?page=N` (from
/// 1) for a page of it.
pub async fn collection(
    State(state): State<AppState>,
    Path((username, which)): Path<(String, String)>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    read_access(&state, &uri, &headers, ObjectKind::Content).await?;
    let which = match which.as_str() {
        "followers" => Listing::Followers,
        "following" => Listing::Following,
        "outbox" => Listing::Outbox,
        _ => return Err(ApiError::not_found()),
    };
    let doc = match outbound::collection(&state.node, &username, which, page_param(&uri)).await? {
        CollectionDoc::Whole(c) => json!(c),
        CollectionDoc::Page(p) => json!(p),
    };
    Ok(as2(doc))
}
