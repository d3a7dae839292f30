//! Insights for the people who run the network: is it breaking silos? Each node computes its
//! own weekly figures from its own tables (who was active, interactions between its users and
//! each other node's users in both directions, hashtags, groups spanning nodes) and shares with
//! its `org` peers only aggregates (`fika_federation::insights`), with small counts left out.
//! From its own figures and its peers' aggregates every `org` node shows the same node × node
//! matrix of the organisation; a `partner` is sent nothing and heard from on nothing.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Mutex;

use fika_federation::insights::{self as wire, HashtagUse, PeerInteractions, WeeklyAggregates};
use fika_federation::policy::Tier;
use fika_federation::protocol::{Activity, ActivityKind, Object};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{DomainError, Node};
use crate::convert::views::{CrossNodeGroup, InsightsView, MatrixView, RisingTag, WeekSummary};
use crate::store::accounts::AccountRow;
use crate::store::now_millis;

pub const DAY_MS: i64 = 86_400_000;
pub const WEEK_MS: i64 = 7 * DAY_MS;
/// Weeks kept in view, shared with peers and recomputed when missing.
pub const WEEKS: i64 = 12;
/// Hashtags kept per week.
const HASHTAGS: i64 = 200;

/// The Monday 00:00 UTC that starts the week holding `ms` (the epoch was a Thursday).
pub fn week_start(ms: i64) -> i64 {
    (ms - 4 * DAY_MS).div_euclid(WEEK_MS) * WEEK_MS + 4 * DAY_MS
}

/// A week's Monday as `YYYY-MM-DD`.
pub fn week_label(week: i64) -> String {
    chrono::DateTime::from_timestamp_millis(week)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// The week a `YYYY-MM-DD` names, if it is a Monday.
pub fn parse_week(label: &str) -> Option<i64> {
    let day = chrono::NaiveDate::parse_from_str(label, "%Y-%m-%d").ok()?;
    let ms = day.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis();
    (week_start(ms) == ms).then_some(ms)
}

// ---------------------------------------------------------------------------------------------
// Active users

/// The accounts this process has already noted as active today, so a request writes at most
/// once per account and day.
#[derive(Default)]
pub struct ActivitySeen {
    today: Mutex<(i64, HashSet<i64>)>,
}

impl ActivitySeen {
    /// Whether `account` is new for `day` in this process (and notes it).
    fn first(&self, account: i64, day: i64) -> bool {
        let mut seen = self.today.lock().unwrap_or_else(|p| p.into_inner());
        if seen.0 != day {
            *seen = (day, HashSet::new());
        }
        seen.1.insert(account)
    }

    fn forget(&self, account: i64) {
        self.today
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .1
            .remove(&account);
    }
}

/// Notes that a local account used the node today. A failure is logged, never the request's.
pub async fn note_activity(node: &Node, account: &AccountRow) {
    if !account.domain.is_empty() {
        return;
    }
    let day = now_millis().div_euclid(DAY_MS);
    if !node.activity.first(account.id, day) {
        return;
    }
    if let Err(e) = node.store.record_activity(account.id, day).await {
        node.activity.forget(account.id);
        tracing::warn!(account = account.id, error = %e, "cannot note account activity");
    }
}

// ---------------------------------------------------------------------------------------------
// A week's figures

/// Interactions with one node's people (this node's own domain: among this node's people).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerFigures {
    /// By this node's people towards that node's.
    pub sent: i64,
    /// By that node's people towards this node's.
    pub received: i64,
    /// Groups hosted here with members of both nodes.
    pub shared_groups: i64,
}

/// This node's exact figures for one week (kept here; what leaves is [`report`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeekFigures {
    pub active_users: i64,
    pub cross_node_active_users: i64,
    /// By node domain, this node's own included.
    pub peers: BTreeMap<String, PeerFigures>,
    /// (name, statuses, accounts), most used first.
    pub hashtags: Vec<(String, i64, i64)>,
}

impl WeekFigures {
    pub fn interactions_inside(&self, own: &str) -> i64 {
        self.peers.get(own).map_or(0, |p| p.sent)
    }

