//! Scheduled statuses (Mastodon's `scheduled_at`): what the app sent is kept, checked as a
//! post would be, and posted by the job in `jobs/scheduled.rs` once its time has come. The
//! post carries the idempotency key `scheduled:<id>`, so a node stopped between posting and
//! removing the row posts it once, when it starts again.

use super::audience::{Locality, Scope};
use super::statuses::{self, AppInfo, PostInput};
use super::{DomainError, Node};
use crate::convert::views::{ScheduledParams as Params, ScheduledView};
use crate::store::accounts::AccountRow;
use crate::store::now_millis;
use crate::store::scheduled::ScheduledRow;
use crate::store::statuses::Page;

/// Mastodon's limit on statuses waiting to be posted.
pub const MAX_SCHEDULED: i64 = 300;

/// What is kept of a post to make later.
pub fn params_of(input: &PostInput) -> Params {
    Params {
        text: input.text.clone(),
        spoiler_text: input.spoiler_text.clone(),
        sensitive: input.sensitive,
        visibility: input.visibility.map(|v| v.as_str().to_string()),
        local_only: input.locality.map(|l| l == Locality::LocalOnly),
        language: input.language.clone(),
        in_reply_to_id: input.in_reply_to_id,
        media_ids: input.media_ids.clone(),
        poll: input.poll.clone(),
    }
}

/// The post to make for scheduled status `id`.
pub fn input_of(p: &Params, id: i64) -> PostInput {
    PostInput {
        text: p.text.clone(),
        spoiler_text: p.spoiler_text.clone(),
        sensitive: p.sensitive,
        visibility: p
            .visibility
            .as_deref()
            .and_then(|v| v.parse::<Scope>().ok()),
        locality: p.local_only.map(|l| {
            if l {
                Locality::LocalOnly
            } else {
                Locality::Federated
            }
        }),
        language: p.language.clone(),
        in_reply_to_id: p.in_reply_to_id,
        media_ids: p.media_ids.clone(),
        poll: p.poll.clone(),
        idempotency_key: Some(format!("scheduled:{id}")),
    }
}

/// When a status asked for `at` (RFC 3339) may be posted: at least `lead_seconds` ahead.
pub fn parse_time(at: &str, now: i64, lead_seconds: u64) -> Result<i64, DomainError> {
    let when = chrono::DateTime::parse_from_rfc3339(at.trim())
        .map_err(|_| DomainError::Invalid(format!("scheduled_at {at:?} is not a date and time")))?
        .timestamp_millis();
    if when < now + lead_seconds as i64 * 1000 {
        return Err(DomainError::Invalid(format!(
            "Scheduled at The scheduled date must be at least {} minutes in the future",
            lead_seconds.div_ceil(60)
        )));
    }
    Ok(when)
}

fn params_of_row(row: &ScheduledRow) -> Result<Params, DomainError> {
    serde_json::from_str(&row.params)
        .map_err(|e| DomainError::Internal(format!("scheduled status {}: {e}", row.id)))
}

async fn view(node: &Node, row: ScheduledRow) -> Result<ScheduledView, DomainError> {
    let params = params_of_row(&row)?;
    let media = node.store.media_by_ids(&params.media_ids).await?;
    Ok(ScheduledView { row, params, media })
}

/// Schedules `input` for `at` (RFC 3339), checked now as a post would be.
pub async fn schedule(
    node: &Node,
    author: &AccountRow,
    input: PostInput,
    at: &str,
    app: Option<AppInfo>,
) -> Result<ScheduledView, DomainError> {
    let now = now_millis();
    let when = parse_time(at, now, node.config.limits.scheduled_min_lead_seconds)?;
    statuses::validate_content(node, author, &input, None).await?;
    if let Some(parent) = input.in_reply_to_id {
        statuses::visible_status(node, Some(author), parent).await?;
    }
    if node.store.scheduled_count(author.id).await? >= MAX_SCHEDULED {
        return Err(DomainError::Invalid(format!(
            "You cannot schedule more than {MAX_SCHEDULED} posts"
        )));
    }
    let row = ScheduledRow {
        id: crate::ids::next_id(),
        account_id: author.id,
        scheduled_at: when,
        params: serde_json::to_string(&params_of(&input))
            .map_err(|e| DomainError::Internal(e.to_string()))?,
        app_name: app.as_ref().map(|a| a.name.clone()),
        app_website: app.and_then(|a| a.website),
        created_at: now,
    };
    node.store.insert_scheduled(&row).await?;
    view(node, row).await
}

pub async fn get(node: &Node, viewer: &AccountRow, id: i64) -> Result<ScheduledView, DomainError> {
    let row = node
        .store
        .scheduled(viewer.id, id)
        .await?
        .ok_or(DomainError::NotFound("scheduled status"))?;
    view(node, row).await
}

