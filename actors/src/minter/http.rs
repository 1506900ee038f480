//! The HTTP side of minting: one awc client over openssl per minter actor, and the helpers
//! that turn an answer into either a body or a [`MintError`] that names the step and the
//! status but never echoes the body (it may hold a token).

use std::time::Duration;

use awc::http::StatusCode;
use bytes::Bytes;
use openssl::ssl::{SslConnector, SslMethod};
use openssl::x509::X509;
use serde_json::Value;

use super::error::{MintError, MinterError};
use super::options::MinterOptions;

/// Largest answer body read from a minting endpoint.
const MAX_BODY: usize = 64 * 1024;
/// Longest error code copied from an error answer into logs and readiness.
const MAX_CODE: usize = 64;

/// An answer that arrived in full.
pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: awc::http::header::HeaderMap,
    pub(crate) body: Bytes,
}

/// Builds the client: system roots plus `extra_roots_pem`, no redirects (a redirected token
/// request could carry an assertion elsewhere), `http_timeout` per exchange.
pub(crate) fn client(options: &MinterOptions) -> Result<awc::Client, MinterError> {
    let mut tls = SslConnector::builder(SslMethod::tls_client())?;
    for pem in &options.extra_roots_pem {
        for cert in X509::stack_from_pem(pem)? {
            tls.cert_store_mut().add_cert(cert)?;
        }
    }
    let connector = awc::Connector::new()
        .openssl(tls.build())
        .timeout(options.http_timeout)
        .handshake_timeout(options.http_timeout);
    Ok(awc::Client::builder()
        .connector(connector)
        .timeout(options.http_timeout)
        .disable_redirects()
        .finish())
}

/// Sends `request` with an optional body and reads the whole answer.
pub(crate) async fn exchange(
    step: &'static str,
    request: awc::ClientRequest,
    body: Body,
    timeout: Duration,
) -> Result<Answer, MintError> {
    let sent = match body {
        Body::Empty => request.send().await,
        Body::Form(fields) => request.send_form(&fields).await,
        Body::Json(value) => request.send_json(&value).await,
    };
    let mut response = sent
        .map_err(|err| MintError::Transport { step, detail: transport_detail(&err) })?
        .timeout(timeout);
    let status = response.status();
    let headers = response.headers().clone();
    let body = response.body().limit(MAX_BODY).await.map_err(|err| MintError::Transport {
        step,
        detail: format!("reading the answer: {err}"),
    })?;
    Ok(Answer { status, headers, body })
}

/// What to send.
pub(crate) enum Body {
    /// No body (GET).
    Empty,
    /// `application/x-www-form-urlencoded`, fields in this order.
    Form(Vec<(&'static str, String)>),
    /// `application/json`.
    Json(Value),
}

/// Fails unless the status is 2xx, keeping only a sanitized error code from the body:
/// OAuth's `{"error": "invalid_grant"}` or Google's `{"error": {"status": "PERMISSION_DENIED"}}`.
pub(crate) fn expect_success(step: &'static str, answer: &Answer) -> Result<(), MintError> {
    if answer.status.is_success() {
        return Ok(());
    }
    let json: Option<Value> = serde_json::from_slice(&answer.body).ok();
    let code = json.as_ref().and_then(|body| match body.get("error") {
        Some(Value::String(code)) => Some(code.as_str()),
        Some(Value::Object(error)) => error.get("status").and_then(Value::as_str),
        _ => None,
    });
    let code = code.filter(|c| is_safe_code(c)).map(str::to_owned);
    Err(MintError::Status { step, status: answer.status.as_u16(), code })
}

/// Parses a 2xx JSON answer and takes the string member `field`.
pub(crate) fn json_field(
    step: &'static str,
    answer: &Answer,
    field: &str,
    missing: &'static str,
) -> Result<String, MintError> {
    expect_success(step, answer)?;
    let body: Value = serde_json::from_slice(&answer.body)
        .map_err(|_| MintError::Malformed { step, detail: "the body is not JSON" })?;
    match body.get(field) {
        Some(Value::String(value)) if !value.is_empty() => Ok(value.clone()),
        _ => Err(MintError::Malformed { step, detail: missing }),
    }
}

fn is_safe_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= MAX_CODE
        && code.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

/// awc's error text names the failure (refused, timed out, TLS) without the URL or headers.
fn transport_detail(err: &awc::error::SendRequestError) -> String {
    use awc::error::SendRequestError as E;
    match err {
        E::Timeout => "timed out waiting for the answer".into(),
        E::Connect(inner) => format!("cannot connect: {inner}"),
        other => other.to_string(),
    }
}
