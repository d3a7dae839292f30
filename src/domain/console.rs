//! The web console (`/admin`): who may use it (admins, moderators, communicators, each for
//! what its role allows), its sessions, and what its pages show and change. The pages call the
//! same domain functions as the CLI and the admin APIs, so every change is audited once.

use std::collections::BTreeMap;

use serde::Serialize;

use super::accounts::{self, NewAccount, Role};
use super::oauth::{digest, random_secret};
use super::{DomainError, Node};
use crate::store::accounts::AccountRow;
use crate::store::now_millis;
use crate::store::policy::Audit;

/// A console page, and the roles that may open it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Page {
    Federation,
    Accounts,
    Announcements,
    Insights,
    Audit,
}

impl Page {
    pub const ALL: [Page; 5] = [
        Page::Federation,
        Page::Accounts,
        Page::Announcements,
        Page::Insights,
        Page::Audit,
    ];

    pub fn allows(self, role: Role) -> bool {
        match self {
            Page::Federation => role == Role::Admin,
            Page::Accounts | Page::Audit => matches!(role, Role::Admin | Role::Moderator),
            Page::Announcements | Page::Insights => {
                matches!(role, Role::Admin | Role::Communicator)
            }
        }
    }

    pub fn slug(self) -> &'static str {
        match self {
            Page::Federation => "federation",
            Page::Accounts => "accounts",
            Page::Announcements => "announcements",
            Page::Insights => "insights",
            Page::Audit => "audit",
        }
    }
}

pub fn role_of(account: &AccountRow) -> Role {
    account.effective_role().parse().unwrap_or(Role::User)
}

/// The pages `account` may open, in menu order; empty for someone who may not use the console.
pub fn pages_for(account: &AccountRow) -> Vec<Page> {
    let role = role_of(account);
    Page::ALL.into_iter().filter(|p| p.allows(role)).collect()
}

/// How long a session lasts without a request.
pub fn idle_ms(node: &Node) -> i64 {
    i64::from(node.config.console.idle_minutes) * 60_000
}

/// Why a login was refused (the page says which, without telling a wrong user from a wrong
/// password).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRefused {
    WrongCredentials,
    NotAllowed,
}

/// A new session: the cookie's token and the CSRF token of its forms.
pub struct NewSession {
    pub token: String,
    pub csrf: String,
    pub account: AccountRow,
}

/// Checks a login and opens a session for an account whose role may use the console.
pub async fn login(
    node: &Node,
    login: &str,
    password: &str,
) -> Result<Result<NewSession, LoginRefused>, DomainError> {
    // The same policy as the OAuth login page: the company directory, local passwords only
    // where `auth.local_passwords` allows them, the break-glass admin.
    let account = match super::login::password(node, login.trim(), password).await {
        Ok(a) => a,
        Err(super::login::LoginError::Invalid) => {
            tracing::info!(login = %login.trim().escape_debug(), "console login refused: wrong credentials");
            return Ok(Err(LoginRefused::WrongCredentials));
        }
        Err(super::login::LoginError::Sso(super::sso::SsoError::Unavailable(m))) => {
            return Err(DomainError::Unavailable(m))
        }
        Err(super::login::LoginError::Sso(super::sso::SsoError::Domain(e))) => return Err(e),
        Err(super::login::LoginError::Sso(e)) => {
            tracing::info!(login = %login.trim().escape_debug(), reason = %e, "console login refused");
            return Ok(Err(LoginRefused::NotAllowed));
        }
    };
    if pages_for(&account).is_empty() {
        tracing::info!(user = %account.username, "console login refused: role");
        return Ok(Err(LoginRefused::NotAllowed));
    }
    let (token, csrf) = (random_secret(), random_secret());
    node.store
        .insert_console_session(&digest(&token), account.id, &csrf, now_millis())
        .await?;
    tracing::info!(user = %account.username, "console login");
    Ok(Ok(NewSession {
        token,
        csrf,
        account,
    }))
}

