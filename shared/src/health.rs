//! Readiness of the gateway's dependencies, written by whoever owns each dependency (the
//! actors, the listeners) and read by `/readyz`.
//!
//! Each component publishes its own entry; the registry never blocks a writer or a reader.
//! Details must be safe to show an operator: no token, key or secret ever goes in here.

use std::collections::BTreeMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use serde::Serialize;

/// How usable one dependency is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    /// Working normally.
    Ready,
    /// Working on a fallback (stale keys, embedded limiter); requests are still served.
    Degraded,
    /// Cannot serve requests that need it.
    NotReady,
}

/// The published state of one component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentHealth {
    /// The state.
    pub state: HealthState,
    /// One sentence for an operator, e.g. why it is degraded.
    pub detail: String,
}

/// The registry shared by every component; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Health {
    components: Arc<ArcSwap<BTreeMap<String, ComponentHealth>>>,
}

impl Health {
    /// Publishes the state of `component`, replacing its previous entry.
    pub fn set(&self, component: &str, state: HealthState, detail: impl Into<String>) {
        let entry = ComponentHealth { state, detail: detail.into() };
        self.components.rcu(|current| {
            let mut next = BTreeMap::clone(current);
            next.insert(component.to_owned(), entry.clone());
            next
        });
    }

    /// Removes `component`, e.g. after a reload dropped it from the configuration.
    pub fn remove(&self, component: &str) {
        self.components.rcu(|current| {
            let mut next = BTreeMap::clone(current);
            next.remove(component);
            next
        });
    }

    /// Every component's current state.
    pub fn snapshot(&self) -> Arc<BTreeMap<String, ComponentHealth>> {
        self.components.load_full()
    }

    /// Whether every component can serve (ready or degraded).
    pub fn all_serving(&self) -> bool {
        self.components.load().values().all(|c| c.state != HealthState::NotReady)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degraded_still_serves_and_not_ready_does_not() {
        let health = Health::default();
        assert!(health.all_serving());
        health.set("jwks:entra", HealthState::Degraded, "Serving keys fetched 3h ago.");
        assert!(health.all_serving());
        health.set("redis", HealthState::NotReady, "Unreachable.");
        assert!(!health.all_serving());
        health.remove("redis");
        assert!(health.all_serving());
        assert_eq!(health.snapshot().len(), 1);
    }
}