    /// Interactions with other nodes' people, both ways.
    pub fn interactions_across(&self, own: &str) -> i64 {
        self.peers
            .iter()
            .filter(|(d, _)| d.as_str() != own)
            .map(|(_, p)| p.sent + p.received)
            .sum()
    }
}

/// Folds (actor's domain, target's domain, count) pairs (`''`: this node) into per-node
/// figures: rules testable without a database.
pub fn fold_pairs(own: &str, pairs: &[(String, String, i64)]) -> BTreeMap<String, PeerFigures> {
    let mut peers: BTreeMap<String, PeerFigures> = BTreeMap::new();
    for (actor, target, n) in pairs {
        match (actor.is_empty(), target.is_empty()) {
            (true, true) => {
                let p = peers.entry(own.to_string()).or_default();
                p.sent += n;
                p.received += n;
            }
            (true, false) => peers.entry(target.clone()).or_default().sent += n,
            (false, true) => peers.entry(actor.clone()).or_default().received += n,
            (false, false) => {}
        }
    }
    peers
}

/// Computes one week from the tables (ids are time-ordered: each kind is one range scan).
pub async fn compute_week(node: &Node, week: i64) -> Result<WeekFigures, DomainError> {
    let own = node.urls.domain.to_ascii_lowercase();
    let lo = crate::ids::id_floor_for_millis(week);
    let hi = crate::ids::id_floor_for_millis(week + WEEK_MS);
    let (from_day, to_day) = (week / DAY_MS, (week + WEEK_MS) / DAY_MS);
    let store = &node.store;
    let mut peers = fold_pairs(&own, &store.interaction_pairs(lo, hi).await?);
    let mut shared: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    let spans = store.group_spans().await?;
    let with_local: HashSet<i64> = spans
        .iter()
        .filter(|s| s.domain.is_empty())
        .map(|s| s.group_id)
        .collect();
    for s in spans.iter().filter(|s| !s.domain.is_empty()) {
        if with_local.contains(&s.group_id) {
            shared
                .entry(s.domain.clone())
                .or_default()
                .insert(s.group_id);
        }
    }
    for (domain, groups) in shared {
        peers.entry(domain).or_default().shared_groups = groups.len() as i64;
    }
    Ok(WeekFigures {
        active_users: store.active_accounts(from_day, to_day).await?,
        cross_node_active_users: store.cross_node_active(lo, hi, from_day, to_day).await?,
        peers,
        hashtags: store.hashtag_use(lo, hi, HASHTAGS).await?,
    })
}

/// What this node tells its `org` peers about a week: counts only, each below `threshold` left
/// out, interactions with `org` nodes only (`nodes`, this one included), hashtags used by at
/// least `threshold` people at least `threshold` times.
pub fn report(
    actor: &str,
    id: &str,
    week: i64,
    figures: &WeekFigures,
    threshold: i64,
    nodes: &[String],
    updated: i64,
) -> WeeklyAggregates {
    let keep = |n: i64| wire::suppress(n, threshold);
    WeeklyAggregates {
        context: Some(wire::context()),
        id: id.to_string(),
        kind: wire::WEEKLY_AGGREGATES.into(),
        attributed_to: actor.to_string(),
        week: week_label(week),
        threshold,
        active_users: keep(figures.active_users),
        cross_node_active_users: keep(figures.cross_node_active_users),
        interactions: nodes
            .iter()
            .filter_map(|n| {
                let p = figures.peers.get(n)?;
                let entry = PeerInteractions {
                    peer: n.clone(),
                    sent: keep(p.sent),
                    received: keep(p.received),
                    shared_groups: keep(p.shared_groups),
                };
                (entry.sent.is_some() || entry.received.is_some() || entry.shared_groups.is_some())
                    .then_some(entry)
            })
            .collect(),
        hashtags: figures
            .hashtags
            .iter()
            .filter(|(_, uses, accounts)| *uses >= threshold && *accounts >= threshold)
            .map(|(name, uses, accounts)| HashtagUse {
                name: name.clone(),
                uses: *uses,
                accounts: *accounts,
            })
            .collect(),
        updated: chrono::DateTime::from_timestamp_millis(updated)
            .unwrap_or_default()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    }
}

