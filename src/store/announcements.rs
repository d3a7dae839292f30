//! Announcements: this node's and its peers', who dismissed and reacted here, the counts peers
//! reported for ours, and the reports this node owes the origins of theirs.

use std::collections::{BTreeMap, HashSet};

use sqlx::FromRow;

use super::deliveries::{insert_deliveries, NewDelivery};
use super::policy::{insert_audit, Audit};
use super::{in_tx, on_pool, on_writer, Store, StoreError};

/// How long a receiving node waits at least between two reports of one announcement.
pub const REPORT_INTERVAL_MS: i64 = 3_000;

#[derive(Debug, Clone, FromRow)]
pub struct AnnouncementRow {
    pub id: i64,
    /// `''` for this node's own, else the origin peer's domain.
    pub origin: String,
    pub ap_id: Option<String>,
    pub origin_name: String,
    pub author_id: Option<i64>,
    pub text: String,
    pub content: String,
    pub language: Option<String>,
    /// `node` or `org`.
    pub reach: String,
    pub starts_at: Option<i64>,
    pub ends_at: Option<i64>,
    pub all_day: bool,
    pub published_at: i64,
    pub updated_at: i64,
    pub withdrawn_at: Option<i64>,
    pub reminded_at: Option<i64>,
    pub streamed: bool,
}

impl AnnouncementRow {
    pub fn is_local(&self) -> bool {
        self.origin.is_empty()
    }

    /// Shown to staff at `now`: published, started, not ended, not withdrawn.
    pub fn is_active(&self, now: i64) -> bool {
        self.withdrawn_at.is_none()
            && self.starts_at.is_none_or(|s| s <= now)
            && self.ends_at.is_none_or(|e| e > now)
    }
}

const COLUMNS: &str = "id, origin, ap_id, origin_name, author_id, text, content, language, reach, \
    starts_at, ends_at, all_day, published_at, updated_at, withdrawn_at, reminded_at, streamed";

/// Counts of one announcement on one node.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub reached: i64,
    pub read: i64,
    pub reactions: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, FromRow)]
pub struct PeerCountsRow {
    pub peer: String,
    pub reached: i64,
    pub read: i64,
    pub reactions: String,
    pub updated_at: i64,
}

/// A reaction on an announcement: its name, how many, and whether the viewer is one of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReactionCount {
    pub announcement_id: i64,
    pub name: String,
    pub count: i64,
    pub me: bool,
}

macro_rules! write_row {
    ($tx:expr, $sql:expr, $r:expr) => {{
        let r: &AnnouncementRow = $r;
        sqlx::query($sql)
            .bind(r.id)
            .bind(&r.origin)
            .bind(&r.ap_id)
            .bind(&r.origin_name)
            .bind(r.author_id)
            .bind(&r.text)
            .bind(&r.content)
            .bind(&r.language)
            .bind(&r.reach)
            .bind(r.starts_at)
            .bind(r.ends_at)
            .bind(r.all_day)
            .bind(r.published_at)
            .bind(r.updated_at)
            .bind(r.withdrawn_at)
            .bind(r.reminded_at)
            .bind(r.streamed)
            .execute($tx)
            .await
    }};
}

const INSERT: &str = "INSERT INTO announcements (id, origin, ap_id, origin_name, author_id, text, \
    content, language, reach, starts_at, ends_at, all_day, published_at, updated_at, withdrawn_at, \
    reminded_at, streamed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
    $15, $16, $17)";

const UPDATE: &str = "UPDATE announcements SET origin = $2, ap_id = $3, origin_name = $4, \
    author_id = $5, text = $6, content = $7, language = $8, reach = $9, starts_at = $10, \
    ends_at = $11, all_day = $12, published_at = $13, updated_at = $14, withdrawn_at = $15, \
    reminded_at = $16, streamed = $17 WHERE id = $1";

