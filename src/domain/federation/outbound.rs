//! Outbound: which peer nodes hear about a change, and the activity each gets. Deliveries are
//! built here before the change is written and committed with it by the store (one per peer
//! node, to its shared inbox); the delivery worker sends them.

use std::collections::BTreeMap;

use fika_federation::activities::PUBLIC;
use fika_federation::protocol::{self, Activity, ActivityKind, Object, Tombstone};
use serde_json::{json, Value};

use super::resolve::actor_id;
use crate::convert::activitypub::{self as convert, NoteParts};
use crate::domain::audience;
use crate::domain::{DomainError, Node};
use crate::net::Signer;
use crate::store::accounts::AccountRow;
use crate::store::deliveries::NewDelivery;
use crate::store::now_millis;
use crate::store::statuses::StatusRow;

/// The key a local account signs with (parsed once, then cached).
pub fn signer_for(node: &Node, account: &AccountRow) -> Result<Signer, DomainError> {
    let key_id =
        fika_federation::actor::main_key_id(&node.urls.actor(&account.username)).to_string();
    let key = node.fed.account_key(account.id, || {
        let pem = account.private_key_pem.as_deref().ok_or_else(|| {
            DomainError::Internal(format!("{} has no private key", account.username))
        })?;
        fika_federation::signatures::parse_private_key(pem)
            .map_err(|e| DomainError::Internal(e.to_string()))
    })?;
    Ok(Signer { key_id, key })
}

fn activity_id(node: &Node, account: &AccountRow, kind: &str) -> String {
    format!(
        "{}#{kind}/{}",
        node.urls.actor(&account.username),
        crate::ids::next_id()
    )
}

/// One delivery per peer node: the shared inbox when a peer has one.
fn per_peer(
    node: &Node,
    targets: impl IntoIterator<Item = (String, String)>,
    activity: &Activity,
    signer: i64,
) -> Vec<NewDelivery> {
    per_peer_signed(node, targets, activity, Some(signer))
}

/// [`per_peer`], signed by `signer` or (`None`) by the node's own actor.
fn per_peer_signed(
    node: &Node,
    targets: impl IntoIterator<Item = (String, String)>,
    activity: &Activity,
    signer: Option<i64>,
) -> Vec<NewDelivery> {
    let mut by_peer: BTreeMap<String, String> = BTreeMap::new();
    for (domain, inbox) in targets {
        if !node.fed.net.allows(&domain) {
            tracing::info!(peer = %domain, "not delivering to a peer the policy refuses");
            continue;
        }
        by_peer.entry(domain).or_insert(inbox);
    }
    let body = activity.to_json().to_string();
    by_peer
        .into_iter()
        .map(|(peer, inbox)| NewDelivery {
            peer,
            inbox,
            activity: body.clone(),
            signer_id: signer,
        })
        .collect()
}

/// The `org` peers in force. The node's own domain may be listed too (one list for every
/// site); it is no peer.
pub fn org_peers(node: &Node) -> Vec<String> {
    let own = node.urls.domain.to_ascii_lowercase();
    node.fed
        .net
        .org_peers()
        .into_iter()
        .filter(|p| *p != own)
        .collect()
}

/// The shared inbox of every `org` peer: the one its accounts name, or `/inbox` (where fika and
/// Mastodon have it) on a peer we know no account of yet.
pub async fn org_peer_inboxes(node: &Node) -> Result<Vec<(String, String)>, DomainError> {
    peer_inboxes(node, org_peers(node)).await
}

/// The shared inbox of each of `peers`, as [`org_peer_inboxes`] finds them.
pub async fn peer_inboxes(
    node: &Node,
    peers: Vec<String>,
) -> Result<Vec<(String, String)>, DomainError> {
    if peers.is_empty() {
        return Ok(vec![]);
    }
    let known: BTreeMap<String, String> = node.store.shared_inboxes().await?.into_iter().collect();
    Ok(peers
        .into_iter()
        .map(|peer| {
            let inbox = known
                .get(&peer)
                .cloned()
                .unwrap_or_else(|| format!("{}://{peer}/inbox", node.fed.net.scheme_for(&peer)));
            (peer, inbox)
        })
        .collect())
}

