//! This run's limits: what the same machine, at the same moment, does with no fika code in
//! the way. Every target is a ratio to one of these.

use std::time::{Duration, Instant};

use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use openssl::sign::{Signer, Verifier};

/// The hello-world server on the node's own stack (axum + tokio, multi-threaded runtime).
pub fn serve_hello(listen: &str) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let app = axum::Router::new()
            .route("/", axum::routing::get(|| async { "Hello, world!" }))
            .route(
                "/json",
                axum::routing::get(|| async {
                    axum::Json(serde_json::json!([{"id": "1", "content": "hello", "visibility": "public", "created_at": "2026-01-01T00:00:00Z"}]))
                }),
            );
        // Same socket settings as the node.
        let listener = axum::serve::ListenerExt::tap_io(
            tokio::net::TcpListener::bind(listen).await?,
            |tcp| {
                let _ = tcp.set_nodelay(true);
            },
        );
        axum::serve(listener, app).await?;
        anyhow::Ok(())
    })
}

/// A signing string the size of a real HTTP-signature one (~300 bytes).
fn signing_string() -> Vec<u8> {
    format!(
        "(request-target): post /inbox\nhost: b.dept.example\ndate: Tue, 24 Nov 2026 15:00:00 GMT\n\
         digest: SHA-256={}\ncontent-type: application/activity+json\n{}",
        "X".repeat(44),
        "y".repeat(120)
    )
    .into_bytes()
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Crypto {
    pub openssl_sign_per_s: f64,
    pub openssl_verify_per_s: f64,
    pub openssl_verify_2core_per_s: f64,
    pub openssl_sign_2core_per_s: f64,
    pub rsa_crate_sign_per_s: f64,
    pub rsa_crate_verify_per_s: f64,
    /// fika's own signing path: digest, headers and RSA signature of a delivery.
    pub fika_sign_per_s: f64,
}

fn rate(window: Duration, mut op: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < window {
        for _ in 0..8 {
            op();
        }
        n += 8;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

pub fn crypto(window: Duration) -> anyhow::Result<Crypto> {
    use rsa::pkcs1::DecodeRsaPrivateKey;
    use sha2::Digest;
    let rsa_key = Rsa::generate(2048)?;
    let der = rsa_key.private_key_to_der()?;
    let pem = String::from_utf8(rsa_key.private_key_to_pem()?)?;
    let key = PKey::from_rsa(rsa_key)?;
    let data = signing_string();
    let signature = {
        let mut s = Signer::new(MessageDigest::sha256(), &key)?;
        s.update(&data)?;
        s.sign_to_vec()?
    };
    let sign_once = |key: &PKey<openssl::pkey::Private>, data: &[u8]| {
        let mut s = Signer::new(MessageDigest::sha256(), key).expect("signer");
        s.update(data).expect("update");
        s.sign_to_vec().expect("sign");
    };
    let verify_once = |key: &PKey<openssl::pkey::Private>, data: &[u8], sig: &[u8]| {
        let mut v = Verifier::new(MessageDigest::sha256(), key).expect("verifier");
        v.update(data).expect("update");
        assert!(v.verify(sig).expect("verify"));
    };
    let mut c = Crypto {
        openssl_sign_per_s: rate(window, || sign_once(&key, &data)),
        openssl_verify_per_s: rate(window, || verify_once(&key, &data, &signature)),
        ..Default::default()
    };
    let shared = std::sync::Arc::new((key.clone(), data.clone(), signature.clone()));
    {
        let s = shared.clone();
        let w = window;
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || rate(w, || verify_once(&s.0, &s.1, &s.2)))
            })
            .collect();
        c.openssl_verify_2core_per_s = handles.into_iter().map(|h| h.join().unwrap_or(0.0)).sum();
        let handles: Vec<_> = (0..2)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || rate(w, || sign_once(&s.0, &s.1)))
            })
            .collect();
        c.openssl_sign_2core_per_s = handles.into_iter().map(|h| h.join().unwrap_or(0.0)).sum();
    }
    let private = rsa::RsaPrivateKey::from_pkcs1_der(&der)?;
    let public = private.to_public_key();
    let digest = sha2::Sha256::digest(&data);
    let scheme = || rsa::Pkcs1v15Sign::new::<sha2::Sha256>();
    let rsa_sig = private.sign(scheme(), &digest)?;
    assert_eq!(
        rsa_sig, signature,
        "both RSA implementations produce PKCS#1 v1.5 signatures"
    );
    c.rsa_crate_sign_per_s = rate(window, || {
        let d = sha2::Sha256::digest(&data);
        private.sign(scheme(), &d).expect("rsa sign");
    });
    c.rsa_crate_verify_per_s = rate(window, || {
        let d = sha2::Sha256::digest(&data);
        public.verify(scheme(), &d, &rsa_sig).expect("rsa verify");
    });
    let fika_key = fika_federation::signatures::parse_private_key(&pem)?;
    let body = vec![b'{'; 1500];
    c.fika_sign_per_s = rate(window, || {
        fika_federation::signatures::sign(
            &fika_key,
            "http://a.example/users/alice#main-key",
            "POST",
            "b.example",
            "/inbox",
            Some(&body),
            std::time::SystemTime::now(),
        )
        .expect("fika sign");
    });
    Ok(c)
}
