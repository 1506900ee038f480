//! One request's record as it moves through the steps, and the audit record made from it.
//!
//! Each step writes what it learned (route, identity, limits, credential, upstream result).
//! When the response is ready, [`Exchange::finish`] counts it in the metrics and produces the
//! audit record. If the caller goes away first, actix drops the request future and with it
//! the exchange; the `Drop` impl then records the request with status 499 and reason
//! `client_closed`, so no request goes unrecorded.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use actix_web::HttpRequest;
use actix_web::web::Data;
use skybridge_shared::audit::{AuditRecord, Decision};

use crate::correlation::TraceContext;
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
    /// The upstream's status and time to response head, once it answered.
    pub upstream_result: Option<(u16, Duration)>,
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
            upstream_result: None,
            finished: false,
        }
    }

    /// Time since the request arrived.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Records the outcome: `reason` is `None` for a plain success.
    pub fn finish(&mut self, status: u16, decision: Decision, reason: Option<&'static str>) {
        self.finished = true;
        let route = self.route.as_ref().map_or("-", |r| &*r.name);
        self.gateway.metrics.request(route, status, decision.as_str(), self.elapsed());
        if let (Some(route), Some((_, elapsed))) = (&self.route, self.upstream_result) {
            self.gateway.metrics.upstream(&route.upstream, elapsed);
        }
        let record = self.audit_record(status, decision, reason);
        self.gateway.audit.record(record);
    }

    fn audit_record(
        &self,
        status: u16,
        decision: Decision,
        reason: Option<&'static str>,
    ) -> AuditRecord {
        let route = self.route.as_deref();
        AuditRecord {
            timestamp: self.timestamp,
            trace_id: self.trace.trace_id,
            span_id: self.trace.span_id,
            trace_flags: self.trace.flags,
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
            subject: None,
            issuer: None,
            client_id: None,
            tenant: None,
            rate_limit_remaining: None,
            credential: None,
            upstream_status: self.upstream_result.map(|(status, _)| status),
            duration_ms: self.elapsed().as_secs_f64() * 1000.0,
            upstream_duration_ms: self.upstream_result.map(|(_, d)| d.as_secs_f64() * 1000.0),
        }
    }
}

impl Drop for Exchange {
    fn drop(&mut self) {
        if !self.finished {
            let decision =
                if self.upstream_result.is_some() { Decision::Allow } else { Decision::Deny };
            self.finish(CLIENT_CLOSED, decision, Some("client_closed"));
        }
    }
}
