//! Unit tests of the sink: encoding, the file sink, and the spool/replay cycle against a
//! small in-test HTTP server on loopback.

#![allow(clippy::unwrap_used)] // A failed unwrap is a failed test, with its location.

use std::net::TcpListener;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use prost::Message;
use serde_json::Value;
use skybridge_shared::audit::{AuditRecord, Decision};

use super::fake_collector::FakeCollector;
use super::spans::span_count;
use super::*;

pub(super) fn sample(n: u32) -> AuditRecord {
    AuditRecord {
        timestamp: SystemTime::UNIX_EPOCH + Duration::from_millis(1_700_000_000_000 + u64::from(n)),
        trace_id: [0xab; 16],
        span_id: [n as u8; 8],
        trace_flags: 1,
        parent_span_id: None,
        upstream_span: None,
        request_id: format!("req-{n}"),
        method: "GET".into(),
        path: "/orders/7".into(),
        http_route: Some("/orders".into()),
        route: Some("orders".into()),
        upstream: Some("orders-svc".into()),
        status: 200,
        client_address: "127.0.0.1".into(),
        user_agent: None,
        decision: Decision::Allow,
        reason: None,
        subject: Some("alice".into()),
        issuer: Some("https://issuer.test".into()),
        client_id: None,
        tenant: None,
        rate_limit_remaining: Some(9),
        credential: None,
        upstream_status: Some(200),
        duration_ms: 12.5,
        upstream_duration_ms: Some(10.25),
    }
}

pub(super) fn resource() -> AuditResource {
    AuditResource { service_name: "skybridge-test".into(), instance_id: "i-1".into() }
}

fn attribute<'a>(record: &'a Value, key: &str) -> Option<&'a Value> {
    record["attributes"].as_array()?.iter().find(|kv| kv["key"] == key).map(|kv| &kv["value"])
}

#[test]
fn json_line_has_the_collector_file_exporter_shape() {
    let line = to_json_line(&batch_request(&resource(), &[sample(3)]));
    assert!(!line.contains('\n'));
    let doc: Value = serde_json::from_str(&line).unwrap();
    let rl = &doc["resourceLogs"][0];
    assert_eq!(rl["resource"]["attributes"][0]["value"]["stringValue"], "skybridge-test");
    assert_eq!(rl["scopeLogs"][0]["scope"]["name"], SCOPE_NAME);
    let rec = &rl["scopeLogs"][0]["logRecords"][0];
    assert_eq!(rec["traceId"], "abababababababababababababababab");
    assert_eq!(rec["spanId"], "0303030303030303");
    assert_eq!(rec["timeUnixNano"], "1700000000003000000", "fixed64 is a decimal string");
    assert_eq!(rec["severityNumber"], 9);
    assert_eq!(rec["flags"], 1);
    assert_eq!(rec["eventName"], "skybridge.audit");
    assert_eq!(attribute(rec, "http.response.status_code").unwrap()["intValue"], "200");
    assert_eq!(attribute(rec, "skybridge.duration_ms").unwrap()["doubleValue"], 12.5);
    assert_eq!(attribute(rec, "skybridge.request_id").unwrap()["stringValue"], "req-3");
    assert_eq!(attribute(rec, "skybridge.rate_limit.remaining").unwrap()["intValue"], "9");
    assert!(attribute(rec, "user_agent.original").is_none(), "absent values are left out");
    assert!(rec.get("droppedAttributesCount").is_none(), "zero values are left out");
}

#[test]
fn protobuf_body_round_trips() {
    let request = batch_request(&resource(), &[sample(1), sample(2)]);
    let decoded = ExportLogsServiceRequest::decode(request.encode_to_vec().as_slice()).unwrap();
    assert_eq!(decoded, request);
    let records = &decoded.resource_logs[0].scope_logs[0].log_records;
    assert_eq!(records.len(), 2);
    assert_eq!(records[1].span_id, vec![2; 8]);
}

/// Bytes the spool takes for one batch of `records`: their logs and spans bodies.
pub(super) fn spooled_size(records: &[AuditRecord]) -> usize {
    let spans = span_request(&resource(), records).map(|s| (s.encode_to_vec(), span_count(&s)));
    bundle::encode(batch_request(&resource(), records).encode_to_vec(), spans).len()
}

pub(super) fn settings(target: SinkTarget) -> SinkSettings {
    let mut s = SinkSettings::from_config(&TelemetryConfig::default(), Path::new("/"), "i-1");
    s.target = target;
    s.batch_size = 2;
    s.flush_interval = Duration::from_millis(50);
    s.export_timeout = Duration::from_secs(2);
    s.max_backoff = Duration::from_millis(200);
    s
}

