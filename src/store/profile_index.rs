//! The profile search index (`account_search`: FTS5 on SQLite, a weighted `tsvector` on
//! PostgreSQL): one document per account, rebuilt from the stored row and its featured tags by
//! [`reindex_account!`] inside the transaction of every change to either, so search never
//! sees a profile other than the one stored. `store::directory` queries it.

/// The text of one account's search document, by column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchDoc {
    pub handle: String,
    pub display_name: String,
    /// Field names and values.
    pub fields: String,
    /// Featured hashtags.
    pub tags: String,
    /// The bio as text.
    pub note: String,
}

/// What of an account row the document is made of: username, domain, display name, fields
/// (stored JSON) and bio.
pub type ProfileText = (String, String, String, String, String);

impl SearchDoc {
    /// The document for a stored account and its featured tags. Remote bios are sanitised
    /// HTML, and are indexed as their text.
    pub fn of(profile: &ProfileText, tags: &[String]) -> SearchDoc {
        let (username, domain, display_name, fields, note) = profile;
        let fields = serde_json::from_str::<serde_json::Value>(fields)
            .ok()
            .and_then(|v| v.as_array().cloned())
            .unwrap_or_default()
            .iter()
            .flat_map(|f| [f["name"].as_str(), f["value"].as_str()])
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        SearchDoc {
            handle: username.clone(),
            display_name: display_name.clone(),
            fields,
            tags: tags.join(" "),
            note: if domain.is_empty() {
                note.clone()
            } else {
                html_text(note)
            },
        }
    }
}

/// The text of an HTML fragment: tags dropped (a block or line break kept as a space), the
/// entities sanitised HTML uses decoded.
pub fn html_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let text = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The statements that replace one account's search document, per backend: the connection
/// type inside [`in_tx!`] picks them.
pub(crate) trait SearchSql {
    const DELETE: &'static str = "DELETE FROM account_search WHERE rowid = $1";
    /// Binds: id, handle, display name, fields, tags, note.
    const INSERT: &'static str;
}

impl SearchSql for sqlx::SqliteConnection {
    const INSERT: &'static str = "INSERT INTO account_search \
        (rowid, handle, display_name, fields, tags, note) VALUES ($1, $2, $3, $4, $5, $6)";
}

impl SearchSql for sqlx::PgConnection {
    const DELETE: &'static str = "DELETE FROM account_search WHERE account_id = $1";
    const INSERT: &'static str = "INSERT INTO account_search (account_id, doc) VALUES ($1, \
        setweight(to_tsvector('simple', $2 || ' ' || $3), 'A') || \
        setweight(to_tsvector('simple', $4 || ' ' || $5), 'B') || \
        setweight(to_tsvector('simple', $6), 'D'))";
}

/// `(delete, insert)` for the connection `_conn` is.
pub(crate) fn search_sql<C: SearchSql>(_conn: &C) -> (&'static str, &'static str) {
    (C::DELETE, C::INSERT)
}

/// Rebuilds the search document of account `$id` from what `$tx` (as bound by `in_tx!`) holds
/// now; call it after the change, in the same transaction.
macro_rules! reindex_account {
    ($tx:ident, $id:expr) => {{
        let id: i64 = $id;
        let row: Option<$crate::store::profile_index::ProfileText> = sqlx::query_as(
            "SELECT username, domain, display_name, fields, note FROM accounts WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *$tx)
        .await?;
        let tags: Vec<String> = sqlx::query_scalar(
            "SELECT display FROM featured_tags WHERE account_id = $1 ORDER BY id",
        )
        .bind(id)
        .fetch_all(&mut *$tx)
        .await?;
        let (delete, insert) = $crate::store::profile_index::search_sql(&*$tx);
        sqlx::query(delete).bind(id).execute(&mut *$tx).await?;
        if let Some(row) = row {
            let doc = $crate::store::profile_index::SearchDoc::of(&row, &tags);
            sqlx::query(insert)
                .bind(id)
                .bind(&doc.handle)
                .bind(&doc.display_name)
                .bind(&doc.fields)
                .bind(&doc.tags)
                .bind(&doc.note)
                .execute(&mut *$tx)
                .await?;
        }
    }};
}
pub(crate) use reindex_account;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_text() {
        assert_eq!(
            html_text("<p>Runs <a href=\"https://x\">infra</a> &amp; k8s</p><p>Oslo</p>"),
            "Runs infra & k8s Oslo"
        );
        assert_eq!(html_text("plain"), "plain");
    }

    #[test]
    fn documents_take_fields_tags_and_the_text_of_remote_bios() {
        let text = |domain: &str, note: &str| -> ProfileText {
            (
                "ada".into(),
                domain.into(),
                "Ada L".into(),
                r#"[{"name":"Skills","value":"terraform, k8s"}]"#.into(),
                note.into(),
            )
        };
        let doc = SearchDoc::of(&text("", "<b>plain</b>"), &["Rust".into(), "Go".into()]);
        assert_eq!(doc.fields, "Skills terraform, k8s");
        assert_eq!(doc.tags, "Rust Go");
        assert_eq!(doc.note, "<b>plain</b>", "a local bio is what was typed");
        let remote = SearchDoc::of(&text("b.example", "<p>SRE</p>"), &[]);
        assert_eq!(remote.note, "SRE");
        let broken = SearchDoc::of(
            &("x".into(), "".into(), "".into(), "oops".into(), "".into()),
            &[],
        );
        assert_eq!(broken.fields, "");
    }
}