/// The account and CSRF token of a live session; `None` when there is none, it went idle, or
/// its account can no longer use the console (its role changed, it was suspended).
pub async fn session(
    node: &Node,
    token: &str,
) -> Result<Option<(AccountRow, String)>, DomainError> {
    let hash = digest(token);
    let Some((account_id, csrf, last_seen)) = node.store.console_session(&hash).await? else {
        return Ok(None);
    };
    let now = now_millis();
    if now - last_seen > idle_ms(node) {
        node.store
            .end_console_session(&hash, now - idle_ms(node))
            .await?;
        return Ok(None);
    }
    let Some(account) = node
        .store
        .account_by_id(account_id)
        .await?
        .filter(|a| !a.suspended && !pages_for(a).is_empty())
    else {
        return Ok(None);
    };
    // Touched at most once a minute: a page view is not a write.
    if now - last_seen > 60_000 {
        node.store.touch_console_session(&hash, now).await?;
    }
    Ok(Some((account, csrf)))
}

pub async fn logout(node: &Node, token: &str) -> Result<(), DomainError> {
    let now = now_millis();
    node.store
        .end_console_session(&digest(token), now - idle_ms(node))
        .await?;
    Ok(())
}

fn require(account: &AccountRow, page: Page) -> Result<(), DomainError> {
    if page.allows(role_of(account)) {
        Ok(())
    } else {
        Err(DomainError::Forbidden(
            "Your role does not allow this page".into(),
        ))
    }
}

fn who(account: &AccountRow) -> String {
    format!("console:{}", account.username)
}

// ---------------------------------------------------------------------------------------------
// Federation

