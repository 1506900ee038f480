//! The request path: every request to the public listener runs through [`handle`], which
//! takes it through one named step after another:
//!
//! 1. correlate: keep or assign `x-request-id`, continue or start the trace;
//! 2. route: normalise the path and pick the route (404, 405);
//! 3. authenticate: the caller's bearer token against the route's policy ([`crate::authn`],
//!    401, 403);
//! 4. limit: the route's rate-limit and quota policies ([`crate::limit`], 429, 403, 503);
//! 5. credential: the token the upstream expects ([`crate::credential`], 503);
//! 6. forward: stream the request to the upstream and its answer back (413, 502, 504), once
//!    more with a fresh token if the upstream refused the first one and resending is safe.
//!
//! A step either hands the request on or ends it with a [`GatewayError`], which is turned
//! into problem+json in one place. Every response carries `x-request-id`.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use actix_web::body::MessageBody;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{ConnectionType, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use skybridge_actors::minter::Token;
use skybridge_shared::audit::{Decision, UpstreamSpan};
use tracing::{Instrument, field};

use crate::authn;
use crate::correlation::{
    self, REQUEST_ID_HEADER, TRACEPARENT_HEADER, TRACESTATE_HEADER, TraceContext,
};
use crate::credential;
use crate::error::{GatewayError, Origin};
use crate::exchange::{AuditedBody, Exchange};
use crate::forward::{self, Forwarded, Outbound};
use crate::limit;
use crate::path::{self, NormalPath};
use crate::routing::{Route, RouteMiss};
use crate::state::{Gateway, Runtime, Upstream, WorkerClients};

/// Entry point for every request on the public listener.
pub async fn handle(request: HttpRequest, payload: web::Payload) -> HttpResponse {
    let Some(gateway) = request.app_data::<web::Data<Gateway>>().cloned() else {
        return GatewayError::Internal("gateway state missing".into()).respond("-");
    };
    let mut exchange = correlate(gateway.clone(), &request);
    let span = tracing::info_span!(
        "request",
        request_id = %exchange.request_id,
        trace_id = %exchange.trace.trace_id_hex(),
        http.request.method = %request.method(),
        url.path = field::Empty,
        skybridge.route = field::Empty,
        skybridge.upstream = field::Empty,
        skybridge.subject = field::Empty,
        http.response.status_code = field::Empty,
    );
    let runtime = gateway.runtime();
    let result = run_steps(&request, payload, &mut exchange, &gateway, &runtime)
        .instrument(span.clone())
        .await;
    let (mut response, decision, reason) = match result {
        Ok(response) => (response, Decision::Allow, None),
        Err(err) => {
            log_failure(&span, &err);
            let decision = match err.origin() {
                Origin::Upstream => Decision::Allow,
                Origin::Client | Origin::Internal => Decision::Deny,
            };
            (err.respond(&exchange.request_id), decision, Some(err.reason()))
        }
    };
    if let Some(fields) = &exchange.limit_fields {
        fields.append_to(response.headers_mut());
    }
    if gateway.is_draining() {
        // Tell keep-alive clients and load balancers to stop reusing this connection.
        response.head_mut().set_connection_type(ConnectionType::Close);
    }
    if let Ok(value) = HeaderValue::from_str(&exchange.request_id) {
        response.headers_mut().insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    let status = response.status().as_u16();
    span.record("http.response.status_code", status);
    tracing::debug!(
        parent: &span,
        duration_ms = exchange.elapsed().as_secs_f64() * 1000.0,
        "Request answered."
    );
    exchange.answer(status, decision, reason);
    let head = request.method() == actix_web::http::Method::HEAD;
    response.map_body(|_, body| AuditedBody::new(body, exchange, head).boxed())
}

/// Step 1: the request id and the trace context.
fn correlate(gateway: web::Data<Gateway>, request: &HttpRequest) -> Exchange {
    let headers = request.headers();
    let caller_id = headers.get(REQUEST_ID_HEADER).map(HeaderValue::as_bytes);
    let caller_trace = headers.get(TRACEPARENT_HEADER).map(HeaderValue::as_bytes);
    let request_id = correlation::request_id(caller_id);
    Exchange::new(gateway, request, request_id, TraceContext::from_caller(caller_trace))
}

async fn run_steps(
    request: &HttpRequest,
    payload: web::Payload,
    exchange: &mut Exchange,
    gateway: &Gateway,
    runtime: &Runtime,
) -> Result<HttpResponse, GatewayError> {
    let path = path::normalize(request.uri().path())?;
    exchange.path = Some(path.decoded.clone());
    let route = route(request, runtime, &path)?;
    exchange.route = Some(route.clone());
    let upstream = runtime
        .upstreams
        .get(&route.upstream)
        .ok_or_else(|| GatewayError::Internal(format!("upstream {} missing", route.upstream)))?;
    let authenticated =
        authn::authenticate(&gateway.services.verifier, request, &route, exchange).await?;
    let claims = authenticated.identity.as_deref().map(|identity| &identity.claims);
    limit::check(&gateway.services.limiter, request, runtime, &route, claims, exchange).await?;
    let mut headers = correlation_headers(request, exchange)?;
    headers.extend(authenticated.headers.iter().cloned());
    let caller = authenticated.caller();
    let mut token =
        credential::obtain(&gateway.services.credentials, upstream, caller.as_ref()).await?;
    exchange.credential = upstream.credential.clone();
    let drop_headers =
        if authenticated.drop_authorization { vec![header::AUTHORIZATION] } else { Vec::new() };
    let plan = Plan { request, runtime, upstream, path, headers, drop_headers };
    let mut forwarded = forward_step(&plan, Some(payload), exchange, token.as_ref()).await?;
    if forwarded.status == StatusCode::UNAUTHORIZED
        && let Some(rejected) = token.take()
    {
        gateway.services.credentials.invalidate(rejected.credential(), &rejected);
        if credential::may_resend(request.method(), forward::has_body(request)) {
            tracing::info!("Upstream refused the credential; resending once with a new token.");
            drop(forwarded);
            token = credential::obtain(&gateway.services.credentials, upstream, caller.as_ref())
                .await?;
            forwarded = forward_step(&plan, None, exchange, token.as_ref()).await?;
        }
    }
    Ok(forwarded.response)
}

/// Step 2: the route the normalised path selects.
fn route(
    request: &HttpRequest,
    runtime: &Runtime,
    path: &NormalPath,
) -> Result<Arc<Route>, GatewayError> {
    tracing::Span::current().record("url.path", path.decoded.as_str());
    let host = request.headers().get(header::HOST).and_then(|h| h.to_str().ok());
    let host = host.or_else(|| request.uri().host());
    let route =
        runtime.routes.find(host, &path.decoded, request.method()).map_err(|miss| match miss {
            RouteMiss::NotFound => GatewayError::RouteNotFound,
            RouteMiss::MethodNotAllowed(allow) => GatewayError::MethodNotAllowed { allow },
        })?;
    let span = tracing::Span::current();
    span.record("skybridge.route", &*route.name);
    span.record("skybridge.upstream", &*route.upstream);
    Ok(route)
}

/// The request id (and the caller's trace state) sent upstream; `traceparent` is set per
/// attempt in [`forward_step`], naming that attempt's client span.
fn correlation_headers(
    request: &HttpRequest,
    exchange: &Exchange,
) -> Result<Vec<(HeaderName, HeaderValue)>, GatewayError> {
    let mut headers = vec![header_value(REQUEST_ID_HEADER, &exchange.request_id)?];
    if exchange.trace.is_continued()
        && let Some(state) = request.headers().get(TRACESTATE_HEADER)
    {
        headers.push((HeaderName::from_static(TRACESTATE_HEADER), state.clone()));
    }
    Ok(headers)
}

/// Everything the earlier steps decided about the upstream request.
struct Plan<'a> {
    request: &'a HttpRequest,
    runtime: &'a Runtime,
    upstream: &'a Upstream,
    path: NormalPath,
    /// Headers set upstream, replacing any caller copies.
    headers: Vec<(HeaderName, HeaderValue)>,
    /// Caller headers not passed on.
    drop_headers: Vec<HeaderName>,
}

