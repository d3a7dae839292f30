//! HTTP Signatures, draft-cavage flavour, as Mastodon-class peers send and expect them:
//! `rsa-sha256` over `(request-target) host date [digest]`, with `Digest: SHA-256=…` on bodies.
//! RSA runs through OpenSSL (several times faster than the pure-Rust `rsa` crate).

use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private, Public};
use openssl::sign::{Signer, Verifier};

/// How far a request's `Date` may be from our clock, either way.
pub const MAX_CLOCK_SKEW: Duration = Duration::from_secs(3600);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("missing Signature header")]
    Missing,
    #[error("malformed Signature header: {0}")]
    Malformed(String),
    #[error("unsupported signature algorithm {0:?}")]
    Algorithm(String),
    #[error("signed header {0:?} is missing from the request")]
    MissingHeader(String),
    #[error("the signature must cover {0}")]
    NotCovered(&'static str),
    #[error("Date is missing, malformed or outside the accepted window")]
    Date,
    #[error("Digest does not match the body")]
    Digest,
    #[error("signature does not verify")]
    Invalid,
    #[error("key error: {0}")]
    Key(String),
}

/// A parsed `Signature` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    pub key_id: String,
    pub algorithm: Option<String>,
    pub headers: Vec<String>,
    pub signature: Vec<u8>,
}

pub fn parse_signature_header(value: &str) -> Result<SignatureHeader, SignatureError> {
    let mut key_id = None;
    let mut algorithm = None;
    let mut headers = None;
    let mut signature = None;
    let mut rest = value.trim();
    while !rest.is_empty() {
        let (name, after) = rest
            .split_once('=')
            .ok_or_else(|| SignatureError::Malformed(format!("expected name=value in {rest:?}")))?;
        let after = after.trim_start();
        let (val, remaining) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted
                .find('"')
                .ok_or_else(|| SignatureError::Malformed("unterminated quote".into()))?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (&after[..end], &after[end..])
        };
        match name.trim().to_ascii_lowercase().as_str() {
            "keyid" => key_id = Some(val.to_string()),
            "algorithm" => algorithm = Some(val.to_ascii_lowercase()),
            "headers" => {
                headers = Some(
                    val.split_whitespace()
                        .map(str::to_ascii_lowercase)
                        .collect::<Vec<_>>(),
                )
            }
            "signature" => {
                signature = Some(
                    STANDARD
                        .decode(val)
                        .map_err(|e| SignatureError::Malformed(format!("signature: {e}")))?,
                )
            }
            _ => {}
        }
        rest = remaining.trim_start().trim_start_matches(',').trim_start();
    }
    Ok(SignatureHeader {
        key_id: key_id.ok_or_else(|| SignatureError::Malformed("no keyId".into()))?,
        algorithm,
        // The draft's default when `headers` is absent.
        headers: headers.unwrap_or_else(|| vec!["date".to_string()]),
        signature: signature.ok_or_else(|| SignatureError::Malformed("no signature".into()))?,
    })
}

/// `SHA-256=<base64>` of a body.
pub fn digest_header(body: &[u8]) -> String {
    format!("SHA-256={}", STANDARD.encode(openssl::sha::sha256(body)))
}

/// Does a `Digest` header (possibly listing several algorithms) match the body?
pub fn digest_matches(header: &str, body: &[u8]) -> bool {
    let ours = STANDARD.encode(openssl::sha::sha256(body));
    header.split(',').any(|part| {
        part.trim()
            .split_once('=')
            .is_some_and(|(alg, value)| alg.eq_ignore_ascii_case("sha-256") && value == ours)
    })
}

/// The request as the signature sees it.
pub struct RequestParts<'a> {
    pub method: &'a str,
    /// Path and query, as sent.
    pub path_and_query: &'a str,
    /// Lower-cased header name → value lookup.
    pub header: &'a (dyn Fn(&str) -> Option<String> + Sync),
}

fn signing_string(names: &[String], req: &RequestParts<'_>) -> Result<String, SignatureError> {
    let mut lines = Vec::with_capacity(names.len());
    for name in names {
        let value = match name.as_str() {
            "(request-target)" => {
                format!("{} {}", req.method.to_ascii_lowercase(), req.path_and_query)
            }
            other => {
                (req.header)(other).ok_or_else(|| SignatureError::MissingHeader(other.into()))?
            }
        };
        lines.push(format!("{name}: {value}"));
    }
    Ok(lines.join("\n"))
}

