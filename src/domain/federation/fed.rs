//! What the node keeps for federation: the HTTP client with its policy, the node's own signing
//! key, parsed keys of local accounts, remote signers' keys, and the workers' wake-ups. A leaf:
//! the domain's `Node` holds it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use openssl::pkey::{PKey, Private};
use tokio::sync::Notify;

use crate::domain::signer_keys::SignerKeys;
use crate::net::{Net, Signer};

/// Federation machinery shared by the node: the HTTP client with its policy, the node's own
/// signing key, parsed user keys, remote signers' keys, and the delivery and inbox workers'
/// wake-ups.
pub struct Fed {
    pub net: Net,
    pub node_signer: Signer,
    /// Parsed private keys of local accounts, by account id.
    keys: Mutex<HashMap<i64, Arc<PKey<Private>>>>,
    /// Inbound signature checks: parsed public keys and the refetch limit.
    pub signer_keys: SignerKeys,
    pub wake: Notify,
    /// Wakes the inbox worker (`jobs::inbox`) when an activity was queued.
    pub inbox_wake: Notify,
}

impl Fed {
    pub fn new(net: Net, node_signer: Signer) -> Fed {
        Fed {
            net,
            node_signer,
            keys: Mutex::new(HashMap::new()),
            signer_keys: Default::default(),
            wake: Notify::new(),
            inbox_wake: Notify::new(),
        }
    }
}

impl Fed {
    /// The parsed key of a local account, parsing and keeping it on first use.
    pub fn account_key<E>(
        &self,
        account: i64,
        parse: impl FnOnce() -> Result<PKey<Private>, E>,
    ) -> Result<Arc<PKey<Private>>, E> {
        let mut cache = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(k) = cache.get(&account) {
            return Ok(k.clone());
        }
        let key = Arc::new(parse()?);
        cache.insert(account, key.clone());
        Ok(key)
    }
}
