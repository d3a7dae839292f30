//! Blocks, mutes and a user's blocks of whole peer nodes.

use super::deliveries::{insert_deliveries, NewDelivery};
use super::hidden::{hidden_accounts_sql, Hidden, Hiding};
use super::statuses::Page;
use super::{in_tx, on_pool, Store, StoreError};

/// What removing a relationship for a block touches, both ways: follows and requests, the
/// notifications they made, endorsements and list memberships.
const SEVER: [&str; 5] = [
    "DELETE FROM follows WHERE (account_id = $1 AND target_account_id = $2) OR (account_id = $2 AND target_account_id = $1)",
    "DELETE FROM follow_requests WHERE (account_id = $1 AND target_account_id = $2) OR (account_id = $2 AND target_account_id = $1)",
    "DELETE FROM endorsements WHERE (account_id = $1 AND target_account_id = $2) OR (account_id = $2 AND target_account_id = $1)",
    "DELETE FROM list_accounts WHERE (account_id = $2 AND list_id IN (SELECT id FROM lists WHERE account_id = $1)) \
     OR (account_id = $1 AND list_id IN (SELECT id FROM lists WHERE account_id = $2))",
    "DELETE FROM notifications WHERE ((from_account_id = $1 AND account_id = $2) OR (from_account_id = $2 AND account_id = $1)) \
     AND type IN ('follow', 'follow_request')",
];

/// The ancestors-or-self of status `$2` as `up(id, parent, depth)`, for `WITH RECURSIVE`.
const THREAD_UP: &str = "up(id, parent, depth) AS (SELECT id, in_reply_to_id, 0 FROM statuses \
     WHERE id = $2 UNION ALL SELECT s.id, s.in_reply_to_id, up.depth + 1 FROM statuses s \
     JOIN up ON s.id = up.parent WHERE up.depth < 200)";

