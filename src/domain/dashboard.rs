//! The Mastodon admin dashboard API's figures: daily measures, breakdowns (dimensions),
//! retention cohorts and trends, computed from this node's tables for the range asked. Keys
//! Mastodon knows and fika does not are left out of the answer, as Mastodon does with keys it
//! does not know; reports are counted as zero (fika has no reports yet).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, TimeZone, Utc};

use super::{DomainError, Node};
use crate::convert::views::{AdminTagView, DimensionView, MeasureView, RetentionView, StatusView};
use crate::store::accounts::AccountRow;
use crate::store::insights::{Breakdown, Series};
use crate::store::now_millis;

const DAY_MS: i64 = 86_400_000;
/// The longest range asked for, in days.
const MAX_DAYS: i64 = 400;

/// A range of whole UTC days, `to` exclusive, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Days {
    pub from: i64,
    pub to: i64,
}

fn parse_day(name: &str, value: &str) -> Result<i64, DomainError> {
    let value = value.trim();
    let day = if let Ok(t) = chrono::DateTime::parse_from_rfc3339(value) {
        t.with_timezone(&Utc).date_naive()
    } else if let Ok(t) = chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f") {
        t.date()
    } else if let Ok(d) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        d
    } else {
        return Err(DomainError::Invalid(format!(
            "{name} must be a date (YYYY-MM-DD) or a date and time (RFC 3339)"
        )));
    };
    Ok(day
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
        .timestamp_millis())
}

/// `start_at` and `end_at` as Mastodon takes them: both days included.
pub fn days(start_at: Option<&str>, end_at: Option<&str>) -> Result<Days, DomainError> {
    let start = start_at
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| DomainError::Invalid("start_at is missing".into()))?;
    let end = end_at
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| DomainError::Invalid("end_at is missing".into()))?;
    let from = parse_day("start_at", start)?;
    let to = parse_day("end_at", end)? + DAY_MS;
    if to <= from {
        return Err(DomainError::Invalid(
            "end_at must not be before start_at".into(),
        ));
    }
    if (to - from) / DAY_MS > MAX_DAYS {
        return Err(DomainError::Invalid(format!(
            "the range may span at most {MAX_DAYS} days"
        )));
    }
    Ok(Days { from, to })
}

fn param<'a>(params: &'a BTreeMap<String, String>, key: &str) -> Result<&'a str, DomainError> {
    params
        .get(key)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            DomainError::Invalid(format!("{key} needs its parameter (an id or a domain)"))
        })
}

fn tag_id(params: &BTreeMap<String, String>, key: &str) -> Result<i64, DomainError> {
    param(params, key)?
        .parse()
        .map_err(|_| DomainError::Invalid(format!("{key}: the tag id must be a number")))
}

fn domain_param(params: &BTreeMap<String, String>, key: &str) -> Result<String, DomainError> {
    Ok(param(params, key)?.to_ascii_lowercase())
}

/// Every day of the range with its value (zero where there was none).
fn fill(range: Days, values: &[(i64, i64)]) -> Vec<(i64, i64)> {
    let by_day: BTreeMap<i64, i64> = values.iter().copied().collect();
    (range.from / DAY_MS..range.to / DAY_MS)
        .map(|d| (d * DAY_MS, by_day.get(&d).copied().unwrap_or(0)))
        .collect()
}

