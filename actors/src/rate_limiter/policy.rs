//! Policies as the limiter uses them: configuration turned into arithmetic, the local share
//! used while Redis is unavailable, and a store's raw reply turned into a [`LimitOutcome`].

use std::sync::Arc;

use skybridge_shared::config::{PolicyConfig, PolicyKind, StoreFailure};

use super::algorithm::{MICROS, QuotaRule, QuotaWindow, RateRule, Rule, verdict};
use super::error::LimiterError;
use super::headers::{PolicyItem, StateItem, policy_field, state_field};
use super::messages::{DecisionSource, Denial, DenialKind, LimitOutcome};
use super::store::Reply;

/// One configured policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicySpec {
    /// Name, as in `RateLimit-Policy`.
    pub name: Arc<str>,
    /// `limit` (the `q` sent).
    pub limit: u64,
    /// `period` in µs (the `w` sent, in seconds).
    pub period_us: u64,
    /// `burst` (rate policies).
    pub burst: u64,
    /// Units per request.
    pub cost: u64,
    /// Rate or quota.
    pub kind: PolicyKind,
    /// What happens while Redis is unavailable.
    pub on_store_failure: StoreFailure,
}

impl PolicySpec {
    /// Checks what the limiter relies on; configuration validation reports the same problems.
    pub fn from_config(config: &PolicyConfig) -> Result<Self, LimiterError> {
        let fail = |reason| LimiterError::Policy { name: config.name.clone(), reason };
        let period_us =
            u64::try_from(config.period.as_micros()).map_err(|_| fail("period too long"))?;
        let burst = config.burst.unwrap_or(config.limit);
        if config.limit == 0 || config.cost == 0 || burst == 0 {
            return Err(fail("limit, burst and cost must be greater than 0"));
        }
        if period_us / config.limit == 0 {
            return Err(fail("more than one request per microsecond"));
        }
        let spec = Self {
            name: config.name.as_str().into(),
            limit: config.limit,
            period_us,
            burst,
            cost: config.cost,
            kind: config.kind,
            on_store_failure: config.on_store_failure,
        };
        if spec.kind == PolicyKind::Quota && spec.window().is_none() {
            return Err(fail("a quota's period is 1h, 1d or 30d"));
        }
        if spec.cost > spec.burst || spec.cost > spec.limit {
            return Err(fail("cost exceeds the burst"));
        }
        Ok(spec)
    }

    fn window(&self) -> Option<QuotaWindow> {
        match self.period_us / MICROS {
            3600 => Some(QuotaWindow::Hour),
            86_400 => Some(QuotaWindow::Day),
            2_592_000 => Some(QuotaWindow::Month),
            _ => None,
        }
    }

    /// The full limit, as decided in Redis or by the embedded store without Redis.
    pub fn rule(&self) -> Rule {
        self.shared_by(1)
    }

    /// This instance's share when `instances` share the limit: `ceil(limit / instances)` per
    /// period, the burst scaled alike (never below one request's cost).
    pub fn shared_by(&self, instances: u64) -> Rule {
        let instances = instances.max(1);
        let limit = self.limit.div_ceil(instances).max(self.cost);
        match self.window() {
            Some(window) if self.kind == PolicyKind::Quota => {
                Rule::Quota(QuotaRule { limit, cost: self.cost, window })
            }
            _ => Rule::Rate(RateRule {
                emission_us: (self.period_us / limit).max(1),
                burst: self.burst.div_ceil(instances).max(self.cost),
                cost: self.cost,
            }),
        }
    }

    fn policy_item(&self) -> PolicyItem<'_> {
        PolicyItem {
            name: &self.name,
            quota: self.limit,
            window_secs: Some(self.period_us / MICROS),
        }
    }
}

/// The outcome for `decided` (each policy with the rule it was decided by) from `reply`.
/// `unchecked` policies (allowed unchecked while Redis is down) appear in `RateLimit-Policy`
/// only.
pub(super) fn outcome(
    decided: &[(&PolicySpec, Rule)],
    unchecked: &[&PolicySpec],
    reply: &Reply,
    source: DecisionSource,
) -> LimitOutcome {
    let mut states = Vec::with_capacity(decided.len());
    let mut denying: Vec<(&PolicySpec, u64)> = Vec::new();
    for ((spec, rule), value) in decided.iter().zip(&reply.values) {
        let item = verdict(rule, *value, reply.now_us, reply.admitted);
        if !item.admits {
            denying.push((spec, item.reset_secs));
        }
        states.push(StateItem {
            name: &spec.name,
            remaining: item.remaining,
            reset_secs: item.reset_secs,
        });
    }
    let denial = (!reply.admitted).then(|| {
        let quota = denying.iter().any(|(spec, _)| spec.kind == PolicyKind::Quota);
        Denial {
            kind: if quota { DenialKind::QuotaExceeded } else { DenialKind::RateLimited },
            retry_after_secs: denying.iter().map(|(_, wait)| *wait).max().unwrap_or(1).max(1),
            violated_policies: denying.iter().map(|(spec, _)| spec.name.to_string()).collect(),
        }
    });
    let policies: Vec<&PolicySpec> =
        decided.iter().map(|(spec, _)| *spec).chain(unchecked.iter().copied()).collect();
    LimitOutcome {
        denial,
        policy_header: policy_header(&policies),
        ratelimit_header: state_field(&states),
        remaining: states.iter().map(|s| s.remaining).min(),
        source,
    }
}

/// `RateLimit-Policy` for `policies`.
pub(super) fn policy_header(policies: &[&PolicySpec]) -> Option<String> {
    policy_field(&policies.iter().map(|spec| spec.policy_item()).collect::<Vec<_>>())
}
