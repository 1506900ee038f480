//! A loopback OTLP/HTTP receiver for the unit tests: answers `/v1/logs` and `/v1/traces` each
//! with its own settable status and keeps what it accepted.

#![allow(clippy::unwrap_used)] // A failed unwrap is a failed test, with its location.

use std::io::{BufRead, BufReader, Read, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU16, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;

/// What the receiver saw; shared with its connection threads.
#[derive(Default)]
pub(super) struct Seen {
    /// Status for `/v1/logs`.
    pub(super) logs_status: AtomicU16,
    /// Status for `/v1/traces`.
    pub(super) traces_status: AtomicU16,
    /// `skybridge.request_id` of every accepted log record, in arrival order.
    pub(super) received: Mutex<Vec<String>>,
    /// Every accepted span, in arrival order.
    pub(super) spans: Mutex<Vec<Span>>,
    /// POSTs to `/v1/traces`, accepted or not.
    pub(super) trace_posts: AtomicU32,
}

pub(super) struct FakeCollector {
    port: u16,
    pub(super) seen: Arc<Seen>,
}

impl FakeCollector {
    /// Starts answering `status` on both signals.
    pub(super) fn start(status: u16) -> FakeCollector {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Seen::default());
        seen.logs_status.store(status, Ordering::SeqCst);
        seen.traces_status.store(status, Ordering::SeqCst);
        let shared = seen.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let seen = shared.clone();
                std::thread::spawn(move || serve(conn.unwrap(), &seen));
            }
        });
        FakeCollector { port, seen }
    }

    pub(super) fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub(super) fn received(&self) -> Vec<String> {
        self.seen.received.lock().unwrap().clone()
    }

    pub(super) fn spans(&self) -> Vec<Span> {
        self.seen.spans.lock().unwrap().clone()
    }
}

fn serve(conn: TcpStream, seen: &Seen) {
    let mut reader = BufReader::new(conn.try_clone().unwrap());
    let mut conn = conn;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0;
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let code = if request_line.starts_with("POST /v1/traces ") {
            seen.trace_posts.fetch_add(1, Ordering::SeqCst);
            accept_traces(seen, &body)
        } else {
            assert!(request_line.starts_with("POST /v1/logs "), "{request_line}");
            accept_logs(seen, &body)
        };
        let head = format!("HTTP/1.1 {code} X\r\ncontent-length: 0\r\n\r\n");
        if conn.write_all(head.as_bytes()).is_err() {
            return;
        }
    }
}

fn accept_logs(seen: &Seen, body: &[u8]) -> u16 {
    let code = seen.logs_status.load(Ordering::SeqCst);
    if code == 200 {
        let request = ExportLogsServiceRequest::decode(body).unwrap();
        let mut ids = seen.received.lock().unwrap();
        for rec in &request.resource_logs[0].scope_logs[0].log_records {
            let id = rec.attributes.iter().find(|kv| kv.key == "skybridge.request_id");
            if let Some(Any::StringValue(s)) = id.and_then(|kv| kv.value.clone()?.value) {
                ids.push(s);
            }
        }
    }
    code
}

fn accept_traces(seen: &Seen, body: &[u8]) -> u16 {
    let code = seen.traces_status.load(Ordering::SeqCst);
    if code == 200 {
        let request = ExportTraceServiceRequest::decode(body).unwrap();
        let mut spans = seen.spans.lock().unwrap();
        let all = request.resource_spans.into_iter().flat_map(|r| r.scope_spans);
        spans.extend(all.flat_map(|s| s.spans));
    }
    code
}
