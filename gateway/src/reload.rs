//! Reloading the configuration without a restart, on SIGHUP.
//!
//! The new file is loaded and validated completely, and every certificate and key it names is
//! loaded, before anything changes; then the new snapshot replaces the old one atomically.
//! Requests already running finish on the snapshot they started with, open connections stay
//! open, and workers rebuild their upstream clients on their next request. A file with any
//! problem changes nothing: its problems are logged and the running configuration stays.
//!
//! The public listener's certificate, key and client CA are part of the snapshot, so they
//! are swapped too (new handshakes use them). The listeners' addresses, and whether the public
//! one speaks TLS at all, are bound once at start; changing them needs a restart, and a reload
//! that changes them says so in the log.

use std::path::{Path, PathBuf};

use actix_web::web;
use skybridge_shared::config;

use crate::state::{Gateway, Runtime};

/// Reloads from `source` on every SIGHUP until the process ends.
pub async fn on_sighup(gateway: web::Data<Gateway>, source: Option<PathBuf>) {
    use tokio::signal::unix::{SignalKind, signal};
    let Ok(mut hangup) = signal(SignalKind::hangup()) else {
        tracing::error!("Cannot install the SIGHUP handler; reloads need a restart.");
        return;
    };
    while hangup.recv().await.is_some() {
        reload(&gateway, source.as_deref());
    }
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
