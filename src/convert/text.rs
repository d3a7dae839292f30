//! Plain text to the small HTML subset Mastodon clients render.

/// Escapes `text` and turns blank-line-separated paragraphs into `<p>` and single newlines into
/// `<br>`.
pub fn plain_to_html(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| format!("<p>{}</p>", escape(p).replace('\n', "<br>")))
        .collect()
}

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_and_escaping() {
        assert_eq!(plain_to_html(""), "");
        assert_eq!(
            plain_to_html("a <b>\nc\n\nd & e"),
            "<p>a &lt;b&gt;<br>c</p><p>d &amp; e</p>"
        );
    }
}
