//! Who federates: admins' allow and block lists (with the configuration file's and an optional
//! allowlist file's), the mode, and an append-only audit log of every change. Changes take
//! effect at once in this process; other processes pick them up on their next reload.

use fika_federation::policy::{DomainPolicy, Mode, Tier};

use super::{DomainError, Node};
use crate::config::Config;
use crate::store::policy::{Audit, AuditRow, DomainRow};
use crate::store::Store;

/// A peer domain as policies list it: `host` or `host:port`, lower case.
pub fn normalize_domain(raw: &str) -> Result<String, DomainError> {
    let d = raw.trim().trim_end_matches('/').to_ascii_lowercase();
    let d = d
        .strip_prefix("https://")
        .or_else(|| d.strip_prefix("http://"))
        .unwrap_or(&d)
        .to_string();
    let valid = !d.is_empty()
        && !d.contains('/')
        && url::Url::parse(&format!("https://{d}/"))
            .ok()
            .and_then(|u| u.host_str().map(|_| ()))
            .is_some();
    if valid {
        Ok(d)
    } else {
        Err(DomainError::Invalid(format!("{raw:?} is not a domain")))
    }
}

/// The allowlist file's entries: `domain` or `domain tier` per line.
fn read_allowlist_file(config: &Config) -> Vec<(String, Tier)> {
    let Some(path) = &config.federation.allowlist_file else {
        return vec![];
    };
    match std::fs::read_to_string(path) {
        Ok(text) => text
            .lines()
            .map(|l| l.split('#').next().unwrap_or("").trim())
            .filter(|l| !l.is_empty())
            .filter_map(|l| match allowlist_line(l) {
                Ok(entry) => Some(entry),
                Err(e) => {
                    tracing::warn!(file = %path.display(), line = l, error = %e, "ignoring a line of the allowlist file");
                    None
                }
            })
            .collect(),
        Err(e) => {
            tracing::error!(file = %path.display(), error = %e, "cannot read the allowlist file");
            vec![]
        }
    }
}

fn allowlist_line(line: &str) -> Result<(String, Tier), DomainError> {
    let mut words = line.split_whitespace();
    let domain = normalize_domain(words.next().unwrap_or(""))?;
    let tier = match words.next() {
        None => Tier::Org,
        Some(t) => parse_tier(t)?,
    };
    match words.next() {
        None => Ok((domain, tier)),
        Some(extra) => Err(DomainError::Invalid(format!(
            "unexpected {extra:?} after the tier"
        ))),
    }
}

/// A tier name as admins write it: `org` or `partner`.
pub fn parse_tier(raw: &str) -> Result<Tier, DomainError> {
    Tier::parse(raw.trim())
        .ok_or_else(|| DomainError::Invalid(format!("tier must be org or partner, not {raw:?}")))
}

/// The policy in force: configuration, allowlist file and admins' entries together.
pub async fn effective(store: &Store, config: &Config) -> Result<DomainPolicy, DomainError> {
    let cfg = &config.federation;
    let mut allowed = cfg.allowed_domains.clone();
    let mut partners = cfg.partner_domains.clone();
    let mut blocked = cfg.blocked_domains.clone();
    for (domain, tier) in read_allowlist_file(config) {
        match tier {
            Tier::Org => allowed.push(domain),
            Tier::Partner => partners.push(domain),
        }
    }
    for row in store.policy_domains().await? {
        match (row.kind.as_str(), Tier::parse(&row.tier)) {
            ("allow", Some(Tier::Partner)) => partners.push(row.domain),
            ("allow", _) => allowed.push(row.domain),
            _ => blocked.push(row.domain),
        }
    }
    let mode = match store.policy_mode().await?.as_deref() {
        Some("blocklist") => Mode::Blocklist,
        Some("allowlist") => Mode::Allowlist,
        _ => cfg.mode,
    };
    // A domain listed in both tiers (say, org in the file and partner by an admin) is a
    // partner: the narrower reach wins, as a block wins over an allow.
    Ok(DomainPolicy::new(mode, &allowed, &blocked).with_partners(&partners))
}

