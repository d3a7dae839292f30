//! Sending to Web Push services (RFC 8030): the payload encrypted for the user agent (RFC 8291,
//! `aes128gcm`, by the `ece` crate), the node identified by a VAPID token (RFC 8292, ES256 on
//! OpenSSL), and an HTTP client that will not POST into the node's own network unless told to.

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use openssl::bn::BigNumContext;
use openssl::ec::{EcGroup, EcKey, EcPoint, PointConversionForm};
use openssl::ecdsa::EcdsaSig;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use serde_json::json;
use url::Url;

use crate::config::PushConfig;

/// How long a VAPID token is good for (RFC 8292 allows up to 24 hours).
const TOKEN_LIFETIME_SECONDS: i64 = 12 * 3600;
/// A push service keeps an undelivered message this long (the `TTL` header).
pub const TTL_SECONDS: u32 = 48 * 3600;

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("{0}")]
    BadEndpoint(String),
    #[error("{0}")]
    BadKey(String),
    #[error("cannot encrypt or sign the push: {0}")]
    Crypto(String),
    #[error("push to {host} failed: {message}")]
    Transport { host: String, message: String },
    #[error("the push service at {host} answered {status}")]
    Status { host: String, status: u16 },
}

impl PushError {
    /// The subscription is gone for good (RFC 8030: 404 or 410 from the push service).
    pub fn subscription_gone(&self) -> bool {
        matches!(self, PushError::Status { status, .. } if [404, 410].contains(status))
    }

    /// Trying again will not help: a 4xx other than 408, 425 and 429, or a bad subscription.
    pub fn is_permanent(&self) -> bool {
        match self {
            PushError::Status { status, .. } => {
                (400..500).contains(status) && ![408, 425, 429].contains(status)
            }
            PushError::BadEndpoint(_) | PushError::BadKey(_) | PushError::Crypto(_) => true,
            PushError::Transport { .. } => false,
        }
    }
}

/// A new P-256 key pair for VAPID, as (private PEM, public PEM).
pub fn generate_key() -> Result<(String, String), PushError> {
    let crypto = |e: openssl::error::ErrorStack| PushError::Crypto(e.to_string());
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).map_err(crypto)?;
    let key = EcKey::generate(&group).map_err(crypto)?;
    let private = key.private_key_to_pem().map_err(crypto)?;
    let public = key.public_key_to_pem().map_err(crypto)?;
    Ok((
        String::from_utf8_lossy(&private).into_owned(),
        String::from_utf8_lossy(&public).into_owned(),
    ))
}

/// Base64 as apps send keys: URL-safe or standard, padded or not.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let t = text.trim();
    [&URL_SAFE_NO_PAD, &URL_SAFE, &STANDARD_NO_PAD, &STANDARD]
        .iter()
        .find_map(|e| e.decode(t).ok())
}

/// The user agent's public key (`keys[p256dh]`): an uncompressed point on P-256.
pub fn decode_p256dh(text: &str) -> Result<Vec<u8>, PushError> {
    let bad = || PushError::BadKey("keys[p256dh] is not a P-256 public key".into());
    let bytes = decode_base64(text).ok_or_else(bad)?;
    if bytes.len() != 65 || bytes[0] != 4 {
        return Err(bad());
    }
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).map_err(|_| bad())?;
    let mut ctx = BigNumContext::new().map_err(|_| bad())?;
    EcPoint::from_bytes(&group, &bytes, &mut ctx).map_err(|_| bad())?;
    Ok(bytes)
}

/// The user agent's authentication secret (`keys[auth]`): 16 bytes (RFC 8291, section 3.2).
pub fn decode_auth(text: &str) -> Result<Vec<u8>, PushError> {
    decode_base64(text)
        .filter(|b| b.len() == 16)
        .ok_or_else(|| PushError::BadKey("keys[auth] is not a 16-byte secret".into()))
}

pub struct WebPush {
    client: reqwest::Client,
    key: PKey<Private>,
    /// The VAPID public key as apps are given it (`server_key`, `vapid_key`).
    public_key: String,
    contact: String,
    allow_http: bool,
    allow_private: bool,
}

