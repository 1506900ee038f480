//! Searching an audit trail written as OTLP-JSON lines: the OpenTelemetry Collector's file
//! exporter output, or Skybridge's own file sink (the same format).
//!
//! The reader streams: it holds one line at a time (each line is one export request, capped
//! at [`MAX_LINE_BYTES`]), so a file of any size is searched in bounded memory. Lines that
//! are not OTLP-JSON (a torn last line after a crash, another tool's output) are skipped and
//! counted rather than ending the search. Only records whose event name is
//! [`AUDIT_EVENT_NAME`] count as audit records; other logs in the same file are ignored.

mod time;

use std::io::{self, BufRead};

use serde_json::{Map, Value};

use crate::audit::{AUDIT_EVENT_NAME, Decision, attr};

pub use time::{format_rfc3339, parse_rfc3339};

/// Longest line read; a longer one is skipped (and counted), never buffered whole.
pub const MAX_LINE_BYTES: usize = 64 * 1024 * 1024;

/// Why a search could not run.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// Reading the trail (or writing results) failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// A `--since` / `--until` value is not an RFC 3339 timestamp.
    #[error("`{value}` is not an RFC 3339 timestamp such as 2024-05-01T12:00:00Z")]
    Time {
        /// The value given.
        value: String,
    },
    /// A `--trace-id` value is not 32 hex digits.
    #[error("`{value}` is not a trace id (32 hex digits)")]
    TraceId {
        /// The value given.
        value: String,
    },
}

/// What to look for; every filter that is set must match (they combine with AND).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Trace id, lowercase hex.
    pub trace_id: Option<String>,
    /// `skybridge.request_id`.
    pub request_id: Option<String>,
    /// `skybridge.subject`.
    pub subject: Option<String>,
    /// `skybridge.route` (the route's name).
    pub route: Option<String>,
    /// `skybridge.decision`.
    pub decision: Option<Decision>,
    /// Earliest record time, inclusive, in Unix nanoseconds.
    pub since: Option<u64>,
    /// Latest record time, inclusive, in Unix nanoseconds.
    pub until: Option<u64>,
}

/// One audit record as read back from a trail.
#[derive(Debug, Clone, PartialEq)]
pub struct TrailRecord {
    /// When the request arrived, Unix nanoseconds (0 if the record has no time).
    pub time_unix_nano: u64,
    /// Lowercase hex trace id.
    pub trace_id: String,
    /// Lowercase hex span id of the gateway's server span.
    pub span_id: String,
    /// Resource attributes (`service.name`, `service.instance.id`), as plain JSON values.
    pub resource: Map<String, Value>,
    /// Record attributes as plain JSON values (strings, numbers, booleans).
    pub attributes: Map<String, Value>,
}

/// How a scan went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanSummary {
    /// Audit records read.
    pub records: u64,
    /// Records that matched.
    pub matched: u64,
    /// Lines skipped because they were not OTLP-JSON or too long.
    pub skipped_lines: u64,
    /// The first skipped line's number (1-based), for the warning.
    pub first_skipped_line: Option<u64>,
}

// === impl Filter ===

impl Filter {
    /// Checks and normalises a `--trace-id` value.
    pub fn parse_trace_id(value: &str) -> Result<String, QueryError> {
        if value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(value.to_ascii_lowercase())
        } else {
            Err(QueryError::TraceId { value: value.to_owned() })
        }
    }

    /// Whether `record` passes every filter that is set.
    pub fn matches(&self, record: &TrailRecord) -> bool {
        let same = |want: &Option<String>, key: &str| {
            want.as_deref().is_none_or(|w| record.attribute_str(key) == Some(w))
        };
        self.trace_id.as_deref().is_none_or(|t| record.trace_id.eq_ignore_ascii_case(t))
            && same(&self.request_id, attr::REQUEST_ID)
            && same(&self.subject, attr::SUBJECT)
            && same(&self.route, attr::ROUTE)
            && self
                .decision
                .is_none_or(|d| record.attribute_str(attr::DECISION) == Some(d.as_str()))
            && self.since.is_none_or(|s| record.time_unix_nano >= s)
            && self.until.is_none_or(|u| record.time_unix_nano <= u)
    }
}

// === impl TrailRecord ===

impl TrailRecord {
    /// A string attribute.
    pub fn attribute_str(&self, key: &str) -> Option<&str> {
        self.attributes.get(key).and_then(Value::as_str)
    }

    /// A flat JSON object for `--format json`.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "time": format_rfc3339(self.time_unix_nano),
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "resource": self.resource,
            "attributes": self.attributes,
        })
    }
}

