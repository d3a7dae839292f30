//! Remote signers' public keys as inbound signature checks use them, in memory:
//!
//! - parsed keys, so an inbound activity does not re-parse its signer's PEM: keyed by key id,
//!   re-parsed when the stored PEM differs from the one parsed (the key was rotated), bounded
//!   in size (least recently used out);
//! - when each key id last caused a refetch of its actor after a signature failed to verify.
//!   A failure may mean the key was rotated, so the actor is fetched again, but at most once per
//!   key id every [`REFETCH_INTERVAL`]: otherwise every forged request naming a known key would
//!   make this node send a request of its own. Bounded too: when the table is full of recent
//!   entries, no refetch is made at all (the request is refused and a real peer retries later).
//!
//! Both are per process and start empty; that costs at most one parse and one refetch per key
//! after a restart.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fika_federation::signatures::{self, SignatureError};
use openssl::pkey::{PKey, Public};

/// A key id's actor is refetched after a failed verification at most this often.
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(10 * 60);
const MAX_PARSED: usize = 1024;
const MAX_REFETCHES: usize = 4096;

struct Parsed {
    pem: String,
    key: Arc<PKey<Public>>,
    used: u64,
}

#[derive(Default)]
struct ParsedKeys {
    by_key_id: HashMap<String, Parsed>,
    clock: u64,
}

pub struct SignerKeys {
    parsed: Mutex<ParsedKeys>,
    max_parsed: usize,
    refetched: Mutex<HashMap<String, Instant>>,
    max_refetches: usize,
}

impl Default for SignerKeys {
    fn default() -> Self {
        Self::with_limits(MAX_PARSED, MAX_REFETCHES)
    }
}

impl SignerKeys {
    pub fn with_limits(max_parsed: usize, max_refetches: usize) -> SignerKeys {
        SignerKeys {
            parsed: Mutex::default(),
            max_parsed: max_parsed.max(1),
            refetched: Mutex::default(),
            max_refetches,
        }
    }

    /// The parsed public key `pem` of `key_id`: from the cache when it holds this very PEM,
    /// otherwise parsed (and cached in place of an older PEM).
    pub fn public_key(&self, key_id: &str, pem: &str) -> Result<Arc<PKey<Public>>, SignatureError> {
        {
            let mut cache = self.parsed.lock().unwrap_or_else(|p| p.into_inner());
            cache.clock += 1;
            let now = cache.clock;
            if let Some(entry) = cache.by_key_id.get_mut(key_id) {
                if entry.pem == pem {
                    entry.used = now;
                    return Ok(entry.key.clone());
                }
            }
        }
        // Parsed outside the lock: other checks need not wait for it.
        let key = Arc::new(signatures::parse_public_key(pem)?);
        let mut cache = self.parsed.lock().unwrap_or_else(|p| p.into_inner());
        cache.clock += 1;
        let now = cache.clock;
        if !cache.by_key_id.contains_key(key_id) && cache.by_key_id.len() >= self.max_parsed {
            let oldest = cache
                .by_key_id
                .iter()
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                cache.by_key_id.remove(&oldest);
            }
        }
        cache.by_key_id.insert(
            key_id.to_string(),
            Parsed {
                pem: pem.to_string(),
                key: key.clone(),
                used: now,
            },
        );
        Ok(key)
    }

    /// May a failed verification with `key_id` refetch its actor now? Records the refetch when
    /// it may, so concurrent failures for the same key make a single one.
    pub fn may_refetch(&self, key_id: &str, now: Instant) -> bool {
        let mut recent = self.refetched.lock().unwrap_or_else(|p| p.into_inner());
        let fresh = |at: &Instant| now.saturating_duration_since(*at) < REFETCH_INTERVAL;
        if recent.get(key_id).is_some_and(fresh) {
            return false;
        }
        if !recent.contains_key(key_id) && recent.len() >= self.max_refetches {
            recent.retain(|_, at| fresh(at));
            if recent.len() >= self.max_refetches {
                tracing::warn!(
                    "too many signers with failed signatures recently; not refetching any more keys for now"
                );
                return false;
            }
        }
        recent.insert(key_id.to_string(), now);
        true
    }

    /// How many parsed keys are held (for tests).
    pub fn parsed_len(&self) -> usize {
        self.parsed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .by_key_id
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public_pem() -> String {
        crate::domain::accounts::generate_key_pair().unwrap().1
    }

    #[test]
    fn a_key_id_is_refetched_at_most_once_per_interval() {
        let keys = SignerKeys::default();
        let t0 = Instant::now();
        assert!(keys.may_refetch("https://a.example/users/x#main-key", t0));
        for s in [0, 1, 60, 599] {
            assert!(!keys.may_refetch(
                "https://a.example/users/x#main-key",
                t0 + Duration::from_secs(s)
            ));
        }
        assert!(
            keys.may_refetch("https://a.example/users/y#main-key", t0),
            "per key id"
        );
        assert!(keys.may_refetch("https://a.example/users/x#main-key", t0 + REFETCH_INTERVAL));
    }

    #[test]
    fn the_refetch_table_is_bounded_and_fails_closed() {
        let keys = SignerKeys::with_limits(4, 3);
        let t0 = Instant::now();
        for k in ["a", "b", "c"] {
            assert!(keys.may_refetch(k, t0));
        }
        assert!(!keys.may_refetch("d", t0), "full of recent entries");
        assert!(!keys.may_refetch("a", t0));
        // Once entries age out they make room.
        let later = t0 + REFETCH_INTERVAL + Duration::from_secs(1);
        assert!(keys.may_refetch("d", later));
        assert_eq!(keys.refetched.lock().unwrap().len(), 1);
    }

    #[test]
    fn parsed_keys_are_reused_until_the_pem_changes() {
        let keys = SignerKeys::default();
        let (one, two) = (public_pem(), public_pem());
        let a = keys.public_key("k", &one).unwrap();
        let b = keys.public_key("k", &one).unwrap();
        assert!(Arc::ptr_eq(&a, &b), "parsed once");
        let rotated = keys.public_key("k", &two).unwrap();
        assert!(!Arc::ptr_eq(&a, &rotated), "a new PEM is parsed again");
        assert!(rotated.public_eq(&signatures::parse_public_key(&two).unwrap()));
        assert_eq!(keys.parsed_len(), 1);
        assert!(keys.public_key("bad", "not a pem").is_err());
        assert_eq!(keys.parsed_len(), 1, "a bad PEM is not cached");
    }

    #[test]
    fn the_parsed_cache_is_bounded_least_recently_used_out() {
        let keys = SignerKeys::with_limits(2, 10);
        let pem = public_pem();
        let a = keys.public_key("a", &pem).unwrap();
        keys.public_key("b", &pem).unwrap();
        keys.public_key("a", &pem).unwrap(); // a is used again: b is the oldest
        keys.public_key("c", &pem).unwrap();
        assert_eq!(keys.parsed_len(), 2);
        assert!(
            Arc::ptr_eq(&a, &keys.public_key("a", &pem).unwrap()),
            "a kept"
        );
        let cache = keys.parsed.lock().unwrap();
        assert!(!cache.by_key_id.contains_key("b"), "b evicted");
    }
}
