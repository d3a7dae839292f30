//! What a status's plain text means: links, mentions and hashtags, and the HTML Mastodon
//! clients expect for it. Everything the author typed is escaped; the only markup is ours.

use crate::convert::text::escape;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment<'a> {
    Text(&'a str),
    Link(&'a str),
    /// `@name` or `@name@domain`
    Mention {
        username: &'a str,
        domain: Option<&'a str>,
        raw: &'a str,
    },
    Hashtag(&'a str),
    Newline,
    Paragraph,
}

fn boundary_before(text: &str, at: usize) -> bool {
    text[..at]
        .chars()
        .next_back()
        .is_none_or(|c| c.is_whitespace() || "([{\"'".contains(c))
}

fn is_tag_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Splits text into segments.
pub fn tokenize(text: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    let mut plain_start = 0;
    let mut i = 0;
    let bytes = text.as_bytes();
    while i < text.len() {
        let rest = &text[i..];
        let mut matched: Option<(Segment<'_>, usize)> = None;
        if rest.starts_with("\n\n") {
            let mut end = i;
            while end < text.len() && bytes[end] == b'\n' {
                end += 1;
            }
            matched = Some((Segment::Paragraph, end));
        } else if rest.starts_with('\n') {
            matched = Some((Segment::Newline, i + 1));
        } else if (rest.starts_with("https://") || rest.starts_with("http://"))
            && boundary_before(text, i)
        {
            let mut end = i + rest
                .find(|c: char| c.is_whitespace() || "<>\"".contains(c))
                .unwrap_or(rest.len());
            while end > i && ".,;:!?)'".contains(text[..end].chars().next_back().unwrap()) {
                end -= 1;
            }
            let scheme_len = if rest.starts_with("https://") { 8 } else { 7 };
            if end > i + scheme_len {
                matched = Some((Segment::Link(&text[i..end]), end));
            }
        } else if rest.starts_with('@') && boundary_before(text, i) {
            let name_len = rest[1..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len() - 1);
            if name_len > 0 {
                let name_end = i + 1 + name_len;
                let mut end = name_end;
                let mut domain = None;
                if text[name_end..].starts_with('@') {
                    let d = &text[name_end + 1..];
                    let mut dlen = d
                        .find(|c: char| !(c.is_ascii_alphanumeric() || ".-:".contains(c)))
                        .unwrap_or(d.len());
                    while dlen > 0 && ".:-".contains(&d[dlen - 1..dlen]) {
                        dlen -= 1;
                    }
                    if dlen > 0 {
                        domain = Some(&d[..dlen]);
                        end = name_end + 1 + dlen;
                    }
                }
                matched = Some((
                    Segment::Mention {
                        username: &text[i + 1..name_end],
                        domain,
                        raw: &text[i..end],
                    },
                    end,
                ));
            }
        } else if rest.starts_with('#') && boundary_before(text, i) {
            let len = rest[1..]
                .find(|c: char| !is_tag_char(c))
                .unwrap_or(rest.len() - 1);
            let tag = &rest[1..1 + len];
            if !tag.is_empty() && !tag.chars().all(|c| c.is_ascii_digit()) {
                matched = Some((Segment::Hashtag(tag), i + 1 + len));
            }
        }
        match matched {
            Some((segment, end)) => {
                if plain_start < i {
                    out.push(Segment::Text(&text[plain_start..i]));
                }
                out.push(segment);
                i = end;
                plain_start = end;
            }
            None => i += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    if plain_start < text.len() {
        out.push(Segment::Text(&text[plain_start..]));
    }
    out
}

/// Hashtags in `text`: (lower-cased name, spelling as typed), first spelling wins.
pub fn hashtags(text: &str) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for s in tokenize(text) {
        if let Segment::Hashtag(tag) = s {
            let key = tag.to_lowercase();
            if !out.iter().any(|(k, _)| *k == key) {
                out.push((key, tag.to_string()));
            }
        }
    }
    out
}

/// `(username, domain)` of every mention in `text`.
pub fn mentions(text: &str) -> Vec<(String, Option<String>)> {
    tokenize(text)
        .into_iter()
        .filter_map(|s| match s {
            Segment::Mention {
                username, domain, ..
            } => Some((username.to_string(), domain.map(str::to_string))),
            _ => None,
        })
        .collect()
}

/// A mention that resolved to an account, for rendering.
pub struct ResolvedMention {
    pub username: String,
    pub domain: Option<String>,
    pub profile_url: String,
}

/// Renders status text to HTML: paragraphs, line breaks, links (with Mastodon's
/// invisible/ellipsis spans), resolved mentions as h-card links, hashtags as tag links.
/// Mentions that resolved to nothing stay plain text.
pub fn render(
    text: &str,
    resolve: impl Fn(&str, Option<&str>) -> Option<ResolvedMention>,
    tag_url: impl Fn(&str) -> String,
) -> String {
    let text = text.replace("\r\n", "\n");
    let text = text.trim();
    if text.is_empty() {
        return String::new();
    }
    let mut html = String::from("<p>");
    for segment in tokenize(text) {
        match segment {
            Segment::Text(t) => html.push_str(&escape(t)),
            Segment::Newline => html.push_str("<br>"),
            Segment::Paragraph => html.push_str("</p><p>"),
            Segment::Link(url) => html.push_str(&link(url)),
            Segment::Hashtag(tag) => html.push_str(&format!(
                "<a href=\"{}\" class=\"mention hashtag\" rel=\"tag\">#<span>{}</span></a>",
                escape(&tag_url(tag)),
                escape(tag)
            )),
            Segment::Mention {
                username,
                domain,
                raw,
            } => match resolve(username, domain) {
                Some(m) => html.push_str(&format!(
                    "<span class=\"h-card\" translate=\"no\"><a href=\"{}\" class=\"u-url mention\">@<span>{}</span></a></span>",
                    escape(&m.profile_url),
                    escape(&m.username)
                )),
                None => html.push_str(&escape(raw)),
            },
        }
    }
    html.push_str("</p>");
    html
}

fn link(url: &str) -> String {
    let (scheme, rest) = url.split_at(url.find("://").map_or(0, |i| i + 3));
    let (shown, hidden) = if rest.chars().count() > 30 {
        let cut = rest.char_indices().nth(30).map_or(rest.len(), |(i, _)| i);
        (&rest[..cut], &rest[cut..])
    } else {
        (rest, "")
    };
    let ellipsis = if hidden.is_empty() { "" } else { "ellipsis" };
    format!(
        "<a href=\"{href}\" target=\"_blank\" rel=\"nofollow noopener noreferrer\" translate=\"no\">\
         <span class=\"invisible\">{scheme}</span><span class=\"{ellipsis}\">{shown}</span>\
         <span class=\"invisible\">{hidden}</span></a>",
        href = escape(url),
        scheme = escape(scheme),
        shown = escape(shown),
        hidden = escape(hidden),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizes_links_mentions_tags() {
        let t =
            tokenize("hi @ada and @bob@hq.example:8080, see https://x.example/a?b=1. #Rust #123");
        assert!(t.contains(&Segment::Mention {
            username: "ada",
            domain: None,
            raw: "@ada"
        }));
        assert!(t.contains(&Segment::Mention {
            username: "bob",
            domain: Some("hq.example:8080"),
            raw: "@bob@hq.example:8080"
        }));
        assert!(t.contains(&Segment::Link("https://x.example/a?b=1")));
        assert!(t.contains(&Segment::Hashtag("Rust")));
        assert!(!t.contains(&Segment::Hashtag("123")));
        // Not at a word boundary: an email address is not a mention.
        assert!(mentions("mail ada@hq.example").is_empty());
        assert_eq!(
            hashtags("#Rust #rust #Go"),
            vec![
                ("rust".to_string(), "Rust".to_string()),
                ("go".to_string(), "Go".to_string())
            ]
        );
    }

    #[test]
    fn renders_escaped_html() {
        let html = render(
            "<b>hi</b> @ada @ghost #Tag\nline\n\npara https://example.com/",
            |u, _| {
                (u == "ada").then(|| ResolvedMention {
                    username: "ada".into(),
                    domain: None,
                    profile_url: "http://n/@ada".into(),
                })
            },
            |t| format!("http://n/tags/{}", t.to_lowercase()),
        );
        assert!(html.starts_with("<p>&lt;b&gt;hi&lt;/b&gt; "), "{html}");
        assert!(html
            .contains("<a href=\"http://n/@ada\" class=\"u-url mention\">@<span>ada</span></a>"));
        assert!(html.contains(" @ghost "));
        assert!(html.contains("<a href=\"http://n/tags/tag\" class=\"mention hashtag\" rel=\"tag\">#<span>Tag</span></a>"));
        assert!(html.contains("<br>line</p><p>para "));
        assert!(html.contains("href=\"https://example.com/\""));
        assert_eq!(render("  ", |_, _| None, |t| t.into()), "");
    }
}
