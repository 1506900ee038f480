//! The exporter thread: sends spooled batches to the collector, oldest first, and removes each
//! one only after the collector acknowledged it.
//!
//! It runs its own single-threaded actix System so awc (the project's one HTTP client, over
//! openssl) can be used without touching the gateway's workers; a slow or absent collector
//! therefore only ever delays this thread. Failures back off exponentially up to a cap and
//! the batch stays first in line, so replay order is preserved.
//!
//! A batch's spans go to `/v1/traces` only after its log records were acknowledged, and they
//! never hold the audit trail up for long: a refusal drops them at once, other failures get
//! [`SPAN_ATTEMPTS`] tries (none once shutdown began), and then the batch is removed anyway and
//! its spans counted as dropped. The batch stays on disk until then, so an outage that starts
//! before its logs are delivered keeps both. Shortcoming: when the process dies between the two
//! POSTs, the next start sends the log records a second time (the at-least-once the audit trail
//! already allows) together with the spans.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use skybridge_shared::health::Health;
use tokio::sync::Notify;

use super::bundle::{self, Bundle};
use super::endpoint::Endpoint;
use super::post::{Outcome, Signal, post};
use super::spool::{Spool, SpoolEntry};
use super::stats::Counters;
use super::sync_spool_gauges;

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

/// Where the exporter stands with the oldest batch, carried across attempts.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    /// The collector is failing audit records (logged once, readiness degraded).
    pub(crate) failing: bool,
    /// The collector is failing spans (logged once).
    pub(crate) spans_failing: bool,
    /// Sequence number of the batch whose log records were acknowledged but whose spans
    /// were not, so a retry sends only the spans.
    pub(crate) logs_sent: Option<u64>,
    /// Log records of that batch the collector refused inside its acknowledgement.
    pub(crate) logs_rejected: u64,
    /// Failed span attempts for that batch.
    pub(crate) span_attempts: u32,
}

/// What to do after a step on the oldest batch.
enum Step {
    /// It is settled; go on with the next one.
    Next,
    /// Try it again after a pause.
    Retry,
}

/// Span POSTs per batch before its spans are given up.
pub(crate) const SPAN_ATTEMPTS: u32 = 3;
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const IDLE_WAIT: Duration = Duration::from_secs(1);

// === impl Exporter ===

impl Exporter {
    /// Sends batches until asked to stop and the spool is empty or the deadline passed.
    pub(crate) async fn run(self) {
        let client = awc::Client::builder().timeout(self.timeout).finish();
        let mut backoff = MIN_BACKOFF;
        let mut progress = Progress::default();
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
            let stopping = stop_at.is_some();
            match self.step(&client, &entry, &mut progress, timeout, stopping).await {
                Step::Retry => {
                    let pause = time_left.map_or(backoff, |left| left.min(backoff));
                    let _ = tokio::time::timeout(pause, self.control.wake.notified()).await;
                    backoff = (backoff * 2).min(self.max_backoff);
                }
                Step::Next => backoff = MIN_BACKOFF,
            }
            sync_spool_gauges(&self.spool, &self.counters);
        }
    }

    /// Sends the oldest batch's log records (unless already acknowledged), then its spans.
    async fn step(
        &self,
        client: &awc::Client,
        entry: &SpoolEntry,
        progress: &mut Progress,
        timeout: Duration,
        stopping: bool,
    ) -> Step {
        let Some(Bundle { logs, traces }) = self.load(entry) else {
            self.set_aside(entry, "unreadable spool file");
            return Step::Next;
        };
        let spans = traces.as_ref().map_or(0, |(_, n)| *n);
        if progress.logs_sent != Some(entry.seq) {
            match post(client, &self.endpoint, Signal::Logs, logs, timeout).await {
                Outcome::Retry(error) => {
                    self.on_failure(&mut progress.failing, &error);
                    return Step::Retry;
                }
                Outcome::Refused(status) => {
                    self.set_aside(entry, status.as_str());
                    Counters::add(&self.counters.spans_dropped, spans);
                    return Step::Next;
                }
                Outcome::Accepted { rejected } => self.logs_accepted(entry, rejected, progress),
            }
        }
        let mut spans_done = (0, 0);
        if let Some((body, spans)) = traces {
            let outcome = post(client, &self.endpoint, Signal::Traces, body, timeout).await;
            match self.spans_settled(outcome, spans, progress, stopping) {
                Some(done) => spans_done = done,
                None => return Step::Retry,
            }
        }
        self.finish(entry, progress.logs_rejected, spans_done);
        progress.logs_sent = None;
        Step::Next
    }

    /// Reads and unpacks a spooled batch; `None` (already logged) when it cannot be used.
    fn load(&self, entry: &SpoolEntry) -> Option<Bundle> {
        match self.spool.read(entry) {
            Ok(file) => bundle::decode(file),
            Err(err) => {
                tracing::error!(
                    seq = entry.seq,
                    error = %err,
                    "Cannot read a spooled audit batch."
                );
                None
            }
        }
    }
}
