//! Talking to peer nodes: signed GETs of actors and objects, signed POSTs to inboxes, WebFinger.
//! Every request passes the federation policy first; a refused one is never sent.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use fika_federation::policy::{url_domain, DomainPolicy};
use fika_federation::signatures;
use openssl::pkey::{PKey, Private};
use serde_json::Value;
use url::Url;

/// Largest document we accept from a peer.
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("{0} is not a valid URL")]
    BadUrl(String),
    #[error("refused by federation policy: {0}")]
    Refused(String),
    #[error("request to {url} failed: {message}")]
    Transport { url: String, message: String },
    #[error("{url} answered {status}")]
    Status { url: String, status: u16 },
    #[error("{url} sent an invalid document: {message}")]
    Invalid { url: String, message: String },
}

impl NetError {
    /// Will trying again later not help? (4xx other than 401, 408 and 429, or a refusal.)
    pub fn is_permanent(&self) -> bool {
        match self {
            NetError::Status { status, .. } => {
                (400..500).contains(status) && ![401, 408, 429].contains(status)
            }
            NetError::Refused(_) | NetError::BadUrl(_) => true,
            _ => false,
        }
    }
}

/// A key to sign with and the id peers fetch it by.
#[derive(Clone)]
pub struct Signer {
    pub key_id: String,
    pub key: Arc<PKey<Private>>,
}

pub struct Net {
    client: reqwest::Client,
    /// Swapped whole when admins change the lists; shared with the resolver.
    policy: Arc<std::sync::RwLock<DomainPolicy>>,
    allow_http: bool,
    user_agent: String,
}

