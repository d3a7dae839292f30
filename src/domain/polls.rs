//! Polls: checked when posted, voted on here or from other nodes, told to peers and ended.
//!
//! A poll's id is its status's id. A vote here on a local poll counts at once and marks the
//! poll; the polls job (`jobs/polls.rs`) then sends one Update of the Question with the counts
//! as they are, so a burst of votes costs peers one activity. A vote on a peer's poll counts
//! here too and goes to the poll's author as Mastodon sends it (a Note naming the answer);
//! the author's node answers with its own counts in an Update. When a poll ends, its author
//! and the local voters are notified, and a local poll sends a last Update with `closed`.

use std::collections::BTreeSet;

use fika_federation::activities::Note;

use super::{statuses, DomainError, Node};
use crate::convert::activitypub as convert;
use crate::convert::views::{PollParams, PollView};
use crate::store::accounts::AccountRow;
use crate::store::now_millis;
use crate::store::polls::{PollOption, PollRow, Voted};
use crate::store::statuses::NewNotification;

/// Mastodon's limits, advertised in `/api/v2/instance`.
pub const MAX_OPTIONS: usize = 4;
pub const MAX_OPTION_CHARS: usize = 50;
/// A month, in seconds.
pub const MAX_EXPIRATION: i64 = 2_629_746;

/// The shortest a poll may run, in seconds (`limits.poll_min_expiration_seconds`).
pub fn min_expiration(node: &Node) -> i64 {
    node.config.limits.poll_min_expiration_seconds as i64
}

/// The poll to write with a new status, or why it is refused (Mastodon's messages).
pub fn new_poll(
    params: &PollParams,
    status_id: i64,
    now: i64,
    min_seconds: i64,
) -> Result<PollRow, DomainError> {
    let invalid = |m: &str| Err(DomainError::Invalid(format!("Validation failed: {m}")));
    let options: Vec<String> = params
        .options
        .iter()
        .map(|o| o.trim().to_string())
        .collect();
    if options.len() < 2 {
        return invalid("Poll options must have more than one item");
    }
    if options.len() > MAX_OPTIONS {
        return invalid(&format!(
            "Poll options can't contain more than {MAX_OPTIONS} items"
        ));
    }
    if options.iter().any(String::is_empty) {
        return invalid("Poll options can't be blank");
    }
    if options.iter().any(|o| o.chars().count() > MAX_OPTION_CHARS) {
        return invalid(&format!(
            "Poll options each cannot be longer than {MAX_OPTION_CHARS} characters"
        ));
    }
    if options.iter().collect::<BTreeSet<_>>().len() != options.len() {
        return invalid("Poll options must not contain duplicate items");
    }
    if params.expires_in < min_seconds {
        return invalid("Poll expiration is too soon");
    }
    if params.expires_in > MAX_EXPIRATION {
        return invalid("Poll expiration is too far into the future");
    }
    Ok(PollRow {
        status_id,
        expires_at: Some(now + params.expires_in * 1000),
        multiple: params.multiple,
        hide_totals: params.hide_totals,
        voters_count: 0,
        options: options
            .into_iter()
            .map(|title| PollOption {
                title,
                votes_count: 0,
            })
            .collect(),
    })
}

/// Is `asked` the poll a status already has? An edit may not change a poll (its votes would
/// no longer mean anything).
pub fn unchanged(held: &PollRow, asked: &PollParams) -> bool {
    held.multiple == asked.multiple
        && held.options.len() == asked.options.len()
        && held
            .options
            .iter()
            .zip(&asked.options)
            .all(|(o, a)| o.title == a.trim())
}

/// The answers chosen, checked against the poll: positions in range, at least one, one only
/// on a single-choice poll.
pub fn check_choices(poll: &PollRow, choices: &[i64], now: i64) -> Result<Vec<i32>, DomainError> {
    let invalid = |m: String| Err(DomainError::Invalid(format!("Validation failed: {m}")));
    if poll.expired(now) {
        return invalid("The poll has already ended".into());
    }
    let chosen: BTreeSet<i64> = choices.iter().copied().collect();
    if chosen.is_empty() {
        return invalid("Choices can't be blank".into());
    }
    if let Some(bad) = chosen
        .iter()
        .find(|c| **c < 0 || **c as usize >= poll.options.len())
    {
        return invalid(format!("Choice {bad} is not one of the poll's options"));
    }
    if !poll.multiple && chosen.len() > 1 {
        return invalid("This poll allows only one choice".into());
    }
    Ok(chosen.into_iter().map(|c| c as i32).collect())
}

