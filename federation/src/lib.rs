//! The ActivityPub side of a fika node: AS2 wire types, discovery documents (WebFinger, NodeInfo,
//! host-meta) and the federation policy. Nothing here touches the database: the node supplies
//! the facts and this crate decides what goes on the wire.

pub mod activities;
pub mod actor;
pub mod announcements;
pub mod insights;
pub mod nodeinfo;
pub mod policy;
pub mod protocol;
pub mod signatures;
pub mod webfinger;

/// JSON-LD context every AS2 document we serve starts with.
pub const AS_CONTEXT: &str = "https://www.w3.org/ns/activitystreams";
/// Security vocabulary for `publicKey`.
pub const SECURITY_CONTEXT: &str = "https://w3id.org/security/v1";
/// Media type peers ask for and we answer with.
pub const ACTIVITY_JSON: &str = "application/activity+json";

/// Does an `Accept` header ask for an ActivityStreams document rather than a web page?
///
/// Peers send `application/activity+json` or
/// `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`, sometimes in a list
/// with other types.
pub fn accepts_activity_json(accept: &str) -> bool {
    accept.split(',').any(|part| {
        let mut params = part.split(';').map(str::trim);
        let media = params.next().unwrap_or("").to_ascii_lowercase();
        match media.as_str() {
            "application/activity+json" => true,
            // ld+json only with the AS2 profile: a bare ld+json could be any vocabulary.
            "application/ld+json" => params.any(|p| {
                p.split_once('=').is_some_and(|(k, v)| {
                    k.trim().eq_ignore_ascii_case("profile")
                        && v.trim()
                            .trim_matches('"')
                            .split(' ')
                            .any(|p| p == AS_CONTEXT)
                })
            }),
            _ => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_as2_media_types() {
        assert!(accepts_activity_json("application/activity+json"));
        assert!(accepts_activity_json(
            r#"application/ld+json; profile="https://www.w3.org/ns/activitystreams""#
        ));
        assert!(accepts_activity_json(
            r#"text/html, application/ld+json; profile="https://www.w3.org/ns/activitystreams", */*"#
        ));
        assert!(!accepts_activity_json("application/ld+json"));
        assert!(!accepts_activity_json("text/html,application/xhtml+xml"));
        assert!(!accepts_activity_json(""));
    }
}
