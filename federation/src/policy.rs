//! Federation policy: the one place that decides who may read what over ActivityPub.
//!
//! Every handler that serves an AS2 object asks [`ReadPolicy::decide`] and obeys the answer, so
//! switching on authorized fetch (signed GETs from allowed peers only) changes this module and
//! nothing else.

/// Who is asking, as far as the HTTP layer could establish it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requester {
    /// No signature, or one we did not check.
    Anonymous,
    /// A request whose HTTP signature verified; both domains matter for the allowlist.
    Signed {
        key_domain: String,
        actor_domain: String,
    },
}

/// What is being read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectKind {
    /// An actor document: peers need at least its public key to verify our signatures.
    Actor,
    /// A status, activity or collection.
    Content,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Serve the whole object.
    Full,
    /// Serve only the actor's public key, nothing about the account.
    KeyOnly,
    /// Refuse: 401 asks the requester to sign, 403 says signing will not help.
    Unauthorized(&'static str),
    Forbidden(&'static str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadPolicy {
    /// Anyone may read. The node runs like this until incoming signatures are verified.
    Open,
    /// Authorized fetch: only signed requests from peers `allowed` accepts see content.
    SignedPeersOnly,
}

impl ReadPolicy {
    pub fn decide(
        &self,
        requester: &Requester,
        object: ObjectKind,
        allowed: impl Fn(&str) -> bool,
    ) -> Access {
        match (self, requester) {
            (ReadPolicy::Open, _) => Access::Full,
            (ReadPolicy::SignedPeersOnly, Requester::Anonymous) => match object {
                ObjectKind::Actor => Access::KeyOnly,
                ObjectKind::Content => Access::Unauthorized("request must be signed"),
            },
            (
                ReadPolicy::SignedPeersOnly,
                Requester::Signed {
                    key_domain,
                    actor_domain,
                },
            ) => {
                if allowed(key_domain) && allowed(actor_domain) {
                    Access::Full
                } else {
                    Access::Forbidden("peer is not allowed to federate with this node")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_policy_serves_everyone() {
        assert_eq!(
            ReadPolicy::Open.decide(&Requester::Anonymous, ObjectKind::Content, |_| false),
            Access::Full
        );
    }

    #[test]
    fn signed_policy_checks_both_domains() {
        let p = ReadPolicy::SignedPeersOnly;
        assert_eq!(
            p.decide(&Requester::Anonymous, ObjectKind::Actor, |_| true),
            Access::KeyOnly
        );
        assert!(matches!(
            p.decide(&Requester::Anonymous, ObjectKind::Content, |_| true),
            Access::Unauthorized(_)
        ));
        let signed = |k: &str, a: &str| Requester::Signed {
            key_domain: k.into(),
            actor_domain: a.into(),
        };
        let allowed = |d: &str| d == "hq.example";
        assert_eq!(
            p.decide(
                &signed("hq.example", "hq.example"),
                ObjectKind::Content,
                allowed
            ),
            Access::Full
        );
        assert!(matches!(
            p.decide(
                &signed("relay.example", "hq.example"),
                ObjectKind::Content,
                allowed
            ),
            Access::Forbidden(_)
        ));
    }
}

/// Which peer domains may federate: the allowlist (default) or the blocklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    Allowlist,
    Blocklist,
}

/// How an allowed peer takes part: a node of the organisation receives every public status and
/// its public statuses are listed here; a partner federates only through follows and mentions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tier {
    Org,
    Partner,
}

impl Tier {
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Org => "org",
            Tier::Partner => "partner",
        }
    }

    pub fn parse(s: &str) -> Option<Tier> {
        match s {
            "org" => Some(Tier::Org),
            "partner" => Some(Tier::Partner),
            _ => None,
        }
    }
}

/// The peer-domain decision. Domains are `host` or `host:port`, compared in lower case.
/// A block always wins over an allow, in either mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainPolicy {
    pub mode: Mode,
    allowed: std::collections::BTreeSet<String>,
    blocked: std::collections::BTreeSet<String>,
    /// Allowed entries of the partner tier; the other allowed entries are the organisation's.
    partners: std::collections::BTreeSet<String>,
}

impl DomainPolicy {
    pub fn new(mode: Mode, allowed: &[String], blocked: &[String]) -> DomainPolicy {
        let norm = |v: &[String]| {
            v.iter()
                .map(|d| d.trim().to_ascii_lowercase())
                .filter(|d| !d.is_empty())
                .collect()
        };
        DomainPolicy {
            mode,
            allowed: norm(allowed),
            blocked: norm(blocked),
            partners: Default::default(),
        }
    }

    /// The same policy with `partners` allowed as partners (listed as allowed if they were not).
    pub fn with_partners(mut self, partners: &[String]) -> DomainPolicy {
        for d in partners {
            let d = d.trim().to_ascii_lowercase();
            if !d.is_empty() {
                self.allowed.insert(d.clone());
                self.partners.insert(d);
            }
        }
        self
    }

