//! Filters (Mastodon's v2, with the v1 endpoints over them): a viewer's keywords and chosen
//! statuses, per context, that warn about a status (`filtered` on it) or hide it. A `hide`
//! (v1 `irreversible`) match leaves the status out on the server, so that apps that do not
//! read `filtered` never show it either; `warn` and `blur` mark it for the app.
//!
//! A v1 filter is one keyword of a v2 filter: its id is the keyword's.

use std::collections::BTreeSet;

use super::{statuses, DomainError, Node};
use crate::convert::views::{FilterResultView, StatusView};
use crate::store::accounts::AccountRow;
use crate::store::filters::{FilterRow, FilterSet, FilterStatusRow, KeywordChanges, KeywordRow};
use crate::store::now_millis;

/// Where a filter applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Home,
    Notifications,
    Public,
    Thread,
    Account,
}

impl Context {
    pub fn as_str(self) -> &'static str {
        match self {
            Context::Home => "home",
            Context::Notifications => "notifications",
            Context::Public => "public",
            Context::Thread => "thread",
            Context::Account => "account",
        }
    }

    pub fn parse(s: &str) -> Option<Context> {
        [
            Context::Home,
            Context::Notifications,
            Context::Public,
            Context::Thread,
            Context::Account,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

pub const ACTIONS: [&str; 3] = ["warn", "hide", "blur"];

/// A keyword as an app sends it in `keywords_attributes`.
#[derive(Debug, Clone, Default)]
pub struct KeywordInput {
    pub id: Option<i64>,
    pub keyword: Option<String>,
    pub whole_word: Option<bool>,
    pub destroy: bool,
}

/// A filter as an app sends it; `None` leaves a field as it is on an update.
#[derive(Debug, Clone, Default)]
pub struct FilterInput {
    pub title: Option<String>,
    pub context: Option<Vec<String>>,
    pub action: Option<String>,
    /// `Some(None)`: no expiry.
    pub expires_in: Option<Option<i64>>,
    pub keywords: Vec<KeywordInput>,
}

/// A v1 filter as an app sends it.
#[derive(Debug, Clone, Default)]
pub struct V1Input {
    pub phrase: Option<String>,
    pub context: Option<Vec<String>>,
    pub irreversible: Option<bool>,
    pub whole_word: Option<bool>,
    pub expires_in: Option<Option<i64>>,
}

/// A v1 filter: a keyword with its filter.
#[derive(Debug, Clone)]
pub struct V1Filter {
    pub filter: FilterRow,
    pub keyword: KeywordRow,
}

fn invalid<T>(m: &str) -> Result<T, DomainError> {
    Err(DomainError::Invalid(format!("Validation failed: {m}")))
}

/// The contexts, checked and stored as one comma-separated value.
fn contexts(asked: &[String]) -> Result<String, DomainError> {
    let asked: Vec<&str> = asked
        .iter()
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
        .collect();
    if asked.is_empty() {
        return invalid("Context can't be blank");
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for c in asked {
        if Context::parse(c).is_none() {
            return invalid("Context includes invalid values");
        }
        if seen.insert(c) {
            out.push(c);
        }
    }
    Ok(out.join(","))
}

fn action(asked: &str) -> Result<String, DomainError> {
    match ACTIONS.contains(&asked) {
        true => Ok(asked.to_string()),
        false => invalid("Filter action is not included in the list"),
    }
}

fn expires_at(expires_in: Option<i64>, now: i64) -> Result<Option<i64>, DomainError> {
    match expires_in {
        None => Ok(None),
        Some(s) if s > 0 => Ok(Some(now + s * 1000)),
        Some(_) => invalid("Expires in must be greater than 0"),
    }
}

fn keyword_text(k: Option<&str>) -> Result<String, DomainError> {
    match k.map(str::trim).filter(|k| !k.is_empty()) {
        Some(k) if k.chars().count() <= 200 => Ok(k.to_string()),
        Some(_) => invalid("Keyword is too long (maximum is 200 characters)"),
        None => invalid("Keywords keyword can't be blank"),
    }
}

fn title_text(t: Option<&str>) -> Result<String, DomainError> {
    match t.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) if t.chars().count() <= 256 => Ok(t.to_string()),
        Some(_) => invalid("Title is too long (maximum is 256 characters)"),
        None => invalid("Title can't be blank"),
    }
}

/// Tells the viewer's open streams that their filters changed (`filters_changed`), so apps
/// read them again.
fn changed(node: &Node, viewer: &AccountRow) {
    node.hub.publish(super::events::Event::FiltersChanged {
        account_id: viewer.id,
    });
}

pub async fn list(node: &Node, viewer: &AccountRow) -> Result<Vec<FilterSet>, DomainError> {
    Ok(node.store.filters_of(viewer.id).await?)
}

pub async fn get(node: &Node, viewer: &AccountRow, id: i64) -> Result<FilterSet, DomainError> {
    node.store
        .filter(viewer.id, id)
        .await?
        .ok_or(DomainError::NotFound("filter"))
}

pub async fn create(
    node: &Node,
    viewer: &AccountRow,
    input: FilterInput,
) -> Result<FilterSet, DomainError> {
    let now = now_millis();
    let id = crate::ids::next_id();
    let filter = FilterRow {
        id,
        account_id: viewer.id,
        title: title_text(input.title.as_deref())?,
        context: contexts(input.context.as_deref().unwrap_or_default())?,
        action: action(input.action.as_deref().unwrap_or("warn"))?,
        expires_at: expires_at(input.expires_in.flatten(), now)?,
        created_at: now,
    };
    let mut keywords = Vec::new();
    for k in input.keywords.iter().filter(|k| !k.destroy) {
        keywords.push(KeywordRow {
            id: crate::ids::next_id(),
            filter_id: id,
            keyword: keyword_text(k.keyword.as_deref())?,
            whole_word: k.whole_word.unwrap_or(true),
        });
    }
    let set = FilterSet {
        filter,
        keywords,
        statuses: vec![],
    };
    node.store.insert_filter(&set).await?;
    changed(node, viewer);
    get(node, viewer, id).await
}

pub async fn update(
    node: &Node,
    viewer: &AccountRow,
    id: i64,
    input: FilterInput,
) -> Result<FilterSet, DomainError> {
    let held = get(node, viewer, id).await?;
    let mut filter = held.filter.clone();
    if let Some(t) = &input.title {
        filter.title = title_text(Some(t))?;
    }
    if let Some(c) = &input.context {
        filter.context = contexts(c)?;
    }
    if let Some(a) = &input.action {
        filter.action = action(a)?;
    }
    if let Some(e) = input.expires_in {
        filter.expires_at = expires_at(e, now_millis())?;
    }
    let mut changes = KeywordChanges::default();
    for k in &input.keywords {
        match k.id {
            Some(kid) => {
                let Some(current) = held.keywords.iter().find(|h| h.id == kid) else {
                    return Err(DomainError::NotFound("filter keyword"));
                };
                if k.destroy {
                    changes.removed.push(kid);
                } else {
                    changes.changed.push(KeywordRow {
                        keyword: match &k.keyword {
                            Some(text) => keyword_text(Some(text))?,
                            None => current.keyword.clone(),
                        },
                        whole_word: k.whole_word.unwrap_or(current.whole_word),
                        ..current.clone()
                    });
                }
            }
            None if k.destroy => {}
            None => changes.added.push(KeywordRow {
                id: crate::ids::next_id(),
                filter_id: id,
                keyword: keyword_text(k.keyword.as_deref())?,
                whole_word: k.whole_word.unwrap_or(true),
            }),
        }
    }
    node.store.update_filter(&filter, &changes).await?;
    changed(node, viewer);
    get(node, viewer, id).await
}

pub async fn delete(node: &Node, viewer: &AccountRow, id: i64) -> Result<(), DomainError> {
    match node.store.delete_filter(viewer.id, id).await? {
        true => {
            changed(node, viewer);
            Ok(())
        }
        false => Err(DomainError::NotFound("filter")),
    }
}

/// One of the viewer's keywords, with its filter.
async fn find_keyword(
    node: &Node,
    viewer: &AccountRow,
    id: i64,
) -> Result<(FilterSet, KeywordRow), DomainError> {
    node.store
        .filters_of(viewer.id)
        .await?
        .into_iter()
        .find_map(|set| {
            let k = set.keywords.iter().find(|k| k.id == id).cloned()?;
            Some((set, k))
        })
        .ok_or(DomainError::NotFound("filter keyword"))
}

pub async fn keyword(node: &Node, viewer: &AccountRow, id: i64) -> Result<KeywordRow, DomainError> {
    Ok(find_keyword(node, viewer, id).await?.1)
}

pub async fn add_keyword(
    node: &Node,
    viewer: &AccountRow,
    filter_id: i64,
    keyword: Option<&str>,
    whole_word: Option<bool>,
) -> Result<KeywordRow, DomainError> {
    let set = get(node, viewer, filter_id).await?;
    let row = KeywordRow {
        id: crate::ids::next_id(),
        filter_id,
        keyword: keyword_text(keyword)?,
        whole_word: whole_word.unwrap_or(true),
    };
    let changes = KeywordChanges {
        added: vec![row.clone()],
        ..Default::default()
    };
    node.store.update_filter(&set.filter, &changes).await?;
    changed(node, viewer);
    Ok(row)
}

pub async fn update_keyword(
    node: &Node,
    viewer: &AccountRow,
    id: i64,
    keyword: Option<&str>,
    whole_word: Option<bool>,
) -> Result<KeywordRow, DomainError> {
    let (set, current) = find_keyword(node, viewer, id).await?;
    let row = KeywordRow {
        keyword: match keyword {
            Some(k) => keyword_text(Some(k))?,
            None => current.keyword.clone(),
        },
        whole_word: whole_word.unwrap_or(current.whole_word),
        ..current
    };
    let changes = KeywordChanges {
        changed: vec![row.clone()],
        ..Default::default()
    };
    node.store.update_filter(&set.filter, &changes).await?;
    changed(node, viewer);
    Ok(row)
}

pub async fn delete_keyword(node: &Node, viewer: &AccountRow, id: i64) -> Result<(), DomainError> {
    let (_, k) = find_keyword(node, viewer, id).await?;
    node.store.delete_keyword(&k, false).await?;
    changed(node, viewer);
    Ok(())
}

async fn find_status(
    node: &Node,
    viewer: &AccountRow,
    id: i64,
) -> Result<FilterStatusRow, DomainError> {
    node.store
        .filters_of(viewer.id)
        .await?
        .into_iter()
        .find_map(|set| set.statuses.into_iter().find(|s| s.id == id))
        .ok_or(DomainError::NotFound("filter status"))
}

pub async fn status(
    node: &Node,
    viewer: &AccountRow,
    id: i64,
) -> Result<FilterStatusRow, DomainError> {
    find_status(node, viewer, id).await
}

/// Adds a status the viewer can see to one of its filters.
pub async fn add_status(
    node: &Node,
    viewer: &AccountRow,
    filter_id: i64,
    status_id: i64,
) -> Result<FilterStatusRow, DomainError> {
    get(node, viewer, filter_id).await?;
    let status = statuses::visible_status(node, Some(viewer), status_id).await?;
    let row = FilterStatusRow {
        id: crate::ids::next_id(),
        filter_id,
        status_id: status.id,
    };
    match node.store.insert_filter_status(&row).await? {
        true => {
            changed(node, viewer);
            Ok(row)
        }
        false => invalid("Status has already been taken"),
    }
}

pub async fn delete_status(node: &Node, viewer: &AccountRow, id: i64) -> Result<(), DomainError> {
    let row = find_status(node, viewer, id).await?;
    node.store.delete_filter_status(row.id).await?;
    changed(node, viewer);
    Ok(())
}

/// The viewer's filters as v1 shows them: one per keyword.
pub async fn list_v1(node: &Node, viewer: &AccountRow) -> Result<Vec<V1Filter>, DomainError> {
    Ok(node
        .store
        .filters_of(viewer.id)
        .await?
        .into_iter()
        .flat_map(|set| {
            let filter = set.filter;
            set.keywords.into_iter().map(move |keyword| V1Filter {
                filter: filter.clone(),
                keyword,
            })
        })
        .collect())
}

pub async fn get_v1(node: &Node, viewer: &AccountRow, id: i64) -> Result<V1Filter, DomainError> {
    let (set, keyword) = find_keyword(node, viewer, id).await?;
    Ok(V1Filter {
        filter: set.filter,
        keyword,
    })
}

fn v1_action(irreversible: bool) -> Option<String> {
    Some(if irreversible { "hide" } else { "warn" }.to_string())
}

/// A v1 filter: a v2 filter named after its phrase, with that one keyword.
pub async fn create_v1(
    node: &Node,
    viewer: &AccountRow,
    input: V1Input,
) -> Result<V1Filter, DomainError> {
    let set = create(
        node,
        viewer,
        FilterInput {
            title: input.phrase.clone(),
            context: input.context,
            action: v1_action(input.irreversible.unwrap_or(false)),
            expires_in: input.expires_in,
            keywords: vec![KeywordInput {
                keyword: input.phrase,
                whole_word: Some(input.whole_word.unwrap_or(true)),
                ..Default::default()
            }],
        },
    )
    .await?;
    let keyword = set
        .keywords
        .first()
        .cloned()
        .ok_or_else(|| DomainError::Internal("a v1 filter without its keyword".into()))?;
    Ok(V1Filter {
        filter: set.filter,
        keyword,
    })
}

pub async fn update_v1(
    node: &Node,
    viewer: &AccountRow,
    id: i64,
    input: V1Input,
) -> Result<V1Filter, DomainError> {
    let (set, _) = find_keyword(node, viewer, id).await?;
    update(
        node,
        viewer,
        set.filter.id,
        FilterInput {
            title: None,
            context: input.context,
            action: input.irreversible.and_then(v1_action),
            expires_in: input.expires_in,
            keywords: vec![KeywordInput {
                id: Some(id),
                keyword: input.phrase,
                whole_word: input.whole_word,
                destroy: false,
            }],
        },
    )
    .await?;
    get_v1(node, viewer, id).await
}

/// Deletes a v1 filter's keyword, and its filter once nothing is left in it.
pub async fn delete_v1(node: &Node, viewer: &AccountRow, id: i64) -> Result<(), DomainError> {
    let (_, k) = find_keyword(node, viewer, id).await?;
    node.store.delete_keyword(&k, true).await?;
    changed(node, viewer);
    Ok(())
}

/// Does `keyword` occur in `text` (both lower-cased by the caller)? With `whole_word`, only
/// where it is not part of a longer word (at its ends that are letters or digits).
pub fn keyword_matches(text: &str, keyword: &str, whole_word: bool) -> bool {
    if keyword.is_empty() {
        return false;
    }
    if !whole_word {
        return text.contains(keyword);
    }
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let starts_word = keyword.chars().next().is_some_and(word);
    let ends_word = keyword.chars().next_back().is_some_and(word);
    text.match_indices(keyword).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + keyword.len()..].chars().next();
        (!starts_word || !before.is_some_and(word)) && (!ends_word || !after.is_some_and(word))
    })
}

