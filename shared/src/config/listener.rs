//! The public and admin listeners.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// Default public address: loopback only, so a fresh install exposes nothing.
pub const DEFAULT_PUBLIC_ADDRESS: &str = "127.0.0.1:8080";
/// Default admin address, loopback only.
pub const DEFAULT_ADMIN_ADDRESS: &str = "127.0.0.1:9090";
/// Default request body cap: 10 MiB.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 10 * 1024 * 1024;
/// Default time in-flight requests get to finish after SIGTERM.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);

/// The public listener, which serves routes.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerConfig {
    /// `host:port` to bind; port 0 picks a free port (logged at start). Default
    /// `127.0.0.1:8080`.
    #[serde(default = "default_public_address")]
    pub address: String,
    /// HTTPS settings; absent means plain HTTP.
    #[serde(default)]
    pub tls: Option<ServerTlsConfig>,
    /// Largest request body accepted, in bytes; larger bodies get 413. Default 10 MiB.
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: u64,
    /// How long in-flight requests may run after SIGTERM/SIGINT before the process exits.
    /// Default `30s`.
    #[serde(default = "default_shutdown_timeout", with = "humantime_serde")]
    pub shutdown_timeout: Duration,
    /// How long the listener keeps serving while reporting not-ready after SIGTERM, so a
    /// load balancer can move traffic away before connections close. Default `0s`.
    #[serde(default, with = "humantime_serde")]
    pub drain_delay: Duration,
    /// Worker threads; 0 (the default) means one per CPU core.
    #[serde(default)]
    pub workers: usize,
}

impl Default for ListenerConfig {
    fn default() -> Self {
        Self {
            address: default_public_address(),
            tls: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            drain_delay: Duration::ZERO,
            workers: 0,
        }
    }
}

/// Server-side TLS for the public listener.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerTlsConfig {
    /// PEM certificate chain presented to callers, leaf first.
    pub certificate: PathBuf,
    /// PEM private key of the certificate.
    pub private_key: PathBuf,
    /// PEM bundle of CAs whose client certificates are accepted; when set, callers must
    /// present one (mutual TLS).
    #[serde(default)]
    pub client_ca: Option<PathBuf>,
}

/// The admin listener.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// `host:port` to bind. Default `127.0.0.1:9090`.
    #[serde(default = "default_admin_address")]
    pub address: String,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self { address: default_admin_address() }
    }
}

fn default_public_address() -> String {
    DEFAULT_PUBLIC_ADDRESS.to_owned()
}
fn default_admin_address() -> String {
    DEFAULT_ADMIN_ADDRESS.to_owned()
}
fn default_max_body_bytes() -> u64 {
    DEFAULT_MAX_BODY_BYTES
}
fn default_shutdown_timeout() -> Duration {
    DEFAULT_SHUTDOWN_TIMEOUT
}
