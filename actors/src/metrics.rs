//! Counters and gauges of the actors, for the admin listener's `/metrics`.
//!
//! Each metric is created once, on first use, in this crate's own registry; the gateway
//! renders [`registry`] beside its request metrics. Labels are issuer, credential and source
//! names from the configuration, never request data, so the series count is bounded.

use std::sync::LazyLock;

use prometheus::{
    HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, exponential_buckets,
};

static REGISTRY: LazyLock<Registry> = LazyLock::new(Registry::new);

/// The registry every actor metric lives in.
pub fn registry() -> &'static Registry {
    &REGISTRY
}

fn counter(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let metric = IntCounterVec::new(Opts::new(name, help), labels)
        .unwrap_or_else(|err| unreachable_metric(name, &err));
    // Registering can only fail for a duplicate name, which the statics below rule out.
    let _ = REGISTRY.register(Box::new(metric.clone()));
    metric
}

fn unreachable_metric(name: &str, err: &prometheus::Error) -> ! {
    // Names and labels are constants of this file; an invalid one is a programming error
    // caught by the unit test below before it can ship.
    panic!("metric {name} is malformed: {err}")
}

/// JWKS fetches by issuer and outcome (`ok`, `failed`).
pub static JWKS_REFRESHES: LazyLock<IntCounterVec> = LazyLock::new(|| {
    counter(
        "skybridge_jwks_refreshes_total",
        "Issuer key fetches, by outcome.",
        &["issuer", "outcome"],
    )
});

/// Usable keys per issuer after the last successful fetch.
pub static JWKS_KEYS: LazyLock<IntGaugeVec> = LazyLock::new(|| {
    let metric =
        IntGaugeVec::new(Opts::new("skybridge_jwks_keys", "Usable keys per issuer."), &["issuer"])
            .unwrap_or_else(|err| unreachable_metric("skybridge_jwks_keys", &err));
    let _ = REGISTRY.register(Box::new(metric.clone()));
    metric
});

/// Upstream token mints by credential and outcome (`ok`, `failed`).
pub static TOKEN_MINTS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    counter(
        "skybridge_token_mints_total",
        "Upstream token mints, by outcome.",
        &["credential", "outcome"],
    )
});

/// Rate-limit decisions by source (`redis`, `embedded`, `local_fallback`, …).
pub static LIMITER_DECISIONS: LazyLock<IntCounterVec> = LazyLock::new(|| {
    counter("skybridge_rate_limit_decisions_total", "Rate-limit decisions, by source.", &["source"])
});

/// Time of one rate-limit script call to Redis, including a script reload.
pub static REDIS_CALL_SECONDS: LazyLock<HistogramVec> = LazyLock::new(|| {
    let buckets = exponential_buckets(0.0001, 2.0, 12)
        .unwrap_or_else(|err| unreachable_metric("skybridge_redis_call_duration_seconds", &err));
    let opts = HistogramOpts::new(
        "skybridge_redis_call_duration_seconds",
        "Time of one rate-limit decision call to Redis.",
    )
    .buckets(buckets);
    let metric = HistogramVec::new(opts, &["outcome"])
        .unwrap_or_else(|err| unreachable_metric("skybridge_redis_call_duration_seconds", &err));
    let _ = REGISTRY.register(Box::new(metric.clone()));
    metric
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_registers_and_renders() {
        JWKS_REFRESHES.with_label_values(&["a", "ok"]).inc();
        JWKS_KEYS.with_label_values(&["a"]).set(2);
        TOKEN_MINTS.with_label_values(&["c", "failed"]).inc();
        LIMITER_DECISIONS.with_label_values(&["redis"]).inc();
        REDIS_CALL_SECONDS.with_label_values(&["ok"]).observe(0.001);
        let names: Vec<String> = registry().gather().iter().map(|f| f.name().to_owned()).collect();
        for name in [
            "skybridge_jwks_refreshes_total",
            "skybridge_jwks_keys",
            "skybridge_token_mints_total",
            "skybridge_rate_limit_decisions_total",
            "skybridge_redis_call_duration_seconds",
        ] {
            assert!(names.iter().any(|n| n == name), "{name} missing from {names:?}");
        }
    }
}