/// Re-reads the policy into the federation client.
pub async fn reload(node: &Node) -> Result<(), DomainError> {
    let policy = effective(&node.store, &node.config).await?;
    if policy != node.fed.net.policy() {
        tracing::info!(mode = ?policy.mode, "federation policy reloaded");
        node.fed.net.set_policy(policy);
    }
    Ok(())
}

/// Deliveries queued for a peer that is no longer allowed are dropped, with a log line.
async fn drop_if_refused(store: &Store, config: &Config, domain: &str) -> Result<(), DomainError> {
    if !effective(store, config).await?.allows(domain) {
        let dropped = store.drop_deliveries_to(domain).await?;
        if dropped > 0 {
            tracing::warn!(
                peer = domain,
                dropped,
                "dropped queued deliveries to a peer no longer allowed"
            );
        }
    }
    Ok(())
}

/// Adds an allow or block entry; an allow of a domain allowed already sets its tier. In the
/// server, follow with [`reload`].
pub async fn add(
    store: &Store,
    config: &Config,
    who: &str,
    raw: &str,
    kind: &str,
    tier: Tier,
) -> Result<DomainRow, DomainError> {
    let domain = normalize_domain(raw)?;
    let (action, detail) = if kind == "allow" {
        ("allow", format!("tier {}", tier.as_str()))
    } else {
        ("block", String::new())
    };
    let row = store
        .add_policy_domain(
            &domain,
            kind,
            tier.as_str(),
            &Audit {
                actor: who,
                action,
                domain: Some(&domain),
                detail: &detail,
            },
        )
        .await?;
    tracing::info!(by = who, domain = %domain, action, detail, "federation policy changed");
    drop_if_refused(store, config, &domain).await?;
    if kind == "allow" && row.tier != tier.as_str() {
        return set_tier(store, who, &domain, tier).await;
    }
    Ok(row)
}

/// Sets the tier of an admins' allow entry (NotFound when the domain has none). In the server,
/// follow with [`reload`].
pub async fn set_tier(
    store: &Store,
    who: &str,
    raw: &str,
    tier: Tier,
) -> Result<DomainRow, DomainError> {
    let domain = normalize_domain(raw)?;
    let detail = tier.as_str();
    let changed = store
        .set_policy_tier(
            &domain,
            tier.as_str(),
            &Audit {
                actor: who,
                action: "tier",
                domain: Some(&domain),
                detail,
            },
        )
        .await?;
    if !changed {
        return Err(DomainError::NotFound("allow entry"));
    }
    tracing::info!(by = who, domain = %domain, tier = detail, "federation tier changed");
    store
        .policy_domains()
        .await?
        .into_iter()
        .find(|r| r.domain == domain && r.kind == "allow")
        .ok_or(DomainError::NotFound("allow entry"))
}

pub async fn remove(
    store: &Store,
    config: &Config,
    who: &str,
    raw: &str,
    kind: Option<&str>,
) -> Result<u64, DomainError> {
    let domain = normalize_domain(raw)?;
    let action = match kind {
        Some("allow") => "remove allow",
        Some(_) => "remove block",
        None => "remove",
    };
    let (removed, _) = store
        .remove_policy_domain(
            &domain,
            kind,
            false,
            &Audit {
                actor: who,
                action,
                domain: Some(&domain),
                detail: "",
            },
        )
        .await?;
    tracing::info!(by = who, domain = %domain, action, "federation policy changed");
    drop_if_refused(store, config, &domain).await?;
    Ok(removed)
}

/// The two kinds of admins' entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Allow,
    Block,
}

impl EntryKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EntryKind::Allow => "allow",
            EntryKind::Block => "block",
        }
    }
}

/// Admins' entries of one kind, by domain.
pub async fn entries(node: &Node, kind: EntryKind) -> Result<Vec<DomainRow>, DomainError> {
    Ok(node
        .store
        .policy_domains()
        .await?
        .into_iter()
        .filter(|r| r.kind == kind.as_str())
        .collect())
}

