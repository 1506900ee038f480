//! The named suites: what each sends, at what pace, and what it asserts. A suite turns the
//! command-line options into a `Plan`; the run and the report do not know suites apart.

pub mod checks;
mod requests;

pub use self::requests::CHURN_FACTOR;

use std::time::Duration;

use serde::Serialize;

use self::checks::Expectation;
use crate::engine::Model;
use crate::error::LoadError;
use crate::request::Prepared;
use crate::schedule::Schedule;
use crate::target::Target;
use crate::tokens::Tokens;

/// A named scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Suite {
    /// A constant rate; every response 200.
    Steady,
    /// A linearly rising rate; every response 200.
    Ramp,
    /// A closed burst past a rate limit; exactly the expected 200s and 429s.
    BurstOverLimit,
    /// A constant rate cycling through a token pool at least 4× the verified-token cache.
    TokenChurn,
    /// Forged and malformed tokens; every response 401.
    InvalidTokens,
    /// Large uploads echoed and large downloads; every body intact.
    LargeBodies,
    /// Requests to a deliberately slow upstream path; no response faster than the delay.
    SlowUpstream,
}

/// How requests are paced, when the suite leaves the choice to the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Constant arrival rate, latency from each request's due time.
    Open,
    /// Every connection as fast as responses allow (saturation).
    Closed,
}

/// Everything a suite may take from the command line; `None` means the suite's default.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub short: bool,
    pub mode: Option<Mode>,
    pub rate: Option<f64>,
    pub ramp_to: Option<f64>,
    pub duration: Option<Duration>,
    pub requests: Option<u64>,
    pub connections: Option<usize>,
    pub path: Option<String>,
    pub tokens: Option<Tokens>,
    pub token_cache_size: Option<usize>,
    pub expect_ok: Option<u64>,
    pub expect_limited: Option<u64>,
    pub body_bytes: Option<usize>,
    pub delay: Option<Duration>,
}

/// A fully decided run.
#[derive(Debug)]
pub struct Plan {
    pub suite: Suite,
    pub model: Model,
    pub connections: usize,
    pub requests: Vec<Prepared>,
    pub expectations: Vec<Expectation>,
}

/// The most requests any run may send, and the most a short run may send.
pub const MAX_REQUESTS: u64 = 50_000_000;
pub const MAX_SHORT_REQUESTS: u64 = 2_000;
/// The longest any run may be paced for.
pub const MAX_DURATION: Duration = Duration::from_secs(3600);
/// The most connections a run may open.
pub const MAX_CONNECTIONS: usize = 4096;

// === impl Suite ===

impl Suite {
    pub fn name(self) -> &'static str {
        match self {
            Self::Steady => "steady",
            Self::Ramp => "ramp",
            Self::BurstOverLimit => "burst-over-limit",
            Self::TokenChurn => "token-churn",
            Self::InvalidTokens => "invalid-tokens",
            Self::LargeBodies => "large-bodies",
            Self::SlowUpstream => "slow-upstream",
        }
    }

    /// Default (rate, duration) for full and short runs.
    fn pace(self, short: bool) -> (f64, Duration) {
        let secs = Duration::from_secs;
        match (self, short) {
            (Self::LargeBodies, false) => (20.0, secs(20)),
            (Self::LargeBodies, true) => (10.0, secs(2)),
            (Self::SlowUpstream, false) => (200.0, secs(20)),
            (Self::SlowUpstream, true) => (50.0, secs(2)),
            (Self::Ramp, false) => (50.0, secs(30)),
            (Self::Ramp, true) => (20.0, secs(2)),
            (_, false) => (500.0, secs(30)),
            (_, true) => (100.0, secs(2)),
        }
    }

    /// Builds the plan for `options` against `target`.
    pub fn plan(self, target: &Target, options: &Options) -> Result<Plan, LoadError> {
        let (requests, expectations) = requests::build(self, target, options)?;
        let model = self.model(options)?;
        let connections = match options.connections {
            Some(n) if (1..=MAX_CONNECTIONS).contains(&n) => n,
            Some(n) => return Err(settings(format!("--connections {n} is not in 1..=4096"))),
            None => default_connections(&model, self.expected_latency(options)),
        };
        let mut expectations = expectations;
        if matches!(model, Model::Open { .. }) || self == Self::BurstOverLimit {
            expectations.insert(0, Expectation::AllSent);
        }
        Ok(Plan { suite: self, model, connections, requests, expectations })
    }

    fn model(self, options: &Options) -> Result<Model, LoadError> {
        let (default_rate, default_duration) = self.pace(options.short);
        let duration = options.duration.unwrap_or(default_duration);
        if duration.is_zero() || duration > MAX_DURATION {
            return Err(settings(format!("--duration {duration:?} is not in (0, 1h]")));
        }
        let cap = match options.short {
            true => options.requests.unwrap_or(MAX_SHORT_REQUESTS).min(MAX_SHORT_REQUESTS),
            false => options.requests.unwrap_or(MAX_REQUESTS),
        };
        if cap == 0 || cap > MAX_REQUESTS {
            return Err(settings(format!("--requests {cap} is not in 1..={MAX_REQUESTS}")));
        }
        if self == Self::BurstOverLimit {
            let (ok, limited) = requests::burst_counts(options)?;
            return Ok(Model::Closed { count: ok + limited, duration });
        }
        if options.mode == Some(Mode::Closed) {
            return Ok(Model::Closed { count: cap, duration });
        }
        let rate = options.rate.unwrap_or(default_rate);
        let schedule = match (self, options.ramp_to) {
            (Self::Ramp, to) => {
                let to = to.unwrap_or(if options.short { 200.0 } else { 1000.0 });
                check_rate(to)?;
                Schedule::Ramp { from: rate, to, over: duration }
            }
            (_, Some(_)) => {
                return Err(settings("--ramp-to applies to the ramp suite only".into()));
            }
            (_, None) => Schedule::Constant { rate },
        };
        if self == Self::Ramp {
            check_rate_or_zero(rate)?
        } else {
            check_rate(rate)?
        }
        Ok(Model::Open { schedule, count: schedule.count_within(duration).min(cap) })
    }

    /// A rough per-request latency, to size the connection pool.
    fn expected_latency(self, options: &Options) -> Duration {
        let base = Duration::from_millis(2);
        match self {
            Self::SlowUpstream => base + requests::delay(options),
            Self::LargeBodies => base * 10,
            _ => base,
        }
    }
}

/// Enough connections that the planned rate does not queue at the expected latency
/// (Little's law with a 4× margin), within sane bounds.
fn default_connections(model: &Model, latency: Duration) -> usize {
    match model {
        Model::Closed { .. } => 16,
        Model::Open { schedule, .. } => {
            let needed = (schedule.peak_rate() * latency.as_secs_f64() * 4.0).ceil();
            (needed as usize).clamp(8, 512)
        }
    }
}

fn check_rate(rate: f64) -> Result<(), LoadError> {
    if rate.is_finite() && rate > 0.0 && rate <= 1_000_000.0 {
        Ok(())
    } else {
        Err(settings(format!("rate {rate} is not in (0, 1000000] requests per second")))
    }
}

fn check_rate_or_zero(rate: f64) -> Result<(), LoadError> {
    if rate == 0.0 { Ok(()) } else { check_rate(rate) }
}

fn settings(message: String) -> LoadError {
    LoadError::Settings(message)
}

#[cfg(test)]
mod tests;
