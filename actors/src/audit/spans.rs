//! Turns [`AuditRecord`]s into OTLP spans: per record, the gateway's SERVER span and, when an
//! upstream call was made, its CLIENT span (the one whose id went upstream in `traceparent`).
//!
//! The record already holds every id and time, so the spans are rebuilt here after the fact
//! rather than recorded live by a tracer: the request path does no tracing work beyond filling
//! the record. Spans use the same resource and scope as the log records, and the server span's
//! id is the log record's span id, so a trace view links straight to the audit record.
//!
//! Sampling follows the caller (W3C "parent-based"): a record whose trace flags have the
//! sampled bit cleared produces no spans, as the caller asked for none. Its log record is still
//! written: the audit trail is not sampled.

use std::time::{Duration, SystemTime};

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, SpanFlags, Status};
use skybridge_shared::audit::{AuditRecord, UpstreamSpan, attr};

use super::encode::{AuditResource, int_kv, otlp_resource, scope, string_kv, unix_nanos};

/// Semantic-convention attribute naming the class of error of a failed span.
const ERROR_TYPE: &str = "error.type";
/// The semantic conventions' `error.type` when nothing more specific is known.
const ERROR_OTHER: &str = "_OTHER";
/// W3C trace flag bit 0.
const SAMPLED: u8 = 0x01;

/// Encodes the spans of one batch as a complete export request; `None` when no record in the
/// batch is sampled.
pub fn span_request(
    resource: &AuditResource,
    records: &[AuditRecord],
) -> Option<ExportTraceServiceRequest> {
    let spans: Vec<Span> = records
        .iter()
        .filter(|r| r.trace_flags & SAMPLED != 0)
        .flat_map(|r| std::iter::once(server_span(r)).chain(client_span(r)))
        .collect();
    if spans.is_empty() {
        return None;
    }
    Some(ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(otlp_resource(resource)),
            scope_spans: vec![ScopeSpans {
                scope: Some(scope()),
                spans,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    })
}

/// Number of spans in `request`.
pub(super) fn span_count(request: &ExportTraceServiceRequest) -> u64 {
    let spans = request.resource_spans.iter().flat_map(|r| &r.scope_spans).map(|s| s.spans.len());
    spans.sum::<usize>() as u64
}

/// The gateway's own span: the caller's request, from arrival to response.
fn server_span(r: &AuditRecord) -> Span {
    let name = match &r.http_route {
        Some(route) => format!("{} {route}", r.method),
        None => r.method.clone(),
    };
    let mut attributes = vec![
        string_kv(attr::METHOD, &r.method),
        int_kv(attr::STATUS, i64::from(r.status)),
        string_kv(attr::PATH, &r.path),
        string_kv(attr::REQUEST_ID, &r.request_id),
    ];
    if let Some(route) = &r.http_route {
        attributes.insert(1, string_kv(attr::HTTP_ROUTE, route));
    }
    // Server spans fail only on 5xx: a 4xx is the caller's mistake, not the gateway's.
    let failed = r.status >= 500;
    if failed {
        attributes.push(string_kv(ERROR_TYPE, r.reason.unwrap_or(ERROR_OTHER)));
    }
    let start = unix_nanos(r.timestamp);
    let length = Duration::try_from_secs_f64(r.duration_ms / 1000.0).unwrap_or_default();
    Span {
        trace_id: r.trace_id.to_vec(),
        span_id: r.span_id.to_vec(),
        parent_span_id: r.parent_span_id.map(|p| p.to_vec()).unwrap_or_default(),
        // The parent, when there is one, is the caller's span: remote.
        flags: flags(r.trace_flags, r.parent_span_id.is_some()),
        name,
        kind: SpanKind::Server as i32,
        start_time_unix_nano: start,
        end_time_unix_nano: end(r.timestamp, length),
        attributes,
        status: status(failed, r.reason),
        ..Default::default()
    }
}

/// The upstream call, a child of the server span; `None` when no call was made.
fn client_span(r: &AuditRecord) -> Option<Span> {
    let UpstreamSpan { span_id, started, duration } = r.upstream_span?;
    let mut attributes = vec![string_kv(attr::METHOD, &r.method)];
    if let Some(upstream) = &r.upstream {
        attributes.push(string_kv(attr::UPSTREAM, upstream));
    }
    if let Some(code) = r.upstream_status {
        attributes.push(int_kv(attr::STATUS, i64::from(code)));
    }
    // Client spans fail on any 4xx/5xx, and when no answer came at all (timeout, refused).
    let failed = r.upstream_status.is_none_or(|code| code >= 400);
    if failed {
        let kind = match r.upstream_status {
            Some(code) => code.to_string(),
            None => r.reason.unwrap_or(ERROR_OTHER).to_owned(),
        };
        attributes.push(string_kv(ERROR_TYPE, &kind));
    }
    let reason = if r.upstream_status.is_none() { r.reason } else { None };
    Some(Span {
        trace_id: r.trace_id.to_vec(),
        span_id: span_id.to_vec(),
        parent_span_id: r.span_id.to_vec(),
        flags: flags(r.trace_flags, false),
        name: r.method.clone(),
        kind: SpanKind::Client as i32,
        start_time_unix_nano: unix_nanos(started),
        end_time_unix_nano: end(started, duration),
        attributes,
        status: status(failed, reason),
        ..Default::default()
    })
}

/// The span's `flags`: the W3C trace flags, plus whether its parent is remote (OTLP 1.1).
fn flags(trace_flags: u8, remote_parent: bool) -> u32 {
    let mut flags = u32::from(trace_flags) | SpanFlags::ContextHasIsRemoteMask as u32;
    if remote_parent {
        flags |= SpanFlags::ContextIsRemoteMask as u32;
    }
    flags
}

/// Error with the closed-set reason as message, or absent (Unset: OTel leaves success to the
/// backend's judgement).
fn status(failed: bool, reason: Option<&'static str>) -> Option<Status> {
    failed.then(|| Status {
        message: reason.unwrap_or_default().to_owned(),
        code: StatusCode::Error as i32,
    })
}

/// `start + length` in Unix nanoseconds; a length past the clock's range ends at the start.
fn end(start: SystemTime, length: Duration) -> u64 {
    unix_nanos(start.checked_add(length).unwrap_or(start))
}

#[cfg(test)]
#[path = "spans_tests.rs"]
mod tests;
