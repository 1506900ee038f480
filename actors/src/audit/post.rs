//! One OTLP/HTTP protobuf POST to the collector, and what its answer means for the batch.

use std::time::Duration;

use awc::http::StatusCode;
use awc::http::header::{AUTHORIZATION, CONTENT_TYPE};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceResponse;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;

use super::endpoint::Endpoint;

/// Which signal a request carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Audit log records, to `/v1/logs`.
    Logs,
    /// Request spans, to `/v1/traces`.
    Traces,
}

/// What one attempt came to.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// 2xx; the collector refused this many items inside an otherwise accepted request.
    Accepted { rejected: u64 },
    /// Worth retrying later (unreachable, timeout, 5xx, 408, 429; for logs also auth and
    /// routing problems, which an operator fixes on the collector's side).
    Retry(String),
    /// The collector will never take this request.
    Refused(StatusCode),
}

/// Largest collector answer read; a partial-success message is a few hundred bytes.
const MAX_ANSWER: usize = 1 << 20;

/// POSTs `body` for `signal`, waiting at most `timeout`.
pub(crate) async fn post(
    client: &awc::Client,
    endpoint: &Endpoint,
    signal: Signal,
    body: Vec<u8>,
    timeout: Duration,
) -> Outcome {
    let url = match signal {
        Signal::Logs => endpoint.logs_url(),
        Signal::Traces => endpoint.traces_url(),
    };
    let mut request =
        client.post(url).insert_header((CONTENT_TYPE, "application/x-protobuf")).timeout(timeout);
    if let Some(auth) = endpoint.authorization() {
        request = request.insert_header((AUTHORIZATION, auth));
    }
    let mut response = match request.send_body(body).await {
        Ok(response) => response,
        Err(err) => return Outcome::Retry(err.to_string()),
    };
    let status = response.status();
    if status.is_success() {
        let answer = response.body().limit(MAX_ANSWER).await.unwrap_or_default();
        return Outcome::Accepted { rejected: rejected(signal, &answer) };
    }
    if retryable(signal, status) {
        Outcome::Retry(format!("collector answered {status}"))
    } else {
        Outcome::Refused(status)
    }
}

/// Audit records wait out auth and routing errors (the collector is misconfigured, the records
/// must not be lost); spans do not, since a collector may take logs but have no traces pipeline
/// (404), and retrying spans there would only hold up the audit records behind them.
fn retryable(signal: Signal, status: StatusCode) -> bool {
    let always = status.is_server_error() || matches!(status.as_u16(), 408 | 429);
    always || (signal == Signal::Logs && matches!(status.as_u16(), 401 | 403 | 404))
}

/// Items refused inside an accepted request (OTLP partial success); 0 for an empty answer.
fn rejected(signal: Signal, answer: &[u8]) -> u64 {
    let count = match signal {
        Signal::Logs => ExportLogsServiceResponse::decode(answer)
            .ok()
            .and_then(|r| r.partial_success)
            .map(|p| p.rejected_log_records),
        Signal::Traces => ExportTraceServiceResponse::decode(answer)
            .ok()
            .and_then(|r| r.partial_success)
            .map(|p| p.rejected_spans),
    };
    count.map_or(0, |n| u64::try_from(n).unwrap_or(0))
}
