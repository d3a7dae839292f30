//! Who signed an incoming request: the HTTP signature checked against the signer's key, which
//! is fetched when unknown and refetched (rarely) when it may have been rotated.

use fika_federation::signatures::{self, RequestParts};

use crate::domain::Node;
use crate::store::accounts::AccountRow;
use crate::store::StoreError;

/// A signer's key fetched less than this long ago is not refetched when a signature fails.
const KEY_FRESH_MS: i64 = 10 * 60 * 1000;

/// Why a request's signer is not accepted.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    /// No signature, or one that does not verify: the caller may try another scheme.
    #[error("{0}")]
    Unsigned(String),
    /// Signed from a domain the federation policy does not allow.
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The account whose key signed `request` (with `body`, when it has one). Every refusal is
/// logged with its reason.
pub async fn signer(
    node: &Node,
    request: &RequestParts<'_>,
    body: Option<&[u8]>,
) -> Result<AccountRow, VerifyError> {
    let unsigned = |why: String| {
        tracing::info!(reason = %why, "refused an unverifiable request");
        VerifyError::Unsigned(why)
    };
    let raw =
        (request.header)("signature").ok_or_else(|| unsigned("request is not signed".into()))?;
    let sig = signatures::parse_signature_header(&raw).map_err(|e| unsigned(e.to_string()))?;
    signatures::precheck(&sig, request, body, std::time::SystemTime::now())
        .map_err(|e| unsigned(e.to_string()))?;
    let key_url =
        url::Url::parse(&sig.key_id).map_err(|_| unsigned("keyId is not a URL".into()))?;
    let key_domain = fika_federation::policy::url_domain(&key_url)
        .ok_or_else(|| unsigned("keyId has no host".into()))?;
    if !node.fed.net.allows(&key_domain) {
        tracing::info!(peer = %key_domain, "refused a request from a peer the policy does not allow");
        return Err(VerifyError::Refused(format!(
            "{key_domain} is not allowed to federate with this node"
        )));
    }
    let keys = &node.fed.signer_keys;
    let check = |account: &AccountRow| -> bool {
        keys.public_key(&sig.key_id, &account.public_key_pem)
            .map(|key| signatures::verify(&sig, request, &key).is_ok())
            .unwrap_or(false)
    };
    let actor_url = {
        let mut u = key_url.clone();
        u.set_fragment(None);
        u.to_string()
    };
    if let Some(known) = node.store.account_by_key_id(&sig.key_id).await? {
        if check(&known) {
            return Ok(known);
        }
        // The key may have been rotated: fetch the actor once more, unless our copy is recent
        // (then a failure means a bad signature, and a forged request costs no fetch at all),
        // and at most once per key id in ten minutes, so forged requests naming a known key
        // cannot make this node fetch again and again.
        let fresh = known.fetched_at.unwrap_or(0) + KEY_FRESH_MS > crate::store::now_millis();
        if fresh {
            return Err(unsigned(
                "signature does not verify (the signer's key was fetched recently)".into(),
            ));
        }
        if !keys.may_refetch(&sig.key_id, std::time::Instant::now()) {
            return Err(unsigned(
                "signature does not verify (the signer's key was refetched recently)".into(),
            ));
        }
        let refreshed =
            super::resolve::fetch_actor(node, known.ap_id.as_deref().unwrap_or(&actor_url))
                .await
                .map_err(|e| unsigned(format!("cannot refresh the signer's key: {e}")))?;
        return if check(&refreshed) {
            Ok(refreshed)
        } else {
            Err(unsigned("signature does not verify".into()))
        };
    }
    let fetched = super::resolve::fetch_actor(node, &actor_url)
        .await
        .map_err(|e| unsigned(format!("cannot fetch the signer's key: {e}")))?;
    if fetched.key_id.as_deref() != Some(sig.key_id.as_str()) {
        return Err(unsigned(
            "keyId does not belong to the actor that owns it".into(),
        ));
    }
    if check(&fetched) {
        Ok(fetched)
    } else {
        Err(unsigned("signature does not verify".into()))
    }
}