/// Bytes as people read them.
pub fn human_bytes(n: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// The measures asked for (`keys`), with `params` holding each parameterised key's tag id or
/// domain. Unknown keys are left out.
pub async fn measures(
    node: &Node,
    keys: &[String],
    range: Days,
    params: &BTreeMap<String, String>,
) -> Result<Vec<MeasureView>, DomainError> {
    let mut out = Vec::new();
    let previous = Days {
        from: range.from - (range.to - range.from),
        to: range.from,
    };
    for key in keys {
        let (series, with_previous) = match key.as_str() {
            "active_users" => (Some(Series::ActiveUsers), true),
            "new_users" => (Some(Series::NewUsers), true),
            "interactions" => (Some(Series::Interactions), true),
            "opened_reports" | "resolved_reports" => (None, true),
            "tag_accounts" => (Some(Series::TagAccounts(tag_id(params, key)?)), false),
            "tag_uses" => (Some(Series::TagUses(tag_id(params, key)?)), false),
            "tag_servers" => (Some(Series::TagServers(tag_id(params, key)?)), false),
            "instance_accounts" => (
                Some(Series::InstanceAccounts(domain_param(params, key)?)),
                false,
            ),
            "instance_statuses" => (
                Some(Series::InstanceStatuses(domain_param(params, key)?)),
                false,
            ),
            "instance_follows" => (
                Some(Series::InstanceFollows(domain_param(params, key)?)),
                false,
            ),
            "instance_followers" => (
                Some(Series::InstanceFollowers(domain_param(params, key)?)),
                false,
            ),
            "instance_media_attachments" => (
                Some(Series::InstanceMedia(domain_param(params, key)?)),
                false,
            ),
            "instance_reports" => {
                domain_param(params, key)?;
                (None, false)
            }
            other => {
                tracing::debug!(key = other, "unknown dashboard measure left out");
                continue;
            }
        };
        let (values, total, previous_total) = match &series {
            Some(s) => {
                let (values, total) = node.store.series(s, range.from, range.to).await?;
                let previous_total = if with_previous {
                    Some(node.store.series(s, previous.from, previous.to).await?.1)
                } else {
                    None
                };
                (values, total, previous_total)
            }
            None => (vec![], 0, with_previous.then_some(0)),
        };
        let bytes = matches!(series, Some(Series::InstanceMedia(_)));
        out.push(MeasureView {
            key: key.clone(),
            unit: bytes.then(|| "bytes".to_string()),
            total,
            human_value: bytes.then(|| human_bytes(total)),
            previous_total,
            data: fill(range, &values),
        });
    }
    Ok(out)
}

/// Language names for the codes staff use most; others show as their code.
fn language_name(code: &str) -> String {
    let name = match code {
        "" => "Unknown",
        "en" => "English",
        "de" => "German",
        "fr" => "French",
        "es" => "Spanish",
        "sv" => "Swedish",
        "it" => "Italian",
        "nl" => "Dutch",
        "pt" => "Portuguese",
        "da" => "Danish",
        "fi" => "Finnish",
        "nb" | "no" => "Norwegian",
        "pl" => "Polish",
        "cs" => "Czech",
        "ja" => "Japanese",
        "zh" => "Chinese",
        "ko" => "Korean",
        "ru" => "Russian",
        "uk" => "Ukrainian",
        "tr" => "Turkish",
        "ar" => "Arabic",
        "hi" => "Hindi",
        other => return other.to_string(),
    };
    name.to_string()
}

/// The dimensions asked for; `limit` items each at most.
pub async fn dimensions(
    node: &Node,
    keys: &[String],
    range: Days,
    limit: i64,
    params: &BTreeMap<String, String>,
) -> Result<Vec<DimensionView>, DomainError> {
    let limit = limit.clamp(1, 100);
    let mut out = Vec::new();
    for key in keys {
        let (breakdown, languages) = match key.as_str() {
            "languages" => (Breakdown::Languages, true),
            "sources" => (Breakdown::Sources, false),
            "servers" => (Breakdown::Servers, false),
            "tag_servers" => (Breakdown::TagServers(tag_id(params, key)?), false),
            "tag_languages" => (Breakdown::TagLanguages(tag_id(params, key)?), true),
            "instance_accounts" => (
                Breakdown::InstanceAccounts(domain_param(params, key)?),
                false,
            ),
            "instance_languages" => (
                Breakdown::InstanceLanguages(domain_param(params, key)?),
                true,
            ),
            "space_usage" => {
                let (db, media) = node.store.space_usage().await?;
                let (engine, _) = node.store.engine_version().await?;
                let human = if engine == "sqlite" {
                    "SQLite"
                } else {
                    "PostgreSQL"
                };
                out.push(DimensionView {
                    key: key.clone(),
                    data: vec![
                        (
                            engine.to_string(),
                            human.to_string(),
                            db,
                            Some(human_bytes(db)),
                        ),
                        (
                            "media".into(),
                            "Media files".into(),
                            media,
                            Some(human_bytes(media)),
                        ),
                    ],
                    unit: Some("bytes".into()),
                    text_values: vec![],
                });
                continue;
            }
            "software_versions" => {
                let (engine, version) = node.store.engine_version().await?;
                let human = if engine == "sqlite" {
                    "SQLite"
                } else {
                    "PostgreSQL"
                };
                out.push(DimensionView {
                    key: key.clone(),
                    data: vec![],
                    unit: None,
                    text_values: vec![
                        (
                            "fika".into(),
                            "fika".into(),
                            env!("CARGO_PKG_VERSION").into(),
                        ),
                        (engine.into(), human.into(), version),
                    ],
                });
                continue;
            }
            other => {
                tracing::debug!(key = other, "unknown dashboard dimension left out");
                continue;
            }
        };
        let rows = node
            .store
            .breakdown(&breakdown, range.from, range.to, limit)
            .await?;
        out.push(DimensionView {
            key: key.clone(),
            data: rows
                .into_iter()
                .map(|(k, n)| {
                    let human = if languages {
                        language_name(&k)
                    } else if k.is_empty() {
                        "Unknown".to_string()
                    } else {
                        k.clone()
                    };
                    (k, human, n, None)
                })
                .collect(),
            unit: None,
            text_values: vec![],
        });
    }
    Ok(out)
}

/// The start of the period holding `ms`.
fn period_start(ms: i64, monthly: bool) -> i64 {
    if !monthly {
        return ms.div_euclid(DAY_MS) * DAY_MS;
    }
    let t = Utc.timestamp_millis_opt(ms).single().unwrap_or_default();
    Utc.with_ymd_and_hms(t.year(), t.month(), 1, 0, 0, 0)
        .single()
        .map(|t| t.timestamp_millis())
        .unwrap_or(ms)
}

fn next_period(start: i64, monthly: bool) -> i64 {
    if !monthly {
        return start + DAY_MS;
    }
    let t = Utc.timestamp_millis_opt(start).single().unwrap_or_default();
    let (y, m) = if t.month() == 12 {
        (t.year() + 1, 1)
    } else {
        (t.year(), t.month() + 1)
    };
    Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0)
        .single()
        .map(|t| t.timestamp_millis())
        .unwrap_or(start + 31 * DAY_MS)
}

