//! NodeInfo 2.0 / 2.1 and the `/.well-known/nodeinfo` discovery document (FEP-f1d5).

use serde_json::{json, Value};
use url::Url;

pub const SCHEMA_20: &str = "http://nodeinfo.diaspora.software/ns/schema/2.0";
pub const SCHEMA_21: &str = "http://nodeinfo.diaspora.software/ns/schema/2.1";
/// The Mastodon release whose client API we answer like. Clients gate features on it
/// (some libraries only recognise a server through `metadata.upstream`), so it moves up only
/// when the gated endpoints exist.
pub const MASTODON_COMPAT_VERSION: &str = "4.2.0";

pub struct Usage {
    pub total_users: i64,
    pub active_month: i64,
    pub active_halfyear: i64,
    pub local_posts: i64,
}

pub fn discovery(base: &Url) -> Value {
    let root = base.as_str().trim_end_matches('/');
    json!({
        "links": [
            {"rel": SCHEMA_20, "href": format!("{root}/nodeinfo/2.0")},
            {"rel": SCHEMA_21, "href": format!("{root}/nodeinfo/2.1")},
        ]
    })
}

/// NodeInfo in `version` "2.0" or "2.1" (the fields we fill are the same in both).
pub fn document(
    version: &str,
    software_version: &str,
    node_name: &str,
    open_registrations: bool,
    usage: &Usage,
) -> Value {
    let software = json!({"name": "fika", "version": software_version});
    json!({
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": open_registrations,
        "usage": {
            "users": {
                "total": usage.total_users,
                "activeMonth": usage.active_month,
                "activeHalfyear": usage.active_halfyear,
            },
            "localPosts": usage.local_posts,
        },
        "metadata": {
            "nodeName": node_name,
            "upstream": {"name": "mastodon", "version": MASTODON_COMPAT_VERSION},
        }
    })
}
