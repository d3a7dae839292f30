//! Reports and account moderation: reports filed here or received from peers, what moderators
//! did with them, and the moderation state of accounts besides suspension. Every moderator's
//! change commits with its audit entry and the notifications it causes.

use std::collections::HashMap;

use sqlx::FromRow;

use super::deliveries::{insert_deliveries, NewDelivery};
use super::policy::{insert_audit, Audit};
use super::statuses::{insert_notification, NewNotification, Page};
use super::{in_tx, on_pool, placeholders, Store, StoreError};

#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct ReportRow {
    pub id: i64,
    /// Who filed it: a local user, or the node actor of the peer that forwarded it.
    pub account_id: i64,
    pub target_account_id: i64,
    pub comment: String,
    pub category: String,
    /// Comma-separated.
    pub status_ids: String,
    pub rule_ids: String,
    pub forwarded: bool,
    /// The Flag's id, for one received from a peer.
    pub uri: Option<String>,
    pub assigned_account_id: Option<i64>,
    pub action_taken_by_account_id: Option<i64>,
    pub action_taken_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

fn id_list(s: &str) -> Vec<i64> {
    s.split(',').filter_map(|x| x.trim().parse().ok()).collect()
}

impl ReportRow {
    pub fn status_id_list(&self) -> Vec<i64> {
        id_list(&self.status_ids)
    }

    pub fn rule_id_list(&self) -> Vec<i64> {
        id_list(&self.rule_ids)
    }
}

const REPORT_COLUMNS: &str = "id, account_id, target_account_id, comment, category, status_ids, \
    rule_ids, forwarded, uri, assigned_account_id, action_taken_by_account_id, action_taken_at, \
    created_at, updated_at";

/// What the admin report list is asked for.
#[derive(Debug, Clone, Default)]
pub struct ReportQuery {
    /// Resolved ones (`Some(true)`), open ones (`Some(false)`), or all.
    pub resolved: Option<bool>,
    pub account_id: Option<i64>,
    pub target_account_id: Option<i64>,
}

/// Moderation of an account besides suspension.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, FromRow)]
pub struct ModerationRow {
    pub account_id: i64,
    pub silenced: bool,
    pub sensitized: bool,
    pub disabled: bool,
}

/// A moderator's change to an account; `None` leaves a flag as it is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ModerationChange {
    pub suspended: Option<bool>,
    pub silenced: Option<bool>,
    pub sensitized: Option<bool>,
    pub disabled: Option<bool>,
}

/// What the admin account list is asked for (Mastodon's v1 and v2 filters in one).
#[derive(Debug, Clone, Default)]
pub struct AccountQuery {
    /// `Some(true)`: local only; `Some(false)`: remote only.
    pub local: Option<bool>,
    /// active, pending, disabled, silenced, suspended, sensitized.
    pub status: Option<String>,
    pub staff: bool,
    pub by_domain: Option<String>,
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
}

