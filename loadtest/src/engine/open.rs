//! The open model: request `i` is due at `start + schedule.offset(i)`, and lane `c` of `C`
//! connections carries requests `c, c + C, c + 2C, …` (as wrk2 does). A request whose
//! connection is still busy at its due time waits, and that wait is part of its latency:
//! a stall shows as the queue it causes. When the connection was idle, the request goes out
//! when the timer wakes, and how late the timer was is recorded apart, as generator lag.
//!
//! Shortcoming: requests are not moved from a stalled connection to an idle one, so one slow
//! connection delays only its own lane; a real client population would spread the wait.

use std::time::Instant;

use super::Worker;
use crate::schedule::Schedule;

/// Sends lane `lane`'s share of `count` requests at their due times.
pub(super) async fn drive(
    worker: &mut Worker,
    start: Instant,
    schedule: Schedule,
    count: u64,
    lane: usize,
    lanes: usize,
) {
    let lanes = lanes as u64;
    // No request starts after its due time plus one timeout: a run that has fallen that far
    // behind is stopped, and what it did not send is counted as unsent.
    let timeout = worker.load.timeout;
    let mut index = lane as u64;
    while index < count {
        let due = start + schedule.offset(index);
        let now = Instant::now();
        if now > due + timeout {
            worker.recorder.unsent += lane_remaining(index, count, lanes);
            return;
        }
        let begin = if now < due {
            tokio::time::sleep_until(due.into()).await;
            let woke = Instant::now();
            worker.recorder.timer_lag(woke - due);
            woke
        } else {
            due
        };
        worker.send(index, begin).await;
        index += lanes;
    }
}

/// How many of `index, index + lanes, …` are below `count`.
pub(super) fn lane_remaining(index: u64, count: u64, lanes: u64) -> u64 {
    if index >= count { 0 } else { (count - index).div_ceil(lanes) }
}

#[cfg(test)]
mod tests {
    use super::lane_remaining;

    #[test]
    fn counts_a_lane_tail() {
        assert_eq!(lane_remaining(0, 10, 3), 4); // 0 3 6 9
        assert_eq!(lane_remaining(7, 10, 3), 1); // 7
        assert_eq!(lane_remaining(10, 10, 3), 0);
        assert_eq!(lane_remaining(2, 10, 1), 8);
    }
}