impl Net {
    pub fn new(policy: DomainPolicy, allow_http: bool, timeout: Duration, base: &Url) -> Net {
        let user_agent = format!("fika/{} (+{base})", env!("CARGO_PKG_VERSION"));
        let policy = Arc::new(std::sync::RwLock::new(policy));
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver {
                policy: policy.clone(),
            }))
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(user_agent.clone())
            .build()
            .expect("HTTP client");
        Net {
            client,
            policy,
            allow_http,
            user_agent,
        }
    }

    /// May this peer domain federate with us?
    pub fn allows(&self, domain: &str) -> bool {
        self.policy
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .allows(domain)
    }

    /// The tier of an allowed peer; `None` when the policy refuses it.
    pub fn tier(&self, domain: &str) -> Option<fika_federation::policy::Tier> {
        self.policy
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .tier(domain)
    }

    /// The organisation's peers, which receive every public status.
    pub fn org_peers(&self) -> Vec<String> {
        self.policy
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .org_peers()
    }

    /// The scheme a peer is reached with when no URL of it is known: HTTPS, or plain HTTP for a
    /// loopback peer where plain HTTP is allowed (tests and labs).
    pub fn scheme_for(&self, domain: &str) -> &'static str {
        if self.allow_http && crate::config::is_loopback_domain(domain) {
            "http"
        } else {
            "https"
        }
    }

    pub fn policy(&self) -> DomainPolicy {
        self.policy
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn set_policy(&self, policy: DomainPolicy) {
        *self.policy.write().unwrap_or_else(|p| p.into_inner()) = policy;
    }

    /// Parses `url` and checks it against the policy and the scheme rule.
    pub fn check(&self, url: &str) -> Result<(Url, String), NetError> {
        let parsed = Url::parse(url).map_err(|_| NetError::BadUrl(url.to_string()))?;
        match parsed.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            other => {
                return Err(NetError::Refused(format!(
                    "{other}:// to {url} (plain HTTP needs federation.allow_http)"
                )))
            }
        }
        let domain = url_domain(&parsed).ok_or_else(|| NetError::BadUrl(url.to_string()))?;
        if !self.allows(&domain) {
            return Err(NetError::Refused(format!(
                "{domain} is not an allowed peer"
            )));
        }
        // An address literal skips name resolution, so the internal-address rule applies here.
        let ip = match parsed.host() {
            Some(url::Host::Ipv4(v4)) => Some(std::net::IpAddr::V4(v4)),
            Some(url::Host::Ipv6(v6)) => Some(std::net::IpAddr::V6(v6)),
            _ => None,
        };
        if let Some(ip) = ip {
            let host = parsed.host_str().unwrap_or("").trim_matches(['[', ']']);
            if fika_federation::policy::is_internal_address(ip)
                && !self.policy().explicitly_allows_host(host)
            {
                return Err(NetError::Refused(format!(
                    "{ip} is an internal address and {domain} is not an explicitly allowed peer"
                )));
            }
        }
        Ok((parsed, domain))
    }

    fn signed(
        &self,
        method: reqwest::Method,
        url: &Url,
        body: Option<&[u8]>,
        signer: &Signer,
    ) -> Result<reqwest::RequestBuilder, NetError> {
        let host = url_domain(url).ok_or_else(|| NetError::BadUrl(url.to_string()))?;
        let path = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        };
        let headers = signatures::sign(
            &signer.key,
            &signer.key_id,
            method.as_str(),
            &host,
            &path,
            body,
            SystemTime::now(),
        )
        .map_err(|e| NetError::Transport {
            url: url.to_string(),
            message: e.to_string(),
        })?;
        let mut request = self
            .client
            .request(method, url.clone())
            .header("host", host);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        Ok(request)
    }

    /// A signed GET of an ActivityStreams document.
    pub async fn get_json(&self, url: &str, signer: &Signer) -> Result<Value, NetError> {
        let (parsed, _) = self.check(url)?;
        let request = self
            .signed(reqwest::Method::GET, &parsed, None, signer)?
            .header(
                "accept",
                "application/activity+json, application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
            );
        let doc = self.read_json(url, request, true).await?;
        check_served_id(&parsed, &doc).map_err(|message| NetError::Invalid {
            url: url.to_string(),
            message,
        })?;
        Ok(doc)
    }

    /// Reads a JSON answer; with `activity_streams`, only one served as an ActivityStreams
    /// document (a page or anything else is not taken for one).
    async fn read_json(
        &self,
        url: &str,
        request: reqwest::RequestBuilder,
        activity_streams: bool,
    ) -> Result<Value, NetError> {
        let transport = |e: reqwest::Error| NetError::Transport {
            url: url.to_string(),
            message: e.to_string(),
        };
        let mut response = request.send().await.map_err(transport)?;
        if !response.status().is_success() {
            return Err(NetError::Status {
                url: url.to_string(),
                status: response.status().as_u16(),
            });
        }
        if activity_streams {
            let kind = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !is_activity_streams(kind) {
                return Err(NetError::Invalid {
                    url: url.to_string(),
                    message: format!("served as {kind:?}, not as an ActivityStreams document"),
                });
            }
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_RESPONSE_BYTES {
                return Err(NetError::Invalid {
                    url: url.to_string(),
                    message: "document too large".into(),
                });
            }
        }
        serde_json::from_slice(&body).map_err(|e| NetError::Invalid {
            url: url.to_string(),
            message: e.to_string(),
        })
    }

    /// Delivers an activity to an inbox.
    pub async fn post(&self, inbox: &str, body: &[u8], signer: &Signer) -> Result<(), NetError> {
        let (parsed, _) = self.check(inbox)?;
        let response = self
            .signed(reqwest::Method::POST, &parsed, Some(body), signer)?
            .header("content-type", "application/activity+json")
            .body(body.to_vec())
            .send()
            .await
            .map_err(|e| NetError::Transport {
                url: inbox.to_string(),
                message: e.to_string(),
            })?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(NetError::Status {
                url: inbox.to_string(),
                status: response.status().as_u16(),
            })
        }
    }

    /// The actor URL for `user@domain`, by WebFinger.
    pub async fn webfinger(&self, user: &str, domain: &str) -> Result<String, NetError> {
        // HTTPS first; plain HTTP only where allowed (labs), and first for loopback peers.
        let schemes: &[&str] = match (self.allow_http, crate::config::is_loopback_domain(domain)) {
            (true, true) => &["http", "https"],
            (true, false) => &["https", "http"],
            (false, _) => &["https"],
        };
        let mut last = None;
        for scheme in schemes {
            match self.webfinger_at(scheme, user, domain).await {
                Ok(actor) => return Ok(actor),
                // Only a failed connection is worth another scheme; an answer is an answer.
                Err(e @ NetError::Transport { .. }) => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| NetError::BadUrl(domain.to_string())))
    }

    async fn webfinger_at(
        &self,
        scheme: &str,
        user: &str,
        domain: &str,
    ) -> Result<String, NetError> {
        let mut url = Url::parse(&format!("{scheme}://{domain}/.well-known/webfinger"))
            .map_err(|_| NetError::BadUrl(domain.to_string()))?;
        url.query_pairs_mut()
            .append_pair("resource", &format!("acct:{user}@{domain}"));
        let (parsed, _) = self.check(url.as_str())?;
        let request = self
            .client
            .get(parsed)
            .header("accept", "application/jrd+json, application/json")
            .header("user-agent", &self.user_agent);
        let jrd = self.read_json(url.as_str(), request, false).await?;
        jrd.get("links")
            .and_then(Value::as_array)
            .and_then(|links| {
                links.iter().find(|l| {
                    l.get("rel").and_then(Value::as_str) == Some("self")
                        && l.get("type").and_then(Value::as_str).is_some_and(|t| {
                            t.starts_with("application/activity+json")
                                || t.starts_with("application/ld+json")
                        })
                })
            })
            .and_then(|l| l.get("href").and_then(Value::as_str))
            .map(String::from)
            .ok_or_else(|| NetError::Invalid {
                url: url.to_string(),
                message: "no ActivityPub actor link".into(),
            })
    }
}