fn inbox_of(a: &AccountRow) -> Option<(String, String)> {
    let inbox = a.shared_inbox_url.clone().or_else(|| a.inbox_url.clone())?;
    Some((a.domain.clone(), inbox))
}

/// The AS2 Note for a stored local status. Never built for one no peer may know of
/// (department-only): NotFound, as a peer must see it.
pub async fn note(
    node: &Node,
    status: &StatusRow,
    author: &AccountRow,
) -> Result<protocol::Note, DomainError> {
    if !audience::known_to_peers(status.audience()) {
        return Err(DomainError::NotFound("status"));
    }
    let store = &node.store;
    let mentioned = mentioned_accounts(node, status.id).await?;
    let tags: Vec<String> = store
        .tags_of(&[status.id])
        .await?
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    let media = store.media_of_statuses(&[status.id]).await?;
    let in_reply_to = match status.in_reply_to_id {
        Some(id) => match store.status_by_id(id).await? {
            Some(parent) => Some(status_uri(node, &parent).await?),
            None => None,
        },
        None => None,
    };
    let poll = store.poll(status.id).await?;
    Ok(convert::note(
        &node.urls,
        status,
        author,
        &NoteParts {
            mentioned: &mentioned,
            tags: &tags,
            media: &media,
            in_reply_to,
            audience: group_actor(node, status).await?,
            poll: poll.as_ref(),
        },
    ))
}

/// Deliveries of an Update of a local poll with its counts as they are now, to whoever heard
/// of it and to the voters on other nodes.
pub async fn poll_update_deliveries(
    node: &Node,
    status: &StatusRow,
    author: &AccountRow,
) -> Result<Vec<NewDelivery>, DomainError> {
    if !audience::known_to_peers(status.audience()) {
        return Ok(vec![]);
    }
    let mentioned = mentioned_accounts(node, status.id).await?;
    let mut targets = status_targets(node, status, &mentioned).await?;
    let voters = node.store.poll_voters(status.id, false).await?;
    targets.extend(
        node.store
            .accounts_by_ids(&voters)
            .await?
            .iter()
            .filter_map(inbox_of),
    );
    if targets.is_empty() {
        return Ok(vec![]);
    }
    let object = note(node, status, author).await?;
    let activity = convert::note_activity(
        ActivityKind::Update,
        object,
        &actor_id(node, author),
        Some(now_millis()),
    );
    Ok(per_peer(node, targets, &activity, author.id))
}

/// The actor id of the group a status was posted into, for its `audience`.
pub async fn group_actor(node: &Node, status: &StatusRow) -> Result<Option<String>, DomainError> {
    Ok(match status.group_id {
        Some(g) => node
            .store
            .account_by_id(g)
            .await?
            .map(|a| actor_id(node, &a)),
        None => None,
    })
}

/// The accounts a status mentions.
async fn mentioned_accounts(node: &Node, status: i64) -> Result<Vec<AccountRow>, DomainError> {
    let ids: Vec<i64> = node
        .store
        .mentions_of(&[status])
        .await?
        .into_iter()
        .map(|(_, a)| a)
        .collect();
    Ok(node.store.accounts_by_ids(&ids).await?)
}

/// The AS2 id of any status we hold.
pub async fn status_uri(node: &Node, status: &StatusRow) -> Result<String, DomainError> {
    if let Some(uri) = &status.uri {
        return Ok(uri.clone());
    }
    let author = node
        .store
        .account_by_id(status.account_id)
        .await?
        .ok_or(DomainError::NotFound("account"))?;
    Ok(node.urls.status(&author.username, status.id).to_string())
}

