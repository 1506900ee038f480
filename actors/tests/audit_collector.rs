//! The audit sink against a real collector: sink → rotel (OTLP/HTTP) → scripts/otlp-sink.py →
//! OTLP-JSON lines, read back with the `audit query` search code (log records) and as plain
//! JSON (the request spans, which arrive on `/v1/traces` and land in the same file).

#![allow(clippy::unwrap_used)] // A failed unwrap is a failed test, with its location.

mod support;

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};
use skybridge_actors::audit::{AuditSink, SinkSettings};
use skybridge_shared::audit::{AuditRecord, Decision, UpstreamSpan};
use skybridge_shared::audit_query::{Filter, TrailRecord, scan};
use skybridge_shared::config::TelemetryConfig;
use skybridge_shared::health::Health;
use support::{OtlpSink, Rotel, captured_logs, files_containing, wait_until};

/// The collector's basic-auth password, given to the sink inside `otlp_endpoint`.
const ENDPOINT_SECRET: &str = "collector-pw-5f1c9e0a7d";
/// A bearer token a caller sent; the gateway never copies it into a record.
const CALLER_TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.secret-caller-token-83b2";

fn record(trace: u8, request_id: &str) -> AuditRecord {
    AuditRecord {
        timestamp: SystemTime::now(),
        trace_id: [trace; 16],
        span_id: [trace, 1, 2, 3, 4, 5, 6, 7],
        trace_flags: 1,
        parent_span_id: None,
        upstream_span: None,
        request_id: request_id.to_owned(),
        method: "POST".into(),
        path: "/orders".into(),
        http_route: Some("/orders".into()),
        route: Some("orders".into()),
        upstream: Some("orders-run".into()),
        status: if trace == 0xaa { 201 } else { 401 },
        client_address: "127.0.0.1".into(),
        user_agent: Some("audit-test/1".into()),
        decision: if trace == 0xaa { Decision::Allow } else { Decision::Deny },
        reason: (trace != 0xaa).then_some("token_invalid"),
        subject: (trace == 0xaa).then(|| "alice".to_owned()),
        issuer: None,
        client_id: None,
        tenant: None,
        rate_limit_remaining: None,
        credential: (trace == 0xaa).then(|| "orders-id-token".to_owned()),
        upstream_status: (trace == 0xaa).then_some(201),
        duration_ms: 3.5,
        upstream_duration_ms: (trace == 0xaa).then_some(2.0),
    }
}

fn settings(rotel: &Rotel, spool: &Path) -> SinkSettings {
    let config = TelemetryConfig {
        service_name: "skybridge-audit-test".into(),
        otlp_endpoint: Some(format!(
            "http://skybridge:{ENDPOINT_SECRET}@127.0.0.1:{}",
            rotel.http_port
        )),
        spool_dir: Some(spool.to_owned()),
        ..TelemetryConfig::default()
    };
    let mut settings = SinkSettings::from_config(&config, Path::new("/"), "instance-1");
    settings.batch_size = 25;
    settings.flush_interval = Duration::from_millis(100);
    settings.max_backoff = Duration::from_millis(500);
    settings.export_timeout = Duration::from_secs(3);
    settings
}

/// A request a traced caller sent, forwarded upstream: trace `cc…`, caller span `dd…`.
fn traced_record() -> AuditRecord {
    let mut r = record(0xaa, "traced-0");
    r.trace_id = [0xcc; 16];
    r.span_id = [0xcc, 1, 2, 3, 4, 5, 6, 7];
    r.parent_span_id = Some([0xdd; 8]);
    r.upstream_span = Some(UpstreamSpan {
        span_id: [0xee, 1, 2, 3, 4, 5, 6, 7],
        started: r.timestamp + Duration::from_millis(1),
        duration: Duration::from_millis(2),
    });
    r
}

/// Every span in the trail file, each with its resource attached under `"resource"`.
fn read_spans(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut spans = Vec::new();
    for doc in text.lines().filter_map(|l| serde_json::from_str::<Value>(l).ok()) {
        for rs in doc["resourceSpans"].as_array().into_iter().flatten() {
            for ss in rs["scopeSpans"].as_array().into_iter().flatten() {
                for span in ss["spans"].as_array().into_iter().flatten() {
                    let mut span = span.clone();
                    span["resource"] = rs["resource"].clone();
                    spans.push(span);
                }
            }
        }
    }
    spans
}

fn span_attr<'a>(span: &'a Value, key: &str) -> &'a Value {
    let found = span["attributes"].as_array().and_then(|a| a.iter().find(|kv| kv["key"] == key));
    found.map_or(&Value::Null, |kv| &kv["value"])
}

