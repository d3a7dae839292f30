//! Federation state: remote actors, node keys, tombstones, remote statuses and media,
//! collections. The delivery queue is `store::deliveries`.

use super::accounts::{AccountRow, COLUMNS};
use super::profile_index::reindex_account;
use super::{in_tx, on_pool, on_writer, Store, StoreError};

/// A remote actor as fetched, to insert or refresh.
#[derive(Debug, Clone)]
pub struct RemoteAccount {
    pub ap_id: String,
    pub username: String,
    pub domain: String,
    pub display_name: String,
    pub note_html: String,
    pub inbox_url: String,
    pub shared_inbox_url: Option<String>,
    pub followers_url: Option<String>,
    pub profile_url: Option<String>,
    pub key_id: String,
    pub public_key_pem: String,
    pub locked: bool,
    pub bot: bool,
    pub is_group: bool,
    pub avatar_url: Option<String>,
    pub header_url: Option<String>,
    pub discoverable: bool,
    /// Profile fields as stored: a JSON array of `{name, value}`.
    pub fields: String,
    /// Featured hashtags: (lower-cased name, display), at most
    /// [`MAX_FEATURED_TAGS`](super::directory::MAX_FEATURED_TAGS).
    pub featured_tags: Vec<(String, String)>,
}

/// The node's own key pairs, by their row in `node_keys`.
#[derive(Debug, Clone, Copy)]
pub enum NodeKey {
    /// RSA: the node actor's HTTP signatures.
    Signing = 1,
    /// P-256: VAPID (RFC 8292), identifying the node to Web Push services.
    Vapid = 2,
}

