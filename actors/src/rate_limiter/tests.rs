//! Unit tests of the pure parts: arithmetic against a fixed clock, fields, keys, breaker,
//! outcomes and the embedded store's eviction.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use skybridge_shared::config::{PolicyConfig, PolicyKind, StoreFailure};

use super::algorithm::{MICROS, QuotaWindow, Rule};
use super::breaker::{Breaker, BreakerState, OPEN_FOR};
use super::embedded::{EmbeddedStore, SWEEP_EVERY};
use super::headers::{PolicyItem, StateItem, policy_field, state_field};
use super::key::{KeySource, counter_key, extract_key, key_hash};
use super::messages::{DecisionSource, DenialKind, LimitOutcome};
use super::policy::{PolicySpec, outcome};
use super::store::Check;

/// 2024-02-15T10:20:30Z in µs.
const T0: u64 = 1_707_992_430 * MICROS;

fn policy(name: &str, kind: PolicyKind, limit: u64, period_secs: u64) -> PolicySpec {
    let config = PolicyConfig {
        name: name.to_owned(),
        kind,
        limit,
        period: Duration::from_secs(period_secs),
        burst: None,
        cost: 1,
        key: "route".to_owned(),
        on_store_failure: StoreFailure::Local,
    };
    PolicySpec::from_config(&config).expect("valid policy")
}

fn decide(store: &mut EmbeddedStore, specs: &[&PolicySpec], key: &str, now: u64) -> LimitOutcome {
    let checks: Vec<Check> = specs
        .iter()
        .map(|s| Check { policy: s.name.clone(), key_hash: key_hash(key), rule: s.rule() })
        .collect();
    let reply = store.decide_at(&checks, now);
    let decided: Vec<(&PolicySpec, Rule)> = specs.iter().map(|s| (*s, s.rule())).collect();
    outcome(&decided, &[], &reply, DecisionSource::Embedded)
}

#[test]
fn ten_per_minute_admits_the_burst_then_waits_one_interval() {
    let spec = policy("per-key", PolicyKind::Rate, 10, 60);
    let mut store = EmbeddedStore::default();
    let first = decide(&mut store, &[&spec], "a", T0);
    assert_eq!(first.denial, None);
    assert_eq!(first.policy_header.as_deref(), Some("\"per-key\";q=10;w=60"));
    assert_eq!(first.ratelimit_header.as_deref(), Some("\"per-key\";r=9;t=6"));
    assert_eq!(first.remaining, Some(9));
    for i in 1..10 {
        assert_eq!(decide(&mut store, &[&spec], "a", T0 + i * 1000).denial, None, "request {i}");
    }
    // 500 ms later the 11th waits 6 s - 0.5 s = 5.5 s: reported as 6, never 5.
    let denied = decide(&mut store, &[&spec], "a", T0 + 500_000);
    let denial = denied.denial.expect("denied");
    assert_eq!(denial.kind, DenialKind::RateLimited);
    assert_eq!(denial.retry_after_secs, 6);
    assert_eq!(denial.violated_policies, vec!["per-key".to_owned()]);
    assert_eq!(denied.ratelimit_header.as_deref(), Some("\"per-key\";r=0;t=6"));
    // Another key is independent.
    assert_eq!(decide(&mut store, &[&spec], "b", T0 + 500_000).denial, None);
}

#[test]
fn forty_requests_over_half_a_second_pass_fourteen_at_the_expected_indices() {
    // The protocol notes' worked example: 10 per 1 s, burst 10, one request every 12.5 ms.
    let spec = policy("per-sec", PolicyKind::Rate, 10, 1);
    let mut store = EmbeddedStore::default();
    let passed: Vec<u64> = (0..40)
        .filter(|i| decide(&mut store, &[&spec], "k", T0 + i * 12_500).denial.is_none())
        .collect();
    assert_eq!(passed, vec![0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16, 24, 32]);
}

#[test]
fn a_denied_request_consumes_nothing_in_any_policy() {
    let loose = policy("loose", PolicyKind::Rate, 100, 60);
    let tight = policy("tight", PolicyKind::Rate, 1, 60);
    let mut store = EmbeddedStore::default();
    assert_eq!(decide(&mut store, &[&loose, &tight], "k", T0).denial, None);
    let denied = decide(&mut store, &[&loose, &tight], "k", T0 + 1);
    assert_eq!(denied.denial.expect("denied").violated_policies, vec!["tight".to_owned()]);
    // `loose` still shows 99 left: the denied request took nothing from it.
    let header = denied.ratelimit_header.expect("header");
    assert!(header.starts_with("\"loose\";r=99;"), "{header}");
    assert!(header.ends_with("\"tight\";r=0;t=60"), "{header}");
}

