//! Posts into groups (FEP-1b12): which group a new status is posted into, the group's
//! announce of a post it accepts, and its announces of edits and deletes. Apart from the
//! management of groups (`domain::groups`), so that posting (`domain::statuses`) and the inbox
//! can ask here without reaching the moderation code that itself uses theirs.

use fika_federation::protocol::{Activity, ActivityKind, Object};

use super::audience::{self, Scope};
use super::{DomainError, Node};
use crate::store::accounts::AccountRow;
use crate::store::now_millis;
use crate::store::statuses::{NewStatus, StatusRow};

/// `@name` for a local account, `@name@domain` for a remote one (log lines, audit details).
pub(super) fn handle(a: &AccountRow) -> String {
    if a.is_local() {
        format!("@{}", a.username)
    } else {
        format!("@{}@{}", a.username, a.domain)
    }
}

/// The group a new status is posted into: the first group it mentions, else the group its
/// parent was posted into. A private group takes posts from its members only, and the post
/// is addressed to them alone.
pub async fn group_of_post(
    node: &Node,
    author: &AccountRow,
    mentioned: &[AccountRow],
    parent: Option<&StatusRow>,
) -> Result<Option<AccountRow>, DomainError> {
    let group = match mentioned.iter().find(|a| a.is_group && !a.suspended) {
        Some(g) => Some(g.clone()),
        None => match parent.and_then(|p| p.group_id) {
            Some(g) => node.store.account_by_id(g).await?.filter(|a| !a.suspended),
            None => None,
        },
    };
    let Some(group) = group else { return Ok(None) };
    if group.locked && !node.store.follows(author.id, group.id).await? {
        return Err(DomainError::Forbidden(format!(
            "You are not a member of the private group @{}",
            if group.is_local() {
                group.username.clone()
            } else {
                format!("{}@{}", group.username, group.domain)
            }
        )));
    }
    Ok(Some(group))
}

/// What the scope of a post into `group` becomes.
pub fn post_scope(asked: Scope, group: Option<&AccountRow>) -> Scope {
    match group {
        Some(g) => audience::group_post_scope(asked, g.locked),
        None => asked,
    }
}

/// Why a group hosted here does not announce a post by `author`, if it does not.
async fn refusal(
    node: &Node,
    group: &AccountRow,
    author: &AccountRow,
) -> Result<Option<&'static str>, DomainError> {
    let Some(settings) = node.store.group(group.id).await? else {
        return Ok(Some("the group is not hosted here"));
    };
    if group.suspended {
        return Ok(Some("the group was deleted"));
    }
    if node.store.is_banned(group.id, author.id).await? {
        return Ok(Some("the author is banned from the group"));
    }
    if settings.posting == "anyone" && !group.locked {
        return Ok(None);
    }
    if !node.store.follows(author.id, group.id).await? {
        return Ok(Some("the author is not a member"));
    }
    Ok(None)
}

/// A status was posted into a group hosted here (by a local member, or received from a
/// peer): the group announces it to its members, unless the author may not post there.
pub async fn announce(node: &Node, status: &StatusRow) -> Result<(), DomainError> {
    let Some(group_id) = status.group_id else {
        return Ok(());
    };
    let Some(group) = node
        .store
        .account_by_id(group_id)
        .await?
        .filter(|g| g.is_local() && g.is_group)
    else {
        return Ok(());
    };
    if !audience::group_may_announce(status.audience()) || status.reblog_of_id.is_some() {
        return Ok(());
    }
    let author = node
        .store
        .account_by_id(status.account_id)
        .await?
        .ok_or(DomainError::NotFound("account"))?;
    if let Some(why) = refusal(node, &group, &author).await? {
        tracing::info!(group = %group.username, status = status.id, author = %handle(&author), reason = why, "post not announced by the group");
        return Ok(());
    }
    if node.store.reblog_by(group.id, status.id).await?.is_some() {
        return Ok(());
    }
    let id = crate::ids::next_id();
    let home = node.store.follower_ids_showing_reblogs(group.id).await?;
    let row = StatusRow {
        id,
        account_id: group.id,
        uri: None,
        url: None,
        text: String::new(),
        content: String::new(),
        spoiler_text: String::new(),
        sensitive: false,
        visibility: audience::group_announce_scope(group.locked),
        language: None,
        in_reply_to_id: None,
        in_reply_to_account_id: None,
        reblog_of_id: Some(status.id),
        app_name: None,
        app_website: None,
        created_at: now_millis(),
        edited_at: None,
        locality: status.locality,
        group_id: Some(group.id),
    };
    let deliveries =
        super::federation::outbound::group_announce_deliveries(node, &row, &group, status).await?;
    let new = NewStatus {
        poll: None,
        conversation: None,
        row,
        mentions: vec![],
        tags: vec![],
        media_ids: vec![],
        feed_recipients: home.clone(),
        notifications: vec![],
        idempotency_key: None,
        deliveries,
    };
    match node.store.insert_status(&new).await {
        Ok(queued) => {
            if queued {
                node.fanout_wake.notify_one();
            }
            super::federation::outbound::wake_deliveries(node, !new.deliveries.is_empty());
        }
        Err(crate::store::StoreError::Conflict(_)) => return Ok(()),
        Err(e) => return Err(e.into()),
    }
    node.hub.publish(super::events::Event::Status {
        status_id: id,
        edited: false,
        audience: audience::reblog_stream_audience(vec![]),
    });
    tracing::info!(group = %group.username, status = status.id, deliveries = new.deliveries.len(), "post announced by the group");
    Ok(())
}

/// A post a group hosted here carries was edited or deleted by its author: the group
/// announces the Update or Delete to its members' nodes, which read the post again from its
/// source. Returns the deliveries, to write with the change.
pub async fn relay_change(
    node: &Node,
    status: &StatusRow,
    kind: ActivityKind,
) -> Result<Vec<crate::store::deliveries::NewDelivery>, DomainError> {
    let Some(group) = carrier(node, status).await? else {
        return Ok(vec![]);
    };
    let Some(wrapper) = node.store.reblog_by(group.id, status.id).await? else {
        return Ok(vec![]);
    };
    let Some(wrapper) = node.store.status_by_id(wrapper).await? else {
        return Ok(vec![]);
    };
    let uri = super::federation::outbound::status_uri(node, status).await?;
    let actor = super::federation::resolve::actor_id(node, &group);
    let inner = Activity::new(
        kind,
        format!("{uri}#{}-{}", kind.as_str().to_lowercase(), now_millis()),
        actor.clone(),
        Object::Id(uri),
    )
    .embedded();
    let announce = Activity::new(
        ActivityKind::Announce,
        format!(
            "{}/activity#{}-{}",
            node.urls.status(&group.username, wrapper.id),
            kind.as_str().to_lowercase(),
            now_millis()
        ),
        actor,
        Object::Activity(Box::new(inner)),
    );
    super::federation::outbound::group_relay_deliveries(node, &wrapper, &group, announce).await
}

/// The group hosted here that announced `status`, if any.
async fn carrier(node: &Node, status: &StatusRow) -> Result<Option<AccountRow>, DomainError> {
    let Some(g) = status.group_id else {
        return Ok(None);
    };
    Ok(node
        .store
        .account_by_id(g)
        .await?
        .filter(|a| a.is_local() && a.is_group))
}
