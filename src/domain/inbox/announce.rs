//! Announce: a boost of a status. The object is the status's id, the note itself (trusted only
//! from its own host; otherwise fetched from its id), or an activity about it, as a group
//! relays a member's post (`Announce{Create{Note}}`, FEP-1b12): then the boosted status is the
//! inner activity's object, fetched from its own host, since the relay's signature does not
//! vouch for the inner activity.

use fika_federation::activities::{self, id_of, Note};
use fika_federation::policy::url_domain;
use serde_json::Value;
use url::Url;

use fika_federation::protocol::Inbound;

use super::Ancestors;
use crate::domain::audience::{self, Scope};
use crate::domain::events::Event;
use crate::domain::federation::resolve::{
    actor_id, known_status_for_peers, local_status_id, resolve_actor,
};
use crate::domain::{DomainError, Node};
use crate::store::accounts::AccountRow;
use crate::store::now_millis;
use crate::store::statuses::{NewNotification, NewStatus, StatusRow};

/// Activities a relay may wrap whose object is the status being shared.
const RELAYED: [&str; 2] = ["Create", "Update"];

pub(super) async fn receive(
    node: &Node,
    actor: &AccountRow,
    announce: &Inbound,
    ancestors: Ancestors,
) -> Result<(), DomainError> {
    let id = announce.id.clone();
    if actor.is_group && matches!(announce.object.kind(), Some("Update" | "Delete")) {
        ancestors.may_fetch("a post a group says changed")?;
        return group_change(node, actor, announce).await;
    }
    let relayed = announce.object.kind().is_some_and(|k| RELAYED.contains(&k));
    let (target, embedded) = if relayed {
        // Only the inner object's id is taken from a relayed activity.
        let inner = announce.object.value();
        let target = inner
            .get("object")
            .and_then(id_of)
            .ok_or_else(|| DomainError::Invalid("Announce of an activity without object".into()))?
            .to_string();
        (target, None)
    } else {
        let target = announce
            .object
            .id()
            .ok_or_else(|| DomainError::Invalid("Announce without object".into()))?
            .to_string();
        (target, embedded_note(node, actor, &announce.object.value()))
    };
    let original = match known_status_for_peers(node, &target).await? {
        Some(s) => s,
        // One of ours that is gone or that no peer may know of.
        None if local_status_id(node, &target).is_some() => {
            return Err(DomainError::NotFound("status"))
        }
        None => match embedded {
            Some(note) => {
                ancestors.may_fetch("an announced note's author")?;
                let author = resolve_actor(node, &note.attributed_to).await?;
                super::create::ingest_note(node, &author, note, ancestors).await?
            }
            None => {
                ancestors.may_fetch("an announced note")?;
                if actor.is_group {
                    fetch_for_group(node, actor, &id, &target, ancestors).await?
                } else {
                    super::create::fetch_note_in(node, &target, ancestors).await?
                }
            }
        },
    };
    // A group announces what was posted into it, whatever its scope: its members are the
    // audience (checked per viewer by the audience rules).
    let carried = actor.is_group && original.group_id == Some(actor.id);
    if !audience::may_reblog(original.audience()) && !carried {
        return Err(DomainError::Invalid(
            "Announce of a status that cannot be reblogged".into(),
        ));
    }
    let scope = Scope::from_addressing(
        &announce.to,
        &announce.cc,
        actor.followers_url.as_deref(),
        false,
    )
    .map_err(|e| DomainError::Invalid(format!("Announce {id}: {e}")))
    .and_then(|s| {
        audience::reblog_scope(Some(s)).map_err(|e| DomainError::Invalid(e.to_string()))
    })?;
    if node.store.status_by_uri(&id).await?.is_some() {
        return Ok(());
    }
    let author = node
        .store
        .account_by_id(original.account_id)
        .await?
        .ok_or(DomainError::NotFound("account"))?;
    let mut home = node.store.follower_ids_showing_reblogs(actor.id).await?;
    home.sort_unstable();
    let notification = author.is_local().then(|| NewNotification {
        report_id: None,
        id: crate::ids::next_id(),
        account_id: author.id,
        from_account_id: actor.id,
        kind: "reblog",
        status_id: Some(original.id),
    });
    let status_id = crate::ids::next_id();
    let new = NewStatus {
        poll: None,
        conversation: None,
        row: StatusRow {
            id: status_id,
            account_id: actor.id,
            uri: Some(id),
            url: None,
            text: String::new(),
            content: String::new(),
            spoiler_text: String::new(),
            sensitive: false,
            visibility: scope,
            language: None,
            in_reply_to_id: None,
            in_reply_to_account_id: None,
            reblog_of_id: Some(original.id),
            app_name: None,
            app_website: None,
            created_at: now_millis(),
            edited_at: None,
            locality: audience::Locality::Federated,
            group_id: original.group_id.filter(|g| *g == actor.id),
        },
        mentions: vec![],
        tags: vec![],
        media_ids: vec![],
        feed_recipients: home.clone(),
        notifications: notification.iter().cloned().collect(),
        idempotency_key: None,
        deliveries: vec![],
    };
    match node.store.insert_status(&new).await {
        Ok(true) => node.fanout_wake.notify_one(),
        Ok(false) | Err(crate::store::StoreError::Conflict(_)) => {}
        Err(e) => return Err(e.into()),
    }
    node.hub.publish(Event::Status {
        status_id,
        edited: false,
        // Followers' `user` streams hear of it from the fan-out worker.
        audience: audience::reblog_stream_audience(audience::immediate_home(actor.id, &home)),
    });
    node.hub.notified(&notification);
    Ok(())
}