impl WebPush {
    /// `contact` is the VAPID `sub` claim; `user_agent` names the node to push services.
    pub fn new(
        private_pem: &str,
        cfg: &PushConfig,
        contact: String,
        user_agent: &str,
    ) -> Result<WebPush, PushError> {
        let crypto = |e: openssl::error::ErrorStack| PushError::Crypto(e.to_string());
        let ec = EcKey::private_key_from_pem(private_pem.as_bytes()).map_err(crypto)?;
        let mut ctx = BigNumContext::new().map_err(crypto)?;
        let point = ec
            .public_key()
            .to_bytes(ec.group(), PointConversionForm::UNCOMPRESSED, &mut ctx)
            .map_err(crypto)?;
        let key = PKey::from_ec_key(ec).map_err(crypto)?;
        let timeout = Duration::from_secs(cfg.timeout_seconds);
        let client = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver {
                allow_private: cfg.allow_private_addresses,
            }))
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(user_agent)
            .build()
            .map_err(|e| PushError::Crypto(e.to_string()))?;
        Ok(WebPush {
            client,
            key,
            public_key: URL_SAFE_NO_PAD.encode(point),
            contact,
            allow_http: cfg.allow_http,
            allow_private: cfg.allow_private_addresses,
        })
    }

    pub fn public_key(&self) -> &str {
        &self.public_key
    }

    /// An endpoint this node will push to: HTTPS (HTTP only when allowed), and not an
    /// address inside the node's network unless allowed (names are checked again when they
    /// are resolved, so a name that later points inside is refused then).
    pub fn check_endpoint(&self, endpoint: &str) -> Result<Url, PushError> {
        let bad = |why: &str| PushError::BadEndpoint(format!("endpoint {why}"));
        let url = Url::parse(endpoint.trim()).map_err(|_| bad("is not a URL"))?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            _ => return Err(bad("must be an https URL")),
        }
        let internal = match url.host() {
            None => return Err(bad("has no host")),
            Some(url::Host::Ipv4(ip)) => {
                fika_federation::policy::is_internal_address(std::net::IpAddr::V4(ip))
            }
            Some(url::Host::Ipv6(ip)) => {
                fika_federation::policy::is_internal_address(std::net::IpAddr::V6(ip))
            }
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        };
        if internal && !self.allow_private {
            return Err(bad("is on an internal address"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(bad("must not carry credentials"));
        }
        Ok(url)
    }

    /// The `Authorization` header for a push to `endpoint` (RFC 8292, section 3).
    pub fn vapid_authorization(
        &self,
        endpoint: &Url,
        now_seconds: i64,
    ) -> Result<String, PushError> {
        let crypto = |e: openssl::error::ErrorStack| PushError::Crypto(e.to_string());
        let audience = endpoint.origin().ascii_serialization();
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = json!({
            "aud": audience,
            "exp": now_seconds + TOKEN_LIFETIME_SECONDS,
            "sub": self.contact,
        });
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signing_input = format!("{header}.{claims}");
        let mut signer =
            openssl::sign::Signer::new(MessageDigest::sha256(), &self.key).map_err(crypto)?;
        signer.update(signing_input.as_bytes()).map_err(crypto)?;
        let der = signer.sign_to_vec().map_err(crypto)?;
        // JWS wants r and s, 32 bytes each (RFC 7518, section 3.4), not DER.
        let sig = EcdsaSig::from_der(&der).map_err(crypto)?;
        let mut raw = sig.r().to_vec_padded(32).map_err(crypto)?;
        raw.extend(sig.s().to_vec_padded(32).map_err(crypto)?);
        let token = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(raw));
        Ok(format!("vapid t={token}, k={}", self.public_key))
    }

    /// Encrypts `payload` for the user agent and POSTs it to its push service.
    pub async fn send(
        &self,
        endpoint: &str,
        p256dh: &str,
        auth: &str,
        payload: &[u8],
    ) -> Result<(), PushError> {
        let url = self.check_endpoint(endpoint)?;
        let host = url.host_str().unwrap_or_default().to_string();
        let public = decode_p256dh(p256dh)?;
        let secret = decode_auth(auth)?;
        let body = ece::encrypt(&public, &secret, payload)
            .map_err(|e| PushError::Crypto(e.to_string()))?;
        let authorization = self.vapid_authorization(&url, chrono::Utc::now().timestamp())?;
        let response = self
            .client
            .post(url)
            .header("Authorization", authorization)
            .header("Content-Encoding", "aes128gcm")
            .header("Content-Type", "application/octet-stream")
            .header("TTL", TTL_SECONDS.to_string())
            .header("Urgency", "normal")
            .body(body)
            .send()
            .await
            .map_err(|e| PushError::Transport {
                host: host.clone(),
                message: describe(&e),
            })?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(PushError::Status {
                host,
                status: status.as_u16(),
            })
        }
    }
}

