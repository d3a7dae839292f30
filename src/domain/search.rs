//! Search: accounts, statuses (only those the audience rules let search find, then only those
//! the viewer may see), hashtags.

use super::{audience, DomainError, Node};
use crate::convert::views::{AccountView, StatusView};
use crate::store::accounts::AccountRow;

/// Accounts for a query: `@user@domain` of a peer (looked up by WebFinger when `resolve`), an
/// actor URL, or words. Words find, best first: the exact handle, handles starting with them
/// (any account), then discoverable accounts (of this node and those held from peers) with
/// every word in their handle or display name, their fields or featured tags, or their bio.
pub async fn account_ids(
    node: &Node,
    q: &str,
    limit: i64,
    offset: i64,
    resolve: bool,
) -> Result<Vec<i64>, DomainError> {
    let term = q.trim().trim_start_matches('@');
    if term.is_empty() {
        return Ok(vec![]);
    }
    if term.starts_with("https://") || term.starts_with("http://") {
        let held = super::federation::resolve::known_account(node, term).await?;
        let fetch = || super::federation::resolve::resolve_actor(node, term);
        return held_or_fetched(held, resolve, fetch).await;
    }
    let (name, domain) = match term.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (term, None),
    };
    if let Some(domain) = domain.filter(|d| !d.eq_ignore_ascii_case(&node.urls.domain)) {
        let held = node.store.remote_account_by_acct(name, domain).await?;
        let fetch = || super::federation::resolve::resolve_acct(node, name, domain);
        return held_or_fetched(held, resolve, fetch).await;
    }
    Ok(node.store.search_accounts(name, limit, offset).await?)
}

fn log_resolve(e: DomainError) -> DomainError {
    tracing::info!(error = %e, "could not resolve a remote account");
    e
}

/// Accounts for a query, in the order [`account_ids`] found them.
pub async fn accounts(
    node: &Node,
    q: &str,
    limit: i64,
    offset: i64,
    resolve: bool,
) -> Result<Vec<AccountView>, DomainError> {
    let ids = account_ids(node, q, limit, offset, resolve).await?;
    super::accounts::views(node, &ids).await
}

/// Statuses for a query: a status URL (fetched from its node when `resolve`) or id finds that
/// status, otherwise a word search over searchable statuses. Only what the viewer may see.
pub async fn statuses(
    node: &Node,
    viewer: &AccountRow,
    query: &str,
    limit: i64,
    offset: i64,
    resolve: bool,
) -> Result<Vec<StatusView>, DomainError> {
    let mut ids: Vec<i64> = Vec::new();
    if query.starts_with("https://") || query.starts_with("http://") {
        let found = match super::federation::resolve::known_status(node, query).await? {
            Some(s) => Some(s),
            None if resolve => super::inbox::create::fetch_note(node, query)
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
        ids = node
            .store
            .search_statuses(&words, &audience::searchable(), limit, offset)
            .await?;
    }
    super::statuses::views(node, Some(viewer), &ids).await
}

/// Hashtags (display form) for a query made of letters, digits and `_` (a leading `#` allowed).
pub async fn hashtags(node: &Node, query: &str, limit: i64) -> Result<Vec<String>, DomainError> {
    let term = query.trim_start_matches('#');
    if term.is_empty() || !term.chars().all(|c| c.is_alphanumeric() || c == '_') {
        return Ok(vec![]);
    }
    Ok(node
        .store
        .search_tags(term, limit)
        .await?
        .into_iter()
        .map(|(display, _)| display)
        .collect())
}

/// The one account a URL or remote handle names: the copy held, or (when `resolve`) fetched
/// from its node; none when suspended or not found.
async fn held_or_fetched<F, Fut>(
    held: Option<AccountRow>,
    resolve: bool,
    fetch: F,
) -> Result<Vec<i64>, DomainError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<AccountRow, DomainError>>,
{
    let found = match held {
        Some(a) => Some(a),
        None if resolve => fetch().await.map_err(log_resolve).ok(),
        None => None,
    };
    Ok(found
        .filter(|a| !a.suspended)
        .map(|a| vec![a.id])
        .unwrap_or_default())
}
