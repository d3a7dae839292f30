//! Blocks, mutes and a user's blocks of whole peer nodes (Mastodon's user-level domain
//! blocks). A block works both ways: neither side sees the other's statuses or notifications,
//! follows between them end, and neither can follow the other again; a block of a remote
//! account is sent to its node as `Block`. A mute only hides, on this side, for a while or
//! until undone. The store turns these into the hidden set the timeline and notification
//! queries leave out; streams and threads use the same set through [`hides`].

use super::accounts::{self, AccountPage};
use super::federation::outbound;
use super::follows::relationship;
use super::{DomainError, Node};
use crate::convert::views::{RelationshipView, StatusView};
use crate::store::accounts::AccountRow;
use crate::store::hidden::{Hidden, Hiding};
use crate::store::statuses::Page;

/// The longest mute Mastodon apps offer is a week; anything up to ten years is taken.
const MAX_MUTE_SECONDS: i64 = 10 * 365 * 24 * 3600;

/// An account the viewer may block or mute: a visible one that is not the viewer.
async fn other(
    node: &Node,
    viewer: &AccountRow,
    id: i64,
    what: &str,
) -> Result<AccountRow, DomainError> {
    let target = accounts::visible(node, id).await?;
    if target.id == viewer.id {
        return Err(DomainError::Invalid(format!("You cannot {what} yourself")));
    }
    Ok(target)
}

/// Blocks `target_id`; blocking twice is blocking once.
pub async fn block(
    node: &Node,
    viewer: &AccountRow,
    target_id: i64,
) -> Result<RelationshipView, DomainError> {
    let target = other(node, viewer, target_id, "block").await?;
    let id = format!(
        "{}#blocks/{}",
        node.urls.actor(&viewer.username),
        crate::ids::next_id()
    );
    let activity = outbound::block_activity(node, viewer, &target, &id);
    let deliveries = outbound::deliveries_to(node, viewer, &target, &activity);
    let added = node
        .store
        .block(viewer.id, target.id, Some(&id), &deliveries)
        .await?;
    outbound::wake_deliveries(node, added && !deliveries.is_empty());
    relationship(node, viewer, target.id).await
}

pub async fn unblock(
    node: &Node,
    viewer: &AccountRow,
    target_id: i64,
) -> Result<RelationshipView, DomainError> {
    let target = other(node, viewer, target_id, "block").await?;
    let store = &node.store;
    let deliveries = match store.block_ap_id(viewer.id, target.id).await? {
        Some(id) if !target.is_local() => {
            let block = outbound::block_activity(node, viewer, &target, &id);
            let undo = outbound::undo(node, viewer, block);
            outbound::deliveries_to(node, viewer, &target, &undo)
        }
        _ => vec![],
    };
    let removed = store.unblock(viewer.id, target.id, &deliveries).await?;
    outbound::wake_deliveries(node, removed && !deliveries.is_empty());
    relationship(node, viewer, target.id).await
}

/// When a mute of `duration` seconds made at `now` ends: `None` (never) for no or a zero
/// duration, as Mastodon reads it.
pub fn mute_expiry(duration: Option<i64>, now: i64) -> Result<Option<i64>, DomainError> {
    match duration {
        None | Some(0) => Ok(None),
        Some(d) if (1..=MAX_MUTE_SECONDS).contains(&d) => Ok(Some(now + d * 1000)),
        Some(_) => Err(DomainError::Invalid(
            "duration must be a number of seconds, 0 for indefinitely".into(),
        )),
    }
}

/// Mutes `target_id` (again: with these settings): its statuses leave the viewer's timelines
/// and, with `notifications`, its notifications too; after `duration` seconds if given.
pub async fn mute(
    node: &Node,
    viewer: &AccountRow,
    target_id: i64,
    notifications: bool,
    duration: Option<i64>,
) -> Result<RelationshipView, DomainError> {
    let expires_at = mute_expiry(duration, crate::store::now_millis())?;
    let target = other(node, viewer, target_id, "mute").await?;
    node.store
        .mute(viewer.id, target.id, notifications, expires_at)
        .await?;
    relationship(node, viewer, target.id).await
}

pub async fn unmute(
    node: &Node,
    viewer: &AccountRow,
    target_id: i64,
) -> Result<RelationshipView, DomainError> {
    let target = other(node, viewer, target_id, "mute").await?;
    node.store.unmute(viewer.id, target.id).await?;
    relationship(node, viewer, target.id).await
}

/// A page of the accounts the viewer blocks, newest block first.
pub async fn blocks(
    node: &Node,
    viewer: &AccountRow,
    page: &Page,
) -> Result<AccountPage, DomainError> {
    let rows = node.store.blocked_accounts(viewer.id, page).await?;
    accounts::page(node, &rows).await
}

