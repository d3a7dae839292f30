//! What the node keeps for federation: the HTTP client with its policy, the node's own signing
//! key, parsed keys of local accounts, remote signers' keys, and the workers' wake-ups. A leaf:
//! the domain's `Node` holds it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use openssl::pkey::{PKey, Private};
use tokio::sync::{mpsc, Notify};

use crate::domain::signer_keys::SignerKeys;
use crate::net::{Net, Signer};
use crate::store::accounts::AccountRow;
use crate::store::inbox::InboxJob;

/// How long a claimed inbox job is leased: longer than working on it may take. Should the
/// process die, the job is due again when its lease ends.
pub const INBOX_LEASE_MS: i64 = 5 * 60 * 1000;

/// Activities accepted by this process waiting to be handed to its inbox worker. Bounded so a
/// job never waits here near its lease: when full, jobs are queued due at once and the worker
/// claims them from the database instead.
const INBOX_HANDOFF: usize = 256;

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
    /// Hands accepted activities to the inbox worker (`jobs::inbox`).
    pub inbox: InboxHandoff,
    /// What this process saw of each peer lately (for the console).
    pub health: PeerHealth,
}

/// What this process saw of one peer: its last successful delivery, its last accepted inbound
/// activity, and its delivery circuit breaker. Kept in memory, per process: it starts empty
/// after a restart.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PeerStatus {
    pub last_delivered_at: Option<i64>,
    pub last_inbound_at: Option<i64>,
    pub failures_in_a_row: u32,
    /// The breaker is open (deliveries wait) until then.
    pub breaker_open_until: Option<i64>,
}

#[derive(Default)]
pub struct PeerHealth {
    peers: Mutex<HashMap<String, PeerStatus>>,
}

impl PeerHealth {
    fn with(&self, peer: &str, change: impl FnOnce(&mut PeerStatus)) {
        let mut peers = self.peers.lock().unwrap_or_else(|p| p.into_inner());
        change(peers.entry(peer.to_string()).or_default());
    }

    pub fn delivered(&self, peer: &str, at: i64) {
        self.with(peer, |s| {
            s.last_delivered_at = Some(at);
            s.failures_in_a_row = 0;
            s.breaker_open_until = None;
        });
    }

    pub fn failed(&self, peer: &str, failures: u32, open_until: Option<i64>) {
        self.with(peer, |s| {
            s.failures_in_a_row = failures;
            s.breaker_open_until = open_until;
        });
    }

    pub fn received(&self, peer: &str, at: i64) {
        self.with(peer, |s| s.last_inbound_at = Some(at));
    }

    pub fn get(&self, peer: &str) -> PeerStatus {
        self.peers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(peer)
            .cloned()
            .unwrap_or_default()
    }
}

/// A job handed to the worker with what the inbox already has: the parsed activity and its
/// verified signer, so neither is read again.
pub struct HandedOver {
    pub job: InboxJob,
    pub activity: serde_json::Value,
    pub signer: AccountRow,
}

/// The way from the inbox to this process's inbox worker. A job handed over this way was
/// queued leased, so the worker starts it without claiming it again; a job queued due (the
/// hand-off full, or no worker) is claimed from the database after a wake-up.
pub struct InboxHandoff {
    jobs: mpsc::Sender<HandedOver>,
    receiver: Mutex<Option<mpsc::Receiver<HandedOver>>>,
    /// Wakes the worker when a job was queued due rather than handed over.
    pub wake: Notify,
}

impl InboxHandoff {
    fn new() -> InboxHandoff {
        let (jobs, receiver) = mpsc::channel(INBOX_HANDOFF);
        InboxHandoff {
            jobs,
            receiver: Mutex::new(Some(receiver)),
            wake: Notify::new(),
        }
    }

    /// A place for one job, if the worker can take it (there is room and it has not stopped).
    pub fn reserve(&self) -> Option<mpsc::Permit<'_, HandedOver>> {
        self.jobs.try_reserve().ok()
    }

    /// The receiving end, for the one worker of this process.
    pub fn take_receiver(&self) -> Option<mpsc::Receiver<HandedOver>> {
        self.receiver
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
    }
}

impl Fed {
    pub fn new(net: Net, node_signer: Signer) -> Fed {
        Fed {
            net,
            node_signer,
            keys: Mutex::new(HashMap::new()),
            signer_keys: Default::default(),
            wake: Notify::new(),
            inbox: InboxHandoff::new(),
            health: PeerHealth::default(),
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
