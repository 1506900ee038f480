//! The verified-token cache: skips signature checks for tokens already verified.
//!
//! Keyed by SHA-256 of the whole token, so the cache never stores a token and a lookup
//! cannot be confused by a different token. An entry is used only until the token's `exp`
//! (plus leeway) and only while the key that verified it is still in the issuer's snapshot.
//! Only successes are cached: a failure is recomputed every time, so a key that arrives
//! later is picked up at once.
//!
//! Bounded by entry count, split over shards behind short `std::sync::Mutex` sections
//! (never held across an await). When a shard is full, expired entries are dropped first,
//! then arbitrary ones: eviction is not LRU, which costs hit rate only when more distinct
//! live tokens circulate than the cache holds.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use super::claims::Identity;

const SHARDS: usize = 16;

/// What the cache keeps about one verified token.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    /// The identity built at verification.
    pub identity: Arc<Identity>,
    /// Index of the issuer in the verifier's list.
    pub issuer: usize,
    /// Fingerprint of the key that verified the signature.
    pub fingerprint: [u8; 32],
    /// `exp` plus leeway, seconds since the epoch.
    pub valid_until: f64,
}

/// The cache; shared by every clone of the verifier.
#[derive(Debug)]
pub(crate) struct TokenCache {
    shards: Vec<Mutex<HashMap<[u8; 32], Entry>>>,
    per_shard: usize,
}

/// The cache key of a token.
pub(crate) fn digest(token: &[u8]) -> [u8; 32] {
    openssl::sha::sha256(token)
}

impl TokenCache {
    /// A cache holding at most about `capacity` entries (zero disables caching).
    pub(crate) fn new(capacity: usize) -> Self {
        let per_shard = capacity.div_ceil(SHARDS);
        Self { shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(), per_shard }
    }

    fn shard(&self, key: &[u8; 32]) -> Option<&Mutex<HashMap<[u8; 32], Entry>>> {
        self.shards.get(usize::from(key[0]) % SHARDS)
    }

    /// The entry for `key` if it is still valid at `now` and `still_trusted` accepts it;
    /// an entry that fails either check is removed.
    pub(crate) fn get(
        &self,
        key: &[u8; 32],
        now: f64,
        still_trusted: impl FnOnce(&Entry) -> bool,
    ) -> Option<Entry> {
        let shard = self.shard(key)?;
        let mut map = shard.lock().ok()?;
        let entry = map.get(key)?;
        if now <= entry.valid_until && still_trusted(entry) {
            return Some(entry.clone());
        }
        map.remove(key);
        None
    }

    /// Stores a verified token.
    pub(crate) fn insert(&self, key: [u8; 32], entry: Entry, now: f64) {
        if self.per_shard == 0 {
            return;
        }
        let Some(shard) = self.shard(&key) else { return };
        let Ok(mut map) = shard.lock() else { return };
        if map.len() >= self.per_shard {
            map.retain(|_, old| old.valid_until >= now);
            while map.len() >= self.per_shard {
                let Some(victim) = map.keys().next().copied() else { break };
                map.remove(&victim);
            }
        }
        map.insert(key, entry);
    }

    /// Number of entries, for tests and metrics.
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|shard| shard.lock().map(|map| map.len()).unwrap_or(0)).sum()
    }
}