#[test]
fn hourly_quota_refuses_with_403_until_the_window_ends_then_resets() {
    let spec = policy("hourly", PolicyKind::Quota, 3, 3600);
    let mut store = EmbeddedStore::default();
    for _ in 0..3 {
        assert_eq!(decide(&mut store, &[&spec], "k", T0).denial, None);
    }
    let denied = decide(&mut store, &[&spec], "k", T0);
    let denial = denied.denial.expect("denied");
    assert_eq!(denial.kind, DenialKind::QuotaExceeded);
    // 10:20:30 → 11:00:00 is 39 min 30 s.
    assert_eq!(denial.retry_after_secs, 39 * 60 + 30);
    assert_eq!(denied.policy_header.as_deref(), Some("\"hourly\";q=3;w=3600"));
    let next_hour = T0 + (39 * 60 + 30) * MICROS;
    let fresh = decide(&mut store, &[&spec], "k", next_hour);
    assert_eq!(fresh.denial, None);
    assert_eq!(fresh.ratelimit_header.as_deref(), Some("\"hourly\";r=2;t=3600"));
}

#[test]
fn quota_and_rate_both_refusing_answer_with_the_quota() {
    let rate = policy("rate", PolicyKind::Rate, 1, 60);
    let quota = policy("daily", PolicyKind::Quota, 1, 86_400);
    let mut store = EmbeddedStore::default();
    assert_eq!(decide(&mut store, &[&rate, &quota], "k", T0).denial, None);
    let denial = decide(&mut store, &[&rate, &quota], "k", T0).denial.expect("denied");
    assert_eq!(denial.kind, DenialKind::QuotaExceeded);
    assert_eq!(denial.violated_policies, vec!["rate".to_owned(), "daily".to_owned()]);
    // Midnight is 13 h 39 min 30 s away; the longer wait wins.
    assert_eq!(denial.retry_after_secs, 13 * 3600 + 39 * 60 + 30);
}

#[test]
fn calendar_windows_align_to_utc_hours_days_and_months() {
    assert_eq!(QuotaWindow::Hour.bounds(T0), (1_707_991_200, 1_707_994_800));
    assert_eq!(QuotaWindow::Day.bounds(T0), (1_707_955_200, 1_708_041_600));
    // February 2024 (a leap year): 1 Feb to 1 Mar.
    assert_eq!(QuotaWindow::Month.bounds(T0), (1_706_745_600, 1_709_251_200));
    // 31 Dec 2023 23:59:59 → December, ending 1 Jan 2024.
    assert_eq!(QuotaWindow::Month.bounds(1_704_067_199 * MICROS), (1_701_388_800, 1_704_067_200));
    assert_eq!(QuotaWindow::Month.bounds(1_704_067_200 * MICROS).0, 1_704_067_200);
}

#[test]
fn local_share_divides_limit_and_burst_rounding_up() {
    let spec = policy("p", PolicyKind::Rate, 10, 60);
    match spec.shared_by(3) {
        Rule::Rate(rule) => {
            assert_eq!(rule.burst, 4);
            assert_eq!(rule.emission_us, 15 * MICROS);
        }
        Rule::Quota(_) => panic!("a rate policy stays a rate"),
    }
    assert_eq!(spec.shared_by(0), spec.rule());
    let quota = policy("q", PolicyKind::Quota, 10, 86_400);
    assert!(matches!(quota.shared_by(4), Rule::Quota(q) if q.limit == 3));
}

#[test]
fn fields_quote_names_and_list_every_policy() {
    let policies = [
        PolicyItem { name: "per-sec", quota: 10, window_secs: Some(1) },
        PolicyItem { name: "we\"ird\\", quota: 5, window_secs: None },
    ];
    assert_eq!(
        policy_field(&policies).as_deref(),
        Some("\"per-sec\";q=10;w=1, \"we\\\"ird\\\\\";q=5")
    );
    let states = [
        StateItem { name: "per-sec", remaining: 0, reset_secs: 1 },
        StateItem { name: "per-min", remaining: 95, reset_secs: 1 },
    ];
    assert_eq!(state_field(&states).as_deref(), Some("\"per-sec\";r=0;t=1, \"per-min\";r=95;t=1"));
    assert_eq!(policy_field(&[]), None);
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("ip")
}