impl Store {
    /// Inserts or refreshes a remote actor (keyed by its AP id) with its featured tags and
    /// search document, in one transaction; returns the stored row.
    pub async fn upsert_remote_account(&self, a: &RemoteAccount) -> Result<AccountRow, StoreError> {
        let now = super::now_millis();
        let sql = "INSERT INTO accounts (id, username, username_key, domain, display_name, note, \
            public_key_pem, locked, bot, created_at, updated_at, ap_id, inbox_url, shared_inbox_url, \
            followers_url, profile_url, key_id, avatar_url, header_url, fetched_at, discoverable, \
            fields, is_group) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12, $13, $14, $15, $16, $17, $18, $10, $19, $20, $21) \
            ON CONFLICT (ap_id) DO UPDATE SET username = excluded.username, \
            display_name = excluded.display_name, note = excluded.note, \
            public_key_pem = excluded.public_key_pem, locked = excluded.locked, bot = excluded.bot, \
            updated_at = excluded.updated_at, inbox_url = excluded.inbox_url, \
            shared_inbox_url = excluded.shared_inbox_url, followers_url = excluded.followers_url, \
            profile_url = excluded.profile_url, key_id = excluded.key_id, \
            avatar_url = excluded.avatar_url, header_url = excluded.header_url, \
            fetched_at = excluded.fetched_at, discoverable = excluded.discoverable, \
            fields = excluded.fields, is_group = excluded.is_group";
        in_tx!(self, |tx| {
            sqlx::query(sql)
                .bind(crate::ids::next_id())
                .bind(&a.username)
                .bind(a.username.to_lowercase())
                .bind(&a.domain)
                .bind(&a.display_name)
                .bind(&a.note_html)
                .bind(&a.public_key_pem)
                .bind(a.locked)
                .bind(a.bot)
                .bind(now)
                .bind(&a.ap_id)
                .bind(&a.inbox_url)
                .bind(&a.shared_inbox_url)
                .bind(&a.followers_url)
                .bind(&a.profile_url)
                .bind(&a.key_id)
                .bind(&a.avatar_url)
                .bind(&a.header_url)
                .bind(a.discoverable)
                .bind(&a.fields)
                .bind(a.is_group)
                .execute(&mut *tx)
                .await
                .map_err(|e| {
                    StoreError::conflict_as(e, "an account with this username on that domain")
                })?;
            let id: i64 = sqlx::query_scalar("SELECT id FROM accounts WHERE ap_id = $1")
                .bind(&a.ap_id)
                .fetch_one(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM featured_tags WHERE account_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let tags = a
                .featured_tags
                .iter()
                .take(super::directory::MAX_FEATURED_TAGS);
            for (name, display) in tags {
                sqlx::query(
                    "INSERT INTO featured_tags (id, account_id, name, display, created_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, name) DO NOTHING",
                )
                .bind(crate::ids::next_id())
                .bind(id)
                .bind(name)
                .bind(display)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            }
            reindex_account!(tx, id);
        });
        self.account_by_ap_id(&a.ap_id).await?.ok_or_else(|| {
            StoreError::Corrupt(format!("account {} vanished after upsert", a.ap_id))
        })
    }

    pub async fn account_by_ap_id(&self, ap_id: &str) -> Result<Option<AccountRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM accounts WHERE ap_id = $1");
        let row = on_pool!(self, |pool| sqlx::query_as::<_, AccountRow>(&sql)
            .bind(ap_id)
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    pub async fn account_by_key_id(&self, key_id: &str) -> Result<Option<AccountRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM accounts WHERE key_id = $1");
        let row = on_pool!(self, |pool| sqlx::query_as::<_, AccountRow>(&sql)
            .bind(key_id)
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    pub async fn remote_account_by_acct(
        &self,
        username: &str,
        domain: &str,
    ) -> Result<Option<AccountRow>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM accounts WHERE username_key = $1 AND domain = $2");
        let row = on_pool!(self, |pool| sqlx::query_as::<_, AccountRow>(&sql)
            .bind(username.to_lowercase())
            .bind(domain.to_lowercase())
            .fetch_optional(pool)
            .await)?;
        Ok(row)
    }

    /// Remote followers of a local account: (domain, inbox to use) per follower.
    pub async fn remote_follower_inboxes(
        &self,
        account: i64,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let sql = "SELECT a.domain, COALESCE(a.shared_inbox_url, a.inbox_url) FROM follows f \
                   JOIN accounts a ON a.id = f.account_id \
                   WHERE f.target_account_id = $1 AND a.domain <> '' AND a.inbox_url IS NOT NULL";
        let rows = on_pool!(self, |pool| sqlx::query_as::<_, (String, String)>(sql)
            .bind(account)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// The shared inbox of each remote domain that has an account with one (the same for every
    /// account of a node, so any will do).
    pub async fn shared_inboxes(&self) -> Result<Vec<(String, String)>, StoreError> {
        let sql = "SELECT domain, MIN(shared_inbox_url) FROM accounts \
                   WHERE domain <> '' AND shared_inbox_url IS NOT NULL GROUP BY domain";
        let rows = on_pool!(self, |pool| sqlx::query_as::<_, (String, String)>(sql)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// (local accounts not suspended, of which posted since `since`).
    pub async fn account_activity(&self, since: i64) -> Result<(i64, i64), StoreError> {
        let sql = "SELECT COUNT(*), COALESCE(SUM(CASE WHEN EXISTS (SELECT 1 FROM statuses s \
                   WHERE s.account_id = a.id AND s.created_at >= $1) THEN 1 ELSE 0 END), 0) \
                   FROM accounts a WHERE a.domain = '' AND NOT a.suspended";
        let row = on_pool!(self, |pool| sqlx::query_as::<_, (i64, i64)>(sql)
            .bind(since)
            .fetch_one(pool)
            .await)?;
        Ok(row)
    }

    /// The node's key pair, made on first use: (private PEM, public PEM).
    pub async fn node_key(
        &self,
        make: impl FnOnce() -> (String, String),
    ) -> Result<(String, String), StoreError> {
        self.node_key_numbered(NodeKey::Signing, make).await
    }

    /// One of the node's own key pairs (PEM), made by `make` the first time it is asked for.
    pub async fn node_key_numbered(
        &self,
        which: NodeKey,
        make: impl FnOnce() -> (String, String),
    ) -> Result<(String, String), StoreError> {
        let id = which as i64;
        let sql = "SELECT private_key_pem, public_key_pem FROM node_keys WHERE id = $1";
        let existing = on_pool!(self, |pool| sqlx::query_as::<_, (String, String)>(sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        if let Some(k) = existing {
            return Ok(k);
        }
        let (private, public) = make();
        on_pool!(self, |pool| {
            sqlx::query(
            "INSERT INTO node_keys (id, private_key_pem, public_key_pem, created_at) VALUES ($4, $1, $2, $3) ON CONFLICT DO NOTHING"
        )
        .bind(&private)
        .bind(&public)
        .bind(super::now_millis())
        .bind(id)
        .execute(pool)
        .await
        .map(|_| ())
        })?;
        let k = on_pool!(self, |pool| sqlx::query_as::<_, (String, String)>(sql)
            .bind(id)
            .fetch_one(pool)
            .await)?;
        Ok(k)
    }

    /// Records that a peer deleted a status we do not hold (yet): its Create may still be
    /// waiting in the inbox queue, and must not bring it back.
    pub async fn add_remote_tombstone(&self, uri: &str) -> Result<(), StoreError> {
        let now = super::now_millis();
        on_writer!(self, |pool| sqlx::query(
            "INSERT INTO tombstones (uri, deleted_at) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        )
        .bind(uri)
        .bind(now)
        .execute(pool)
        .await
        .map(|_| ()))?;
        Ok(())
    }

    pub async fn is_tombstone(&self, uri: &str) -> Result<bool, StoreError> {
        let found = on_pool!(self, |pool| sqlx::query_scalar::<_, String>(
            "SELECT uri FROM tombstones WHERE uri = $1"
        )
        .bind(uri)
        .fetch_optional(pool)
        .await)?;
        Ok(found.is_some())
    }

    pub async fn status_by_uri(
        &self,
        uri: &str,
    ) -> Result<Option<super::statuses::StatusRow>, StoreError> {
        let sql = format!(
            "SELECT {} FROM statuses s WHERE s.uri = $1",
            super::statuses::STATUS_COLUMNS
        );
        let row = on_pool!(self, |pool| {
            sqlx::query_as::<_, super::statuses::StatusRow>(&sql)
                .bind(uri)
                .fetch_optional(pool)
                .await
        })?;
        Ok(row)
    }

    /// The activity id stored with a follow or request, if any.
    pub async fn follow_ap_id(
        &self,
        account: i64,
        target: i64,
    ) -> Result<Option<String>, StoreError> {
        let sql = "SELECT ap_id FROM follows WHERE account_id = $1 AND target_account_id = $2 AND ap_id IS NOT NULL \
                   UNION SELECT ap_id FROM follow_requests WHERE account_id = $1 AND target_account_id = $2 AND ap_id IS NOT NULL";
        let id = on_pool!(self, |pool| sqlx::query_scalar::<_, String>(sql)
            .bind(account)
            .bind(target)
            .fetch_optional(pool)
            .await)?;
        Ok(id)
    }

    pub async fn insert_remote_media(
        &self,
        status_id: i64,
        account_id: i64,
        url: &str,
        content_type: &str,
        description: &str,
    ) -> Result<(), StoreError> {
        on_pool!(self, |pool| {
            sqlx::query(
            "INSERT INTO media (id, account_id, status_id, file_name, thumb_name, content_type, size, width, height, description, created_at, remote_url) \
             VALUES ($1, $2, $3, '', '', $4, 0, 0, 0, $5, $6, $7)"
        )
        .bind(crate::ids::next_id())
        .bind(account_id)
        .bind(status_id)
        .bind(content_type)
        .bind(description)
        .bind(super::now_millis())
        .bind(url)
        .execute(pool)
        .await
        .map(|_| ())
        })?;
        Ok(())
    }
}

impl Store {
    /// Accounts on one numbered page of a followers (`true`) or following list, oldest first.
    pub async fn follow_page(
        &self,
        account: i64,
        followers: bool,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<AccountRow>, StoreError> {
        let (join, key) = if followers {
            ("f.account_id", "f.target_account_id")
        } else {
            ("f.target_account_id", "f.account_id")
        };
        let cols: Vec<String> = COLUMNS
            .split(", ")
            .map(|c| format!("a.{}", c.trim()))
            .collect();
        let sql = format!(
            "SELECT {} FROM follows f JOIN accounts a ON a.id = {join} WHERE {key} = $1 ORDER BY f.id LIMIT $2 OFFSET $3",
            cols.join(", ")
        );
        let rows = on_pool!(self, |pool| sqlx::query_as::<_, AccountRow>(&sql)
            .bind(account)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await)?;
        Ok(rows)
    }

    /// All of an account's statuses (every visibility), oldest first, one page.
    pub async fn all_statuses_of(
        &self,
        account: i64,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<super::statuses::StatusRow>, StoreError> {
        let sql = format!(
            "SELECT {} FROM statuses s WHERE s.account_id = $1 ORDER BY s.id LIMIT $2 OFFSET $3",
            super::statuses::STATUS_COLUMNS
        );
        let rows = on_pool!(self, |pool| {
            sqlx::query_as::<_, super::statuses::StatusRow>(&sql)
                .bind(account)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await
        })?;
        Ok(rows)
    }

    /// Statuses of `audiences` (not reblogs), newest first, one numbered page: a local
    /// account's (its outbox), or with `account` `None` the node's own by accounts not
    /// suspended (the node's collection of public statuses, which `org` peers backfill from).
    pub async fn outbox_page(
        &self,
        audiences: &[crate::domain::audience::Audience],
        account: Option<i64>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<super::statuses::StatusRow>, StoreError> {
        let Some(vis) = super::statuses::audience_condition("s", audiences) else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "SELECT {} FROM statuses s JOIN accounts a ON a.id = s.account_id \
             WHERE {} AND {vis} AND s.reblog_of_id IS NULL \
             ORDER BY s.id DESC LIMIT {limit} OFFSET {offset}",
            super::statuses::STATUS_COLUMNS,
            whose(account),
        );
        let rows = on_pool!(self, |pool| {
            let mut q = sqlx::query_as::<_, super::statuses::StatusRow>(&sql);
            if let Some(id) = account {
                q = q.bind(id);
            }
            q.fetch_all(pool).await
        })?;
        Ok(rows)
    }

    /// How many statuses [`Store::outbox_page`] pages through.
    pub async fn outbox_total(
        &self,
        audiences: &[crate::domain::audience::Audience],
        account: Option<i64>,
    ) -> Result<i64, StoreError> {
        let Some(vis) = super::statuses::audience_condition("s", audiences) else {
            return Ok(0);
        };
        let sql = format!(
            "SELECT COUNT(*) FROM statuses s JOIN accounts a ON a.id = s.account_id \
             WHERE {} AND {vis} AND s.reblog_of_id IS NULL",
            whose(account)
        );
        Ok(on_pool!(self, |pool| {
            let mut q = sqlx::query_scalar::<_, i64>(&sql);
            if let Some(id) = account {
                q = q.bind(id);
            }
            q.fetch_one(pool).await
        })?)
    }
}

/// Whose statuses an outbox lists: one account's (bound as `$1`), or the node's own.
fn whose(account: Option<i64>) -> &'static str {
    match account {
        Some(_) => "s.account_id = $1",
        None => "a.domain = '' AND NOT a.suspended",
    }
}
