//! The JWKS cache: one [`JwksActor`] per issuer owns that issuer's verification keys.
//!
//! What the actor owns and guarantees:
//! - It loads keys from OpenID discovery (cross-checking the discovered `issuer`), a
//!   `jwks_uri`, or a `jwks_file` it polls for changes.
//! - It refreshes on a schedule: the JWKS `Cache-Control: max-age` clamped to
//!   [`Tuning::min_refresh`]..[`Tuning::max_refresh`], else [`Tuning::default_refresh`].
//! - It publishes an immutable [`KeySnapshot`] through an `ArcSwap`, so request handlers
//!   read keys without a message round trip. Only an unknown `kid` is a message
//!   ([`KeyMiss`]); misses refetch at most once per [`Tuning::miss_cooldown`] and concurrent
//!   misses wait for the same fetch.
//! - A failed or garbage fetch never replaces good keys: the last good set stays trusted
//!   for the issuer's `max_stale`, with readiness `degraded`. A successful fetch replaces the
//!   set whole, so a key the issuer dropped stops being trusted at that refresh.
//!
//! Who sends to it: `identity::Verifier`, only on a `kid` miss.

mod actor;
mod error;
mod fetch;
mod key;
mod messages;
mod parse;
mod probe;

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failed unwrap is a failed test.
mod tests;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

pub(crate) use actor::IssuerSource;
pub use actor::JwksActor;
pub use error::{JwksError, SkipReason};
pub use fetch::cache_max_age;
pub(crate) use fetch::{KeySource, load_file};
pub use key::{Algorithm, Curve, KeyKind, VerifyingKey};
pub use messages::KeyMiss;
pub use parse::{MIN_RSA_BITS, ParsedSet, parse_jwk, parse_jwks};
pub use probe::{IssuerProbe, key_location, probe_issuer};

/// Timings and limits of key fetching. The defaults are the product's; tests shorten them.
#[derive(Debug, Clone)]
pub struct Tuning {
    /// Shortest refresh interval, whatever `max-age` says. Default 5 min.
    pub min_refresh: Duration,
    /// Longest refresh interval. Default 24 h.
    pub max_refresh: Duration,
    /// Refresh interval when the JWKS response has no `max-age`. Default 10 min.
    pub default_refresh: Duration,
    /// Least time between two fetches caused by unknown `kid`s. Default 30 s.
    pub miss_cooldown: Duration,
    /// Retry interval after a failed fetch. Default 30 s.
    pub retry_interval: Duration,
    /// Cap on one whole fetch (discovery plus JWKS). Default 10 s.
    pub fetch_timeout: Duration,
    /// Cap on one document's size. Default 1 MiB.
    pub max_document_bytes: usize,
    /// How often a `jwks_file` is checked for changes. Default 2 s.
    pub file_poll: Duration,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            min_refresh: Duration::from_secs(5 * 60),
            max_refresh: Duration::from_secs(24 * 3600),
            default_refresh: Duration::from_secs(10 * 60),
            miss_cooldown: Duration::from_secs(30),
            retry_interval: Duration::from_secs(30),
            fetch_timeout: Duration::from_secs(10),
            max_document_bytes: 1024 * 1024,
            file_poll: Duration::from_secs(2),
        }
    }
}

/// The keys of one issuer at one moment. Immutable; replaced whole on every change.
#[derive(Debug, Default)]
pub struct KeySnapshot {
    keys: Vec<Arc<VerifyingKey>>,
    by_kid: HashMap<String, usize>,
    fingerprints: HashSet<[u8; 32]>,
    algorithms: Vec<Algorithm>,
}

impl KeySnapshot {
    /// A snapshot of `keys`, accepting `algorithms`.
    pub fn new(keys: Vec<VerifyingKey>, algorithms: Vec<Algorithm>) -> Self {
        let keys: Vec<_> = keys.into_iter().map(Arc::new).collect();
        let by_kid = keys
            .iter()
            .enumerate()
            .filter_map(|(index, key)| key.kid.clone().map(|kid| (kid, index)))
            .collect();
        let fingerprints = keys.iter().map(|key| key.fingerprint).collect();
        Self { keys, by_kid, fingerprints, algorithms }
    }

    /// An empty snapshot (keys not loaded yet, or dropped after going stale).
    pub fn empty(algorithms: Vec<Algorithm>) -> Self {
        Self::new(Vec::new(), algorithms)
    }

    /// The key with this `kid`.
    pub fn by_kid(&self, kid: &str) -> Option<&Arc<VerifyingKey>> {
        self.by_kid.get(kid).and_then(|index| self.keys.get(*index))
    }

    /// Every key, for tokens without a `kid`.
    pub fn keys(&self) -> &[Arc<VerifyingKey>] {
        &self.keys
    }

    /// Whether a key with this fingerprint is still trusted.
    pub fn holds(&self, fingerprint: &[u8; 32]) -> bool {
        self.fingerprints.contains(fingerprint)
    }

    /// The algorithms tokens of this issuer may use: the configured list, narrowed by
    /// discovery when it advertises a subset.
    pub fn algorithms(&self) -> &[Algorithm] {
        &self.algorithms
    }

    /// Whether no key is loaded.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}
