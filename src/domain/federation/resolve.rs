//! Finding accounts and statuses by their AS2 ids: ours, those we hold, or fetched from the
//! peer that owns them (signed by the node, under the federation policy).

use fika_federation::activities;
use fika_federation::policy::url_domain;
use url::Url;

use crate::convert::activitypub as convert;
use crate::domain::{DomainError, Node};
use crate::store::accounts::AccountRow;
use crate::store::now_millis;
use crate::store::statuses::StatusRow;
use serde_json::Value;

/// Refetch a remote actor's profile after this long.
const ACTOR_TTL_MS: i64 = 24 * 3600 * 1000;

/// An account's AS2 id (remote ones keep theirs; local ones derive it from the domain).
pub fn actor_id(node: &Node, account: &AccountRow) -> String {
    actor_id_at(&node.urls, account)
}

pub use crate::convert::activitypub::actor_id as actor_id_at;

/// The local account an actor URL of ours names.
pub async fn local_account_by_url(
    node: &Node,
    url: &str,
) -> Result<Option<AccountRow>, DomainError> {
    let Ok(u) = Url::parse(url) else {
        return Ok(None);
    };
    if u.origin() != node.urls.base.origin() {
        return Ok(None);
    }
    let path = u.path().trim_end_matches('/');
    let Some(name) = path.strip_prefix("/users/").filter(|n| !n.contains('/')) else {
        return Ok(None);
    };
    crate::domain::accounts::find_local(&node.store, name).await
}

/// The account (local or known remote) an actor URL names, without fetching.
pub async fn known_account(node: &Node, url: &str) -> Result<Option<AccountRow>, DomainError> {
    if let Some(local) = local_account_by_url(node, url).await? {
        return Ok(Some(local));
    }
    Ok(node.store.account_by_ap_id(url).await?)
}

/// A local status an AS2 id of ours names.
pub(crate) fn local_status_id(node: &Node, uri: &str) -> Option<i64> {
    let u = Url::parse(uri).ok()?;
    if u.origin() != node.urls.base.origin() {
        return None;
    }
    let mut parts = u.path().trim_matches('/').split('/');
    match (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) {
        (Some("users"), Some(_), Some("statuses"), Some(id), None) => id.parse().ok(),
        _ => None,
    }
}

/// The status (local or known remote) an AS2 id names.
pub async fn known_status(node: &Node, uri: &str) -> Result<Option<StatusRow>, DomainError> {
    if let Some(id) = local_status_id(node, uri) {
        return Ok(node.store.status_by_id(id).await?);
    }
    Ok(node.store.status_by_uri(uri).await?)
}

/// The status an AS2 id names, as a peer's activity may name it: a local status no peer may
/// know of (department-only) is as if it did not exist.
pub async fn known_status_for_peers(
    node: &Node,
    uri: &str,
) -> Result<Option<StatusRow>, DomainError> {
    Ok(known_status(node, uri)
        .await?
        .filter(|s| crate::domain::audience::known_to_peers(s.audience())))
}

/// Fetches an actor (signed by the node) and stores it. Its id must be on the host it was
/// fetched from, so one peer cannot plant actors for another.
pub async fn fetch_actor(node: &Node, url: &str) -> Result<AccountRow, DomainError> {
    let (parsed, domain) = node.fed.net.check(url)?;
    let doc = node
        .fed
        .net
        .get_json(parsed.as_str(), &node.fed.node_signer)
        .await?;
    // A fragment-less keyId (GoToSocial) may dereference to the key; its owner is the actor.
    let doc = if doc.get("publicKeyPem").is_some() && doc.get("inbox").is_none() {
        let owner = doc
            .get("owner")
            .and_then(Value::as_str)
            .ok_or_else(|| DomainError::Invalid(format!("key {url} has no owner")))?
            .to_string();
        node.fed.net.get_json(&owner, &node.fed.node_signer).await?
    } else {
        doc
    };
    let actor = activities::parse_actor(&doc)
        .map_err(|e| DomainError::Invalid(format!("actor {url}: {e}")))?;
    let actor_domain = Url::parse(&actor.id)
        .ok()
        .and_then(|u| url_domain(&u))
        .ok_or_else(|| DomainError::Invalid(format!("actor id {} is not a URL", actor.id)))?;
    if actor_domain != domain {
        return Err(DomainError::Invalid(format!(
            "actor {} is not on {domain}, where it was fetched",
            actor.id
        )));
    }
    crate::domain::accounts::validate_username(&actor.preferred_username).or_else(|_| {
        // Other servers allow dots and dashes; keep those, refuse anything else.
        actor
            .preferred_username
            .chars()
            .all(|c| c.is_alphanumeric() || "_.-:".contains(c))
            .then_some(())
            .ok_or_else(|| DomainError::Invalid("unusable preferredUsername".into()))
    })?;
    Ok(node
        .store
        .upsert_remote_account(&convert::remote_account(&actor, domain))
        .await?)
}

/// A remote actor by URL: from the store while fresh, else fetched.
pub async fn resolve_actor(node: &Node, url: &str) -> Result<AccountRow, DomainError> {
    if let Some(local) = local_account_by_url(node, url).await? {
        return Ok(local);
    }
    if let Some(a) = node.store.account_by_ap_id(url).await? {
        if a.fetched_at.unwrap_or(0) + ACTOR_TTL_MS > now_millis() {
            return Ok(a);
        }
        return match fetch_actor(node, url).await {
            Ok(fresh) => Ok(fresh),
            Err(e) => {
                tracing::warn!(actor = url, error = %e, "refresh failed, using the stored actor");
                Ok(a)
            }
        };
    }
    fetch_actor(node, url).await
}

/// `user@domain` to an account, via WebFinger when not known yet.
pub async fn resolve_acct(
    node: &Node,
    user: &str,
    domain: &str,
) -> Result<AccountRow, DomainError> {
    if let Some(a) = node.store.remote_account_by_acct(user, domain).await? {
        return Ok(a);
    }
    let url = node.fed.net.webfinger(user, domain).await?;
    resolve_actor(node, &url).await
}
