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
                super::create::fetch_note_in(node, &target, ancestors).await?
            }
        },
    };
    if !audience::may_reblog(original.audience()) {
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
        id: crate::ids::next_id(),
        account_id: author.id,
        from_account_id: actor.id,
        kind: "reblog",
        status_id: Some(original.id),
    });
    let status_id = crate::ids::next_id();
    let new = NewStatus {
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
