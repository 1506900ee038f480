#![allow(clippy::unwrap_used)] // A failed unwrap is a failed test, with its location.

use std::io::Cursor;

use serde_json::json;

use super::*;

fn kv(key: &str, value: Value) -> Value {
    json!({ "key": key, "value": value })
}

/// One audit record in the shape the collector's file exporter writes.
fn record(trace: &str, request: &str, subject: &str, decision: &str, secs: u64) -> Value {
    json!({
        "timeUnixNano": (secs * 1_000_000_000).to_string(),
        "severityNumber": 9,
        "traceId": trace,
        "spanId": "00f067aa0ba902b7",
        "eventName": "skybridge.audit",
        "attributes": [
            kv("skybridge.request_id", json!({ "stringValue": request })),
            kv("skybridge.subject", json!({ "stringValue": subject })),
            kv("skybridge.route", json!({ "stringValue": "orders" })),
            kv("skybridge.decision", json!({ "stringValue": decision })),
            kv("http.response.status_code", json!({ "intValue": "200" })),
            kv("skybridge.duration_ms", json!({ "doubleValue": 1.5 })),
        ],
    })
}

fn line(records: Vec<Value>) -> String {
    json!({ "resourceLogs": [{
        "resource": { "attributes": [kv("service.name", json!({ "stringValue": "skybridge" }))] },
        "scopeLogs": [{ "scope": { "name": "skybridge.audit" }, "logRecords": records }],
    }]})
    .to_string()
}

const T1: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const T2: &str = "0af7651916cd43dd8448eb211c80319c";

fn trail() -> String {
    let other_log = json!({ "body": { "stringValue": "not audit" }, "traceId": T1 });
    [
        line(vec![record(T1, "a", "alice", "allow", 100), record(T2, "b", "bob", "deny", 200)]),
        String::new(),
        line(vec![other_log, record(T1, "c", "bob", "deny", 300)]),
        "{\"resourceLogs\":[{\"scopeLo".to_owned(), // torn by a crash
        line(vec![record(&T2.to_uppercase(), "d", "alice", "allow", 400)]),
    ]
    .join("\n")
}

fn ids(filter: &Filter) -> (Vec<String>, ScanSummary) {
    let mut found = Vec::new();
    let summary = scan(Cursor::new(trail()), filter, |r| {
        found.push(r.attribute_str("skybridge.request_id").unwrap_or_default().to_owned());
        Ok(())
    })
    .unwrap();
    (found, summary)
}

#[test]
fn filters_combine_and_other_lines_are_skipped() {
    let (all, summary) = ids(&Filter::default());
    assert_eq!(all, ["a", "b", "c", "d"]);
    assert_eq!(
        (summary.records, summary.skipped_lines, summary.first_skipped_line),
        (4, 1, Some(4))
    );

    let by_trace = Filter { trace_id: Some(T1.to_owned()), ..Filter::default() };
    assert_eq!(ids(&by_trace).0, ["a", "c"]);
    let denied_in_t1 = Filter { decision: Some(Decision::Deny), ..by_trace.clone() };
    assert_eq!(ids(&denied_in_t1).0, ["c"]);
    let upper = Filter { trace_id: Some(T2.to_owned()), ..Filter::default() };
    assert_eq!(ids(&upper).0, ["b", "d"], "ids compare case-insensitively");
    let alice_window = Filter {
        subject: Some("alice".into()),
        since: Some(150_000_000_000),
        until: Some(400_000_000_000),
        ..Filter::default()
    };
    assert_eq!(ids(&alice_window).0, ["d"], "since and until are inclusive");
    let none = Filter { route: Some("billing".into()), ..Filter::default() };
    assert_eq!(ids(&none).0, Vec::<String>::new());
    let one = Filter { request_id: Some("b".into()), ..Filter::default() };
    assert_eq!(ids(&one).1.matched, 1);
}

#[test]
fn records_come_back_as_plain_values() {
    let mut got = Vec::new();
    scan(Cursor::new(trail()), &Filter::default(), |r| {
        got.push(r);
        Ok(())
    })
    .unwrap();
    let first = &got[0];
    assert_eq!(first.time_unix_nano, 100_000_000_000);
    assert_eq!(first.attributes["http.response.status_code"], json!(200));
    assert_eq!(first.attributes["skybridge.duration_ms"], json!(1.5));
    assert_eq!(first.resource["service.name"], json!("skybridge"));
    let out = first.to_json();
    assert_eq!(out["time"], "1970-01-01T00:01:40.000Z");
    assert_eq!(out["trace_id"], T1);
    assert_eq!(got[3].trace_id, T2, "hex ids are normalised to lowercase");
}

#[test]
fn overlong_lines_are_skipped_without_being_buffered() {
    let text = format!("{}\nshort\nlast", "x".repeat(100));
    let mut reader = io::BufReader::with_capacity(16, Cursor::new(text));
    let mut buf = Vec::new();
    assert_eq!(read_line(&mut reader, &mut buf, 10).unwrap(), Some(false));
    assert!(buf.capacity() <= 32, "the long line was never held: {}", buf.capacity());
    assert_eq!(read_line(&mut reader, &mut buf, 10).unwrap(), Some(true));
    assert_eq!(buf, b"short");
    assert_eq!(read_line(&mut reader, &mut buf, 10).unwrap(), Some(true));
    assert_eq!(buf, b"last");
    assert_eq!(read_line(&mut reader, &mut buf, 10).unwrap(), None);
}

#[test]
fn trace_ids_are_checked() {
    assert_eq!(Filter::parse_trace_id(&T1.to_uppercase()).unwrap(), T1);
    assert!(Filter::parse_trace_id("xyz").unwrap_err().to_string().contains("32 hex digits"));
}
