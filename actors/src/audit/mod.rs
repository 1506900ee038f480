//! The audit trail's sink: takes one [`AuditRecord`] per request from the gateway and delivers
//! it as an OpenTelemetry log record, never making a request wait and never losing a record
//! silently.
//!
//! # Design
//! Two dedicated OS threads, not actix actors, because both block by nature: the *batcher*
//! fsyncs spool files or writes the audit file, and the *exporter* waits on the collector.
//! On an actix worker that would stall unrelated requests.
//!
//! * [`AuditSink::record`] is a `try_send` on a bounded in-memory queue: it never blocks and
//!   never awaits. A full queue (the disk cannot keep up) is the one place besides a full spool
//!   where records are dropped; both count in [`AuditStats::dropped`] and log at ERROR.
//! * The batcher is the single consumer of the queue and the single writer of new spool files.
//!   With an `otlp_endpoint` every batch is appended to the spool first (a write-ahead log), so
//!   a record is crash-safe from the moment its batch is written, whether or not the collector
//!   is up; without one, batches become OTLP-JSON lines in `audit_file` or on stdout.
//! * The exporter is the only reader and deleter of spool files. It POSTs them oldest first as
//!   OTLP/HTTP protobuf to `{otlp_endpoint}/v1/logs` and deletes a file only after a 2xx, so
//!   an outage simply leaves files on disk to replay, in order, once the collector is back.
//!   At-least-once: a collector that accepted a batch but whose answer was lost receives it
//!   again.
//! * [`AuditSink::shutdown`] writes out the queue and lets the exporter drain until the
//!   deadline; whatever is still unsent stays in the spool for the next start.
//!
//! # Spans
//! Each record also yields the request's spans (see [`span_request`]): the gateway's SERVER
//! span and, when an upstream was called, the CLIENT span whose id went upstream. They ride in
//! the same spool file as their log records (see `bundle.rs`), so they survive outages and
//! restarts alike, and are POSTed to `{otlp_endpoint}/v1/traces` right after the collector
//! acknowledged the log records. The audit trail keeps priority: spans are sent second, and a
//! collector that will not take them costs at most a few quick retries per batch before they
//! are dropped and counted in [`AuditStats::spans_dropped`]; readiness does not depend on them.
//! Without an endpoint (audit file or stdout) no spans are written at all: the OTLP-JSON lines
//! are the audit trail only. Records whose caller cleared the W3C sampled flag get no spans.
//!
//! With an endpoint and no `spool_dir`, the spool lives in `audit-spool/` beside the
//! configuration file.

mod bundle;
mod encode;
mod endpoint;
mod error;
mod export;
mod json;
mod post;
mod settings;
mod settle;
mod spans;
mod spool;
mod stats;
mod writer;

use std::fs::OpenOptions;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use skybridge_shared::audit::AuditRecord;
use skybridge_shared::config::TelemetryConfig;
use skybridge_shared::health::{Health, HealthState};

pub use encode::{AuditResource, SCOPE_NAME, batch_request};
pub use endpoint::Endpoint;
pub use error::AuditError;
pub use json::{hex, to_json_line};
pub use settings::{DEFAULT_SPOOL_DIR, SinkSettings, SinkTarget};
pub use spans::span_request;
pub use spool::{Appended, Spool, SpoolEntry};
pub use stats::AuditStats;

use export::{Control, Exporter};
use stats::Counters;
use writer::{Batcher, Command, Output};

/// Name of the sink's entry in the readiness registry.
pub const HEALTH_COMPONENT: &str = "audit";

/// The handle the gateway records through; cheap to clone, shareable across workers.
#[derive(Clone)]
pub struct AuditSink {
    inner: Arc<Inner>,
}

struct Inner {
    tx: SyncSender<Command>,
    counters: Arc<Counters>,
    control: Option<Arc<Control>>,
    threads: Mutex<Vec<(mpsc::Receiver<()>, JoinHandle<()>)>>,
    last_drop_log: AtomicU64,
}

impl std::fmt::Debug for AuditSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditSink").field("stats", &self.stats()).finish_non_exhaustive()
    }
}

// === impl AuditSink ===

impl AuditSink {
    /// Starts the sink for `[telemetry]`; see [`SinkSettings::from_config`].
    pub fn start(
        config: &TelemetryConfig,
        base_dir: &Path,
        instance_id: &str,
        health: Health,
    ) -> Result<AuditSink, AuditError> {
        Self::start_with(SinkSettings::from_config(config, base_dir, instance_id), health)
    }

