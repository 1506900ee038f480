//! Inbound identity: bearer JWT validation, the verified-token cache and route
//! authorization, behind one cheap-to-clone [`Verifier`].
//!
//! The hot path never waits on an actor: keys come from each issuer's `ArcSwap` snapshot
//! and repeat tokens from the [`cache`](self) keyed by the token's SHA-256. Only a `kid`
//! the snapshot lacks sends a message to that issuer's [`JwksActor`].
//!
//! Rejections carry an [`AuthReason`] from a closed set; the gateway renders them as
//! 401/403/503 problem+json with `WWW-Authenticate`. Descriptions never contain the token.

mod cache;
mod claims;
pub mod devtools;
mod error;
mod issuers;
mod policy;
mod reason;
mod token;
mod validate;

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failed unwrap is a failed test.
mod tests;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use actix::Actor;
use arc_swap::ArcSwap;
use skybridge_shared::config::{Config, IssuerConfig, RequiredAuth};
use skybridge_shared::health::{Health, HealthState};

use crate::jwks::{IssuerSource, JwksActor, KeySnapshot, KeySource, Tuning};

pub use claims::Identity;
pub use error::{DevToolError, VerifierError};
pub use policy::authorize;
pub use reason::{AuthReason, AuthRejection};
pub use token::{MAX_TOKEN_BYTES, bearer_token};

use cache::TokenCache;
use issuers::IssuerRuntime;

/// Default number of verified tokens remembered.
pub const DEFAULT_CACHE_ENTRIES: usize = 10_000;

/// Knobs that are not configuration: the product uses the defaults, tests shorten them.
#[derive(Debug, Clone)]
pub struct VerifierOptions {
    /// Key fetching timings and limits.
    pub tuning: Tuning,
    /// Verified-token cache size in entries; 0 turns the cache off.
    pub cache_entries: usize,
}

impl Default for VerifierOptions {
    fn default() -> Self {
        Self { tuning: Tuning::default(), cache_entries: DEFAULT_CACHE_ENTRIES }
    }
}

/// Validates bearer tokens for every configured issuer. Cheap to clone, `Send + Sync`.
#[derive(Clone)]
pub struct Verifier {
    inner: Arc<Inner>,
}

struct Inner {
    issuers: Vec<IssuerRuntime>,
    cache: TokenCache,
}

impl Verifier {
    /// Starts one JWKS actor per configured issuer (inside the running actix System) and
    /// publishes each issuer's readiness as `issuer:<name>` in `health`. A `jwks_file` is
    /// read now, so a broken file fails startup instead of every request.
    pub fn start(config: &Config, health: Health) -> Result<Self, VerifierError> {
        Self::start_with(config, health, VerifierOptions::default())
    }

    /// [`Verifier::start`] with explicit options.
    pub fn start_with(
        config: &Config,
        health: Health,
        options: VerifierOptions,
    ) -> Result<Self, VerifierError> {
        let issuers = config
            .issuers
            .iter()
            .map(|issuer| start_issuer(config, issuer, &health, &options.tuning))
            .collect::<Result<Vec<_>, _>>()?;
        let cache = TokenCache::new(options.cache_entries);
        Ok(Self { inner: Arc::new(Inner { issuers, cache }) })
    }

    /// Authenticates a request for a route with `policy`. `authorization` holds every
    /// `Authorization` header value the request carried (zero, one or more).
    pub async fn authenticate(
        &self,
        authorization: &[&[u8]],
        policy: &RequiredAuth,
    ) -> Result<Arc<Identity>, AuthRejection> {
        let token = token::bearer_token(authorization)?;
        let issuers = &self.inner.issuers;
        let allowed = |index: usize| {
            policy.issuers.is_empty()
                || issuers.get(index).is_some_and(|i| policy.issuers.contains(&i.name))
        };
        let now = now();
        let key = cache::digest(token);
        let hit = self.inner.cache.get(&key, now, |entry| {
            issuers.get(entry.issuer).is_some_and(|i| i.keys.load().holds(&entry.fingerprint))
        });
        let identity = match hit {
            Some(entry) if allowed(entry.issuer) => entry.identity,
            _ => {
                let verified = validate::verify(issuers, &allowed, token, now).await?;
                let identity = verified.identity.clone();
                let entry = cache::Entry {
                    identity: verified.identity,
                    issuer: verified.issuer,
                    fingerprint: verified.fingerprint,
                    valid_until: verified.valid_until,
                };
                self.inner.cache.insert(key, entry, now);
                identity
            }
        };
        policy::authorize(&identity, policy)?;
        Ok(identity)
    }

    /// How many verified tokens the cache holds.
    pub fn cached_tokens(&self) -> usize {
        self.inner.cache.len()
    }

    /// The current key snapshot of the issuer called `name`.
    pub fn keys(&self, name: &str) -> Option<Arc<KeySnapshot>> {
        self.inner.issuers.iter().find(|i| i.name == name).map(|i| i.keys.load_full())
    }
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.inner.issuers.iter().map(|i| i.name.as_str()).collect();
        f.debug_struct("Verifier").field("issuers", &names).finish_non_exhaustive()
    }
}

fn start_issuer(
    config: &Config,
    issuer: &IssuerConfig,
    health: &Health,
    tuning: &Tuning,
) -> Result<IssuerRuntime, VerifierError> {
    let name = issuer.name.clone();
    let algorithms = issuers::configured_algorithms(issuer);
    if algorithms.is_empty() {
        return Err(VerifierError::NoAlgorithms { issuer: name });
    }
    let source = KeySource::of(issuer, |path| config.resolve(path))
        .ok_or_else(|| VerifierError::NoKeySource { issuer: name.clone() })?;
    let component = format!("issuer:{name}");
    let (snapshot, preloaded) = match &source {
        KeySource::File(path) => {
            let set = crate::jwks::load_file(path)
                .map_err(|source| VerifierError::Keys { issuer: name.clone(), source })?;
            let detail = format!("{} keys loaded from file.", set.keys.len());
            health.set(&component, HealthState::Ready, detail);
            (KeySnapshot::new(set.keys, algorithms.clone()), true)
        }
        _ => {
            health.set(&component, HealthState::NotReady, "Keys not loaded yet.");
            (KeySnapshot::empty(algorithms.clone()), false)
        }
    };
    let keys = Arc::new(ArcSwap::from_pointee(snapshot));
    let source = IssuerSource {
        name,
        source,
        expected_issuers: issuers::issuer_patterns(issuer),
        algorithms,
        max_stale: issuer.max_stale,
    };
    let actor =
        JwksActor::new(source, tuning.clone(), keys.clone(), health.clone(), preloaded).start();
    let miss_wait = tuning.fetch_timeout + Duration::from_secs(1);
    Ok(IssuerRuntime::new(issuer, keys, actor, miss_wait))
}

/// Seconds since the Unix epoch, as NumericDates are.
fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}