fn read_trail(path: &Path, filter: &Filter) -> Vec<TrailRecord> {
    let mut found = Vec::new();
    let Ok(file) = File::open(path) else {
        return found;
    };
    scan(BufReader::new(file), filter, |r| {
        found.push(r);
        Ok(())
    })
    .unwrap();
    found
}

#[test]
fn records_cross_a_real_collector_and_are_found_by_trace_id() {
    let logs = captured_logs();
    let dir = tempfile::tempdir().unwrap();
    let sink = OtlpSink::start(dir.path());
    let rotel = Rotel::start(dir.path(), sink.port);
    let spool = dir.path().join("spool");
    let audit = AuditSink::start_with(settings(&rotel, &spool), Health::default()).unwrap();
    for n in 0..3 {
        audit.record(record(0xaa, &format!("allowed-{n}")));
    }
    for n in 0..4 {
        audit.record(record(0xbb, &format!("denied-{n}")));
    }
    audit.record(traced_record());
    audit.shutdown(Duration::from_secs(15));
    let stats = audit.stats();
    assert_eq!((stats.exported, stats.spans_exported, stats.spans_dropped), (8, 9, 0), "{stats:?}");
    wait_until("rotel to forward all eight records", Duration::from_secs(20), || {
        read_trail(&sink.out, &Filter::default()).len() == 8
    });
    wait_until("rotel to forward all nine spans", Duration::from_secs(20), || {
        read_spans(&sink.out).len() == 9
    });
    check_traced_spans(&sink.out);

    let trace = "aa".repeat(16);
    let filter = Filter { trace_id: Some(trace.clone()), ..Filter::default() };
    let found = read_trail(&sink.out, &filter);
    let ids: Vec<&str> =
        found.iter().filter_map(|r| r.attribute_str("skybridge.request_id")).collect();
    assert_eq!(ids, ["allowed-0", "allowed-1", "allowed-2"]);
    let first = &found[0];
    assert_eq!(first.trace_id, trace);
    assert_eq!(first.span_id, "aa01020304050607");
    assert_eq!(first.resource["service.name"], json!("skybridge-audit-test"));
    assert_eq!(first.resource["service.instance.id"], json!("instance-1"));
    let expected = BTreeMap::from([
        ("http.request.method", json!("POST")),
        ("url.path", json!("/orders")),
        ("http.route", json!("/orders")),
        ("http.response.status_code", json!(201)),
        ("client.address", json!("127.0.0.1")),
        ("user_agent.original", json!("audit-test/1")),
        ("skybridge.route", json!("orders")),
        ("skybridge.upstream", json!("orders-run")),
        ("skybridge.decision", json!("allow")),
        ("skybridge.subject", json!("alice")),
        ("skybridge.credential", json!("orders-id-token")),
        ("skybridge.upstream.status", json!(201)),
        ("skybridge.duration_ms", json!(3.5)),
        ("skybridge.upstream.duration_ms", json!(2.0)),
    ]);
    for (key, value) in expected {
        assert_eq!(first.attributes.get(key), Some(&value), "{key}");
    }
    assert!(first.attributes.get("skybridge.reason").is_none());

    let denied = Filter { decision: Some(Decision::Deny), ..Filter::default() };
    let denied = read_trail(&sink.out, &denied);
    assert_eq!(denied.len(), 4);
    assert!(denied.iter().all(|r| r.attribute_str("skybridge.reason") == Some("token_invalid")));

    drop(rotel);
    for secret in [ENDPOINT_SECRET, CALLER_TOKEN] {
        assert_eq!(files_containing(dir.path(), secret), Vec::<std::path::PathBuf>::new());
        let logged = String::from_utf8_lossy(&logs.lock().unwrap()).contains(secret);
        assert!(!logged, "a secret reached the logs");
    }
}