/// Final step: the upstream exchange.
async fn forward_step(
    plan: &Plan<'_>,
    payload: Option<web::Payload>,
    exchange: &mut Exchange,
    token: Option<&Token>,
) -> Result<Forwarded, GatewayError> {
    let clients = plan
        .request
        .app_data::<WorkerClients>()
        .ok_or(GatewayError::Internal("worker clients missing".into()))?;
    // Each attempt is a client span of its own, named upstream in `traceparent`.
    let span_id = TraceContext::child_span_id();
    let mut set_headers = plan.headers.clone();
    set_headers.push(header_value(TRACEPARENT_HEADER, &exchange.trace.traceparent(span_id))?);
    if let Some(token) = token {
        set_headers.push(credential::header(token)?);
    }
    let config = &plan.runtime.config;
    let outbound = Outbound {
        request: plan.request,
        upstream: plan.upstream,
        client: clients.get(plan.runtime, plan.upstream),
        path: &plan.path,
        set_headers,
        drop_headers: plan.drop_headers.clone(),
        max_body_bytes: config.listener.max_body_bytes,
        listener_scheme: if config.listener.tls.is_some() { "https" } else { "http" },
    };
    let started = (SystemTime::now(), Instant::now());
    let result = forward::forward(outbound, payload).await;
    let duration = started.1.elapsed();
    exchange.upstream_span = Some(UpstreamSpan { span_id, started: started.0, duration });
    let forwarded = result?;
    exchange.upstream_result = Some((forwarded.status.as_u16(), forwarded.elapsed));
    tracing::debug!(
        upstream.status = forwarded.status.as_u16(),
        upstream.duration_ms = forwarded.elapsed.as_secs_f64() * 1000.0,
        "Upstream answered."
    );
    Ok(forwarded)
}

fn header_value(
    name: &'static str,
    value: &str,
) -> Result<(HeaderName, HeaderValue), GatewayError> {
    let value = HeaderValue::from_str(value)
        .map_err(|_| GatewayError::Internal(format!("invalid {name} value")))?;
    Ok((HeaderName::from_static(name), value))
}

/// Upstream and internal failures are logged at WARN with their cause; a caller's mistakes
/// only at DEBUG, since they are routine and the audit record already has them.
fn log_failure(span: &tracing::Span, err: &GatewayError) {
    match err.origin() {
        Origin::Client => tracing::debug!(parent: span, error = %err, "Request refused."),
        Origin::Upstream => tracing::warn!(parent: span, error = %err, "Upstream exchange failed."),
        Origin::Internal => {
            tracing::error!(parent: span, error = %err, "Request failed inside the gateway.")
        }
    }
}
