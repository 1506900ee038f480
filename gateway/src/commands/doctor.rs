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
mod failure;
mod issuer;
mod refused;
mod report;
mod route;
mod transport;
mod upstream;

use std::path::{Path, PathBuf};

use anyhow::bail;
use skybridge_shared::config::{self, RouteConfig};

use self::report::{Link, Status};
use crate::state::Runtime;

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
        let mut checker = route::Checker::new(runtime, probe_path);
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