/// Peers that should receive activities about a local status: the author's remote followers
/// (unless direct), remote accounts mentioned in it and, for a public status, every `org`
/// peer; none for a department-only one. [`per_peer`] makes it one delivery per peer.
async fn status_targets(
    node: &Node,
    status: &StatusRow,
    mentioned: &[AccountRow],
) -> Result<Vec<(String, String)>, DomainError> {
    let reach = audience::delivery_targets(status.audience());
    let mut targets = Vec::new();
    // Boosts travel through follows only: the federated timeline lists statuses, not boosts.
    if reach.org_peers && status.reblog_of_id.is_none() {
        targets.extend(org_peer_inboxes(node).await?);
    }
    if reach.followers {
        targets.extend(
            node.store
                .remote_follower_inboxes(status.account_id)
                .await?,
        );
    }
    if reach.mentioned {
        targets.extend(
            mentioned
                .iter()
                .filter(|a| !a.is_local())
                .filter_map(inbox_of),
        );
    }
    Ok(targets)
}

/// Deliveries announcing a new local status (Create) or its edit (Update).
pub async fn status_deliveries(
    node: &Node,
    status: &StatusRow,
    author: &AccountRow,
    parts: &NoteParts<'_>,
    kind: &str,
) -> Result<Vec<NewDelivery>, DomainError> {
    let targets = status_targets(node, status, parts.mentioned).await?;
    if targets.is_empty() {
        return Ok(vec![]);
    }
    let kind = protocol::ActivityKind::parse(kind)
        .ok_or_else(|| DomainError::Internal(format!("{kind} is not an activity type")))?;
    let object = convert::note(&node.urls, status, author, parts);
    let activity =
        convert::note_activity(kind, object, &actor_id(node, author), Some(now_millis()));
    Ok(per_peer(node, targets, &activity, author.id))
}

/// Deliveries of an Add (pinned) or Remove (unpinned) of a local status in its author's
/// `featured` collection, to whoever heard of the status.
pub async fn featured_deliveries(
    node: &Node,
    status: &StatusRow,
    author: &AccountRow,
    pinned: bool,
) -> Result<Vec<NewDelivery>, DomainError> {
    let mentioned = mentioned_accounts(node, status.id).await?;
    let targets = status_targets(node, status, &mentioned).await?;
    if targets.is_empty() {
        return Ok(vec![]);
    }
    let kind = if pinned {
        ActivityKind::Add
    } else {
        ActivityKind::Remove
    };
    let actor = actor_id(node, author);
    let activity = Activity::new(
        kind,
        activity_id(node, author, &kind.as_str().to_lowercase()),
        actor.clone(),
        Object::Id(status_uri(node, status).await?),
    )
    .targeting(fika_federation::actor::featured_url(&actor))
    .addressed(vec![format!("{actor}/followers")], vec![]);
    Ok(per_peer(node, targets, &activity, author.id))
}

/// Deliveries of a Delete for a local status, to whoever heard of it.
pub async fn delete_deliveries(
    node: &Node,
    status: &StatusRow,
    author: &AccountRow,
) -> Result<Vec<NewDelivery>, DomainError> {
    let store = &node.store;
    let mentioned = mentioned_accounts(node, status.id).await?;
    let mut targets = status_targets(node, status, &mentioned).await?;
    let uri = status_uri(node, status).await?;
    let activity = if let Some(target) = status.reblog_of_id {
        // Deleting a reblog is undoing an Announce, told to whoever the Announce went to:
        // its one mention is the original's author.
        let original = store.status_by_id(target).await?;
        if let Some(o) = &original {
            if let Some(a) = store.account_by_id(o.account_id).await? {
                if audience::delivery_targets(status.audience()).mentioned {
                    targets.extend(inbox_of(&a));
                }
            }
        }
        let object = match &original {
            Some(o) => status_uri(node, o).await?,
            // The original is gone; peers match the Announce by its id.
            None => String::new(),
        };
        let announce = Activity::new(
            ActivityKind::Announce,
            format!("{uri}/activity"),
            actor_id(node, author),
            Object::Id(object),
        );
        undo(node, author, announce).addressed(vec![PUBLIC.to_string()], vec![])
    } else {
        Activity::new(
            ActivityKind::Delete,
            format!("{uri}#delete"),
            actor_id(node, author),
            Object::Tombstone(Tombstone::new(uri)),
        )
        .addressed(vec![PUBLIC.to_string()], vec![])
    };
    Ok(per_peer(node, targets, &activity, author.id))
}

