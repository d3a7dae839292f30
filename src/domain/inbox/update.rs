//! Update of a note (an edit) or of the actor (its profile).

use fika_federation::activities::Note;

use super::Ancestors;
use crate::convert::activitypub::{self as convert};
use crate::domain::events::Event;
use crate::domain::federation::resolve::known_account;
use crate::domain::{DomainError, Node};
use crate::store::accounts::AccountRow;
use crate::store::now_millis;
use crate::store::statuses::NewStatus;

pub(super) async fn note(
    node: &Node,
    author: &AccountRow,
    note: Note,
    ancestors: Ancestors,
) -> Result<(), DomainError> {
    let store = &node.store;
    let Some(current) = store.status_by_uri(&note.id).await? else {
        super::create::ingest_note(node, author, note, ancestors).await?;
        return Ok(());
    };
    if current.account_id != author.id {
        return Err(DomainError::Invalid(
            "Update of someone else's status".into(),
        ));
    }
    let mut row = current.clone();
    row.content = convert::sanitize(&note.content);
    row.spoiler_text = note.summary.clone().unwrap_or_default();
    row.sensitive = note.sensitive || note.summary.is_some();
    row.edited_at = Some(now_millis());
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
    let new = NewStatus {
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
        deliveries: vec![],
    };
    store
        .edit_status(
            &current,
            &new.media_ids.clone(),
            &new,
            current.edited_at.is_none(),
        )
        .await?;
    let audience = crate::domain::statuses::audience_of(node, &current).await?;
    node.hub.publish(Event::Status {
        status_id: current.id,
        edited: true,
        audience,
    });
    Ok(())
}
