//! The assertion logic on hand-made measurements, including the suites that need a
//! configured gateway (limits, tokens) and so cannot run end to end here.

use std::time::Duration;

use super::*;
use crate::error::{ErrorKind, RequestError};

fn recorder(responses: &[(u16, u64)]) -> Recorder {
    let mut r = Recorder::new().expect("test step");
    for (status, count) in responses {
        for _ in 0..*count {
            r.response(Duration::from_millis(2), *status, 0, true);
        }
    }
    r
}

fn verdicts(expectations: &[Expectation], r: &Recorder, planned: u64) -> Vec<bool> {
    evaluate(expectations, r, planned).iter().map(|c| c.passed).collect()
}

#[test]
fn burst_over_limit_needs_the_exact_split() {
    let expect = [Expectation::ExactCounts { ok: 10, limited: 5 }];
    assert_eq!(verdicts(&expect, &recorder(&[(200, 10), (429, 5)]), 15), [true]);
    assert_eq!(verdicts(&expect, &recorder(&[(200, 11), (429, 4)]), 15), [false]);
    assert_eq!(verdicts(&expect, &recorder(&[(200, 10), (429, 4), (503, 1)]), 15), [false]);
    let result = evaluate(&expect, &recorder(&[(200, 9), (429, 6)]), 15);
    assert_eq!(result[0].detail, "200 × 9, 429 × 6");
    assert_eq!(result[0].name, "exactly 10 × 200 and 5 × 429");
}

#[test]
fn invalid_tokens_need_every_response_401() {
    let expect = [Expectation::AllStatus(401)];
    assert_eq!(verdicts(&expect, &recorder(&[(401, 20)]), 20), [true]);
    assert_eq!(verdicts(&expect, &recorder(&[(401, 19), (200, 1)]), 20), [false]);
    assert_eq!(verdicts(&expect, &recorder(&[]), 20), [false], "no responses is no pass");
}

#[test]
fn all_sent_counts_failures_and_unsent() {
    let mut r = recorder(&[(200, 8)]);
    r.failure(RequestError::new(ErrorKind::Connect, "refused"));
    let expect = [Expectation::AllSent, Expectation::NoFailures];
    assert_eq!(verdicts(&expect, &r, 9), [true, false]);
    let result = evaluate(&expect, &r, 9);
    assert_eq!(result[1].detail, "connect × 1 (first: refused)");
    r.unsent = 1;
    assert_eq!(verdicts(&expect, &r, 10), [false, false]);
}

#[test]
fn bodies_and_latency_floor() {
    let mut r = recorder(&[(200, 3)]);
    let expect = [Expectation::BodiesMatch, Expectation::MinLatency(Duration::from_millis(2))];
    assert_eq!(verdicts(&expect, &r, 3), [true, true]);
    r.response(Duration::from_micros(500), 200, 10, false);
    assert_eq!(verdicts(&expect, &r, 4), [false, false]);
    let empty = recorder(&[]);
    assert_eq!(verdicts(&[Expectation::MinLatency(Duration::ZERO)], &empty, 0), [false]);
}