#[test]
fn keys_come_from_claims_headers_route_and_the_right_client_ip() {
    let claims = json!({"azp": "app-1", "n": 7, "empty": ""});
    let claims = claims.as_object().expect("object");
    let header = |name: &str| (name.eq_ignore_ascii_case("x-api-key")).then_some(" k1 ");
    let trusted = [ip("10.0.0.1"), ip("10.0.0.2")];
    let source = KeySource {
        claims: Some(claims),
        header: &header,
        peer: ip("10.0.0.1"),
        forwarded_for: Some("6.6.6.6, 203.0.113.9, 10.0.0.2"),
        trusted_proxies: &trusted,
        route: "orders",
    };
    assert_eq!(extract_key("claim:azp", &source).as_deref(), Some("app-1"));
    assert_eq!(extract_key("claim:n", &source).as_deref(), Some("7"));
    assert_eq!(extract_key("claim:empty", &source), None);
    assert_eq!(extract_key("header:X-Api-Key", &source).as_deref(), Some("k1"));
    assert_eq!(extract_key("route", &source).as_deref(), Some("orders"));
    // Right to left, skipping trusted proxies: the forged 6.6.6.6 is never reached.
    assert_eq!(extract_key("client_ip", &source).as_deref(), Some("203.0.113.9"));
    // Absent claim: counted per client IP, tagged apart from any header value.
    assert_eq!(counter_key("claim:missing", &source), "ip:203.0.113.9");
    assert_eq!(counter_key("header:x-api-key", &source), "v:k1");

    let untrusted_peer = KeySource { peer: ip("192.0.2.7"), ..source };
    assert_eq!(extract_key("client_ip", &untrusted_peer).as_deref(), Some("192.0.2.7"));
    let garbage = KeySource { forwarded_for: Some("nonsense, 10.0.0.2"), ..untrusted_peer };
    let garbage = KeySource { peer: ip("10.0.0.1"), ..garbage };
    assert_eq!(extract_key("client_ip", &garbage).as_deref(), Some("10.0.0.2"));
}

#[test]
fn key_hash_has_a_fixed_short_length() {
    let long = "x".repeat(100_000);
    assert_eq!(key_hash(&long).len(), 22);
    assert_ne!(key_hash("a"), key_hash("b"));
    assert!(!key_hash(&long).contains(['{', '}']));
}

#[test]
fn breaker_opens_after_three_failures_and_probes_once() {
    let start = Instant::now();
    let mut breaker = Breaker::half_open(start);
    assert!(!breaker.allows(start), "half-open: the connection attempt is the probe");
    assert!(breaker.success(start));
    assert!(breaker.allows(start));
    assert!(!breaker.failure(start));
    assert!(!breaker.failure(start));
    assert!(breaker.failure(start));
    assert!(matches!(breaker.state(), BreakerState::Open(_)));
    assert!(!breaker.allows(start + OPEN_FOR / 2));
    let later = start + OPEN_FOR;
    assert!(breaker.allows(later), "the first request after OPEN_FOR is the probe");
    assert!(!breaker.allows(later), "only one probe at a time");
    assert!(breaker.failure(later), "a failed probe opens again");
    assert!(breaker.allows(later + OPEN_FOR));
    assert!(breaker.success(later + OPEN_FOR));
    assert_eq!(breaker.state(), BreakerState::Closed);
}

#[test]
fn breaker_opens_on_error_ratio() {
    let start = Instant::now();
    let mut breaker = Breaker::half_open(start);
    breaker.success(start);
    // Fail, fail, succeed: never three in a row, but two thirds of the calls fail.
    let mut opened_at = None;
    for i in 0..30u64 {
        let at = start + Duration::from_millis(i);
        let opened = if i % 3 == 2 { breaker.success(at) } else { breaker.failure(at) };
        if opened && opened_at.is_none() {
            opened_at = Some(i);
        }
    }
    assert_eq!(opened_at, Some(19), "opens at the 20th call of the window");
}

#[test]
fn embedded_store_evicts_keys_whose_buckets_are_full_again() {
    let spec = policy("p", PolicyKind::Rate, 10, 60);
    let name: Arc<str> = spec.name.clone();
    let mut store = EmbeddedStore::default();
    for i in 0..SWEEP_EVERY as u64 {
        let check =
            Check { policy: name.clone(), key_hash: key_hash(&i.to_string()), rule: spec.rule() };
        store.decide_at(&[check], T0);
    }
    assert_eq!(store.len(), SWEEP_EVERY);
    // One period later every bucket is full again: the next sweep empties the table.
    let later = T0 + 60 * MICROS;
    for i in 0..SWEEP_EVERY as u64 {
        let check = Check {
            policy: name.clone(),
            key_hash: key_hash(&format!("new{i}")),
            rule: spec.rule(),
        };
        store.decide_at(&[check], later);
    }
    assert!(store.len() <= SWEEP_EVERY + 1, "{} keys held", store.len());
    store.sweep(later + 60 * MICROS);
    assert!(store.is_empty());
}