#[test]
fn file_sink_writes_one_line_per_batch() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("trail/audit.jsonl");
    let sink =
        AuditSink::start_with(settings(SinkTarget::File(path.clone())), Health::default()).unwrap();
    (0..5).for_each(|n| sink.record(sample(n)));
    sink.shutdown(Duration::from_secs(5));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("resourceSpans"), "the file sink writes no spans");
    let per_line: Vec<usize> = text
        .lines()
        .map(|l| {
            let doc: Value = serde_json::from_str(l).unwrap();
            doc["resourceLogs"][0]["scopeLogs"][0]["logRecords"].as_array().unwrap().len()
        })
        .collect();
    assert_eq!(per_line.iter().sum::<usize>(), 5);
    assert!(per_line.iter().all(|&n| n <= 2), "{per_line:?}");
    let stats = sink.stats();
    assert_eq!((stats.exported, stats.dropped, stats.queued), (5, 0, 0));
    sink.record(sample(9));
    assert_eq!(sink.stats().dropped, 1, "a record after shutdown is counted, not lost silently");
}

pub(super) fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub(super) fn otlp(endpoint: String, dir: &Path, max: u64) -> SinkTarget {
    SinkTarget::Otlp { endpoint, spool_dir: dir.to_owned(), spool_max_bytes: max }
}

#[test]
fn refused_batches_wait_in_the_spool_and_replay_in_order() {
    let collector = FakeCollector::start(503);
    let dir = tempfile::tempdir().unwrap();
    let health = Health::default();
    let target = otlp(collector.endpoint(), dir.path(), 1 << 20);
    let sink = AuditSink::start_with(settings(target), health.clone()).unwrap();
    (0..6).for_each(|n| sink.record(sample(n)));
    wait_for("failed attempts", || sink.stats().export_failures >= 2);
    wait_for("all six on disk", || sink.stats().spool_records == 6);
    // `spooled` counts a batch at the first failure after it landed; on a busy disk the last
    // fsync can come after the second failure, so wait for a failure that saw all six.
    wait_for("all six counted as spooled", || sink.stats().spooled == 6);
    assert_eq!(health.snapshot()[HEALTH_COMPONENT].state, HealthState::Degraded);
    collector.seen.logs_status.store(200, Ordering::SeqCst);
    collector.seen.traces_status.store(200, Ordering::SeqCst);
    wait_for("the replay", || sink.stats().exported == 6);
    let expected: Vec<String> = (0..6).map(|n| format!("req-{n}")).collect();
    assert_eq!(collector.received(), expected, "oldest first, exactly once");
    wait_for("the spans", || sink.stats().spans_exported == 6);
    let ids: Vec<Vec<u8>> = collector.spans().into_iter().map(|s| s.span_id).collect();
    assert_eq!(ids, (0..6).map(|n| vec![n; 8]).collect::<Vec<_>>(), "spans follow their logs");
    let stats = sink.stats();
    assert_eq!((stats.spooled, stats.dropped, stats.spool_records), (6, 0, 0));
    assert_eq!(health.snapshot()[HEALTH_COMPONENT].state, HealthState::Ready);
    sink.shutdown(Duration::from_secs(2));
}

#[test]
fn permanently_refused_batches_are_kept_aside() {
    let collector = FakeCollector::start(400);
    let dir = tempfile::tempdir().unwrap();
    let target = otlp(collector.endpoint(), dir.path(), 1 << 20);
    let sink = AuditSink::start_with(settings(target), Health::default()).unwrap();
    sink.record(sample(1));
    wait_for("the rejection", || sink.stats().rejected == 1);
    assert_eq!(std::fs::read_dir(dir.path().join("rejected")).unwrap().count(), 1);
    sink.shutdown(Duration::from_secs(1));
}

#[test]
fn spool_outlives_the_sink_and_a_full_spool_drops_and_counts() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let unreachable = format!("http://127.0.0.1:{closed}");
    let dir = tempfile::tempdir().unwrap();
    let one_batch = spooled_size(&[sample(0), sample(1)]);
    let target = otlp(unreachable, dir.path(), one_batch as u64 + 200);
    let health = Health::default();
    let sink = AuditSink::start_with(settings(target), health.clone()).unwrap();
    (0..4).for_each(|n| sink.record(sample(n)));
    sink.shutdown(Duration::from_millis(300));
    let stats = sink.stats();
    assert_eq!((stats.spool_records, stats.dropped), (2, 2), "{stats:?}");
    assert_eq!(stats.spans_dropped, 2, "the dropped records' server spans: {stats:?}");
    assert_eq!(health.snapshot()[HEALTH_COMPONENT].state, HealthState::Degraded);

    // The next process finds the spooled batch and delivers it.
    let collector = FakeCollector::start(200);
    let target = otlp(collector.endpoint(), dir.path(), 1 << 20);
    let next = AuditSink::start_with(settings(target), Health::default()).unwrap();
    assert_eq!(next.stats().spool_records, 2);
    wait_for("the replay", || next.stats().exported == 2);
    assert_eq!(collector.received(), vec!["req-0", "req-1"]);
    wait_for("the spans", || next.stats().spans_exported == 2);
    let ids: Vec<Vec<u8>> = collector.spans().into_iter().map(|s| s.span_id).collect();
    assert_eq!(ids, [vec![0; 8], vec![1; 8]], "the spans were spooled with their records");
    next.shutdown(Duration::from_secs(1));
}