    /// The tier of an allowed peer; `None` when it is not allowed. Only explicitly allowed
    /// entries are the organisation's: in blocklist mode any other domain is a partner.
    pub fn tier(&self, domain: &str) -> Option<Tier> {
        if !self.allows(domain) {
            return None;
        }
        let domain = domain.to_ascii_lowercase();
        if self.allowed.contains(&domain) && !self.partners.contains(&domain) {
            Some(Tier::Org)
        } else {
            Some(Tier::Partner)
        }
    }

    /// Every allowed peer, of either tier, that is not blocked.
    pub fn allowed_peers(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .allowed
            .iter()
            .chain(self.partners.iter())
            .filter(|d| !self.blocked.contains(*d))
            .cloned()
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The organisation's peers: allowed, not blocked, not partners.
    pub fn org_peers(&self) -> Vec<String> {
        self.allowed
            .iter()
            .filter(|d| !self.blocked.contains(*d) && !self.partners.contains(*d))
            .cloned()
            .collect()
    }

    pub fn allows(&self, domain: &str) -> bool {
        let domain = domain.to_ascii_lowercase();
        if self.blocked.contains(&domain) {
            return false;
        }
        match self.mode {
            Mode::Allowlist => self.allowed.contains(&domain),
            Mode::Blocklist => true,
        }
    }

    /// Explicitly listed as allowed (private addresses are reachable only then).
    pub fn explicitly_allows(&self, domain: &str) -> bool {
        let domain = domain.to_ascii_lowercase();
        self.allowed.contains(&domain) && !self.blocked.contains(&domain)
    }
}

impl DomainPolicy {
    /// Is some explicitly allowed entry on this host (any port)? Name resolution sees no port.
    pub fn explicitly_allows_host(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.allowed.iter().any(|d| {
            !self.blocked.contains(d)
                && (d == &host
                    || d.rsplit_once(':')
                        .is_some_and(|(h, p)| h == host && p.parse::<u16>().is_ok()))
        })
    }
}

/// Addresses that only reach this machine or the internal network: loopback, private,
/// link-local, carrier-grade NAT, unspecified, unique-local, documentation and benchmark ranges.
pub fn is_internal_address(ip: std::net::IpAddr) -> bool {
    use std::net::IpAddr;
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 198 && (18..20).contains(&o[1]))
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal_address(IpAddr::V4(v4));
            }
            let seg = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || (seg[0] & 0xfe00) == 0xfc00
                || (seg[0] & 0xffc0) == 0xfe80
                || seg[0] == 0x2002
        }
    }
}

/// `host[:port]` of a URL, as domains are written in the policy.
pub fn url_domain(url: &url::Url) -> Option<String> {
    let host = url.host_str()?.to_ascii_lowercase();
    Some(match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    })
}

#[cfg(test)]
mod domain_tests {
    use super::*;

    #[test]
    fn tiers_of_allowed_peers() {
        let p = DomainPolicy::new(
            Mode::Allowlist,
            &["a.example".into(), "gone.example".into()],
            &["gone.example".into()],
        )
        .with_partners(&["C.example".into()]);
        assert_eq!(p.tier("a.example"), Some(Tier::Org));
        assert_eq!(p.tier("c.example"), Some(Tier::Partner));
        assert!(p.allows("c.example"), "a partner is allowed");
        assert_eq!(p.tier("gone.example"), None, "a block wins over a tier");
        assert_eq!(p.tier("d.example"), None);
        assert_eq!(p.org_peers(), vec!["a.example".to_string()]);
        let open = DomainPolicy::new(Mode::Blocklist, &["a.example".into()], &[]);
        assert_eq!(open.tier("a.example"), Some(Tier::Org));
        assert_eq!(open.tier("anyone.example"), Some(Tier::Partner));
        assert_eq!(Tier::parse("partner"), Some(Tier::Partner));
        assert_eq!(Tier::parse("friend"), None);
    }

    #[test]
    fn block_wins_and_modes_differ() {
        let allow = DomainPolicy::new(
            Mode::Allowlist,
            &["HQ.example".into(), "both.example".into()],
            &["both.example".into()],
        );
        assert!(allow.allows("hq.example"));
        assert!(!allow.allows("both.example"), "a block wins over an allow");
        assert!(!allow.allows("other.example"));
        let block = DomainPolicy::new(Mode::Blocklist, &[], &["bad.example".into()]);
        assert!(block.allows("other.example"));
        assert!(!block.allows("bad.example"));
        let u = url::Url::parse("http://127.0.0.1:8080/users/a").unwrap();
        assert_eq!(url_domain(&u).as_deref(), Some("127.0.0.1:8080"));
        let p = DomainPolicy::new(Mode::Blocklist, &["10.0.0.5:8443".into()], &[]);
        assert!(p.explicitly_allows_host("10.0.0.5"));
        assert!(!p.explicitly_allows_host("10.0.0.6"));
    }

    #[test]
    fn internal_addresses() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.1.1",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(is_internal_address(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2001:4860::8888"] {
            assert!(!is_internal_address(ip.parse().unwrap()), "{ip}");
        }
    }
}