pub async fn list(
    node: &Node,
    viewer: &AccountRow,
    page: &Page,
) -> Result<Vec<ScheduledView>, DomainError> {
    let rows = node.store.scheduled_page(viewer.id, page).await?;
    let params = rows
        .iter()
        .map(params_of_row)
        .collect::<Result<Vec<_>, _>>()?;
    // The page's attachments in one query, not one per scheduled status.
    let ids: Vec<i64> = params
        .iter()
        .flat_map(|p| p.media_ids.iter().copied())
        .collect();
    let media = node.store.media_by_ids(&ids).await?;
    Ok(rows
        .into_iter()
        .zip(params)
        .map(|(row, params)| {
            let media = params
                .media_ids
                .iter()
                .filter_map(|id| media.iter().find(|m| m.id == *id).cloned())
                .collect();
            ScheduledView { row, params, media }
        })
        .collect())
}

/// Moves a scheduled status to `at`.
pub async fn reschedule(
    node: &Node,
    viewer: &AccountRow,
    id: i64,
    at: &str,
) -> Result<ScheduledView, DomainError> {
    let when = parse_time(
        at,
        now_millis(),
        node.config.limits.scheduled_min_lead_seconds,
    )?;
    if !node.store.reschedule(viewer.id, id, when).await? {
        return Err(DomainError::NotFound("scheduled status"));
    }
    get(node, viewer, id).await
}

pub async fn cancel(node: &Node, viewer: &AccountRow, id: i64) -> Result<(), DomainError> {
    if !node.store.delete_scheduled(viewer.id, id).await? {
        return Err(DomainError::NotFound("scheduled status"));
    }
    Ok(())
}

/// Posts what is due; returns how many were posted. One that can no longer be posted (its
/// author gone or suspended, its parent deleted, its media gone) is dropped with a log line.
pub async fn publish_due(node: &Node) -> Result<usize, DomainError> {
    let due = node.store.due_scheduled(now_millis(), 50).await?;
    let mut posted = 0;
    for row in due {
        let author = node
            .store
            .account_by_id(row.account_id)
            .await?
            .filter(|a| !a.suspended);
        let outcome = match &author {
            None => Err(DomainError::NotFound("account")),
            Some(author) => match serde_json::from_str::<Params>(&row.params) {
                Err(e) => Err(DomainError::Invalid(format!("unreadable params: {e}"))),
                Ok(params) => {
                    let app = row.app_name.clone().map(|name| AppInfo {
                        name,
                        website: row.app_website.clone(),
                    });
                    statuses::post(node, author, input_of(&params, row.id), app).await
                }
            },
        };
        match outcome {
            Ok(status) => {
                posted += 1;
                tracing::info!(scheduled = row.id, status, "scheduled status posted");
            }
            Err(
                e
                @ (DomainError::Invalid(_) | DomainError::NotFound(_) | DomainError::Forbidden(_)),
            ) => {
                tracing::warn!(scheduled = row.id, error = %e, "scheduled status dropped: it can no longer be posted");
            }
            // Storage trouble: kept, and tried again on the next round.
            Err(e) => return Err(e),
        }
        node.store.delete_scheduled(row.account_id, row.id).await?;
    }
    Ok(posted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schedule_must_be_far_enough_ahead() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-03T12:00:00Z")
            .unwrap()
            .timestamp_millis();
        assert_eq!(
            parse_time("2026-12-03T12:05:00Z", now, 300).unwrap(),
            now + 300_000
        );
        let err = parse_time("2026-12-03T12:04:59Z", now, 300).unwrap_err();
        assert!(err.to_string().contains("5 minutes"), "{err}");
        assert!(parse_time("tomorrow", now, 300).is_err());
        assert!(parse_time("2026-12-03T11:00:00Z", now, 0).is_err());
    }

    #[test]
    fn params_keep_what_the_post_needs() {
        let input = PostInput {
            text: "later".into(),
            visibility: Some(Scope::Unlisted),
            locality: Some(Locality::LocalOnly),
            media_ids: vec![4, 5],
            in_reply_to_id: Some(9),
            ..Default::default()
        };
        let back = input_of(&params_of(&input), 77);
        assert_eq!(back.text, "later");
        assert_eq!(back.visibility, Some(Scope::Unlisted));
        assert_eq!(back.locality, Some(Locality::LocalOnly));
        assert_eq!(back.media_ids, vec![4, 5]);
        assert_eq!(back.in_reply_to_id, Some(9));
        assert_eq!(back.idempotency_key.as_deref(), Some("scheduled:77"));
    }
}
