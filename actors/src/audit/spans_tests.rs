#![allow(clippy::unwrap_used)] // A failed unwrap is a failed test, with its location.

use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;

use super::*;
use crate::audit::tests::{resource, sample};

const START_NANOS: u64 = 1_700_000_000_001_000_000;

/// `sample(1)` called by a traced client and forwarded upstream.
fn forwarded() -> AuditRecord {
    let mut r = sample(1);
    r.parent_span_id = Some([9; 8]);
    r.upstream_span = Some(UpstreamSpan {
        span_id: [7; 8],
        started: r.timestamp + Duration::from_millis(2),
        duration: Duration::from_micros(10_250),
    });
    r
}

fn spans_of(records: &[AuditRecord]) -> Vec<Span> {
    let request = span_request(&resource(), records).unwrap();
    assert_eq!(request.resource_spans.len(), 1);
    let scope_spans = &request.resource_spans[0].scope_spans;
    assert_eq!(scope_spans[0].scope.as_ref().unwrap().name, "skybridge.audit");
    scope_spans[0].spans.clone()
}

fn attr<'a>(span: &'a Span, key: &str) -> Option<&'a Any> {
    span.attributes.iter().find(|kv| kv.key == key)?.value.as_ref()?.value.as_ref()
}

fn text(span: &Span, key: &str) -> Option<String> {
    match attr(span, key)? {
        Any::StringValue(s) => Some(s.clone()),
        other => panic!("{key} is not a string: {other:?}"),
    }
}

#[test]
fn a_forwarded_request_has_a_server_span_and_its_client_child() {
    let spans = spans_of(&[forwarded()]);
    let [server, client] = spans.as_slice() else { panic!("two spans: {spans:?}") };

    assert_eq!((server.trace_id.clone(), server.span_id.clone()), (vec![0xab; 16], vec![1; 8]));
    assert_eq!(server.parent_span_id, vec![9; 8], "the caller's span");
    assert_eq!(server.kind, SpanKind::Server as i32);
    assert_eq!(server.name, "GET /orders");
    assert_eq!(server.start_time_unix_nano, START_NANOS);
    assert_eq!(server.end_time_unix_nano, START_NANOS + 12_500_000, "12.5 ms");
    assert_eq!(server.flags, 0x301, "sampled, parent known to be remote");
    assert_eq!(server.status, None, "a 200 leaves the status unset");
    assert_eq!(text(server, "http.request.method").as_deref(), Some("GET"));
    assert_eq!(text(server, "http.route").as_deref(), Some("/orders"));
    assert_eq!(attr(server, "http.response.status_code"), Some(&Any::IntValue(200)));
    assert_eq!(text(server, "url.path").as_deref(), Some("/orders/7"));
    assert_eq!(text(server, "skybridge.request_id").as_deref(), Some("req-1"));
    assert_eq!(attr(server, "error.type"), None);

    assert_eq!(client.trace_id, server.trace_id, "one trace");
    assert_eq!(client.span_id, vec![7; 8], "the id that went upstream");
    assert_eq!(client.parent_span_id, server.span_id, "a child of the server span");
    assert_eq!(client.kind, SpanKind::Client as i32);
    assert_eq!(client.name, "GET");
    assert_eq!(client.start_time_unix_nano, START_NANOS + 2_000_000);
    assert_eq!(client.end_time_unix_nano, START_NANOS + 12_250_000);
    assert_eq!(client.flags, 0x101, "sampled, local parent");
    assert_eq!(client.status, None);
    assert_eq!(text(client, "skybridge.upstream").as_deref(), Some("orders-svc"));
    assert_eq!(attr(client, "http.response.status_code"), Some(&Any::IntValue(200)));
}

#[test]
fn failures_set_error_status_where_the_conventions_say() {
    // The upstream timed out: no upstream status, the gateway answered 504.
    let mut timed_out = forwarded();
    (timed_out.status, timed_out.reason, timed_out.upstream_status) =
        (504, Some("upstream_timeout"), None);
    (timed_out.http_route, timed_out.parent_span_id) = (None, None);
    let spans = spans_of(&[timed_out]);
    let [server, client] = spans.as_slice() else { panic!("two spans: {spans:?}") };
    assert_eq!(server.name, "GET", "no route matched: the method alone");
    assert_eq!(server.parent_span_id, Vec::<u8>::new(), "a root span");
    assert_eq!(server.flags, 0x101);
    assert_eq!(server.status.as_ref().unwrap().code, StatusCode::Error as i32);
    assert_eq!(server.status.as_ref().unwrap().message, "upstream_timeout");
    assert_eq!(text(server, "error.type").as_deref(), Some("upstream_timeout"));
    assert_eq!(attr(server, "http.route"), None);
    assert_eq!(client.status.as_ref().unwrap().code, StatusCode::Error as i32);
    assert_eq!(text(client, "error.type").as_deref(), Some("upstream_timeout"));
    assert_eq!(attr(client, "http.response.status_code"), None, "no answer came");

    // The upstream answered 404: the client span failed, the server span did not.
    let mut not_found = forwarded();
    (not_found.status, not_found.upstream_status) = (404, Some(404));
    let spans = spans_of(&[not_found]);
    assert_eq!(spans[0].status, None);
    assert_eq!(spans[1].status.as_ref().unwrap().code, StatusCode::Error as i32);
    assert_eq!(spans[1].status.as_ref().unwrap().message, "");
    assert_eq!(text(&spans[1], "error.type").as_deref(), Some("404"));
}

#[test]
fn only_sampled_records_have_spans_and_denials_have_no_client_span() {
    let mut unsampled = forwarded();
    unsampled.trace_flags = 0;
    assert!(span_request(&resource(), &[unsampled.clone()]).is_none());

    let mut denied = sample(2);
    (denied.status, denied.reason, denied.upstream_status) = (401, Some("token_missing"), None);
    let request = span_request(&resource(), &[unsampled, denied, forwarded()]).unwrap();
    assert_eq!(span_count(&request), 3);
    let spans = &request.resource_spans[0].scope_spans[0].spans;
    let ids: Vec<(Vec<u8>, i32)> = spans.iter().map(|s| (s.span_id.clone(), s.kind)).collect();
    let (server, client) = (SpanKind::Server as i32, SpanKind::Client as i32);
    assert_eq!(ids, [(vec![2; 8], server), (vec![1; 8], server), (vec![7; 8], client)]);
    assert_eq!(spans[0].status, None, "a 401 is the caller's failure, not the gateway's");
}

#[test]
fn nonsense_durations_end_the_span_where_it_started() {
    for ms in [f64::NAN, -3.0, f64::INFINITY, 1e300] {
        let mut r = sample(4);
        r.duration_ms = ms;
        let spans = spans_of(&[r]);
        assert_eq!(spans[0].end_time_unix_nano, spans[0].start_time_unix_nano, "{ms}");
    }
}