/// `application/activity+json`, or `application/ld+json` (Mastodon sends the
/// ActivityStreams profile with it; some servers leave it out).
fn is_activity_streams(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/activity+json" || essence == "application/ld+json"
}

/// A fetched document must be the one its URL names: its `id`, when it has one, on the host
/// it was served from (redirects are never followed, so that is the host asked). Otherwise a
/// peer could pass off a copy of someone else's object as theirs.
fn check_served_id(url: &Url, doc: &Value) -> Result<(), String> {
    let Some(id) = doc.get("id") else {
        return Ok(());
    };
    let id = id.as_str().ok_or("its id is not a string")?;
    let id_url = Url::parse(id).map_err(|_| format!("its id {id:?} is not a URL"))?;
    if id_url.host_str() != url.host_str()
        || id_url.port_or_known_default() != url.port_or_known_default()
    {
        return Err(format!(
            "its id {id} is not on the host it was fetched from"
        ));
    }
    Ok(())
}

/// Resolves peer names and refuses internal addresses at connect time, unless the host is an
/// explicitly allowed peer: intranet peers work, server-side request forgery and DNS rebinding
/// (a name that resolves elsewhere than it did when checked) do not.
struct GuardedResolver {
    policy: Arc<std::sync::RwLock<DomainPolicy>>,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        let explicitly_allowed = self
            .policy
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .explicitly_allows_host(&host);
        Box::pin(async move {
            let addrs: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let permitted: Vec<std::net::SocketAddr> = addrs
                .into_iter()
                .filter(|a| {
                    explicitly_allowed || !fika_federation::policy::is_internal_address(a.ip())
                })
                .collect();
            if permitted.is_empty() {
                tracing::warn!(host = %host, "refused to connect: the name resolves only to internal addresses");
                return Err(format!("{host} resolves only to internal addresses").into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(permitted.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_activity_streams_documents_are_taken() {
        for ok in [
            "application/activity+json",
            "application/activity+json; charset=utf-8",
            "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
            "Application/LD+JSON",
        ] {
            assert!(is_activity_streams(ok), "{ok}");
        }
        for bad in [
            "text/html",
            "application/json",
            "",
            "text/plain; application/activity+json",
        ] {
            assert!(!is_activity_streams(bad), "{bad}");
        }
    }

    #[test]
    fn a_fetched_document_names_its_own_host() {
        let url = Url::parse("https://sales.corp.example/users/ana").unwrap();
        let same = json!({"id": "https://sales.corp.example/users/ana#main-key"});
        assert!(check_served_id(&url, &same).is_ok());
        assert!(check_served_id(&url, &json!({"type": "OrderedCollectionPage"})).is_ok());
        for bad in [
            json!({"id": "https://hq.corp.example/users/ana"}),
            json!({"id": "https://sales.corp.example:8443/users/ana"}),
            json!({"id": 7}),
            json!({"id": "not a url"}),
        ] {
            assert!(check_served_id(&url, &bad).is_err(), "{bad}");
        }
    }
}