#[derive(Debug, Clone, Serialize)]
pub struct PeerRow {
    pub domain: String,
    /// `allow` or `block`.
    pub kind: String,
    pub tier: String,
    /// `config` (file, environment, allowlist file) or `admin` (CLI, API, console).
    pub source: String,
    /// The admin entry's id, for removal (none for configured ones).
    pub entry_id: Option<i64>,
    pub pending: i64,
    pub dead: i64,
    pub last_error: String,
    pub announcements: bool,
    /// What this process saw lately (RFC 3339 times), empty when nothing yet.
    pub last_delivered: String,
    pub last_inbound: String,
    /// `closed`, or `open` while deliveries to the peer wait after failures in a row.
    pub breaker: String,
    pub failures_in_a_row: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct FederationPage {
    pub mode: String,
    pub peers: Vec<PeerRow>,
}

pub async fn federation(node: &Node, actor: &AccountRow) -> Result<FederationPage, DomainError> {
    require(actor, Page::Federation)?;
    let f = &node.config.federation;
    let mut queue: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (peer, state, count) in node.store.delivery_counts().await? {
        let e = queue.entry(peer).or_default();
        if state == "dead" {
            e.1 += count;
        } else {
            e.0 += count;
        }
    }
    let errors: BTreeMap<String, String> = node
        .store
        .last_delivery_errors()
        .await?
        .into_iter()
        .collect();
    let mut peers: Vec<PeerRow> = Vec::new();
    let mut push = |domain: &str, kind: &str, tier: &str, source: &str, id: Option<i64>| {
        if peers.iter().any(|p| p.domain == domain && p.kind == kind) {
            return;
        }
        let (pending, dead) = queue.get(domain).copied().unwrap_or_default();
        peers.push(PeerRow {
            domain: domain.to_string(),
            kind: kind.to_string(),
            tier: tier.to_string(),
            source: source.to_string(),
            entry_id: id,
            pending,
            dead,
            last_error: errors.get(domain).cloned().unwrap_or_default(),
            announcements: false,
            last_delivered: String::new(),
            last_inbound: String::new(),
            breaker: String::new(),
            failures_in_a_row: 0,
        });
    };
    for d in &f.allowed_domains {
        push(d, "allow", "org", "config", None);
    }
    for d in &f.partner_domains {
        push(d, "allow", "partner", "config", None);
    }
    for d in &f.blocked_domains {
        push(d, "block", "", "config", None);
    }
    for row in node.store.policy_domains().await? {
        let tier = if row.kind == "allow" {
            row.tier.clone()
        } else {
            String::new()
        };
        push(&row.domain, &row.kind, &tier, "admin", Some(row.id));
    }
    let now = now_millis();
    let time = crate::convert::rfc3339_millis;
    for p in &mut peers {
        if p.kind == "allow" {
            p.announcements = super::announcements::travels_with(node, &p.domain).await?;
        }
        let h = node.fed.health.get(&p.domain);
        p.last_delivered = h.last_delivered_at.map(time).unwrap_or_default();
        p.last_inbound = h.last_inbound_at.map(time).unwrap_or_default();
        p.failures_in_a_row = h.failures_in_a_row;
        p.breaker = match h.breaker_open_until {
            Some(t) if t > now => "open".into(),
            _ => "closed".into(),
        };
    }
    peers.sort_by(|a, b| a.domain.cmp(&b.domain).then(a.kind.cmp(&b.kind)));
    Ok(FederationPage {
        mode: format!("{:?}", node.fed.net.policy().mode).to_lowercase(),
        peers,
    })
}

/// Allows a peer (tier `org` or `partner`) or blocks one (with a reason for the audit log).
pub async fn add_peer(
    node: &Node,
    actor: &AccountRow,
    domain: &str,
    kind: super::policy::EntryKind,
    tier: Option<&str>,
    reason: &str,
) -> Result<(), DomainError> {
    require(actor, Page::Federation)?;
    let tier = tier.map(super::policy::parse_tier).transpose()?;
    let row = super::policy::create_entry(node, &who(actor), domain, kind, tier).await?;
    if !reason.trim().is_empty() {
        node.store
            .record_audit(&Audit {
                actor: &who(actor),
                action: "reason",
                domain: Some(&row.domain),
                detail: reason.trim(),
            })
            .await?;
    }
    Ok(())
}

pub async fn remove_peer(
    node: &Node,
    actor: &AccountRow,
    kind: super::policy::EntryKind,
    id: i64,
) -> Result<(), DomainError> {
    require(actor, Page::Federation)?;
    super::policy::delete_entry(node, &who(actor), kind, id).await
}

pub async fn set_tier(
    node: &Node,
    actor: &AccountRow,
    id: i64,
    tier: &str,
) -> Result<(), DomainError> {
    require(actor, Page::Federation)?;
    let tier = super::policy::parse_tier(tier)?;
    super::policy::update_entry_tier(node, &who(actor), id, tier).await?;
    Ok(())
}

/// Dead letters to `peer` are tried again (audited).
pub async fn retry_dead(node: &Node, actor: &AccountRow, peer: &str) -> Result<u64, DomainError> {
    require(actor, Page::Federation)?;
    let n = node.store.retry_dead_deliveries(peer, now_millis()).await?;
    let detail = format!("{n} dead letters");
    node.store
        .record_audit(&Audit {
            actor: &who(actor),
            action: "retry",
            domain: Some(peer),
            detail: &detail,
        })
        .await?;
    super::federation::outbound::wake_deliveries(node, n > 0);
    Ok(n)
}

pub async fn set_announcements(
    node: &Node,
    actor: &AccountRow,
    peer: &str,
    on: bool,
) -> Result<(), DomainError> {
    require(actor, Page::Federation)?;
    super::announcements::set_peer_setting(&node.store, &who(actor), peer, on).await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Accounts

#[derive(Debug, Clone, Serialize)]
pub struct AccountItem {
    pub username: String,
    pub email: String,
    pub role: String,
    pub suspended: bool,
}

pub async fn accounts(
    node: &Node,
    actor: &AccountRow,
    query: &str,
) -> Result<Vec<AccountItem>, DomainError> {
    require(actor, Page::Accounts)?;
    let q = query.trim().to_lowercase();
    Ok(node
        .store
        .list_local_accounts()
        .await?
        .into_iter()
        .filter(|a| !a.is_group)
        .filter(|a| {
            q.is_empty()
                || a.username.to_lowercase().contains(&q)
                || a.email.as_deref().is_some_and(|e| e.contains(&q))
                || a.display_name.to_lowercase().contains(&q)
        })
        .map(|a| AccountItem {
            role: a.effective_role().to_string(),
            username: a.username,
            email: a.email.unwrap_or_default(),
            suspended: a.suspended,
        })
        .collect())
}

fn account_audit<'a>(who: &'a str, action: &'a str, detail: &'a str) -> Audit<'a> {
    Audit {
        actor: who,
        action,
        domain: None,
        detail,
    }
}

