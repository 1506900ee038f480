//! What became of a batch the exporter tried to send: the counters it moves, the readiness it
//! sets, and the one log line per change an operator needs.

use std::sync::atomic::Ordering;

use skybridge_shared::health::HealthState;

use super::export::{Exporter, Progress, SPAN_ATTEMPTS};
use super::post::Outcome;
use super::spool::SpoolEntry;
use super::stats::Counters;
use super::{HEALTH_COMPONENT, sync_spool_gauges};

// === impl Exporter ===

impl Exporter {
    /// The collector took the log records of `entry`, perhaps refusing `rejected` of them.
    pub(crate) fn logs_accepted(&self, entry: &SpoolEntry, rejected: u64, progress: &mut Progress) {
        let rejected = rejected.min(entry.records);
        if rejected > 0 {
            tracing::error!(rejected, "Collector rejected part of an audit batch.");
        }
        progress.logs_rejected = rejected;
        if progress.failing {
            tracing::info!("Collector reachable again; audit spool replayed in order.");
            self.health.set(HEALTH_COMPONENT, HealthState::Ready, "Exporting.");
            progress.failing = false;
        }
        progress.logs_sent = Some(entry.seq);
        progress.span_attempts = 0;
    }

    /// What became of a batch's spans, as (delivered, dropped); `None` when they are worth
    /// another attempt.
    pub(crate) fn spans_settled(
        &self,
        outcome: Outcome,
        spans: u64,
        progress: &mut Progress,
        stopping: bool,
    ) -> Option<(u64, u64)> {
        let error = match outcome {
            Outcome::Accepted { rejected } => {
                let rejected = rejected.min(spans);
                if progress.spans_failing {
                    tracing::info!("Collector takes spans again.");
                    progress.spans_failing = false;
                }
                return Some((spans - rejected, rejected));
            }
            Outcome::Refused(status) => format!("collector answered {status}"),
            Outcome::Retry(error) => {
                progress.span_attempts += 1;
                if progress.span_attempts < SPAN_ATTEMPTS && !stopping {
                    return None;
                }
                error
            }
        };
        if !progress.spans_failing {
            progress.spans_failing = true;
            tracing::warn!(
                endpoint = %self.endpoint.traces_url(),
                dropped = spans,
                error = %error,
                "Collector did not take request spans; dropped them, audit records are delivered."
            );
        }
        Some((0, spans))
    }

    /// Removes a delivered batch, then counts it: whoever sees the counters move also sees the
    /// spool without it.
    pub(crate) fn finish(&self, entry: &SpoolEntry, logs_rejected: u64, spans: (u64, u64)) {
        if let Err(err) = self.spool.remove(entry) {
            tracing::error!(seq = entry.seq, error = %err, "Cannot remove an exported batch.");
        }
        sync_spool_gauges(&self.spool, &self.counters);
        Counters::add(&self.counters.exported, entry.records - logs_rejected);
        Counters::add(&self.counters.rejected, logs_rejected);
        Counters::add(&self.counters.spans_exported, spans.0);
        Counters::add(&self.counters.spans_dropped, spans.1);
    }

    /// An attempt at the log records failed; they wait in the spool.
    pub(crate) fn on_failure(&self, failing: &mut bool, error: &str) {
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

    /// Moves a batch the collector will never take to `rejected/`.
    pub(crate) fn set_aside(&self, entry: &SpoolEntry, why: &str) {
        let moved = self.spool.reject(entry);
        sync_spool_gauges(&self.spool, &self.counters);
        Counters::add(&self.counters.rejected, entry.records);
        match moved {
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
