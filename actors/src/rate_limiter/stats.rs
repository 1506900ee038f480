//! Counters the limiter keeps for metrics, readiness and the benchmark. Lock-free; read with
//! [`Stats::snapshot`].

use std::sync::atomic::{AtomicU64, Ordering};

use super::messages::DecisionSource;

/// Running totals since start.
#[derive(Debug, Default)]
pub struct Stats {
    /// Decisions made from Redis.
    pub redis: AtomicU64,
    /// Decisions made by the embedded store with full limits (no Redis configured).
    pub embedded: AtomicU64,
    /// Decisions made while Redis was unavailable, by the local share.
    pub local_fallback: AtomicU64,
    /// Decisions allowed unchecked while Redis was unavailable.
    pub allow_fallback: AtomicU64,
    /// Decisions refused with 503 while Redis was unavailable.
    pub deny_fallback: AtomicU64,
    /// Redis commands sent (each one round trip, though many share the connection at once).
    pub round_trips: AtomicU64,
    /// Times the script was loaded again after NOSCRIPT.
    pub script_reloads: AtomicU64,
    /// Times the circuit breaker opened.
    pub breaker_opens: AtomicU64,
    /// Keys held by the embedded store after its last decision.
    pub local_keys: AtomicU64,
}

/// A copy of [`Stats`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    /// See [`Stats::redis`].
    pub redis: u64,
    /// See [`Stats::embedded`].
    pub embedded: u64,
    /// See [`Stats::local_fallback`].
    pub local_fallback: u64,
    /// See [`Stats::allow_fallback`].
    pub allow_fallback: u64,
    /// See [`Stats::deny_fallback`].
    pub deny_fallback: u64,
    /// See [`Stats::round_trips`].
    pub round_trips: u64,
    /// See [`Stats::script_reloads`].
    pub script_reloads: u64,
    /// See [`Stats::breaker_opens`].
    pub breaker_opens: u64,
    /// See [`Stats::local_keys`].
    pub local_keys: u64,
}

impl Stats {
    /// Counts one decision by its source.
    pub fn count(&self, source: DecisionSource) {
        let counter = match source {
            DecisionSource::Redis => &self.redis,
            DecisionSource::Embedded => &self.embedded,
            DecisionSource::LocalFallback => &self.local_fallback,
            DecisionSource::AllowFallback => &self.allow_fallback,
            DecisionSource::DenyFallback => &self.deny_fallback,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        crate::metrics::LIMITER_DECISIONS.with_label_values(&[source.as_str()]).inc();
    }

    /// The current totals.
    pub fn snapshot(&self) -> StatsSnapshot {
        let read = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        StatsSnapshot {
            redis: read(&self.redis),
            embedded: read(&self.embedded),
            local_fallback: read(&self.local_fallback),
            allow_fallback: read(&self.allow_fallback),
            deny_fallback: read(&self.deny_fallback),
            round_trips: read(&self.round_trips),
            script_reloads: read(&self.script_reloads),
            breaker_opens: read(&self.breaker_opens),
            local_keys: read(&self.local_keys),
        }
    }
}