/// Creates an account (admins only); returns the generated password, shown once.
pub async fn create_account(
    node: &Node,
    actor: &AccountRow,
    username: &str,
    email: &str,
    role: &str,
) -> Result<String, DomainError> {
    require(actor, Page::Federation)?;
    let role: Role = role.parse()?;
    let password = accounts::generate_password();
    let email = email.trim();
    let created = accounts::create_local_account(
        &node.store,
        NewAccount {
            username: username.trim(),
            email: (!email.is_empty()).then_some(email),
            password: &password,
            role,
            discoverable: node.config.accounts.default_discoverable,
        },
    )
    .await?;
    let detail = format!("@{} {}", created.username, role.as_str());
    node.store
        .record_audit(&account_audit(&who(actor), "account.create", &detail))
        .await?;
    Ok(password)
}

/// Changes a role (admins only; an admin cannot demote themselves, so a node keeps one).
pub async fn set_role(
    node: &Node,
    actor: &AccountRow,
    username: &str,
    role: &str,
) -> Result<(), DomainError> {
    require(actor, Page::Federation)?;
    let role: Role = role.parse()?;
    if username == actor.username && role != Role::Admin {
        return Err(DomainError::Invalid(
            "You cannot take the admin role from yourself".into(),
        ));
    }
    accounts::set_role(&node.store, username, role).await?;
    let detail = format!("@{username} {}", role.as_str());
    node.store
        .record_audit(&account_audit(&who(actor), "account.role", &detail))
        .await?;
    Ok(())
}

/// Suspends or lifts a suspension (admins and moderators; not oneself).
pub async fn set_suspended(
    node: &Node,
    actor: &AccountRow,
    username: &str,
    suspended: bool,
) -> Result<(), DomainError> {
    require(actor, Page::Accounts)?;
    if username == actor.username {
        return Err(DomainError::Invalid("You cannot suspend yourself".into()));
    }
    accounts::set_suspended(&node.store, username, suspended).await?;
    let action = if suspended {
        "account.suspend"
    } else {
        "account.unsuspend"
    };
    let detail = format!("@{username}");
    node.store
        .record_audit(&account_audit(&who(actor), action, &detail))
        .await?;
    Ok(())
}

/// Sets a new generated password (admins only); returns it, shown once.
pub async fn reset_password(
    node: &Node,
    actor: &AccountRow,
    username: &str,
) -> Result<String, DomainError> {
    require(actor, Page::Federation)?;
    let password = accounts::generate_password();
    accounts::set_password(&node.store, username, &password).await?;
    let detail = format!("@{username}");
    node.store
        .record_audit(&account_audit(&who(actor), "account.password", &detail))
        .await?;
    Ok(password)
}

// ---------------------------------------------------------------------------------------------
// Announcements and audit