impl Store {
    /// `account` blocks `target`: follows and requests between them end both ways, with
    /// the deliveries (a Block to a remote target) in the same transaction. `ap_id` is a
    /// remote blocker's Block. `false` if the block existed (only the follows are cleared).
    pub async fn block(
        &self,
        account: i64,
        target: i64,
        ap_id: Option<&str>,
        deliveries: &[NewDelivery],
    ) -> Result<bool, StoreError> {
        Ok(in_tx!(self, |tx| {
            let n = sqlx::query(
                "INSERT INTO blocks (id, account_id, target_account_id, ap_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(crate::ids::next_id())
            .bind(account)
            .bind(target)
            .bind(ap_id)
            .bind(super::now_millis())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            for sql in SEVER {
                sqlx::query(sql)
                    .bind(account)
                    .bind(target)
                    .execute(&mut *tx)
                    .await?;
            }
            if n > 0 {
                insert_deliveries!(tx, deliveries)?;
            }
            n > 0
        }))
    }

    /// Ends `account`'s block of `target`, with its deliveries (an Undo Block); `false` if
    /// there was none, and then nothing is written.
    pub async fn unblock(
        &self,
        account: i64,
        target: i64,
        deliveries: &[NewDelivery],
    ) -> Result<bool, StoreError> {
        Ok(in_tx!(self, |tx| {
            let n =
                sqlx::query("DELETE FROM blocks WHERE account_id = $1 AND target_account_id = $2")
                    .bind(account)
                    .bind(target)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            if n > 0 {
                insert_deliveries!(tx, deliveries)?;
            }
            n > 0
        }))
    }

    /// Ends the block `account` made with the Block whose id is `ap_id`.
    pub async fn unblock_by_ap_id(&self, account: i64, ap_id: &str) -> Result<bool, StoreError> {
        let n = in_tx!(self, |tx| sqlx::query(
            "DELETE FROM blocks WHERE account_id = $1 AND ap_id = $2"
        )
        .bind(account)
        .bind(ap_id)
        .execute(&mut *tx)
        .await?
        .rows_affected());
        Ok(n > 0)
    }

    /// The id of the Block activity with which `account` blocks `target`.
    pub async fn block_ap_id(
        &self,
        account: i64,
        target: i64,
    ) -> Result<Option<String>, StoreError> {
        let id: Option<Option<String>> = on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT ap_id FROM blocks WHERE account_id = $1 AND target_account_id = $2"
        )
        .bind(account)
        .bind(target)
        .fetch_optional(pool)
        .await)?;
        Ok(id.flatten())
    }

    /// Does either of the two block the other?
    pub async fn blocked_either_way(&self, a: i64, b: i64) -> Result<bool, StoreError> {
        let n: i64 = on_pool!(self, |pool| sqlx::query_scalar(
            "SELECT COUNT(*) FROM blocks WHERE (account_id = $1 AND target_account_id = $2) \
             OR (account_id = $2 AND target_account_id = $1)"
        )
        .bind(a)
        .bind(b)
        .fetch_one(pool)
        .await)?;
        Ok(n > 0)
    }

    /// Mutes `target` for `account` (again: with the new settings) until `expires_at`.
    pub async fn mute(
        &self,
        account: i64,
        target: i64,
        notifications: bool,
        expires_at: Option<i64>,
    ) -> Result<(), StoreError> {
        in_tx!(self, |tx| {
            sqlx::query(
            "INSERT INTO mutes (id, account_id, target_account_id, notifications, expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (account_id, target_account_id) \
             DO UPDATE SET notifications = excluded.notifications, expires_at = excluded.expires_at"
        )
        .bind(crate::ids::next_id())
        .bind(account)
        .bind(target)
        .bind(notifications)
        .bind(expires_at)
        .bind(super::now_millis())
        .execute(&mut *tx)
        .await
        .map(|_| ())?
        });
        Ok(())
    }

    pub async fn unmute(&self, account: i64, target: i64) -> Result<(), StoreError> {
        in_tx!(self, |tx| sqlx::query(
            "DELETE FROM mutes WHERE account_id = $1 AND target_account_id = $2"
        )
        .bind(account)
        .bind(target)
        .execute(&mut *tx)
        .await
        .map(|_| ())?);
        Ok(())
    }

    /// Mutes the thread of `status` for `account` (muted: true to mute, false to unmute the
    /// whole thread). The thread is known by its root, the highest ancestor the node holds.
    pub async fn mute_thread(
        &self,
        account: i64,
        status: i64,
        muted: bool,
    ) -> Result<(), StoreError> {
        let root =
            format!("(WITH RECURSIVE {THREAD_UP} SELECT id FROM up ORDER BY depth DESC LIMIT 1)");
        let sql = if muted {
            format!(
                "INSERT INTO thread_mutes (account_id, root_id, status_id) \
                 SELECT $1, {root}, $2 ON CONFLICT DO NOTHING"
            )
        } else {
            format!("DELETE FROM thread_mutes WHERE account_id = $1 AND root_id = {root}")
        };
        in_tx!(self, |tx| sqlx::query(&sql)
            .bind(account)
            .bind(status)
            .execute(&mut *tx)
            .await
            .map(|_| ())?);
        Ok(())
    }

    /// A page of (block id, account id) of the accounts `account` blocks, newest first.
    pub async fn blocked_accounts(
        &self,
        account: i64,
        page: &Page,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        let (cond, order, binds) = page.sql("id", 2);
        let sql = format!(
            "SELECT id, target_account_id FROM blocks WHERE account_id = $1 AND {cond} \
             ORDER BY id {order} LIMIT {}",
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

    /// A page of (mute id, account id, expires at) of the mutes of `account` still in force.
    pub async fn muted_accounts(
        &self,
        account: i64,
        page: &Page,
    ) -> Result<Vec<(i64, i64, Option<i64>)>, StoreError> {
        let (cond, order, binds) = page.sql("id", 3);
        let sql = format!(
            "SELECT id, target_account_id, expires_at FROM mutes WHERE account_id = $1 \
             AND (expires_at IS NULL OR expires_at > $2) AND {cond} ORDER BY id {order} LIMIT {}",
            page.limit
        );
        let rows: Vec<(i64, i64, Option<i64>)> = on_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql).bind(account).bind(super::now_millis());
            for b in &binds {
                q = q.bind(b);
            }
            q.fetch_all(pool).await
        })?;
        Ok(page.finish(rows))
    }

    /// `account` blocks the node `domain`: its accounts no longer follow `account`, and
    /// `account` no longer follows them. `false` if it already did.
    pub async fn block_domain(&self, account: i64, domain: &str) -> Result<bool, StoreError> {
        Ok(in_tx!(self, |tx| {
            let n = sqlx::query(
                "INSERT INTO domain_blocks (id, account_id, domain, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(crate::ids::next_id())
            .bind(account)
            .bind(domain)
            .bind(super::now_millis())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            for sql in [
                "DELETE FROM follows WHERE target_account_id = $1 AND account_id IN (SELECT id FROM accounts WHERE domain = $2)",
                "DELETE FROM follow_requests WHERE target_account_id = $1 AND account_id IN (SELECT id FROM accounts WHERE domain = $2)",
            ] {
                sqlx::query(sql)
                    .bind(account)
                    .bind(domain)
                    .execute(&mut *tx)
                    .await?;
            }
            n > 0
        }))
    }

    pub async fn unblock_domain(&self, account: i64, domain: &str) -> Result<(), StoreError> {
        in_tx!(self, |tx| sqlx::query(
            "DELETE FROM domain_blocks WHERE account_id = $1 AND domain = $2"
        )
        .bind(account)
        .bind(domain)
        .execute(&mut *tx)
        .await
        .map(|_| ())?);
        Ok(())
    }

    /// A page of (id, domain) of the nodes `account` blocks, newest first.
    pub async fn blocked_domains(
        &self,
        account: i64,
        page: &Page,
    ) -> Result<Vec<(i64, String)>, StoreError> {
        let (cond, order, binds) = page.sql("id", 2);
        let sql = format!(
            "SELECT id, domain FROM domain_blocks WHERE account_id = $1 AND {cond} \
             ORDER BY id {order} LIMIT {}",
            page.limit
        );
        let rows: Vec<(i64, String)> = on_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql).bind(account);
            for b in &binds {
                q = q.bind(b);
            }
            q.fetch_all(pool).await
        })?;
        Ok(page.finish(rows))
    }

    /// Who `viewer` does not see now (see [`hidden_accounts_sql`]), and the nodes it blocks.
    pub async fn hidden_accounts(&self, viewer: i64, hiding: Hiding) -> Result<Hidden, StoreError> {
        let sql = format!(
            "SELECT hid.target_account_id, '' FROM ({}) hid \
             UNION ALL SELECT 0, domain FROM domain_blocks WHERE account_id = {viewer}",
            hidden_accounts_sql(viewer, super::now_millis(), hiding)
        );
        let rows: Vec<(i64, String)> =
            on_pool!(self, |pool| sqlx::query_as(&sql).fetch_all(pool).await)?;
        let mut hidden = Hidden::default();
        for (id, domain) in rows {
            if domain.is_empty() {
                hidden.accounts.insert(id);
            } else {
                hidden.domains.insert(domain);
            }
        }
        Ok(hidden)
    }
}
