//! Prometheus metrics, served as text on the admin listener's `/metrics`.
//!
//! Names follow `skybridge_<noun>_<unit>[_total]`. Labels are bounded by configuration (route
//! and upstream names, status codes, decisions), never by request data, so a caller cannot
//! grow the series count.

use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder,
};

/// Latency buckets in seconds, from 0.5 ms to 30 s.
const LATENCY_BUCKETS: &[f64] =
    &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// The gateway's own metrics.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    request_duration: HistogramVec,
    upstream_duration: HistogramVec,
}

impl Metrics {
    /// Creates and registers every metric.
    pub fn new() -> Result<Self, prometheus::Error> {
        let registry = Registry::new();
        let requests = IntCounterVec::new(
            Opts::new(
                "skybridge_requests_total",
                "Requests answered, by route, status and decision.",
            ),
            &["route", "status", "decision"],
        )?;
        let request_duration = HistogramVec::new(
            HistogramOpts::new(
                "skybridge_request_duration_seconds",
                "Time from request arrival to response head, by route.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route"],
        )?;
        let upstream_duration = HistogramVec::new(
            HistogramOpts::new(
                "skybridge_upstream_duration_seconds",
                "Time from sending upstream to the upstream's response head, by upstream.",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["upstream"],
        )?;
        registry.register(Box::new(requests.clone()))?;
        registry.register(Box::new(request_duration.clone()))?;
        registry.register(Box::new(upstream_duration.clone()))?;
        Ok(Self { registry, requests, request_duration, upstream_duration })
    }

    /// The registry, for components that register their own metrics.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Counts one answered request and its latency. `route` is `-` when none matched.
    pub fn request(&self, route: &str, status: u16, decision: &str, elapsed: Duration) {
        let status = status.to_string();
        self.requests.with_label_values(&[route, status.as_str(), decision]).inc();
        self.request_duration.with_label_values(&[route]).observe(elapsed.as_secs_f64());
    }

    /// Records one upstream call's latency.
    pub fn upstream(&self, upstream: &str, elapsed: Duration) {
        self.upstream_duration.with_label_values(&[upstream]).observe(elapsed.as_secs_f64());
    }

    /// Every metric in the Prometheus text format.
    pub fn render(&self) -> String {
        render(&self.registry)
    }
}

/// `registry`'s metrics in the Prometheus text format.
pub fn render(registry: &Registry) -> String {
    let mut out = Vec::new();
    // Encoding into a Vec cannot fail for well-formed metric families.
    let _ = TextEncoder::new().encode(&registry.gather(), &mut out);
    String::from_utf8(out).unwrap_or_default()
}
