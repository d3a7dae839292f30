//! Filters: `/api/v2/filters` with its keywords and statuses, and the v1 endpoints over them.
//! Parameters are read as pairs so that `keywords_attributes` arrives the same from JSON
//! (`[{"keyword": …}]`) and from a form (`keywords_attributes[][keyword]` or
//! `keywords_attributes[0][keyword]`).

use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};

use super::extract::{parse_id, truthy, Auth, Pairs};
use crate::convert::mastodon;
use crate::domain::filters::{self, FilterInput, KeywordInput, V1Input};
use crate::http::{ApiError, AppState};

fn flag(p: &Pairs, name: &str) -> Result<Option<bool>, ApiError> {
    p.get(name).map(truthy).transpose()
}

/// `context[]` (or `context`, repeated); `None` when not sent.
fn contexts(p: &Pairs) -> Option<Vec<String>> {
    let found: Vec<String> =
        p.0.iter()
            .filter(|(k, _)| k == "context[]" || k == "context")
            .map(|(_, v)| v.clone())
            .collect();
    (!found.is_empty()).then_some(found)
}

/// `expires_in`: seconds, or empty for no expiry; `None` when not sent.
fn expires_in(p: &Pairs) -> Result<Option<Option<i64>>, ApiError> {
    match p.get("expires_in").map(str::trim) {
        None => Ok(None),
        Some("") => Ok(Some(None)),
        Some(s) => s.parse::<i64>().map(|n| Some(Some(n))).map_err(|_| {
            ApiError::unprocessable("Validation failed: expires_in is not a number of seconds")
        }),
    }
}

fn id_value(v: &str) -> Result<i64, ApiError> {
    v.trim().parse::<i64>().map_err(|_| {
        ApiError::unprocessable(format!("Validation failed: {v:?} is not a keyword id"))
    })
}

/// The keywords of `keywords_attributes`, in order. Entries are told apart by their index
/// (`[0]`), or for `[]` by a field given twice.
fn keywords(p: &Pairs) -> Result<Vec<KeywordInput>, ApiError> {
    let mut out: Vec<(String, KeywordInput, Vec<String>)> = Vec::new();
    for (k, v) in &p.0 {
        let Some(rest) = k.strip_prefix("keywords_attributes[") else {
            continue;
        };
        let Some((index, field)) = rest.split_once("][") else {
            continue;
        };
        let field = field.trim_end_matches(']').to_string();
        let starts_new = match out.last() {
            None => true,
            Some((last, _, fields)) => {
                if index.is_empty() {
                    fields.contains(&field)
                } else {
                    last != index
                }
            }
        };
        if starts_new {
            out.push((index.to_string(), KeywordInput::default(), Vec::new()));
        }
        let (_, entry, fields) = out.last_mut().expect("pushed above");
        fields.push(field.clone());
        match field.as_str() {
            "keyword" => entry.keyword = Some(v.clone()),
            "whole_word" => entry.whole_word = Some(truthy(v)?),
            "id" => entry.id = Some(id_value(v)?),
            "_destroy" => entry.destroy = truthy(v)?,
            _ => {}
        }
    }
    Ok(out.into_iter().map(|(_, k, _)| k).collect())
}

fn filter_input(p: &Pairs) -> Result<FilterInput, ApiError> {
    Ok(FilterInput {
        title: p.get("title").map(String::from),
        context: contexts(p),
        action: p.get("filter_action").map(String::from),
        expires_in: expires_in(p)?,
        keywords: keywords(p)?,
    })
}

fn v1_input(p: &Pairs) -> Result<V1Input, ApiError> {
    Ok(V1Input {
        phrase: p.get("phrase").map(String::from),
        context: contexts(p),
        irreversible: flag(p, "irreversible")?,
        whole_word: flag(p, "whole_word")?,
        expires_in: expires_in(p)?,
    })
}

pub async fn list(State(state): State<AppState>, auth: Auth) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:filters")?;
    let sets = filters::list(&state.node, me).await?;
    Ok(Json(json!(sets
        .iter()
        .map(mastodon::filter_set)
        .collect::<Vec<_>>())))
}

pub async fn get(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:filters")?;
    let set = filters::get(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(mastodon::filter_set(&set)))
}

pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    p: Pairs,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:filters")?;
    let set = filters::create(&state.node, me, filter_input(&p)?).await?;
    Ok(Json(mastodon::filter_set(&set)))
}

pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    p: Pairs,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:filters")?;
    let set = filters::update(&state.node, me, parse_id(&id)?, filter_input(&p)?).await?;
    Ok(Json(mastodon::filter_set(&set)))
}

pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:filters")?;
    filters::delete(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(json!({})))
}

pub async fn keywords_of(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:filters")?;
    let set = filters::get(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(json!(set
        .keywords
        .iter()
        .map(mastodon::filter_keyword)
        .collect::<Vec<_>>())))
}

pub async fn add_keyword(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    p: Pairs,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:filters")?;
    let k = filters::add_keyword(
        &state.node,
        me,
        parse_id(&id)?,
        p.get("keyword"),
        flag(&p, "whole_word")?,
    )
    .await?;
    Ok(Json(mastodon::filter_keyword(&k)))
}

pub async fn keyword(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:filters")?;
    let k = filters::keyword(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(mastodon::filter_keyword(&k)))
}

pub async fn update_keyword(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    p: Pairs,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:filters")?;
    let k = filters::update_keyword(
        &state.node,
        me,
        parse_id(&id)?,
        p.get("keyword"),
        flag(&p, "whole_word")?,
    )
    .await?;
    Ok(Json(mastodon::filter_keyword(&k)))
}

pub async fn delete_keyword(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:filters")?;
    filters::delete_keyword(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(json!({})))
}

pub async fn statuses_of(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:filters")?;
    let set = filters::get(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(json!(set
        .statuses
        .iter()
        .map(mastodon::filter_status)
        .collect::<Vec<_>>())))
}

pub async fn add_status(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    p: Pairs,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:filters")?;
    let status = p
        .get("status_id")
        .ok_or_else(|| ApiError::unprocessable("Validation failed: Status can't be blank"))?;
    let row = filters::add_status(&state.node, me, parse_id(&id)?, parse_id(status)?).await?;
    Ok(Json(mastodon::filter_status(&row)))
}

pub async fn status(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:filters")?;
    let row = filters::status(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(mastodon::filter_status(&row)))
}

pub async fn delete_status(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:filters")?;
    filters::delete_status(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(json!({})))
}

pub async fn list_v1(State(state): State<AppState>, auth: Auth) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:filters")?;
    let found = filters::list_v1(&state.node, me).await?;
    Ok(Json(json!(found
        .iter()
        .map(|f| mastodon::filter_v1(&f.filter, &f.keyword))
        .collect::<Vec<_>>())))
}

pub async fn get_v1(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("read:filters")?;
    let f = filters::get_v1(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(mastodon::filter_v1(&f.filter, &f.keyword)))
}

pub async fn create_v1(
    State(state): State<AppState>,
    auth: Auth,
    p: Pairs,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:filters")?;
    let f = filters::create_v1(&state.node, me, v1_input(&p)?).await?;
    Ok(Json(mastodon::filter_v1(&f.filter, &f.keyword)))
}

pub async fn update_v1(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    p: Pairs,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:filters")?;
    let f = filters::update_v1(&state.node, me, parse_id(&id)?, v1_input(&p)?).await?;
    Ok(Json(mastodon::filter_v1(&f.filter, &f.keyword)))
}

pub async fn delete_v1(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let me = auth.user("write:filters")?;
    filters::delete_v1(&state.node, me, parse_id(&id)?).await?;
    Ok(Json(json!({})))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Pairs {
        Pairs(
            list.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn keywords_attributes_from_json_and_forms() {
        let from_json = pairs(&[
            ("keywords_attributes[][keyword]", "budget"),
            ("keywords_attributes[][whole_word]", "false"),
            ("keywords_attributes[][keyword]", "q4"),
            ("keywords_attributes[][id]", "7"),
            ("keywords_attributes[][_destroy]", "true"),
        ]);
        let k = keywords(&from_json).unwrap();
        assert_eq!(k.len(), 2);
        assert_eq!(k[0].keyword.as_deref(), Some("budget"));
        assert_eq!(k[0].whole_word, Some(false));
        assert_eq!((k[1].id, k[1].destroy), (Some(7), true));
        let indexed = pairs(&[
            ("keywords_attributes[0][keyword]", "a"),
            ("keywords_attributes[1][keyword]", "b"),
            ("keywords_attributes[1][whole_word]", "1"),
        ]);
        let k = keywords(&indexed).unwrap();
        assert_eq!(k.len(), 2);
        assert_eq!(k[1].whole_word, Some(true));
        assert!(keywords(&pairs(&[("keywords_attributes[][id]", "x")])).is_err());
        assert_eq!(
            expires_in(&pairs(&[("expires_in", "")])).unwrap(),
            Some(None)
        );
    }
}