/// Deliveries of an Announce (reblog) by `author` of `original`: to the reblogger's followers'
/// nodes and the original author's, as the wrapper's audience allows (none for a boost of a
/// department-only status).
pub async fn announce_deliveries(
    node: &Node,
    reblog: &StatusRow,
    author: &AccountRow,
    original: &StatusRow,
) -> Result<Vec<NewDelivery>, DomainError> {
    let reach = audience::delivery_targets(reblog.audience());
    let mut targets = Vec::new();
    if reach.followers {
        targets.extend(node.store.remote_follower_inboxes(author.id).await?);
    }
    let original_author = node.store.account_by_id(original.account_id).await?;
    if reach.mentioned {
        targets.extend(original_author.as_ref().and_then(inbox_of));
    }
    if targets.is_empty() {
        return Ok(vec![]);
    }
    let object = status_uri(node, original).await?;
    let uri = node.urls.status(&author.username, reblog.id).to_string();
    // Addressed by the reblog's own scope, with the original author as its one mention.
    let original_actor: Vec<String> = original_author.iter().map(|a| actor_id(node, a)).collect();
    let (to, cc) = reblog.visibility.addressing(
        node.urls.followers(&author.username).as_str(),
        &original_actor,
    );
    let activity = Activity::new(
        ActivityKind::Announce,
        format!("{uri}/activity"),
        actor_id(node, author),
        Object::Id(object),
    )
    .addressed(to, cc)
    .published(crate::convert::rfc3339_millis(reblog.created_at));
    Ok(per_peer(node, targets, &activity, author.id))
}

/// Deliveries of a group's Announce of a post into it: to every node with members, once per
/// node, addressed to the members (and, for an open group, as public).
pub async fn group_announce_deliveries(
    node: &Node,
    wrapper: &StatusRow,
    group: &AccountRow,
    original: &StatusRow,
) -> Result<Vec<NewDelivery>, DomainError> {
    let object = status_uri(node, original).await?;
    let announce = Activity::new(
        ActivityKind::Announce,
        format!("{}/activity", node.urls.status(&group.username, wrapper.id)),
        actor_id(node, group),
        Object::Id(object),
    );
    group_relay_deliveries(node, wrapper, group, announce).await
}

/// Deliveries of an activity a group sends about a post it carries (`wrapper` is its
/// announce): to every node with members, addressed as the announce is.
pub async fn group_relay_deliveries(
    node: &Node,
    wrapper: &StatusRow,
    group: &AccountRow,
    activity: Activity,
) -> Result<Vec<NewDelivery>, DomainError> {
    if !audience::delivery_targets(wrapper.audience()).followers {
        return Ok(vec![]);
    }
    let targets = node.store.remote_follower_inboxes(group.id).await?;
    if targets.is_empty() {
        return Ok(vec![]);
    }
    let (to, cc) = wrapper
        .visibility
        .addressing(node.urls.followers(&group.username).as_str(), &[]);
    let activity = activity
        .addressed(to, cc)
        .published(crate::convert::rfc3339_millis(wrapper.created_at));
    Ok(per_peer(node, targets, &activity, group.id))
}

