//! RFC 3339 timestamps for `--since` / `--until`, with numeric offsets (which humantime's
//! parser does not take), converted to nanoseconds since the Unix epoch.

use super::QueryError;

/// Parses `2024-05-01T12:00:00Z`, `2024-05-01T14:00:00.250+02:00` and the like.
pub fn parse_rfc3339(text: &str) -> Result<u64, QueryError> {
    let bad = || QueryError::Time { value: text.to_owned() };
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return Err(bad());
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return Err(bad());
    }
    let num = |range: std::ops::Range<usize>| -> Result<i64, QueryError> {
        let s = text.get(range).ok_or_else(bad)?;
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse().map_err(|_| bad())
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err(bad());
    }
    if hour > 23 || minute > 59 || second > 60 {
        return Err(bad());
    }
    let mut rest = &text[19..];
    let mut nanos: i64 = 0;
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad());
        }
        let kept = &frac[..digits.min(9)];
        nanos = kept.parse::<i64>().map_err(|_| bad())? * 10_i64.pow(9 - kept.len() as u32);
        rest = &frac[digits..];
    }
    let offset = match rest.as_bytes() {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2]
            if [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()) =>
        {
            let (h, m) = (
                i64::from(h1 - b'0') * 10 + i64::from(h2 - b'0'),
                i64::from(m1 - b'0') * 10 + i64::from(m2 - b'0'),
            );
            if h > 23 || m > 59 {
                return Err(bad());
            }
            if *sign == b'-' { -(h * 3600 + m * 60) } else { h * 3600 + m * 60 }
        }
        _ => return Err(bad()),
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    let total = i128::from(secs) * 1_000_000_000 + i128::from(nanos);
    u64::try_from(total).map_err(|_| bad())
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's civil algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Formats nanoseconds since the epoch as RFC 3339 UTC with milliseconds.
pub fn format_rfc3339(nanos: u64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(nanos);
    humantime::format_rfc3339_millis(time).to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failed unwrap is a failed test.
mod tests {
    use super::*;

    #[test]
    fn parses_utc_offsets_and_fractions() {
        let base = parse_rfc3339("2023-11-14T22:13:20Z").unwrap();
        assert_eq!(base, 1_700_000_000 * 1_000_000_000);
        assert_eq!(parse_rfc3339("2023-11-15T00:13:20+02:00").unwrap(), base);
        assert_eq!(parse_rfc3339("2023-11-14t21:13:20.5-01:00").unwrap(), base + 500_000_000);
        assert_eq!(
            parse_rfc3339("2024-02-29T00:00:00.123456789123Z").unwrap() % 1_000_000_000,
            123_456_789
        );
        assert_eq!(format_rfc3339(base + 3_000_000), "2023-11-14T22:13:20.003Z");
    }

    #[test]
    fn rejects_what_is_not_rfc_3339() {
        for text in [
            "2023-11-14",
            "2023-02-29T00:00:00Z",
            "2023-11-14T22:13:20",
            "2023-13-01T00:00:00Z",
            "2023-11-14T22:13:20+0200",
            "yesterday",
            "2023-11-14T22:13:20.Z",
            "1960-01-01T00:00:00Z",
        ] {
            let err = parse_rfc3339(text).unwrap_err().to_string();
            assert!(err.contains(text), "{err}");
        }
    }
}
