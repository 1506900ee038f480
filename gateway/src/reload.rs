//! Reloading the configuration without a restart: on SIGHUP, and when the configuration file
//! or a certificate or key it names changes on disk (checked every [`WATCH_INTERVAL`]).
//!
//! The new file is loaded and validated completely, and every certificate and key it names is
//! loaded, before anything changes; then the new snapshot replaces the old one atomically.
//! Requests already running finish on the snapshot they started with, open connections stay
//! open, and workers rebuild their upstream clients on their next request. A file with any
//! problem changes nothing: its problems are logged and the running configuration stays.
//!
//! Issuers, credentials, rate-limit policies and telemetry are owned by actors and sinks
//! started once; a reload that changes them is refused (its problems name the sections), so a
//! half-applied configuration can never, say, route to a rate-limit policy nobody enforces.
//!
//! The public listener's certificate, key and client CA are part of the snapshot, so they
//! are swapped too (new handshakes use them). The listeners' addresses, and whether the public
//! one speaks TLS at all, are bound once at start; changing them needs a restart, and a reload
//! that changes them says so in the log.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use actix_web::web;
use skybridge_shared::config::{self, Config, ConfigProblems};
use tokio::signal::unix::Signal;

use crate::state::{Gateway, Runtime};

/// How often watched files are checked for changes. Polling (rather than file-system
/// notifications) also sees files replaced through symlink swaps, as Kubernetes does.
pub const WATCH_INTERVAL: Duration = Duration::from_secs(2);

/// Reloads from `source` on every SIGHUP, and whenever a watched file changes, until the
/// process ends.
pub async fn watch(gateway: web::Data<Gateway>, source: Option<PathBuf>, mut hangup: Signal) {
    let mut ticks = tokio::time::interval(WATCH_INTERVAL);
    let mut seen = stamps(source.as_deref(), &gateway.runtime().config);
    loop {
        tokio::select! {
            signal = hangup.recv() => {
                if signal.is_none() {
                    return;
                }
                reload(&gateway, source.as_deref());
            }
            _ = ticks.tick() => {
                let now = stamps(source.as_deref(), &gateway.runtime().config);
                if now == seen {
                    continue;
                }
                tracing::info!("A watched configuration file changed; reloading.");
                reload(&gateway, source.as_deref());
            }
        }
        // A rejected file is not retried until it changes again.
        seen = stamps(source.as_deref(), &gateway.runtime().config);
    }
}

/// Issuers, credentials, rate limits and telemetry belong to actors and sinks started once;
/// a reload that changes them is refused rather than half applied.
fn restart_only_changes(old: &Config, new: &Config, problems: &mut ConfigProblems) {
    let sections = [
        ("issuers", old.issuers != new.issuers),
        ("credentials", old.credentials != new.credentials),
        ("rate_limit", old.rate_limit != new.rate_limit),
        ("telemetry", old.telemetry != new.telemetry),
    ];
    for (section, changed) in sections {
        if changed {
            problems.push(section, "changes only on restart; restart the instance to apply it");
        }
    }
}

/// Modification time and size of the configuration file and every certificate and key the
/// running configuration names.
fn stamps(source: Option<&Path>, config: &Config) -> Vec<Option<(SystemTime, u64)>> {
    let mut files: Vec<PathBuf> = source.map(Path::to_path_buf).into_iter().collect();
    if let Some(tls) = &config.listener.tls {
        files.extend([&tls.certificate, &tls.private_key].into_iter().map(|p| config.resolve(p)));
        files.extend(tls.client_ca.iter().map(|p| config.resolve(p)));
    }
    for upstream in &config.upstreams {
        let Some(tls) = &upstream.tls else { continue };
        let named = [&tls.ca, &tls.client_certificate, &tls.client_private_key];
        files.extend(named.into_iter().flatten().map(|p| config.resolve(p)));
    }
    files
        .iter()
        .map(|file| std::fs::metadata(file).ok().and_then(|m| Some((m.modified().ok()?, m.len()))))
        .collect()
}

/// Loads, validates and swaps in the configuration at `source`; returns whether it did.
pub fn reload(gateway: &Gateway, source: Option<&Path>) -> bool {
    let file = source.map_or_else(|| "<embedded defaults>".to_owned(), |p| p.display().to_string());
    let loaded = match config::load(source) {
        Ok(loaded) => loaded,
        Err(err) => {
            tracing::error!(
                file,
                error = %err,
                "Reload rejected; the running configuration stays."
            );
            return false;
        }
    };
    let mut problems = loaded.validate();
    let current = gateway.runtime();
    restart_only_changes(&current.config, &loaded, &mut problems);
    let built = if problems.is_empty() {
        match Runtime::build(loaded, current.generation + 1) {
            Ok(runtime) => Some(runtime),
            Err(tls_problems) => {
                problems = tls_problems;
                None
            }
        }
    } else {
        None
    };
    let Some(runtime) = built else {
        for problem in &problems.0 {
            tracing::error!(
                file,
                key = %problem.key,
                reason = %problem.reason,
                "Configuration problem."
            );
        }
        tracing::error!(
            file,
            problems = problems.0.len(),
            "Reload rejected; the running configuration stays."
        );
        return false;
    };
    let old = &current.config;
    let new = &runtime.config;
    if old.listener.address != new.listener.address
        || old.admin.address != new.admin.address
        || old.listener.tls.is_some() != new.listener.tls.is_some()
    {
        tracing::warn!(file, "Listener addresses and TLS mode only change on restart.");
    }
    let generation = runtime.generation;
    let routes = runtime.config.routes.len();
    gateway.replace_runtime(runtime);
    tracing::info!(file, generation, routes, "Configuration reloaded.");
    true
}
