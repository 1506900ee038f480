//! The seam between the limiter actor and where bucket state lives: Redis (shared by every
//! instance) or this process (the embedded store). Both take the same [`Check`]s and return
//! the same raw [`Reply`], which `algorithm.rs` turns into verdicts and headers.

use std::future::Future;
use std::sync::Arc;

use super::algorithm::Rule;
use super::error::StoreError;

/// One policy to decide for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The policy's name.
    pub policy: Arc<str>,
    /// The hashed counter key (see `key::key_hash`).
    pub key_hash: String,
    /// How to decide it.
    pub rule: Rule,
}

/// What a store answered for one batch of checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The store's clock when it decided, µs since the epoch.
    pub now_us: u64,
    /// Whether every check admitted the request; if not, nothing was consumed.
    pub admitted: bool,
    /// Per check, in order: the TAT or count after the request if admitted, before it if not.
    pub values: Vec<u64>,
}

/// A place that decides batches of checks atomically.
pub trait Store {
    /// Decides every check at once: all consume or none does. `now_override` replaces the
    /// store's clock and exists for tests only; the actor always passes `None`. The future
    /// owns what it needs, so many can be in flight while the store is used again.
    fn decide(
        &mut self,
        checks: &[Check],
        now_override: Option<u64>,
    ) -> impl Future<Output = Result<Reply, StoreError>> + Send + 'static;
}
