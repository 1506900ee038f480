//! The exporter thread: sends spooled batches to the collector, oldest first, and removes each
//! one only after the collector acknowledged it.
//!
//! It runs its own single-threaded actix System so awc (the project's one HTTP client, over
//! openssl) can be used without touching the gateway's workers; a slow or absent collector
//! therefore only ever delays this thread. Failures back off exponentially up to a cap and
//! the batch stays first in line, so replay order is preserved.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use awc::http::StatusCode;
use awc::http::header::{AUTHORIZATION, CONTENT_TYPE};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use prost::Message;
use skybridge_shared::health::{Health, HealthState};
use tokio::sync::Notify;

use super::endpoint::Endpoint;
use super::spool::{Spool, SpoolEntry};
use super::stats::Counters;
use super::{HEALTH_COMPONENT, sync_spool_gauges};

/// Shared between the sink handle and the exporter: wake-ups and the stop deadline.
#[derive(Debug, Default)]
pub(crate) struct Control {
    pub(crate) wake: Arc<Notify>,
    stop_at: Mutex<Option<Instant>>,
}

impl Control {
    /// Asks the exporter to drain the spool until `deadline`, then stop.
    pub(crate) fn stop_by(&self, deadline: Instant) {
        *self.stop_at.lock().unwrap_or_else(PoisonError::into_inner) = Some(deadline);
        self.wake.notify_one();
    }

    fn stop_at(&self) -> Option<Instant> {
        *self.stop_at.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The exporter's state.
pub(crate) struct Exporter {
    pub(crate) endpoint: Endpoint,
    pub(crate) spool: Arc<Spool>,
    pub(crate) control: Arc<Control>,
    pub(crate) counters: Arc<Counters>,
    pub(crate) health: Health,
    pub(crate) timeout: Duration,
    pub(crate) max_backoff: Duration,
    /// First sequence number not yet counted in `spooled`.
    pub(crate) uncounted_from: AtomicU64,
}

/// What one attempt came to.
enum Outcome {
    /// 2xx; the collector refused this many records inside an otherwise accepted batch.
    Accepted { rejected: u64 },
    /// Worth retrying later (unreachable, timeout, 5xx, 408, 429, auth or routing problems).
    Retry(String),
    /// The collector will never take this batch (400, 413, other 4xx).
    Refused(StatusCode),
}

const MIN_BACKOFF: Duration = Duration::from_millis(100);
const IDLE_WAIT: Duration = Duration::from_secs(1);

// === impl Exporter ===

impl Exporter {
    /// Sends batches until asked to stop and the spool is empty or the deadline passed.
    pub(crate) async fn run(self) {
        let client = awc::Client::builder().timeout(self.timeout).finish();
        let mut backoff = MIN_BACKOFF;
        let mut failing = false;
        loop {
            let stop_at = self.control.stop_at();
            let Some(entry) = self.spool.oldest() else {
                if stop_at.is_some() {
                    return;
                }
                let _ = tokio::time::timeout(IDLE_WAIT, self.control.wake.notified()).await;
                continue;
            };
            let time_left = stop_at.map(|t| t.saturating_duration_since(Instant::now()));
            if time_left.is_some_and(|left| left.is_zero()) {
                return;
            }
            let timeout = time_left.map_or(self.timeout, |left| left.min(self.timeout));
            match self.attempt(&client, &entry, timeout).await {
                Some(Outcome::Retry(error)) => {
                    self.on_failure(&mut failing, &error);
                    let pause = time_left.map_or(backoff, |left| left.min(backoff));
                    let _ = tokio::time::timeout(pause, self.control.wake.notified()).await;
                    backoff = (backoff * 2).min(self.max_backoff);
                }
                Some(outcome) => {
                    self.settle(&entry, outcome);
                    if failing {
                        tracing::info!("Collector reachable again; audit spool replayed in order.");
                        self.health.set(HEALTH_COMPONENT, HealthState::Ready, "Exporting.");
                        failing = false;
                    }
                    backoff = MIN_BACKOFF;
                }
                None => self.set_aside(&entry, "unreadable spool file"),
            }
            sync_spool_gauges(&self.spool, &self.counters);
        }
    }

    async fn attempt(
        &self,
        client: &awc::Client,
        entry: &SpoolEntry,
        timeout: Duration,
    ) -> Option<Outcome> {
        let body = match self.spool.read(entry) {
            Ok(body) => body,
            Err(err) => {
                tracing::error!(seq = entry.seq, error = %err, "Cannot read a spooled audit batch.");
                return None;
            }
        };
        let mut request = client
            .post(self.endpoint.logs_url())
            .insert_header((CONTENT_TYPE, "application/x-protobuf"))
            .timeout(timeout);
        if let Some(auth) = self.endpoint.authorization() {
            request = request.insert_header((AUTHORIZATION, auth));
        }
        let mut response = match request.send_body(body).await {
            Ok(response) => response,
            Err(err) => return Some(Outcome::Retry(err.to_string())),
        };
        let status = response.status();
        if status.is_success() {
            let body = response.body().limit(1 << 20).await.unwrap_or_default();
            let rejected = ExportLogsServiceResponse::decode(body.as_ref())
                .ok()
                .and_then(|r| r.partial_success)
                .map_or(0, |p| u64::try_from(p.rejected_log_records).unwrap_or(0));
            return Some(Outcome::Accepted { rejected });
        }
        let retryable =
            status.is_server_error() || matches!(status.as_u16(), 401 | 403 | 404 | 408 | 429);
        Some(if retryable {
            Outcome::Retry(format!("collector answered {status}"))
        } else {
            Outcome::Refused(status)
        })
    }

    fn on_failure(&self, failing: &mut bool, error: &str) {
        Counters::add(&self.counters.export_failures, 1);
        let from = self.uncounted_from.load(Ordering::Relaxed);
        let (records, next) = self.spool.records_from(from);
        Counters::add(&self.counters.spooled, records);
        self.uncounted_from.store(next, Ordering::Relaxed);
        if !*failing {
            *failing = true;
            tracing::warn!(
                endpoint = %self.endpoint.redacted(),
                error = %error,
                "Collector unavailable; audit records wait in the spool."
            );
            self.health.set(
                HEALTH_COMPONENT,
                HealthState::Degraded,
                "Collector unavailable; audit records wait in the spool.",
            );
        }
    }

    fn settle(&self, entry: &SpoolEntry, outcome: Outcome) {
        match outcome {
            Outcome::Accepted { rejected } => {
                if let Err(err) = self.spool.remove(entry) {
                    tracing::error!(seq = entry.seq, error = %err, "Cannot remove an exported batch.");
                }
                let rejected = rejected.min(entry.records);
                Counters::add(&self.counters.exported, entry.records - rejected);
                if rejected > 0 {
                    Counters::add(&self.counters.rejected, rejected);
                    tracing::error!(rejected, "Collector rejected part of an audit batch.");
                }
            }
            Outcome::Refused(status) => {
                self.set_aside(entry, status.as_str());
            }
            Outcome::Retry(_) => {}
        }
    }

    fn set_aside(&self, entry: &SpoolEntry, why: &str) {
        Counters::add(&self.counters.rejected, entry.records);
        match self.spool.reject(entry) {
            Ok(path) => tracing::error!(
                records = entry.records,
                reason = why,
                kept_at = %path.display(),
                "Audit batch refused; kept aside for an operator."
            ),
            Err(err) => tracing::error!(
                records = entry.records,
                reason = why,
                error = %err,
                "Audit batch refused and could not be kept aside."
            ),
        }
    }
}
