//! Turns [`AuditRecord`]s into OTLP protobuf log messages: one `ExportLogsServiceRequest` per
//! batch, with the process's resource and one instrumentation scope (the spans of the same
//! records are built in [`super::spans`] with the same resource and scope).
//!
//! Both sinks start here: the OTLP exporter sends these bytes as they are, and the file sink
//! renders the same message as OTLP-JSON (see [`super::json`]), so the two never disagree.

use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, InstrumentationScope, KeyValue, any_value::Value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs, SeverityNumber};
use opentelemetry_proto::tonic::resource::v1::Resource;
use skybridge_shared::audit::{AUDIT_EVENT_NAME, AuditRecord, attr};

/// Name of the instrumentation scope every audit record is emitted under.
pub const SCOPE_NAME: &str = "skybridge.audit";

/// Who is exporting: becomes the OTLP resource of every batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditResource {
    /// `service.name`.
    pub service_name: String,
    /// `service.instance.id`: tells replicas apart in the trail.
    pub instance_id: String,
}

/// Encodes one batch of records as a complete export request.
pub fn batch_request(
    resource: &AuditResource,
    records: &[AuditRecord],
) -> ExportLogsServiceRequest {
    let observed = unix_nanos(SystemTime::now());
    let log_records = records.iter().map(|r| log_record(r, observed)).collect();
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(otlp_resource(resource)),
            scope_logs: vec![ScopeLogs {
                scope: Some(scope()),
                log_records,
                schema_url: String::new(),
            }],
            schema_url: String::new(),
        }],
    }
}

/// The OTLP resource of every export, logs and spans alike.
pub(super) fn otlp_resource(resource: &AuditResource) -> Resource {
    Resource {
        attributes: vec![
            string_kv("service.name", &resource.service_name),
            string_kv("service.instance.id", &resource.instance_id),
            string_kv("service.version", env!("CARGO_PKG_VERSION")),
        ],
        ..Default::default()
    }
}

/// The instrumentation scope of every export, logs and spans alike.
pub(super) fn scope() -> InstrumentationScope {
    InstrumentationScope {
        name: SCOPE_NAME.to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        ..Default::default()
    }
}

/// Nanoseconds since the Unix epoch, 0 for a clock before 1970 (OTLP's "unknown").
pub(super) fn unix_nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn log_record(record: &AuditRecord, observed: u64) -> LogRecord {
    LogRecord {
        time_unix_nano: unix_nanos(record.timestamp),
        observed_time_unix_nano: observed,
        severity_number: SeverityNumber::Info as i32,
        severity_text: "INFO".to_owned(),
        body: Some(string_value(&format!(
            "{} {} {} {}",
            record.method,
            record.path,
            record.status,
            record.decision.as_str()
        ))),
        attributes: attributes(record),
        dropped_attributes_count: 0,
        flags: u32::from(record.trace_flags),
        trace_id: record.trace_id.to_vec(),
        span_id: record.span_id.to_vec(),
        event_name: AUDIT_EVENT_NAME.to_owned(),
    }
}

/// The record's attributes; absent optional fields are left out rather than sent empty.
fn attributes(r: &AuditRecord) -> Vec<KeyValue> {
    let mut out = vec![
        // Older collectors drop the `event_name` field (added in OTLP 1.5); the attribute of the
        // earlier semantic conventions keeps the record recognisable after such a hop.
        string_kv("event.name", AUDIT_EVENT_NAME),
        string_kv(attr::METHOD, &r.method),
        string_kv(attr::PATH, &r.path),
        int_kv(attr::STATUS, i64::from(r.status)),
        string_kv(attr::CLIENT_ADDRESS, &r.client_address),
        string_kv(attr::REQUEST_ID, &r.request_id),
        string_kv(attr::DECISION, r.decision.as_str()),
        double_kv(attr::DURATION_MS, r.duration_ms),
    ];
    let optional_strings = [
        (attr::HTTP_ROUTE, r.http_route.as_deref()),
        (attr::ROUTE, r.route.as_deref()),
        (attr::UPSTREAM, r.upstream.as_deref()),
        (attr::USER_AGENT, r.user_agent.as_deref()),
        (attr::REASON, r.reason),
        (attr::SUBJECT, r.subject.as_deref()),
        (attr::ISSUER, r.issuer.as_deref()),
        (attr::CLIENT_ID, r.client_id.as_deref()),
        (attr::TENANT, r.tenant.as_deref()),
        (attr::CREDENTIAL, r.credential.as_deref()),
    ];
    out.extend(optional_strings.into_iter().filter_map(|(k, v)| v.map(|v| string_kv(k, v))));
    if let Some(remaining) = r.rate_limit_remaining {
        out.push(int_kv(attr::RATE_LIMIT_REMAINING, i64::try_from(remaining).unwrap_or(i64::MAX)));
    }
    if let Some(status) = r.upstream_status {
        out.push(int_kv(attr::UPSTREAM_STATUS, i64::from(status)));
    }
    if let Some(ms) = r.upstream_duration_ms {
        out.push(double_kv(attr::UPSTREAM_DURATION_MS, ms));
    }
    out
}

fn string_value(value: &str) -> AnyValue {
    AnyValue { value: Some(Value::StringValue(value.to_owned())) }
}

fn kv(key: &str, value: Value) -> KeyValue {
    KeyValue {
        key: key.to_owned(),
        value: Some(AnyValue { value: Some(value) }),
        ..Default::default()
    }
}

pub(super) fn string_kv(key: &str, value: &str) -> KeyValue {
    kv(key, Value::StringValue(value.to_owned()))
}

pub(super) fn int_kv(key: &str, value: i64) -> KeyValue {
    kv(key, Value::IntValue(value))
}

pub(super) fn double_kv(key: &str, value: f64) -> KeyValue {
    kv(key, Value::DoubleValue(value))
}
