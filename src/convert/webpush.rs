//! The Web Push payload Mastodon apps decrypt and show: who did what, in a line.

use serde_json::{json, Value};

use super::mastodon::{acct, avatar};
use super::text::html_to_plain;
use super::views::NotificationView;
use super::NodeUrls;

const MAX_BODY_CHARS: usize = 200;

/// The title a phone shows for a notification of `kind` from `name`.
pub fn title(kind: &str, name: &str) -> String {
    match kind {
        "mention" => format!("{name} mentioned you"),
        "status" => format!("{name} just posted"),
        "reblog" => format!("{name} boosted your post"),
        "follow" => format!("{name} followed you"),
        "follow_request" => format!("{name} wants to follow you"),
        "favourite" => format!("{name} favourited your post"),
        "poll" => "A poll has ended".to_string(),
        "update" => format!("{name} edited a post"),
        "admin.sign_up" => format!("{name} signed up"),
        "admin.report" => format!("{name} filed a report"),
        _ => "New notification".to_string(),
    }
}

/// Text cut to `max` characters, with an ellipsis when cut.
fn shorten(text: &str, max: usize) -> String {
    let text = text.trim();
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Mastodon's push payload for one notification; `access_token` (left out when empty) tells
/// the app which of its logins it is for.
pub fn payload(n: &NotificationView, access_token: &str, urls: &NodeUrls) -> Value {
    let from = &n.account.row;
    let name = if from.display_name.trim().is_empty() {
        from.username.as_str()
    } else {
        from.display_name.as_str()
    };
    let body = match &n.status {
        Some(s) => {
            let s = s.reblog.as_deref().unwrap_or(s);
            if s.row.spoiler_text.trim().is_empty() {
                html_to_plain(&s.row.content)
            } else {
                s.row.spoiler_text.clone()
            }
        }
        None => format!("@{}", acct(from)),
    };
    let mut payload = json!({
        "preferred_locale": "en",
        // A string: these ids do not fit a JavaScript number.
        "notification_id": n.row.id.to_string(),
        "notification_type": n.row.kind,
        "icon": avatar(from, urls),
        "title": title(&n.row.kind, name),
        "body": shorten(&body, MAX_BODY_CHARS),
    });
    if !access_token.is_empty() {
        payload["access_token"] = json!(access_token);
    }
    payload
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_bodies_are_shortened() {
        assert_eq!(shorten(" hi ", 5), "hi");
        let long = "é".repeat(300);
        let short = shorten(&long, MAX_BODY_CHARS);
        assert_eq!(short.chars().count(), MAX_BODY_CHARS);
        assert!(short.ends_with('…'));
    }

    #[test]
    fn titles_name_the_sender() {
        assert_eq!(title("mention", "Ana"), "Ana mentioned you");
        assert_eq!(title("something.new", "Ana"), "New notification");
    }
}
