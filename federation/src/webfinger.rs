//! WebFinger (RFC 7033) resources and documents, and the host-meta pointer to them.

use serde::{Deserialize, Serialize};
use url::Url;

/// What a `resource` parameter names, once we know it is about this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// `acct:NAME@DOMAIN`, or the actor / profile URL of a local account.
    Account(String),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ResourceError {
    /// The parameter is not a WebFinger resource at all: answer 400.
    #[error("malformed resource: {0}")]
    Malformed(String),
    /// Well-formed, but it names nothing this node hosts: answer 404.
    #[error("resource is not on this node")]
    NotHere,
}

/// Parses a `resource` parameter for a node serving `domain` (host, with `:port` when not the
/// default) at `base` (scheme, domain and port).
///
/// Accepts `acct:name@domain`, a bare `name@domain` (some clients drop the scheme), and the
/// actor (`/users/name`) or profile (`/@name`) URL.
pub fn parse_resource(raw: &str, domain: &str, base: &Url) -> Result<Resource, ResourceError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(ResourceError::Malformed("empty resource".into()));
    }
    let lower = raw.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        let url = Url::parse(raw).map_err(|e| ResourceError::Malformed(e.to_string()))?;
        if url.origin() != base.origin() {
            return Err(ResourceError::NotHere);
        }
        let path = url.path().trim_end_matches('/');
        let name = path
            .strip_prefix("/users/")
            .or_else(|| path.strip_prefix("/@"))
            .filter(|n| !n.is_empty() && !n.contains('/'))
            .ok_or(ResourceError::NotHere)?;
        return Ok(Resource::Account(name.to_string()));
    }
    let acct = if lower.starts_with("acct:") {
        &raw[5..]
    } else if raw.contains(':') && !raw.contains('@') {
        return Err(ResourceError::Malformed(format!(
            "unsupported resource scheme in {raw:?}"
        )));
    } else {
        raw
    };
    let acct = acct.strip_prefix('@').unwrap_or(acct);
    let (name, host) = acct
        .rsplit_once('@')
        .ok_or_else(|| ResourceError::Malformed(format!("{raw:?} is not name@domain")))?;
    if name.is_empty() || host.is_empty() || name.contains('@') {
        return Err(ResourceError::Malformed(format!(
            "{raw:?} is not name@domain"
        )));
    }
    if !host.eq_ignore_ascii_case(domain) {
        return Err(ResourceError::NotHere);
    }
    Ok(Resource::Account(name.to_string()))
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Jrd {
    pub subject: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    #[serde(default)]
    pub links: Vec<JrdLink>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct JrdLink {
    pub rel: String,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
}

/// The JRD for a local account: Mastodon needs the actor to map back to exactly this `acct:`.
pub fn account_jrd(username: &str, domain: &str, actor: &Url, profile: &Url) -> Jrd {
    Jrd {
        subject: format!("acct:{username}@{domain}"),
        aliases: vec![profile.to_string(), actor.to_string()],
        links: vec![
            JrdLink {
                rel: "http://webfinger.net/rel/profile-page".into(),
                kind: Some("text/html".into()),
                href: Some(profile.to_string()),
                template: None,
            },
            JrdLink {
                rel: "self".into(),
                kind: Some(crate::ACTIVITY_JSON.into()),
                href: Some(actor.to_string()),
                template: None,
            },
        ],
    }
}

/// `/.well-known/host-meta` (XRD), which older peers read to find the WebFinger template.
pub fn host_meta_xrd(base: &Url) -> String {
    let template = format!(
        "{}/.well-known/webfinger?resource={{uri}}",
        base.as_str().trim_end_matches('/')
    );
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  \
         <Link rel=\"lrdd\" template=\"{}\"/>\n</XRD>\n",
        xml_escape(&template)
    )
}

/// The JSON flavour of host-meta (`/.well-known/host-meta.json`).
pub fn host_meta_json(base: &Url) -> Jrd {
    Jrd {
        subject: base.to_string(),
        aliases: vec![],
        links: vec![JrdLink {
            rel: "lrdd".into(),
            kind: None,
            href: None,
            template: Some(format!(
                "{}/.well-known/webfinger?resource={{uri}}",
                base.as_str().trim_end_matches('/')
            )),
        }],
    }
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("http://127.0.0.1:8080").unwrap()
    }
    const DOMAIN: &str = "127.0.0.1:8080";

    #[test]
    fn parses_acct_and_urls() {
        let ok = |r: &str| parse_resource(r, DOMAIN, &base());
        assert_eq!(
            ok("acct:ada@127.0.0.1:8080"),
            Ok(Resource::Account("ada".into()))
        );
        assert_eq!(
            ok("ada@127.0.0.1:8080"),
            Ok(Resource::Account("ada".into()))
        );
        assert_eq!(
            ok("ACCT:ada@127.0.0.1:8080"),
            Ok(Resource::Account("ada".into()))
        );
        assert_eq!(
            ok("http://127.0.0.1:8080/users/ada"),
            Ok(Resource::Account("ada".into()))
        );
        assert_eq!(
            ok("http://127.0.0.1:8080/@ada"),
            Ok(Resource::Account("ada".into()))
        );
    }

    #[test]
    fn tells_malformed_from_foreign() {
        let r = |s: &str| parse_resource(s, DOMAIN, &base());
        assert!(matches!(r(""), Err(ResourceError::Malformed(_))));
        assert!(matches!(r("acct:nobody"), Err(ResourceError::Malformed(_))));
        assert!(matches!(
            r("acct:@127.0.0.1:8080"),
            Err(ResourceError::Malformed(_))
        ));
        assert!(matches!(r("mailto:x"), Err(ResourceError::Malformed(_))));
        assert!(matches!(r("http://[::1"), Err(ResourceError::Malformed(_))));
        assert_eq!(r("acct:ada@other.example"), Err(ResourceError::NotHere));
        assert_eq!(
            r("https://other.example/users/ada"),
            Err(ResourceError::NotHere)
        );
        assert_eq!(
            r("http://127.0.0.1:8080/about"),
            Err(ResourceError::NotHere)
        );
    }

    #[test]
    fn jrd_links_back_to_the_actor() {
        let actor = Url::parse("http://127.0.0.1:8080/users/ada").unwrap();
        let profile = Url::parse("http://127.0.0.1:8080/@ada").unwrap();
        let jrd = account_jrd("ada", DOMAIN, &actor, &profile);
        assert_eq!(jrd.subject, "acct:ada@127.0.0.1:8080");
        let me = jrd.links.iter().find(|l| l.rel == "self").unwrap();
        assert_eq!(me.kind.as_deref(), Some("application/activity+json"));
        assert_eq!(me.href.as_deref(), Some(actor.as_str()));
        assert!(host_meta_xrd(&base())
            .contains("template=\"http://127.0.0.1:8080/.well-known/webfinger?resource={uri}\""));
    }
}
