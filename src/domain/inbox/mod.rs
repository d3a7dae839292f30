//! Inbound: what an activity from a peer does here, one module per kind. The inbox has checked
//! the signature, the policy and the shape ([`check_shape`]) and queued the activity; the inbox
//! worker calls [`receive`], which parses it into the typed envelope and dispatches on its kind.

mod announce;
mod answer;
pub mod create;
mod delete;
mod follow;
mod like;
mod undo;
mod update;

use fika_federation::activities::{self, id_of, type_of, Note};
use serde_json::Value;

use crate::domain::federation::resolve::actor_id;
use crate::domain::{DomainError, Node};
use crate::store::accounts::AccountRow;

// ---------------------------------------------------------------------------------------------
// Inbound
/// Ancestors of a received note fetched at most, so a chain of replies (or a loop of them)
/// cannot make us fetch forever.
pub const MAX_ANCESTORS: u32 = 8;

/// What storing a reply does when its parent cannot be fetched for a reason that may pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingParent {
    /// Fail with that error, so the activity is tried again later.
    Retry,
    /// Store the reply without the link to its parent.
    Skip,
}

/// How many more ancestors may be fetched while storing a note, and what a failure does.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ancestors {
    pub(crate) left: u32,
    pub(crate) missing: MissingParent,
}

impl Ancestors {
    pub(crate) fn parent(self) -> Ancestors {
        Ancestors {
            left: self.left.saturating_sub(1),
            ..self
        }
    }
}

/// What an activity needs for `receive` to act on it, checked before it is accepted: the
/// inbox refuses (422) what fails here instead of queueing it. `actor` is the signer's id.
pub fn check_shape(activity: &Value, actor: &str) -> Result<(), DomainError> {
    let object = activity.get("object").unwrap_or(&Value::Null);
    let needs_object = |what: &str| match id_of(object) {
        Some(_) => Ok(()),
        None => Err(DomainError::Invalid(format!("{what} without object"))),
    };
    match type_of(activity).unwrap_or("") {
        "Follow" | "Like" | "Delete" | "Announce" => {
            needs_object(type_of(activity).unwrap_or_default())
        }
        "Accept" | "Reject" => Ok(()),
        "Undo" => match type_of(object) {
            Some("Follow" | "Like" | "Announce") => Ok(()),
            other => Err(DomainError::Invalid(format!(
                "Undo of unsupported type {other:?}"
            ))),
        },
        "Create" => authored_note(object, actor, "Create").map(|_| ()),
        "Update" => match type_of(object) {
            Some("Note" | "Article" | "Page" | "Question") => {
                authored_note(object, actor, "Update").map(|_| ())
            }
            Some("Person" | "Service" | "Application" | "Group" | "Organization") => {
                if id_of(object) != Some(actor) {
                    return Err(DomainError::Invalid("Update of another actor".into()));
                }
                Ok(())
            }
            other => Err(DomainError::Invalid(format!(
                "Update of unsupported object type {other:?}"
            ))),
        },
        other => Err(DomainError::Invalid(format!(
            "unsupported activity type {other:?}"
        ))),
    }
}

/// The Note of a Create or Update, which must be attributed to the activity's actor.
pub(crate) fn authored_note(object: &Value, actor: &str, kind: &str) -> Result<Note, DomainError> {
    let note =
        activities::parse_note(object).map_err(|e| DomainError::Invalid(format!("{kind}: {e}")))?;
    if note.attributed_to != actor {
        return Err(DomainError::Invalid(format!(
            "{kind} of a note attributed to someone else"
        )));
    }
    Ok(note)
}

/// Handles an activity whose signature has been verified as `actor`'s. Missing parents of a
/// received note, and an announced note, are fetched (up to [`MAX_ANCESTORS`] ancestors);
/// `missing` says what a parent that cannot be fetched yet does.
pub async fn receive(
    node: &Node,
    actor: &AccountRow,
    activity: &Value,
    missing: MissingParent,
) -> Result<(), DomainError> {
    let kind = type_of(activity).unwrap_or("");
    let object = activity.get("object").cloned().unwrap_or(Value::Null);
    let ancestors = Ancestors {
        left: MAX_ANCESTORS,
        missing,
    };
    match kind {
        "Follow" => follow::receive(node, actor, activity).await,
        "Accept" | "Reject" => answer::receive(node, actor, &object, kind == "Accept").await,
        "Undo" => undo::receive(node, actor, &object).await,
        "Create" => {
            let note = authored_note(&object, &actor_id(node, actor), "Create")?;
            create::ingest_note(node, actor, note, ancestors)
                .await
                .map(|_| ())
        }
        "Update" => match type_of(&object) {
            Some("Note" | "Article" | "Page" | "Question") => {
                let note = authored_note(&object, &actor_id(node, actor), "Update")?;
                update::note(node, actor, note, ancestors).await
            }
            Some("Person" | "Service" | "Application" | "Group" | "Organization") => {
                if id_of(&object) != Some(actor_id(node, actor).as_str()) {
                    return Err(DomainError::Invalid("Update of another actor".into()));
                }
                crate::domain::federation::resolve::fetch_actor(node, &actor_id(node, actor))
                    .await
                    .map(|_| ())
            }
            other => Err(DomainError::Invalid(format!(
                "Update of unsupported object type {other:?}"
            ))),
        },
        "Delete" => delete::receive(node, actor, &object).await,
        "Like" => like::receive(node, actor, activity).await,
        "Announce" => announce::receive(node, actor, activity, ancestors).await,
        other => Err(DomainError::Invalid(format!(
            "unsupported activity type {other:?}"
        ))),
    }
}
