//! The typed configuration tree, loaded as embedded defaults < TOML file < `SKYBRIDGE__*`
//! environment variables with the `config` crate.
//!
//! Loading happens in two phases. [`load`] parses and rejects unknown keys and wrong types
//! (serde stops at the first of those). [`Config::validate`] then checks meaning across the
//! whole tree (files exist, names resolve, values are in range) and returns every problem at
//! once, so an operator fixes a broken file in one pass instead of one error per restart.

pub mod credential;
pub mod issuer;
pub mod listener;
pub mod rate_limit;
pub mod route;
pub mod telemetry;
pub mod upstream;
pub mod validate;

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use credential::{CredentialConfig, CredentialKind, InjectHeader};
pub use issuer::IssuerConfig;
pub use listener::{AdminConfig, ListenerConfig, ServerTlsConfig};
pub use rate_limit::{PolicyConfig, PolicyKind, RateLimitConfig, StoreFailure};
pub use route::{AuthPolicy, ClaimMatcher, RequiredAuth, RouteConfig};
pub use telemetry::TelemetryConfig;
pub use upstream::{UpstreamConfig, UpstreamTlsConfig};
pub use validate::{ConfigProblem, ConfigProblems};

/// Prefix of environment variables that override file values, e.g.
/// `SKYBRIDGE__LISTENER__ADDRESS=0.0.0.0:8080`.
pub const ENV_PREFIX: &str = "SKYBRIDGE";

/// The whole configuration of one Skybridge process.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The public listener that serves routes.
    #[serde(default)]
    pub listener: ListenerConfig,
    /// The admin listener (`/healthz`, `/readyz`, `/metrics`), never reachable publicly.
    #[serde(default)]
    pub admin: AdminConfig,
    /// Issuers whose bearer tokens callers may present.
    #[serde(default)]
    pub issuers: Vec<IssuerConfig>,
    /// Rate limiting; absent means the embedded in-process limiter with no policies.
    #[serde(default)]
    pub rate_limit: RateLimitConfig,
    /// Credentials Skybridge presents to upstreams.
    #[serde(default)]
    pub credentials: Vec<CredentialConfig>,
    /// Named upstreams routes forward to.
    #[serde(default)]
    pub upstreams: Vec<UpstreamConfig>,
    /// Routes, matched by host, longest path prefix and method.
    #[serde(default)]
    pub routes: Vec<RouteConfig>,
    /// Audit records, traces and logs.
    #[serde(default)]
    pub telemetry: TelemetryConfig,
    /// Directory relative paths are resolved against: the configuration file's directory,
    /// or the working directory for the embedded defaults. Not a configuration key.
    #[serde(skip)]
    pub base_dir: PathBuf,
    /// The file this configuration was read from; `None` for the embedded defaults. Not a
    /// configuration key.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file does not exist or cannot be read.
    #[error("cannot read configuration file {path}: {source}")]
    Read {
        /// The file that was asked for.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file or an environment variable is not valid TOML or does not fit the schema.
    #[error("{path}: {message}")]
    Parse {
        /// The file being loaded.
        path: PathBuf,
        /// The parser's description, naming the key where it knows it.
        message: String,
    },
}

/// Loads the configuration from `path` (or embedded defaults when `None`) with
/// `SKYBRIDGE__*` environment overrides, without semantic validation.
pub fn load(path: Option<&Path>) -> Result<Config, LoadError> {
    let mut builder = config::Config::builder();
    let (display, base_dir) = match path {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|source| LoadError::Read { path: path.to_owned(), source })?;
            builder = builder.add_source(config::File::from_str(&text, config::FileFormat::Toml));
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            (path.to_owned(), absolute(&dir))
        }
        None => (PathBuf::from("<embedded defaults>"), absolute(Path::new("."))),
    };
    builder = builder.add_source(
        config::Environment::with_prefix(ENV_PREFIX)
            .prefix_separator("__")
            .separator("__")
            .try_parsing(true),
    );
    let parse_error = |err: config::ConfigError| LoadError::Parse {
        path: display.clone(),
        message: err.to_string(),
    };
    let mut config: Config =
        builder.build().map_err(parse_error)?.try_deserialize().map_err(parse_error)?;
    config.base_dir = base_dir;
    config.source = path.map(Path::to_path_buf);
    Ok(config)
}

fn absolute(dir: &Path) -> PathBuf {
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf())
}

impl Config {
    /// Resolves a path from the file against the configuration file's directory.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() { path.to_owned() } else { self.base_dir.join(path) }
    }

    /// The upstream called `name`, if configured.
    pub fn upstream(&self, name: &str) -> Option<&UpstreamConfig> {
        self.upstreams.iter().find(|u| u.name == name)
    }

    /// The credential called `name`, if configured.
    pub fn credential(&self, name: &str) -> Option<&CredentialConfig> {
        self.credentials.iter().find(|c| c.name == name)
    }
}

#[cfg(test)]
mod tests;
