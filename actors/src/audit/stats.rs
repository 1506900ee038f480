//! Counters of the audit sink, shared by its threads and read by `/metrics`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

/// Live counters; every field only grows except the gauges noted.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) exported: AtomicU64,
    pub(crate) spooled: AtomicU64,
    pub(crate) dropped: AtomicU64,
    pub(crate) rejected: AtomicU64,
    pub(crate) export_failures: AtomicU64,
    pub(crate) spans_exported: AtomicU64,
    pub(crate) spans_dropped: AtomicU64,
    /// Gauge: handed to [`super::AuditSink::record`] but not yet written or spooled.
    pub(crate) queued: AtomicU64,
    /// Gauges mirrored from the spool after each change.
    pub(crate) spool_records: AtomicU64,
    pub(crate) spool_bytes: AtomicU64,
}

/// A snapshot of the audit sink's counters, for `/metrics` and tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuditStats {
    /// Records the collector acknowledged, or written to the audit file or stdout.
    pub exported: u64,
    /// Records whose first export attempt failed, so they waited in the spool for a replay.
    pub spooled: u64,
    /// Records lost: the spool was at its bound, or the in-memory queue was full.
    pub dropped: u64,
    /// Records the collector refused for good (HTTP 4xx other than 408/429, or partial
    /// success); their batches are kept in `<spool_dir>/rejected/`.
    pub rejected: u64,
    /// Export attempts that failed (unreachable, timeout, non-2xx).
    pub export_failures: u64,
    /// Spans the collector acknowledged.
    pub spans_exported: u64,
    /// Spans lost: their batch did not fit the spool, or the collector refused them, or it
    /// still failed after a few attempts once their log records were delivered.
    pub spans_dropped: u64,
    /// Records in memory, not yet on disk or in the file.
    pub queued: u64,
    /// Records waiting in the spool right now.
    pub spool_records: u64,
    /// Bytes the spool holds right now.
    pub spool_bytes: u64,
}

impl Counters {
    pub(crate) fn snapshot(&self) -> AuditStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        AuditStats {
            exported: get(&self.exported),
            spooled: get(&self.spooled),
            dropped: get(&self.dropped),
            rejected: get(&self.rejected),
            export_failures: get(&self.export_failures),
            spans_exported: get(&self.spans_exported),
            spans_dropped: get(&self.spans_dropped),
            queued: get(&self.queued),
            spool_records: get(&self.spool_records),
            spool_bytes: get(&self.spool_bytes),
        }
    }

    pub(crate) fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

impl AuditStats {
    /// Appends the audit metrics in Prometheus text exposition format to `out`.
    pub fn write_prometheus(&self, out: &mut String) {
        let metrics: [(&str, &str, &str, u64); 10] = [
            (
                "skybridge_audit_records_exported_total",
                "counter",
                "Audit records delivered.",
                self.exported,
            ),
            (
                "skybridge_audit_records_spooled_total",
                "counter",
                "Audit records that waited in the spool.",
                self.spooled,
            ),
            (
                "skybridge_audit_records_dropped_total",
                "counter",
                "Audit records lost.",
                self.dropped,
            ),
            (
                "skybridge_audit_records_rejected_total",
                "counter",
                "Audit records the collector refused for good.",
                self.rejected,
            ),
            (
                "skybridge_audit_export_failures_total",
                "counter",
                "Failed export attempts.",
                self.export_failures,
            ),
            (
                "skybridge_audit_spans_exported_total",
                "counter",
                "Request spans delivered.",
                self.spans_exported,
            ),
            (
                "skybridge_audit_spans_dropped_total",
                "counter",
                "Request spans lost.",
                self.spans_dropped,
            ),
            ("skybridge_audit_queue_records", "gauge", "Audit records in memory.", self.queued),
            (
                "skybridge_audit_spool_records",
                "gauge",
                "Audit records waiting on disk.",
                self.spool_records,
            ),
            ("skybridge_audit_spool_bytes", "gauge", "Bytes waiting on disk.", self.spool_bytes),
        ];
        for (name, kind, help, value) in metrics {
            // Writing to a String cannot fail.
            let _ = write!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}\n");
        }
    }
}
