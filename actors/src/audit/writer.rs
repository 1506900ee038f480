//! The batcher thread: the single consumer of the record queue and the single writer of the
//! spool (or of the audit file / stdout).
//!
//! It collects records into batches (by size or age), encodes each batch once, and either
//! appends it to the spool for the exporter thread (log records and their spans in one file, see
//! [`super::bundle`]) or writes it as one OTLP-JSON line (log records only).

use std::io::Write;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use prost::Message;
use skybridge_shared::audit::AuditRecord;
use skybridge_shared::health::{Health, HealthState};
use tokio::sync::Notify;

use super::bundle;
use super::encode::{AuditResource, batch_request};
use super::json::to_json_line;
use super::spans::{span_count, span_request};
use super::spool::{Appended, Spool};
use super::stats::Counters;
use super::{HEALTH_COMPONENT, sync_spool_gauges};

/// What the request path sends to the batcher.
pub(crate) enum Command {
    /// One more record.
    Record(Box<AuditRecord>),
    /// Write out everything queued, then stop.
    Shutdown,
}

/// Where finished batches go.
pub(crate) enum Output {
    /// Into the spool, waking the exporter.
    Spool { spool: Arc<Spool>, wake: Arc<Notify> },
    /// As OTLP-JSON lines into a file or stdout.
    Lines(Box<dyn Write + Send>),
}

/// The batcher's state.
pub(crate) struct Batcher {
    pub(crate) resource: AuditResource,
    pub(crate) output: Output,
    pub(crate) counters: Arc<Counters>,
    pub(crate) health: Health,
    pub(crate) batch_size: usize,
    pub(crate) flush_interval: Duration,
}

// === impl Batcher ===

impl Batcher {
    /// Runs until shut down or until every sender is gone.
    pub(crate) fn run(mut self, rx: Receiver<Command>) {
        let mut batch: Vec<AuditRecord> = Vec::with_capacity(self.batch_size);
        let mut oldest = Instant::now();
        loop {
            let wait = self.flush_interval.saturating_sub(oldest.elapsed());
            match rx.recv_timeout(if batch.is_empty() { self.flush_interval } else { wait }) {
                Ok(Command::Record(record)) => {
                    if batch.is_empty() {
                        oldest = Instant::now();
                    }
                    batch.push(*record);
                    if batch.len() >= self.batch_size {
                        self.flush(&mut batch);
                    }
                }
                Ok(Command::Shutdown) => {
                    while let Ok(Command::Record(record)) = rx.try_recv() {
                        batch.push(*record);
                    }
                    self.flush(&mut batch);
                    return;
                }
                Err(RecvTimeoutError::Timeout) => self.flush(&mut batch),
                Err(RecvTimeoutError::Disconnected) => {
                    self.flush(&mut batch);
                    return;
                }
            }
        }
    }

    fn flush(&mut self, batch: &mut Vec<AuditRecord>) {
        if batch.is_empty() {
            return;
        }
        for chunk in batch.chunks(self.batch_size) {
            let count = chunk.len() as u64;
            let request = batch_request(&self.resource, chunk);
            let delivered = match &mut self.output {
                Output::Spool { spool, wake } => {
                    let spans = span_request(&self.resource, chunk);
                    let spans = spans.map(|s| (s.encode_to_vec(), span_count(&s)));
                    let span_total = spans.as_ref().map_or(0, |(_, n)| *n);
                    let body = bundle::encode(request.encode_to_vec(), spans);
                    let stored = spool_batch(spool, &body, count, &self.health);
                    if stored.is_none() {
                        Counters::add(&self.counters.spans_dropped, span_total);
                    }
                    sync_spool_gauges(spool, &self.counters);
                    wake.notify_one();
                    stored
                }
                // Spans need a collector: the file and stdout sinks write the audit trail only.
                Output::Lines(out) => write_line(out.as_mut(), &to_json_line(&request)),
            };
            if delivered.is_none() {
                Counters::add(&self.counters.dropped, count);
            } else if matches!(self.output, Output::Lines(_)) {
                Counters::add(&self.counters.exported, count);
            }
            self.counters.queued.fetch_sub(count, std::sync::atomic::Ordering::Relaxed);
        }
        batch.clear();
    }
}

/// Appends one encoded batch; `None` when it had to be dropped (already logged).
fn spool_batch(spool: &Spool, body: &[u8], count: u64, health: &Health) -> Option<()> {
    match spool.append(body, count) {
        Ok(Appended::Stored) => Some(()),
        Ok(Appended::Full) => {
            tracing::error!(
                dropped = count,
                spool_dir = %spool.dir().display(),
                "Audit spool is full; dropped audit records."
            );
            health.set(HEALTH_COMPONENT, HealthState::Degraded, "Audit spool full; dropping.");
            None
        }
        Err(err) => {
            tracing::error!(dropped = count, error = %err, "Cannot spool audit records; dropped.");
            None
        }
    }
}

fn write_line(out: &mut dyn Write, line: &str) -> Option<()> {
    let result = out
        .write_all(line.as_bytes())
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    match result {
        Ok(()) => Some(()),
        Err(err) => {
            tracing::error!(error = %err, "Cannot write audit records; dropped.");
            None
        }
    }
}
