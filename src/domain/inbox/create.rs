//! Create of a note, and fetching notes we do not hold (a reply's parent, a boosted or searched
//! status), with their ancestors up to a limit.

use fika_federation::activities::{self, Note};
use fika_federation::policy::url_domain;
use url::Url;

use super::{Ancestors, MissingParent};
use crate::convert::activitypub::{self as convert};
use crate::domain::audience::{self, Audience, Origin, Scope, StatusFacts};
use crate::domain::events::Event;
use crate::domain::federation::resolve::{
    self, known_account, known_status_for_peers, local_account_by_url, resolve_actor,
};
use crate::domain::{DomainError, Node};
use crate::store::accounts::AccountRow;
use crate::store::now_millis;
use crate::store::statuses::{NewNotification, NewStatus, StatusRow};

/// Fetches a remote note we do not hold (a searched-for status) and stores it, without its
/// missing ancestors.
pub async fn fetch_note(node: &Node, url: &str) -> Result<StatusRow, DomainError> {
    let ancestors = Ancestors {
        left: 0,
        missing: MissingParent::Skip,
    };
    fetch_note_in(node, url, ancestors).await
}

/// Fetches a remote note we do not hold (an announced or replied-to status) and stores it,
/// with as many of its missing ancestors as `ancestors` allows.
pub(super) async fn fetch_note_in(
    node: &Node,
    url: &str,
    ancestors: Ancestors,
) -> Result<StatusRow, DomainError> {
    let (_, domain) = node.fed.net.check(url)?;
    let doc = node.fed.net.get_json(url, &node.fed.node_signer).await?;
    let note = activities::parse_note(&doc)
        .map_err(|e| DomainError::Invalid(format!("note {url}: {e}")))?;
    let note_domain = Url::parse(&note.id).ok().and_then(|u| url_domain(&u));
    if note_domain.as_deref() != Some(domain.as_str()) {
        return Err(DomainError::Invalid(format!(
            "note {} is not on {domain}",
            note.id
        )));
    }
    let author = resolve_actor(node, &note.attributed_to).await?;
    ingest_note(node, &author, note, ancestors).await
}

/// The parent of a note being stored: held already, or fetched (with its own ancestors) while
/// `ancestors` allows. `None` when there is none to link: not fetchable for good (gone,
/// refused by the policy), beyond the depth limit, or failing with `MissingParent::Skip`.
pub(super) async fn parent_of(
    node: &Node,
    uri: &str,
    ancestors: Ancestors,
) -> Result<Option<StatusRow>, DomainError> {
    if let Some(parent) = known_status_for_peers(node, uri).await? {
        return Ok(Some(parent));
    }
    if resolve::local_status_id(node, uri).is_some() {
        // One of ours that is gone, or that no peer may know of: nothing to fetch or link.
        return Ok(None);
    }
    if ancestors.left == 0 {
        tracing::debug!(parent = uri, "not fetching a parent beyond the depth limit");
        return Ok(None);
    }
    ancestors.may_fetch("a reply's parent")?;
    // Boxed: fetching a parent stores it, which may fetch its parent in turn.
    match Box::pin(fetch_note_in(node, uri, ancestors.parent())).await {
        Ok(parent) => Ok(Some(parent)),
        Err(e @ DomainError::Store(_)) => Err(e),
        Err(e) if e.is_transient() && ancestors.missing == MissingParent::Retry => Err(e),
        Err(e) => {
            tracing::info!(parent = uri, error = %e, "storing a reply without its parent, which cannot be fetched");
            Ok(None)
        }
    }
}

/// A Create received from a peer: stored, unless it comes unasked from a partner peer (see
/// [`audience::takes_unsolicited`]).
pub(super) async fn receive(
    node: &Node,
    author: &AccountRow,
    note: Note,
    ancestors: Ancestors,
) -> Result<(), DomainError> {
    // A vote on one of our polls is counted, not stored as a status.
    if note.is_vote() && crate::domain::polls::receive_vote(node, author, &note).await? {
        return Ok(());
    }
    let taken = node
        .fed
        .net
        .tier(&author.domain)
        .is_none_or(audience::takes_unsolicited);
    if !taken && !solicited(node, author, &note).await? {
        return Err(DomainError::Invalid(format!(
            "note {} from a partner peer, by an author nobody here follows, for nobody here",
            note.id
        )));
    }
    let row = ingest_note(node, author, note, ancestors).await?;
    // A post into a group hosted here: the group announces it to its members.
    crate::domain::group_posts::announce(node, &row).await
}

