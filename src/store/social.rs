//! Follows, follow requests, notifications and markers.

use std::collections::HashSet;

use sqlx::FromRow;

use super::deliveries::{insert_deliveries, NewDelivery};
use super::statuses::{insert_notification, NewNotification, Page};
use super::{in_tx, on_pool, placeholders, Store, StoreError};

#[derive(Debug, Clone, FromRow)]
pub struct NotificationRow {
    pub id: i64,
    pub account_id: i64,
    pub from_account_id: i64,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub status_id: Option<i64>,
    pub created_at: i64,
    pub report_id: Option<i64>,
}

/// What `viewer` has to do with each of a set of accounts.
#[derive(Debug, Clone, Default)]
pub struct RelationFacts {
    pub following: HashSet<i64>,
    pub followed_by: HashSet<i64>,
    pub requested: HashSet<i64>,
    pub requested_by: HashSet<i64>,
    /// Targets whose reblogs the viewer hides / whose posts notify the viewer.
    pub hiding_reblogs: HashSet<i64>,
    pub notifying: HashSet<i64>,
    /// Targets the viewer endorses.
    pub endorsed: HashSet<i64>,
    pub blocking: HashSet<i64>,
    pub blocked_by: HashSet<i64>,
    /// Muted now (a mute that ran out is no mute), and of those, with their notifications.
    pub muting: HashSet<i64>,
    pub muting_notifications: HashSet<i64>,
    /// Targets on a node the viewer blocks.
    pub domain_blocking: HashSet<i64>,
}

#[derive(Debug, Clone, FromRow)]
pub struct MarkerRow {
    pub timeline: String,
    pub last_read_id: String,
    pub version: i64,
    pub updated_at: i64,
}

/// Inserts a follow (if it does not exist yet) on a transaction; the number of rows written.
macro_rules! insert_follow_row {
    ($executor:expr, $account:expr, $target:expr, $show_reblogs:expr, $notify:expr, $ap_id:expr) => {{
        let ap_id: Option<&str> = $ap_id;
        sqlx::query(
            "INSERT INTO follows (id, account_id, target_account_id, show_reblogs, notify, created_at, ap_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
        )
        .bind(crate::ids::next_id())
        .bind($account)
        .bind($target)
        .bind($show_reblogs)
        .bind($notify)
        .bind(super::now_millis())
        .bind(ap_id)
        .execute($executor)
        .await
        .map(|r| r.rows_affected())
    }};
}
pub(crate) use insert_follow_row;

impl Store {
    pub async fn follows(&self, account: i64, target: i64) -> Result<bool, StoreError> {
        let sql = "SELECT 1 FROM follows WHERE account_id = $1 AND target_account_id = $2";
        let found = on_pool!(self, |pool| sqlx::query_scalar::<_, i32>(sql)
            .bind(account)
            .bind(target)
            .fetch_optional(pool)
            .await)?;
        Ok(found.is_some())
    }

    /// Local followers of `target` (their home feeds get its posts).
    pub async fn follower_ids(&self, target: i64) -> Result<Vec<i64>, StoreError> {
        let sql = "SELECT f.account_id FROM follows f JOIN accounts a ON a.id = f.account_id \
                   WHERE f.target_account_id = $1 AND a.domain = ''";
        let ids = on_pool!(self, |pool| sqlx::query_scalar::<_, i64>(sql)
            .bind(target)
            .fetch_all(pool)
            .await)?;
        Ok(ids)
    }

    /// Local followers of `target` who asked to be notified of its posts (`notify`).
    pub async fn notified_follower_ids(&self, target: i64) -> Result<Vec<i64>, StoreError> {
        let sql = "SELECT f.account_id FROM follows f JOIN accounts a ON a.id = f.account_id \
                   WHERE f.target_account_id = $1 AND a.domain = '' AND f.notify";
        let ids = on_pool!(self, |pool| sqlx::query_scalar::<_, i64>(sql)
            .bind(target)
            .fetch_all(pool)
            .await)?;
        Ok(ids)
    }