    /// Starts the sink with explicit settings (tests tune batching and back-off here).
    pub fn start_with(settings: SinkSettings, health: Health) -> Result<AuditSink, AuditError> {
        let counters = Arc::new(Counters::default());
        let (tx, rx) = mpsc::sync_channel(settings.queue_capacity.max(1));
        let mut threads = Vec::new();
        let (output, control) = match &settings.target {
            SinkTarget::Otlp { endpoint, spool_dir, spool_max_bytes } => {
                let endpoint = Endpoint::parse(endpoint)?;
                let spool = Arc::new(Spool::open(spool_dir, *spool_max_bytes)?);
                sync_spool_gauges(&spool, &counters);
                let control = Arc::new(Control::default());
                threads.push(spawn_exporter(
                    &settings, endpoint, &spool, &control, &counters, &health,
                )?);
                (Output::Spool { spool, wake: control.wake.clone() }, Some(control))
            }
            SinkTarget::File(path) => (Output::Lines(Box::new(open_audit_file(path)?)), None),
            SinkTarget::Stdout => (Output::Lines(Box::new(std::io::stdout())), None),
        };
        health.set(HEALTH_COMPONENT, HealthState::Ready, "Audit sink running.");
        let batcher = Batcher {
            resource: settings.resource.clone(),
            output,
            counters: counters.clone(),
            health,
            batch_size: settings.batch_size.max(1),
            flush_interval: settings.flush_interval,
        };
        let (done_tx, done_rx) = mpsc::sync_channel(1);
        let handle = spawn_thread("skybridge-audit-batcher", move || {
            batcher.run(rx);
            let _ = done_tx.send(());
        })?;
        threads.insert(0, (done_rx, handle));
        let inner = Inner {
            tx,
            counters,
            control,
            threads: Mutex::new(threads),
            last_drop_log: AtomicU64::new(0),
        };
        Ok(AuditSink { inner: Arc::new(inner) })
    }

    /// Queues one record; returns at once whatever the collector or the disk are doing.
    pub fn record(&self, record: AuditRecord) {
        let inner = &self.inner;
        inner.counters.queued.fetch_add(1, Ordering::Relaxed);
        let Err(err) = inner.tx.try_send(Command::Record(Box::new(record))) else {
            return;
        };
        inner.counters.queued.fetch_sub(1, Ordering::Relaxed);
        Counters::add(&inner.counters.dropped, 1);
        let full = matches!(err, TrySendError::Full(_));
        // One line per second at most: a flood of ERROR lines would bury the cause.
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        if inner.last_drop_log.swap(now, Ordering::Relaxed) != now {
            let dropped_total = inner.counters.dropped.load(Ordering::Relaxed);
            if full {
                tracing::error!(dropped_total, "Audit queue is full; dropped an audit record.");
            } else {
                tracing::error!(dropped_total, "Audit sink is stopped; dropped an audit record.");
            }
        }
    }

    /// Writes out every queued record and gives the exporter until `deadline` to deliver the
    /// spool; what is left stays on disk for the next start. Later calls do nothing.
    pub fn shutdown(&self, deadline: Duration) {
        let end = Instant::now() + deadline;
        let left = || end.saturating_duration_since(Instant::now());
        let mut threads = {
            let mut guard = self.inner.threads.lock().unwrap_or_else(PoisonError::into_inner);
            std::mem::take(&mut *guard).into_iter()
        };
        let Some((batcher_done, batcher)) = threads.next() else {
            return;
        };
        if self.inner.tx.send(Command::Shutdown).is_ok()
            && batcher_done.recv_timeout(left()).is_ok()
        {
            let _ = batcher.join();
        }
        if let Some(control) = &self.inner.control {
            control.stop_by(end);
        }
        for (done, handle) in threads {
            // A second of grace past the deadline for the attempt in flight to time out.
            if done.recv_timeout(left() + Duration::from_secs(1)).is_ok() {
                let _ = handle.join();
            }
        }
        let stats = self.stats();
        if stats.spool_records > 0 {
            tracing::warn!(
                spooled = stats.spool_records,
                "Audit records remain in the spool; they are sent after the next start."
            );
        }
        tracing::info!(exported = stats.exported, dropped = stats.dropped, "Audit sink stopped.");
    }

    /// The sink's counters.
    pub fn stats(&self) -> AuditStats {
        self.inner.counters.snapshot()
    }
}

fn spawn_exporter(
    settings: &SinkSettings,
    endpoint: Endpoint,
    spool: &Arc<Spool>,
    control: &Arc<Control>,
    counters: &Arc<Counters>,
    health: &Health,
) -> Result<(mpsc::Receiver<()>, JoinHandle<()>), AuditError> {
    let exporter = Exporter {
        endpoint,
        spool: spool.clone(),
        control: control.clone(),
        counters: counters.clone(),
        health: health.clone(),
        timeout: settings.export_timeout,
        max_backoff: settings.max_backoff.max(Duration::from_millis(100)),
        uncounted_from: AtomicU64::new(0),
    };
    let (done_tx, done_rx) = mpsc::sync_channel(1);
    let handle = spawn_thread("skybridge-audit-exporter", move || {
        actix_rt::System::new().block_on(exporter.run());
        let _ = done_tx.send(());
    })?;
    Ok((done_rx, handle))
}

fn spawn_thread(
    name: &'static str,
    body: impl FnOnce() + Send + 'static,
) -> Result<JoinHandle<()>, AuditError> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(body)
        .map_err(|source| AuditError::Thread { thread: name, source })
}

fn open_audit_file(path: &Path) -> Result<std::fs::File, AuditError> {
    let err = |source| AuditError::File { path: path.to_owned(), source };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(err)?;
    }
    OpenOptions::new().create(true).append(true).open(path).map_err(err)
}

/// Copies the spool's size into the gauges.
fn sync_spool_gauges(spool: &Spool, counters: &Counters) {
    let (records, bytes) = spool.pending();
    counters.spool_records.store(records, Ordering::Relaxed);
    counters.spool_bytes.store(bytes, Ordering::Relaxed);
}

#[cfg(test)]
mod export_tests;
#[cfg(test)]
mod fake_collector;
#[cfg(test)]
mod tests;
