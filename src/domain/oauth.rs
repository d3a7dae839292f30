//! OAuth 2 rules: scopes, secrets, codes and tokens.

use std::collections::BTreeSet;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;

/// Every scope a client may ask for (Mastodon's list).
pub const KNOWN_SCOPES: &[&str] = &[
    "read",
    "write",
    "follow",
    "push",
    "profile",
    "admin:read",
    "admin:write",
    "read:accounts",
    "read:blocks",
    "read:bookmarks",
    "read:favourites",
    "read:filters",
    "read:follows",
    "read:lists",
    "read:mutes",
    "read:notifications",
    "read:search",
    "read:statuses",
    "write:accounts",
    "write:blocks",
    "write:bookmarks",
    "write:conversations",
    "write:favourites",
    "write:filters",
    "write:follows",
    "write:lists",
    "write:media",
    "write:mutes",
    "write:notifications",
    "write:reports",
    "write:statuses",
    "admin:read:accounts",
    "admin:read:reports",
    "admin:read:domain_allows",
    "admin:read:domain_blocks",
    "admin:read:ip_blocks",
    "admin:read:email_domain_blocks",
    "admin:read:canonical_email_blocks",
    "admin:write:accounts",
    "admin:write:reports",
    "admin:write:domain_allows",
    "admin:write:domain_blocks",
    "admin:write:ip_blocks",
    "admin:write:email_domain_blocks",
    "admin:write:canonical_email_blocks",
];

/// A set of granted scopes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes(BTreeSet<String>);

impl Scopes {
    /// Parses a space- (or `+`-) separated list; empty means Mastodon's default, `read`.
    pub fn parse(raw: &str) -> Result<Scopes, String> {
        let mut set = BTreeSet::new();
        for s in raw.split([' ', '+', ',']).filter(|s| !s.is_empty()) {
            if !KNOWN_SCOPES.contains(&s) {
                return Err(format!("unknown scope {s:?}"));
            }
            set.insert(s.to_string());
        }
        if set.is_empty() {
            set.insert("read".to_string());
        }
        Ok(Scopes(set))
    }

    /// Does this grant allow an endpoint that needs `required` (e.g. `write:statuses`)?
    /// `read`/`write` cover their granular scopes, the legacy `follow` covers follows and
    /// blocks, `admin:read`/`admin:write` their sub-scopes.
    pub fn allows(&self, required: &str) -> bool {
        if self.0.contains(required) {
            return true;
        }
        if let Some((head, rest)) = required.rsplit_once(':') {
            if self.0.contains(head) {
                return true;
            }
            let follow_family = ["follows", "blocks", "mutes"];
            if (head == "read" || head == "write")
                && follow_family.contains(&rest)
                && self.0.contains("follow")
            {
                return true;
            }
        }
        false
    }

    /// Is every scope in `self` also granted by `other`?
    pub fn is_subset_of(&self, other: &Scopes) -> bool {
        self.0.iter().all(|s| other.allows(s))
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
}

impl std::fmt::Display for Scopes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v: Vec<&str> = self.iter().collect();
        f.write_str(&v.join(" "))
    }
}

/// A random secret (client ids and secrets, codes, tokens): 256 bits, URL-safe.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// What we store instead of a code or token.
pub fn digest(secret: &str) -> String {
    let hash = openssl::sha::sha256(secret.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// PKCE S256: BASE64URL(SHA256(verifier)) must equal the challenge.
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let computed = URL_SAFE_NO_PAD.encode(openssl::sha::sha256(verifier.as_bytes()));
    computed.len() == challenge.len()
        && openssl::memcmp::eq(computed.as_bytes(), challenge.as_bytes())
}

/// Redirect URIs an app may register: the out-of-band URN, or an absolute URI of any scheme
/// (apps use custom schemes such as `oauth2redirect://`), without a fragment.
pub fn validate_redirect_uri(uri: &str) -> Result<(), String> {
    if uri == OOB {
        return Ok(());
    }
    match url::Url::parse(uri) {
        Ok(u) if u.fragment().is_none() => Ok(()),
        Ok(_) => Err("Redirect URI must not contain a fragment.".into()),
        Err(_) => Err("Redirect URI must be an absolute URI.".into()),
    }
}

pub const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_implication() {
        let s = Scopes::parse("read write:statuses follow").unwrap();
        assert!(s.allows("read:notifications"));
        assert!(s.allows("write:statuses"));
        assert!(!s.allows("write:media"));
        assert!(s.allows("write:follows"));
        assert!(!s.allows("admin:read:domain_allows"));
        let admin = Scopes::parse("admin:read").unwrap();
        assert!(admin.allows("admin:read:domain_allows"));
        assert!(!admin.allows("admin:write:domain_allows"));
        assert_eq!(Scopes::parse("").unwrap().to_string(), "read");
        assert!(Scopes::parse("read sudo").is_err());
        assert!(Scopes::parse("read:statuses").unwrap().is_subset_of(&s));
        assert!(!Scopes::parse("push").unwrap().is_subset_of(&s));
    }

    #[test]
    fn pkce_s256() {
        // RFC 7636 appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches(verifier, challenge));
        assert!(!pkce_matches("other", challenge));
    }

    #[test]
    fn redirect_uris() {
        assert!(validate_redirect_uri(OOB).is_ok());
        assert!(validate_redirect_uri("oauth2redirect://com.keylesspalace.tusky/").is_ok());
        assert!(validate_redirect_uri("https://app.example/cb").is_ok());
        assert!(validate_redirect_uri("not a uri").is_err());
        assert!(validate_redirect_uri("https://app.example/cb#x").is_err());
    }

    #[test]
    fn secrets_are_random_and_digests_stable() {
        assert_ne!(random_secret(), random_secret());
        assert_eq!(digest("a"), digest("a"));
        assert_eq!(digest("a").len(), 64);
    }
}