/// What of the text a status shows to match keywords on: its text, content warning, media
/// descriptions and poll answers, lower-cased.
fn searchable(view: &StatusView) -> String {
    let mut text = format!("{}\n{}", view.row.text, view.row.spoiler_text);
    for m in &view.media {
        text.push('\n');
        text.push_str(&m.description);
    }
    if let Some(p) = &view.poll {
        for o in &p.row.options {
            text.push('\n');
            text.push_str(&o.title);
        }
    }
    text.to_lowercase()
}

/// The filters of `sets` active in `context` that match a status (the one a reblog wraps,
/// for a reblog).
pub fn results(
    sets: &[FilterSet],
    context: Context,
    now: i64,
    view: &StatusView,
) -> Vec<FilterResultView> {
    let shown = view.reblog.as_deref().unwrap_or(view);
    let mut text: Option<String> = None;
    let mut out = Vec::new();
    for set in sets {
        if !set.filter.active(now) || !set.filter.contexts().any(|c| c == context.as_str()) {
            continue;
        }
        let keywords: Vec<String> = set
            .keywords
            .iter()
            .filter(|k| {
                let text = text.get_or_insert_with(|| searchable(shown));
                keyword_matches(text, &k.keyword.to_lowercase(), k.whole_word)
            })
            .map(|k| k.keyword.clone())
            .collect();
        let statuses: Vec<i64> = set
            .statuses
            .iter()
            .filter(|s| s.status_id == shown.row.id || s.status_id == view.row.id)
            .map(|s| s.status_id)
            .collect();
        if !keywords.is_empty() || !statuses.is_empty() {
            out.push(FilterResultView {
                filter: set.filter.clone(),
                keyword_matches: keywords,
                status_matches: statuses,
            });
        }
    }
    out
}