/// Headers to add to an outgoing request: `Date`, `Digest` (with a body) and `Signature`.
pub fn sign(
    key: &PKey<Private>,
    key_id: &str,
    method: &str,
    host: &str,
    path_and_query: &str,
    body: Option<&[u8]>,
    now: SystemTime,
) -> Result<Vec<(&'static str, String)>, SignatureError> {
    let date = httpdate::fmt_http_date(now);
    let digest = body.map(digest_header);
    let mut names = vec!["(request-target)", "host", "date"];
    if digest.is_some() {
        names.push("digest");
    }
    let names: Vec<String> = names.into_iter().map(String::from).collect();
    let lookup = |h: &str| match h {
        "host" => Some(host.to_string()),
        "date" => Some(date.clone()),
        "digest" => digest.clone(),
        _ => None,
    };
    let string = signing_string(
        &names,
        &RequestParts {
            method,
            path_and_query,
            header: &lookup,
        },
    )?;
    let key_err = |e: openssl::error::ErrorStack| SignatureError::Key(e.to_string());
    let mut signer = Signer::new(MessageDigest::sha256(), key).map_err(key_err)?;
    signer.update(string.as_bytes()).map_err(key_err)?;
    let signature = STANDARD.encode(signer.sign_to_vec().map_err(key_err)?);
    let mut out = vec![("date", date)];
    if let Some(d) = digest {
        out.push(("digest", d));
    }
    out.push((
        "signature",
        format!(
            "keyId=\"{key_id}\",algorithm=\"rsa-sha256\",headers=\"{}\",signature=\"{signature}\"",
            names.join(" ")
        ),
    ));
    Ok(out)
}

/// Checks what can be checked before the key is known: algorithm, covered headers, the date
/// window, and the body's digest.
pub fn precheck(
    sig: &SignatureHeader,
    req: &RequestParts<'_>,
    body: Option<&[u8]>,
    now: SystemTime,
) -> Result<(), SignatureError> {
    match sig.algorithm.as_deref() {
        None | Some("rsa-sha256") | Some("hs2019") => {}
        Some(other) => return Err(SignatureError::Algorithm(other.into())),
    }
    let covers = |h: &str| sig.headers.iter().any(|x| x == h);
    if !covers("(request-target)") {
        return Err(SignatureError::NotCovered("(request-target)"));
    }
    if !covers("host") {
        return Err(SignatureError::NotCovered("host"));
    }
    if !covers("date") {
        return Err(SignatureError::NotCovered("date"));
    }
    let date = (req.header)("date").ok_or(SignatureError::Date)?;
    let sent = httpdate::parse_http_date(&date).map_err(|_| SignatureError::Date)?;
    let skew = match now.duration_since(sent) {
        Ok(d) => d,
        Err(e) => e.duration(),
    };
    if skew > MAX_CLOCK_SKEW {
        return Err(SignatureError::Date);
    }
    if let Some(body) = body {
        if !covers("digest") {
            return Err(SignatureError::NotCovered("digest"));
        }
        let digest = (req.header)("digest").ok_or(SignatureError::Digest)?;
        if !digest_matches(&digest, body) {
            return Err(SignatureError::Digest);
        }
    }
    Ok(())
}

/// Verifies the signature itself against the signer's public key.
pub fn verify(
    sig: &SignatureHeader,
    req: &RequestParts<'_>,
    key: &PKey<Public>,
) -> Result<(), SignatureError> {
    let string = signing_string(&sig.headers, req)?;
    let key_err = |e: openssl::error::ErrorStack| SignatureError::Key(e.to_string());
    let mut verifier = Verifier::new(MessageDigest::sha256(), key).map_err(key_err)?;
    verifier.update(string.as_bytes()).map_err(key_err)?;
    match verifier.verify(&sig.signature) {
        Ok(true) => Ok(()),
        _ => Err(SignatureError::Invalid),
    }
}

pub fn parse_public_key(pem: &str) -> Result<PKey<Public>, SignatureError> {
    PKey::public_key_from_pem(pem.as_bytes()).map_err(|e| SignatureError::Key(e.to_string()))
}