fn report_id(node: &Node, week: i64) -> String {
    format!(
        "{}/insights/weeks/{}",
        node.urls.base.as_str().trim_end_matches('/'),
        week_label(week)
    )
}

/// The `org` nodes the matrix spans: this one first, then its `org` peers.
fn org_nodes(node: &Node) -> Vec<String> {
    let mut nodes = vec![node.urls.domain.to_ascii_lowercase()];
    let mut peers = super::federation::outbound::org_peers(node);
    peers.sort();
    nodes.extend(peers);
    nodes
}

/// This node's own aggregates for a week, as its peers get them.
fn own_report(node: &Node, week: i64, figures: &WeekFigures, at: i64) -> WeeklyAggregates {
    report(
        node.urls.node_actor().as_str(),
        &report_id(node, week),
        week,
        figures,
        node.config.insights.threshold,
        &org_nodes(node),
        at,
    )
}

// ---------------------------------------------------------------------------------------------
// Background work (`jobs::insights`)

/// Recomputes the weeks that may still change (this one, and the last one for a day after it
/// ended, as late activities arrive) and any of the last [`WEEKS`] never computed; then shares
/// with each `org` peer what changed since it last got it. (weeks computed, documents sent).
pub async fn refresh(node: &Node) -> Result<(usize, usize), DomainError> {
    let now = now_millis();
    let this_week = week_start(now);
    let first = this_week - (WEEKS - 1) * WEEK_MS;
    let held: BTreeMap<i64, (String, i64)> = node
        .store
        .insight_weeks(first)
        .await?
        .into_iter()
        .map(|(w, f, at)| (w, (f, at)))
        .collect();
    let mut computed = 0;
    for back in 0..WEEKS {
        let week = this_week - back * WEEK_MS;
        // Settled once computed a day after the week ended (late activities are in by then).
        if held
            .get(&week)
            .is_some_and(|(_, at)| *at >= week + WEEK_MS + DAY_MS)
        {
            continue;
        }
        let figures = compute_week(node, week).await?;
        let json =
            serde_json::to_string(&figures).map_err(|e| DomainError::Internal(e.to_string()))?;
        node.store.save_insight_week(week, &json).await?;
        computed += 1;
    }
    let sent = if node.config.insights.share {
        share(node, first).await?
    } else {
        0
    };
    Ok((computed, sent))
}

/// Computes and keeps one week now (default: this one): the CLI's `fika admin insights`.
pub async fn recompute(node: &Node, week: Option<&str>) -> Result<(i64, WeekFigures), DomainError> {
    let week = match week {
        Some(label) => parse_week(label).ok_or_else(|| {
            DomainError::Invalid(format!("{label} is not the Monday of a week (YYYY-MM-DD)"))
        })?,
        None => week_start(now_millis()),
    };
    let figures = compute_week(node, week).await?;
    let json = serde_json::to_string(&figures).map_err(|e| DomainError::Internal(e.to_string()))?;
    node.store.save_insight_week(week, &json).await?;
    Ok((week, figures))
}

