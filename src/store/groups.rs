//! Groups hosted here: their settings, moderators and bans. A group is an account
//! (`accounts.is_group`); its members are its followers.

use sqlx::FromRow;

use super::policy::{insert_audit, Audit};
use super::profile_index::reindex_account;
use super::social::insert_follow_row;
use super::{in_tx, on_pool, Store, StoreError};

/// Who may post into a group.
pub const POSTING: [&str; 2] = ["members", "anyone"];

#[derive(Debug, Clone, FromRow)]
pub struct GroupRow {
    pub account_id: i64,
    pub posting: String,
    pub created_by: Option<i64>,
    pub created_at: i64,
}

/// What creating a group writes: its account (no password: nobody logs in as a group), its
/// settings, its owner as moderator and member, and the audit entry.
pub struct NewGroup<'a> {
    pub id: i64,
    pub username: &'a str,
    pub display_name: &'a str,
    pub note: &'a str,
    pub private: bool,
    pub posting: &'a str,
    pub private_key_pem: &'a str,
    pub public_key_pem: &'a str,
    pub owner: i64,
    pub created_by: Option<i64>,
    pub created_at: i64,
}

impl Store {
    pub async fn insert_group(
        &self,
        g: &NewGroup<'_>,
        audit: &Audit<'_>,
    ) -> Result<(), StoreError> {
        in_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO accounts (id, username, username_key, domain, display_name, note, \
                 private_key_pem, public_key_pem, role, locked, discoverable, is_group, \
                 created_at, updated_at) \
                 VALUES ($1, $2, $3, '', $4, $5, $6, $7, 'user', $8, TRUE, TRUE, $9, $9)",
            )
            .bind(g.id)
            .bind(g.username)
            .bind(g.username.to_lowercase())
            .bind(g.display_name)
            .bind(g.note)
            .bind(g.private_key_pem)
            .bind(g.public_key_pem)
            .bind(g.private)
            .bind(g.created_at)
            .execute(&mut *tx)
            .await
            .map_err(|e| StoreError::conflict_as(e, "an account with this username"))?;
            sqlx::query(
                "INSERT INTO groups (account_id, posting, created_by, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(g.id)
            .bind(g.posting)
            .bind(g.created_by)
            .bind(g.created_at)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO group_moderators (group_id, account_id, role, created_at) VALUES ($1, $2, 'owner', $3)",
            )
            .bind(g.id)
            .bind(g.owner)
            .bind(g.created_at)
            .execute(&mut *tx)
            .await?;
            insert_follow_row!(&mut *tx, g.owner, g.id, true, false, None)?;
            reindex_account!(tx, g.id);
            insert_audit!(&mut *tx, audit)?;
        });
        Ok(())
    }

    pub async fn group(&self, account_id: i64) -> Result<Option<GroupRow>, StoreError> {
        let sql =
            "SELECT account_id, posting, created_by, created_at FROM groups WHERE account_id = $1";
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, GroupRow>(sql)
            .bind(account_id)
            .fetch_optional(pool)
            .await)?)
    }

    /// The groups hosted here, oldest first (suspended ones are deleted groups).
    pub async fn groups(&self) -> Result<Vec<GroupRow>, StoreError> {
        let sql = "SELECT g.account_id, g.posting, g.created_by, g.created_at FROM groups g \
                   JOIN accounts a ON a.id = g.account_id WHERE NOT a.suspended ORDER BY g.account_id";
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, GroupRow>(sql)
            .fetch_all(pool)
            .await)?)
    }

    /// (account, role) of a group's moderators, owners first.
    pub async fn group_moderators(&self, group: i64) -> Result<Vec<(i64, String)>, StoreError> {
        let sql = "SELECT account_id, role FROM group_moderators WHERE group_id = $1 \
                   ORDER BY role DESC, created_at";
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, (i64, String)>(
            sql
        )
        .bind(group)
        .fetch_all(pool)
        .await)?)
    }

    /// Sets (or with `role: None`, removes) a moderator, with its audit entry.
    pub async fn set_group_moderator(
        &self,
        group: i64,
        account: i64,
        role: Option<&str>,
        audit: &Audit<'_>,
    ) -> Result<bool, StoreError> {
        let changed = in_tx!(self, |tx| {
            let n = match role {
                Some(role) => sqlx::query(
                    "INSERT INTO group_moderators (group_id, account_id, role, created_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (group_id, account_id) DO UPDATE SET role = excluded.role",
                )
                .bind(group)
                .bind(account)
                .bind(role)
                .bind(super::now_millis())
                .execute(&mut *tx)
                .await?
                .rows_affected(),
                None => sqlx::query(
                    "DELETE FROM group_moderators WHERE group_id = $1 AND account_id = $2",
                )
                .bind(group)
                .bind(account)
                .execute(&mut *tx)
                .await?
                .rows_affected(),
            };
            if n > 0 {
                insert_audit!(&mut *tx, audit)?;
            }
            n > 0
        });
        Ok(changed)
    }

    /// Changes a group's settings (and its profile), with the audit entry and the deliveries
    /// of its Update, in one transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn update_group(
        &self,
        group: i64,
        display_name: &str,
        note: &str,
        private: bool,
        posting: &str,
        audit: &Audit<'_>,
        deliveries: &[super::deliveries::NewDelivery],
    ) -> Result<(), StoreError> {
        in_tx!(self, |tx| {
            sqlx::query(
                "UPDATE accounts SET display_name = $1, note = $2, locked = $3, updated_at = $4 WHERE id = $5",
            )
            .bind(display_name)
            .bind(note)
            .bind(private)
            .bind(super::now_millis())
            .bind(group)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE groups SET posting = $1 WHERE account_id = $2")
                .bind(posting)
                .bind(group)
                .execute(&mut *tx)
                .await?;
            reindex_account!(tx, group);
            insert_audit!(&mut *tx, audit)?;
            super::deliveries::insert_deliveries!(tx, deliveries)?;
        });
        Ok(())
    }

    pub async fn is_banned(&self, group: i64, account: i64) -> Result<bool, StoreError> {
        let sql = "SELECT 1 FROM group_bans WHERE group_id = $1 AND account_id = $2";
        let found = on_pool!(self, |pool| sqlx::query_scalar::<_, i32>(sql)
            .bind(group)
            .bind(account)
            .fetch_optional(pool)
            .await)?;
        Ok(found.is_some())
    }

    /// Ends a membership (and a pending request), optionally banning the member, with the
    /// audit entry and the Reject telling the member's node, in one transaction. Whether there
    /// was a membership or request to end.
    pub async fn remove_group_member(
        &self,
        group: i64,
        member: i64,
        ban: Option<&str>,
        audit: &Audit<'_>,
        deliveries: &[super::deliveries::NewDelivery],
    ) -> Result<bool, StoreError> {
        let removed = in_tx!(self, |tx| {
            let mut n = 0;
            for table in ["follows", "follow_requests"] {
                n += sqlx::query(&format!(
                    "DELETE FROM {table} WHERE account_id = $1 AND target_account_id = $2"
                ))
                .bind(member)
                .bind(group)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            sqlx::query("DELETE FROM list_accounts WHERE account_id = $1 AND list_id IN (SELECT id FROM lists WHERE account_id = $2)")
                .bind(group)
                .bind(member)
                .execute(&mut *tx)
                .await?;
            if let Some(reason) = ban {
                sqlx::query(
                    "INSERT INTO group_bans (group_id, account_id, reason, created_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (group_id, account_id) DO UPDATE SET reason = excluded.reason",
                )
                .bind(group)
                .bind(member)
                .bind(reason)
                .bind(super::now_millis())
                .execute(&mut *tx)
                .await?;
            }
            if n > 0 || ban.is_some() {
                insert_audit!(&mut *tx, audit)?;
                super::deliveries::insert_deliveries!(tx, deliveries)?;
            }
            n > 0
        });
        Ok(removed)
    }

    /// Deletes a group: its account is suspended (peers are told it is gone by the 410 its
    /// actor answers), its members' follows and list entries of it removed, with the audit
    /// entry.
    pub async fn delete_group(&self, group: i64, audit: &Audit<'_>) -> Result<(), StoreError> {
        in_tx!(self, |tx| {
            sqlx::query("UPDATE accounts SET suspended = TRUE, updated_at = $1 WHERE id = $2")
                .bind(super::now_millis())
                .bind(group)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM follows WHERE target_account_id = $1")
                .bind(group)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM list_accounts WHERE account_id = $1")
                .bind(group)
                .execute(&mut *tx)
                .await?;
            insert_audit!(&mut *tx, audit)?;
        });
        Ok(())
    }

    /// Whether accounts on `domain` follow `account`: a peer with members of a group.
    pub async fn has_followers_on(&self, account: i64, domain: &str) -> Result<bool, StoreError> {
        let sql = "SELECT 1 FROM follows f JOIN accounts a ON a.id = f.account_id \
                   WHERE f.target_account_id = $1 AND a.domain = $2 LIMIT 1";
        let found = on_pool!(self, |pool| sqlx::query_scalar::<_, i32>(sql)
            .bind(account)
            .bind(domain)
            .fetch_optional(pool)
            .await)?;
        Ok(found.is_some())
    }
}