    /// Local followers of `target` who want its reblogs in their feeds.
    pub async fn follower_ids_showing_reblogs(&self, target: i64) -> Result<Vec<i64>, StoreError> {
        let sql = "SELECT f.account_id FROM follows f JOIN accounts a ON a.id = f.account_id \
                   WHERE f.target_account_id = $1 AND a.domain = '' AND f.show_reblogs";
        let ids = on_pool!(self, |pool| sqlx::query_scalar::<_, i64>(sql)
            .bind(target)
            .fetch_all(pool)
            .await)?;
        Ok(ids)
    }

    /// Creates a follow, replacing any request, with its notification; `ap_id` is the Follow
    /// activity's id (to match a later Undo). `false` if it existed (then only the options and
    /// a given `ap_id` change). The deliveries (an Accept for a remote follower) are written
    /// either way: a peer that sends its Follow again is answered again.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_follow(
        &self,
        account: i64,
        target: i64,
        show_reblogs: bool,
        notify: bool,
        notification: Option<NewNotification>,
        ap_id: Option<&str>,
        deliveries: &[NewDelivery],
    ) -> Result<bool, StoreError> {
        let created = in_tx!(self, |tx| {
            sqlx::query(
                "DELETE FROM follow_requests WHERE account_id = $1 AND target_account_id = $2",
            )
            .bind(account)
            .bind(target)
            .execute(&mut *tx)
            .await?;
            let n = insert_follow_row!(&mut *tx, account, target, show_reblogs, notify, ap_id)?;
            if n == 0 {
                sqlx::query("UPDATE follows SET show_reblogs = $1, notify = $2, ap_id = COALESCE($3, ap_id) WHERE account_id = $4 AND target_account_id = $5")
                    .bind(show_reblogs)
                    .bind(notify)
                    .bind(ap_id)
                    .bind(account)
                    .bind(target)
                    .execute(&mut *tx)
                    .await?;
            } else if let Some(note) = &notification {
                insert_notification!(&mut *tx, note)?;
            }
            insert_deliveries!(tx, deliveries)?;
            n == 1
        });
        Ok(created)
    }

    /// Records a follow request with its notification and `ap_id` (the Follow activity's id).
    /// `false` if one was pending: then only a given `ap_id` changes and the deliveries (the
    /// Follow to a remote target) are not written, as that request was already sent.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_follow_request(
        &self,
        account: i64,
        target: i64,
        show_reblogs: bool,
        notify: bool,
        notification: Option<NewNotification>,
        ap_id: Option<&str>,
        deliveries: &[NewDelivery],
    ) -> Result<bool, StoreError> {
        let created = in_tx!(self, |tx| {
            let n = sqlx::query("INSERT INTO follow_requests (id, account_id, target_account_id, show_reblogs, notify, created_at, ap_id) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING")
                .bind(crate::ids::next_id())
                .bind(account)
                .bind(target)
                .bind(show_reblogs)
                .bind(notify)
                .bind(super::now_millis())
                .bind(ap_id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n == 1 {
                if let Some(note) = &notification {
                    insert_notification!(&mut *tx, note)?;
                }
                insert_deliveries!(tx, deliveries)?;
            } else if ap_id.is_some() {
                sqlx::query("UPDATE follow_requests SET ap_id = $1 WHERE account_id = $2 AND target_account_id = $3")
                    .bind(ap_id)
                    .bind(account)
                    .bind(target)
                    .execute(&mut *tx)
                    .await?;
            }
            n == 1
        });
        Ok(created)
    }

    /// Turns a pending request into a follow (its options and activity id carried over), its
    /// `follow_request` notification into `notification`, and writes the deliveries (the
    /// Accept for a remote requester). `false` if there was no request, and then nothing is
    /// written.
    pub async fn accept_follow_request(
        &self,
        account: i64,
        target: i64,
        notification: Option<NewNotification>,
        deliveries: &[NewDelivery],
    ) -> Result<bool, StoreError> {
        let accepted = in_tx!(self, |tx| {
            // The DELETE decides: of two approvals at once only one finds the request.
            let request: Option<(bool, bool, Option<String>)> = sqlx::query_as(
                "DELETE FROM follow_requests WHERE account_id = $1 AND target_account_id = $2 \
                 RETURNING show_reblogs, notify, ap_id",
            )
            .bind(account)
            .bind(target)
            .fetch_optional(&mut *tx)
            .await?;
            match request {
                None => false,
                Some((show_reblogs, notify, ap_id)) => {
                    sqlx::query("DELETE FROM notifications WHERE from_account_id = $1 AND account_id = $2 AND type = 'follow_request'")
                        .bind(account)
                        .bind(target)
                        .execute(&mut *tx)
                        .await?;
                    let n = insert_follow_row!(
                        &mut *tx,
                        account,
                        target,
                        show_reblogs,
                        notify,
                        ap_id.as_deref()
                    )?;
                    if n == 1 {
                        if let Some(note) = &notification {
                            insert_notification!(&mut *tx, note)?;
                        }
                    }
                    insert_deliveries!(tx, deliveries)?;
                    true
                }
            }
        });
        Ok(accepted)
    }

    /// The options of a pending request, if there is one: (show_reblogs, notify).
    pub async fn follow_request(
        &self,
        account: i64,
        target: i64,
    ) -> Result<Option<(bool, bool)>, StoreError> {
        let sql = "SELECT show_reblogs, notify FROM follow_requests WHERE account_id = $1 AND target_account_id = $2";
        let row = on_pool!(self, |pool| sqlx::query_as::<_, (bool, bool)>(sql)
            .bind(account)
            .bind(target)
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    /// The account `account` follows (or asked to) with the Follow whose id is `ap_id`.
    pub async fn follow_target_by_ap_id(
        &self,
        account: i64,
        ap_id: &str,
    ) -> Result<Option<i64>, StoreError> {
        let found = on_pool!(self, |pool| sqlx::query_scalar::<_, i64>(
            "SELECT target_account_id FROM follows WHERE account_id = $1 AND ap_id = $2 \
             UNION ALL \
             SELECT target_account_id FROM follow_requests WHERE account_id = $1 AND ap_id = $2"
        )
        .bind(account)
        .bind(ap_id)
        .fetch_optional(pool)
        .await)?;
        Ok(found)
    }

    /// Removes a follow and any request between the two, the notifications they made, and the
    /// target from the follower's lists.
    /// The deliveries (an Undo Follow to a remote target) are written only if there was
    /// something to remove; `false` if there was not.
    pub async fn delete_follow(
        &self,
        account: i64,
        target: i64,
        deliveries: &[NewDelivery],
    ) -> Result<bool, StoreError> {
        let removed = in_tx!(self, |tx| {
            let mut n = 0;
            for table in ["follows", "follow_requests"] {
                n += sqlx::query(&format!(
                    "DELETE FROM {table} WHERE account_id = $1 AND target_account_id = $2"
                ))
                .bind(account)
                .bind(target)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            // Endorsements and the follower's lists hold only accounts it follows.
            sqlx::query(
                "DELETE FROM endorsements WHERE account_id = $1 AND target_account_id = $2",
            )
            .bind(account)
            .bind(target)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM list_accounts WHERE account_id = $2 AND list_id IN (SELECT id FROM lists WHERE account_id = $1)")
                .bind(account)
                .bind(target)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM notifications WHERE from_account_id = $1 AND account_id = $2 AND type IN ('follow', 'follow_request')")
                .bind(account)
                .bind(target)
                .execute(&mut *tx)
                .await?;
            if n > 0 {
                insert_deliveries!(tx, deliveries)?;
            }
            n > 0
        });
        Ok(removed)
    }

    /// Rejecting a request: it goes, and so does its notification; the deliveries (a Reject
    /// for a remote requester) are written only if there was a request.
    pub async fn delete_follow_request(
        &self,
        account: i64,
        target: i64,
        deliveries: &[NewDelivery],
    ) -> Result<bool, StoreError> {
        let n = in_tx!(self, |tx| {
            let n = sqlx::query(
                "DELETE FROM follow_requests WHERE account_id = $1 AND target_account_id = $2",
            )
            .bind(account)
            .bind(target)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            sqlx::query("DELETE FROM notifications WHERE from_account_id = $1 AND account_id = $2 AND type = 'follow_request'")
                .bind(account)
                .bind(target)
                .execute(&mut *tx)
                .await?;
            if n == 1 {
                insert_deliveries!(tx, deliveries)?;
            }
            n
        });
        Ok(n == 1)
    }

    /// Which of `targets` the viewer follows, and which block the viewer: what the visibility
    /// rules need, in one query.
    pub async fn following_and_blockers_among(
        &self,
        viewer: i64,
        targets: &[i64],
    ) -> Result<(HashSet<i64>, HashSet<i64>), StoreError> {
        if targets.is_empty() {
            return Ok(Default::default());
        }
        let list = placeholders(2, targets.len());
        let sql = format!(
            "SELECT 0, target_account_id FROM follows WHERE account_id = $1 AND target_account_id IN ({list}) \
             UNION ALL SELECT 1, account_id FROM blocks WHERE target_account_id = $1 AND account_id IN ({list})"
        );
        let found: Vec<(i32, i64)> = on_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql).bind(viewer);
            for t in targets {
                q = q.bind(t);
            }
            q.fetch_all(pool).await
        })?;
        let (mut following, mut blockers) = (HashSet::new(), HashSet::new());
        for (kind, id) in found {
            if kind == 0 {
                following.insert(id);
            } else {
                blockers.insert(id);
            }
        }
        Ok((following, blockers))
    }

    /// Which of `targets` the viewer follows.
    pub async fn following_among(
        &self,
        viewer: i64,
        targets: &[i64],
    ) -> Result<HashSet<i64>, StoreError> {
        if targets.is_empty() {
            return Ok(HashSet::new());
        }
        let sql = format!(
            "SELECT target_account_id FROM follows WHERE account_id = $1 AND target_account_id IN ({})",
            placeholders(2, targets.len())
        );
        let found: Vec<i64> = on_pool!(self, |pool| {
            let mut q = sqlx::query_scalar(&sql).bind(viewer);
            for t in targets {
                q = q.bind(t);
            }
            q.fetch_all(pool).await
        })?;
        Ok(found.into_iter().collect())
    }

    /// Everything a relationship shows, read in one query: each branch tags its rows with
    /// what they are.
    pub async fn relation_facts(
        &self,
        viewer: i64,
        targets: &[i64],
    ) -> Result<RelationFacts, StoreError> {
        let mut facts = RelationFacts::default();
        if targets.is_empty() {
            return Ok(facts);
        }
        let list = placeholders(3, targets.len());
        let sql = format!(
            "SELECT 0, target_account_id, show_reblogs, notify FROM follows WHERE account_id = $1 AND target_account_id IN ({list}) \
             UNION ALL SELECT 1, account_id, TRUE, FALSE FROM follows WHERE target_account_id = $1 AND account_id IN ({list}) \
             UNION ALL SELECT 2, target_account_id, show_reblogs, notify FROM follow_requests WHERE account_id = $1 AND target_account_id IN ({list}) \
             UNION ALL SELECT 3, account_id, TRUE, FALSE FROM follow_requests WHERE target_account_id = $1 AND account_id IN ({list}) \
             UNION ALL SELECT 4, target_account_id, TRUE, FALSE FROM endorsements WHERE account_id = $1 AND target_account_id IN ({list}) \
             UNION ALL SELECT 5, target_account_id, TRUE, FALSE FROM blocks WHERE account_id = $1 AND target_account_id IN ({list}) \
             UNION ALL SELECT 6, account_id, TRUE, FALSE FROM blocks WHERE target_account_id = $1 AND account_id IN ({list}) \
             UNION ALL SELECT 7, target_account_id, notifications, FALSE FROM mutes WHERE account_id = $1 AND target_account_id IN ({list}) \
               AND (expires_at IS NULL OR expires_at > $2) \
             UNION ALL SELECT 8, a.id, TRUE, FALSE FROM accounts a JOIN domain_blocks d ON d.domain = a.domain \
               WHERE d.account_id = $1 AND a.id IN ({list})"
        );
        let rows: Vec<(i32, i64, bool, bool)> = on_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql).bind(viewer).bind(super::now_millis());
            for t in targets {
                q = q.bind(t);
            }
            q.fetch_all(pool).await
        })?;
        for (kind, t, flag, notify) in rows {
            match kind {
                0 | 2 => {
                    if kind == 0 {
                        facts.following.insert(t);
                    } else {
                        facts.requested.insert(t);
                    }
                    if !flag {
                        facts.hiding_reblogs.insert(t);
                    }
                    if notify {
                        facts.notifying.insert(t);
                    }
                }
                1 => {
                    facts.followed_by.insert(t);
                }
                3 => {
                    facts.requested_by.insert(t);
                }
                4 => {
                    facts.endorsed.insert(t);
                }
                5 => {
                    facts.blocking.insert(t);
                }
                6 => {
                    facts.blocked_by.insert(t);
                }
                7 => {
                    facts.muting.insert(t);
                    if flag {
                        facts.muting_notifications.insert(t);
                    }
                }
                _ => {
                    facts.domain_blocking.insert(t);
                }
            }
        }
        Ok(facts)
    }

    /// One page of (relation id, account id): `followers` of an account, or whom it follows,
    /// or who asks to follow it (`requests`).
    pub async fn follow_list(
        &self,
        account: i64,
        kind: FollowList,
        page: &Page,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        let (cond, order, binds) = page.sql("id", 2);
        let (select, table, key) = match kind {
            FollowList::Followers => ("account_id", "follows", "target_account_id"),
            FollowList::Following => ("target_account_id", "follows", "account_id"),
            FollowList::Requests => ("account_id", "follow_requests", "target_account_id"),
        };
        let sql = format!(
            "SELECT id, {select} FROM {table} WHERE {key} = $1 AND {cond} ORDER BY id {order} LIMIT {}",
            page.limit
        );
        let rows: Vec<(i64, i64)> = on_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql).bind(account);
            for b in &binds {
                q = q.bind(b);
            }
            q.fetch_all(pool).await
        })?;
        Ok(page.finish(rows))
    }

    pub async fn insert_notification(&self, n: &NewNotification) -> Result<(), StoreError> {
        in_tx!(self, |tx| insert_notification!(&mut *tx, n))?;
        Ok(())
    }

    pub async fn notifications(
        &self,
        account: i64,
        types: &[String],
        exclude: &[String],
        from_account: Option<i64>,
        include_filtered: bool,
        page: &Page,
    ) -> Result<Vec<NotificationRow>, StoreError> {
        // Notifications from someone hidden now (blocked, muted with notifications, on a
        // blocked node) stay out, including those made before.
        let hidden = super::hidden::hidden_accounts_sql(
            account,
            super::now_millis(),
            super::hidden::Hiding::Notifications,
        );
        let mut conds = vec![
            "account_id = $1".to_string(),
            format!("from_account_id NOT IN ({hidden})"),
            format!(
                "NOT {}",
                super::hidden::on_blocked_node_sql("from_account_id", account)
            ),
        ];
        let mut texts: Vec<&String> = Vec::new();
        let mut n = 2;
        if let Some(from) = from_account {
            conds.push(format!("from_account_id = {from}"));
        }
        if !include_filtered {
            conds.push("NOT filtered".to_string());
        }
        if !types.is_empty() {
            let p: Vec<String> = types
                .iter()
                .map(|_| {
                    let s = format!("${n}");
                    n += 1;
                    s
                })
                .collect();
            conds.push(format!("type IN ({})", p.join(", ")));
            texts.extend(types);
        }
        if !exclude.is_empty() {
            let p: Vec<String> = exclude
                .iter()
                .map(|_| {
                    let s = format!("${n}");
                    n += 1;
                    s
                })
                .collect();
            conds.push(format!("type NOT IN ({})", p.join(", ")));
            texts.extend(exclude);
        }
        let (cond, order, binds) = page.sql("id", n);
        conds.push(cond);
        let sql = format!(
            "SELECT id, account_id, from_account_id, type, status_id, created_at, report_id FROM notifications \
             WHERE {} ORDER BY id {order} LIMIT {}",
            conds.join(" AND "),
            page.limit
        );
        let rows = on_pool!(self, |pool| {
            let mut q = sqlx::query_as::<_, NotificationRow>(&sql).bind(account);
            for t in &texts {
                q = q.bind(t.as_str());
            }
            for b in &binds {
                q = q.bind(b);
            }
            q.fetch_all(pool).await
        })?;
        Ok(page.finish(rows))
    }

    pub async fn notification(
        &self,
        account: i64,
        id: i64,
    ) -> Result<Option<NotificationRow>, StoreError> {
        let sql = "SELECT id, account_id, from_account_id, type, status_id, created_at, report_id \
                   FROM notifications WHERE account_id = $1 AND id = $2 AND NOT filtered";
        let row = on_pool!(self, |pool| sqlx::query_as::<_, NotificationRow>(sql)
            .bind(account)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    /// Deletes one notification (`Some(id)`) or all of an account's.
    pub async fn delete_notifications(
        &self,
        account: i64,
        id: Option<i64>,
    ) -> Result<(), StoreError> {
        match id {
            Some(id) => on_pool!(self, |pool| sqlx::query(
                "DELETE FROM notifications WHERE account_id = $1 AND id = $2"
            )
            .bind(account)
            .bind(id)
            .execute(pool)
            .await
            .map(|_| ()))?,
            None => on_pool!(self, |pool| sqlx::query(
                "DELETE FROM notifications WHERE account_id = $1"
            )
            .bind(account)
            .execute(pool)
            .await
            .map(|_| ()))?,
        }
        Ok(())
    }

    pub async fn markers(&self, account: i64) -> Result<Vec<MarkerRow>, StoreError> {
        let sql =
            "SELECT timeline, last_read_id, version, updated_at FROM markers WHERE account_id = $1";
        let rows = on_pool!(self, |pool| sqlx::query_as::<_, MarkerRow>(sql)
            .bind(account)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    pub async fn set_marker(
        &self,
        account: i64,
        timeline: &str,
        last_read_id: &str,
    ) -> Result<(), StoreError> {
        let sql = "INSERT INTO markers (account_id, timeline, last_read_id, version, updated_at) \
                   VALUES ($1, $2, $3, 1, $4) ON CONFLICT (account_id, timeline) DO UPDATE SET \
                   last_read_id = excluded.last_read_id, version = markers.version + 1, \
                   updated_at = excluded.updated_at";
        on_pool!(self, |pool| sqlx::query(sql)
            .bind(account)
            .bind(timeline)
            .bind(last_read_id)
            .bind(super::now_millis())
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowList {
    Followers,
    Following,
    Requests,
}

/// A poll's end is told with notifications, so it is written here beside them (`store::polls`
/// holds the rest).
impl Store {
    /// Marks a poll's end as told, with its notifications; a local poll is marked for a last
    /// Update (with `closed`).
    pub async fn close_poll(
        &self,
        status: i64,
        local_poll: bool,
        notifications: &[NewNotification],
    ) -> Result<(), StoreError> {
        in_tx!(self, |tx| {
            let taken = sqlx::query(
                "UPDATE polls SET ended = TRUE, dirty = (dirty OR $2) \
                 WHERE status_id = $1 AND NOT ended",
            )
            .bind(status)
            .bind(local_poll)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            // Another process may have taken it: notify once.
            if taken > 0 {
                for n in notifications {
                    insert_notification!(&mut *tx, n)?;
                }
            }
        });
        Ok(())
    }
}

/// One's conversations are listed here, beside one's notifications (`store::conversations`
/// holds the rest, and must not import `statuses`, which writes its entries).
impl Store {
    /// A page of `account`'s conversations, the most recently active first (paged by their
    /// newest status, as Mastodon does).
    pub async fn conversations(
        &self,
        account: i64,
        page: &Page,
    ) -> Result<Vec<super::conversations::ConversationRow>, StoreError> {
        let (cond, order, binds) = page.sql("last_status_id", 2);
        let sql = format!(
            "SELECT {} FROM conversations WHERE account_id = $1 AND {cond} \
             ORDER BY last_status_id {order} LIMIT {}",
            super::conversations::COLUMNS,
            page.limit
        );
        let rows = on_pool!(self, |pool| {
            let mut q =
                sqlx::query_as::<_, super::conversations::ConversationRow>(&sql).bind(account);
            for b in &binds {
                q = q.bind(b);
            }
            q.fetch_all(pool).await
        })?;
        Ok(page.finish(rows))
    }
}