/// A poll as `viewer` sees it.
pub async fn get(node: &Node, viewer: &AccountRow, id: i64) -> Result<PollView, DomainError> {
    let status = statuses::visible_status(node, Some(viewer), id).await?;
    let row = node
        .store
        .poll(status.id)
        .await?
        .ok_or(DomainError::NotFound("poll"))?;
    let mut own = node
        .store
        .viewer_marks(viewer.id, &[status.id])
        .await?
        .votes
        .remove(&status.id)
        .unwrap_or_default();
    own.sort_unstable();
    Ok(PollView {
        row,
        own_votes: Some(own),
        own_poll: status.account_id == viewer.id,
    })
}

/// Votes on a poll `voter` can see. A peer's poll hears of it from one Create per answer.
pub async fn vote(
    node: &Node,
    voter: &AccountRow,
    id: i64,
    choices: &[i64],
) -> Result<PollView, DomainError> {
    let store = &node.store;
    let status = statuses::visible_status(node, Some(voter), id).await?;
    let poll = store
        .poll(status.id)
        .await?
        .ok_or(DomainError::NotFound("poll"))?;
    let chosen = check_choices(&poll, choices, now_millis())?;
    let author = store
        .account_by_id(status.account_id)
        .await?
        .ok_or(DomainError::NotFound("account"))?;
    let mut deliveries = Vec::new();
    if !author.is_local() {
        let question = super::federation::outbound::status_uri(node, &status).await?;
        let author_actor = convert::actor_id(&node.urls, &author);
        for choice in &chosen {
            let activity = convert::vote_activity(
                &node.urls,
                voter,
                &question,
                &author_actor,
                &poll.options[*choice as usize].title,
                crate::ids::next_id(),
            );
            deliveries.extend(super::federation::outbound::deliveries_to(
                node, voter, &author, &activity,
            ));
        }
    }
    let cast: Vec<(i32, Option<String>)> = chosen.iter().map(|c| (*c, None)).collect();
    match store
        .vote(
            status.id,
            voter.id,
            &cast,
            true,
            author.is_local(),
            &deliveries,
        )
        .await?
    {
        Voted::AlreadyVoted => {
            return Err(DomainError::Invalid(
                "Validation failed: You have already voted on this poll".into(),
            ))
        }
        Voted::Counted => {}
    }
    super::federation::outbound::wake_deliveries(node, !deliveries.is_empty());
    get(node, voter, status.id).await
}

/// A Note from a peer that is a vote (see [`Note::is_vote`]) on one of our polls: counted,
/// once per answer. `Ok(false)` when its parent is no poll of ours (then it is no vote).
pub async fn receive_vote(
    node: &Node,
    voter: &AccountRow,
    note: &Note,
) -> Result<bool, DomainError> {
    let Some(parent) = note.in_reply_to.as_deref() else {
        return Ok(false);
    };
    let Some(status_id) = super::federation::resolve::local_status_id(node, parent) else {
        return Ok(false);
    };
    let Some(poll) = node.store.poll(status_id).await? else {
        return Ok(false);
    };
    // The voter must be able to see the poll, as a local voter must.
    statuses::visible_status(node, Some(voter), status_id).await?;
    let title = note.name.as_deref().unwrap_or_default();
    let Some(position) = poll.options.iter().position(|o| o.title == title) else {
        return Err(DomainError::Invalid(format!(
            "vote {} names no answer of the poll",
            note.id
        )));
    };
    check_choices(&poll, &[position as i64], now_millis())
        .map_err(|e| DomainError::Invalid(format!("vote {}: {e}", note.id)))?;
    let cast = [(position as i32, Some(note.id.clone()))];
    match node
        .store
        .vote(status_id, voter.id, &cast, false, true, &[])
        .await?
    {
        Voted::Counted => {}
        Voted::AlreadyVoted => {
            tracing::info!(vote = %note.id, "a second vote on a single-choice poll, not counted")
        }
    }
    Ok(true)
}

/// Sends an Update of each local poll whose counts changed, with the counts as they are.
/// Returns how many were told.
pub async fn tell_peers(node: &Node) -> Result<usize, DomainError> {
    let store = &node.store;
    let dirty = store.dirty_polls(100).await?;
    for status_id in &dirty {
        let (Some(status), Some(poll)) = (
            store.status_by_id(*status_id).await?,
            store.poll(*status_id).await?,
        ) else {
            continue;
        };
        let author = store
            .account_by_id(status.account_id)
            .await?
            .ok_or(DomainError::NotFound("account"))?;
        let deliveries =
            super::federation::outbound::poll_update_deliveries(node, &status, &author).await?;
        store.poll_told(*status_id, &poll, &deliveries).await?;
        super::federation::outbound::wake_deliveries(node, !deliveries.is_empty());
        // Local viewers' streams show the new counts.
        node.hub.publish(super::events::Event::Status {
            status_id: status.id,
            edited: true,
            audience: statuses::audience_of(node, &status).await?,
        });
    }
    Ok(dirty.len())
}