/// Cohorts of people who joined in each period of the range, and for each later period up to
/// the range's end how many of them were active in it (joining counts as being active).
pub async fn retention(
    node: &Node,
    range: Days,
    frequency: &str,
) -> Result<Vec<RetentionView>, DomainError> {
    let monthly = match frequency {
        "day" | "" => false,
        "month" => true,
        other => {
            return Err(DomainError::Invalid(format!(
                "frequency must be day or month, not {other:?}"
            )))
        }
    };
    let start = period_start(range.from, monthly);
    let end = range.to;
    let rows = node.store.cohort_activity(start, range.to).await?;
    let mut periods = vec![start];
    while let Some(&last) = periods.last() {
        let next = next_period(last, monthly);
        if next >= end {
            break;
        }
        periods.push(next);
    }
    // cohort period → member → periods active
    let mut cohorts: BTreeMap<i64, BTreeMap<i64, std::collections::BTreeSet<i64>>> =
        BTreeMap::new();
    for (account, joined, day) in rows {
        let cohort = period_start(joined, monthly);
        let active = cohorts
            .entry(cohort)
            .or_default()
            .entry(account)
            .or_default();
        active.insert(cohort);
        if let Some(day) = day {
            active.insert(period_start(day * DAY_MS, monthly));
        }
    }
    Ok(periods
        .iter()
        .map(|&cohort| {
            let members = cohorts.get(&cohort);
            let size = members.map_or(0, |m| m.len() as i64);
            let data = periods
                .iter()
                .filter(|&&p| p >= cohort)
                .map(|&p| {
                    let value = members.map_or(0, |m| {
                        m.values().filter(|active| active.contains(&p)).count() as i64
                    });
                    let rate = if size == 0 {
                        0.0
                    } else {
                        value as f64 / size as f64
                    };
                    (p, rate, value)
                })
                .collect();
            RetentionView {
                period: cohort,
                frequency: if monthly { "month" } else { "day" }.into(),
                data,
            }
        })
        .collect())
}

/// Hashtags most used in public statuses over the last week, with their history.
pub async fn trending_tags(
    node: &Node,
    viewer: &AccountRow,
    limit: i64,
) -> Result<Vec<AdminTagView>, DomainError> {
    let since = now_millis() - 7 * DAY_MS;
    let mut out = Vec::new();
    for (id, display) in node.store.trending_tags(since, limit.clamp(1, 40)).await? {
        out.push(AdminTagView {
            id,
            tag: super::tags::get(node, viewer, &display).await?,
        });
    }
    Ok(out)
}

/// Public statuses with the most favourites and boosts over the last week.
pub async fn trending_statuses(
    node: &Node,
    viewer: &AccountRow,
    limit: i64,
) -> Result<Vec<StatusView>, DomainError> {
    let since = now_millis() - 7 * DAY_MS;
    let ids = node
        .store
        .trending_status_ids(since, limit.clamp(1, 40))
        .await?;
    let mut views = super::statuses::views(node, Some(viewer), &ids).await?;
    // In trend order, not id order.
    views.sort_by_key(|v| ids.iter().position(|i| *i == v.row.id));
    Ok(views)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_include_both_days_and_bad_ones_are_refused() {
        let r = days(Some("2026-11-01T00:00:00+00:00"), Some("2026-11-07")).unwrap();
        assert_eq!((r.to - r.from) / DAY_MS, 7);
        assert_eq!(fill(r, &[(r.from / DAY_MS + 1, 3)]).len(), 7);
        assert_eq!(fill(r, &[(r.from / DAY_MS + 1, 3)])[1].1, 3);
        assert!(days(None, Some("2026-11-07")).is_err());
        assert!(days(Some("2026-11-08"), Some("2026-11-07")).is_err());
        assert!(days(Some("yesterday"), Some("2026-11-07")).is_err());
        assert!(days(Some("2020-01-01"), Some("2026-11-07")).is_err());
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KB");
    }

    #[test]
    fn months_advance_across_the_year() {
        let dec = parse_day("x", "2026-12-15").unwrap();
        let start = period_start(dec, true);
        assert_eq!(start, parse_day("x", "2026-12-01").unwrap());
        assert_eq!(
            next_period(start, true),
            parse_day("x", "2027-01-01").unwrap()
        );
    }
}