/// The error with its causes (reqwest's own message alone says little: "error sending request").
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Refuses, at connect time, names that resolve to internal addresses (unless allowed), so a
/// subscription cannot point the node at its own network by DNS.
struct GuardedResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        let allow_private = self.allow_private;
        Box::pin(async move {
            let permitted: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| allow_private || !fika_federation::policy::is_internal_address(a.ip()))
                .collect();
            if permitted.is_empty() {
                tracing::warn!(host = %host, "refused to push: the name resolves only to internal addresses");
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

    fn push(cfg: PushConfig) -> WebPush {
        let (private, _) = generate_key().unwrap();
        WebPush::new(&private, &cfg, "mailto:it@corp.example".into(), "fika-test").unwrap()
    }

    #[test]
    fn keys_that_are_not_p256_points_are_refused() {
        let (pair, auth) = ece::generate_keypair_and_auth_secret().unwrap();
        let public = URL_SAFE_NO_PAD.encode(pair.pub_as_raw().unwrap());
        assert_eq!(decode_p256dh(&public).unwrap().len(), 65);
        assert!(decode_auth(&URL_SAFE_NO_PAD.encode(auth)).is_ok());
        // 65 bytes with the uncompressed marker, but not on the curve.
        let mut off_curve = vec![4u8];
        off_curve.extend([7u8; 64]);
        for bad in [
            URL_SAFE_NO_PAD.encode(&off_curve),
            URL_SAFE_NO_PAD.encode([4u8; 33]),
            "not base64 !".to_string(),
            String::new(),
        ] {
            assert!(decode_p256dh(&bad).is_err(), "{bad}");
        }
        assert!(decode_auth(&URL_SAFE_NO_PAD.encode([1u8; 8])).is_err());
    }

    #[test]
    fn endpoints_must_be_https_and_outside_unless_allowed() {
        let strict = push(PushConfig::default());
        assert!(strict.check_endpoint("https://push.example.net/x").is_ok());
        for bad in [
            "http://push.example.net/x",
            "https://127.0.0.1/x",
            "https://10.1.2.3/x",
            "https://[::1]/x",
            "https://localhost/x",
            "https://u:p@push.example.net/x",
            "ftp://push.example.net/x",
            "nonsense",
        ] {
            assert!(strict.check_endpoint(bad).is_err(), "{bad}");
        }
        let open = push(PushConfig {
            allow_http: true,
            allow_private_addresses: true,
            ..PushConfig::default()
        });
        assert!(open.check_endpoint("http://127.0.0.1:9/x").is_ok());
    }

    #[test]
    fn the_vapid_token_verifies_with_the_public_key_it_names() {
        let p = push(PushConfig::default());
        let url = Url::parse("https://push.example.net:8443/send/abc").unwrap();
        let header = p.vapid_authorization(&url, 1_000_000).unwrap();
        let (t, k) = header
            .strip_prefix("vapid t=")
            .and_then(|r| r.split_once(", k="))
            .unwrap();
        assert_eq!(k, p.public_key());
        let parts: Vec<&str> = t.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["aud"], "https://push.example.net:8443");
        assert_eq!(claims["exp"], 1_000_000 + TOKEN_LIFETIME_SECONDS);
        assert_eq!(claims["sub"], "mailto:it@corp.example");
        // Verify r||s against the public key, as a push service does.
        let raw = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        assert_eq!(raw.len(), 64);
        let sig = EcdsaSig::from_private_components(
            openssl::bn::BigNum::from_slice(&raw[..32]).unwrap(),
            openssl::bn::BigNum::from_slice(&raw[32..]).unwrap(),
        )
        .unwrap();
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        let mut ctx = BigNumContext::new().unwrap();
        let point =
            EcPoint::from_bytes(&group, &URL_SAFE_NO_PAD.decode(k).unwrap(), &mut ctx).unwrap();
        let public = EcKey::from_public_key(&group, &point).unwrap();
        let digest = openssl::sha::sha256(format!("{}.{}", parts[0], parts[1]).as_bytes());
        assert!(sig.verify(&digest, &public).unwrap());
    }

    #[test]
    fn gone_and_permanent_answers() {
        let status = |status| PushError::Status {
            host: "h".into(),
            status,
        };
        assert!(status(410).subscription_gone() && status(404).subscription_gone());
        assert!(!status(500).subscription_gone());
        assert!(status(400).is_permanent() && !status(429).is_permanent());
        assert!(!status(503).is_permanent());
    }
}
