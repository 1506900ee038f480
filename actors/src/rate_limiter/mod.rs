//! Distributed rate limiting: GCRA `rate` policies and calendar `quota` policies, decided in
//! Redis so that every instance gives a client the same answer, or in process when no Redis is
//! configured or Redis is unavailable.
//!
//! The [`Limiter`] handle is what the gateway holds. It sends each request's policies to the
//! limiter actor (`actor.rs`), which runs on its own arbiter and owns the Redis connection,
//! the circuit breaker, the instance heartbeat and the embedded store. Invariants:
//! - one request is one script call: all its policies consume, or none does;
//! - the time comes from Redis, never from an instance's clock (except in the embedded store);
//! - a Redis failure never fails a request: each policy follows its `on_store_failure`;
//! - no call to Redis takes longer than `rate_limit.timeout`.
//!
//! Pure parts are testable alone: `algorithm.rs` (arithmetic), `headers.rs` (fields),
//! `key.rs` (counter keys), `breaker.rs` (breaker states), `policy.rs` (outcomes).

mod actor;
mod algorithm;
mod breaker;
mod embedded;
mod error;
mod headers;
mod key;
mod local;
mod messages;
mod policy;
mod redis;
mod stats;
mod store;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use actix::{Actor, Addr};
use actix_rt::{Arbiter, ArbiterHandle};
use skybridge_shared::config::RateLimitConfig;
use skybridge_shared::health::Health;

pub use self::actor::HEALTH_COMPONENT;
pub use self::algorithm::{MICROS, QuotaRule, QuotaWindow, RateRule, Rule, ceil_secs, verdict};
pub use self::breaker::{Breaker, BreakerState, CONSECUTIVE_FAILURES, MIN_CALLS, OPEN_FOR, WINDOW};
pub use self::embedded::{EmbeddedStore, SWEEP_EVERY, wall_clock_us};
pub use self::error::{LimiterError, StoreError};
pub use self::headers::{PolicyItem, StateItem, policy_field, state_field};
pub use self::key::{KeySource, client_ip, counter_key, extract_key, key_hash};
pub use self::messages::{DecisionSource, Denial, DenialKind, LimitOutcome, LimitRequest};
pub use self::policy::PolicySpec;
pub use self::redis::{DECIDE_SCRIPT, INSTANCES_KEY, RedisStore, redis_key};
pub use self::stats::{Stats, StatsSnapshot};
pub use self::store::{Check, Reply, Store};

use self::actor::{LimiterActor, RedisLink};
use self::messages::Decide;

/// The gateway's handle on the limiter. Cheap to clone, `Send + Sync`; the limiter's thread
/// stops when the last clone is dropped.
#[derive(Clone)]
pub struct Limiter {
    inner: Arc<Inner>,
}

struct Inner {
    addr: Addr<LimiterActor>,
    stats: Arc<Stats>,
    arbiter: ArbiterHandle,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.arbiter.stop();
    }
}

impl Limiter {
    /// Starts the limiter actor on its own arbiter (must be called inside a running actix
    /// System) and publishes readiness into `health` as [`HEALTH_COMPONENT`].
    pub fn start(config: &RateLimitConfig, health: Health) -> Result<Self, LimiterError> {
        let mut policies = HashMap::new();
        for policy in &config.policies {
            let spec = PolicySpec::from_config(policy)?;
            policies.insert(spec.name.clone(), spec);
        }
        let redis = match &config.redis_url {
            Some(url) => Some(RedisLink {
                client: ::redis::Client::open(url.as_str()).map_err(LimiterError::RedisUrl)?,
                store: None,
                connecting: false,
                breaker: Breaker::half_open(Instant::now()),
                deadline: config.timeout,
                instance_id: instance_id(),
                instances: None,
                last_heartbeat: None,
                started: Instant::now(),
            }),
            None => None,
        };
        let stats = Arc::new(Stats::default());
        let expected_instances = config.expected_instances.max(1);
        let actor_stats = stats.clone();
        let arbiter = Arbiter::new().handle();
        let addr = LimiterActor::start_in_arbiter(&arbiter, move |_ctx| LimiterActor {
            policies,
            embedded: EmbeddedStore::default(),
            redis,
            expected_instances,
            health,
            stats: actor_stats,
        });
        Ok(Self { inner: Arc::new(Inner { addr, stats, arbiter }) })
    }

    /// Decides every policy of one request at once (one Redis round trip). Never fails: if
    /// the limiter itself is gone, the request is allowed and the fault logged.
    pub async fn decide(&self, request: LimitRequest) -> LimitOutcome {
        match self.inner.addr.send(Decide(request)).await {
            Ok(outcome) => outcome,
            Err(err) => {
                tracing::error!(error = %err, "Rate limiter is not running; request allowed.");
                LimitOutcome {
                    denial: None,
                    policy_header: None,
                    ratelimit_header: None,
                    remaining: None,
                    source: DecisionSource::AllowFallback,
                }
            }
        }
    }

    /// Counters since start: decisions by source, Redis round trips, reloads, breaker opens.
    pub fn stats(&self) -> StatsSnapshot {
        self.inner.stats.snapshot()
    }
}

/// A random id naming this instance in the heartbeat set.
fn instance_id() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// Convenience for the gateway: the counter key of every policy of a route, in its order.
pub fn request_items(
    policies: &[(Arc<str>, &str)],
    source: &KeySource<'_>,
) -> Vec<(Arc<str>, String)> {
    policies.iter().map(|(name, spec)| (name.clone(), counter_key(spec, source))).collect()
}

/// Parses `rate_limit.trusted_proxies`; entries that are not addresses were already reported
/// by configuration validation and are skipped here.
pub fn trusted_proxies(config: &RateLimitConfig) -> Vec<IpAddr> {
    config.trusted_proxies.iter().filter_map(|p| p.parse().ok()).collect()
}
