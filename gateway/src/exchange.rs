//! One request's record as it moves through the steps, and the audit record made from it.
//!
//! Each step writes what it learned (route, identity, limits, credential, upstream result).
//! When the response head is ready the handler records the outcome ([`Exchange::answer`]) and
//! the exchange travels with the response body ([`AuditedBody`]); the request is counted and
//! its audit record written when the body has been fully sent. If the caller goes away first,
//! before the handler answered or in the middle of the body, the exchange is dropped unsent and
//! its `Drop` impl records status 499 with reason `client_closed`, so no request goes
//! unrecorded and none is recorded as delivered when it was not.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use actix_web::HttpRequest;
use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::web::Bytes;
use actix_web::web::Data;
use skybridge_actors::identity::Identity;
use skybridge_shared::audit::{AuditRecord, Decision, UpstreamSpan};

use crate::correlation::TraceContext;
use crate::limit::LimitFields;
use crate::routing::Route;
use crate::state::Gateway;

/// Status recorded when the caller closed the connection before the response.
const CLIENT_CLOSED: u16 = 499;

/// What is known about one request.
pub struct Exchange {
    gateway: Data<Gateway>,
    /// The request's id, kept or generated.
    pub request_id: String,
    /// Where it sits in the distributed trace.
    pub trace: TraceContext,
    started: Instant,
    timestamp: SystemTime,
    method: String,
    client_address: String,
    user_agent: Option<String>,
    /// The normalised path, once known.
    pub path: Option<String>,
    /// The matched route, once known.
    pub route: Option<Arc<Route>>,
    /// The verified caller, on routes that require a token.
    pub identity: Option<Arc<Identity>>,
    /// The rate-limit fields for the response, when the route is limited.
    pub limit_fields: Option<LimitFields>,
    /// The lowest remaining count across the route's policies.
    pub rate_limit_remaining: Option<u64>,
    /// The credential presented upstream (its name, never the token).
    pub credential: Option<Arc<str>>,
    /// The upstream call's client span, once one was made.
    pub upstream_span: Option<UpstreamSpan>,
    /// The upstream's status and time to response head, once it answered.
    pub upstream_result: Option<(u16, Duration)>,
    answer: Option<(u16, Decision, Option<&'static str>)>,
    finished: bool,
}

impl Exchange {
    /// Starts the record for `request`.
    pub fn new(
        gateway: Data<Gateway>,
        request: &HttpRequest,
        request_id: String,
        trace: TraceContext,
    ) -> Self {
        let user_agent = request
            .headers()
            .get(actix_web::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Self {
            gateway,
            request_id,
            trace,
            started: Instant::now(),
            timestamp: SystemTime::now(),
            method: request.method().as_str().to_owned(),
            client_address: request.peer_addr().map(|a| a.ip().to_string()).unwrap_or_default(),
            user_agent,
            path: None,
            route: None,
            identity: None,
            limit_fields: None,
            rate_limit_remaining: None,
            credential: None,
            upstream_span: None,
            upstream_result: None,
            answer: None,
            finished: false,
        }
    }

    /// Time since the request arrived.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Notes the answer given (`reason` is `None` for a plain success), to be recorded once
    /// its body has been sent.
    pub fn answer(&mut self, status: u16, decision: Decision, reason: Option<&'static str>) {
        self.answer = Some((status, decision, reason));
    }

    /// Records the answer as delivered.
    fn delivered(&mut self) {
        if let Some((status, decision, reason)) = self.answer {
            self.finish(status, decision, reason);
        }
    }

    fn finish(&mut self, status: u16, decision: Decision, reason: Option<&'static str>) {
        self.finished = true;
        let route = self.route.as_ref().map_or("-", |r| &*r.name);
        self.gateway.services.metrics.request(route, status, decision.as_str(), self.elapsed());
        if let (Some(route), Some((_, elapsed))) = (&self.route, self.upstream_result) {
            self.gateway.services.metrics.upstream(&route.upstream, elapsed);
        }
        let record = self.audit_record(status, decision, reason);
        self.gateway.services.audit.record(record);
    }

    fn audit_record(
        &self,
        status: u16,
        decision: Decision,
        reason: Option<&'static str>,
    ) -> AuditRecord {
        let route = self.route.as_deref();
        let identity = self.identity.as_deref();
        AuditRecord {
            timestamp: self.timestamp,
            trace_id: self.trace.trace_id,
            span_id: self.trace.span_id,
            trace_flags: self.trace.flags,
            parent_span_id: self.trace.parent_span_id,
            upstream_span: self.upstream_span,
            request_id: self.request_id.clone(),
            method: self.method.clone(),
            path: self.path.clone().unwrap_or_default(),
            http_route: route.map(|r| r.prefix.clone()),
            route: route.map(|r| r.name.to_string()),
            upstream: route.map(|r| r.upstream.to_string()),
            status,
            client_address: self.client_address.clone(),
            user_agent: self.user_agent.clone(),
            decision,
            reason,
            subject: identity.map(|i| i.subject.clone()),
            issuer: identity.map(|i| i.issuer.clone()),
            client_id: identity.and_then(|i| i.client_id.clone()),
            tenant: identity.and_then(|i| i.tenant.clone()),
            rate_limit_remaining: self.rate_limit_remaining,
            credential: self.credential.as_deref().map(str::to_owned),
            upstream_status: self.upstream_result.map(|(status, _)| status),
            duration_ms: self.elapsed().as_secs_f64() * 1000.0,
            upstream_duration_ms: self.upstream_result.map(|(_, d)| d.as_secs_f64() * 1000.0),
        }
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        if !self.finished {
            let decision = match self.answer {
                Some((_, decision, _)) => decision,
                None if self.upstream_result.is_some() => Decision::Allow,
                None => Decision::Deny,
            };
            self.finish(CLIENT_CLOSED, decision, Some("client_closed"));
        }
    }
}

/// A response body carrying its request's [`Exchange`] until the last byte is sent.
pub struct AuditedBody {
    inner: BoxBody,
    exchange: Option<Exchange>,
    head: bool,
}

impl AuditedBody {
    /// Wraps `inner`; `exchange` must already hold its answer. `head` says the request was a
    /// HEAD, whose body actix never sends whatever its declared length.
    pub fn new(inner: BoxBody, exchange: Exchange, head: bool) -> Self {
        Self { inner, exchange: Some(exchange), head }
    }

    fn delivered(&mut self) {
        if let Some(mut exchange) = self.exchange.take() {
            exchange.delivered();
        }
    }
}

impl MessageBody for AuditedBody {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.inner.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(None) => {
                this.delivered();
                Poll::Ready(None)
            }
            // A failing body (the upstream broke off mid-stream) leaves the exchange
            // undelivered: it is recorded as not received in full when dropped.
            other => other,
        }
    }
}

impl Drop for AuditedBody {
    fn drop(&mut self) {
        // actix never polls a body it knows to be empty, nor any body of a HEAD response;
        // those answers were delivered whole.
        if self.head || matches!(self.inner.size(), BodySize::None | BodySize::Sized(0)) {
            self.delivered();
        }
    }
}
