//! Search v2: accounts, statuses, hashtags.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::extract::{flex_bool, flex_id, Auth, Query};
use crate::convert::mastodon;
use crate::domain::{accounts, audience, statuses};
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

/// Accounts for a query: `@user@domain` of a peer (looked up by WebFinger when `resolve`), an
/// actor URL, or local accounts (an exact name first, then prefix matches).
pub async fn account_ids(
    state: &AppState,
    q: &str,
    limit: i64,
    offset: i64,
    resolve: bool,
) -> Result<Vec<i64>, ApiError> {
    let term = q.trim().trim_start_matches('@');
    if term.is_empty() {
        return Ok(vec![]);
    }
    let node = &state.node;
    if term.starts_with("https://") || term.starts_with("http://") {
        let found = match crate::domain::federation::resolve::known_account(node, term).await? {
            Some(a) => Some(a),
            None if resolve => crate::domain::federation::resolve::resolve_actor(node, term)
                .await
                .map_err(log_resolve)
                .ok(),
            None => None,
        };
        return Ok(found
            .filter(|a| !a.suspended)
            .map(|a| vec![a.id])
            .unwrap_or_default());
    }
    let (name, domain) = match term.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (term, None),
    };
    if let Some(domain) = domain.filter(|d| !d.eq_ignore_ascii_case(&node.urls.domain)) {
        let found = match node.store.remote_account_by_acct(name, domain).await? {
            Some(a) => Some(a),
            None if resolve => crate::domain::federation::resolve::resolve_acct(node, name, domain)
                .await
                .map_err(log_resolve)
                .ok(),
            None => None,
        };
        return Ok(found
            .filter(|a| !a.suspended)
            .map(|a| vec![a.id])
            .unwrap_or_default());
    }
    let mut ids = Vec::new();
    if offset == 0 {
        if let Some(exact) = accounts::find_local(&state.node.store, name).await? {
            if !exact.suspended {
                ids.push(exact.id);
            }
        }
    }
    for a in state
        .node
        .store
        .search_accounts(name, limit, offset)
        .await?
    {
        if !ids.contains(&a.id) {
            ids.push(a.id);
        }
    }
    ids.truncate(limit as usize);
    Ok(ids)
}

fn log_resolve(e: crate::domain::DomainError) -> crate::domain::DomainError {
    tracing::info!(error = %e, "could not resolve a remote account");
    e
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
        let ids = account_ids(&state, query, limit, offset, resolve).await?;
        let views = accounts::views(&state.node, &ids).await?;
        result["accounts"] = Value::Array(mastodon::accounts(&views, &state.node.urls));
    }
    if wants("statuses") {
        // A status URL or id finds that status, if visible.
        let mut ids: Vec<i64> = Vec::new();
        if query.starts_with("https://") || query.starts_with("http://") {
            let node = &state.node;
            let found = match crate::domain::federation::resolve::known_status(node, query).await? {
                Some(s) => Some(s),
                None if resolve => crate::domain::inbox::create::fetch_note(node, query)
                    .await
                    .map_err(log_resolve)
                    .ok(),
                None => None,
            };
            ids.extend(found.map(|s| s.id));
            if ids.is_empty() {
                if let Some(id) = query.rsplit('/').next().and_then(|s| s.parse::<i64>().ok()) {
                    ids.push(id);
                }
            }
        }
        if ids.is_empty() {
            let words: Vec<String> = query.split_whitespace().map(str::to_string).collect();
            ids = state
                .node
                .store
                .search_statuses(&words, &audience::searchable(), limit, offset)
                .await?;
        }
        let views = statuses::views(&state.node, Some(me), &ids).await?;
        result["statuses"] = Value::Array(mastodon::statuses(&views, &state.node.urls));
    }
    if wants("hashtags") {
        let term = query.trim_start_matches('#');
        if !term.is_empty() && term.chars().all(|c| c.is_alphanumeric() || c == '_') {
            let tags = state.node.store.search_tags(term, limit).await?;
            result["hashtags"] = Value::Array(
                tags.iter()
                    .map(|(display, _)| mastodon::tag(display, &state.node.urls))
                    .collect(),
            );
        }
    }
    Ok(Json(result))
}
