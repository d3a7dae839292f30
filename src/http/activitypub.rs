//! AS2 documents served to peers. Every one of them asks the federation policy first.

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use fika_federation::actor::key_only_person;
use fika_federation::policy::{Access, ObjectKind, Requester};
use fika_federation::protocol::{Collection, CollectionPage, Tombstone};
use fika_federation::{accepts_activity_json, AS_CONTEXT};
use serde_json::json;

use super::{ApiError, AppState};
use crate::convert::activitypub::local_person;

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
    let who = requester(state, uri, headers).await?;
    let net = &state.node.fed.net;
    match state.read_policy.decide(&who, object, |d| net.allows(d)) {
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
        Access::Full => Ok(as2(local_person(&account, &state.node.urls))),
        Access::KeyOnly => {
            let id = state.node.urls.actor(&account.username);
            Ok(as2(key_only_person(&id, &account.public_key_pem)))
        }
        refused => Err(refuse(refused)),
    }
}

/// A signer's key fetched less than this long ago is not refetched when a signature fails.
const KEY_FRESH_MS: i64 = 10 * 60 * 1000;

/// The signature of an incoming request, checked as far as possible: the signer's account.
/// Errors are 401 (so peers that try RFC 9421 first fall back to cavage) or 403 (policy).
async fn verify_request(
    state: &AppState,
    method: &str,
    uri: &axum::http::Uri,
    headers: &HeaderMap,
    body: Option<&[u8]>,
) -> Result<crate::store::accounts::AccountRow, ApiError> {
    use fika_federation::signatures;
    let unauthorized = |why: String| {
        tracing::info!(reason = %why, "refused an unverifiable request");
        ApiError::new(StatusCode::UNAUTHORIZED, why)
    };
    let raw = headers
        .get("signature")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| unauthorized("request is not signed".into()))?;
    let sig = signatures::parse_signature_header(raw).map_err(|e| unauthorized(e.to_string()))?;
    let lookup = |name: &str| -> Option<String> {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    };
    let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let req = signatures::RequestParts {
        method,
        path_and_query: path,
        header: &lookup,
    };
    signatures::precheck(&sig, &req, body, std::time::SystemTime::now())
        .map_err(|e| unauthorized(e.to_string()))?;
    let key_url =
        url::Url::parse(&sig.key_id).map_err(|_| unauthorized("keyId is not a URL".into()))?;
    let key_domain = fika_federation::policy::url_domain(&key_url)
        .ok_or_else(|| unauthorized("keyId has no host".into()))?;
    let node = &state.node;
    if !node.fed.net.allows(&key_domain) {
        tracing::info!(peer = %key_domain, "refused a request from a peer the policy does not allow");
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!("{key_domain} is not allowed to federate with this node"),
        ));
    }
    let keys = &node.fed.signer_keys;
    let check = |account: &crate::store::accounts::AccountRow| -> bool {
        keys.public_key(&sig.key_id, &account.public_key_pem)
            .map(|key| signatures::verify(&sig, &req, &key).is_ok())
            .unwrap_or(false)
    };
    let actor_url = {
        let mut u = key_url.clone();
        u.set_fragment(None);
        u.to_string()
    };
    if let Some(known) = node.store.account_by_key_id(&sig.key_id).await? {
        if check(&known) {
            return Ok(known);
        }
        // The key may have been rotated: fetch the actor once more, unless our copy is recent
        // (then a failure means a bad signature, and a forged request costs no fetch at all),
        // and at most once per key id in ten minutes, so forged requests naming a known key
        // cannot make this node fetch again and again.
        let fresh = known.fetched_at.unwrap_or(0) + KEY_FRESH_MS > crate::store::now_millis();
        if fresh {
            return Err(unauthorized(
                "signature does not verify (the signer's key was fetched recently)".into(),
            ));
        }
        if !keys.may_refetch(&sig.key_id, std::time::Instant::now()) {
            return Err(unauthorized(
                "signature does not verify (the signer's key was refetched recently)".into(),
            ));
        }
        let refreshed = crate::domain::federation::resolve::fetch_actor(
            node,
            known.ap_id.as_deref().unwrap_or(&actor_url),
        )
        .await
        .map_err(|e| unauthorized(format!("cannot refresh the signer's key: {e}")))?;
        return if check(&refreshed) {
            Ok(refreshed)
        } else {
            Err(unauthorized("signature does not verify".into()))
        };
    }
    let fetched = crate::domain::federation::resolve::fetch_actor(node, &actor_url)
        .await
        .map_err(|e| unauthorized(format!("cannot fetch the signer's key: {e}")))?;
    if fetched.key_id.as_deref() != Some(sig.key_id.as_str()) {
        return Err(unauthorized(
            "keyId does not belong to the actor that owns it".into(),
        ));
    }
    if check(&fetched) {
        Ok(fetched)
    } else {
        Err(unauthorized("signature does not verify".into()))
    }
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
    if let Err(e) = crate::domain::inbox::check_shape(&activity, actor) {
        tracing::info!(activity = %id, actor = %actor, error = %e, "activity refused");
        return Err(ApiError::unprocessable(e.to_string()));
    }
    // from_slice accepted it, so it is UTF-8.
    let text = String::from_utf8_lossy(&body);
    if state.node.store.enqueue_inbox(id, signer.id, &text).await? {
        state.node.fed.inbox_wake.notify_one();
    }
    Ok(StatusCode::ACCEPTED.into_response())
}

