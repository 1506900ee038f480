//! How the audit sink is set up: where records go and how they are batched, filled from
//! `[telemetry]` with relative paths resolved against the configuration file's directory.

use std::path::{Path, PathBuf};
use std::time::Duration;

use skybridge_shared::config::TelemetryConfig;

use super::encode::AuditResource;

/// Directory of the spool when an endpoint is set and `spool_dir` is not.
pub const DEFAULT_SPOOL_DIR: &str = "audit-spool";

/// Where records go.
#[derive(Debug, Clone)]
pub enum SinkTarget {
    /// OTLP/HTTP protobuf to a collector, through a spool.
    Otlp {
        /// The collector's base URL (`telemetry.otlp_endpoint`).
        endpoint: String,
        /// Where batches wait.
        spool_dir: PathBuf,
        /// Bound of the spool in bytes.
        spool_max_bytes: u64,
    },
    /// OTLP-JSON lines appended to a file.
    File(PathBuf),
    /// OTLP-JSON lines on stdout: the embedded default.
    Stdout,
}

/// Everything the sink needs; [`SinkSettings::from_config`] fills it from `[telemetry]`.
#[derive(Debug, Clone)]
pub struct SinkSettings {
    /// The exporting process.
    pub resource: AuditResource,
    /// Where records go.
    pub target: SinkTarget,
    /// Records per batch (and per spool file). Default 512, as the OTel batch processor.
    pub batch_size: usize,
    /// Longest a record waits in memory before its batch is written. Default 1 s.
    pub flush_interval: Duration,
    /// Records the in-memory queue holds before dropping. Default 65 536.
    pub queue_capacity: usize,
    /// Longest one export request may take. Default 10 s.
    pub export_timeout: Duration,
    /// Longest pause between retries while the collector is unavailable. Default 5 s.
    pub max_backoff: Duration,
}

impl SinkSettings {
    /// Settings for `config`, resolving relative paths against `base_dir` (the configuration
    /// file's directory); `instance_id` is used when the configuration names none.
    pub fn from_config(config: &TelemetryConfig, base_dir: &Path, instance_id: &str) -> Self {
        let resolve = |p: &Path| if p.is_absolute() { p.to_owned() } else { base_dir.join(p) };
        let target = match (&config.otlp_endpoint, &config.audit_file) {
            (Some(endpoint), _) => SinkTarget::Otlp {
                endpoint: endpoint.clone(),
                spool_dir: config
                    .spool_dir
                    .as_deref()
                    .map_or_else(|| base_dir.join(DEFAULT_SPOOL_DIR), resolve),
                spool_max_bytes: config.spool_max_bytes,
            },
            (None, Some(file)) => SinkTarget::File(resolve(file)),
            (None, None) => SinkTarget::Stdout,
        };
        SinkSettings {
            resource: AuditResource {
                service_name: config.service_name.clone(),
                instance_id: config.instance_id.clone().unwrap_or_else(|| instance_id.to_owned()),
            },
            target,
            batch_size: 512,
            flush_interval: Duration::from_secs(1),
            queue_capacity: 65_536,
            export_timeout: Duration::from_secs(10),
            max_backoff: Duration::from_secs(5),
        }
    }
}
