//! Plans: defaults, bounds and the preconditions of the suites that need tokens or limits.

use super::*;
use crate::request::BodyCheck;

fn target() -> Target {
    Target::parse("http://127.0.0.1:9/api").expect("test step")
}

fn pool(n: usize) -> Tokens {
    Tokens::from_vec((0..n).map(|i| format!("header.claims{i}.sig")).collect())
}

fn text(prepared: &Prepared) -> String {
    String::from_utf8_lossy(&prepared.wire).into_owned()
}

#[test]
fn short_steady_is_bounded_and_open() {
    let plan = Suite::Steady
        .plan(&target(), &Options { short: true, ..Options::default() })
        .expect("test step");
    let Model::Open { schedule, count } = plan.model else { panic!("open model expected") };
    assert_eq!(schedule, Schedule::Constant { rate: 100.0 });
    assert_eq!(count, 200);
    assert!(text(&plan.requests[0]).starts_with("GET /api HTTP/1.1\r\n"));
    assert_eq!(
        plan.expectations,
        [Expectation::AllSent, Expectation::NoFailures, Expectation::AllStatus(200)]
    );
    let options = Options { short: true, rate: Some(1e6), ..Options::default() };
    let plan = Suite::Steady.plan(&target(), &options).expect("test step");
    assert_eq!(plan.model.count(), MAX_SHORT_REQUESTS, "short runs are capped");
}

#[test]
fn closed_mode_saturates_without_all_sent() {
    let options = Options { mode: Some(Mode::Closed), requests: Some(500), ..Options::default() };
    let plan = Suite::Steady.plan(&target(), &options).expect("test step");
    assert!(matches!(plan.model, Model::Closed { count: 500, .. }));
    assert_eq!(plan.connections, 16);
    assert!(!plan.expectations.contains(&Expectation::AllSent));
}

#[test]
fn burst_over_limit_needs_its_allowance() {
    let err = Suite::BurstOverLimit.plan(&target(), &Options::default()).expect_err("must fail");
    assert!(err.to_string().contains("--expect-ok"), "{err}");
    let options = Options { expect_ok: Some(20), expect_limited: Some(5), ..Options::default() };
    let plan = Suite::BurstOverLimit.plan(&target(), &options).expect("test step");
    assert!(matches!(plan.model, Model::Closed { count: 25, .. }));
    assert!(plan.expectations.contains(&Expectation::AllSent));
    assert!(plan.expectations.contains(&Expectation::ExactCounts { ok: 20, limited: 5 }));
}

#[test]
fn token_churn_refuses_a_pool_the_cache_could_hold() {
    let mut options = Options { tokens: Some(pool(399)), ..Options::default() };
    let err = Suite::TokenChurn.plan(&target(), &options).expect_err("must fail");
    assert!(err.to_string().contains("--token-cache-size"), "{err}");
    options.token_cache_size = Some(100);
    let err = Suite::TokenChurn.plan(&target(), &options).expect_err("must fail");
    assert!(err.to_string().contains("at least 400 distinct tokens"), "{err}");
    options.tokens = Some(pool(400));
    let plan = Suite::TokenChurn.plan(&target(), &options).expect("test step");
    assert_eq!(plan.requests.len(), 400);
    assert!(text(&plan.requests[1]).contains("authorization: Bearer header.claims1.sig\r\n"));
}

#[test]
fn invalid_tokens_default_to_the_builtin_forgeries() {
    let plan = Suite::InvalidTokens.plan(&target(), &Options::default()).expect("test step");
    assert_eq!(plan.requests.len(), Tokens::invalid().len());
    assert!(plan.expectations.contains(&Expectation::AllStatus(401)));
}

#[test]
fn large_bodies_upload_and_download() {
    let options = Options { body_bytes: Some(1000), tokens: Some(pool(20)), ..Options::default() };
    let plan = Suite::LargeBodies.plan(&target(), &options).expect("test step");
    assert_eq!(plan.requests.len(), 16, "8 tokens × upload and download");
    assert!(text(&plan.requests[0]).contains("content-length: 1000\r\n"));
    assert!(text(&plan.requests[1]).starts_with("GET /api/_demo/bytes/1000 "));
    assert!(matches!(plan.requests[0].check, BodyCheck::Echo { bytes: 1000, .. }));
    assert_eq!(plan.requests[1].check, BodyCheck::Length(1000));
    let options = Options { body_bytes: Some(0), ..Options::default() };
    assert!(Suite::LargeBodies.plan(&target(), &options).is_err());
}

#[test]
fn slow_upstream_sizes_connections_for_the_delay() {
    let options = Options { short: true, ..Options::default() };
    let plan = Suite::SlowUpstream.plan(&target(), &options).expect("test step");
    assert!(text(&plan.requests[0]).starts_with("GET /api/_demo/delay/100 "));
    // 50 req/s × 102 ms × 4 = 20.4 → 21 connections.
    assert_eq!(plan.connections, 21);
    assert!(plan.expectations.contains(&Expectation::MinLatency(Duration::from_millis(100))));
}

#[test]
fn ramp_and_bounds() {
    let options = Options { rate: Some(0.0), ramp_to: Some(300.0), ..Options::default() };
    let plan = Suite::Ramp.plan(&target(), &options).expect("test step");
    assert!(matches!(plan.model, Model::Open { schedule: Schedule::Ramp { .. }, count: 4500 }));
    let bad = [
        Options { ramp_to: Some(10.0), ..Options::default() },
        Options { rate: Some(0.0), ..Options::default() },
        Options { duration: Some(Duration::from_secs(7200)), ..Options::default() },
        Options { connections: Some(0), ..Options::default() },
        Options { requests: Some(0), ..Options::default() },
    ];
    for options in bad {
        assert!(Suite::Steady.plan(&target(), &options).is_err(), "{options:?}");
    }
}