/// Reads `reader` line by line and hands every audit record that passes `filter` to
/// `on_match`; an error from `on_match` (e.g. a closed stdout) ends the scan.
pub fn scan(
    mut reader: impl BufRead,
    filter: &Filter,
    mut on_match: impl FnMut(TrailRecord) -> io::Result<()>,
) -> Result<ScanSummary, QueryError> {
    let mut summary = ScanSummary::default();
    let mut line = Vec::new();
    let mut number = 0u64;
    while let Some(complete) = read_line(&mut reader, &mut line, MAX_LINE_BYTES)? {
        number += 1;
        let parsed = if complete { serde_json::from_slice::<Value>(&line).ok() } else { None };
        let Some(doc) = parsed.filter(|d| d.get("resourceLogs").is_some()) else {
            if !line.iter().all(u8::is_ascii_whitespace) || !complete {
                summary.skipped_lines += 1;
                summary.first_skipped_line.get_or_insert(number);
            }
            continue;
        };
        for record in audit_records(&doc) {
            summary.records += 1;
            if filter.matches(&record) {
                summary.matched += 1;
                on_match(record)?;
            }
        }
    }
    Ok(summary)
}

/// Reads one line into `buf` (without the newline). `Some(false)` means the line was longer
/// than `max` bytes: its rest was read and thrown away. `None` at end of input.
fn read_line(reader: &mut impl BufRead, buf: &mut Vec<u8>, max: usize) -> io::Result<Option<bool>> {
    buf.clear();
    let mut complete = true;
    let mut any = false;
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            return Ok(any.then_some(complete));
        }
        any = true;
        let (take, newline) = match chunk.iter().position(|&b| b == b'\n') {
            Some(pos) => (pos, true),
            None => (chunk.len(), false),
        };
        if complete && buf.len() + take <= max {
            buf.extend_from_slice(&chunk[..take]);
        } else {
            complete = false;
            buf.clear();
        }
        reader.consume(take + usize::from(newline));
        if newline {
            return Ok(Some(complete));
        }
    }
}

/// The audit records inside one export request.
fn audit_records(doc: &Value) -> Vec<TrailRecord> {
    let mut out = Vec::new();
    for rl in doc["resourceLogs"].as_array().into_iter().flatten() {
        let resource = plain_attributes(&rl["resource"]["attributes"]);
        for sl in rl["scopeLogs"].as_array().into_iter().flatten() {
            for lr in sl["logRecords"].as_array().into_iter().flatten() {
                let attributes = plain_attributes(&lr["attributes"]);
                let event = lr["eventName"]
                    .as_str()
                    .or(attributes.get("event.name").and_then(Value::as_str));
                if event != Some(AUDIT_EVENT_NAME) {
                    continue;
                }
                let time = nanos(&lr["timeUnixNano"]).filter(|&t| t != 0);
                out.push(TrailRecord {
                    time_unix_nano: time
                        .or_else(|| nanos(&lr["observedTimeUnixNano"]))
                        .unwrap_or(0),
                    trace_id: lr["traceId"].as_str().unwrap_or_default().to_ascii_lowercase(),
                    span_id: lr["spanId"].as_str().unwrap_or_default().to_ascii_lowercase(),
                    resource: resource.clone(),
                    attributes,
                });
            }
        }
    }
    out
}

/// OTLP-JSON writes 64-bit integers as strings; accept numbers too.
fn nanos(value: &Value) -> Option<u64> {
    value.as_str().and_then(|s| s.parse().ok()).or_else(|| value.as_u64())
}

fn plain_attributes(list: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    for kv in list.as_array().into_iter().flatten() {
        if let Some(key) = kv["key"].as_str() {
            out.insert(key.to_owned(), plain_value(&kv["value"]));
        }
    }
    out
}

/// An OTLP-JSON `AnyValue` as the plain JSON value it stands for.
fn plain_value(any: &Value) -> Value {
    let Some((kind, inner)) = any.as_object().and_then(|o| o.iter().next()) else {
        return Value::Null;
    };
    match kind.as_str() {
        "intValue" => match inner {
            Value::String(s) => s.parse::<i64>().map_or_else(|_| inner.clone(), Value::from),
            other => other.clone(),
        },
        "arrayValue" => inner["values"].as_array().into_iter().flatten().map(plain_value).collect(),
        "kvlistValue" => Value::Object(plain_attributes(&inner["values"])),
        _ => inner.clone(),
    }
}

#[cfg(test)]
mod tests;