/// Did anyone here ask for this note: a local follower of its author, a local account
/// mentioned or addressed, or a status we hold that it replies to?
async fn solicited(node: &Node, author: &AccountRow, note: &Note) -> Result<bool, DomainError> {
    if node.store.status_by_uri(&note.id).await?.is_some()
        || !node.store.follower_ids(author.id).await?.is_empty()
    {
        return Ok(true);
    }
    for href in note.mentions.iter().chain(&note.to).chain(&note.cc) {
        if local_account_by_url(node, href).await?.is_some() {
            return Ok(true);
        }
    }
    Ok(match &note.in_reply_to {
        Some(uri) => known_status_for_peers(node, uri).await?.is_some(),
        None => false,
    })
}

/// How a note being stored came: as news (delivered, or fetched as it was needed), or from a
/// backfill of a peer's past statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arrival {
    News,
    /// Placed in time by its publication date (its id sorts there in every timeline), with no
    /// notifications and no stream events: it is history, not news.
    Backfill,
}

/// Stores a remote note (idempotently) and delivers it into local home feeds and notifications.
/// A missing parent is fetched as `ancestors` allows.
pub(super) async fn ingest_note(
    node: &Node,
    author: &AccountRow,
    note: Note,
    ancestors: Ancestors,
) -> Result<StatusRow, DomainError> {
    store_note(node, author, note, ancestors, Arrival::News).await
}

/// Stores a public note read from an `org` peer's collection of its public statuses, without
/// its parents; `true` when it was not held before. The caller checked it comes from `peer`.
pub async fn ingest_backfilled(
    node: &Node,
    author: &AccountRow,
    note: Note,
) -> Result<bool, DomainError> {
    if node.store.status_by_uri(&note.id).await?.is_some() {
        return Ok(false);
    }
    let ancestors = Ancestors {
        left: 0,
        missing: MissingParent::Skip,
    };
    store_note(node, author, note, ancestors, Arrival::Backfill).await?;
    Ok(true)
}

