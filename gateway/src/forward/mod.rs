//! Forwarding one request to its upstream with awc, streaming both bodies.
//!
//! The request keeps its method, path (normalised), query and end-to-end headers; hop-by-hop
//! headers are dropped and the gateway's own headers (request id, trace context,
//! `X-Forwarded-*`, anything later steps add) are set. A request is retried once, and only
//! when it is idempotent, has no body, and the connection failed before anything was sent.

mod body;
mod headers;

use std::time::{Duration, Instant};

use actix_web::body::{BodyStream, SizedStream};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use awc::error::{ConnectError, SendRequestError};

use self::body::BodyEnd;
use self::body::LimitedBody;
use self::headers::is_hop_by_hop;
use self::headers::{GATEWAY_OWNED_REQUEST_HEADERS, forwarded_for, is_gateway_owned};
use crate::error::GatewayError;
use crate::path::NormalPath;
use crate::state::Upstream;

/// Everything the forwarder needs to know about one outbound request.
pub struct Outbound<'a> {
    /// The caller's request.
    pub request: &'a HttpRequest,
    /// Where it goes.
    pub upstream: &'a Upstream,
    /// This worker's client for that upstream.
    pub client: awc::Client,
    /// The normalised path.
    pub path: &'a NormalPath,
    /// Headers set by the gateway, replacing any caller copies (request id, traceparent,
    /// credentials, identity).
    pub set_headers: Vec<(HeaderName, HeaderValue)>,
    /// Caller headers to drop on top of the hop-by-hop ones (e.g. `authorization`).
    pub drop_headers: Vec<HeaderName>,
    /// The listener's body limit.
    pub max_body_bytes: u64,
    /// `http` or `https`, for `X-Forwarded-Proto`.
    pub listener_scheme: &'static str,
}

/// The upstream's answer, ready to stream back.
pub struct Forwarded {
    /// The response to send (body still streaming from the upstream).
    pub response: HttpResponse,
    /// The upstream's status.
    pub status: StatusCode,
    /// Time until the upstream's response head arrived.
    pub elapsed: Duration,
}

/// Whether the request carries a body (a non-zero `Content-Length`, or chunked).
pub fn has_body(request: &HttpRequest) -> bool {
    let headers = request.headers();
    let declared = headers.get(header::CONTENT_LENGTH).is_some_and(|v| v.as_bytes() != b"0");
    declared || headers.contains_key(header::TRANSFER_ENCODING)
}

/// Sends the request upstream and returns its response with the body still streaming.
/// `payload` is the caller's body; `None` only for a resend of a request without one.
pub async fn forward(
    outbound: Outbound<'_>,
    payload: Option<web::Payload>,
) -> Result<Forwarded, GatewayError> {
    let content_length = declared_length(outbound.request)?;
    if content_length.is_some_and(|len| len > outbound.max_body_bytes) {
        return Err(GatewayError::PayloadTooLarge { limit: outbound.max_body_bytes });
    }
    let url = outbound.upstream.url(&outbound.path.encoded, outbound.request.uri().query());
    let started = Instant::now();
    let result = if has_body(outbound.request) {
        let payload =
            payload.ok_or(GatewayError::Internal("a request body cannot be sent twice".into()))?;
        let (body, end) = LimitedBody::new(payload, outbound.max_body_bytes);
        let request = build_request(&outbound, &url);
        let sent = match content_length {
            Some(len) => request.send_body(SizedStream::new(len, body)).await,
            None => request.send_stream(body).await,
        };
        sent.map_err(|err| classify(&outbound, err, end.get()))
    } else {
        send_without_body(&outbound, &url).await
    };
    let response = result?;
    let elapsed = started.elapsed();
    let status = response.status();
    Ok(Forwarded { response: respond(&outbound, response), status, elapsed })
}