/// Applies the viewer's filters for `context` to a page: statuses a `hide` filter matches are
/// left out, the others carry what matched them.
pub async fn apply(
    node: &Node,
    viewer: &AccountRow,
    context: Context,
    views: Vec<StatusView>,
) -> Result<Vec<StatusView>, DomainError> {
    if views.is_empty() {
        return Ok(views);
    }
    let sets = node.store.filters_of(viewer.id).await?;
    if sets.is_empty() {
        return Ok(views);
    }
    let now = now_millis();
    Ok(views
        .into_iter()
        .filter_map(|mut v| {
            let found = results(&sets, context, now, &v);
            if found.iter().any(|r| r.filter.action == "hide") {
                return None;
            }
            v.filtered = found;
            Some(v)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keywords_match_whole_words_or_anywhere() {
        assert!(keyword_matches("the budget is out", "budget", true));
        assert!(!keyword_matches("the budgeting is out", "budget", true));
        assert!(keyword_matches("the budgeting is out", "budget", false));
        assert!(keyword_matches("budget.", "budget", true));
        assert!(keyword_matches("see #q4-budget now", "#q4-budget", true));
        assert!(keyword_matches("x#q4 y", "#q4", true));
        assert!(!keyword_matches("", "budget", false));
        assert!(keyword_matches("übermorgen früh", "früh", true));
        assert!(!keyword_matches("frühstück", "früh", true));
    }

    #[test]
    fn contexts_and_actions_are_checked() {
        assert_eq!(
            contexts(&["home".into(), "thread".into(), "home".into()]).unwrap(),
            "home,thread"
        );
        assert!(contexts(&[]).unwrap_err().to_string().contains("blank"));
        assert!(contexts(&["home".into(), "everywhere".into()])
            .unwrap_err()
            .to_string()
            .contains("invalid"));
        assert!(action("hide").is_ok() && action("drop").is_err());
        assert_eq!(expires_at(Some(60), 1_000).unwrap(), Some(61_000));
        assert!(expires_at(Some(0), 0).is_err());
        assert!(title_text(Some("  ")).is_err());
    }
}
