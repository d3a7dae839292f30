//! Statuses and what hangs off them: mentions, tags, edits, favourites, bookmarks, the home feed.

use std::collections::{HashMap, HashSet};

use sqlx::FromRow;

use super::deliveries::{insert_deliveries, NewDelivery};
use super::{in_tx, on_pool, placeholders, Store, StoreError};
use crate::domain::audience::{Audience, Locality, Scope};

/// Scopes as SQL literals for `visibility IN (...)`: the names are the audience module's own
/// constants, never user input.
fn scope_list(scopes: &[Scope]) -> Vec<String> {
    scopes.iter().map(|s| format!("'{}'", s.as_str())).collect()
}

/// The SQL condition on the statuses aliased `alias` that holds exactly the `audiences` given
/// (always from `domain::audience`); `None` when none are, so the caller lists nothing.
pub(crate) fn audience_condition(alias: &str, audiences: &[Audience]) -> Option<String> {
    let of = |l: Locality| -> Vec<Scope> {
        audiences
            .iter()
            .filter(|a| a.locality == l)
            .map(|a| a.scope)
            .collect()
    };
    let (federated, local_only) = (of(Locality::Federated), of(Locality::LocalOnly));
    let vis =
        |scopes: &[Scope]| format!("{alias}.visibility IN ({})", scope_list(scopes).join(", "));
    match (federated.is_empty(), local_only.is_empty()) {
        (true, true) => None,
        _ if federated == local_only => Some(vis(&federated)),
        (false, true) => Some(format!("({} AND NOT {alias}.local_only)", vis(&federated))),
        (true, false) => Some(format!("({} AND {alias}.local_only)", vis(&local_only))),
        (false, false) => Some(format!(
            "(({} AND NOT {alias}.local_only) OR ({} AND {alias}.local_only))",
            vis(&federated),
            vis(&local_only)
        )),
    }
}

pub(crate) const STATUS_COLUMNS: &str = "s.id, s.account_id, s.uri, s.url, s.text, s.content, \
    s.spoiler_text, s.sensitive, s.visibility, s.language, s.in_reply_to_id, \
    s.in_reply_to_account_id, s.reblog_of_id, s.app_name, s.app_website, s.created_at, s.edited_at, \
    s.local_only, s.group_id";

#[derive(Debug, Clone, FromRow)]
pub struct StatusRow {
    pub id: i64,
    pub account_id: i64,
    pub uri: Option<String>,
    pub url: Option<String>,
    pub text: String,
    pub content: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    #[sqlx(try_from = "String")]
    pub visibility: Scope,
    pub language: Option<String>,
    pub in_reply_to_id: Option<i64>,
    pub in_reply_to_account_id: Option<i64>,
    pub reblog_of_id: Option<i64>,
    pub app_name: Option<String>,
    pub app_website: Option<String>,
    pub created_at: i64,
    pub edited_at: Option<i64>,
    /// Department-only statuses never leave this node (`domain::audience` decides what that
    /// means on every surface).
    #[sqlx(rename = "local_only", try_from = "bool")]
    pub locality: Locality,
    /// The group it was posted into: its members may see it, and replies go to the group too.
    pub group_id: Option<i64>,
}

