//! The command line of `skybridge-loadtest`, turned into a target, TLS settings and suite
//! options. Knobs that only shape one run live here, not in any configuration file.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::error::LoadError;
use crate::suite::{Mode, Options, Suite};
use crate::target::TlsSettings;
use crate::tokens::Tokens;

/// Load-test a Skybridge gateway (or any HTTP/1.1 server) on loopback with a named suite.
#[derive(Debug, Clone, Parser)]
#[command(name = "skybridge-loadtest", version)]
pub struct Args {
    /// Base URL on loopback (127.0.0.0/8, ::1 or localhost); suite paths are appended.
    #[arg(long)]
    pub target: String,
    /// The scenario to run.
    #[arg(long, value_enum)]
    pub suite: Suite,
    /// A quick check: a couple of seconds and at most 2000 requests.
    #[arg(long)]
    pub short: bool,
    /// Pacing: open (constant arrival rate) or closed (saturation); suites pick a default.
    #[arg(long, value_enum)]
    pub mode: Option<Mode>,
    /// Requests per second (the starting rate for ramp).
    #[arg(long)]
    pub rate: Option<f64>,
    /// The final rate of the ramp suite.
    #[arg(long)]
    pub ramp_to: Option<f64>,
    /// How long to send, e.g. `30s`.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub duration: Option<Duration>,
    /// Upper bound on the number of requests.
    #[arg(long)]
    pub requests: Option<u64>,
    /// Kept-alive connections to use.
    #[arg(long)]
    pub connections: Option<usize>,
    /// The most one request may take, connecting included.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "10s")]
    pub timeout: Duration,
    /// Runtime worker threads for the generator.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Path (under the target's) to request instead of the suite's default; the demo paths
    /// of slow-upstream and of large-bodies downloads stay as they are.
    #[arg(long)]
    pub path: Option<String>,
    /// File of bearer tokens, one per line, used round-robin.
    #[arg(long)]
    pub tokens: Option<PathBuf>,
    /// token-churn: the gateway's verified-token cache capacity (the pool must be 4× it).
    #[arg(long)]
    pub token_cache_size: Option<usize>,
    /// burst-over-limit: how many 200s the policy allows in the burst.
    #[arg(long)]
    pub expect_ok: Option<u64>,
    /// burst-over-limit: how many 429s the rest of the burst must get.
    #[arg(long)]
    pub expect_limited: Option<u64>,
    /// large-bodies: body size in bytes.
    #[arg(long)]
    pub body_bytes: Option<usize>,
    /// slow-upstream: the upstream delay to ask for, e.g. `200ms`.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub delay: Option<Duration>,
    /// PEM CA bundle to verify an https target with.
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// PEM client certificate for mutual TLS.
    #[arg(long, requires = "key")]
    pub cert: Option<PathBuf>,
    /// PEM private key of `--cert`.
    #[arg(long, requires = "cert")]
    pub key: Option<PathBuf>,
    /// TLS server name (SNI and verification) instead of the URL's host.
    #[arg(long)]
    pub server_name: Option<String>,
    /// Results folder; `results/<suite>-<unix seconds>` by default.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

// === impl Args ===

impl Args {
    /// The suite options, reading the token file if one is named.
    pub fn options(&self) -> Result<Options, LoadError> {
        if let Some(path) = &self.path
            && !path.is_empty()
            && !path.starts_with('/')
        {
            return Err(LoadError::Settings(format!("--path {path:?} must start with /")));
        }
        let tokens = self.tokens.as_deref().map(Tokens::read).transpose()?;
        Ok(Options {
            short: self.short,
            mode: self.mode,
            rate: self.rate,
            ramp_to: self.ramp_to,
            duration: self.duration,
            requests: self.requests,
            connections: self.connections,
            path: self.path.clone(),
            tokens,
            token_cache_size: self.token_cache_size,
            expect_ok: self.expect_ok,
            expect_limited: self.expect_limited,
            body_bytes: self.body_bytes,
            delay: self.delay,
        })
    }

    pub fn tls(&self) -> TlsSettings {
        TlsSettings {
            ca: self.ca.clone(),
            certificate: self.cert.clone(),
            private_key: self.key.clone(),
            server_name: self.server_name.clone(),
        }
    }

    /// Checks the settings that are not a suite's business.
    pub fn validate(&self) -> Result<(), LoadError> {
        if self.threads == 0 || self.threads > 64 {
            return Err(LoadError::Settings(format!(
                "--threads {} is not in 1..=64",
                self.threads
            )));
        }
        if self.timeout.is_zero() || self.timeout > Duration::from_secs(120) {
            return Err(LoadError::Settings(format!(
                "--timeout {:?} is not in (0, 2m]",
                self.timeout
            )));
        }
        Ok(())
    }
}
