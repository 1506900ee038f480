//! What the gateway sends the limiter actor and what it gets back.

use std::sync::Arc;

use actix::Message;

/// Which policies apply to one request and the counter key of each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitRequest {
    /// The matched route's name (for logs).
    pub route: Arc<str>,
    /// Policy name and counter key (from `key::counter_key`), in the route's order.
    pub items: Vec<(Arc<str>, String)>,
}

/// The decision for one request, with the fields to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitOutcome {
    /// `None` when the request may proceed.
    pub denial: Option<Denial>,
    /// The `RateLimit-Policy` value (printable ASCII), to append to the upstream's own.
    pub policy_header: Option<String>,
    /// The `RateLimit` value (printable ASCII), to append to the upstream's own.
    pub ratelimit_header: Option<String>,
    /// The lowest `r` among the policies, for the audit record.
    pub remaining: Option<u64>,
    /// What decided.
    pub source: DecisionSource,
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// Which refusal, and so which status.
    pub kind: DenialKind,
    /// `Retry-After` in whole seconds, rounded up: never earlier than the true wait.
    pub retry_after_secs: u64,
    /// Names of the policies that refused, for `violated-policies`.
    pub violated_policies: Vec<String>,
}

/// The kinds of refusal; the gateway maps each to its status and problem type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DenialKind {
    /// A `rate` policy is exhausted: 429, problem type `quota-exceeded`.
    RateLimited,
    /// A `quota` policy is exhausted for its calendar window: 403, problem type
    /// `quota-exceeded`. Wins over `RateLimited` when both refuse (the longer wait).
    QuotaExceeded,
    /// Redis is unavailable and a policy says `deny`: 503, problem type
    /// `temporary-reduced-capacity`, `Retry-After: 1`.
    StoreUnavailable,
}

/// Where a decision came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionSource {
    /// The shared Redis.
    Redis,
    /// The embedded limiter, because no Redis is configured.
    Embedded,
    /// Redis unavailable: this instance's share of the limits.
    LocalFallback,
    /// Redis unavailable: every applicable policy says `allow`.
    AllowFallback,
    /// Redis unavailable: a policy says `deny`.
    DenyFallback,
}

impl DecisionSource {
    /// Label for metrics and the audit record.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Redis => "redis",
            Self::Embedded => "embedded",
            Self::LocalFallback => "local_fallback",
            Self::AllowFallback => "allow_fallback",
            Self::DenyFallback => "deny_fallback",
        }
    }
}

/// Decide one request. Answered without waiting on other requests' Redis calls.
#[derive(Debug)]
pub(super) struct Decide(pub LimitRequest);

impl Message for Decide {
    type Result = LimitOutcome;
}