async fn send_without_body(
    outbound: &Outbound<'_>,
    url: &str,
) -> Result<awc::ClientResponse, GatewayError> {
    let first = build_request(outbound, url).send().await;
    match first {
        Err(SendRequestError::Connect(err)) if retryable(outbound.request.method(), &err) => {
            tracing::debug!(
                upstream = %outbound.upstream.name,
                error = %err,
                "Retrying after a connect failure."
            );
            let second = build_request(outbound, url).send().await;
            second.map_err(|err| classify(outbound, err, BodyEnd::Open))
        }
        other => other.map_err(|err| classify(outbound, err, BodyEnd::Open)),
    }
}

/// Idempotent methods (RFC 9110 §9.2.2) whose connection failed before a byte was sent.
fn retryable(method: &Method, err: &ConnectError) -> bool {
    let idempotent = matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE | Method::PUT | Method::DELETE
    );
    idempotent && !matches!(err, ConnectError::Timeout)
}

fn declared_length(request: &HttpRequest) -> Result<Option<u64>, GatewayError> {
    let Some(value) = request.headers().get(header::CONTENT_LENGTH) else { return Ok(None) };
    let parsed = value.to_str().ok().and_then(|v| v.trim().parse::<u64>().ok());
    parsed.map(Some).ok_or(GatewayError::BadRequest("The Content-Length header is not a number"))
}

fn build_request(outbound: &Outbound<'_>, url: &str) -> awc::ClientRequest {
    let incoming = outbound.request.headers();
    let mut request = outbound
        .client
        .request(outbound.request.method().clone(), url)
        .timeout(outbound.upstream.request_timeout);
    for (name, value) in incoming {
        let owned = GATEWAY_OWNED_REQUEST_HEADERS.contains(name)
            || is_gateway_owned(name)
            || outbound.drop_headers.contains(name)
            || outbound.set_headers.iter().any(|(set, _)| set == name);
        if !owned && !is_hop_by_hop(name, incoming) {
            request = request.append_header((name.clone(), value.clone()));
        }
    }
    for (name, value) in &outbound.set_headers {
        request = request.insert_header((name.clone(), value.clone()));
    }
    let peer = outbound.request.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default();
    let existing = incoming.get("x-forwarded-for").and_then(|v| v.to_str().ok());
    request = request
        .insert_header(("x-forwarded-for", forwarded_for(existing, &peer)))
        .insert_header(("x-forwarded-proto", outbound.listener_scheme));
    if let Some(host) = incoming.get(header::HOST) {
        request = request.insert_header(("x-forwarded-host", host.clone()));
    }
    request
}

fn classify(outbound: &Outbound<'_>, err: SendRequestError, body: BodyEnd) -> GatewayError {
    let upstream = outbound.upstream.name.to_string();
    match (body, err) {
        (BodyEnd::TooLarge, _) => GatewayError::PayloadTooLarge { limit: outbound.max_body_bytes },
        (BodyEnd::ClientFailed, _) => GatewayError::ClientBodyFailed,
        (_, SendRequestError::Timeout | SendRequestError::Connect(ConnectError::Timeout)) => {
            GatewayError::UpstreamTimeout { upstream }
        }
        (_, err) => GatewayError::UpstreamUnreachable { upstream, cause: err.to_string() },
    }
}

fn respond(outbound: &Outbound<'_>, upstream: awc::ClientResponse) -> HttpResponse {
    let mut builder = HttpResponseBuilder::new(upstream.status());
    let headers = upstream.headers();
    for (name, value) in headers {
        if !is_hop_by_hop(name, headers) && name != header::CONTENT_LENGTH {
            builder.append_header((name.clone(), value.clone()));
        }
    }
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if outbound.request.method() == Method::HEAD {
        // The length of the body a GET would get: actix sends it and never polls the body.
        let nothing = futures_util::stream::empty::<Result<Bytes, std::io::Error>>();
        return match length {
            Some(length) => builder.body(SizedStream::new(length, nothing)),
            None => builder.finish(),
        };
    }
    let bodiless = upstream.status().is_informational()
        || matches!(upstream.status(), StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED);
    if bodiless {
        return builder.finish();
    }
    match length {
        Some(length) => builder.body(SizedStream::new(length, upstream)),
        None => builder.body(BodyStream::new(upstream)),
    }
}