/// A note embedded in an Announce, when it can be trusted as it is: sent by an actor on the
/// note's own host, and attributed to an actor there. Anything else is fetched from its id.
fn embedded_note(node: &Node, sender: &AccountRow, object: &Value) -> Option<Note> {
    if !object.is_object() {
        return None;
    }
    let note = activities::parse_note(object).ok()?;
    let domain = |url: &str| Url::parse(url).ok().and_then(|u| url_domain(&u));
    let note_domain = domain(&note.id)?;
    let trusted = domain(&actor_id(node, sender)).as_deref() == Some(note_domain.as_str())
        && domain(&note.attributed_to).as_deref() == Some(note_domain.as_str());
    trusted.then_some(note)
}

/// A post a group announces that we do not hold: read from its origin, or, when the origin
/// does not show it to this node (a private group's post), from the group's own copy of its
/// announce, which the group's node serves to nodes with members.
async fn fetch_for_group(
    node: &Node,
    group: &AccountRow,
    announce_id: &str,
    target: &str,
    ancestors: Ancestors,
) -> Result<StatusRow, DomainError> {
    match super::create::fetch_note_in(node, target, ancestors).await {
        Ok(row) => Ok(row),
        Err(e) if e.is_transient() => Err(e),
        Err(from_origin) => {
            let Some(note) = note_from_group(node, group, announce_id, target).await? else {
                return Err(from_origin);
            };
            let author = resolve_actor(node, &note.attributed_to).await?;
            super::create::ingest_note(node, &author, note, ancestors).await
        }
    }
}

/// The post `target` as `group` carries it, read (signed) from the group's host at the id of
/// its announce: `None` when the group no longer carries it (404, 410).
async fn note_from_group(
    node: &Node,
    group: &AccountRow,
    announce_id: &str,
    target: &str,
) -> Result<Option<Note>, DomainError> {
    let mut url = Url::parse(announce_id)
        .map_err(|_| DomainError::Invalid(format!("announce id {announce_id} is not a URL")))?;
    url.set_fragment(None);
    if url_domain(&url).as_deref() != Some(group.domain.as_str()) {
        return Err(DomainError::Invalid(format!(
            "announce {announce_id} is not on the group's node {}",
            group.domain
        )));
    }
    let doc = match node
        .fed
        .net
        .get_json(url.as_str(), &node.fed.node_signer)
        .await
    {
        Ok(doc) => doc,
        Err(crate::net::NetError::Status {
            status: 404 | 410, ..
        }) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let group_id = actor_id(node, group);
    let by_group = activities::type_of(&doc) == Some("Announce")
        && doc.get("actor").and_then(id_of) == Some(group_id.as_str());
    let object = doc.get("object").cloned().unwrap_or_default();
    let note = activities::parse_note(&object).ok();
    match note {
        Some(note) if by_group && note.id == target => Ok(Some(note)),
        _ => Err(DomainError::Invalid(format!(
            "{url} is not {group_id}'s announce of {target}"
        ))),
    }
}

/// A group says a post it carries was edited or deleted: read the post again (from its origin,
/// else from the group) and apply what is true now. Nothing the group says is taken as it is.
async fn group_change(
    node: &Node,
    group: &AccountRow,
    announce: &Inbound,
) -> Result<(), DomainError> {
    let inner = announce.object.value();
    let target = inner
        .get("object")
        .and_then(id_of)
        .ok_or_else(|| DomainError::Invalid("Announce of an activity without object".into()))?
        .to_string();
    if local_status_id(node, &target).is_some() {
        // Ours: this node made the change itself.
        return Ok(());
    }
    let Some(held) = node.store.status_by_uri(&target).await? else {
        return Ok(());
    };
    if held.group_id != Some(group.id) {
        return Err(DomainError::Invalid(format!(
            "group {} relays a change to {target}, which it does not carry",
            actor_id(node, group)
        )));
    }
    let author = node
        .store
        .account_by_id(held.account_id)
        .await?
        .ok_or(DomainError::NotFound("account"))?;
    let current = match node.fed.net.get_json(&target, &node.fed.node_signer).await {
        Ok(doc) if activities::type_of(&doc) == Some("Tombstone") => None,
        Ok(doc) => Some(
            activities::parse_note(&doc)
                .map_err(|e| DomainError::Invalid(format!("note {target}: {e}")))?,
        ),
        Err(crate::net::NetError::Status {
            status: 404 | 410, ..
        }) => None,
        Err(e) if !e.is_permanent() => return Err(e.into()),
        Err(_) => note_from_group(node, group, &announce.id, &target).await?,
    };
    match current {
        None => {
            let stream = crate::domain::statuses::audience_of(node, &held).await?;
            node.store.delete_status(held.id, None, &[]).await?;
            node.hub.publish(Event::Delete {
                status_id: held.id,
                audience: stream,
            });
            tracing::info!(status = %target, group = %actor_id(node, group), "post deleted, as its group relayed");
            Ok(())
        }
        Some(note) => {
            if note.id != target || Some(note.attributed_to.as_str()) != author.ap_id.as_deref() {
                return Err(DomainError::Invalid(format!(
                    "{target} read back is not the post held"
                )));
            }
            super::update::edit_note(node, &author, note).await
        }
    }
}