/// The Announce at `/users/GROUP/statuses/ID/activity`, with the post as the group holds it
/// embedded: how members' nodes check what a group relays. An open group's to any allowed
/// peer, a private group's only to peers with members (`requester`: the signer's domain).
pub async fn served_announce(
    node: &Node,
    username: &str,
    id: i64,
    requester: Option<&str>,
) -> Result<Value, DomainError> {
    let group = crate::domain::accounts::find_local(&node.store, username)
        .await?
        .filter(|a| a.is_group && !a.suspended)
        .ok_or(DomainError::NotFound("status"))?;
    let wrapper = node
        .store
        .status_by_id(id)
        .await?
        .filter(|s| s.account_id == group.id && s.reblog_of_id.is_some())
        .ok_or(DomainError::NotFound("status"))?;
    if !audience::served_to_peers(wrapper.audience()) {
        let member_node = match requester {
            Some(domain) => node.store.has_followers_on(group.id, domain).await?,
            None => false,
        };
        if !member_node {
            return Err(DomainError::NotFound("status"));
        }
    }
    let original = node
        .store
        .status_by_id(wrapper.reblog_of_id.unwrap_or_default())
        .await?
        .ok_or(DomainError::NotFound("status"))?;
    let author = node
        .store
        .account_by_id(original.account_id)
        .await?
        .ok_or(DomainError::NotFound("account"))?;
    let mentioned = mentioned_accounts(node, original.id).await?;
    let tags: Vec<String> = node
        .store
        .tags_of(&[original.id])
        .await?
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    let media = node.store.media_of_statuses(&[original.id]).await?;
    let poll = node.store.poll(original.id).await?;
    let in_reply_to = match original.in_reply_to_id {
        Some(p) => match node.store.status_by_id(p).await? {
            Some(parent) => Some(status_uri(node, &parent).await?),
            None => None,
        },
        None => None,
    };
    let note = convert::note(
        &node.urls,
        &original,
        &author,
        &NoteParts {
            mentioned: &mentioned,
            tags: &tags,
            media: &media,
            in_reply_to,
            audience: Some(actor_id(node, &group)),
            poll: poll.as_ref(),
        },
    );
    let (to, cc) = wrapper
        .visibility
        .addressing(node.urls.followers(&group.username).as_str(), &[]);
    let announce = Activity::new(
        ActivityKind::Announce,
        format!("{}/activity", node.urls.status(&group.username, wrapper.id)),
        actor_id(node, &group),
        Object::Note(Box::new(note)),
    )
    .addressed(to, cc)
    .published(crate::convert::rfc3339_millis(wrapper.created_at));
    Ok(announce.to_json())
}

/// Deliveries of an announcement's Create, Update or Delete (`object`) by `author` to the
/// peers that take this node's announcements.
pub async fn announcement_deliveries(
    node: &Node,
    author: &AccountRow,
    peers: Vec<String>,
    kind: ActivityKind,
    id: String,
    object: Object,
) -> Result<Vec<NewDelivery>, DomainError> {
    let targets = peer_inboxes(node, peers).await?;
    if targets.is_empty() {
        return Ok(vec![]);
    }
    let mut activity = Activity::new(kind, id, actor_id(node, author), object);
    activity.context = Some(fika_federation::announcements::context());
    Ok(per_peer(node, targets, &activity, author.id))
}

/// Deliveries telling peers with followers of `account`, and every `org` peer when it is or
/// was discoverable, that its profile changed (Update of the actor). `account` and
/// `featured_tags` are the profile as the change will leave it.
pub async fn profile_deliveries(
    node: &Node,
    account: &AccountRow,
    featured_tags: &[String],
    was_discoverable: bool,
) -> Result<Vec<NewDelivery>, DomainError> {
    let mut targets = node.store.remote_follower_inboxes(account.id).await?;
    // A discoverable profile is in every org peer's directory and search; one that stops
    // being discoverable tells them so once more.
    if account.discoverable || was_discoverable {
        targets.extend(org_peer_inboxes(node).await?);
    }
    Ok(profile_update(node, account, featured_tags, targets))
}