/// `/actor`: the node's own actor, which signs fetches not made for a particular user.
pub async fn node_actor(State(state): State<AppState>) -> Result<Response, ApiError> {
    let urls = &state.node.urls;
    let (_, public) = state
        .node
        .store
        .node_key(|| (String::new(), String::new()))
        .await?;
    Ok(as2(crate::convert::activitypub::node_application(
        urls, &public,
    )))
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
    let node = &state.node;
    let author = crate::domain::accounts::find_local(&node.store, &username)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let id: i64 = id.parse().map_err(|_| ApiError::not_found())?;
    let uri = node.urls.status(&author.username, id).to_string();
    let Some(row) = node
        .store
        .status_by_id(id)
        .await?
        .filter(|s| s.account_id == author.id && s.reblog_of_id.is_none())
    else {
        if node.store.is_tombstone(&uri).await? {
            let mut r = as2(json!(Tombstone {
                context: Some(AS_CONTEXT),
                ..Tombstone::new(uri)
            }));
            *r.status_mut() = StatusCode::GONE;
            return Ok(r);
        }
        return Err(ApiError::not_found());
    };
    if !crate::domain::audience::served_to_peers(row.audience()) {
        return Err(ApiError::not_found());
    }
    let note = crate::domain::federation::outbound::note(node, &row, &author).await?;
    Ok(as2(json!(note.with_context())))
}

/// Followers / following / outbox of a local account as an OrderedCollection with pages.
pub async fn collection(
    State(state): State<AppState>,
    Path((username, which)): Path<(String, String)>,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    const PAGE: i64 = 40;
    read_access(&state, &uri, &headers, ObjectKind::Content).await?;
    let node = &state.node;
    let account = crate::domain::accounts::find_local(&node.store, &username)
        .await?
        .filter(|a| !a.suspended)
        .ok_or_else(ApiError::not_found)?;
    let base = format!("{}/{which}", node.urls.actor(&account.username));
    let page: Option<i64> = uri.query().and_then(|q| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("page=").and_then(|v| v.parse().ok()))
    });
    let counts = node.store.account_counts(&[account.id]).await?;
    let c = counts.get(&account.id).copied().unwrap_or_default();
    let total = match which.as_str() {
        "followers" => c.followers,
        "following" => c.following,
        "outbox" => c.statuses,
        _ => return Err(ApiError::not_found()),
    };
    let Some(page) = page.filter(|p| *p >= 1) else {
        return Ok(as2(json!(Collection::new(base, total))));
    };
    let items =
        crate::domain::federation::outbound::collection_page(node, &account, &which, page, PAGE)
            .await?;
    Ok(as2(json!(CollectionPage::new(
        &base, page, PAGE, total, items
    ))))
}
