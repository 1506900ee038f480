//! Named upstreams that routes forward to.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// Default TCP connect timeout (including DNS and the TLS handshake budget).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Default time to wait for the upstream's response head.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Default cap on open connections to one upstream, per worker.
pub const DEFAULT_MAX_CONNECTIONS: usize = 100;

/// One upstream.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamConfig {
    /// Name routes refer to.
    pub name: String,
    /// Base URL, `http://` or `https://`; a path here is prefixed to every forwarded path.
    pub url: String,
    /// Name of the credential attached to every request; absent means none.
    #[serde(default)]
    pub credential: Option<String>,
    /// TCP connect timeout. Default `2s`.
    #[serde(default = "default_connect_timeout", with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// Time allowed until the upstream's response head arrives. Default `30s`.
    #[serde(default = "default_request_timeout", with = "humantime_serde")]
    pub request_timeout: Duration,
    /// Most connections open to this upstream per worker thread. Default 100.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Private CA and client certificate; absent means the system's roots and no client
    /// certificate.
    #[serde(default)]
    pub tls: Option<UpstreamTlsConfig>,
}

/// TLS towards one upstream.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpstreamTlsConfig {
    /// PEM bundle of CAs trusted for this upstream instead of the system roots.
    #[serde(default)]
    pub ca: Option<PathBuf>,
    /// PEM client certificate chain presented for mutual TLS.
    #[serde(default)]
    pub client_certificate: Option<PathBuf>,
    /// PEM private key of `client_certificate`.
    #[serde(default)]
    pub client_private_key: Option<PathBuf>,
}

fn default_connect_timeout() -> Duration {
    DEFAULT_CONNECT_TIMEOUT
}
fn default_request_timeout() -> Duration {
    DEFAULT_REQUEST_TIMEOUT
}
fn default_max_connections() -> usize {
    DEFAULT_MAX_CONNECTIONS
}