/// An Update of `account`'s actor, one delivery per peer among `targets`.
fn profile_update(
    node: &Node,
    account: &AccountRow,
    featured_tags: &[String],
    targets: Vec<(String, String)>,
) -> Vec<NewDelivery> {
    if targets.is_empty() {
        return vec![];
    }
    let mut person = convert::local_person(account, featured_tags, &node.urls);
    if let Some(o) = person.as_object_mut() {
        o.remove("@context");
    }
    let followers = node.urls.followers(&account.username).to_string();
    let activity = Activity::new(
        ActivityKind::Update,
        activity_id(node, account, "update"),
        actor_id(node, account),
        Object::Actor(Box::new(person)),
    )
    .addressed(vec![PUBLIC.to_string()], vec![followers]);
    per_peer(node, targets, &activity, account.id)
}

/// Updates of every discoverable local profile to one `org` peer, sent once when that peer's
/// backfill is done, so its directory and search know this node's people from the start.
pub async fn directory_deliveries(
    node: &Node,
    peer: &str,
) -> Result<Vec<NewDelivery>, DomainError> {
    let Some(inbox) = org_peer_inboxes(node)
        .await?
        .into_iter()
        .find(|(p, _)| p == peer)
    else {
        return Ok(vec![]);
    };
    let mut out = Vec::new();
    for account in node.store.list_local_accounts().await? {
        if !account.discoverable || account.suspended {
            continue;
        }
        let featured = node.store.featured_tag_names(account.id).await?;
        out.extend(profile_update(
            node,
            &account,
            &featured,
            vec![inbox.clone()],
        ));
    }
    Ok(out)
}

/// The delivery of a single activity to one remote account's inbox (Follow, Accept, Like,
/// ...), to write with the change it announces; none for a local account.
pub fn deliveries_to(
    node: &Node,
    from: &AccountRow,
    to: &AccountRow,
    activity: &Activity,
) -> Vec<NewDelivery> {
    if to.is_local() {
        return vec![];
    }
    per_peer(node, inbox_of(to), activity, from.id)
}

/// The delivery of an activity signed by the node's own actor to one remote account's node
/// (a forwarded report: no person is named to the peer); none for a local account.
pub fn deliveries_as_node(node: &Node, to: &AccountRow, activity: &Activity) -> Vec<NewDelivery> {
    if to.is_local() {
        return vec![];
    }
    per_peer_signed(node, inbox_of(to), activity, None)
}

/// Wakes the delivery worker after a change committed with deliveries (`wrote`).
pub fn wake_deliveries(node: &Node, wrote: bool) {
    if wrote {
        node.fed.wake.notify_one();
    }
}

pub fn follow_activity(node: &Node, from: &AccountRow, to: &AccountRow, id: &str) -> Activity {
    Activity::new(
        ActivityKind::Follow,
        id.to_string(),
        actor_id(node, from),
        Object::Id(actor_id(node, to)),
    )
    .addressed(vec![actor_id(node, to)], vec![])
}

/// A Block of `to` by `from`, under the id kept with the block (an Undo names it).
pub fn block_activity(node: &Node, from: &AccountRow, to: &AccountRow, id: &str) -> Activity {
    Activity::new(
        ActivityKind::Block,
        id.to_string(),
        actor_id(node, from),
        Object::Id(actor_id(node, to)),
    )
    .addressed(vec![actor_id(node, to)], vec![])
}

/// A Follow as an Accept, Reject or Undo embeds it: by the id it was sent with, when known.
pub fn follow_ref(
    node: &Node,
    follower: &AccountRow,
    followed: &AccountRow,
    follow_id: Option<&str>,
) -> Activity {
    Activity {
        id: follow_id.map(String::from),
        ..Activity::new(
            ActivityKind::Follow,
            String::new(),
            actor_id(node, follower),
            Object::Id(actor_id(node, followed)),
        )
        .embedded()
    }
}

/// Accept or Reject of a remote follow of a local account.
pub fn answer_follow(
    node: &Node,
    kind: ActivityKind,
    local: &AccountRow,
    follower: &AccountRow,
    follow_id: Option<&str>,
) -> Activity {
    let follow = follow_ref(node, follower, local, follow_id);
    Activity::new(
        kind,
        activity_id(node, local, &kind.as_str().to_lowercase()),
        actor_id(node, local),
        Object::Activity(Box::new(follow)),
    )
    .addressed(vec![actor_id(node, follower)], vec![])
}

