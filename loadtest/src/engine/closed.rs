//! The closed model: every connection sends its next request as soon as the previous one
//! is answered, until the count or the deadline is reached. It finds the saturation
//! throughput; its latencies are service times and hide queueing by design, so fixed-rate
//! latency figures come from the open model. Its count is a cap, not a plan: what the
//! deadline leaves unclaimed is not "unsent" (checks compare what was done with the count).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::Worker;

/// Sends requests as fast as they are answered until `deadline`, or until `count` have been
/// claimed from `claimed`, the counter all connections of the run share.
pub(super) async fn drive(worker: &mut Worker, deadline: Instant, count: u64, claimed: &AtomicU64) {
    while Instant::now() < deadline {
        let index = claimed.fetch_add(1, Ordering::Relaxed);
        if index >= count {
            return;
        }
        worker.send(index, Instant::now()).await;
    }
}