impl Store {
    /// Writes a new announcement of this node's, with its audit entry and deliveries.
    pub async fn insert_announcement(
        &self,
        row: &AnnouncementRow,
        audit: &Audit<'_>,
        deliveries: &[NewDelivery],
    ) -> Result<(), StoreError> {
        in_tx!(self, |tx| {
            write_row!(&mut *tx, INSERT, row)?;
            insert_audit!(&mut *tx, audit)?;
            insert_deliveries!(tx, deliveries)?;
        });
        Ok(())
    }

    /// Rewrites an announcement (an edit, a withdrawal, a reminder), with its audit entry and
    /// deliveries.
    pub async fn update_announcement(
        &self,
        row: &AnnouncementRow,
        audit: Option<&Audit<'_>>,
        deliveries: &[NewDelivery],
    ) -> Result<(), StoreError> {
        in_tx!(self, |tx| {
            write_row!(&mut *tx, UPDATE, row)?;
            if let Some(audit) = audit {
                insert_audit!(&mut *tx, audit)?;
            }
            insert_deliveries!(tx, deliveries)?;
        });
        Ok(())
    }

    /// Stores a peer's announcement as received (new, or a newer version of one held); returns
    /// the stored row. A report of the counts here is due at once.
    pub async fn upsert_remote_announcement(
        &self,
        row: &AnnouncementRow,
    ) -> Result<AnnouncementRow, StoreError> {
        let ap_id = row.ap_id.clone().unwrap_or_default();
        let held = self.announcement_by_ap_id(&ap_id).await?;
        let now = super::now_millis();
        in_tx!(self, |tx| {
            match &held {
                Some(h) => {
                    let merged = AnnouncementRow {
                        id: h.id,
                        ..row.clone()
                    };
                    write_row!(&mut *tx, UPDATE, &merged)?
                }
                None => write_row!(&mut *tx, INSERT, row)?,
            };
            let id = held.as_ref().map(|h| h.id).unwrap_or(row.id);
            queue_report!(&mut *tx, id, now)?;
        });
        self.announcement_by_ap_id(&ap_id)
            .await?
            .ok_or_else(|| StoreError::Corrupt(format!("announcement {ap_id} vanished")))
    }

