//! Update of a note (an edit) or of the actor (its profile).

use fika_federation::activities::Note;
use fika_federation::protocol::InboundObject;

use super::Ancestors;
use crate::convert::activitypub::{self as convert};
use crate::domain::events::Event;
use crate::domain::federation::resolve::{actor_id, fetch_actor, known_account};
use crate::domain::{DomainError, Node};
use crate::store::accounts::AccountRow;
use crate::store::now_millis;
use crate::store::statuses::NewStatus;

const NOTE_TYPES: [&str; 4] = ["Note", "Article", "Page", "Question"];
const ACTOR_TYPES: [&str; 5] = ["Person", "Service", "Application", "Group", "Organization"];

/// An Update must carry a note attributed to its actor, or the actor itself.
pub(super) fn check(object: &InboundObject, actor: &str) -> Result<(), DomainError> {
    match object.kind() {
        Some(k) if NOTE_TYPES.contains(&k) => {
            super::authored_note(&object.value(), actor, "Update").map(|_| ())
        }
        Some(k) if ACTOR_TYPES.contains(&k) => {
            if object.id() != Some(actor) {
                return Err(DomainError::Invalid("Update of another actor".into()));
            }
            Ok(())
        }
        other => Err(DomainError::Invalid(format!(
            "Update of unsupported object type {other:?}"
        ))),
    }
}

pub(super) async fn receive(
    node: &Node,
    actor: &AccountRow,
    object: &InboundObject,
    ancestors: Ancestors,
) -> Result<(), DomainError> {
    let actor_url = actor_id(node, actor);
    check(object, &actor_url)?;
    if object.kind().is_some_and(|k| ACTOR_TYPES.contains(&k)) {
        // The profile changed: read it from its owner rather than trust the copy.
        ancestors.may_fetch("the updated actor")?;
        return fetch_actor(node, &actor_url).await.map(|_| ());
    }
    let note = super::authored_note(&object.value(), &actor_url, "Update")?;
    self::note(node, actor, note, ancestors).await
}

async fn note(
    node: &Node,
    author: &AccountRow,
    note: Note,
    ancestors: Ancestors,
) -> Result<(), DomainError> {
    if node.store.status_by_uri(&note.id).await?.is_none() {
        super::create::ingest_note(node, author, note, ancestors).await?;
        return Ok(());
    }
    edit_note(node, author, note).await
}

/// Applies an edit to a note we hold (its author's, as read from them or their group).
pub(super) async fn edit_note(
    node: &Node,
    author: &AccountRow,
    note: Note,
) -> Result<(), DomainError> {
    let store = &node.store;
    let Some(current) = store.status_by_uri(&note.id).await? else {
        return Err(DomainError::NotFound("status"));
    };
    if current.account_id != author.id {
        return Err(DomainError::Invalid(
            "Update of someone else's status".into(),
        ));
    }
    // A poll's counts are taken from every Update; one that carries no edit (no `updated`, or
    // the edit we hold) changes nothing else.
    if note.poll.is_some() {
        crate::domain::polls::refresh_remote(node, current.id, &note).await?;
        if note.updated.is_none() {
            return Ok(());
        }
    }
    // The edit's own time, not when it arrived; one not newer than what we hold (a duplicate,
    // or an older Update overtaken by a newer one) changes nothing.
    let now = now_millis();
    let edited_at = convert::edit_time(&note, now);
    if current.edited_at.is_some_and(|held| edited_at <= held) {
        tracing::debug!(
            status = current.id,
            "Update not newer than the held edit, ignored"
        );
        return Ok(());
    }
    let mut row = current.clone();
    convert::apply_remote_edit(&mut row, &note, edited_at);
    let media: Vec<i64> = store
        .media_of_statuses(&[current.id])
        .await?
        .iter()
        .map(|m| m.id)
        .collect();
    let mut mention_ids = Vec::new();
    for href in &note.mentions {
        if let Some(a) = known_account(node, href).await? {
            mention_ids.push(a.id);
        }
    }
    // A group here that carries it tells its members' nodes, with the edit.
    let deliveries = crate::domain::group_posts::relay_change(
        node,
        &row,
        fika_federation::protocol::ActivityKind::Update,
    )
    .await?;
    let new = NewStatus {
        poll: None,
        conversation: None,
        row,
        mentions: mention_ids,
        tags: note
            .hashtags
            .iter()
            .map(|t| (t.to_lowercase(), t.clone()))
            .collect(),
        media_ids: media,
        feed_recipients: vec![],
        notifications: vec![],
        idempotency_key: None,
        deliveries,
    };
    store
        .edit_status(
            &current,
            &new.media_ids.clone(),
            &new,
            current.edited_at.is_none(),
        )
        .await?;
    crate::domain::federation::outbound::wake_deliveries(node, !new.deliveries.is_empty());
    let audience = crate::domain::statuses::audience_of(node, &current).await?;
    node.hub.publish(Event::Status {
        status_id: current.id,
        edited: true,
        audience,
    });
    Ok(())
}