/// A page of the accounts the viewer mutes now, with when each mute ends.
pub async fn mutes(
    node: &Node,
    viewer: &AccountRow,
    page: &Page,
) -> Result<(AccountPage, Vec<Option<i64>>), DomainError> {
    let rows = node.store.muted_accounts(viewer.id, page).await?;
    let pairs: Vec<(i64, i64)> = rows.iter().map(|r| (r.0, r.1)).collect();
    let page = accounts::page(node, &pairs).await?;
    // `accounts::page` skips accounts that vanished: keep the expiries in step.
    let expiries = page
        .accounts
        .iter()
        .map(|a| rows.iter().find(|r| r.1 == a.row.id).and_then(|r| r.2))
        .collect();
    Ok((page, expiries))
}

/// A peer node's name as a user types it (`Sales.Corp.Example`, `https://sales.corp.example/`)
/// made into the form accounts carry; this node's own name is refused.
pub fn normalise_domain(raw: &str, own: &str) -> Result<String, DomainError> {
    let trimmed = raw.trim();
    let bare = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"))
        .unwrap_or(trimmed)
        .trim_end_matches('/')
        .to_ascii_lowercase();
    let valid = !bare.is_empty()
        && bare.len() <= 253
        && bare
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
        && !bare.starts_with(['.', '-', ':']);
    if !valid {
        return Err(DomainError::Invalid(
            "domain is not a valid host name".into(),
        ));
    }
    if bare == own.to_ascii_lowercase() {
        return Err(DomainError::Invalid(
            "You cannot block your own node".into(),
        ));
    }
    Ok(bare)
}

/// Blocks a peer node for the viewer: its accounts' statuses and notifications are hidden,
/// and its accounts stop following the viewer.
pub async fn block_domain(node: &Node, viewer: &AccountRow, raw: &str) -> Result<(), DomainError> {
    let domain = normalise_domain(raw, &node.urls.domain)?;
    node.store.block_domain(viewer.id, &domain).await?;
    Ok(())
}

pub async fn unblock_domain(
    node: &Node,
    viewer: &AccountRow,
    raw: &str,
) -> Result<(), DomainError> {
    let domain = normalise_domain(raw, &node.urls.domain)?;
    node.store.unblock_domain(viewer.id, &domain).await?;
    Ok(())
}

/// A page of the nodes the viewer blocks: (block id, domain), newest first.
pub async fn domain_blocks(
    node: &Node,
    viewer: &AccountRow,
    page: &Page,
) -> Result<Vec<(i64, String)>, DomainError> {
    Ok(node.store.blocked_domains(viewer.id, page).await?)
}

/// The accounts the viewer does not see now.
pub async fn hidden(
    node: &Node,
    viewer: &AccountRow,
    hiding: Hiding,
) -> Result<Hidden, DomainError> {
    Ok(node.store.hidden_accounts(viewer.id, hiding).await?)
}

/// Is `view` by, or a boost of, someone in `hidden`?
pub fn hides(hidden: &Hidden, view: &StatusView) -> bool {
    let hides_account =
        |a: &AccountRow| hidden.accounts.contains(&a.id) || hidden.domains.contains(&a.domain);
    hides_account(&view.author)
        || view
            .reblog
            .as_ref()
            .is_some_and(|r| hides_account(&r.author))
}

/// A remote account blocks a local one: follows between them end, and the block is kept so
/// the local account no longer sees them nor can follow them.
pub async fn receive_block(
    node: &Node,
    actor: &AccountRow,
    target: &AccountRow,
    ap_id: Option<&str>,
) -> Result<(), DomainError> {
    node.store.block(actor.id, target.id, ap_id, &[]).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mute_lasts_its_duration_or_forever() {
        assert_eq!(mute_expiry(None, 1_000).unwrap(), None);
        assert_eq!(mute_expiry(Some(0), 1_000).unwrap(), None);
        assert_eq!(mute_expiry(Some(60), 1_000).unwrap(), Some(61_000));
        assert!(mute_expiry(Some(-5), 1_000).is_err());
        assert!(mute_expiry(Some(MAX_MUTE_SECONDS + 1), 1_000).is_err());
    }

    #[test]
    fn a_domain_is_taken_as_users_type_it_but_never_our_own() {
        let own = "hq.corp.example";
        assert_eq!(
            normalise_domain(" https://Sales.Corp.Example/ ", own).unwrap(),
            "sales.corp.example"
        );
        assert_eq!(
            normalise_domain("127.0.0.1:8080", own).unwrap(),
            "127.0.0.1:8080"
        );
        for bad in ["", "   ", "sales corp", "a/b", "-x.example", "x.example'--"] {
            assert!(normalise_domain(bad, own).is_err(), "{bad:?} taken");
        }
        assert!(normalise_domain("HQ.corp.example", own).is_err());
    }
}
