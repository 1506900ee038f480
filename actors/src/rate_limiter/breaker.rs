//! The circuit breaker in front of Redis. Pure state driven by the caller's clock, so tests
//! need no Redis.
//!
//! Closed: every decision goes to Redis. It opens after [`CONSECUTIVE_FAILURES`] failures in
//! a row, or when more than half of at least [`MIN_CALLS`] calls within [`WINDOW`] failed.
//! Open: nothing goes to Redis for [`OPEN_FOR`]. Then the next request lets exactly one probe
//! through (half-open); its success closes the breaker, its failure opens it again. There is
//! no timer: probes ride on requests, because on Cloud Run the CPU may be throttled between
//! requests.

use std::time::{Duration, Instant};

/// Failures in a row that open the breaker.
pub const CONSECUTIVE_FAILURES: u32 = 3;
/// Calls within [`WINDOW`] needed before the error ratio counts.
pub const MIN_CALLS: u32 = 20;
/// Window of the error ratio.
pub const WINDOW: Duration = Duration::from_secs(1);
/// How long the breaker stays open before a probe. Shorter than the 2 s the protocol notes
/// suggest, so that Redis decisions resume within 2 s of Redis coming back even when a probe
/// fails just before it does.
pub const OPEN_FOR: Duration = Duration::from_secs(1);

/// The breaker's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Redis is used.
    Closed,
    /// Redis is not used until the instant.
    Open(Instant),
    /// One probe is in flight; others do not use Redis.
    HalfOpen,
}

/// Counts outcomes and says whether the next decision may use Redis.
#[derive(Debug, Clone)]
pub struct Breaker {
    state: BreakerState,
    consecutive: u32,
    window_start: Instant,
    calls: u32,
    failures: u32,
}

impl Breaker {
    /// A breaker waiting for its first probe (the initial connection).
    pub fn half_open(now: Instant) -> Self {
        Self {
            state: BreakerState::HalfOpen,
            consecutive: 0,
            window_start: now,
            calls: 0,
            failures: 0,
        }
    }

    /// The current state.
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// Whether this decision may go to Redis. When open and due, it becomes the probe.
    pub fn allows(&mut self, now: Instant) -> bool {
        match self.state {
            BreakerState::Closed => true,
            BreakerState::Open(until) if now >= until => {
                self.state = BreakerState::HalfOpen;
                true
            }
            BreakerState::Open(_) | BreakerState::HalfOpen => false,
        }
    }

    /// Records a successful call. Returns true if this closed the breaker.
    pub fn success(&mut self, now: Instant) -> bool {
        self.roll(now);
        self.calls += 1;
        self.consecutive = 0;
        let closed = self.state != BreakerState::Closed;
        if closed {
            self.reset(now, BreakerState::Closed);
        }
        closed
    }

    /// Records a failed call. Returns true if this opened the breaker.
    pub fn failure(&mut self, now: Instant) -> bool {
        self.roll(now);
        self.calls += 1;
        self.failures += 1;
        self.consecutive += 1;
        let ratio_tripped = self.calls >= MIN_CALLS && self.failures * 2 > self.calls;
        let open = match self.state {
            BreakerState::Closed => self.consecutive >= CONSECUTIVE_FAILURES || ratio_tripped,
            BreakerState::HalfOpen => true,
            BreakerState::Open(_) => false,
        };
        if open {
            self.reset(now, BreakerState::Open(now + OPEN_FOR));
        }
        open
    }

    fn roll(&mut self, now: Instant) {
        if now.duration_since(self.window_start) >= WINDOW {
            self.window_start = now;
            self.calls = 0;
            self.failures = 0;
        }
    }

    fn reset(&mut self, now: Instant, state: BreakerState) {
        *self = Self { state, consecutive: 0, window_start: now, calls: 0, failures: 0 };
    }
}
