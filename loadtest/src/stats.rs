//! What a run measured: latencies in an HdrHistogram (microseconds, three significant
//! digits), responses per status, failures per kind and body-check mismatches. Each
//! connection task owns a `Recorder` (no locks on the hot path); they are merged at the end.

use std::collections::BTreeMap;
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::error::{ErrorKind, LoadError, RequestError};

/// The longest latency recorded exactly; longer ones are clamped to it (two minutes).
const MAX_TRACKED_MICROS: u64 = 120_000_000;

/// One task's measurements, and after merging, the run's.
#[derive(Debug, Clone)]
pub struct Recorder {
    /// Latency of every completed request, from its due time (open) or send time (closed).
    pub latency: Histogram<u64>,
    /// How late the generator's own timer woke up for requests whose connection was idle:
    /// a check on the generator, not part of the latency.
    pub lag: Histogram<u64>,
    /// Completed responses per status code.
    pub statuses: BTreeMap<u16, u64>,
    /// Failed requests per kind.
    pub errors: BTreeMap<ErrorKind, u64>,
    /// The first failure message per kind, for the report (never holds request bytes).
    pub first_error: BTreeMap<ErrorKind, String>,
    /// 2xx responses whose body failed the request's body check.
    pub mismatched: u64,
    /// Requests never sent because the run's deadline came first.
    pub unsent: u64,
    /// Response body bytes received.
    pub body_bytes: u64,
}

// === impl Recorder ===

impl Recorder {
    pub fn new() -> Result<Self, LoadError> {
        Ok(Self {
            latency: new_histogram()?,
            lag: new_histogram()?,
            statuses: BTreeMap::new(),
            errors: BTreeMap::new(),
            first_error: BTreeMap::new(),
            mismatched: 0,
            unsent: 0,
            body_bytes: 0,
        })
    }

    /// Records a completed response.
    pub fn response(&mut self, latency: Duration, status: u16, body_bytes: u64, body_ok: bool) {
        self.latency.saturating_record(micros(latency));
        *self.statuses.entry(status).or_default() += 1;
        self.body_bytes += body_bytes;
        if !body_ok {
            self.mismatched += 1;
        }
    }

    /// Records a failed request.
    pub fn failure(&mut self, err: RequestError) {
        *self.errors.entry(err.kind).or_default() += 1;
        self.first_error.entry(err.kind).or_insert(err.detail);
    }

    /// Records how late the timer woke for a request due at an idle connection.
    pub fn timer_lag(&mut self, lag: Duration) {
        self.lag.saturating_record(micros(lag));
    }

    /// Adds `other`'s measurements to this one.
    pub fn merge(&mut self, other: &Self) {
        // Both histograms have the same bounds, so adding cannot fail.
        let _ = self.latency.add(&other.latency);
        let _ = self.lag.add(&other.lag);
        for (status, count) in &other.statuses {
            *self.statuses.entry(*status).or_default() += count;
        }
        for (kind, count) in &other.errors {
            *self.errors.entry(*kind).or_default() += count;
        }
        for (kind, detail) in &other.first_error {
            self.first_error.entry(*kind).or_insert_with(|| detail.clone());
        }
        self.mismatched += other.mismatched;
        self.unsent += other.unsent;
        self.body_bytes += other.body_bytes;
    }

    /// Completed responses, whatever their status.
    pub fn completed(&self) -> u64 {
        self.statuses.values().sum()
    }

    /// Failed requests, whatever the kind.
    pub fn failed(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Responses with status `status`.
    pub fn status(&self, status: u16) -> u64 {
        self.statuses.get(&status).copied().unwrap_or(0)
    }
}

fn new_histogram() -> Result<Histogram<u64>, LoadError> {
    Histogram::new_with_bounds(1, MAX_TRACKED_MICROS, 3)
        .map_err(|err| LoadError::Internal(format!("histogram: {err:?}")))
}

fn micros(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros()).unwrap_or(u64::MAX).clamp(1, MAX_TRACKED_MICROS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_counts_and_histograms() {
        let mut a = Recorder::new().expect("test step");
        a.response(Duration::from_micros(100), 200, 10, true);
        a.response(Duration::from_millis(5), 429, 0, true);
        a.failure(RequestError::new(ErrorKind::Timeout, "slow"));
        let mut b = Recorder::new().expect("test step");
        b.response(Duration::from_micros(300), 200, 5, false);
        b.failure(RequestError::new(ErrorKind::Timeout, "later"));
        b.unsent = 2;
        a.merge(&b);
        assert_eq!(a.completed(), 3);
        assert_eq!(a.status(200), 2);
        assert_eq!(a.status(429), 1);
        assert_eq!(a.failed(), 2);
        assert_eq!(a.first_error[&ErrorKind::Timeout], "slow");
        assert_eq!((a.mismatched, a.unsent, a.body_bytes), (1, 2, 15));
        assert_eq!(a.latency.len(), 3);
        assert!(a.latency.max() >= 4_990);
        assert!(a.latency.min() <= 100);
    }

    #[test]
    fn huge_latencies_are_clamped_not_lost() {
        let mut recorder = Recorder::new().expect("test step");
        recorder.response(Duration::from_secs(3600), 200, 0, true);
        recorder.response(Duration::ZERO, 200, 0, true);
        assert_eq!(recorder.latency.len(), 2);
        assert!(recorder.latency.max() >= MAX_TRACKED_MICROS - MAX_TRACKED_MICROS / 1000);
    }
}