#[derive(Debug, Clone, Serialize)]
pub struct NodeBar {
    pub name: String,
    pub read: i64,
    pub reached: i64,
    /// Share read, 0 to 100.
    pub percent: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AnnouncementItem {
    pub id: String,
    pub text: String,
    /// The times as a `datetime-local` field shows them (UTC, to the minute).
    pub starts_local: String,
    pub ends_local: String,
    pub content: String,
    pub audience: String,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub published_at: String,
    pub withdrawn: bool,
    pub total_read: i64,
    pub total_reached: i64,
    pub nodes: Vec<NodeBar>,
    pub reactions: Vec<(String, i64)>,
}

fn bar(name: &str, read: i64, reached: i64) -> NodeBar {
    NodeBar {
        name: name.to_string(),
        read,
        reached,
        percent: if reached > 0 {
            (read * 100 / reached).clamp(0, 100)
        } else {
            0
        },
    }
}

pub async fn announcements(
    node: &Node,
    actor: &AccountRow,
) -> Result<Vec<AnnouncementItem>, DomainError> {
    require(actor, Page::Announcements)?;
    let time = crate::convert::rfc3339_millis;
    Ok(super::announcements::admin_list(node, actor)
        .await?
        .into_iter()
        .map(|s| AnnouncementItem {
            id: s.row.id.to_string(),
            text: s.row.text.clone(),
            starts_local: s.row.starts_at.map(local_minute).unwrap_or_default(),
            ends_local: s.row.ends_at.map(local_minute).unwrap_or_default(),
            content: s.row.content.clone(),
            audience: s.row.reach.clone(),
            starts_at: s.row.starts_at.map(time),
            ends_at: s.row.ends_at.map(time),
            published_at: time(s.row.published_at),
            withdrawn: s.row.withdrawn_at.is_some(),
            total_read: s.total.read,
            total_reached: s.total.reached,
            nodes: s
                .nodes
                .iter()
                .map(|n| bar(&n.name, n.counts.read, n.counts.reached))
                .collect(),
            reactions: s.total.reactions.into_iter().collect(),
        })
        .collect())
}

/// `2026-12-24T09:00`: a time as a `datetime-local` field takes it (UTC).
fn local_minute(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%dT%H:%M").to_string())
        .unwrap_or_default()
}

/// The HTML an announcement's text renders to, for the compose form's preview.
pub fn preview(node: &Node, text: &str) -> String {
    super::announcements::render(node, text)
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditItem {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub domain: String,
    pub detail: String,
}

pub async fn audit(
    node: &Node,
    actor: &AccountRow,
    action_prefix: &str,
    by: &str,
) -> Result<Vec<AuditItem>, DomainError> {
    require(actor, Page::Audit)?;
    Ok(node
        .store
        .audit_log_filtered(action_prefix.trim(), by.trim(), 200)
        .await?
        .into_iter()
        .map(|a| AuditItem {
            at: crate::convert::rfc3339_millis(a.at),
            actor: a.actor,
            action: a.action,
            domain: a.domain.unwrap_or_default(),
            detail: a.detail,
        })
        .collect())
}

// ---------------------------------------------------------------------------------------------
// Insights

/// A point of a line chart, in the chart's own units (0..[`CHART_W`], 0..[`CHART_H`]).
pub const CHART_W: i64 = 600;
pub const CHART_H: i64 = 160;

#[derive(Debug, Clone, Serialize)]
pub struct ChartLine {
    pub name: &'static str,
    /// `x,y x,y ...` for an SVG polyline.
    pub points: String,
    pub last: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    pub lines: Vec<ChartLine>,
    pub max: i64,
    /// (x, label) under the axis.
    pub labels: Vec<(i64, String)>,
}

/// One cell of the heat map: what it shows and how strongly it is coloured (0 to 1).
#[derive(Debug, Clone, Serialize)]
pub struct HeatCell {
    pub value: Option<i64>,
    pub shown: String,
    pub strength: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct HeatRow {
    pub node: String,
    pub reported: bool,
    pub cells: Vec<HeatCell>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TagItem {
    pub name: String,
    pub uses: i64,
    pub previous: i64,
    pub change: i64,
    pub nodes: Vec<String>,
    pub several: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct WeekItem {
    pub label: String,
    pub active_users: i64,
    pub cross_node_active_users: i64,
    /// Share of active users with an interaction across nodes, 0 to 100.
    pub cross_share: i64,
    pub inside: i64,
    pub across: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PeerItem {
    pub peer: String,
    pub sent: i64,
    pub received: i64,
    pub shared_groups: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupItem {
    pub name: String,
    pub handle: String,
    pub members: Vec<(String, i64)>,
    pub total: i64,
}

/// The insights page, ready to draw.
#[derive(Debug, Clone, Serialize)]
pub struct InsightsPage {
    pub week: String,
    pub previous_week: String,
    pub next_week: Option<String>,
    pub node: String,
    pub threshold: i64,
    pub weeks: Vec<WeekItem>,
    pub chart: Chart,
    pub nodes: Vec<String>,
    pub matrix: Vec<HeatRow>,
    pub hashtags: Vec<TagItem>,
    pub peers: Vec<PeerItem>,
    pub groups: Vec<GroupItem>,
}

/// Draws series of equal length as polylines sharing one scale.
fn chart(series: Vec<(&'static str, Vec<i64>)>, labels: &[String]) -> Chart {
    let max = series
        .iter()
        .flat_map(|(_, v)| v.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1);
    let n = labels.len().max(2) as i64;
    let x = |i: usize| i as i64 * CHART_W / (n - 1);
    let y = |v: i64| CHART_H - v * CHART_H / max;
    Chart {
        lines: series
            .into_iter()
            .map(|(name, values)| ChartLine {
                name,
                last: values.last().copied().unwrap_or(0),
                points: values
                    .iter()
                    .enumerate()
                    .map(|(i, v)| format!("{},{}", x(i), y(*v)))
                    .collect::<Vec<_>>()
                    .join(" "),
            })
            .collect(),
        max,
        labels: labels
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 2 == (labels.len() + 1) % 2)
            .map(|(i, l)| (x(i), l[5..].to_string()))
            .collect(),
    }
}

/// The heat map of the organisation's matrix: cells coloured by their share of the largest.
fn heat_map(m: &crate::convert::views::MatrixView, threshold: i64) -> Vec<HeatRow> {
    let max = m
        .cells
        .iter()
        .flatten()
        .flatten()
        .copied()
        .max()
        .unwrap_or(0)
        .max(1);
    m.nodes
        .iter()
        .zip(&m.cells)
        .zip(&m.reported)
        .map(|((node, row), reported)| HeatRow {
            node: node.clone(),
            reported: *reported,
            cells: row
                .iter()
                .map(|c| HeatCell {
                    value: *c,
                    shown: match (c, reported) {
                        (Some(n), _) => n.to_string(),
                        (None, true) => format!("<{threshold}"),
                        (None, false) => "–".into(),
                    },
                    strength: c.map_or(0.0, |n| (n as f64 / max as f64 * 100.0).round() / 100.0),
                })
                .collect(),
        })
        .collect()
}

/// The insights page for `week` (a Monday, `YYYY-MM-DD`; empty: this week), for admins and
/// communicators.
pub async fn insights(
    node: &Node,
    actor: &AccountRow,
    week: &str,
) -> Result<InsightsPage, DomainError> {
    require(actor, Page::Insights)?;
    let v = super::insights::overview(node, Some(week)).await?;
    let labels: Vec<String> = v.weeks.iter().map(|w| w.label.clone()).collect();
    let chart = chart(
        vec![
            ("active", v.weeks.iter().map(|w| w.active_users).collect()),
            (
                "cross",
                v.weeks.iter().map(|w| w.cross_node_active_users).collect(),
            ),
            ("inside", v.weeks.iter().map(|w| w.inside).collect()),
            ("across", v.weeks.iter().map(|w| w.across).collect()),
        ],
        &labels,
    );
    let this = v.weeks.iter().find(|w| w.week == v.week);
    let this_week = super::insights::week_start(now_millis());
    Ok(InsightsPage {
        previous_week: super::insights::week_label(v.week - super::insights::WEEK_MS),
        next_week: (v.week < this_week)
            .then(|| super::insights::week_label(v.week + super::insights::WEEK_MS)),
        week: v.label.clone(),
        node: v.own.clone(),
        threshold: v.threshold,
        weeks: v
            .weeks
            .iter()
            .rev()
            .map(|w| WeekItem {
                label: w.label.clone(),
                active_users: w.active_users,
                cross_node_active_users: w.cross_node_active_users,
                cross_share: if w.active_users > 0 {
                    w.cross_node_active_users * 100 / w.active_users
                } else {
                    0
                },
                inside: w.inside,
                across: w.across,
            })
            .collect(),
        chart,
        nodes: v.matrix.nodes.clone(),
        matrix: heat_map(&v.matrix, v.threshold),
        hashtags: v
            .rising
            .iter()
            .take(20)
            .map(|t| TagItem {
                name: t.name.clone(),
                uses: t.uses,
                previous: t.previous_uses,
                change: t.uses - t.previous_uses,
                nodes: t.nodes.clone(),
                several: t.nodes.len() > 1,
            })
            .collect(),
        peers: this
            .map(|w| {
                w.peers
                    .iter()
                    .map(|(peer, sent, received, groups)| PeerItem {
                        peer: peer.clone(),
                        sent: *sent,
                        received: *received,
                        shared_groups: *groups,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        groups: v
            .groups
            .iter()
            .map(|g| GroupItem {
                name: if g.display_name.is_empty() {
                    g.username.clone()
                } else {
                    g.display_name.clone()
                },
                handle: g.username.clone(),
                total: g.members.iter().map(|(_, n)| n).sum(),
                members: g.members.clone(),
            })
            .collect(),
    })
}

/// One of the page's tables as CSV (RFC 4180): `weeks`, `matrix`, `hashtags`, `peers` or
/// `groups`.
pub fn insights_csv(page: &InsightsPage, table: &str) -> Option<String> {
    fn field(s: &str) -> String {
        if s.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_string()
        }
    }
    let rows: Vec<Vec<String>> = match table {
        "weeks" => std::iter::once(
            [
                "week",
                "active_users",
                "cross_node_active_users",
                "interactions_inside",
                "interactions_across",
            ]
            .map(String::from)
            .to_vec(),
        )
        .chain(page.weeks.iter().map(|w| {
            vec![
                w.label.clone(),
                w.active_users.to_string(),
                w.cross_node_active_users.to_string(),
                w.inside.to_string(),
                w.across.to_string(),
            ]
        }))
        .collect(),
        "matrix" => std::iter::once(
            std::iter::once("from \\ to".to_string())
                .chain(page.nodes.iter().cloned())
                .collect(),
        )
        .chain(page.matrix.iter().map(|r| {
            std::iter::once(r.node.clone())
                .chain(
                    r.cells
                        .iter()
                        .map(|c| c.value.map(|n| n.to_string()).unwrap_or_default()),
                )
                .collect()
        }))
        .collect(),
        "hashtags" => std::iter::once(
            ["hashtag", "uses", "previous_week", "nodes"]
                .map(String::from)
                .to_vec(),
        )
        .chain(page.hashtags.iter().map(|t| {
            vec![
                t.name.clone(),
                t.uses.to_string(),
                t.previous.to_string(),
                t.nodes.join(" "),
            ]
        }))
        .collect(),
        "peers" => std::iter::once(
            ["node", "sent", "received", "shared_groups"]
                .map(String::from)
                .to_vec(),
        )
        .chain(page.peers.iter().map(|p| {
            vec![
                p.peer.clone(),
                p.sent.to_string(),
                p.received.to_string(),
                p.shared_groups.to_string(),
            ]
        }))
        .collect(),
        "groups" => std::iter::once(["group", "node", "members"].map(String::from).to_vec())
            .chain(page.groups.iter().flat_map(|g| {
                g.members
                    .iter()
                    .map(|(node, n)| vec![g.handle.clone(), node.clone(), n.to_string()])
            }))
            .collect(),
        _ => return None,
    };
    Some(
        rows.iter()
            .map(|r| r.iter().map(|f| field(f)).collect::<Vec<_>>().join(",") + "\r\n")
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_role_sees_its_pages() {
        use Page::*;
        let allowed = |r: Role| {
            Page::ALL
                .into_iter()
                .filter(|p| p.allows(r))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            allowed(Role::Admin),
            vec![Federation, Accounts, Announcements, Insights, Audit]
        );
        assert_eq!(allowed(Role::Moderator), vec![Accounts, Audit]);
        assert_eq!(allowed(Role::Communicator), vec![Announcements, Insights]);
        assert_eq!(allowed(Role::User), vec![]);
        assert_eq!(bar("x", 2, 3).percent, 66);
        assert_eq!(bar("x", 0, 0).percent, 0);
    }

    #[test]
    fn charts_scale_and_tables_quote() {
        let labels: Vec<String> = ["2026-11-16", "2026-11-23", "2026-11-30"]
            .map(String::from)
            .to_vec();
        let c = chart(vec![("active", vec![0, 5, 10])], &labels);
        assert_eq!(c.max, 10);
        assert_eq!(
            c.lines[0].points,
            format!("0,{CHART_H} 300,{} 600,0", CHART_H / 2)
        );
        let m = crate::convert::views::MatrixView {
            nodes: vec!["a".into(), "b".into()],
            reported: vec![true, false],
            cells: vec![vec![Some(10), None], vec![None, None]],
        };
        let rows = heat_map(&m, 5);
        assert_eq!(rows[0].cells[0].strength, 1.0);
        assert_eq!(rows[0].cells[1].shown, "<5");
        assert_eq!(rows[1].cells[0].shown, "–");
        let page = InsightsPage {
            week: "2026-11-30".into(),
            previous_week: String::new(),
            next_week: None,
            node: "a".into(),
            threshold: 5,
            weeks: vec![],
            chart: c,
            nodes: m.nodes.clone(),
            matrix: rows,
            hashtags: vec![],
            peers: vec![],
            groups: vec![GroupItem {
                name: "Design, \"UX\"".into(),
                handle: "design, ux".into(),
                members: vec![("a".into(), 3)],
                total: 3,
            }],
        };
        assert_eq!(
            insights_csv(&page, "matrix").unwrap(),
            "from \\ to,a,b\r\na,10,\r\nb,,\r\n"
        );
        assert_eq!(
            insights_csv(&page, "groups").unwrap(),
            "group,node,members\r\n\"design, ux\",a,3\r\n"
        );
        assert!(insights_csv(&page, "people").is_none());
    }
}