pub fn parse_private_key(pem: &str) -> Result<PKey<Private>, SignatureError> {
    PKey::private_key_from_pem(pem.as_bytes()).map_err(|e| SignatureError::Key(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use openssl::rsa::Rsa;
    use std::collections::HashMap;

    fn keys() -> (PKey<Private>, PKey<Public>) {
        let private = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
        let public = PKey::public_key_from_pem(&private.public_key_to_pem().unwrap()).unwrap();
        (private, public)
    }

    fn request_headers(signed: &[(&str, String)], host: &str) -> HashMap<String, String> {
        let mut h: HashMap<String, String> = signed
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        h.insert("host".into(), host.into());
        h
    }

    #[test]
    fn signs_and_verifies_a_post() {
        let (private, public) = keys();
        let body = br#"{"type":"Follow"}"#;
        let now = SystemTime::now();
        let signed = sign(
            &private,
            "https://a.example/users/x#main-key",
            "POST",
            "b.example",
            "/inbox",
            Some(body),
            now,
        )
        .unwrap();
        let headers = request_headers(&signed, "b.example");
        let lookup = |n: &str| headers.get(n).cloned();
        let req = RequestParts {
            method: "POST",
            path_and_query: "/inbox",
            header: &lookup,
        };
        let sig = parse_signature_header(&headers["signature"]).unwrap();
        assert_eq!(sig.key_id, "https://a.example/users/x#main-key");
        assert_eq!(sig.headers, ["(request-target)", "host", "date", "digest"]);
        precheck(&sig, &req, Some(body), now).unwrap();
        verify(&sig, &req, &public).unwrap();

        // Another body, another path, another key, an old date: all refused.
        assert_eq!(
            precheck(&sig, &req, Some(b"{}"), now),
            Err(SignatureError::Digest)
        );
        let other = RequestParts {
            method: "POST",
            path_and_query: "/users/y/inbox",
            header: &lookup,
        };
        assert_eq!(verify(&sig, &other, &public), Err(SignatureError::Invalid));
        let (_, stranger) = keys();
        assert_eq!(verify(&sig, &req, &stranger), Err(SignatureError::Invalid));
        let later = now + Duration::from_secs(2 * 3600);
        assert_eq!(
            precheck(&sig, &req, Some(body), later),
            Err(SignatureError::Date)
        );
    }

    #[test]
    fn signed_get_without_body() {
        let (private, public) = keys();
        let now = SystemTime::now();
        let signed = sign(
            &private,
            "https://a.example/actor#main-key",
            "GET",
            "b.example:8443",
            "/users/y?page=1",
            None,
            now,
        )
        .unwrap();
        assert!(signed.iter().all(|(k, _)| *k != "digest"));
        let headers = request_headers(&signed, "b.example:8443");
        let lookup = |n: &str| headers.get(n).cloned();
        let req = RequestParts {
            method: "GET",
            path_and_query: "/users/y?page=1",
            header: &lookup,
        };
        let sig = parse_signature_header(&headers["signature"]).unwrap();
        precheck(&sig, &req, None, now).unwrap();
        verify(&sig, &req, &public).unwrap();
    }

    #[test]
    fn parses_real_world_headers() {
        // GoToSocial: hs2019, no fragment in keyId, spaces after commas.
        let h = parse_signature_header(
            r#"keyId="https://gts.example/users/x/main-key", algorithm="hs2019", headers="(request-target) host date", signature="AAAA""#,
        )
        .unwrap();
        assert_eq!(h.key_id, "https://gts.example/users/x/main-key");
        assert_eq!(h.algorithm.as_deref(), Some("hs2019"));
        assert_eq!(h.signature, vec![0, 0, 0]);
        assert!(parse_signature_header("garbage").is_err());
        assert!(parse_signature_header(r#"keyId="k""#).is_err());
        let sig = SignatureHeader {
            key_id: "k".into(),
            algorithm: Some("ed25519".into()),
            headers: vec![],
            signature: vec![],
        };
        let none = |_: &str| None;
        let req = RequestParts {
            method: "GET",
            path_and_query: "/",
            header: &none,
        };
        assert!(matches!(
            precheck(&sig, &req, None, SystemTime::now()),
            Err(SignatureError::Algorithm(_))
        ));
        assert!(digest_matches(
            &format!("sha-512=x,{}", digest_header(b"hi")),
            b"hi"
        ));
    }
}
