//! Inbound: what an activity from a peer does here, one module per kind. The inbox has checked
//! the signature, the policy and the shape ([`check_shape`]); [`accept`] acts on the activity
//! in the request when that needs no fetch, and queues it for the inbox worker otherwise. Both
//! call [`receive`], which parses it into the typed envelope and dispatches on its kind.

mod announce;
mod answer;
mod block;
pub mod create;
mod delete;
mod featured;
mod follow;
mod like;
mod undo;
mod update;

use fika_federation::activities::{self, Note};
use fika_federation::protocol::{parse_inbound, ActivityKind, Inbound};
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
    /// Fetch nothing: fail with [`DomainError::Deferred`] where a fetch would be needed, before
    /// anything is written. The inbox acts in the request on what needs no fetch and queues
    /// the rest.
    Defer,
}

/// How many more ancestors may be fetched while storing a note, and what a failure does.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ancestors {
    pub(crate) left: u32,
    pub(crate) missing: MissingParent,
}

impl Ancestors {
    /// Whether `what` may be fetched now: [`DomainError::Deferred`] when fetching is deferred.
    pub(crate) fn may_fetch(self, what: &'static str) -> Result<(), DomainError> {
        match self.missing {
            MissingParent::Defer => Err(DomainError::Deferred(what)),
            MissingParent::Retry | MissingParent::Skip => Ok(()),
        }
    }

    pub(crate) fn parent(self) -> Ancestors {
        Ancestors {
            left: self.left.saturating_sub(1),
            ..self
        }
    }
}

