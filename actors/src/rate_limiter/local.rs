//! Decisions made in this process: by the embedded store with full limits when no Redis is
//! configured, and by each policy's `on_store_failure` while Redis is unavailable.

use std::sync::atomic::Ordering;

use skybridge_shared::config::StoreFailure;

use super::actor::{LimiterActor, Resolved};
use super::algorithm::Rule;
use super::embedded::wall_clock_us;
use super::messages::{DecisionSource, Denial, DenialKind, LimitOutcome};
use super::policy::{PolicySpec, outcome, policy_header};
use super::store::Check;

impl LimiterActor {
    /// Decides with full limits in process (no Redis configured).
    pub(super) fn decide_embedded(&mut self, resolved: &Resolved) -> LimitOutcome {
        let checks = checks(resolved, |spec| spec.rule());
        let reply = self.embedded.decide_at(&checks, wall_clock_us());
        self.stats.local_keys.store(self.embedded.len() as u64, Ordering::Relaxed);
        let decided: Vec<_> = resolved.iter().map(|(s, _)| (s, s.rule())).collect();
        self.stats.count(DecisionSource::Embedded);
        outcome(&decided, &[], &reply, DecisionSource::Embedded)
    }

    /// Decides without Redis, each policy as its `on_store_failure` says.
    pub(super) fn fallback(&mut self, resolved: &Resolved) -> LimitOutcome {
        let by = |mode| resolved.iter().filter(move |(s, _)| s.on_store_failure == mode);
        let denying: Vec<&PolicySpec> = by(StoreFailure::Deny).map(|(s, _)| s).collect();
        if !denying.is_empty() {
            self.stats.count(DecisionSource::DenyFallback);
            let all: Vec<&PolicySpec> = resolved.iter().map(|(s, _)| s).collect();
            return LimitOutcome {
                denial: Some(Denial {
                    kind: DenialKind::StoreUnavailable,
                    retry_after_secs: 1,
                    violated_policies: denying.iter().map(|s| s.name.to_string()).collect(),
                }),
                policy_header: policy_header(&all),
                ratelimit_header: None,
                remaining: None,
                source: DecisionSource::DenyFallback,
            };
        }
        let instances =
            self.redis.as_ref().and_then(|l| l.instances).unwrap_or(self.expected_instances);
        let local: Resolved = by(StoreFailure::Local).cloned().collect();
        let unchecked: Vec<&PolicySpec> = by(StoreFailure::Allow).map(|(s, _)| s).collect();
        let checks = checks(&local, |spec| spec.shared_by(instances));
        let reply = self.embedded.decide_at(&checks, wall_clock_us());
        self.stats.local_keys.store(self.embedded.len() as u64, Ordering::Relaxed);
        let decided: Vec<_> = local.iter().map(|(s, _)| (s, s.shared_by(instances))).collect();
        let source = if local.is_empty() {
            DecisionSource::AllowFallback
        } else {
            DecisionSource::LocalFallback
        };
        self.stats.count(source);
        outcome(&decided, &unchecked, &reply, source)
    }
}

/// The store checks for `resolved`, each decided by `rule`.
pub(super) fn checks(resolved: &Resolved, rule: impl Fn(&PolicySpec) -> Rule) -> Vec<Check> {
    resolved
        .iter()
        .map(|(spec, hash)| Check {
            policy: spec.name.clone(),
            key_hash: hash.clone(),
            rule: rule(spec),
        })
        .collect()
}
