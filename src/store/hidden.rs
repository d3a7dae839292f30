//! The accounts someone does not see (blocked either way, muted, on a node they block), as SQL
//! that the timeline and notification queries embed.

/// What the hidden set is for: statuses hide every muted account, notifications only those
/// muted with their notifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hiding {
    Statuses,
    Notifications,
}

/// A subquery of the accounts `viewer` does not see at `now`: those it blocks, those blocking
/// it, those it mutes (for notifications: with their notifications), and every account of a
/// node it blocks. Uncorrelated, so each engine evaluates it once per query. Only integers
/// are written into it.
pub(crate) fn hidden_accounts_sql(viewer: i64, now: i64, hiding: Hiding) -> String {
    let mutes = match hiding {
        Hiding::Statuses => "",
        Hiding::Notifications => " AND notifications",
    };
    format!(
        "SELECT target_account_id FROM blocks WHERE account_id = {viewer} \
         UNION SELECT account_id FROM blocks WHERE target_account_id = {viewer} \
         UNION SELECT target_account_id FROM mutes WHERE account_id = {viewer}{mutes} \
           AND (expires_at IS NULL OR expires_at > {now}) \
         UNION SELECT ha.id FROM accounts ha JOIN domain_blocks hd ON hd.domain = ha.domain \
           WHERE hd.account_id = {viewer}"
    )
}

/// A condition on a status id column: neither it nor the status it boosts is by someone
/// `viewer` does not see. The boosted author needs a second look-up, made only for boosts.
pub(crate) fn status_visible_sql(column: &str, author: &str, viewer: i64, now: i64) -> String {
    let hidden = hidden_accounts_sql(viewer, now, Hiding::Statuses);
    format!(
        "{author} NOT IN ({hidden}) AND NOT EXISTS (SELECT 1 FROM statuses hb \
         JOIN statuses ho ON ho.id = hb.reblog_of_id WHERE hb.id = {column} \
         AND ho.account_id IN ({hidden}))"
    )
}
