//! `skybridge doctor --config FILE [--route NAME] [--probe-path P]`: walks each route's chain
//! the way a request would and says, per link, OK or BROKEN with the cause and the fix:
//!
//! 1. the configuration is valid (the same checks as `check-config`);
//! 2. each issuer the route accepts: discovery and keys reachable, usable keys counted;
//! 3. the upstream's credential: a token minted as the server mints it, its claims shown
//!    (never the token) and its `aud` compared with the upstream URL;
//! 4. the upstream reachable over (m)TLS with the gateway's own connector;
//! 5. one authenticated `GET` of the route's prefix (or `--probe-path`), a 401 or 403
//!    explained.
//!
//! It runs in its own actix System and starts the token minter exactly as the server does,
//! but binds no listener; it only reads and sends requests. A link that depends on a broken
//! one is shown as SKIPPED. The exit code is 1 when any link is BROKEN.

mod claims;
mod credential;
mod explain;
mod issuer;
mod refused;
mod report;
mod transport;
mod upstream;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::bail;
use skybridge_actors::minter::Credentials;
use skybridge_shared::config::{self, AuthPolicy, RouteConfig};
use skybridge_shared::health::Health;

use self::credential::CredentialCheck;
use self::report::{Link, Status};
use crate::state::{Runtime, Upstream};

/// Arguments of `doctor`.
#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// The configuration file to diagnose.
    #[arg(long, short)]
    pub config: PathBuf,
    /// Check only the route with this name.
    #[arg(long)]
    pub route: Option<String>,
    /// Path the authenticated probe requests from each upstream (with an optional query);
    /// default: the route's `path_prefix`.
    #[arg(long)]
    pub probe_path: Option<String>,
}

/// Prints the diagnosis on stdout; `Ok(false)` when a link is broken.
pub fn run(args: &DoctorArgs) -> anyhow::Result<bool> {
    if let Some(path) = &args.probe_path
        && !path.starts_with('/')
    {
        bail!("--probe-path must start with '/', got {path:?}");
    }
    println!("Skybridge doctor: {}", args.config.display());
    let (link, runtime) = configuration(&args.config);
    print!("\nconfiguration\n{}", link.render());
    let Some(runtime) = runtime else { return Ok(false) };
    let routes = select(&runtime.config.routes, args.route.as_deref())?;
    if routes.is_empty() {
        println!("\nNo routes are configured: nothing more to check.");
        return Ok(true);
    }
    let probe_path = args.probe_path.clone();
    let broken = actix_rt::System::new().block_on(async move {
        let mut checker = Checker::new(runtime, probe_path);
        let mut broken = 0;
        for route in &routes {
            broken += checker.route(route).await;
        }
        broken
    });
    if broken == 0 {
        println!("\nEvery link works.");
    } else {
        println!("\n{broken} broken link(s): see BROKEN above for the cause and the fix.");
    }
    Ok(broken == 0)
}

/// Link 1: load, validate, and build the runtime snapshot (certificates and keys parsed).
fn configuration(path: &Path) -> (Link, Option<Runtime>) {
    let subject = "configuration";
    let fix = "correct the keys named above; `skybridge check-config` checks the file alone";
    let loaded = match config::load(Some(path)) {
        Ok(loaded) => loaded,
        Err(err) => return (Link::broken(subject, "cannot be loaded", err.to_string(), fix), None),
    };
    let mut problems = loaded.validate();
    let mut runtime = None;
    if problems.is_empty() {
        match Runtime::build(loaded.clone(), 0) {
            Ok(built) => runtime = Some(built),
            Err(tls_problems) => problems = tls_problems,
        }
    }
    match runtime {
        Some(runtime) => {
            let summary = format!(
                "valid: {} routes, {} upstreams, {} issuers, {} credentials",
                loaded.routes.len(),
                loaded.upstreams.len(),
                loaded.issuers.len(),
                loaded.credentials.len()
            );
            (Link::new(subject, Status::Ok, summary), Some(runtime))
        }
        None => {
            let mut link = Link::broken(subject, "is not valid", "the problems listed", fix);
            link.facts = problems.0.iter().map(|p| format!("{}: {}", p.key, p.reason)).collect();
            (link, None)
        }
    }
}

fn select(routes: &[RouteConfig], only: Option<&str>) -> anyhow::Result<Vec<RouteConfig>> {
    let Some(name) = only else { return Ok(routes.to_vec()) };
    let chosen: Vec<RouteConfig> = routes.iter().filter(|r| r.name == name).cloned().collect();
    if chosen.is_empty() {
        let names: Vec<&str> = routes.iter().map(|r| r.name.as_str()).collect();
        bail!("no route named {name:?}; the configuration has: {}", names.join(", "));
    }
    Ok(chosen)
}

/// Checks routes, remembering what several routes share (issuers, minters, connections).
struct Checker {
    runtime: Runtime,
    probe_path: Option<String>,
    minters: HashMap<String, Result<Credentials, String>>,
    issuers: HashMap<String, Link>,
    reached: HashMap<String, (Link, bool)>,
}

// === impl Checker ===

impl Checker {
    fn new(runtime: Runtime, probe_path: Option<String>) -> Self {
        let minters = HashMap::new();
        Self { runtime, probe_path, minters, issuers: HashMap::new(), reached: HashMap::new() }
    }

    /// Prints one route's chain and returns how many of its links are broken.
    async fn route(&mut self, route: &RouteConfig) -> usize {
        let Some(upstream) = self.runtime.upstreams.get(route.upstream.as_str()).cloned() else {
            return 1; // Validation guarantees the upstream exists.
        };
        let url = upstream.url("", None);
        println!("\nroute {:?}: {} -> upstream {:?} ({url})", route.name, route.path_prefix, route.upstream);
        let mut links = self.callers(route).await;
        let (mut credential, minted) = self.credential(route, &upstream).await;
        let (reach, reachable) = self.reach(&route.upstream, &upstream).await;
        let probe = if !reachable {
            Link::new("probe", Status::Skipped, "the upstream cannot be reached")
        } else if upstream.credential.is_some() && minted.is_none() {
            Link::new("probe", Status::Skipped, "no token to present")
        } else {
            let path = self.probe_path.clone().unwrap_or_else(|| route.path_prefix.clone());
            let config = upstream.credential.as_deref().and_then(|n| self.runtime.config.credential(n));
            let probe = upstream::probe(&self.runtime, &upstream, &path, config, minted.as_ref()).await;
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
            return vec![Link::new("callers", Status::Info, "anonymous route: no caller token is checked")];
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
    ) -> (Link, Option<credential::Minted>) {
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
