//! When to refresh a token and how long to wait after a failure: pure arithmetic, tested
//! without an actor system. Randomness comes in as a fraction in `[0, 1)` so tests can pin it.

use std::time::Duration;

/// Refresh no later than this long before `exp`.
const REFRESH_BEFORE_EXPIRY: Duration = Duration::from_secs(300);
/// Stop handing a token out at most this long before `exp`, so it survives the trip upstream.
const MAX_USABLE_MARGIN: Duration = Duration::from_secs(30);

/// How long after minting to mint again, for a token with `lifetime` left.
///
/// At 80% of the lifetime or 5 minutes before `exp`, whichever comes first, minus up to 5%
/// of the lifetime of jitter so that many instances do not refresh in step. A short-lived
/// token (under about 10 minutes) would hit "5 minutes before `exp`" at once, so the delay
/// never drops below 40% of the lifetime: such tokens are refreshed about halfway.
pub(crate) fn refresh_delay(lifetime: Duration, jitter: f64) -> Duration {
    let at_80 = lifetime.mul_f64(0.8);
    let before_exp = lifetime.saturating_sub(REFRESH_BEFORE_EXPIRY);
    let floor = lifetime.mul_f64(0.4);
    let target = at_80.min(before_exp).max(floor.mul_f64(1.25));
    let jitter = lifetime.mul_f64(0.05 * jitter.clamp(0.0, 1.0));
    target.saturating_sub(jitter).max(floor)
}

/// How long before `exp` a token stops being handed out: a tenth of its lifetime, at most
/// 30 seconds. The refresh (at most 80% through) always lands before this point.
pub(crate) fn usable_margin(lifetime: Duration) -> Duration {
    (lifetime / 10).min(MAX_USABLE_MARGIN)
}

/// The wait before attempt `failures + 1`: `base` doubled per consecutive failure, capped at
/// `max`, with "equal jitter" (half fixed, half random) so retries of many instances spread.
pub(crate) fn backoff(failures: u32, base: Duration, max: Duration, jitter: f64) -> Duration {
    let exponent = failures.saturating_sub(1).min(20);
    let full = base.saturating_mul(1 << exponent).min(max);
    full / 2 + (full / 2).mul_f64(jitter.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn an_hour_token_refreshes_at_80_percent() {
        assert_eq!(refresh_delay(HOUR, 0.0), Duration::from_secs(2880));
        // Jitter only ever moves the refresh earlier, by at most 5% of the lifetime.
        assert_eq!(refresh_delay(HOUR, 1.0), Duration::from_secs(2880 - 180));
    }

    #[test]
    fn a_ten_minute_token_refreshes_five_minutes_before_exp() {
        let lifetime = Duration::from_secs(900);
        assert_eq!(refresh_delay(lifetime, 0.0), Duration::from_secs(600));
    }

    #[test]
    fn a_short_token_refreshes_about_halfway_and_before_it_stops_being_usable() {
        for secs in [2, 6, 60, 299, 400] {
            let lifetime = Duration::from_secs(secs);
            for jitter in [0.0, 0.5, 0.999] {
                let delay = refresh_delay(lifetime, jitter);
                assert!(delay >= lifetime.mul_f64(0.4), "{secs}s: {delay:?}");
                assert!(delay <= lifetime.saturating_sub(usable_margin(lifetime)));
            }
        }
    }

    #[test]
    fn margin_is_a_tenth_capped_at_30_seconds() {
        assert_eq!(usable_margin(Duration::from_secs(10)), Duration::from_secs(1));
        assert_eq!(usable_margin(HOUR), Duration::from_secs(30));
    }

    #[test]
    fn backoff_doubles_and_caps_with_equal_jitter() {
        let (base, max) = (Duration::from_secs(1), Duration::from_secs(60));
        assert_eq!(backoff(1, base, max, 0.0), Duration::from_millis(500));
        assert_eq!(backoff(1, base, max, 1.0), Duration::from_secs(1));
        assert_eq!(backoff(3, base, max, 1.0), Duration::from_secs(4));
        assert_eq!(backoff(30, base, max, 1.0), max);
        assert_eq!(backoff(u32::MAX, base, max, 0.0), max / 2);
    }
}
