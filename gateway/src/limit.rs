//! The rate-limit step: every policy of the route decided in one call to the limiter.
//!
//! Keys come from the request (`claim:`, `header:`, `client_ip`, `route`); a missing key
//! source counts the request per client address instead. The `RateLimit-Policy` and
//! `RateLimit` fields are added to every response of a limited route, allowed or not, after
//! any the upstream sent itself (IETF draft-ietf-httpapi-ratelimit-headers-10).

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use actix_web::HttpRequest;
use actix_web::http::header::{HeaderName, HeaderValue};
use serde_json::{Map, Value};
use skybridge_actors::rate_limiter::{DenialKind, KeySource, LimitRequest, Limiter, request_items};

use crate::error::GatewayError;
use crate::exchange::Exchange;
use crate::routing::Route;
use crate::state::Runtime;

/// The rate-limit fields of one response.
pub struct LimitFields {
    policy: Option<HeaderValue>,
    state: Option<HeaderValue>,
}

impl LimitFields {
    /// Appends the fields to `headers`, after any the upstream set.
    pub fn append_to(&self, headers: &mut actix_web::http::header::HeaderMap) {
        for (name, value) in [("ratelimit-policy", &self.policy), ("ratelimit", &self.state)] {
            if let Some(value) = value {
                headers.append(HeaderName::from_static(name), value.clone());
            }
        }
    }
}

/// Decides the route's policies, noting the fields to send and the lowest remaining count in
/// `exchange` whether the request is allowed or refused.
pub async fn check(
    limiter: &Limiter,
    request: &HttpRequest,
    runtime: &Runtime,
    route: &Route,
    claims: Option<&Map<String, Value>>,
    exchange: &mut Exchange,
) -> Result<(), GatewayError> {
    if route.rate_limits.is_empty() {
        return Ok(());
    }
    let policies: Vec<(Arc<str>, &str)> = route
        .rate_limits
        .iter()
        .filter_map(|name| {
            let policy = runtime.config.rate_limit.policies.iter().find(|p| *p.name == **name)?;
            Some((name.clone(), policy.key.as_str()))
        })
        .collect();
    let headers = request.headers();
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let forwarded_for: Vec<&str> =
        headers.get_all("x-forwarded-for").filter_map(|v| v.to_str().ok()).collect();
    let forwarded_for = forwarded_for.join(",");
    let source = KeySource {
        claims,
        header: &header,
        peer: request.peer_addr().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip()),
        forwarded_for: (!forwarded_for.is_empty()).then_some(forwarded_for.as_str()),
        trusted_proxies: &runtime.trusted_proxies,
        route: &route.name,
    };
    let items = request_items(&policies, &source);
    let outcome = limiter.decide(LimitRequest { route: route.name.clone(), items }).await;
    exchange.limit_fields = Some(LimitFields {
        policy: outcome.policy_header.as_deref().and_then(|v| HeaderValue::from_str(v).ok()),
        state: outcome.ratelimit_header.as_deref().and_then(|v| HeaderValue::from_str(v).ok()),
    });
    exchange.rate_limit_remaining = outcome.remaining;
    match outcome.denial {
        None => Ok(()),
        Some(denial) => Err(GatewayError::Limited {
            kind: denial.kind,
            retry_after_secs: denial.retry_after_secs,
            violated_policies: denial.violated_policies,
        }),
    }
}

/// The audit reason and the problem type of a refusal.
pub fn describe(kind: DenialKind) -> (&'static str, skybridge_shared::problem::ProblemType) {
    use skybridge_shared::problem::types;
    match kind {
        DenialKind::RateLimited => ("rate_limited", types::RATE_LIMITED),
        DenialKind::QuotaExceeded => ("quota_exceeded", types::QUOTA_EXHAUSTED),
        DenialKind::StoreUnavailable => ("rate_limit_unavailable", types::REDUCED_CAPACITY),
    }
}