/// One entry of a kind by id, or NotFound.
pub async fn entry(node: &Node, kind: EntryKind, id: i64) -> Result<DomainRow, DomainError> {
    entries(node, kind)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or(DomainError::NotFound("domain entry"))
}

/// Adds an entry through the admin API and puts it in force; an allow is of tier `tier`
/// (default `org`). As on Mastodon, allowing a domain twice answers the existing allow (with
/// its tier changed when one is given); blocking twice is a conflict.
pub async fn create_entry(
    node: &Node,
    who: &str,
    raw: &str,
    kind: EntryKind,
    tier: Option<Tier>,
) -> Result<DomainRow, DomainError> {
    let domain = normalize_domain(raw)?;
    if let Some(existing) = entries(node, kind)
        .await?
        .into_iter()
        .find(|r| r.domain == domain)
    {
        return match (kind, tier) {
            (EntryKind::Allow, Some(t)) if t.as_str() != existing.tier => {
                let row = set_tier(&node.store, who, &domain, t).await?;
                reload(node).await?;
                Ok(row)
            }
            (EntryKind::Allow, _) => Ok(existing),
            (EntryKind::Block, _) => Err(DomainError::Conflict(format!(
                "{domain} is already blocked"
            ))),
        };
    }
    let tier = tier.unwrap_or(Tier::Org);
    let row = add(&node.store, &node.config, who, &domain, kind.as_str(), tier).await?;
    reload(node).await?;
    Ok(row)
}

/// Sets the tier of an allow entry (by id) through the admin API and puts it in force.
pub async fn update_entry_tier(
    node: &Node,
    who: &str,
    id: i64,
    tier: Tier,
) -> Result<DomainRow, DomainError> {
    let row = entry(node, EntryKind::Allow, id).await?;
    let row = set_tier(&node.store, who, &row.domain, tier).await?;
    reload(node).await?;
    Ok(row)
}

/// Removes an entry (by id) through the admin API and puts the change in force.
pub async fn delete_entry(
    node: &Node,
    who: &str,
    kind: EntryKind,
    id: i64,
) -> Result<(), DomainError> {
    let row = entry(node, kind, id).await?;
    remove(
        &node.store,
        &node.config,
        who,
        &row.domain,
        Some(kind.as_str()),
    )
    .await?;
    reload(node).await
}

/// The newest `limit` policy changes, newest first.
pub async fn audit_log(node: &Node, limit: i64) -> Result<Vec<AuditRow>, DomainError> {
    Ok(node.store.audit_log(limit).await?)
}

pub async fn set_mode(store: &Store, who: &str, mode: Mode) -> Result<(), DomainError> {
    let value = match mode {
        Mode::Allowlist => "allowlist",
        Mode::Blocklist => "blocklist",
    };
    store
        .set_policy_mode(
            value,
            &Audit {
                actor: who,
                action: "mode",
                domain: None,
                detail: value,
            },
        )
        .await?;
    tracing::info!(by = who, mode = value, "federation mode changed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_normalise() {
        assert_eq!(
            normalize_domain(" HQ.Example.com ").unwrap(),
            "hq.example.com"
        );
        assert_eq!(
            normalize_domain("https://hq.example.com/").unwrap(),
            "hq.example.com"
        );
        assert_eq!(normalize_domain("10.0.0.5:8443").unwrap(), "10.0.0.5:8443");
        assert!(normalize_domain("").is_err());
        assert!(normalize_domain("a/b").is_err());
        assert!(normalize_domain("not a domain").is_err());
    }

    #[test]
    fn allowlist_lines_may_name_a_tier() {
        assert_eq!(
            allowlist_line("B.example").unwrap(),
            ("b.example".to_string(), Tier::Org)
        );
        assert_eq!(
            allowlist_line("c.example  partner").unwrap(),
            ("c.example".to_string(), Tier::Partner)
        );
        assert!(allowlist_line("c.example friend").is_err());
        assert!(allowlist_line("c.example org extra").is_err());
    }
}
