//! The only place that maps stored rows to wire formats: AS2 documents now, Mastodon entities
//! with the client API.

pub mod activitypub;
pub mod mastodon;
pub mod text;
pub mod views;
pub mod webpush;

use url::Url;

/// The node's public addresses, fixed once the listener is bound.
#[derive(Debug, Clone)]
pub struct NodeUrls {
    /// Host with `:port` when not the scheme's default; the part after `@` in `acct:`.
    pub domain: String,
    /// `scheme://domain/`.
    pub base: Url,
}

impl NodeUrls {
    pub fn new(scheme: &str, domain: &str) -> Result<NodeUrls, url::ParseError> {
        let base = Url::parse(&format!("{scheme}://{domain}/"))?;
        Ok(NodeUrls {
            domain: domain.to_owned(),
            base,
        })
    }

    pub fn join(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        url.set_path(path);
        url
    }

    pub fn actor(&self, username: &str) -> Url {
        self.join(&format!("/users/{username}"))
    }
    pub fn profile(&self, username: &str) -> Url {
        self.join(&format!("/@{username}"))
    }
    pub fn inbox(&self, username: &str) -> Url {
        self.join(&format!("/users/{username}/inbox"))
    }
    pub fn outbox(&self, username: &str) -> Url {
        self.join(&format!("/users/{username}/outbox"))
    }
    pub fn followers(&self, username: &str) -> Url {
        self.join(&format!("/users/{username}/followers"))
    }
    pub fn following(&self, username: &str) -> Url {
        self.join(&format!("/users/{username}/following"))
    }
    pub fn shared_inbox(&self) -> Url {
        self.join("/inbox")
    }
    /// The node's own actor, which signs fetches made for no particular user.
    pub fn node_actor(&self) -> Url {
        self.join("/actor")
    }
    pub fn status(&self, username: &str, id: i64) -> Url {
        self.join(&format!("/users/{username}/statuses/{id}"))
    }
    pub fn status_page(&self, username: &str, id: i64) -> Url {
        self.join(&format!("/@{username}/{id}"))
    }
    pub fn tag(&self, name: &str) -> Url {
        self.join(&format!("/tags/{}", name.to_lowercase()))
    }
    /// The client API root, for Link headers (`/api/v1/...`).
    pub fn api(&self, path_and_query: &str) -> String {
        format!(
            "{}{}",
            self.base.as_str().trim_end_matches('/'),
            path_and_query
        )
    }
    pub fn media(&self, path: &str) -> Url {
        self.join(&format!("/media/{path}"))
    }
}

/// RFC 3339 with milliseconds and `Z`, as Mastodon and its clients write dates.
pub fn rfc3339_millis(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Longest side of an image preview, in pixels.
pub const THUMBNAIL_SIDE: u32 = 400;

/// Preview size for an image of `w` x `h`, keeping the aspect ratio.
pub fn thumbnail_size(w: u32, h: u32) -> (u32, u32) {
    if w <= THUMBNAIL_SIDE && h <= THUMBNAIL_SIDE {
        return (w, h);
    }
    if w >= h {
        (
            THUMBNAIL_SIDE,
            ((h as u64 * THUMBNAIL_SIDE as u64) / w as u64).max(1) as u32,
        )
    } else {
        (
            ((w as u64 * THUMBNAIL_SIDE as u64) / h as u64).max(1) as u32,
            THUMBNAIL_SIDE,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_keep_the_port() {
        let urls = NodeUrls::new("http", "127.0.0.1:8080").unwrap();
        assert_eq!(
            urls.actor("ada").as_str(),
            "http://127.0.0.1:8080/users/ada"
        );
        assert_eq!(urls.profile("ada").as_str(), "http://127.0.0.1:8080/@ada");
        assert_eq!(urls.shared_inbox().as_str(), "http://127.0.0.1:8080/inbox");
    }

    #[test]
    fn dates_are_rfc3339_utc() {
        assert_eq!(rfc3339_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            rfc3339_millis(1_700_000_000_123),
            "2023-11-14T22:13:20.123Z"
        );
    }
}
