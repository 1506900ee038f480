//! `skybridge-loadtest`: the load-test suite Skybridge users size their deployment with.
//!
//! It sends HTTP/1.1 over kept-alive connections (plain, TLS or mutual TLS) to a target on
//! loopback, in one of two models: the open model (a fixed arrival schedule, latency measured
//! from each request's due time so that stalls cannot hide behind a slowed sender) and the
//! closed model (every connection as fast as it is answered, for saturation throughput).
//! Named suites (`steady`, `ramp`, `burst-over-limit`, `token-churn`, `invalid-tokens`,
//! `large-bodies`, `slow-upstream`) decide what is sent and assert the outcome; `--short`
//! runs any of them in seconds. Each run writes `report.json`, `report.md` and `latency.svg`
//! to a results folder and exits non-zero when an assertion fails.
//!
//! Every run is bounded: by a request count, a pacing duration and a per-request timeout.
//! Targets off loopback are refused.

pub mod cli;
pub mod engine;
pub mod error;
pub mod http1;
pub mod progress;
pub mod report;
pub mod request;
pub mod schedule;
pub mod stats;
pub mod suite;
pub mod target;
pub mod tokens;

mod run;

pub use self::run::{Outcome, run};
