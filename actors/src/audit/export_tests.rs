//! The exporter's handling of spans against the fake collector: spans follow their log
//! records, and a collector that will not take spans never holds the audit trail up.

#![allow(clippy::unwrap_used)] // A failed unwrap is a failed test, with its location.

use std::sync::atomic::Ordering;

use prost::Message;
use skybridge_shared::audit::UpstreamSpan;

use super::export::SPAN_ATTEMPTS;
use super::fake_collector::FakeCollector;
use super::tests::{otlp, resource, sample, settings, wait_for};
use super::*;

/// `sample(n)` forwarded upstream: a server span and a client span.
fn forwarded(n: u32) -> AuditRecord {
    let mut r = sample(n);
    r.upstream_span = Some(UpstreamSpan {
        span_id: [0x80 | n as u8; 8],
        started: r.timestamp,
        duration: Duration::from_millis(5),
    });
    r
}

fn start(collector: &FakeCollector, dir: &Path) -> (AuditSink, Health) {
    let health = Health::default();
    let target = otlp(collector.endpoint(), dir, 1 << 20);
    (AuditSink::start_with(settings(target), health.clone()).unwrap(), health)
}

#[test]
fn each_batch_sends_its_logs_then_its_spans() {
    let collector = FakeCollector::start(200);
    let dir = tempfile::tempdir().unwrap();
    let (sink, _) = start(&collector, dir.path());
    (0..3).for_each(|n| sink.record(forwarded(n)));
    sink.shutdown(Duration::from_secs(5));
    let stats = sink.stats();
    assert_eq!((stats.exported, stats.spans_exported, stats.spans_dropped), (3, 6, 0));
    assert_eq!(collector.received(), ["req-0", "req-1", "req-2"]);
    let spans = collector.spans();
    let pairs: Vec<(Vec<u8>, Vec<u8>)> =
        spans.iter().map(|s| (s.span_id.clone(), s.parent_span_id.clone())).collect();
    let expected: Vec<(Vec<u8>, Vec<u8>)> =
        (0..3u8).flat_map(|n| [(vec![n; 8], vec![]), (vec![0x80 | n; 8], vec![n; 8])]).collect();
    assert_eq!(pairs, expected, "server span, then its client child, per record, in order");
    assert!(spans.iter().all(|s| s.trace_id == vec![0xab; 16]));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing left in the spool");
}

#[test]
fn a_collector_without_a_traces_pipeline_costs_one_attempt_per_batch() {
    let collector = FakeCollector::start(200);
    collector.seen.traces_status.store(404, Ordering::SeqCst);
    let dir = tempfile::tempdir().unwrap();
    let (sink, health) = start(&collector, dir.path());
    (0..4).for_each(|n| sink.record(forwarded(n)));
    wait_for("the records", || sink.stats().exported == 4 && sink.stats().spans_dropped == 8);
    let stats = sink.stats();
    assert_eq!((stats.spool_records, stats.export_failures, stats.rejected), (0, 0, 0));
    assert_eq!(collector.seen.trace_posts.load(Ordering::SeqCst), 2, "two batches of two");
    assert_eq!(collector.received(), ["req-0", "req-1", "req-2", "req-3"], "each once");
    assert_eq!(health.snapshot()[HEALTH_COMPONENT].state, HealthState::Ready);
    sink.shutdown(Duration::from_secs(2));
}

#[test]
fn failing_spans_get_a_few_attempts_without_resending_their_logs() {
    let collector = FakeCollector::start(200);
    collector.seen.traces_status.store(503, Ordering::SeqCst);
    let dir = tempfile::tempdir().unwrap();
    let (sink, _) = start(&collector, dir.path());
    (0..2).for_each(|n| sink.record(forwarded(n)));
    wait_for("the spans to be given up", || sink.stats().spans_dropped == 4);
    assert_eq!(collector.seen.trace_posts.load(Ordering::SeqCst), SPAN_ATTEMPTS);
    assert_eq!(collector.received(), ["req-0", "req-1"], "the logs went exactly once");
    wait_for("the batch to leave the spool", || sink.stats().spool_records == 0);

    collector.seen.traces_status.store(200, Ordering::SeqCst);
    (2..4).for_each(|n| sink.record(forwarded(n)));
    wait_for("the next spans", || sink.stats().spans_exported == 4);
    let stats = sink.stats();
    assert_eq!((stats.exported, stats.spans_dropped, stats.export_failures), (4, 4, 0));
    sink.shutdown(Duration::from_secs(2));
}

#[test]
fn unsampled_records_are_audited_without_spans() {
    let collector = FakeCollector::start(200);
    let dir = tempfile::tempdir().unwrap();
    let (sink, _) = start(&collector, dir.path());
    for n in 0..3 {
        let mut r = forwarded(n);
        r.trace_flags = 0;
        sink.record(r);
    }
    sink.shutdown(Duration::from_secs(5));
    assert_eq!(sink.stats().exported, 3);
    assert_eq!(collector.seen.trace_posts.load(Ordering::SeqCst), 0);
}

#[test]
fn a_spool_file_from_before_spans_still_replays() {
    let dir = tempfile::tempdir().unwrap();
    let spool = Spool::open(dir.path(), 1 << 20).unwrap();
    let bare = batch_request(&resource(), &[sample(5)]).encode_to_vec();
    assert_eq!(spool.append(&bare, 1).unwrap(), Appended::Stored);
    drop(spool);
    let collector = FakeCollector::start(200);
    let (sink, _) = start(&collector, dir.path());
    wait_for("the replay", || sink.stats().exported == 1);
    assert_eq!(collector.received(), ["req-5"]);
    assert_eq!(collector.seen.trace_posts.load(Ordering::SeqCst), 0);
    sink.shutdown(Duration::from_secs(2));
}
