//! Admin-managed federation policy: allowed and blocked domains, the mode, the audit log.

use sqlx::FromRow;

use super::{in_tx, on_pool, Store, StoreError};

#[derive(Debug, Clone, FromRow)]
pub struct DomainRow {
    pub id: i64,
    pub domain: String,
    pub kind: String,
    /// `org` or `partner`; meaningful for allow entries only.
    pub tier: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub domain: Option<String>,
    pub detail: String,
}

/// One audit entry, written in the same transaction as the change it records.
pub struct Audit<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub domain: Option<&'a str>,
    pub detail: &'a str,
}

macro_rules! insert_audit {
    ($executor:expr, $a:expr) => {{
        let a: &Audit<'_> = $a;
        sqlx::query(
            "INSERT INTO federation_audit (id, at, actor, action, domain, detail) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(crate::ids::next_id())
        .bind(super::now_millis())
        .bind(a.actor)
        .bind(a.action)
        .bind(a.domain)
        .bind(a.detail)
        .execute($executor)
        .await
        .map(|_| ())
    }};
}
pub(crate) use insert_audit;

impl Store {
    pub async fn policy_domains(&self) -> Result<Vec<DomainRow>, StoreError> {
        let sql =
            "SELECT id, domain, kind, tier, created_at FROM federation_domains ORDER BY domain, kind";
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, DomainRow>(sql)
            .fetch_all(pool)
            .await)?)
    }

    pub async fn policy_mode(&self) -> Result<Option<String>, StoreError> {
        let sql = "SELECT value FROM federation_settings WHERE key = 'mode'";
        Ok(on_pool!(self, |pool| sqlx::query_scalar::<_, String>(sql)
            .fetch_optional(pool)
            .await)?)
    }

    /// Adds an allow or block entry (idempotent: an existing entry keeps its tier) with its
    /// audit entry; returns the row.
    pub async fn add_policy_domain(
        &self,
        domain: &str,
        kind: &str,
        tier: &str,
        audit: &Audit<'_>,
    ) -> Result<DomainRow, StoreError> {
        in_tx!(self, |tx| {
            sqlx::query("INSERT INTO federation_domains (id, domain, kind, tier, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (domain, kind) DO NOTHING")
                .bind(crate::ids::next_id())
                .bind(domain)
                .bind(kind)
                .bind(tier)
                .bind(super::now_millis())
                .execute(&mut *tx)
                .await?;
            insert_audit!(&mut *tx, audit)?;
        });
        let sql = "SELECT id, domain, kind, tier, created_at FROM federation_domains WHERE domain = $1 AND kind = $2";
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, DomainRow>(sql)
            .bind(domain)
            .bind(kind)
            .fetch_one(pool)
            .await)?)
    }

    /// Removes entries for `domain` of `kind` (or both kinds), drops deliveries queued for it
    /// when it is no longer allowed, and audits; returns (entries removed, deliveries dropped).
    pub async fn remove_policy_domain(
        &self,
        domain: &str,
        kind: Option<&str>,
        drop_deliveries: bool,
        audit: &Audit<'_>,
    ) -> Result<(u64, u64), StoreError> {
        let out = in_tx!(self, |tx| {
            let removed = match kind {
                Some(k) => {
                    sqlx::query("DELETE FROM federation_domains WHERE domain = $1 AND kind = $2")
                        .bind(domain)
                        .bind(k)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected()
                }
                None => sqlx::query("DELETE FROM federation_domains WHERE domain = $1")
                    .bind(domain)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected(),
            };
            let dropped = if drop_deliveries {
                sqlx::query("DELETE FROM deliveries WHERE peer = $1")
                    .bind(domain)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
            } else {
                0
            };
            insert_audit!(&mut *tx, audit)?;
            (removed, dropped)
        });
        Ok(out)
    }

    /// Sets the tier of `domain`'s allow entry, with its audit entry; `false` when there is no
    /// such entry.
    pub async fn set_policy_tier(
        &self,
        domain: &str,
        tier: &str,
        audit: &Audit<'_>,
    ) -> Result<bool, StoreError> {
        let changed = in_tx!(self, |tx| {
            let n = sqlx::query(
                "UPDATE federation_domains SET tier = $1 WHERE domain = $2 AND kind = 'allow'",
            )
            .bind(tier)
            .bind(domain)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n > 0 {
                insert_audit!(&mut *tx, audit)?;
            }
            n > 0
        });
        Ok(changed)
    }

    pub async fn drop_deliveries_to(&self, domain: &str) -> Result<u64, StoreError> {
        Ok(on_pool!(self, |pool| sqlx::query(
            "DELETE FROM deliveries WHERE peer = $1"
        )
        .bind(domain)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?)
    }

    pub async fn set_policy_mode(&self, mode: &str, audit: &Audit<'_>) -> Result<(), StoreError> {
        in_tx!(self, |tx| {
            sqlx::query("INSERT INTO federation_settings (key, value) VALUES ('mode', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                .bind(mode)
                .execute(&mut *tx)
                .await?;
            insert_audit!(&mut *tx, audit)?;
        });
        Ok(())
    }

    /// An audit entry for a change that wrote its own rows already.
    pub async fn record_audit(&self, audit: &Audit<'_>) -> Result<(), StoreError> {
        in_tx!(self, |tx| {
            insert_audit!(&mut *tx, audit)?;
        });
        Ok(())
    }

    pub async fn audit_log(&self, limit: i64) -> Result<Vec<AuditRow>, StoreError> {
        let sql = "SELECT id, at, actor, action, domain, detail FROM federation_audit ORDER BY id DESC LIMIT $1";
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, AuditRow>(sql)
            .bind(limit)
            .fetch_all(pool)
            .await)?)
    }
}