/// What an activity needs for `receive` to act on it, checked before it is accepted: the
/// inbox refuses (422) what fails here instead of queueing it. `actor` is the signer's id.
/// Returns the typed envelope.
pub fn check_shape(activity: &Value, actor: &str) -> Result<Inbound, DomainError> {
    let inbound = parse_inbound(activity).map_err(|e| DomainError::Invalid(e.to_string()))?;
    let object = &inbound.object;
    match inbound.kind {
        ActivityKind::Follow
        | ActivityKind::Like
        | ActivityKind::Delete
        | ActivityKind::Announce
        | ActivityKind::Accept
        | ActivityKind::Reject
        | ActivityKind::Block
        | ActivityKind::Flag => Ok(()),
        ActivityKind::Undo => match object.kind() {
            Some("Follow" | "Like" | "Announce" | "Block") => Ok(()),
            // By reference: resolved against what this actor did, when it is acted on.
            None if object.id().is_some() => Ok(()),
            other => Err(DomainError::Invalid(format!(
                "Undo of unsupported type {other:?}"
            ))),
        },
        ActivityKind::Create | ActivityKind::Update
            if crate::domain::announcements::is_announcement_object(object.kind()) =>
        {
            crate::domain::announcements::check(inbound.kind, &object.value(), actor)
        }
        ActivityKind::Create | ActivityKind::Update
            if crate::domain::insights::is_insights_object(object.kind()) =>
        {
            crate::domain::insights::check(&object.value(), actor)
        }
        ActivityKind::Create => authored_note(&object.value(), actor, "Create").map(|_| ()),
        ActivityKind::Update => update::check(object, actor),
        ActivityKind::Add | ActivityKind::Remove => featured::check(&inbound, actor),
    }?;
    Ok(inbound)
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

/// Accepts an activity whose signature has been verified as `signer`'s and whose actor is the
/// signer: checks its shape ([`check_shape`]), then acts on it at once when that needs no
/// fetch (most activities: a note whose parent we hold, a follow, a like), or else queues it
/// once per activity id, durably, and hands it to this process's inbox worker. Nothing is
/// fetched here: the peer gets its answer as soon as the activity is stored or its effect is.
/// `false` when the id was seen before.
pub async fn accept(
    node: &Node,
    signer: &AccountRow,
    id: &str,
    activity: &Value,
    body: &str,
) -> Result<bool, DomainError> {
    if let Err(e) = check_shape(activity, &actor_id(node, signer)) {
        tracing::info!(activity = %id, actor = %actor_id(node, signer), error = %e, "activity refused");
        return Err(e);
    }
    node.fed
        .health
        .received(&signer.domain, crate::store::now_millis());
    if node.store.inbox_seen(id).await? {
        return Ok(false);
    }
    match receive(node, signer, activity, MissingParent::Defer).await {
        // Marked after the effect: a crash in between makes the peer deliver again, and acting
        // twice stores once (every effect is idempotent on the activity's or object's id).
        Ok(()) => {
            node.store.mark_inbox_seen(id).await?;
            let kind = activities::type_of(activity).unwrap_or("?");
            tracing::info!(activity = %id, kind = %kind, actor = %actor_id(node, signer), "received");
            return Ok(true);
        }
        Err(DomainError::Deferred(what)) => {
            tracing::debug!(activity = %id, needs = what, "queued for the inbox worker");
        }
        // Refused for good, as the worker would refuse it: answered 202 all the same (the peer
        // can do nothing about it), not marked seen, not queued.
        Err(e @ (DomainError::Invalid(_) | DomainError::Forbidden(_))) => {
            tracing::info!(activity = %id, actor = %actor_id(node, signer), error = %e, "activity refused");
            return Ok(true);
        }
        // Queued all the same: the worker retries what may pass and logs what it drops, as for
        // any queued activity.
        Err(e) => {
            tracing::debug!(activity = %id, error = %e, "acting at once failed; queued");
        }
    }
    queue(node, signer, id, activity, body).await
}

/// Queues an accepted activity durably and hands it to the inbox worker, leased for it, or
/// wakes the worker to claim it when the hand-off is full.
async fn queue(
    node: &Node,
    signer: &AccountRow,
    id: &str,
    activity: &Value,
    body: &str,
) -> Result<bool, DomainError> {
    let handoff = &node.fed.inbox;
    let now = crate::store::now_millis();
    let place = handoff.reserve();
    let due_at = match place {
        Some(_) => now + crate::domain::federation::fed::INBOX_LEASE_MS,
        None => now,
    };
    let Some(job) = node
        .store
        .enqueue_inbox(id, signer.id, body, due_at)
        .await?
    else {
        return Ok(false);
    };
    match place {
        Some(place) => place.send(crate::domain::federation::fed::HandedOver {
            job,
            activity: activity.clone(),
            signer: signer.clone(),
        }),
        None => handoff.wake.notify_one(),
    }
    Ok(true)
}

/// Handles an activity whose signature has been verified as `actor`'s: one module per kind.
/// Missing parents of a received note, and an announced note, are fetched (up to
/// [`MAX_ANCESTORS`] ancestors); `missing` says what a parent that cannot be fetched yet does.
pub async fn receive(
    node: &Node,
    actor: &AccountRow,
    activity: &Value,
    missing: MissingParent,
) -> Result<(), DomainError> {
    let inbound = check_shape(activity, &actor_id(node, actor))?;
    let ancestors = Ancestors {
        left: MAX_ANCESTORS,
        missing,
    };
    let object = inbound.object.value();
    match inbound.kind {
        ActivityKind::Follow => follow::receive(node, actor, &inbound.raw).await,
        ActivityKind::Accept => answer::receive(node, actor, &object, true).await,
        ActivityKind::Reject => answer::receive(node, actor, &object, false).await,
        ActivityKind::Undo => undo::receive(node, actor, &object).await,
        ActivityKind::Create | ActivityKind::Update
            if crate::domain::announcements::is_announcement_object(inbound.object.kind()) =>
        {
            crate::domain::announcements::receive(node, actor, &object).await
        }
        ActivityKind::Create | ActivityKind::Update
            if crate::domain::insights::is_insights_object(inbound.object.kind()) =>
        {
            crate::domain::insights::receive(node, actor, &object).await
        }
        ActivityKind::Create => {
            let note = authored_note(&object, &actor_id(node, actor), "Create")?;
            create::receive(node, actor, note, ancestors).await
        }
        ActivityKind::Update => update::receive(node, actor, &inbound.object, ancestors).await,
        ActivityKind::Delete => delete::receive(node, actor, &object).await,
        ActivityKind::Like => like::receive(node, actor, &inbound.raw).await,
        ActivityKind::Announce => announce::receive(node, actor, &inbound, ancestors).await,
        ActivityKind::Block => block::receive(node, actor, &inbound.raw).await,
        ActivityKind::Flag => crate::domain::reports::receive_flag(node, actor, &inbound.raw).await,
        ActivityKind::Add => featured::receive(node, actor, &inbound, true).await,
        ActivityKind::Remove => featured::receive(node, actor, &inbound, false).await,
    }
}