/// Withdraws an activity of `actor`'s (embedded without its `@context`).
pub fn undo(node: &Node, actor: &AccountRow, activity: Activity) -> Activity {
    Activity::new(
        ActivityKind::Undo,
        activity_id(node, actor, "undo"),
        actor_id(node, actor),
        Object::Activity(Box::new(activity.embedded())),
    )
}

pub async fn like_activity(
    node: &Node,
    from: &AccountRow,
    status: &StatusRow,
) -> Result<Activity, DomainError> {
    let uri = status_uri(node, status).await?;
    Ok(Activity::new(
        ActivityKind::Like,
        format!("{}#likes/{}", actor_id(node, from), status.id),
        actor_id(node, from),
        Object::Id(uri),
    ))
}

/// The node's own actor (an Application), with the public key as stored now: read each time,
/// so a key rotated in the database is served at once.
pub async fn node_actor(node: &Node) -> Result<Value, DomainError> {
    let (_, public) = node
        .store
        .node_key(|| (String::new(), String::new()))
        .await?;
    Ok(convert::node_application(&node.urls, &public))
}

/// What a peer gets for the URL of a local status.
pub enum Served {
    Note(Box<protocol::Note>),
    /// The status was deleted.
    Gone(Tombstone),
}

/// The note at the URL of `username`'s status `id`, if peers may have it: only what the
/// audience serves to peers; a tombstone once deleted; otherwise not found.
pub async fn served_note(node: &Node, username: &str, id: i64) -> Result<Served, DomainError> {
    let author = crate::domain::accounts::find_local(&node.store, username)
        .await?
        .ok_or(DomainError::NotFound("account"))?;
    let row = node
        .store
        .status_by_id(id)
        .await?
        .filter(|s| s.account_id == author.id && s.reblog_of_id.is_none());
    let Some(row) = row else {
        let uri = node.urls.status(&author.username, id).to_string();
        return if node.store.is_tombstone(&uri).await? {
            Ok(Served::Gone(Tombstone::new(uri)))
        } else {
            Err(DomainError::NotFound("status"))
        };
    };
    if !audience::served_to_peers(row.audience()) {
        return Err(DomainError::NotFound("status"));
    }
    Ok(Served::Note(Box::new(note(node, &row, &author).await?)))
}

/// `username`'s `featured` collection: its pinned statuses peers may have, newest pin first,
/// in one OrderedCollection (a profile holds a handful).
pub async fn featured(node: &Node, username: &str) -> Result<Value, DomainError> {
    let author = crate::domain::accounts::find_local(&node.store, username)
        .await?
        .filter(|a| !a.suspended)
        .ok_or(DomainError::NotFound("account"))?;
    let ids = node.store.pinned_statuses(author.id).await?;
    let mut items = Vec::with_capacity(ids.len());
    for row in node.store.statuses_by_ids(&ids).await? {
        if audience::served_to_peers(row.audience()) {
            items.push((
                ids.iter().position(|i| *i == row.id),
                json!(note(node, &row, &author).await?),
            ));
        }
    }
    items.sort_by_key(|(at, _)| *at);
    let items: Vec<Value> = items.into_iter().map(|(_, v)| v).collect();
    Ok(json!({
        "@context": fika_federation::AS_CONTEXT,
        "id": fika_federation::actor::featured_url(&actor_id(node, &author)),
        "type": "OrderedCollection",
        "totalItems": items.len(),
        "orderedItems": items,
    }))
}

/// A local account's collections served to peers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    Followers,
    Following,
    Outbox,
}

/// A collection, or one page of it.
pub enum CollectionDoc {
    Whole(protocol::Collection),
    Page(protocol::CollectionPage),
}

/// Items per page of a collection served to peers.
const COLLECTION_PAGE: i64 = 40;

