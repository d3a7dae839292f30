//! Web Push for Mastodon apps: one subscription per access token, asking for some notification
//! types from some senders (the policy). A push is queued with its notification (in
//! `store::statuses::insert_notification!`), and sent by `jobs/push.rs`: encrypted and
//! VAPID-signed (`crate::webpush`), retried with backoff, given up after
//! `push.max_attempts`, and the subscription dropped when the push service says it is gone.
//! The payload is rendered by `convert::webpush`.

use super::{DomainError, Node};
use crate::store::accounts::AccountRow;
use crate::store::now_millis;
use crate::store::oauth::TokenRow;
use crate::store::push::{DuePush, PushSubscriptionRow};
use crate::webpush::PushError;

pub use crate::store::push::{alert_on, ALERTS};

/// Whose notifications are pushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    All,
    /// From accounts the user follows.
    Followed,
    /// From the user's followers.
    Follower,
    None,
}

impl Policy {
    pub fn parse(text: &str) -> Result<Policy, DomainError> {
        match text {
            "all" => Ok(Policy::All),
            "followed" => Ok(Policy::Followed),
            "follower" => Ok(Policy::Follower),
            "none" => Ok(Policy::None),
            other => Err(DomainError::Invalid(format!(
                "Validation failed: policy {other:?} is not one of all, followed, follower, none"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Policy::All => "all",
            Policy::Followed => "followed",
            Policy::Follower => "follower",
            Policy::None => "none",
        }
    }
}

/// The stored form of the types asked for: `,mention,follow,` (unknown types are left out,
/// as Mastodon ignores them).
pub fn alerts_column(on: &[String]) -> String {
    let mut out = String::from(",");
    for kind in ALERTS.iter().filter(|k| on.iter().any(|o| o == *k)) {
        out.push_str(kind);
        out.push(',');
    }
    out
}

/// A subscription as the app sent it.
#[derive(Debug, Clone, Default)]
pub struct SubscriptionInput {
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    /// The types turned on.
    pub alerts: Vec<String>,
    pub policy: Option<String>,
}

/// Subscribes the token (replacing its earlier subscription). `bearer` is the token as the
/// app holds it: every payload carries it, so the app can tell its logins apart.
pub async fn subscribe(
    node: &Node,
    token: &TokenRow,
    bearer: &str,
    account: &AccountRow,
    input: SubscriptionInput,
) -> Result<PushSubscriptionRow, DomainError> {
    let invalid = |e: PushError| DomainError::Invalid(format!("Validation failed: {e}"));
    let endpoint = node.push.check_endpoint(&input.endpoint).map_err(invalid)?;
    crate::webpush::decode_p256dh(&input.p256dh).map_err(invalid)?;
    crate::webpush::decode_auth(&input.auth).map_err(invalid)?;
    let policy = Policy::parse(input.policy.as_deref().unwrap_or("all"))?;
    let row = PushSubscriptionRow {
        id: crate::ids::next_id(),
        token_id: token.id,
        account_id: account.id,
        access_token: if node.config.push.send_access_token {
            bearer.to_string()
        } else {
            String::new()
        },
        endpoint: endpoint.to_string(),
        p256dh: input.p256dh.trim().to_string(),
        auth: input.auth.trim().to_string(),
        alerts: alerts_column(&input.alerts),
        policy: policy.as_str().to_string(),
        created_at: now_millis(),
    };
    node.store.set_push_subscription(&row).await?;
    tracing::info!(
        account = account.id,
        host = endpoint.host_str().unwrap_or_default(),
        "push subscription made"
    );
    Ok(row)
}

pub async fn current(node: &Node, token: &TokenRow) -> Result<PushSubscriptionRow, DomainError> {
    node.store
        .push_subscription_of_token(token.id)
        .await?
        .ok_or(DomainError::NotFound("push subscription"))
}

/// Replaces the types asked for (as Mastodon does: those not given are off) and, when given,
/// the policy.
pub async fn change(
    node: &Node,
    token: &TokenRow,
    alerts: &[String],
    policy: Option<&str>,
) -> Result<PushSubscriptionRow, DomainError> {
    let existing = current(node, token).await?;
    let policy = match policy {
        Some(p) => Policy::parse(p)?.as_str().to_string(),
        None => existing.policy,
    };
    let alerts = alerts_column(alerts);
    if !node
        .store
        .update_push_subscription(token.id, &alerts, &policy)
        .await?
    {
        return Err(DomainError::NotFound("push subscription"));
    }
    current(node, token).await
}

pub async fn unsubscribe(node: &Node, token: &TokenRow) -> Result<(), DomainError> {
    node.store
        .delete_push_subscription_of_token(token.id)
        .await?;
    Ok(())
}

/// What sending one push needs: its payload, or `None` when there is nothing to send any
/// more (the notification is gone, hidden from its recipient now, or older than the push TTL).
pub async fn payload_of(node: &Node, push: &DuePush) -> Result<Option<Vec<u8>>, DomainError> {
    let Some(recipient) = node.store.account_by_id(push.account_id).await? else {
        return Ok(None);
    };
    let n = match super::notifications::get(node, &recipient, push.notification_id).await {
        Ok(n) => n,
        Err(DomainError::NotFound(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let ttl_ms = i64::from(crate::webpush::TTL_SECONDS) * 1000;
    if n.row.created_at < now_millis() - ttl_ms {
        return Ok(None);
    }
    let body = crate::convert::webpush::payload(&n, &push.access_token, &node.urls);
    Ok(Some(body.to_string().into_bytes()))
}

/// The node's VAPID public key, as apps are given it.
pub fn server_key(node: &Node) -> &str {
    node.push.public_key()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_keep_only_known_types_in_order() {
        let on = vec![
            "follow".to_string(),
            "bogus".into(),
            "mention".into(),
            "admin.report".into(),
        ];
        let column = alerts_column(&on);
        assert_eq!(column, ",mention,follow,admin.report,");
        assert!(alert_on(&column, "follow") && !alert_on(&column, "follow_request"));
        assert_eq!(alerts_column(&[]), ",");
    }

    #[test]
    fn policies_round_trip_and_others_are_refused() {
        for p in ["all", "followed", "follower", "none"] {
            assert_eq!(Policy::parse(p).unwrap().as_str(), p);
        }
        assert!(Policy::parse("friends").is_err());
    }
}