/// The traced request's two spans crossed the collector with their ids, links and names.
fn check_traced_spans(trail: &Path) {
    let trace = "cc".repeat(16);
    let log = read_trail(trail, &Filter { trace_id: Some(trace.clone()), ..Filter::default() });
    assert_eq!(log.len(), 1);
    let spans: Vec<Value> =
        read_spans(trail).into_iter().filter(|s| s["traceId"] == json!(trace)).collect();
    let [server, client] = spans.as_slice() else { panic!("two spans: {spans:?}") };
    assert_eq!(server["spanId"], json!(log[0].span_id), "the log record's span is the server span");
    assert_eq!(server["spanId"], json!("cc01020304050607"));
    assert_eq!(server["parentSpanId"], json!("dd".repeat(8)), "the caller's span");
    assert_eq!(server["kind"], json!(2), "SPAN_KIND_SERVER");
    assert_eq!(server["name"], json!("POST /orders"));
    assert_eq!(span_attr(server, "http.route"), &json!({ "stringValue": "/orders" }));
    assert_eq!(span_attr(server, "http.response.status_code"), &json!({ "intValue": "201" }));
    assert_eq!(span_attr(server, "skybridge.request_id"), &json!({ "stringValue": "traced-0" }));
    assert_eq!(client["spanId"], json!("ee01020304050607"), "the id sent upstream");
    assert_eq!(client["parentSpanId"], server["spanId"], "a child of the server span");
    assert_eq!(client["kind"], json!(3), "SPAN_KIND_CLIENT");
    assert_eq!(client["name"], json!("POST"));
    assert_eq!(span_attr(client, "skybridge.upstream"), &json!({ "stringValue": "orders-run" }));
    let start = |s: &Value| s["startTimeUnixNano"].as_str().unwrap().parse::<u64>().unwrap();
    let end = |s: &Value| s["endTimeUnixNano"].as_str().unwrap().parse::<u64>().unwrap();
    assert_eq!(end(server) - start(server), 3_500_000, "3.5 ms");
    assert_eq!(
        (start(client) - start(server), end(client) - start(client)),
        (1_000_000, 2_000_000)
    );
    let resource = server["resource"]["attributes"].to_string();
    assert!(resource.contains("skybridge-audit-test") && resource.contains("instance-1"));
}

#[test]
fn a_collector_outage_under_steady_load_loses_and_duplicates_nothing() {
    let logs = captured_logs();
    let dir = tempfile::tempdir().unwrap();
    let sink = OtlpSink::start(dir.path());
    let mut rotel = Rotel::start(dir.path(), sink.port);
    let spool = dir.path().join("spool");
    let audit = AuditSink::start_with(settings(&rotel, &spool), Health::default()).unwrap();

    let running = Arc::new(AtomicBool::new(true));
    let producer = {
        let (audit, running) = (audit.clone(), running.clone());
        std::thread::spawn(move || {
            let mut sent = 0u32;
            while running.load(Ordering::SeqCst) {
                audit.record(record(0xaa, &format!("steady-{sent}")));
                sent += 1;
                std::thread::sleep(Duration::from_millis(20));
            }
            sent
        })
    };
    std::thread::sleep(Duration::from_secs(3));
    rotel.stop();
    std::thread::sleep(Duration::from_secs(10));
    let during_outage = audit.stats();
    assert!(during_outage.spool_records > 0, "{during_outage:?}");
    assert!(during_outage.export_failures > 0, "{during_outage:?}");
    rotel.resume();
    std::thread::sleep(Duration::from_secs(3));
    running.store(false, Ordering::SeqCst);
    let sent = producer.join().unwrap();
    audit.shutdown(Duration::from_secs(30));

    let stats = audit.stats();
    assert_eq!((stats.exported, stats.dropped, stats.spool_records), (u64::from(sent), 0, 0));
    assert!(stats.spooled > 0, "{stats:?}");
    // Spans waited in the spool with their records; only a batch whose logs got through just
    // as the collector went down may have lost its spans.
    assert_eq!(stats.spans_exported + stats.spans_dropped, u64::from(sent), "{stats:?}");
    assert!(stats.spans_dropped <= 25, "at most one batch: {stats:?}");
    wait_until("every record to reach the trail", Duration::from_secs(30), || {
        read_trail(&sink.out, &Filter::default()).len() >= sent as usize
    });
    std::thread::sleep(Duration::from_secs(1));
    let trail = read_trail(&sink.out, &Filter::default());
    let mut ids: Vec<String> = trail
        .iter()
        .filter_map(|r| r.attribute_str("skybridge.request_id").map(str::to_owned))
        .collect();
    ids.sort_by_key(|id| id.trim_start_matches("steady-").parse::<u32>().unwrap());
    let expected: Vec<String> = (0..sent).map(|n| format!("steady-{n}")).collect();
    assert_eq!(ids, expected, "each of the {sent} records arrives exactly once");
    wait_until("every span to reach the trail", Duration::from_secs(30), || {
        read_spans(&sink.out).len() as u64 >= stats.spans_exported
    });
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(read_spans(&sink.out).len() as u64, stats.spans_exported, "spans arrive once");
    assert!(!String::from_utf8_lossy(&logs.lock().unwrap()).contains(ENDPOINT_SECRET));
}
