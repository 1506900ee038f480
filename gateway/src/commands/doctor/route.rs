//! One route's chain, link by link, and what several routes share: an issuer's keys, a
//! credential's minter and an upstream's connection are each checked once.

use std::collections::HashMap;
use std::sync::Arc;

use skybridge_actors::minter::Credentials;
use skybridge_shared::config::{AuthPolicy, RouteConfig};
use skybridge_shared::health::Health;

use super::credential::{self, CredentialCheck, Minted};
use super::report::{Link, Status};
use super::{issuer, upstream};
use crate::state::{Runtime, Upstream};

/// Checks routes, remembering what several routes share (issuers, minters, connections).
pub(super) struct Checker {
    runtime: Runtime,
    probe_path: Option<String>,
    minters: HashMap<String, Result<Credentials, String>>,
    issuers: HashMap<String, Link>,
    reached: HashMap<String, (Link, bool)>,
}

// === impl Checker ===

impl Checker {
    pub(super) fn new(runtime: Runtime, probe_path: Option<String>) -> Self {
        let minters = HashMap::new();
        Self { runtime, probe_path, minters, issuers: HashMap::new(), reached: HashMap::new() }
    }

    /// Prints one route's chain and returns how many of its links are broken.
    pub(super) async fn route(&mut self, route: &RouteConfig) -> usize {
        let Some(upstream) = self.runtime.upstreams.get(route.upstream.as_str()).cloned() else {
            return 1; // Validation guarantees the upstream exists.
        };
        let url = upstream.url("", None);
        println!(
            "\nroute {:?}: {} -> upstream {:?} ({url})",
            route.name, route.path_prefix, route.upstream
        );
        let mut links = self.callers(route).await;
        let (mut credential, minted) = self.credential(route, &upstream).await;
        let (reach, reachable) = self.reach(&route.upstream, &upstream).await;
        let probe = if !reachable {
            Link::new("probe", Status::Skipped, "the upstream cannot be reached")
        } else if upstream.credential.is_some() && minted.is_none() {
            Link::new("probe", Status::Skipped, "no token to present")
        } else {
            let path = self.probe_path.clone().unwrap_or_else(|| route.path_prefix.clone());
            let config =
                upstream.credential.as_deref().and_then(|n| self.runtime.config.credential(n));
            let probe =
                upstream::probe(&self.runtime, &upstream, &path, config, minted.as_ref()).await;
            if probe.accepted && minted.as_ref().is_some_and(|m| m.audience_problem.is_some()) {
                credential.status = Status::Warn;
                credential.summary = "aud is not the upstream URL, but the upstream accepted it \
                                      (a custom audience)"
                    .into();
                credential.fix = None;
            }
            probe.link
        };
        links.extend([credential, reach, probe]);
        for link in &links {
            print!("{}", link.render());
        }
        links.iter().filter(|link| link.is_broken()).count()
    }

    /// Link 2 for every issuer the route accepts.
    async fn callers(&mut self, route: &RouteConfig) -> Vec<Link> {
        let Some(AuthPolicy::Required(policy)) = &route.auth else {
            return vec![Link::new(
                "callers",
                Status::Info,
                "anonymous route: no caller token is checked",
            )];
        };
        let config = Arc::clone(&self.runtime.config);
        let mut links = Vec::new();
        for issuer in &config.issuers {
            if !policy.issuers.is_empty() && !policy.issuers.contains(&issuer.name) {
                continue;
            }
            if !self.issuers.contains_key(&issuer.name) {
                let link = issuer::check(&config, issuer).await;
                self.issuers.insert(issuer.name.clone(), link);
            }
            links.extend(self.issuers.get(&issuer.name).cloned());
        }
        links
    }

    /// Link 3, starting the credential's minter on first use.
    async fn credential(
        &mut self,
        route: &RouteConfig,
        upstream: &Upstream,
    ) -> (Link, Option<Minted>) {
        let config = Arc::clone(&self.runtime.config);
        let Some(credential) = upstream.credential.as_deref().and_then(|n| config.credential(n))
        else {
            let summary = "none: requests reach the upstream without a token";
            return (Link::new("credential", Status::Info, summary), None);
        };
        let started = self.minters.entry(credential.name.clone()).or_insert_with(|| {
            // One minter per credential, so a broken one does not hide the others.
            let mut alone = (*config).clone();
            alone.credentials = vec![credential.clone()];
            Credentials::start(&alone, Health::default()).map_err(|err| err.to_string())
        });
        let forward = matches!(&route.auth, Some(AuthPolicy::Required(p)) if p.forward_token);
        let CredentialCheck { link, minted } =
            credential::check(started, credential, upstream, forward).await;
        (link, minted)
    }

    /// Link 4, once per upstream.
    async fn reach(&mut self, name: &str, upstream: &Arc<Upstream>) -> (Link, bool) {
        if !self.reached.contains_key(name) {
            let reached = upstream::reach(name, upstream).await;
            self.reached.insert(name.to_owned(), reached);
        }
        self.reached.get(name).cloned().unwrap_or_else(|| {
            (Link::new(format!("upstream {name:?}"), Status::Skipped, "not checked"), false)
        })
    }
}
