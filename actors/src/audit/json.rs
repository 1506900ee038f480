//! Renders an OTLP logs export request as one line of OTLP-JSON, byte-compatible in shape with
//! what the OpenTelemetry Collector's file exporter writes: one `{"resourceLogs":[...]}` object
//! per line, camelCase keys, trace and span ids in lowercase hex, 64-bit integers and
//! timestamps as decimal strings, enums as numbers, and fields at their default value left out.

use base64::Engine;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use serde_json::{Map, Value, json};

/// One JSON line (without the trailing newline) for `request`.
pub fn to_json_line(request: &ExportLogsServiceRequest) -> String {
    let resource_logs: Vec<Value> = request.resource_logs.iter().map(resource_logs).collect();
    json!({ "resourceLogs": resource_logs }).to_string()
}

fn resource_logs(rl: &ResourceLogs) -> Value {
    let mut out = Map::new();
    if let Some(resource) = &rl.resource {
        let mut r = Map::new();
        put_attributes(&mut r, &resource.attributes);
        put_nonzero(&mut r, "droppedAttributesCount", resource.dropped_attributes_count);
        out.insert("resource".into(), Value::Object(r));
    }
    out.insert("scopeLogs".into(), rl.scope_logs.iter().map(scope_logs).collect());
    put_str(&mut out, "schemaUrl", &rl.schema_url);
    Value::Object(out)
}

fn scope_logs(sl: &ScopeLogs) -> Value {
    let mut out = Map::new();
    if let Some(scope) = &sl.scope {
        out.insert("scope".into(), scope_json(scope));
    }
    out.insert("logRecords".into(), sl.log_records.iter().map(log_record).collect());
    put_str(&mut out, "schemaUrl", &sl.schema_url);
    Value::Object(out)
}

fn scope_json(scope: &InstrumentationScope) -> Value {
    let mut out = Map::new();
    put_str(&mut out, "name", &scope.name);
    put_str(&mut out, "version", &scope.version);
    put_attributes(&mut out, &scope.attributes);
    put_nonzero(&mut out, "droppedAttributesCount", scope.dropped_attributes_count);
    Value::Object(out)
}

fn log_record(lr: &LogRecord) -> Value {
    let mut out = Map::new();
    if lr.time_unix_nano != 0 {
        out.insert("timeUnixNano".into(), lr.time_unix_nano.to_string().into());
    }
    if lr.observed_time_unix_nano != 0 {
        out.insert("observedTimeUnixNano".into(), lr.observed_time_unix_nano.to_string().into());
    }
    if lr.severity_number != 0 {
        out.insert("severityNumber".into(), lr.severity_number.into());
    }
    put_str(&mut out, "severityText", &lr.severity_text);
    if let Some(body) = &lr.body {
        out.insert("body".into(), any_value(body));
    }
    put_attributes(&mut out, &lr.attributes);
    put_nonzero(&mut out, "droppedAttributesCount", lr.dropped_attributes_count);
    put_nonzero(&mut out, "flags", lr.flags);
    if !lr.trace_id.is_empty() {
        out.insert("traceId".into(), hex(&lr.trace_id).into());
    }
    if !lr.span_id.is_empty() {
        out.insert("spanId".into(), hex(&lr.span_id).into());
    }
    put_str(&mut out, "eventName", &lr.event_name);
    Value::Object(out)
}

fn put_attributes(out: &mut Map<String, Value>, attributes: &[KeyValue]) {
    if attributes.is_empty() {
        return;
    }
    let list = attributes
        .iter()
        .map(|kv| {
            let value = kv.value.as_ref().map_or_else(|| json!({}), any_value);
            json!({ "key": kv.key, "value": value })
        })
        .collect();
    out.insert("attributes".into(), Value::Array(list));
}

fn any_value(value: &AnyValue) -> Value {
    match &value.value {
        None => json!({}),
        Some(Any::StringValue(s)) => json!({ "stringValue": s }),
        Some(Any::BoolValue(b)) => json!({ "boolValue": b }),
        Some(Any::IntValue(i)) => json!({ "intValue": i.to_string() }),
        Some(Any::DoubleValue(d)) => json!({ "doubleValue": d }),
        Some(Any::BytesValue(b)) => {
            json!({ "bytesValue": base64::engine::general_purpose::STANDARD.encode(b) })
        }
        Some(Any::ArrayValue(a)) => {
            let values: Vec<Value> = a.values.iter().map(any_value).collect();
            json!({ "arrayValue": { "values": values } })
        }
        Some(Any::KvlistValue(kv)) => {
            let mut inner = Map::new();
            put_attributes(&mut inner, &kv.values);
            let values = inner.remove("attributes").unwrap_or_else(|| json!([]));
            json!({ "kvlistValue": { "values": values } })
        }
        // Dictionary references only occur in profiles; audit records never carry them.
        Some(Any::StringValueStrindex(i)) => json!({ "stringValueStrindex": i }),
    }
}

fn put_str(out: &mut Map<String, Value>, key: &str, value: &str) {
    if !value.is_empty() {
        out.insert(key.into(), value.into());
    }
}

fn put_nonzero(out: &mut Map<String, Value>, key: &str, value: u32) {
    if value != 0 {
        out.insert(key.into(), value.into());
    }
}

/// Lowercase hex, as OTLP-JSON writes trace and span ids.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}
