//! Audit records, traces and logs.

use std::path::PathBuf;

use serde::Deserialize;

/// The `[telemetry]` section.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelemetryConfig {
    /// `service.name` of everything Skybridge exports. Default `skybridge`.
    #[serde(default = "default_service_name")]
    pub service_name: String,
    /// `service.instance.id`; default: a new id per process.
    #[serde(default)]
    pub instance_id: Option<String>,
    /// OTLP/HTTP base URL of the collector, e.g. `http://127.0.0.1:4318`; absent means
    /// audit records go to `audit_file` or stdout.
    #[serde(default)]
    pub otlp_endpoint: Option<String>,
    /// File receiving audit records as OTLP-JSON lines when no collector is configured.
    #[serde(default)]
    pub audit_file: Option<PathBuf>,
    /// Directory where audit records wait while the collector is unreachable.
    #[serde(default)]
    pub spool_dir: Option<PathBuf>,
    /// Largest size of the spool in bytes before records are dropped (and counted).
    /// Default 256 MiB.
    #[serde(default = "default_spool_max_bytes")]
    pub spool_max_bytes: u64,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            service_name: default_service_name(),
            instance_id: None,
            otlp_endpoint: None,
            audit_file: None,
            spool_dir: None,
            spool_max_bytes: default_spool_max_bytes(),
        }
    }
}

fn default_service_name() -> String {
    "skybridge".to_owned()
}
fn default_spool_max_bytes() -> u64 {
    256 * 1024 * 1024
}