/// `username`'s collection `which`: its size and first page's link, or page `page` (from 1).
pub async fn collection(
    node: &Node,
    username: &str,
    which: Listing,
    page: Option<i64>,
) -> Result<CollectionDoc, DomainError> {
    let account = crate::domain::accounts::find_local(&node.store, username)
        .await?
        .filter(|a| !a.suspended)
        .ok_or(DomainError::NotFound("account"))?;
    let name = match which {
        Listing::Followers => "followers",
        Listing::Following => "following",
        Listing::Outbox => "outbox",
    };
    let base = format!("{}/{name}", node.urls.actor(&account.username));
    let counts = node.store.account_counts(&[account.id]).await?;
    let c = counts.get(&account.id).copied().unwrap_or_default();
    let total = match which {
        Listing::Followers => c.followers,
        Listing::Following => c.following,
        // What peers may list, not every status (department-only ones are not theirs to count).
        Listing::Outbox => {
            node.store
                .outbox_total(&audience::in_outbox(), Some(account.id))
                .await?
        }
    };
    let Some(page) = page.filter(|p| *p >= 1) else {
        return Ok(CollectionDoc::Whole(protocol::Collection::new(base, total)));
    };
    let items = collection_items(node, &account, which, page, COLLECTION_PAGE).await?;
    Ok(CollectionDoc::Page(protocol::CollectionPage::new(
        &base,
        page,
        COLLECTION_PAGE,
        total,
        items,
    )))
}

/// The node's collection of its public statuses (the node actor's outbox), or page `page` of
/// it: what a new `org` peer backfills from. Served, like everything, to allowed peers only.
pub async fn node_collection(node: &Node, page: Option<i64>) -> Result<CollectionDoc, DomainError> {
    let base = format!("{}/outbox", node.urls.node_actor());
    let scopes = audience::in_outbox();
    let total = node.store.outbox_total(&scopes, None).await?;
    let Some(page) = page.filter(|p| *p >= 1) else {
        return Ok(CollectionDoc::Whole(protocol::Collection::new(base, total)));
    };
    let rows = node
        .store
        .outbox_page(&scopes, None, COLLECTION_PAGE, (page - 1) * COLLECTION_PAGE)
        .await?;
    let mut authors: BTreeMap<i64, AccountRow> = BTreeMap::new();
    let mut items = Vec::with_capacity(rows.len());
    for status in rows {
        if !authors.contains_key(&status.account_id) {
            let Some(a) = node.store.account_by_id(status.account_id).await? else {
                continue;
            };
            authors.insert(a.id, a);
        }
        items.push(create_item(node, &status, &authors[&status.account_id]).await?);
    }
    Ok(CollectionDoc::Page(protocol::CollectionPage::new(
        &base,
        page,
        COLLECTION_PAGE,
        total,
        items,
    )))
}

/// Items of page `page` (from 1) of a local account's followers, following or outbox.
async fn collection_items(
    node: &Node,
    account: &AccountRow,
    which: Listing,
    page: i64,
    size: i64,
) -> Result<Vec<Value>, DomainError> {
    let offset = (page - 1) * size;
    match which {
        Listing::Followers | Listing::Following => Ok(node
            .store
            .follow_page(account.id, which == Listing::Followers, size, offset)
            .await?
            .iter()
            .map(|a| json!(actor_id(node, a)))
            .collect()),
        Listing::Outbox => {
            let mut items = Vec::new();
            let scopes = audience::in_outbox();
            for status in node
                .store
                .outbox_page(&scopes, Some(account.id), size, offset)
                .await?
            {
                items.push(create_item(node, &status, account).await?);
            }
            Ok(items)
        }
    }
}

/// A local status as an outbox item: its Create, with the note embedded.
async fn create_item(
    node: &Node,
    status: &StatusRow,
    author: &AccountRow,
) -> Result<Value, DomainError> {
    let object = note(node, status, author).await?;
    let create = convert::note_activity(
        protocol::ActivityKind::Create,
        object,
        &actor_id(node, author),
        None,
    );
    Ok(create.embedded().to_json())
}