fn digest(doc: &WeeklyAggregates) -> String {
    // Everything but the time of computing: a week recomputed unchanged is not sent again.
    let mut v = serde_json::to_value(doc).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.remove("updated");
    }
    let bytes = v.to_string();
    let hash = openssl::sha::sha256(bytes.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// Sends each `org` peer the weeks whose document changed since it last got them.
async fn share(node: &Node, first: i64) -> Result<usize, DomainError> {
    let inboxes = super::federation::outbound::org_peer_inboxes(node).await?;
    if inboxes.is_empty() {
        return Ok(0);
    }
    let sends: HashSet<(String, i64, String)> =
        node.store.insight_sends(first).await?.into_iter().collect();
    let weeks = node.store.insight_weeks(first).await?;
    let mut sent = 0;
    for (peer, inbox) in inboxes {
        for (week, figures, at) in &weeks {
            let Ok(figures) = serde_json::from_str::<WeekFigures>(figures) else {
                continue;
            };
            let doc = own_report(node, *week, &figures, *at);
            let digest = digest(&doc);
            if sends.contains(&(peer.clone(), *week, digest.clone())) {
                continue;
            }
            let first_time = !sends.iter().any(|(p, w, _)| *p == peer && w == week);
            let kind = if first_time {
                ActivityKind::Create
            } else {
                ActivityKind::Update
            };
            let mut activity = Activity::new(
                kind,
                format!("{}#{}-{}", doc.id, &digest[..16], now_millis()),
                node.urls.node_actor().to_string(),
                Object::WeeklyAggregates(Box::new(doc)),
            );
            activity.context = Some(wire::context());
            let body = activity.to_json().to_string();
            match node
                .fed
                .net
                .post(&inbox, body.as_bytes(), &node.fed.node_signer)
                .await
            {
                Ok(()) => {
                    node.store
                        .record_insight_send(&peer, *week, &digest)
                        .await?;
                    sent += 1;
                }
                Err(e) => {
                    // Tried again at the next refresh; the other weeks for this peer wait too.
                    tracing::info!(peer = %peer, week = %week_label(*week), error = %e, "weekly aggregates not sent; trying again later");
                    break;
                }
            }
        }
    }
    Ok(sent)
}

// ---------------------------------------------------------------------------------------------
// From peers

pub fn is_insights_object(kind: Option<&str>) -> bool {
    kind == Some(wire::WEEKLY_AGGREGATES)
}

/// Refuses what cannot be a peer's weekly aggregates from `actor` before it is queued (the
/// receiver's own threshold is applied in [`receive`]).
pub fn check(object: &Value, actor: &str) -> Result<(), DomainError> {
    let doc = wire::parse(object, 1).map_err(|e| DomainError::Invalid(e.to_string()))?;
    if doc.attributed_to != actor {
        return Err(DomainError::Invalid(
            "weekly aggregates attributed to someone else".into(),
        ));
    }
    Ok(())
}

fn host_of(url: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()
        .and_then(|u| fika_federation::policy::url_domain(&u))
}

/// A Create or Update of a peer's weekly aggregates: kept when the peer is an `org` peer and
/// the document is its own, refused otherwise (a partner's figures have no place here).
pub async fn receive(node: &Node, signer: &AccountRow, object: &Value) -> Result<(), DomainError> {
    let peer = signer.domain.to_ascii_lowercase();
    if node.fed.net.tier(&peer) != Some(Tier::Org) {
        return Err(DomainError::Forbidden(format!(
            "weekly aggregates from {peer}, which is not an org peer"
        )));
    }
    let doc = wire::parse(object, node.config.insights.threshold)
        .map_err(|e| DomainError::Invalid(e.to_string()))?;
    if host_of(&doc.id).as_deref() != Some(peer.as_str())
        || host_of(&doc.attributed_to).as_deref() != Some(peer.as_str())
    {
        return Err(DomainError::Invalid(format!(
            "weekly aggregates {} are not {peer}'s",
            doc.id
        )));
    }
    let week = parse_week(&doc.week).ok_or_else(|| {
        DomainError::Invalid(format!("week {} does not start on a Monday", doc.week))
    })?;
    if week > week_start(now_millis()) {
        return Err(DomainError::Invalid(format!(
            "week {} has not started",
            doc.week
        )));
    }
    // Kept as received: what the console shows is exactly what crossed the wire.
    node.store
        .save_insight_report(&peer, week, &object.to_string())
        .await?;
    tracing::info!(peer = %peer, week = %doc.week, "weekly aggregates received");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// What the console shows

/// Rising hashtags across the organisation: this week's uses over every node's aggregates
/// against last week's, with the nodes using each.
pub fn rising(this: &[&WeeklyAggregates], last: &[&WeeklyAggregates]) -> Vec<RisingTag> {
    let mut tags: BTreeMap<String, RisingTag> = BTreeMap::new();
    for doc in this {
        let node = host_of(&doc.attributed_to).unwrap_or_default();
        for t in &doc.hashtags {
            let e = tags.entry(t.name.clone()).or_insert_with(|| RisingTag {
                name: t.name.clone(),
                ..Default::default()
            });
            e.uses += t.uses;
            e.accounts += t.accounts;
            e.nodes.push(node.clone());
        }
    }
    for doc in last {
        for t in &doc.hashtags {
            if let Some(e) = tags.get_mut(&t.name) {
                e.previous_uses += t.uses;
            }
        }
    }
    let mut out: Vec<RisingTag> = tags.into_values().collect();
    out.sort_by(|a, b| {
        (b.uses - b.previous_uses, b.nodes.len(), b.uses)
            .cmp(&(a.uses - a.previous_uses, a.nodes.len(), a.uses))
            .then(a.name.cmp(&b.name))
    });
    out
}

/// The matrix from every `org` node's aggregates for one week: row = the reporting node,
/// column = the node its people interacted with, cell = `sent` as the row reported it (absent:
/// no report, or fewer than the threshold).
pub fn matrix(nodes: &[String], reports: &BTreeMap<String, WeeklyAggregates>) -> MatrixView {
    let cells = nodes
        .iter()
        .map(|row| {
            let doc = reports.get(row);
            nodes
                .iter()
                .map(|col| {
                    doc.and_then(|d| d.interactions.iter().find(|p| &p.peer == col))
                        .and_then(|p| p.sent)
                })
                .collect()
        })
        .collect();
    MatrixView {
        nodes: nodes.to_vec(),
        reported: nodes.iter().map(|n| reports.contains_key(n)).collect(),
        cells,
    }
}

/// The insights page: this node's weekly figures (exact: they are its own), the
/// organisation's matrix and rising hashtags for `week` (default: the current one) from every
/// `org` node's aggregates, and the groups hosted here whose members span nodes.
pub async fn overview(node: &Node, week: Option<&str>) -> Result<InsightsView, DomainError> {
    let now = now_millis();
    let this_week = week_start(now);
    let week = match week.filter(|w| !w.is_empty()) {
        Some(label) => parse_week(label).ok_or_else(|| {
            DomainError::Invalid(format!("{label} is not the Monday of a week (YYYY-MM-DD)"))
        })?,
        None => this_week,
    };
    let first = this_week - (WEEKS - 1) * WEEK_MS;
    let own = node.urls.domain.to_ascii_lowercase();
    let rows = node.store.insight_weeks(first.min(week - WEEK_MS)).await?;
    let mine: BTreeMap<i64, (WeekFigures, i64)> = rows
        .into_iter()
        .filter_map(|(w, f, at)| Some((w, (serde_json::from_str(&f).ok()?, at))))
        .collect();
    let weeks = (0..WEEKS)
        .rev()
        .map(|back| {
            let w = this_week - back * WEEK_MS;
            let f = mine.get(&w).map(|(f, _)| f.clone()).unwrap_or_default();
            WeekSummary {
                week: w,
                label: week_label(w),
                active_users: f.active_users,
                cross_node_active_users: f.cross_node_active_users,
                inside: f.interactions_inside(&own),
                across: f.interactions_across(&own),
                peers: f
                    .peers
                    .iter()
                    .filter(|(d, _)| **d != own)
                    .map(|(d, p)| (d.clone(), p.sent, p.received, p.shared_groups))
                    .collect(),
            }
        })
        .collect();
    let nodes = org_nodes(node);
    let mut this: BTreeMap<String, WeeklyAggregates> = BTreeMap::new();
    let mut last: BTreeMap<String, WeeklyAggregates> = BTreeMap::new();
    for (w, (f, at)) in &mine {
        if *w == week {
            this.insert(own.clone(), own_report(node, *w, f, *at));
        } else if *w == week - WEEK_MS {
            last.insert(own.clone(), own_report(node, *w, f, *at));
        }
    }
    for (peer, w, doc) in node.store.insight_reports(week - WEEK_MS).await? {
        if !nodes.contains(&peer) || (w != week && w != week - WEEK_MS) {
            continue;
        }
        let Ok(value) = serde_json::from_str::<Value>(&doc) else {
            continue;
        };
        let Ok(doc) = wire::parse(&value, 1) else {
            continue;
        };
        if w == week {
            this.insert(peer, doc);
        } else {
            last.insert(peer, doc);
        }
    }
    let rising = rising(
        &this.values().collect::<Vec<_>>(),
        &last.values().collect::<Vec<_>>(),
    );
    let mut groups: BTreeMap<i64, CrossNodeGroup> = BTreeMap::new();
    for s in node.store.group_spans().await? {
        let g = groups.entry(s.group_id).or_insert_with(|| CrossNodeGroup {
            username: s.username.clone(),
            display_name: s.display_name.clone(),
            members: vec![],
        });
        let domain = if s.domain.is_empty() {
            own.clone()
        } else {
            s.domain.clone()
        };
        g.members.push((domain, s.members));
    }
    Ok(InsightsView {
        week,
        label: week_label(week),
        own,
        threshold: node.config.insights.threshold,
        weeks,
        matrix: matrix(&nodes, &this),
        rising,
        groups: groups
            .into_values()
            .filter(|g| g.members.len() > 1)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday() {
        // 2026-12-03 is a Thursday; its week began on Monday 2026-11-30.
        let thursday = chrono::NaiveDate::from_ymd_opt(2026, 12, 3)
            .unwrap()
            .and_hms_opt(15, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        let monday = week_start(thursday);
        assert_eq!(week_label(monday), "2026-11-30");
        assert_eq!(parse_week("2026-11-30"), Some(monday));
        assert_eq!(parse_week("2026-12-01"), None, "a Tuesday");
        assert_eq!(week_start(monday), monday);
        assert_eq!(week_start(monday - 1), monday - WEEK_MS);
    }

    #[test]
    fn pairs_fold_into_both_directions_and_suppression_hides_small_counts() {
        let pairs = vec![
            ("".into(), "".into(), 4),
            ("".into(), "b.example".into(), 7),
            ("b.example".into(), "".into(), 2),
            ("".into(), "p.example".into(), 9),
        ];
        let peers = fold_pairs("a.example", &pairs);
        assert_eq!(peers["a.example"].sent, 4);
        assert_eq!(peers["b.example"].sent, 7);
        assert_eq!(peers["b.example"].received, 2);
        let figures = WeekFigures {
            active_users: 12,
            cross_node_active_users: 3,
            peers,
            hashtags: vec![("rust".into(), 9, 5), ("secret".into(), 20, 2)],
        };
        let nodes = vec!["a.example".to_string(), "b.example".to_string()];
        let doc = report(
            "https://a.example/actor",
            "https://a.example/insights/weeks/2026-11-30",
            parse_week("2026-11-30").unwrap(),
            &figures,
            5,
            &nodes,
            0,
        );
        assert_eq!(doc.active_users, Some(12));
        assert_eq!(doc.cross_node_active_users, None);
        // The partner is not an org node: left out. a.example's 4 is below the threshold.
        assert_eq!(doc.interactions.len(), 1);
        assert_eq!(doc.interactions[0].peer, "b.example");
        assert_eq!(doc.interactions[0].sent, Some(7));
        assert_eq!(doc.interactions[0].received, None);
        // Used often but by two people: left out.
        assert_eq!(doc.hashtags.len(), 1);
        assert_eq!(doc.hashtags[0].name, "rust");
        let v = serde_json::to_value(&doc).unwrap();
        assert_eq!(wire::parse(&v, 5).unwrap(), doc);

        let m = matrix(&nodes, &BTreeMap::from([("a.example".to_string(), doc)]));
        assert_eq!(m.cells[0], vec![None, Some(7)]);
        assert_eq!(m.reported, vec![true, false]);
    }
}