/// Ends the polls whose time has come: `poll` notifications to the author (when local) and
/// to the local voters, and a last Update for a local poll. Returns how many ended.
pub async fn close_ended(node: &Node) -> Result<usize, DomainError> {
    let store = &node.store;
    let ended = store.ended_polls(now_millis(), 100).await?;
    for (status_id, author_id) in &ended {
        let author = store
            .account_by_id(*author_id)
            .await?
            .ok_or(DomainError::NotFound("account"))?;
        let mut told: Vec<i64> = store.poll_voters(*status_id, true).await?;
        if author.is_local() {
            told.push(author.id);
        }
        told.sort_unstable();
        told.dedup();
        let notifications: Vec<NewNotification> = told
            .into_iter()
            .map(|account_id| NewNotification {
                report_id: None,
                id: crate::ids::next_id(),
                account_id,
                from_account_id: author.id,
                kind: "poll",
                status_id: Some(*status_id),
            })
            .collect();
        store
            .close_poll(*status_id, author.is_local(), &notifications)
            .await?;
        node.hub.notified(&notifications);
    }
    Ok(ended.len())
}

/// A peer's Question as its node now counts it (a Create we hold already, or an Update).
pub async fn refresh_remote(node: &Node, status_id: i64, note: &Note) -> Result<(), DomainError> {
    let Some(facts) = &note.poll else {
        return Ok(());
    };
    node.store
        .set_poll_counts(
            status_id,
            &facts.options,
            facts.voters_count,
            convert::poll_end(note),
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(options: &[&str], expires_in: i64) -> PollParams {
        PollParams {
            options: options.iter().map(|s| s.to_string()).collect(),
            expires_in,
            multiple: false,
            hide_totals: false,
        }
    }

    #[test]
    fn polls_are_checked_as_mastodon_does() {
        let ok = new_poll(&params(&["tea", " coffee "], 600), 1, 0, 300).unwrap();
        assert_eq!(ok.expires_at, Some(600_000));
        assert_eq!(ok.options[1].title, "coffee");
        let refused = |p: PollParams| new_poll(&p, 1, 0, 300).unwrap_err().to_string();
        assert!(refused(params(&["tea"], 600)).contains("more than one"));
        assert!(refused(params(&["a", "b", "c", "d", "e"], 600)).contains("more than 4"));
        assert!(refused(params(&["a", ""], 600)).contains("blank"));
        assert!(refused(params(&["a", "a"], 600)).contains("duplicate"));
        assert!(refused(params(&["a", &"x".repeat(51)], 600)).contains("50 characters"));
        assert!(refused(params(&["a", "b"], 299)).contains("too soon"));
        assert!(refused(params(&["a", "b"], MAX_EXPIRATION + 1)).contains("too far"));
    }

    #[test]
    fn choices_are_checked_against_the_poll() {
        let mut poll = new_poll(&params(&["a", "b", "c"], 600), 1, 0, 300).unwrap();
        assert_eq!(check_choices(&poll, &[1, 1], 0).unwrap(), vec![1]);
        assert!(check_choices(&poll, &[0, 2], 0).is_err());
        assert!(check_choices(&poll, &[3], 0).is_err());
        assert!(check_choices(&poll, &[-1], 0).is_err());
        assert!(check_choices(&poll, &[], 0).is_err());
        assert!(check_choices(&poll, &[0], 600_000)
            .unwrap_err()
            .to_string()
            .contains("ended"));
        poll.multiple = true;
        assert_eq!(check_choices(&poll, &[2, 0], 0).unwrap(), vec![0, 2]);
    }

    #[test]
    fn an_edit_keeps_the_poll_it_has() {
        let poll = new_poll(&params(&["a", "b"], 600), 1, 0, 300).unwrap();
        assert!(unchanged(&poll, &params(&["a", " b"], 900)));
        assert!(!unchanged(&poll, &params(&["a", "c"], 600)));
        let mut multiple = params(&["a", "b"], 600);
        multiple.multiple = true;
        assert!(!unchanged(&poll, &multiple));
    }
}