    pub async fn announcement(&self, id: i64) -> Result<Option<AnnouncementRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM announcements WHERE id = $1");
        Ok(on_pool!(self, |pool| {
            sqlx::query_as::<_, AnnouncementRow>(&sql)
                .bind(id)
                .fetch_optional(pool)
                .await
        })?)
    }

    pub async fn announcement_by_ap_id(
        &self,
        ap_id: &str,
    ) -> Result<Option<AnnouncementRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM announcements WHERE ap_id = $1");
        Ok(on_pool!(self, |pool| {
            sqlx::query_as::<_, AnnouncementRow>(&sql)
                .bind(ap_id)
                .fetch_optional(pool)
                .await
        })?)
    }

    /// This node's own announcements, newest first (withdrawn ones too).
    pub async fn own_announcements(&self, limit: i64) -> Result<Vec<AnnouncementRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM announcements WHERE origin = '' ORDER BY id DESC LIMIT $1"
        );
        Ok(on_pool!(self, |pool| {
            sqlx::query_as::<_, AnnouncementRow>(&sql)
                .bind(limit)
                .fetch_all(pool)
                .await
        })?)
    }

    /// Announcements shown at `now` (ours and peers'), newest first; without `with_dismissed`,
    /// only those `viewer` has not dismissed.
    pub async fn active_announcements(
        &self,
        now: i64,
        viewer: i64,
        with_dismissed: bool,
    ) -> Result<Vec<AnnouncementRow>, StoreError> {
        let unread = if with_dismissed {
            ""
        } else {
            " AND NOT EXISTS (SELECT 1 FROM announcement_reads r WHERE r.announcement_id = a.id AND r.account_id = $2)"
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM announcements a WHERE withdrawn_at IS NULL \
             AND (starts_at IS NULL OR starts_at <= $1) AND (ends_at IS NULL OR ends_at > $1){unread} \
             ORDER BY COALESCE(starts_at, published_at) DESC, id DESC LIMIT 100"
        );
        let rows = on_pool!(self, |pool| {
            let q = sqlx::query_as::<_, AnnouncementRow>(&sql).bind(now);
            let q = if with_dismissed { q } else { q.bind(viewer) };
            q.fetch_all(pool).await
        })?;
        Ok(rows)
    }

    /// Which of `ids` the viewer dismissed.
    pub async fn announcements_read_by(
        &self,
        viewer: i64,
        ids: &[i64],
    ) -> Result<HashSet<i64>, StoreError> {
        if ids.is_empty() {
            return Ok(HashSet::new());
        }
        let sql = format!(
            "SELECT announcement_id FROM announcement_reads WHERE account_id = $1 AND announcement_id IN ({})",
            super::placeholders(2, ids.len())
        );
        let rows = on_pool!(self, |pool| {
            let mut q = sqlx::query_scalar::<_, i64>(&sql).bind(viewer);
            for id in ids {
                q = q.bind(*id);
            }
            q.fetch_all(pool).await
        })?;
        Ok(rows.into_iter().collect())
    }

    /// The reactions on `ids`, by name, with whether `viewer` is among them.
    pub async fn announcement_reactions(
        &self,
        viewer: i64,
        ids: &[i64],
    ) -> Result<Vec<ReactionCount>, StoreError> {
        if ids.is_empty() {
            return Ok(vec![]);
        }
        let sql = format!(
            "SELECT announcement_id, name, COUNT(*), \
             SUM(CASE WHEN account_id = $1 THEN 1 ELSE 0 END) FROM announcement_reactions \
             WHERE announcement_id IN ({}) GROUP BY announcement_id, name ORDER BY announcement_id, MIN(created_at)",
            super::placeholders(2, ids.len())
        );
        let rows = on_pool!(self, |pool| {
            let mut q = sqlx::query_as::<_, (i64, String, i64, i64)>(&sql).bind(viewer);
            for id in ids {
                q = q.bind(*id);
            }
            q.fetch_all(pool).await
        })?;
        Ok(rows
            .into_iter()
            .map(|(announcement_id, name, count, me)| ReactionCount {
                announcement_id,
                name,
                count,
                me: me > 0,
            })
            .collect())
    }

    /// Records a dismissal (a read); `false` if it was dismissed already. For a peer's
    /// announcement, a report to its origin becomes due.
    pub async fn dismiss_announcement(
        &self,
        row: &AnnouncementRow,
        account: i64,
    ) -> Result<bool, StoreError> {
        let now = super::now_millis();
        let added = in_tx!(self, |tx| {
            let n = sqlx::query(
                "INSERT INTO announcement_reads (announcement_id, account_id, read_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(row.id)
            .bind(account)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n > 0 && !row.is_local() {
                queue_report!(&mut *tx, row.id, now)?;
            }
            n > 0
        });
        Ok(added)
    }

    /// Adds (or removes) a reaction; whether anything changed. For a peer's announcement, a
    /// report to its origin becomes due.
    pub async fn set_announcement_reaction(
        &self,
        row: &AnnouncementRow,
        account: i64,
        name: &str,
        on: bool,
    ) -> Result<bool, StoreError> {
        let now = super::now_millis();
        let changed = in_tx!(self, |tx| {
            let n = if on {
                sqlx::query(
                    "INSERT INTO announcement_reactions (announcement_id, account_id, name, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                )
                .bind(row.id)
                .bind(account)
                .bind(name)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected()
            } else {
                sqlx::query(
                    "DELETE FROM announcement_reactions WHERE announcement_id = $1 AND account_id = $2 AND name = $3",
                )
                .bind(row.id)
                .bind(account)
                .bind(name)
                .execute(&mut *tx)
                .await?
                .rows_affected()
            };
            if n > 0 && !row.is_local() {
                queue_report!(&mut *tx, row.id, now)?;
            }
            n > 0
        });
        Ok(changed)
    }

    /// The counts of an announcement on this node: staff it is shown to (active local
    /// accounts), dismissals, reactions per name.
    pub async fn local_announcement_counts(&self, id: i64) -> Result<Counts, StoreError> {
        let reached_sql =
            "SELECT COUNT(*) FROM accounts WHERE domain = '' AND NOT suspended AND NOT is_group";
        let read_sql = "SELECT COUNT(*) FROM announcement_reads WHERE announcement_id = $1";
        let reactions_sql = "SELECT name, COUNT(*) FROM announcement_reactions WHERE announcement_id = $1 GROUP BY name";
        let (reached, read, reactions) = on_pool!(self, |pool| {
            let reached = sqlx::query_scalar::<_, i64>(reached_sql)
                .fetch_one(pool)
                .await?;
            let read = sqlx::query_scalar::<_, i64>(read_sql)
                .bind(id)
                .fetch_one(pool)
                .await?;
            let reactions = sqlx::query_as::<_, (String, i64)>(reactions_sql)
                .bind(id)
                .fetch_all(pool)
                .await?;
            Ok::<_, sqlx::Error>((reached, read, reactions))
        })?;
        Ok(Counts {
            reached,
            read,
            reactions: reactions.into_iter().collect(),
        })
    }

    pub async fn announcement_peer_counts(
        &self,
        id: i64,
    ) -> Result<Vec<PeerCountsRow>, StoreError> {
        let sql =
            "SELECT peer, reached, read, reactions, updated_at FROM announcement_peer_counts \
                   WHERE announcement_id = $1 ORDER BY peer";
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, PeerCountsRow>(
            sql
        )
        .bind(id)
        .fetch_all(pool)
        .await)?)
    }

    pub async fn save_peer_counts(
        &self,
        id: i64,
        peer: &str,
        counts: &Counts,
    ) -> Result<(), StoreError> {
        let reactions = serde_json::to_string(&counts.reactions)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let sql = "INSERT INTO announcement_peer_counts (announcement_id, peer, reached, read, reactions, updated_at) \
                   VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (announcement_id, peer) DO UPDATE SET \
                   reached = excluded.reached, read = excluded.read, reactions = excluded.reactions, \
                   updated_at = excluded.updated_at";
        on_writer!(self, |pool| sqlx::query(sql)
            .bind(id)
            .bind(peer)
            .bind(counts.reached)
            .bind(counts.read)
            .bind(&reactions)
            .bind(super::now_millis())
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// Reports due at `now`: (announcement, version of the counts owed).
    pub async fn due_announcement_reports(&self, now: i64) -> Result<Vec<(i64, i64)>, StoreError> {
        let sql = "SELECT announcement_id, version FROM announcement_reports                    WHERE due_at IS NOT NULL AND due_at <= $1 ORDER BY due_at LIMIT 50";
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, (i64, i64)>(sql)
            .bind(now)
            .fetch_all(pool)
            .await)?)
    }

    /// The report of `version` was sent at `sent_at`: nothing more is owed unless a change came
    /// in meanwhile, which is then due [`REPORT_INTERVAL_MS`] later.
    pub async fn sent_announcement_report(
        &self,
        id: i64,
        version: i64,
        sent_at: i64,
    ) -> Result<(), StoreError> {
        let sql = "UPDATE announcement_reports SET last_sent_at = $2,                    due_at = CASE WHEN version = $3 THEN NULL ELSE $4 END WHERE announcement_id = $1";
        on_writer!(self, |pool| sqlx::query(sql)
            .bind(id)
            .bind(sent_at)
            .bind(version)
            .bind(sent_at + REPORT_INTERVAL_MS)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }

    /// A report could not be sent: tried again at `retry_at`.
    pub async fn retry_announcement_report(
        &self,
        id: i64,
        retry_at: i64,
    ) -> Result<(), StoreError> {
        on_writer!(self, |pool| sqlx::query(
            "UPDATE announcement_reports SET due_at = $2 WHERE announcement_id = $1"
        )
        .bind(id)
        .bind(retry_at)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Active announcements staff's streams were not told of yet (published to start later, or
    /// received).
    pub async fn unstreamed_announcements(
        &self,
        now: i64,
    ) -> Result<Vec<AnnouncementRow>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM announcements WHERE NOT streamed AND withdrawn_at IS NULL \
             AND (starts_at IS NULL OR starts_at <= $1) AND (ends_at IS NULL OR ends_at > $1) LIMIT 50"
        );
        Ok(on_pool!(self, |pool| {
            sqlx::query_as::<_, AnnouncementRow>(&sql)
                .bind(now)
                .fetch_all(pool)
                .await
        })?)
    }

    pub async fn mark_announcement_streamed(&self, id: i64) -> Result<(), StoreError> {
        on_writer!(self, |pool| sqlx::query(
            "UPDATE announcements SET streamed = TRUE WHERE id = $1"
        )
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Local staff who have not dismissed an announcement (for a reminder).
    pub async fn announcement_unread_by(&self, id: i64) -> Result<Vec<i64>, StoreError> {
        let sql = "SELECT a.id FROM accounts a WHERE a.domain = '' AND NOT a.suspended AND NOT a.is_group \
                   AND NOT EXISTS (SELECT 1 FROM announcement_reads r WHERE r.announcement_id = $1 AND r.account_id = a.id)";
        Ok(on_pool!(self, |pool| sqlx::query_scalar::<_, i64>(sql)
            .bind(id)
            .fetch_all(pool)
            .await)?)
    }

    /// Whether announcements travel between this node and `domain`, when an admin said so.
    pub async fn peer_announcements(&self, domain: &str) -> Result<Option<bool>, StoreError> {
        let sql = "SELECT announcements FROM peer_settings WHERE domain = $1";
        Ok(on_pool!(self, |pool| sqlx::query_scalar::<_, bool>(sql)
            .bind(domain)
            .fetch_optional(pool)
            .await)?)
    }

    pub async fn all_peer_announcements(&self) -> Result<Vec<(String, bool)>, StoreError> {
        let sql = "SELECT domain, announcements FROM peer_settings ORDER BY domain";
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, (String, bool)>(
            sql
        )
        .fetch_all(pool)
        .await)?)
    }

    pub async fn set_peer_announcements(
        &self,
        domain: &str,
        on: bool,
        audit: &Audit<'_>,
    ) -> Result<(), StoreError> {
        in_tx!(self, |tx| {
            sqlx::query(
                "INSERT INTO peer_settings (domain, announcements) VALUES ($1, $2) \
                 ON CONFLICT (domain) DO UPDATE SET announcements = excluded.announcements",
            )
            .bind(domain)
            .bind(on)
            .execute(&mut *tx)
            .await?;
            insert_audit!(&mut *tx, audit)?;
        });
        Ok(())
    }
}

/// Makes a report of announcement `$id` due: at once, or when the last one is
/// [`REPORT_INTERVAL_MS`] old, so a burst of dismissals is one report.
macro_rules! queue_report {
    ($executor:expr, $id:expr, $now:expr) => {{
        let now: i64 = $now;
        sqlx::query(
            "INSERT INTO announcement_reports (announcement_id, due_at, version) VALUES ($1, $2, 1) \
             ON CONFLICT (announcement_id) DO UPDATE SET version = announcement_reports.version + 1, \
             due_at = CASE WHEN announcement_reports.due_at IS NOT NULL THEN announcement_reports.due_at \
             WHEN announcement_reports.last_sent_at IS NOT NULL \
                  AND announcement_reports.last_sent_at + $3 > $2 THEN announcement_reports.last_sent_at + $3 \
             ELSE $2 END",
        )
        .bind($id)
        .bind(now)
        .bind(REPORT_INTERVAL_MS)
        .execute($executor)
        .await
        .map(|_| ())
    }};
}
use queue_report;
