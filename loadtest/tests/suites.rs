//! End to end: the short suites that need no tokens or limits, through the real gateway
//! (one anonymous route `/`) to the real demo upstream, with their outcomes asserted; and the
//! assertion path of the suites that do need them, shown to fail where it must.

mod common;

use common::{Gateway, LoadRun, Upstream};

/// A demo upstream and a gateway in front of it; both stop when this drops.
struct Stack {
    gateway: Gateway,
    _upstream: Upstream,
}

fn stack() -> Stack {
    let upstream = Upstream::start(&[]);
    let gateway = Gateway::anonymous(upstream.address);
    Stack { gateway, _upstream: upstream }
}

fn short(stack: &Stack, suite: &str, extra: &[&str]) -> LoadRun {
    let url = stack.gateway.url();
    let mut args = vec!["--target", url.as_str(), "--suite", suite, "--short"];
    args.extend_from_slice(extra);
    LoadRun::run(&args)
}

fn check<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    let checks = report["checks"].as_array().expect("checks");
    checks.iter().find(|c| c["name"] == name).unwrap_or_else(|| panic!("no check {name}"))
}

#[test]
fn steady_through_the_gateway() {
    let stack = stack();
    let run = short(&stack, "steady", &[]);
    let report = run.passed();
    assert_eq!(report["planned"], 200);
    assert_eq!(report["requests"]["statuses"]["200"], 200);
    assert_eq!(report["latency_us"]["count"], 200);
    assert!(report["latency_us"]["p50"].as_u64().expect("p50") > 0);
    assert!(report["percentiles"].as_array().expect("curve").len() > 5);
    assert!(run.stdout().contains("| every response is 200 | pass |"), "{}", run.stdout());
    assert!(run.stderr().contains("steady"), "a progress line on stderr: {}", run.stderr());
}

#[test]
fn ramp_through_the_gateway() {
    let stack = stack();
    let report = short(&stack, "ramp", &[]).passed().clone();
    // 20 → 200 req/s over 2 s: (20 + 200) / 2 × 2 = 220 requests.
    assert_eq!(report["planned"], 220);
    assert_eq!(report["model"]["schedule"]["kind"], "ramp");
    assert_eq!(report["requests"]["statuses"]["200"], 220);
}

#[test]
fn large_bodies_through_the_gateway() {
    let stack = stack();
    let report = short(&stack, "large-bodies", &[]).passed().clone();
    let completed = report["requests"]["completed"].as_u64().expect("completed");
    assert_eq!(completed, 20);
    // Half the requests download 256 KiB each; the others get a small echo back.
    assert!(report["requests"]["body_bytes"].as_u64().expect("bytes") >= 10 * 256 * 1024);
    assert_eq!(check(&report, "bodies match")["passed"], true);
}

#[test]
fn slow_upstream_through_the_gateway() {
    let stack = stack();
    let report = short(&stack, "slow-upstream", &[]).passed().clone();
    assert!(report["latency_us"]["min"].as_u64().expect("min") >= 100_000);
    assert_eq!(report["requests"]["statuses"]["200"], 100);
}

#[test]
fn saturation_in_the_closed_model() {
    let stack = stack();
    let run =
        short(&stack, "steady", &["--mode", "closed", "--duration", "1s", "--requests", "300"]);
    let report = run.passed();
    assert_eq!(report["model"]["model"], "closed");
    let completed = report["requests"]["completed"].as_u64().expect("completed");
    assert!(completed > 0 && completed <= 300, "{completed}");
    assert!(report["throughput_rps"].as_f64().expect("rps") > 0.0);
}

#[test]
fn violated_outcomes_exit_non_zero() {
    let stack = stack();
    // An anonymous route accepts forged tokens: invalid-tokens must report the 200s.
    let run = short(&stack, "invalid-tokens", &[]);
    assert_eq!(run.code(), 1, "{}", run.stderr());
    assert_eq!(run.report()["passed"], false);
    assert_eq!(check(run.report(), "every response is 401")["passed"], false);
    // No limit on the route: a burst expecting 429s gets none and fails ...
    let run = short(&stack, "burst-over-limit", &["--expect-ok", "10", "--expect-limited", "5"]);
    assert_eq!(run.code(), 1);
    assert_eq!(check(run.report(), "exactly 10 × 200 and 5 × 429")["detail"], "200 × 15");
    // ... and one expecting only 200s passes, with exactly the burst sent.
    let run = short(&stack, "burst-over-limit", &["--expect-ok", "15", "--expect-limited", "0"]);
    assert_eq!(run.passed()["requests"]["completed"], 15);
}
