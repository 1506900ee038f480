//! The limiter's arithmetic, free of I/O and clocks: GCRA for `rate` policies and calendar
//! windows for `quota` policies.
//!
//! The Lua script in `redis.rs` implements exactly these rules; the embedded store calls them
//! directly. Both return the same raw values (a TAT or a count) and the headers are derived
//! from those values here, so the two stores can only disagree if the arithmetic does.
//! All times are integer microseconds since the Unix epoch.

/// Microseconds in a second.
pub const MICROS: u64 = 1_000_000;

/// A `rate` policy in GCRA terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateRule {
    /// T: the period divided by the limit, at least 1 µs.
    pub emission_us: u64,
    /// B: how many units may be taken at once.
    pub burst: u64,
    /// Units one request takes.
    pub cost: u64,
}

/// Calendar window of a `quota` policy, aligned to UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuotaWindow {
    /// From hh:00:00 to the next hour.
    Hour,
    /// From 00:00:00 to the next midnight.
    Day,
    /// From the first of the month to the first of the next.
    Month,
}

/// A `quota` policy: a counter per calendar window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaRule {
    /// Units allowed per window.
    pub limit: u64,
    /// Units one request takes.
    pub cost: u64,
    /// The calendar window.
    pub window: QuotaWindow,
}

/// How one policy is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// GCRA.
    Rate(RateRule),
    /// Calendar-window counter.
    Quota(QuotaRule),
}

impl RateRule {
    /// B·T: how far the TAT may run ahead of now.
    pub fn tolerance(&self) -> u64 {
        self.burst.saturating_mul(self.emission_us)
    }

    /// The TAT before this request: the stored one, or now if the bucket is full.
    pub fn base(stored_tat: Option<u64>, now: u64) -> u64 {
        stored_tat.map_or(now, |tat| tat.max(now))
    }

    /// The TAT after admitting this request from `base`.
    pub fn next(&self, base: u64) -> u64 {
        base.saturating_add(self.cost.saturating_mul(self.emission_us))
    }

    /// Whether a request arriving at `now` on a bucket at `base` fits.
    pub fn admits(&self, base: u64, now: u64) -> bool {
        self.next(base) - now <= self.tolerance()
    }
}

impl QuotaWindow {
    /// Code passed to the Lua script.
    pub fn code(self) -> &'static str {
        match self {
            Self::Hour => "h",
            Self::Day => "d",
            Self::Month => "m",
        }
    }

    /// The window containing `now_us`, as `[start, end)` in whole seconds.
    pub fn bounds(self, now_us: u64) -> (u64, u64) {
        let now = now_us / MICROS;
        match self {
            Self::Hour => (now - now % 3600, now - now % 3600 + 3600),
            Self::Day => (now - now % 86_400, now - now % 86_400 + 86_400),
            Self::Month => {
                let (year, month) = civil_month(now / 86_400);
                let next = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
                (days_from_civil(year, month) * 86_400, days_from_civil(next.0, next.1) * 86_400)
            }
        }
    }
}

impl QuotaRule {
    /// The count in the current window, given what the store holds (`window start, count`).
    pub fn current(&self, stored: Option<(u64, u64)>, now: u64) -> u64 {
        let (start, _) = self.window.bounds(now);
        match stored {
            Some((stored_start, count)) if stored_start == start => count,
            _ => 0,
        }
    }

    /// Whether `cost` more units fit after `count`.
    pub fn admits(&self, count: u64) -> bool {
        count.saturating_add(self.cost) <= self.limit
    }
}

/// Days since the epoch of the first day of `month` (1–12) in `year`; years ≥ 1970.
fn days_from_civil(year: u64, month: u64) -> u64 {
    // Years start in March so that the leap day ends the year.
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Year and month (1–12) of the day `days` since the epoch.
fn civil_month(days: u64) -> (u64, u64) {
    let shifted = days + 719_468;
    let era = shifted / 146_097;
    let day_of_era = shifted - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month)
}

/// Whole seconds, rounded up, so that a wait is never reported shorter than it is.
pub fn ceil_secs(micros: u64) -> u64 {
    micros.div_ceil(MICROS)
}

/// What one policy said about one request, ready for the headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemVerdict {
    /// Whether this policy alone would admit the request.
    pub admits: bool,
    /// Units left (`r`).
    pub remaining: u64,
    /// Seconds until more quota is available (`t`); the wait when it does not admit.
    pub reset_secs: u64,
}

/// The verdict of one policy from the raw value the store returned: the TAT (after the request
/// if the request was admitted as a whole, else before it) or the window's count (likewise).
pub fn verdict(rule: &Rule, value: u64, now: u64, admitted: bool) -> ItemVerdict {
    match rule {
        Rule::Rate(rate) => rate_verdict(rate, value, now, admitted),
        Rule::Quota(quota) => quota_verdict(quota, value, now, admitted),
    }
}

fn rate_verdict(rule: &RateRule, tat: u64, now: u64, admitted: bool) -> ItemVerdict {
    let admits = admitted || rule.admits(tat, now);
    if !admits {
        let wait = rule.next(tat) - rule.tolerance() - now;
        return ItemVerdict { admits, remaining: 0, reset_secs: ceil_secs(wait) };
    }
    let ahead = tat.saturating_sub(now);
    let emission = rule.emission_us.max(1);
    let remaining = rule.tolerance().saturating_sub(ahead) / emission;
    // Time until the oldest unit in use frees up: what is left of the current emission slot.
    let reset = match ahead {
        0 => 0,
        _ => ahead - (ahead.div_ceil(emission) - 1) * emission,
    };
    ItemVerdict { admits, remaining, reset_secs: ceil_secs(reset) }
}

fn quota_verdict(rule: &QuotaRule, count: u64, now: u64, admitted: bool) -> ItemVerdict {
    let (_, end) = rule.window.bounds(now);
    let reset_secs = ceil_secs((end * MICROS).saturating_sub(now));
    let admits = admitted || rule.admits(count);
    let remaining = if admits { rule.limit.saturating_sub(count) } else { 0 };
    ItemVerdict { admits, remaining, reset_secs }
}