impl Store {
    /// The node's moderators and admins (local, not suspended).
    pub async fn staff_ids(&self) -> Result<Vec<i64>, StoreError> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_scalar(
                "SELECT id FROM accounts WHERE domain = '' AND role IN ('admin', 'moderator') \
                 AND NOT suspended ORDER BY id",
            )
            .fetch_all(pool)
            .await
        })?)
    }

    /// Writes a report with the notifications (to moderators) and deliveries (a forwarded Flag)
    /// it causes. `false` when a report with its `uri` was received already.
    pub async fn insert_report(
        &self,
        r: &ReportRow,
        notifications: &[NewNotification],
        deliveries: &[NewDelivery],
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "INSERT INTO reports ({REPORT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
             $10, $11, $12, $13, $14) ON CONFLICT DO NOTHING"
        );
        Ok(in_tx!(self, |tx| {
            let n = sqlx::query(&sql)
                .bind(r.id)
                .bind(r.account_id)
                .bind(r.target_account_id)
                .bind(&r.comment)
                .bind(&r.category)
                .bind(&r.status_ids)
                .bind(&r.rule_ids)
                .bind(r.forwarded)
                .bind(&r.uri)
                .bind(r.assigned_account_id)
                .bind(r.action_taken_by_account_id)
                .bind(r.action_taken_at)
                .bind(r.created_at)
                .bind(r.updated_at)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if n > 0 {
                for note in notifications {
                    insert_notification!(&mut *tx, note)?;
                }
                insert_deliveries!(tx, deliveries)?;
            }
            n > 0
        }))
    }

    pub async fn report(&self, id: i64) -> Result<Option<ReportRow>, StoreError> {
        let sql = format!("SELECT {REPORT_COLUMNS} FROM reports WHERE id = $1");
        Ok(on_pool!(self, |pool| {
            sqlx::query_as::<_, ReportRow>(&sql)
                .bind(id)
                .fetch_optional(pool)
                .await
        })?)
    }

    /// A page of reports, newest first.
    pub async fn reports(
        &self,
        q: &ReportQuery,
        page: &Page,
    ) -> Result<Vec<ReportRow>, StoreError> {
        let (cond, order, binds) = page.sql("id", 4);
        let resolved = match q.resolved {
            Some(true) => "action_taken_at IS NOT NULL",
            Some(false) => "action_taken_at IS NULL",
            None => "TRUE",
        };
        let sql = format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE {resolved} \
             AND ($1 IS NULL OR account_id = $1) AND ($2 IS NULL OR target_account_id = $2) \
             AND {cond} ORDER BY id {order} LIMIT $3"
        );
        let rows = on_pool!(self, |pool| {
            let mut query = sqlx::query_as::<_, ReportRow>(&sql)
                .bind(q.account_id)
                .bind(q.target_account_id)
                .bind(page.limit);
            for b in &binds {
                query = query.bind(b);
            }
            query.fetch_all(pool).await
        })?;
        Ok(page.finish(rows))
    }

    /// Writes a moderator's change to a report (assignment, resolution, category) with its
    /// audit entry and notifications.
    pub async fn update_report(
        &self,
        r: &ReportRow,
        audit: &Audit<'_>,
        notifications: &[NewNotification],
    ) -> Result<(), StoreError> {
        in_tx!(self, |tx| {
            sqlx::query(
                "UPDATE reports SET category = $2, rule_ids = $3, assigned_account_id = $4, \
                 action_taken_by_account_id = $5, action_taken_at = $6, updated_at = $7 \
                 WHERE id = $1",
            )
            .bind(r.id)
            .bind(&r.category)
            .bind(&r.rule_ids)
            .bind(r.assigned_account_id)
            .bind(r.action_taken_by_account_id)
            .bind(r.action_taken_at)
            .bind(r.updated_at)
            .execute(&mut *tx)
            .await?;
            insert_audit!(&mut *tx, audit)?;
            for note in notifications {
                insert_notification!(&mut *tx, note)?;
            }
        });
        Ok(())
    }

    /// The moderation state of those of `ids` that have one.
    pub async fn moderation_of(
        &self,
        ids: &[i64],
    ) -> Result<HashMap<i64, ModerationRow>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT account_id, silenced, sensitized, disabled FROM account_moderation \
             WHERE account_id IN ({})",
            placeholders(1, ids.len())
        );
        let rows: Vec<ModerationRow> = on_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql);
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(pool).await
        })?;
        Ok(rows.into_iter().map(|m| (m.account_id, m)).collect())
    }

    /// Applies a moderator's change to an account, with its audit entry, the report it
    /// resolves (if any), and its effects: a disabled or suspended account's tokens and
    /// codes are revoked; a sensitized account's statuses with media become sensitive.
    pub async fn moderate_account(
        &self,
        account: i64,
        change: &ModerationChange,
        resolves: Option<&ReportRow>,
        audit: &Audit<'_>,
        notifications: &[NewNotification],
    ) -> Result<(), StoreError> {
        let now = super::now_millis();
        in_tx!(self, |tx| {
            if let Some(s) = change.suspended {
                sqlx::query("UPDATE accounts SET suspended = $2, updated_at = $3 WHERE id = $1")
                    .bind(account)
                    .bind(s)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            if change.silenced.is_some() || change.sensitized.is_some() || change.disabled.is_some()
            {
                sqlx::query(
                    "INSERT INTO account_moderation (account_id, silenced, sensitized, disabled, updated_at) \
                     VALUES ($1, COALESCE($2, FALSE), COALESCE($3, FALSE), COALESCE($4, FALSE), $5) \
                     ON CONFLICT (account_id) DO UPDATE SET \
                       silenced = COALESCE($2, account_moderation.silenced), \
                       sensitized = COALESCE($3, account_moderation.sensitized), \
                       disabled = COALESCE($4, account_moderation.disabled), updated_at = $5",
                )
                .bind(account)
                .bind(change.silenced)
                .bind(change.sensitized)
                .bind(change.disabled)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            if change.disabled == Some(true) || change.suspended == Some(true) {
                sqlx::query("DELETE FROM oauth_tokens WHERE account_id = $1")
                    .bind(account)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM oauth_codes WHERE account_id = $1")
                    .bind(account)
                    .execute(&mut *tx)
                    .await?;
            }
            if change.sensitized == Some(true) {
                sqlx::query(
                    "UPDATE statuses SET sensitive = TRUE WHERE account_id = $1 \
                     AND EXISTS (SELECT 1 FROM media m WHERE m.status_id = statuses.id)",
                )
                .bind(account)
                .execute(&mut *tx)
                .await?;
            }
            if let Some(r) = resolves {
                sqlx::query(
                    "UPDATE reports SET action_taken_by_account_id = $2, action_taken_at = $3, \
                     updated_at = $3 WHERE id = $1",
                )
                .bind(r.id)
                .bind(r.action_taken_by_account_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            insert_audit!(&mut *tx, audit)?;
            for note in notifications {
                insert_notification!(&mut *tx, note)?;
            }
        });
        Ok(())
    }

    /// A page of account ids for the admin account list, newest first.
    pub async fn admin_accounts(
        &self,
        q: &AccountQuery,
        page: &Page,
    ) -> Result<Vec<i64>, StoreError> {
        let (cond, order, binds) = page.sql("a.id", 8);
        let status = match q.status.as_deref() {
            Some("suspended") => "a.suspended",
            Some("silenced") => "COALESCE(m.silenced, FALSE)",
            Some("disabled") => "COALESCE(m.disabled, FALSE)",
            Some("sensitized") => "COALESCE(m.sensitized, FALSE)",
            // No sign-up approval here: nobody is pending.
            Some("pending") => "FALSE",
            Some("active") => "NOT a.suspended AND NOT COALESCE(m.disabled, FALSE)",
            _ => "TRUE",
        };
        let sql = format!(
            "SELECT a.id FROM accounts a LEFT JOIN account_moderation m ON m.account_id = a.id \
             WHERE NOT a.is_group AND {status} \
             AND ($1 IS NULL OR ($1 AND a.domain = '') OR (NOT $1 AND a.domain <> '')) \
             AND (NOT $2 OR a.role IN ('admin', 'moderator')) \
             AND ($3 IS NULL OR a.domain = $3) \
             AND ($4 IS NULL OR LOWER(a.username) LIKE $4) \
             AND ($5 IS NULL OR LOWER(a.display_name) LIKE $5) \
             AND ($6 IS NULL OR LOWER(a.email) LIKE $6) \
             AND {cond} ORDER BY a.id {order} LIMIT $7"
        );
        let like = |s: &Option<String>| {
            s.as_ref()
                .filter(|s| !s.is_empty())
                .map(|s| format!("%{}%", s.to_lowercase()))
        };
        let rows: Vec<i64> = on_pool!(self, |pool| {
            let mut query = sqlx::query_scalar(&sql)
                .bind(q.local)
                .bind(q.staff)
                .bind(&q.by_domain)
                .bind(like(&q.username))
                .bind(like(&q.display_name))
                .bind(like(&q.email))
                .bind(page.limit);
            for b in &binds {
                query = query.bind(b);
            }
            query.fetch_all(pool).await
        })?;
        Ok(page.finish(rows))
    }
}