impl StatusRow {
    /// What the audience rules decide on.
    pub fn audience(&self) -> Audience {
        Audience::new(self.visibility, self.locality)
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct EditRow {
    pub id: i64,
    pub status_id: i64,
    pub text: String,
    pub content: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub media_ids: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct StatusCounts {
    pub replies: i64,
    pub reblogs: i64,
    pub favourites: i64,
}

/// A notification to write together with the action that causes it.
#[derive(Debug, Clone)]
pub struct NewNotification {
    pub id: i64,
    pub account_id: i64,
    pub from_account_id: i64,
    pub kind: &'static str,
    pub status_id: Option<i64>,
    /// The report it is about (`admin.report`, `report_resolved`).
    pub report_id: Option<i64>,
}

/// Everything posting a status writes, in one transaction.
#[derive(Debug, Clone)]
pub struct NewStatus {
    pub row: StatusRow,
    pub mentions: Vec<i64>,
    /// (lower-cased name, display spelling)
    pub tags: Vec<(String, String)>,
    pub media_ids: Vec<i64>,
    /// Whose home feeds get it (author and followers, or mentioned accounts for direct). Only
    /// the author's row is written with the status; the rest go through the fan-out queue.
    pub feed_recipients: Vec<i64>,
    pub notifications: Vec<NewNotification>,
    pub idempotency_key: Option<String>,
    /// Deliveries to peers, written with the status so a crash loses none.
    pub deliveries: Vec<NewDelivery>,
    /// Its poll, when it is one.
    pub poll: Option<super::polls::PollRow>,
    /// A direct status's place in its conversation.
    pub conversation: Option<super::conversations::NewConversationEntry>,
}

/// A page request in Mastodon's terms. `min_id` pages forward from a cursor, `since_id` returns
/// the newest items above it; both come back newest first.
#[derive(Debug, Clone, Copy, Default)]
pub struct Page {
    pub max_id: Option<i64>,
    pub since_id: Option<i64>,
    pub min_id: Option<i64>,
    pub limit: i64,
}

impl Page {
    /// `(condition on column, order, extra binds)` for a keyset page over `column`, with
    /// placeholders numbered from `next`.
    pub(crate) fn sql(&self, column: &str, next: usize) -> (String, &'static str, Vec<i64>) {
        let mut cond = Vec::new();
        let mut binds = Vec::new();
        let mut n = next;
        if let Some(max) = self.max_id {
            cond.push(format!("{column} < ${n}"));
            binds.push(max);
            n += 1;
        }
        let lower = match (self.min_id, self.since_id) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        if let Some(low) = lower {
            cond.push(format!("{column} > ${n}"));
            binds.push(low);
        }
        let order = if self.min_id.is_some() { "ASC" } else { "DESC" };
        let cond = if cond.is_empty() {
            "1 = 1".to_string()
        } else {
            cond.join(" AND ")
        };
        (cond, order, binds)
    }

    /// Pages fetched oldest-first (`min_id`) are returned newest-first like all others.
    pub(crate) fn finish<T>(&self, mut items: Vec<T>) -> Vec<T> {
        if self.min_id.is_some() {
            items.reverse();
        }
        items
    }
}

/// Which statuses a viewer has marked, each way.
#[derive(Debug, Clone, Default)]
pub struct MarkedIds {
    pub favourited: HashSet<i64>,
    pub reblogged: HashSet<i64>,
    pub bookmarked: HashSet<i64>,
    pub pinned: HashSet<i64>,
    /// Muted threads: the statuses muted and their roots.
    pub muted: HashSet<i64>,
    /// The answers (positions) chosen in each poll voted on.
    pub votes: HashMap<i64, Vec<i32>>,
}

/// Filters for listing statuses.
#[derive(Debug, Clone, Default)]
pub struct StatusFilter {
    /// Only these audiences (always set by the caller from `domain::audience`).
    pub visibilities: Vec<Audience>,
    pub account_id: Option<i64>,
    /// `Some(true)`: local accounts only; `Some(false)`: remote only.
    pub local: Option<bool>,
    pub tag: Option<String>,
    pub exclude_replies: bool,
    pub exclude_reblogs: bool,
    pub only_media: bool,
    /// Leave out statuses by (or boosting) accounts this viewer blocks, mutes or is blocked
    /// by.
    pub hidden_for: Option<i64>,
    /// Leave out statuses by accounts moderators limited (silenced), unless this viewer
    /// follows them.
    pub limited_for: Option<i64>,
}

impl Store {
    /// Writes a status with everything that hangs off it. Home feeds: the author's row is
    /// written here, the other recipients are queued for the fan-out worker. Returns whether a
    /// fan-out was queued (the caller wakes the worker).
    pub async fn insert_status(&self, new: &NewStatus) -> Result<bool, StoreError> {
        let r = &new.row;
        let (own_feed, others) =
            super::fanout::split_recipients(r.account_id, &new.feed_recipients);
        let insert =
            "INSERT INTO statuses (id, account_id, uri, url, text, content, spoiler_text, \
            sensitive, visibility, language, in_reply_to_id, in_reply_to_account_id, reblog_of_id, \
            app_name, app_website, created_at, edited_at, local_only, group_id) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
            $19)";
        in_tx!(self, |tx| {
            sqlx::query(insert)
                .bind(r.id)
                .bind(r.account_id)
                .bind(&r.uri)
                .bind(&r.url)
                .bind(&r.text)
                .bind(&r.content)
                .bind(&r.spoiler_text)
                .bind(r.sensitive)
                .bind(r.visibility.as_str())
                .bind(&r.language)
                .bind(r.in_reply_to_id)
                .bind(r.in_reply_to_account_id)
                .bind(r.reblog_of_id)
                .bind(&r.app_name)
                .bind(&r.app_website)
                .bind(r.created_at)
                .bind(r.edited_at)
                .bind(r.locality.is_local_only())
                .bind(r.group_id)
                .execute(&mut *tx)
                .await
                .map_err(|e| StoreError::conflict_as(e, "this status"))?;
            for account in &new.mentions {
                sqlx::query("INSERT INTO mentions (status_id, account_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(r.id)
                    .bind(account)
                    .execute(&mut *tx)
                    .await?;
            }
            if let Some(poll) = &new.poll {
                super::polls::insert_poll!(tx, poll)?;
            }
            if let Some(entry) = &new.conversation {
                super::conversations::insert_conversation!(tx, entry, r.id, r.account_id)?;
            }
            for (name, display) in &new.tags {
                sqlx::query("INSERT INTO tags (id, name, display, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING")
                    .bind(crate::ids::next_id())
                    .bind(name)
                    .bind(display)
                    .bind(r.created_at)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("INSERT INTO status_tags (tag_id, status_id) SELECT id, $1 FROM tags WHERE name = $2 ON CONFLICT DO NOTHING")
                    .bind(r.id)
                    .bind(name)
                    .execute(&mut *tx)
                    .await?;
            }
            for media in &new.media_ids {
                sqlx::query("UPDATE media SET status_id = $1 WHERE id = $2 AND account_id = $3")
                    .bind(r.id)
                    .bind(media)
                    .bind(r.account_id)
                    .execute(&mut *tx)
                    .await?;
            }
            // The author's own feed at once; everyone else's through the fan-out queue, one
            // row whatever the number of followers (see `jobs::fanout`).
            if own_feed {
                sqlx::query("INSERT INTO home_feed (account_id, status_id, author_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
                    .bind(r.account_id)
                    .bind(r.id)
                    .bind(r.account_id)
                    .execute(&mut *tx)
                    .await?;
            }
            super::fanout::queue_fanout!(&mut *tx, r.id, r.account_id, &others)?;
            for n in &new.notifications {
                insert_notification!(&mut *tx, n)?;
            }
            insert_deliveries!(tx, &new.deliveries)?;
            if let Some(key) = &new.idempotency_key {
                sqlx::query("INSERT INTO idempotency_keys (account_id, key, status_id, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(r.account_id)
                    .bind(key)
                    .bind(r.id)
                    .bind(r.created_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| StoreError::conflict_as(e, "a status with this Idempotency-Key"))?;
            }
        });
        Ok(!others.is_empty())
    }

    pub async fn status_by_idempotency_key(
        &self,
        account_id: i64,
        key: &str,
        not_before: i64,
    ) -> Result<Option<i64>, StoreError> {
        let sql = "SELECT status_id FROM idempotency_keys WHERE account_id = $1 AND key = $2 \
                   AND created_at >= $3";
        let id = on_pool!(self, |pool| sqlx::query_scalar::<_, i64>(sql)
            .bind(account_id)
            .bind(key)
            .bind(not_before)
            .fetch_optional(pool)
            .await)?;
        Ok(id)
    }

    pub async fn status_by_id(&self, id: i64) -> Result<Option<StatusRow>, StoreError> {
        Ok(self.statuses_by_ids(&[id]).await?.pop())
    }

    pub async fn statuses_by_ids(&self, ids: &[i64]) -> Result<Vec<StatusRow>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {STATUS_COLUMNS} FROM statuses s WHERE s.id IN ({})",
            placeholders(1, ids.len())
        );
        let rows = on_pool!(self, |pool| {
            let mut q = sqlx::query_as::<_, StatusRow>(&sql);
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(pool).await
        })?;
        Ok(rows)
    }

    pub async fn status_counts(
        &self,
        ids: &[i64],
    ) -> Result<HashMap<i64, StatusCounts>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT s.id, \
               (SELECT COUNT(*) FROM statuses r WHERE r.in_reply_to_id = s.id), \
               (SELECT COUNT(*) FROM statuses b WHERE b.reblog_of_id = s.id), \
               (SELECT COUNT(*) FROM favourites f WHERE f.status_id = s.id) \
             FROM statuses s WHERE s.id IN ({})",
            placeholders(1, ids.len())
        );
        let rows: Vec<(i64, i64, i64, i64)> = on_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql);
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(pool).await
        })?;
        Ok(rows
            .into_iter()
            .map(|(id, replies, reblogs, favourites)| {
                (
                    id,
                    StatusCounts {
                        replies,
                        reblogs,
                        favourites,
                    },
                )
            })
            .collect())
    }

    /// Which of `ids` `account` has favourited, reblogged, bookmarked or pinned.
    pub async fn viewer_marks(&self, account: i64, ids: &[i64]) -> Result<MarkedIds, StoreError> {
        if ids.is_empty() {
            return Ok(Default::default());
        }
        // One round trip for the four marks: each database call is a hand-off to the
        // connection's thread, and timeline pages are made of such calls.
        let list = placeholders(2, ids.len());
        let sql = format!(
            "SELECT CAST(0 AS BIGINT), status_id FROM favourites WHERE account_id = $1 AND status_id IN ({list}) \
             UNION ALL SELECT CAST(1 AS BIGINT), reblog_of_id FROM statuses WHERE account_id = $1 AND reblog_of_id IN ({list}) \
             UNION ALL SELECT CAST(2 AS BIGINT), status_id FROM bookmarks WHERE account_id = $1 AND status_id IN ({list}) \
             UNION ALL SELECT CAST(3 AS BIGINT), status_id FROM status_pins WHERE account_id = $1 AND status_id IN ({list}) \
             UNION ALL SELECT CAST(4 + choice AS BIGINT), status_id FROM poll_votes WHERE account_id = $1 AND status_id IN ({list}) \
             UNION ALL SELECT CAST(-1 AS BIGINT), status_id FROM thread_mutes WHERE account_id = $1 AND status_id IN ({list}) \
             UNION ALL SELECT CAST(-1 AS BIGINT), root_id FROM thread_mutes WHERE account_id = $1 AND root_id IN ({list})"
        );
        let found: Vec<(i64, i64)> = on_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql).bind(account);
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(pool).await
        })?;
        let mut marks = MarkedIds::default();
        for (kind, id) in found {
            match kind {
                0 => marks.favourited.insert(id),
                1 => marks.reblogged.insert(id),
                2 => marks.bookmarked.insert(id),
                3 => marks.pinned.insert(id),
                -1 => marks.muted.insert(id),
                // A vote: its kind is 4 plus the answer's position.
                choice => {
                    marks.votes.entry(id).or_default().push((choice - 4) as i32);
                    true
                }
            };
        }
        Ok(marks)
    }

    /// (status id, account id) pairs of mentions in `ids`.
    pub async fn mentions_of(&self, ids: &[i64]) -> Result<Vec<(i64, i64)>, StoreError> {
        self.pairs(
            "SELECT status_id, account_id FROM mentions WHERE status_id IN",
            ids,
        )
        .await
    }

    /// (status id, tag display name) pairs for `ids`.
    pub async fn tags_of(&self, ids: &[i64]) -> Result<Vec<(i64, String)>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT st.status_id, t.display FROM status_tags st JOIN tags t ON t.id = st.tag_id \
             WHERE st.status_id IN ({}) ORDER BY t.name",
            placeholders(1, ids.len())
        );
        let rows = on_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql);
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(pool).await
        })?;
        Ok(rows)
    }

    async fn pairs(&self, prefix: &str, ids: &[i64]) -> Result<Vec<(i64, i64)>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!("{prefix} ({})", placeholders(1, ids.len()));
        let rows = on_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql);
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(pool).await
        })?;
        Ok(rows)
    }

    /// Deletes a status; replies keep their text but lose the link (as on Mastodon). The
    /// tombstone (so its URI answers Gone) and the deliveries telling peers are written with
    /// it. `false` if it was already gone, and then nothing is written.
    pub async fn delete_status(
        &self,
        id: i64,
        tombstone: Option<&str>,
        deliveries: &[NewDelivery],
    ) -> Result<bool, StoreError> {
        let n = in_tx!(self, |tx| {
            sqlx::query("UPDATE statuses SET in_reply_to_id = NULL WHERE in_reply_to_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let n = sqlx::query("DELETE FROM statuses WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            // Only the request that removed it announces it (two deletes at once send one).
            if n == 1 {
                if let Some(uri) = tombstone {
                    sqlx::query(
                        "INSERT INTO tombstones (uri, deleted_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    )
                    .bind(uri)
                    .bind(super::now_millis())
                    .execute(&mut *tx)
                    .await?;
                }
                insert_deliveries!(tx, deliveries)?;
            }
            n
        });
        Ok(n == 1)
    }

    /// Ids of the home feed of `account`, without the members of its exclusive lists and
    /// without what it blocks or mutes.
    pub async fn home_feed(&self, account: i64, page: &Page) -> Result<Vec<i64>, StoreError> {
        let (cond, order, binds) = page.sql("h.status_id", 2);
        // Members of the owner's exclusive lists are read in those lists' timelines instead.
        let exclusive =
            "NOT EXISTS (SELECT 1 FROM list_accounts xa JOIN lists xl ON xl.id = xa.list_id \
             WHERE xl.account_id = $1 AND xl.exclusive AND xa.account_id = h.author_id)";
        let unseen = super::hidden::status_visible_sql(
            "h.status_id",
            "h.author_id",
            account,
            super::now_millis(),
        );
        let sql = format!(
            "SELECT h.status_id FROM home_feed h WHERE h.account_id = $1 AND {exclusive} \
             AND {unseen} AND {cond} ORDER BY h.status_id {order} LIMIT {}",
            page.limit
        );
        let ids: Vec<i64> = on_pool!(self, |pool| {
            let mut q = sqlx::query_scalar(&sql).bind(account);
            for b in &binds {
                q = q.bind(b);
            }
            q.fetch_all(pool).await
        })?;
        Ok(page.finish(ids))
    }

    /// Ids of statuses matching `filter`, one page.
    pub async fn list_statuses(
        &self,
        filter: &StatusFilter,
        page: &Page,
    ) -> Result<Vec<i64>, StoreError> {
        let mut binds: Vec<i64> = Vec::new();
        let mut conds: Vec<String> = Vec::new();
        let Some(vis) = audience_condition("s", &filter.visibilities) else {
            return Ok(Vec::new());
        };
        conds.push(vis);
        if let Some(account) = filter.account_id {
            binds.push(account);
            conds.push(format!("s.account_id = ${}", binds.len()));
        }
        match filter.local {
            Some(true) => conds.push("a.domain = ''".into()),
            Some(false) => conds.push("a.domain <> ''".into()),
            None => {}
        }
        if filter.exclude_replies {
            // Replies to oneself (threads) stay, as on Mastodon.
            conds.push(
                "(s.in_reply_to_id IS NULL OR s.in_reply_to_account_id = s.account_id)".into(),
            );
        }
        if filter.exclude_reblogs {
            conds.push("s.reblog_of_id IS NULL".into());
        }
        if filter.only_media {
            conds.push("EXISTS (SELECT 1 FROM media m WHERE m.status_id = s.id)".into());
        }
        if let Some(viewer) = filter.hidden_for {
            conds.push(super::hidden::status_visible_sql(
                "s.id",
                "s.account_id",
                viewer,
                super::now_millis(),
            ));
        }
        if let Some(viewer) = filter.limited_for {
            // An id, not text: safe to inline like the hidden-set condition.
            conds.push(format!(
                "NOT EXISTS (SELECT 1 FROM account_moderation lm WHERE lm.account_id = s.account_id \
                 AND lm.silenced AND NOT EXISTS (SELECT 1 FROM follows lf \
                 WHERE lf.account_id = {viewer} AND lf.target_account_id = s.account_id))"
            ));
        }
        let mut tag_bind = None;
        if let Some(tag) = &filter.tag {
            tag_bind = Some(tag.to_lowercase());
            conds.push(
                "EXISTS (SELECT 1 FROM status_tags st JOIN tags t ON t.id = st.tag_id \
                 WHERE st.status_id = s.id AND t.name = $TAG)"
                    .into(),
            );
        }
        let (page_cond, order, page_binds) = page.sql("s.id", binds.len() + 1);
        binds.extend(page_binds);
        conds.push(page_cond);
        let mut sql = format!(
            "SELECT s.id FROM statuses s JOIN accounts a ON a.id = s.account_id \
             WHERE NOT a.suspended AND {} ORDER BY s.id {order} LIMIT {}",
            conds.join(" AND "),
            page.limit
        );
        if tag_bind.is_some() {
            sql = sql.replace("$TAG", &format!("${}", binds.len() + 1));
        }
        let ids: Vec<i64> = on_pool!(self, |pool| {
            let mut q = sqlx::query_scalar(&sql);
            for b in &binds {
                q = q.bind(b);
            }
            if let Some(tag) = &tag_bind {
                q = q.bind(tag);
            }
            q.fetch_all(pool).await
        })?;
        Ok(page.finish(ids))
    }

    /// Every reply below `id`, at any depth.
    pub async fn descendants(&self, id: i64) -> Result<Vec<i64>, StoreError> {
        let sql = "WITH RECURSIVE d(id) AS ( \
                     SELECT id FROM statuses WHERE in_reply_to_id = $1 \
                     UNION SELECT s.id FROM statuses s JOIN d ON s.in_reply_to_id = d.id) \
                   SELECT id FROM d ORDER BY id LIMIT 4000";
        let ids = on_pool!(self, |pool| sqlx::query_scalar::<_, i64>(sql)
            .bind(id)
            .fetch_all(pool)
            .await)?;
        Ok(ids)
    }

    /// Adds a favourite (with its notification and the Like for a remote author); `false` if
    /// it existed, and then nothing is written. `ap_id` is a remote Like's id, kept so that an
    /// Undo naming only that id finds it.
    pub async fn favourite(
        &self,
        account: i64,
        status: i64,
        ap_id: Option<&str>,
        notification: Option<NewNotification>,
        deliveries: &[NewDelivery],
    ) -> Result<bool, StoreError> {
        let inserted = in_tx!(self, |tx| {
            let n = sqlx::query("INSERT INTO favourites (id, account_id, status_id, created_at, ap_id) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING")
                .bind(crate::ids::next_id())
                .bind(account)
                .bind(status)
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
            }
            n == 1
        });
        Ok(inserted)
    }

    /// The status `account` favourited with the Like whose id is `ap_id`.
    pub async fn favourite_by_ap_id(
        &self,
        account: i64,
        ap_id: &str,
    ) -> Result<Option<i64>, StoreError> {
        let found = on_pool!(self, |pool| sqlx::query_scalar::<_, i64>(
            "SELECT status_id FROM favourites WHERE account_id = $1 AND ap_id = $2"
        )
        .bind(account)
        .bind(ap_id)
        .fetch_optional(pool)
        .await)?;
        Ok(found)
    }

    /// Removes a favourite and its notification; the deliveries (an Undo Like) are written
    /// only if there was one. `false` if there was none.
    pub async fn unfavourite(
        &self,
        account: i64,
        status: i64,
        deliveries: &[NewDelivery],
    ) -> Result<bool, StoreError> {
        let removed = in_tx!(self, |tx| {
            let n = sqlx::query("DELETE FROM favourites WHERE account_id = $1 AND status_id = $2")
                .bind(account)
                .bind(status)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            sqlx::query("DELETE FROM notifications WHERE from_account_id = $1 AND status_id = $2 AND type = 'favourite'")
                .bind(account)
                .bind(status)
                .execute(&mut *tx)
                .await?;
            if n > 0 {
                insert_deliveries!(tx, deliveries)?;
            }
            n > 0
        });
        Ok(removed)
    }

    pub async fn bookmark(&self, account: i64, status: i64, on: bool) -> Result<(), StoreError> {
        if on {
            on_pool!(self, |pool| {
                sqlx::query("INSERT INTO bookmarks (id, account_id, status_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING")
                .bind(crate::ids::next_id())
                .bind(account)
                .bind(status)
                .bind(super::now_millis())
                .execute(pool)
                .await
                .map(|_| ())
            })?;
        } else {
            on_pool!(self, |pool| sqlx::query(
                "DELETE FROM bookmarks WHERE account_id = $1 AND status_id = $2"
            )
            .bind(account)
            .bind(status)
            .execute(pool)
            .await
            .map(|_| ()))?;
        }
        Ok(())
    }

    /// The reblog `account` made of `status`, if any.
    pub async fn reblog_by(&self, account: i64, status: i64) -> Result<Option<i64>, StoreError> {
        let sql = "SELECT id FROM statuses WHERE account_id = $1 AND reblog_of_id = $2";
        let id = on_pool!(self, |pool| sqlx::query_scalar::<_, i64>(sql)
            .bind(account)
            .bind(status)
            .fetch_optional(pool)
            .await)?;
        Ok(id)
    }

    /// Accounts that favourited (`favourites`) or reblogged a status, newest first, paged by
    /// the relation's id. Returns (relation id, account id).
    pub async fn status_actors(
        &self,
        status: i64,
        reblogs: bool,
        page: &Page,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        let (cond, order, binds) = page.sql("id", 2);
        let sql = if reblogs {
            format!("SELECT id, account_id FROM statuses WHERE reblog_of_id = $1 AND {cond} ORDER BY id {order} LIMIT {}", page.limit)
        } else {
            format!("SELECT id, account_id FROM favourites WHERE status_id = $1 AND {cond} ORDER BY id {order} LIMIT {}", page.limit)
        };
        let rows: Vec<(i64, i64)> = on_pool!(self, |pool| {
            let mut q = sqlx::query_as(&sql).bind(status);
            for b in &binds {
                q = q.bind(b);
            }
            q.fetch_all(pool).await
        })?;
        Ok(page.finish(rows))
    }

    /// Records an edit: the previous version goes to history (the first edit also saves the
    /// original), the status takes the new text, mentions, tags and media.
    pub async fn edit_status(
        &self,
        current: &StatusRow,
        current_media: &[i64],
        new: &NewStatus,
        first_edit: bool,
    ) -> Result<(), StoreError> {
        let r = &new.row;
        let edited_at = r.edited_at.unwrap_or_else(super::now_millis);
        let media_json = |ids: &[i64]| {
            serde_json::to_string(&ids.iter().map(|i| i.to_string()).collect::<Vec<_>>())
                .unwrap_or_else(|_| "[]".into())
        };
        let insert_edit = "INSERT INTO status_edits (id, status_id, text, content, spoiler_text, sensitive, media_ids, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        in_tx!(self, |tx| {
            if first_edit {
                sqlx::query(insert_edit)
                    .bind(crate::ids::next_id())
                    .bind(current.id)
                    .bind(&current.text)
                    .bind(&current.content)
                    .bind(&current.spoiler_text)
                    .bind(current.sensitive)
                    .bind(media_json(current_media))
                    .bind(current.created_at)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query(insert_edit)
                .bind(crate::ids::next_id())
                .bind(current.id)
                .bind(&r.text)
                .bind(&r.content)
                .bind(&r.spoiler_text)
                .bind(r.sensitive)
                .bind(media_json(&new.media_ids))
                .bind(edited_at)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE statuses SET text = $1, content = $2, spoiler_text = $3, sensitive = $4, language = $5, edited_at = $6 WHERE id = $7")
                .bind(&r.text)
                .bind(&r.content)
                .bind(&r.spoiler_text)
                .bind(r.sensitive)
                .bind(&r.language)
                .bind(edited_at)
                .bind(current.id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM mentions WHERE status_id = $1")
                .bind(current.id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM status_tags WHERE status_id = $1")
                .bind(current.id)
                .execute(&mut *tx)
                .await?;
            for account in &new.mentions {
                sqlx::query("INSERT INTO mentions (status_id, account_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(current.id)
                    .bind(account)
                    .execute(&mut *tx)
                    .await?;
            }
            for (name, display) in &new.tags {
                sqlx::query("INSERT INTO tags (id, name, display, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING")
                    .bind(crate::ids::next_id())
                    .bind(name)
                    .bind(display)
                    .bind(edited_at)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("INSERT INTO status_tags (tag_id, status_id) SELECT id, $1 FROM tags WHERE name = $2 ON CONFLICT DO NOTHING")
                    .bind(current.id)
                    .bind(name)
                    .execute(&mut *tx)
                    .await?;
            }
            sqlx::query("UPDATE media SET status_id = NULL WHERE status_id = $1")
                .bind(current.id)
                .execute(&mut *tx)
                .await?;
            for media in &new.media_ids {
                sqlx::query("UPDATE media SET status_id = $1 WHERE id = $2 AND account_id = $3")
                    .bind(current.id)
                    .bind(media)
                    .bind(current.account_id)
                    .execute(&mut *tx)
                    .await?;
            }
            for n in &new.notifications {
                insert_notification!(&mut *tx, n)?;
            }
            insert_deliveries!(tx, &new.deliveries)?;
        });
        Ok(())
    }

    pub async fn status_edits(&self, status: i64) -> Result<Vec<EditRow>, StoreError> {
        let sql =
            "SELECT id, status_id, text, content, spoiler_text, sensitive, media_ids, created_at \
                   FROM status_edits WHERE status_id = $1 ORDER BY id";
        let rows = on_pool!(self, |pool| sqlx::query_as::<_, EditRow>(sql)
            .bind(status)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// Statuses whose text contains every word of `query`, newest first.
    pub async fn search_statuses(
        &self,
        words: &[String],
        visibilities: &[Audience],
        limit: i64,
        offset: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let Some(vis) = audience_condition("s", visibilities) else {
            return Ok(Vec::new());
        };
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let conds: Vec<String> = (1..=words.len())
            .map(|i| format!("LOWER(s.text) LIKE ${i} ESCAPE '\\'"))
            .collect();
        let sql = format!(
            "SELECT s.id FROM statuses s WHERE s.reblog_of_id IS NULL AND {vis} \
             AND {} ORDER BY s.id DESC LIMIT {limit} OFFSET {offset}",
            conds.join(" AND ")
        );
        let patterns: Vec<String> = words
            .iter()
            .map(|w| format!("%{}%", super::escape_like(&w.to_lowercase())))
            .collect();
        let ids = on_pool!(self, |pool| {
            let mut q = sqlx::query_scalar::<_, i64>(&sql);
            for p in &patterns {
                q = q.bind(p);
            }
            q.fetch_all(pool).await
        })?;
        Ok(ids)
    }

    /// Hashtags starting with `prefix`, most used first: (display, uses).
    pub async fn search_tags(
        &self,
        prefix: &str,
        limit: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        let pattern = format!("{}%", super::escape_like(&prefix.to_lowercase()));
        let sql = format!(
            "SELECT t.display, (SELECT COUNT(*) FROM status_tags st WHERE st.tag_id = t.id) AS uses \
             FROM tags t WHERE t.name LIKE $1 ESCAPE '\\' ORDER BY uses DESC, t.name LIMIT {limit}"
        );
        let rows = on_pool!(self, |pool| sqlx::query_as::<_, (String, i64)>(&sql)
            .bind(&pattern)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// One page of (relation id, status id) from an account's `bookmarks` or `favourites`.
    pub async fn marked_statuses(
        &self,
        account: i64,
        bookmarks: bool,
        page: &Page,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        let table = if bookmarks { "bookmarks" } else { "favourites" };
        let (cond, order, binds) = page.sql("id", 2);
        let sql = format!(
            "SELECT id, status_id FROM {table} WHERE account_id = $1 AND {cond} ORDER BY id {order} LIMIT {}",
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

    /// Drops an account's statuses from a home feed (after an unfollow).
    ///
    /// A fan-out still queued for one of the author's statuses (posted just before the
    /// unfollow) is not edited here, so that one status may still land in the feed afterwards.
    /// Accepted: it is a status the account was entitled to when it was posted, and rewriting
    /// queued recipient lists on every unfollow would cost more than it saves.
    pub async fn remove_from_feed(&self, account: i64, author: i64) -> Result<(), StoreError> {
        on_pool!(self, |pool| sqlx::query(
            "DELETE FROM home_feed WHERE account_id = $1 AND author_id = $2"
        )
        .bind(account)
        .bind(author)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    /// Copies an account's recent statuses of the given visibilities into a home feed (after a
    /// follow), so the timeline is not empty until they post again.
    pub async fn backfill_feed(
        &self,
        account: i64,
        author: i64,
        visibilities: &[Audience],
    ) -> Result<(), StoreError> {
        let Some(vis) = audience_condition("s", visibilities) else {
            return Ok(());
        };
        let sql = format!(
            "INSERT INTO home_feed (account_id, status_id, author_id) \
             SELECT $1, s.id, s.account_id FROM statuses s WHERE s.account_id = $2 \
             AND {vis} ORDER BY s.id DESC LIMIT 200 ON CONFLICT DO NOTHING"
        );
        on_pool!(self, |pool| sqlx::query(&sql)
            .bind(account)
            .bind(author)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(())
    }
}

/// Accounts created less than this long ago are "new" to the notification policy.
pub const NEW_ACCOUNT_MS: i64 = 30 * 24 * 3600 * 1000;

/// What the recipient's notification policy makes of a notification: `accept`, `filter` or
/// `drop`. Binds: $1 recipient, $2 sender, $3 type, $4 status, $5 the "new account" cut-off.
/// A notification about a status in a thread the recipient muted is dropped. Otherwise the
/// harshest of the policy's answers for what applies wins; a sender the recipient accepted a
/// request from is always accepted, and so are the types the policy does not apply to
/// (`status` from a follow with `notify`, polls, moderation). Without a policy row the
/// defaults hold (accept, but filter accounts moderators limited).
pub const POLICY_VERDICT_SQL: &str = "WITH RECURSIVE pol AS ( \
       SELECT COALESCE(MAX(p.for_not_following), 'accept') AS nf, \
              COALESCE(MAX(p.for_not_followers), 'accept') AS nfr, \
              COALESCE(MAX(p.for_new_accounts), 'accept') AS na, \
              COALESCE(MAX(p.for_private_mentions), 'accept') AS pm, \
              COALESCE(MAX(p.for_limited_accounts), 'filter') AS la \
       FROM notification_policies p WHERE p.account_id = $1), \
     facts AS (SELECT \
       NOT EXISTS (SELECT 1 FROM follows f WHERE f.account_id = $1 AND f.target_account_id = $2) AS not_following, \
       NOT EXISTS (SELECT 1 FROM follows f WHERE f.account_id = $2 AND f.target_account_id = $1) AS not_follower, \
       EXISTS (SELECT 1 FROM accounts a WHERE a.id = $2 AND a.created_at > $5) AS new_account, \
       EXISTS (SELECT 1 FROM statuses s WHERE s.id = $4 AND $3 = 'mention' AND s.visibility = 'direct' \
         AND (s.in_reply_to_account_id IS NULL OR s.in_reply_to_account_id <> $1)) AS private_mention, \
       EXISTS (SELECT 1 FROM account_moderation m WHERE m.account_id = $2 AND m.silenced) AS limited), \
     up(id, parent, depth) AS (SELECT id, in_reply_to_id, 0 FROM statuses WHERE id = $4 \
       UNION ALL SELECT s.id, s.in_reply_to_id, up.depth + 1 FROM statuses s JOIN up ON s.id = up.parent \
       WHERE up.depth < 200) \
     SELECT CASE \
       WHEN EXISTS (SELECT 1 FROM thread_mutes tm WHERE tm.account_id = $1) \
         AND EXISTS (SELECT 1 FROM up JOIN thread_mutes tm ON tm.root_id = up.id WHERE tm.account_id = $1) \
         THEN 'drop' \
       WHEN $1 = $2 OR $3 NOT IN ('mention', 'reblog', 'favourite', 'follow', 'update') OR EXISTS (SELECT 1 FROM notification_permissions np \
         WHERE np.account_id = $1 AND np.from_account_id = $2) THEN 'accept' \
       WHEN (nf = 'drop' AND not_following) OR (nfr = 'drop' AND not_follower) \
         OR (na = 'drop' AND new_account) OR (pm = 'drop' AND private_mention AND not_following) \
         OR (la = 'drop' AND limited) THEN 'drop' \
       WHEN (nf = 'filter' AND not_following) OR (nfr = 'filter' AND not_follower) \
         OR (na = 'filter' AND new_account) OR (pm = 'filter' AND private_mention AND not_following) \
         OR (la = 'filter' AND limited) THEN 'filter' \
       ELSE 'accept' END FROM pol, facts";

/// Inserts a notification on any connection or transaction of either backend (a macro, so
/// each backend's arm gets its own monomorphic query), as the recipient's notification policy
/// has it: dropped, filtered into the sender's request, or in the list with its Web Pushes.
macro_rules! insert_notification {
    ($executor:expr, $n:expr) => {{
        let n: &$crate::store::statuses::NewNotification = $n;
        let now = $crate::store::now_millis();
        let verdict: String = sqlx::query_scalar($crate::store::statuses::POLICY_VERDICT_SQL)
            .bind(n.account_id)
            .bind(n.from_account_id)
            .bind(n.kind)
            .bind(n.status_id)
            .bind(now - $crate::store::statuses::NEW_ACCOUNT_MS)
            .fetch_one($executor)
            .await?;
        let filtered = verdict == "filter";
        if verdict != "drop" {
            // Nothing is made for someone who does not hear from the sender: a block either
            // way, a mute with notifications, a block of the sender's node.
            let made = sqlx::query(
                "INSERT INTO notifications (id, account_id, from_account_id, type, status_id, created_at, report_id, filtered) \
                 SELECT $1, $2, $3, $4, $5, $6, $7, $8 WHERE NOT EXISTS (SELECT 1 FROM blocks \
                   WHERE (account_id = $2 AND target_account_id = $3) OR (account_id = $3 AND target_account_id = $2)) \
                 AND NOT EXISTS (SELECT 1 FROM mutes WHERE account_id = $2 AND target_account_id = $3 \
                   AND notifications AND (expires_at IS NULL OR expires_at > $6)) \
                 AND NOT EXISTS (SELECT 1 FROM domain_blocks d JOIN accounts a ON a.domain = d.domain \
                   WHERE d.account_id = $2 AND a.id = $3)",
            )
            .bind(n.id)
            .bind(n.account_id)
            .bind(n.from_account_id)
            .bind(n.kind)
            .bind(n.status_id)
            .bind(now)
            .bind(n.report_id)
            .bind(filtered)
            .execute($executor)
            .await?
            .rows_affected()
                > 0;
            if made && filtered {
                sqlx::query(
                    "INSERT INTO notification_requests (id, account_id, from_account_id, last_status_id, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (account_id, from_account_id) DO UPDATE \
                     SET last_status_id = COALESCE(excluded.last_status_id, notification_requests.last_status_id), \
                     updated_at = excluded.updated_at",
                )
                .bind($crate::ids::next_id())
                .bind(n.account_id)
                .bind(n.from_account_id)
                .bind(n.status_id)
                .bind(now)
                .execute($executor)
                .await?;
            } else if made {
                // Its Web Push, for each of the recipient's subscriptions that asks for this
                // type from this sender (policy: all, people followed, followers).
                sqlx::query(
                    "INSERT INTO web_pushes (subscription_id, notification_id, attempts, next_attempt_at) \
                     SELECT p.id, n.id, 0, n.created_at FROM notifications n \
                     JOIN push_subscriptions p ON p.account_id = n.account_id \
                     WHERE n.id = $1 AND p.alerts LIKE '%,' || n.type || ',%' \
                     AND (p.policy = 'all' \
                       OR (p.policy = 'followed' AND EXISTS (SELECT 1 FROM follows f \
                           WHERE f.account_id = n.account_id AND f.target_account_id = n.from_account_id)) \
                       OR (p.policy = 'follower' AND EXISTS (SELECT 1 FROM follows f \
                           WHERE f.account_id = n.from_account_id AND f.target_account_id = n.account_id)))",
                )
                .bind(n.id)
                .execute($executor)
                .await?;
            }
        }
        Ok::<(), sqlx::Error>(())
    }};
}
pub(crate) use insert_notification;
