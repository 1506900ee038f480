//! Rate-limit and quota policies.

use std::time::Duration;

use serde::Deserialize;

/// Default deadline for one decision from Redis.
pub const DEFAULT_STORE_TIMEOUT: Duration = Duration::from_millis(25);

/// The `[rate_limit]` section.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// Redis shared by every instance; absent means the embedded in-process limiter.
    #[serde(default)]
    pub redis_url: Option<String>,
    /// Deadline for one Redis decision. Default `25ms`.
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// Proxies whose `X-Forwarded-For` is trusted for `client_ip` keys (IP addresses).
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// Instances assumed to share the limits while Redis is down and no instance count was
    /// ever read from Redis (the heartbeat). Each instance then limits to
    /// `ceil(limit / expected_instances)`. Default 1.
    #[serde(default = "default_expected_instances")]
    pub expected_instances: u64,
    /// The policies routes refer to.
    #[serde(default)]
    pub policies: Vec<PolicyConfig>,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self {
            redis_url: None,
            timeout: DEFAULT_STORE_TIMEOUT,
            trusted_proxies: Vec::new(),
            expected_instances: default_expected_instances(),
            policies: Vec::new(),
        }
    }
}

/// One policy.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    /// Name routes refer to; also the policy name in `RateLimit-Policy`, so printable ASCII.
    pub name: String,
    /// `rate` (GCRA, the default) or `quota` (a calendar-window counter).
    #[serde(default)]
    pub kind: PolicyKind,
    /// Requests allowed per `period`.
    pub limit: u64,
    /// Window: for `rate` any duration of at least 1s; for `quota` `1h`, `1d` or `30d`
    /// (calendar hour, day, month).
    #[serde(with = "humantime_serde")]
    pub period: Duration,
    /// Requests allowed at once (`rate` only). Default: `limit`.
    #[serde(default)]
    pub burst: Option<u64>,
    /// Units one request costs. Default 1; must not exceed the burst.
    #[serde(default = "default_cost")]
    pub cost: u64,
    /// What is counted: `claim:NAME`, `header:NAME`, `client_ip` or `route`.
    pub key: String,
    /// What happens while Redis is unavailable. Default `local`.
    #[serde(default)]
    pub on_store_failure: StoreFailure,
}

/// Kind of policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyKind {
    /// GCRA: `limit` per `period` with `burst`.
    #[default]
    Rate,
    /// A counter per calendar window, answered with 403 when exhausted.
    Quota,
}

/// Behaviour of a policy while its store is unavailable.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreFailure {
    /// Limit in process with this instance's share of the limit.
    #[default]
    Local,
    /// Let requests through unlimited.
    Allow,
    /// Refuse with 503.
    Deny,
}

fn default_timeout() -> Duration {
    DEFAULT_STORE_TIMEOUT
}
fn default_expected_instances() -> u64 {
    1
}
fn default_cost() -> u64 {
    1
}
