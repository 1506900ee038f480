//! The results of a run, as one `Report` written to a results folder three ways:
//! `report.json` (everything, for tools), `report.md` (a table for people and READMEs) and
//! `latency.svg` (the latency-percentile curve). Reports never contain request bytes, so no
//! token can reach them.

mod markdown;
mod plot;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::engine::{Measured, Model};
use crate::error::LoadError;
use crate::suite::Plan;
use crate::suite::checks::{self, CheckResult};

/// Everything a run produced.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub suite: &'static str,
    pub short: bool,
    pub target: String,
    /// `plain`, `tls` or `mtls`.
    pub transport: &'static str,
    pub model: Model,
    pub connections: usize,
    pub planned: u64,
    pub started_unix_ms: u64,
    pub elapsed_ms: f64,
    /// Completed responses per second of elapsed time.
    pub throughput_rps: f64,
    pub requests: Counts,
    /// Latency in microseconds: from the due time (open model) or the send (closed model).
    pub latency_us: Latency,
    /// How late the generator's timer woke; large values mean the generator was starved.
    pub generator_lag_us: Latency,
    /// The latency-percentile curve the plot draws.
    pub percentiles: Vec<Point>,
    pub checks: Vec<CheckResult>,
    pub passed: bool,
}

/// Request outcomes.
#[derive(Debug, Clone, Serialize)]
pub struct Counts {
    pub completed: u64,
    pub failed: u64,
    pub unsent: u64,
    pub body_mismatches: u64,
    pub body_bytes: u64,
    pub statuses: BTreeMap<u16, u64>,
    pub failures: BTreeMap<&'static str, u64>,
    pub first_failure: BTreeMap<&'static str, String>,
}

/// Summary statistics of a histogram, in microseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Latency {
    pub count: u64,
    pub min: u64,
    pub mean: f64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub p99_9: u64,
    pub p99_99: u64,
    pub max: u64,
}

/// One point of the percentile curve.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Point {
    pub percentile: f64,
    pub latency_us: u64,
}

/// Where a run's files went.
#[derive(Debug, Clone)]
pub struct Written {
    pub json: PathBuf,
    pub markdown: PathBuf,
    pub plot: PathBuf,
}

// === impl Report ===

impl Report {
    /// Evaluates the plan's expectations on `measured` and gathers the report.
    pub fn new(
        plan: &Plan,
        measured: &Measured,
        target: String,
        transport: &'static str,
        short: bool,
    ) -> Self {
        let r = &measured.recorder;
        let checks = checks::evaluate(&plan.expectations, r, plan.model.count());
        let elapsed = measured.elapsed.as_secs_f64().max(1e-9);
        Self {
            suite: plan.suite.name(),
            short,
            target,
            transport,
            model: plan.model,
            connections: plan.connections,
            planned: plan.model.count(),
            started_unix_ms: unix_ms(SystemTime::now() - measured.elapsed),
            elapsed_ms: elapsed * 1000.0,
            throughput_rps: r.completed() as f64 / elapsed,
            requests: Counts {
                completed: r.completed(),
                failed: r.failed(),
                unsent: r.unsent,
                body_mismatches: r.mismatched,
                body_bytes: r.body_bytes,
                statuses: r.statuses.clone(),
                failures: r.errors.iter().map(|(k, n)| (k.name(), *n)).collect(),
                first_failure: r.first_error.iter().map(|(k, d)| (k.name(), d.clone())).collect(),
            },
            latency_us: Latency::of(&r.latency),
            generator_lag_us: Latency::of(&r.lag),
            percentiles: curve(&r.latency),
            passed: checks.iter().all(|c| c.passed),
            checks,
        }
    }

    /// Writes the three files into `dir`, creating it.
    pub fn write(&self, dir: &Path) -> Result<Written, LoadError> {
        let failed =
            |path: &Path, reason: String| LoadError::WriteReport { path: path.into(), reason };
        std::fs::create_dir_all(dir).map_err(|err| failed(dir, err.to_string()))?;
        let written = Written {
            json: dir.join("report.json"),
            markdown: dir.join("report.md"),
            plot: dir.join("latency.svg"),
        };
        let json = serde_json::to_string_pretty(self)
            .map_err(|err| failed(&written.json, err.to_string()))?;
        std::fs::write(&written.json, json + "\n")
            .map_err(|err| failed(&written.json, err.to_string()))?;
        std::fs::write(&written.markdown, self.markdown())
            .map_err(|err| failed(&written.markdown, err.to_string()))?;
        plot::draw(self, &written.plot).map_err(|reason| failed(&written.plot, reason))?;
        Ok(written)
    }

    /// The Markdown summary (also printed at the end of a run).
    pub fn markdown(&self) -> String {
        markdown::render(self)
    }
}

// === impl Latency ===

impl Latency {
    fn of(histogram: &Histogram<u64>) -> Self {
        if histogram.is_empty() {
            return Self::default();
        }
        let at = |q: f64| histogram.value_at_quantile(q);
        Self {
            count: histogram.len(),
            min: histogram.min(),
            mean: histogram.mean(),
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            p99_9: at(0.999),
            p99_99: at(0.9999),
            max: histogram.max(),
        }
    }
}

/// The percentile curve, denser towards the tail (five points per halving of 1 − q).
fn curve(histogram: &Histogram<u64>) -> Vec<Point> {
    if histogram.is_empty() {
        return Vec::new();
    }
    let mut points: Vec<Point> = histogram
        .iter_quantiles(5)
        .map(|v| Point {
            percentile: v.quantile_iterated_to() * 100.0,
            latency_us: histogram.highest_equivalent(v.value_iterated_to()),
        })
        .take_while(|p| p.percentile < 99.9999)
        .collect();
    points.push(Point { percentile: 100.0, latency_us: histogram.max() });
    points
}

fn unix_ms(time: SystemTime) -> u64 {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}
