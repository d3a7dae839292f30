//! The accounts someone does not see (blocked either way, muted, on a node they block), as SQL
//! that the timeline and notification queries embed.

use std::collections::HashSet;

/// What the hidden set is for: statuses hide every muted account, notifications only those
/// muted with their notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hiding {
    Statuses,
    Notifications,
}

/// Who a viewer does not see: accounts by id, and every account of the nodes in `domains`.
#[derive(Debug, Clone, Default)]
pub struct Hidden {
    pub accounts: HashSet<i64>,
    pub domains: HashSet<String>,
}

/// A subquery of the accounts `viewer` does not see at `now` by id: those it blocks, those
/// blocking it, those it mutes (for notifications: with their notifications). Uncorrelated,
/// so each engine evaluates it once per query. Only integers are written into it.
pub(crate) fn hidden_accounts_sql(viewer: i64, now: i64, hiding: Hiding) -> String {
    let mutes = match hiding {
        Hiding::Statuses => "",
        Hiding::Notifications => " AND notifications",
    };
    format!(
        "SELECT target_account_id FROM blocks WHERE account_id = {viewer} \
         UNION SELECT account_id FROM blocks WHERE target_account_id = {viewer} \
         UNION SELECT target_account_id FROM mutes WHERE account_id = {viewer}{mutes} \
           AND (expires_at IS NULL OR expires_at > {now})"
    )
}

/// A condition: the account `account` (a column) is on a node `viewer` blocks. Looked up from
/// the account's own row, one per candidate: a node's accounts share one `domain` value,
/// which no index narrows well on a node where most accounts are local.
pub(crate) fn on_blocked_node_sql(account: &str, viewer: i64) -> String {
    format!(
        "EXISTS (SELECT 1 FROM accounts da JOIN domain_blocks db ON db.domain = da.domain \
         WHERE da.id = {account} AND db.account_id = {viewer})"
    )
}

/// A condition on a status id column: neither it nor the status it boosts is by someone
/// `viewer` does not see. The boosted author needs a second look-up, made only for boosts.
pub(crate) fn status_visible_sql(column: &str, author: &str, viewer: i64, now: i64) -> String {
    let hidden = hidden_accounts_sql(viewer, now, Hiding::Statuses);
    let author_node = on_blocked_node_sql(author, viewer);
    let boosted_node = on_blocked_node_sql("ho.account_id", viewer);
    format!(
        "{author} NOT IN ({hidden}) AND NOT {author_node} AND NOT EXISTS (SELECT 1 FROM statuses hb \
         JOIN statuses ho ON ho.id = hb.reblog_of_id WHERE hb.id = {column} \
         AND (ho.account_id IN ({hidden}) OR {boosted_node}))"
    )
}
