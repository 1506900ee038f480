//! The embedded store: the same arithmetic as the Lua script, in this process. Used when no
//! Redis is configured (full limits per instance) and as the `local` fallback while Redis is
//! unavailable (this instance's share of each limit).
//!
//! Memory is bounded by the keys active within the last refill period: a key whose bucket is
//! full again, or whose quota window has ended, holds nothing a new key would not, and is
//! evicted by a sweep run on the request path (no background timer: on Cloud Run the CPU may
//! be throttled between requests). The sweep runs once the decisions since the last sweep
//! reach the table's size after the previous sweep (at least [`SWEEP_EVERY`]), so its cost
//! stays constant per decision.

use std::collections::HashMap;
use std::future::{Future, ready};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::algorithm::{MICROS, RateRule, Rule};
use super::error::StoreError;
use super::store::{Check, Reply, Store};

/// Fewest decisions between two sweeps.
pub const SWEEP_EVERY: usize = 4096;

/// What one key holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// A rate policy's TAT, µs.
    Tat(u64),
    /// A quota policy's window (start and end, seconds) and count.
    Count { start: u64, end: u64, count: u64 },
}

/// In-process bucket state, keyed by policy name and hashed counter key.
#[derive(Debug, Default)]
pub struct EmbeddedStore {
    slots: HashMap<(Arc<str>, String), Slot>,
    since_sweep: usize,
    /// Decisions before the next sweep: the table's size after the last one, at least
    /// [`SWEEP_EVERY`]. The table thus never holds more than about twice the active keys.
    sweep_after: usize,
}

impl EmbeddedStore {
    /// Decides `checks` at `now_us`: every check admits or nothing is written.
    pub fn decide_at(&mut self, checks: &[Check], now_us: u64) -> Reply {
        self.since_sweep += 1;
        if self.since_sweep >= self.sweep_after.max(SWEEP_EVERY) {
            self.sweep(now_us);
        }
        let mut values = Vec::with_capacity(checks.len());
        let mut planned = Vec::with_capacity(checks.len());
        let mut admitted = true;
        for check in checks {
            let stored = self.slots.get(&(check.policy.clone(), check.key_hash.clone())).copied();
            let (value, next) = match &check.rule {
                Rule::Rate(rule) => {
                    let stored = match stored {
                        Some(Slot::Tat(tat)) => Some(tat),
                        _ => None,
                    };
                    let base = RateRule::base(stored, now_us);
                    admitted &= rule.admits(base, now_us);
                    (base, Slot::Tat(rule.next(base)))
                }
                Rule::Quota(rule) => {
                    let stored = match stored {
                        Some(Slot::Count { start, count, .. }) => Some((start, count)),
                        _ => None,
                    };
                    let count = rule.current(stored, now_us);
                    admitted &= rule.admits(count);
                    let (start, end) = rule.window.bounds(now_us);
                    (count, Slot::Count { start, end, count: count + rule.cost })
                }
            };
            values.push(value);
            planned.push(next);
        }
        if admitted {
            values.clear();
            for (check, slot) in checks.iter().zip(planned) {
                values.push(match slot {
                    Slot::Tat(tat) => tat,
                    Slot::Count { count, .. } => count,
                });
                self.slots.insert((check.policy.clone(), check.key_hash.clone()), slot);
            }
        }
        Reply { now_us, admitted, values }
    }

    /// Keys currently held.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether no key is held.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// Drops every key that is indistinguishable from an absent one at `now_us`.
    pub fn sweep(&mut self, now_us: u64) {
        self.since_sweep = 0;
        self.slots.retain(|_, slot| match *slot {
            Slot::Tat(tat) => tat > now_us,
            Slot::Count { end, .. } => end.saturating_mul(MICROS) > now_us,
        });
        if self.slots.capacity() > 2 * self.slots.len() + SWEEP_EVERY {
            self.slots.shrink_to_fit();
        }
        self.sweep_after = self.slots.len();
    }
}

impl Store for EmbeddedStore {
    fn decide(
        &mut self,
        checks: &[Check],
        now_override: Option<u64>,
    ) -> impl Future<Output = Result<Reply, StoreError>> + Send + 'static {
        ready(Ok(self.decide_at(checks, now_override.unwrap_or_else(wall_clock_us))))
    }
}

/// This machine's clock in µs since the epoch; 0 if it is set before 1970.
pub fn wall_clock_us() -> u64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    u64::try_from(since.as_micros()).unwrap_or(u64::MAX)
}
