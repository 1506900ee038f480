//! The asserted outcome of a suite: a list of expectations evaluated against the merged
//! measurements after the run. Each yields a named pass/fail with a detail a person can act
//! on; any failure makes the tool exit non-zero.

use std::time::Duration;

use serde::Serialize;

use crate::stats::Recorder;

/// One thing a suite asserts about its run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expectation {
    /// Every planned request was sent and either answered or failed.
    AllSent,
    /// No request failed at the connection or protocol level.
    NoFailures,
    /// Every response had this status.
    AllStatus(u16),
    /// Exactly `ok` 200s and `limited` 429s, and nothing else.
    ExactCounts { ok: u64, limited: u64 },
    /// Every 2xx body passed its request's body check.
    BodiesMatch,
    /// No response came back faster than this (the upstream's deliberate delay).
    MinLatency(Duration),
}

/// The verdict on one expectation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

/// Evaluates every expectation against `recorder` for a run that planned `planned` requests.
pub fn evaluate(
    expectations: &[Expectation],
    recorder: &Recorder,
    planned: u64,
) -> Vec<CheckResult> {
    expectations.iter().map(|e| e.evaluate(recorder, planned)).collect()
}

// === impl Expectation ===

impl Expectation {
    fn evaluate(&self, r: &Recorder, planned: u64) -> CheckResult {
        let (name, passed, detail) = match self {
            Self::AllSent => {
                let done = r.completed() + r.failed();
                let detail = format!("{done} of {planned} requests done, {} unsent", r.unsent);
                ("all requests sent".to_owned(), r.unsent == 0 && done == planned, detail)
            }
            Self::NoFailures => {
                let detail = if r.failed() == 0 {
                    "no connection or protocol failures".to_owned()
                } else {
                    failures(r)
                };
                ("no failures".to_owned(), r.failed() == 0, detail)
            }
            Self::AllStatus(status) => {
                let passed = r.completed() > 0 && r.completed() == r.status(*status);
                (format!("every response is {status}"), passed, statuses(r))
            }
            Self::ExactCounts { ok, limited } => {
                let passed = r.status(200) == *ok
                    && r.status(429) == *limited
                    && r.completed() == ok + limited;
                (format!("exactly {ok} × 200 and {limited} × 429"), passed, statuses(r))
            }
            Self::BodiesMatch => {
                let detail = format!("{} bodies did not match what was sent", r.mismatched);
                ("bodies match".to_owned(), r.mismatched == 0, detail)
            }
            Self::MinLatency(delay) => {
                let min = Duration::from_micros(r.latency.min());
                let passed = !r.latency.is_empty() && min >= *delay;
                let detail = format!("fastest response took {min:?}");
                (format!("no response faster than {delay:?}"), passed, detail)
            }
        };
        CheckResult { name, passed, detail }
    }
}

/// `status × count` for every status seen, e.g. `200 × 98, 429 × 2`.
fn statuses(r: &Recorder) -> String {
    if r.statuses.is_empty() {
        return "no responses".to_owned();
    }
    let parts: Vec<String> = r.statuses.iter().map(|(s, n)| format!("{s} × {n}")).collect();
    parts.join(", ")
}

/// `kind × count (first message)` for every failure kind seen.
fn failures(r: &Recorder) -> String {
    let parts: Vec<String> = r
        .errors
        .iter()
        .map(|(kind, n)| {
            let first = r.first_error.get(kind).map(String::as_str).unwrap_or("");
            format!("{} × {n} (first: {first})", kind.name())
        })
        .collect();
    parts.join(", ")
}

#[cfg(test)]
mod tests;
