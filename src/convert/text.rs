//! Plain text to the small HTML subset Mastodon clients render, and back (for search).

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

/// The text of sanitized HTML (what [`super::activitypub::sanitize`] leaves): tags dropped,
/// paragraphs and line breaks as newlines, character references decoded. What word search
/// matches a remote status on.
pub fn html_to_plain(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find(['<', '&']) {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        if rest.starts_with('<') {
            let end = rest.find('>').map_or(rest.len(), |e| e + 1);
            let tag = rest[..end].to_ascii_lowercase();
            if tag.starts_with("<br") || tag == "</p>" {
                out.push('\n');
            }
            rest = &rest[end..];
        } else {
            let decoded = rest
                .find(';')
                .filter(|e| *e <= 10)
                .and_then(|e| decode_reference(&rest[1..e]).map(|c| (c, e + 1)));
            match decoded {
                Some((c, len)) => {
                    out.push(c);
                    rest = &rest[len..];
                }
                None => {
                    out.push('&');
                    rest = &rest[1..];
                }
            }
        }
    }
    out.push_str(rest);
    out.trim_end().to_string()
}

fn decode_reference(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        "nbsp" => Some(' '),
        _ => {
            let code = name.strip_prefix('#')?;
            let n = match code.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => code.parse().ok()?,
            };
            char::from_u32(n)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_back_to_text() {
        assert_eq!(
            html_to_plain(
                "<p>the <a href=\"x\" class=\"hashtag\">#<span>q3</span></a> figures &amp; more</p><p>a&lt;b<br>c &#39;d&#x27; &bogus; & e</p>"
            ),
            "the #q3 figures & more\na<b\nc 'd' &bogus; & e"
        );
        assert_eq!(html_to_plain(&plain_to_html("a <b>\nc")), "a <b>\nc");
    }

    #[test]
    fn paragraphs_and_escaping() {
        assert_eq!(plain_to_html(""), "");
        assert_eq!(
            plain_to_html("a <b>\nc\n\nd & e"),
            "<p>a &lt;b&gt;<br>c</p><p>d &amp; e</p>"
        );
    }
}
