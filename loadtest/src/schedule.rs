//! When each request of an open-model run is due. The open model fixes arrival times in
//! advance, independent of how fast responses come back: latency is then measured from a
//! request's due time, so a stalled server shows up as queued requests with long latencies
//! instead of silently lowering the send rate (the "coordinated omission" a closed loop has).

use std::time::Duration;

use serde::Serialize;

/// An arrival-rate profile over the run's duration.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Schedule {
    /// `rate` requests per second throughout.
    Constant { rate: f64 },
    /// The rate changes linearly from `from` to `to` requests per second over `over`.
    Ramp {
        from: f64,
        to: f64,
        #[serde(with = "millis")]
        over: Duration,
    },
}

// === impl Schedule ===

impl Schedule {
    /// The due time of request `index` (0-based), relative to the start of the run.
    pub fn offset(&self, index: u64) -> Duration {
        let index = index as f64;
        let seconds = match *self {
            Self::Constant { rate } => index / rate,
            Self::Ramp { from, to, over } => {
                // Requests due by time t: n(t) = from·t + a·t², a = (to − from) / 2T.
                // Solved for t in the form that stays exact when a is 0 or negative.
                let a = (to - from) / (2.0 * over.as_secs_f64());
                if index == 0.0 {
                    0.0
                } else {
                    let root = (from * from + 4.0 * a * index).max(0.0).sqrt();
                    2.0 * index / (from + root)
                }
            }
        };
        Duration::from_secs_f64(seconds.max(0.0))
    }

    /// How many requests fall due within `duration` (at least one).
    pub fn count_within(&self, duration: Duration) -> u64 {
        let seconds = duration.as_secs_f64();
        let count = match *self {
            Self::Constant { rate } => rate * seconds,
            Self::Ramp { from, to, over } => {
                let t = seconds.min(over.as_secs_f64());
                let a = (to - from) / (2.0 * over.as_secs_f64());
                from * t + a * t * t
            }
        };
        (count.floor() as u64).max(1)
    }

    /// The highest rate the profile reaches, in requests per second.
    pub fn peak_rate(&self) -> f64 {
        match *self {
            Self::Constant { rate } => rate,
            Self::Ramp { from, to, .. } => from.max(to),
        }
    }
}

/// Serialises a duration as whole milliseconds.
mod millis {
    use std::time::Duration;

    pub(super) fn serialize<S: serde::Serializer>(
        value: &Duration,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(value.as_millis()).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Duration, b: f64) -> bool {
        (a.as_secs_f64() - b).abs() < 1e-9
    }

    #[test]
    fn constant_rate_spaces_requests_evenly() {
        let schedule = Schedule::Constant { rate: 1000.0 };
        assert!(close(schedule.offset(0), 0.0));
        assert!(close(schedule.offset(1), 0.001));
        assert!(close(schedule.offset(2500), 2.5));
        assert_eq!(schedule.count_within(Duration::from_secs(3)), 3000);
        assert_eq!(Schedule::Constant { rate: 0.1 }.count_within(Duration::from_secs(1)), 1);
    }

    #[test]
    fn ramp_accelerates_and_matches_its_count() {
        let over = Duration::from_secs(10);
        let schedule = Schedule::Ramp { from: 100.0, to: 300.0, over };
        // 100·10 + 10·10² = 2000 requests in 10 s.
        let total = schedule.count_within(over);
        assert_eq!(total, 2000);
        assert!(close(schedule.offset(total), 10.0));
        // The gaps shrink from 1/100 s towards 1/300 s.
        let first = schedule.offset(1) - schedule.offset(0);
        let last = schedule.offset(total) - schedule.offset(total - 1);
        assert!((first.as_secs_f64() - 0.01).abs() < 1e-4, "{first:?}");
        assert!((last.as_secs_f64() - 1.0 / 300.0).abs() < 1e-4, "{last:?}");
        for index in 1..total {
            assert!(schedule.offset(index) > schedule.offset(index - 1));
        }
    }

    #[test]
    fn ramp_down_and_from_zero_stay_finite() {
        let over = Duration::from_secs(4);
        let down = Schedule::Ramp { from: 400.0, to: 100.0, over };
        let total = down.count_within(over);
        assert_eq!(total, 1000);
        assert!(close(down.offset(total), 4.0));
        let up = Schedule::Ramp { from: 0.0, to: 100.0, over };
        assert_eq!(up.offset(0), Duration::ZERO);
        assert!(close(up.offset(200), 4.0));
        assert_eq!(up.peak_rate(), 100.0);
    }
}