async fn store_note(
    node: &Node,
    author: &AccountRow,
    note: Note,
    ancestors: Ancestors,
    arrival: Arrival,
) -> Result<StatusRow, DomainError> {
    let store = &node.store;
    if let Some(existing) = store.status_by_uri(&note.id).await? {
        return Ok(existing);
    }
    if store.is_tombstone(&note.id).await? {
        return Err(DomainError::Invalid(format!(
            "note {} was deleted by its author",
            note.id
        )));
    }
    let mut mentioned: Vec<AccountRow> = Vec::new();
    for href in &note.mentions {
        if let Some(a) = known_account(node, href).await? {
            if !mentioned.iter().any(|m| m.id == a.id) {
                mentioned.push(a);
            }
        }
    }
    // A direct note reaches only those addressed; addressed local accounts count as mentioned.
    for addressed in note.to.iter().chain(&note.cc) {
        if let Some(a) = local_account_by_url(node, addressed).await? {
            if !mentioned.iter().any(|m| m.id == a.id) {
                mentioned.push(a);
            }
        }
    }
    // The group it was posted into (FEP-1b12 `audience`, or a group it mentions or addresses).
    let mut group: Option<AccountRow> = mentioned.iter().find(|a| a.is_group).cloned();
    if group.is_none() {
        for href in note.audience.iter().chain(&note.to).chain(&note.cc) {
            if let Some(a) = known_account(node, href).await?.filter(|a| a.is_group) {
                group = Some(a);
                break;
            }
        }
    }
    let local_mentioned: Vec<i64> = mentioned
        .iter()
        .filter(|a| a.is_local() && !a.is_group)
        .map(|a| a.id)
        .collect();
    let visibility = Scope::from_addressing(
        &note.to,
        &note.cc,
        author.followers_url.as_deref(),
        !local_mentioned.is_empty() || group.is_some(),
    )
    .map_err(|e| DomainError::Invalid(format!("note {}: {e}", note.id)))?;
    // What a peer sends has left its node already.
    let status_audience = Audience::federated(visibility);
    let reply_to = match &note.in_reply_to {
        Some(uri) => parent_of(node, uri, ancestors).await?,
        None => None,
    };
    let created_at = note
        .published
        .as_deref()
        .and_then(|p| chrono::DateTime::parse_from_rfc3339(p).ok())
        .map(|d| d.timestamp_millis())
        .unwrap_or_else(now_millis)
        .min(now_millis());
    let id = match arrival {
        Arrival::News => crate::ids::next_id(),
        Arrival::Backfill => crate::ids::id_at(created_at),
    };
    let reply_account = reply_to.as_ref().map(|r| r.account_id);
    // Followed hashtags bring news into home feeds, not history.
    let tag_names: Vec<String> = match arrival {
        Arrival::News => note.hashtags.iter().map(|t| t.to_lowercase()).collect(),
        Arrival::Backfill => vec![],
    };
    let home = crate::domain::statuses::home_recipients(
        node,
        status_audience,
        author.id,
        reply_account,
        &local_mentioned,
        &tag_names,
    )
    .await?
    .into_iter()
    .filter(|r| *r != author.id)
    .collect::<Vec<_>>();
    let notified: &[i64] = match arrival {
        Arrival::News => &local_mentioned,
        Arrival::Backfill => &[],
    };
    let notifications: Vec<NewNotification> = notified
        .iter()
        .map(|a| NewNotification {
            report_id: None,
            id: crate::ids::next_id(),
            account_id: *a,
            from_account_id: author.id,
            kind: "mention",
            status_id: Some(id),
        })
        .collect();
    let mut notifications = notifications;
    if arrival == Arrival::News {
        notifications.extend(
            crate::domain::statuses::status_notifications(
                node,
                author.id,
                id,
                visibility,
                &home,
                &local_mentioned,
            )
            .await?,
        );
    }
    let tags: Vec<(String, String)> = note
        .hashtags
        .iter()
        .filter(|t| !t.is_empty())
        .map(|t| (t.to_lowercase(), t.clone()))
        .collect();
    let new = NewStatus {
        poll: convert::remote_poll(&note, id),
        conversation: crate::domain::conversations::entry(
            node,
            visibility,
            id,
            author,
            reply_to.as_ref(),
            &mentioned,
        )
        .await?,
        row: convert::remote_status(
            &note,
            convert::RemoteStatusFacts {
                id,
                account_id: author.id,
                scope: visibility,
                in_reply_to: reply_to.as_ref().map(|r| (r.id, r.account_id)),
                created_at,
                group_id: group
                    .as_ref()
                    .map(|g| g.id)
                    .or(reply_to.as_ref().and_then(|r| r.group_id)),
            },
        ),
        mentions: mentioned.iter().map(|a| a.id).collect(),
        tags: tags.clone(),
        media_ids: vec![],
        feed_recipients: home.clone(),
        notifications: notifications.clone(),
        idempotency_key: None,
        deliveries: vec![],
    };
    let queued = match store.insert_status(&new).await {
        Ok(queued) => queued,
        Err(crate::store::StoreError::Conflict(_)) => {
            return store
                .status_by_uri(&note.id)
                .await?
                .ok_or(DomainError::NotFound("status"));
        }
        Err(e) => return Err(e.into()),
    };
    for a in &note.attachments {
        store
            .insert_remote_media(
                id,
                author.id,
                &a.url,
                a.media_type.as_deref().unwrap_or("image/jpeg"),
                a.name.as_deref().unwrap_or(""),
            )
            .await?;
    }
    // Woken once the attachments are there, so followers' streams render them.
    if queued {
        node.fanout_wake.notify_one();
    }
    if arrival == Arrival::Backfill {
        return Ok(new.row);
    }
    node.hub.publish(Event::Status {
        status_id: id,
        edited: false,
        audience: audience::stream_audience(StatusFacts {
            audience: status_audience,
            origin: Origin::Remote,
            author: author.id,
            // Followers' `user` streams hear of it from the fan-out worker.
            home: audience::immediate_home(author.id, &home),
            mentioned: &local_mentioned,
            tags: tags.into_iter().map(|t| t.0).collect(),
            with_media: !note.attachments.is_empty(),
        }),
    });
    node.hub.notified(&notifications);
    // As stored: a new status has no counts yet.
    Ok(new.row)
}
