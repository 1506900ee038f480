//! What each suite sends and asserts. Paths the demo upstream treats specially
//! (`/_demo/delay/MS`, `/_demo/bytes/N`) are appended to the target's path, so those suites
//! need a route whose prefix forwards them unchanged (a route at `/`).

use std::time::Duration;

use bytes::Bytes;

use super::checks::Expectation;
use super::{Options, Suite, settings};
use crate::error::LoadError;
use crate::request::{BodyCheck, Prepared, Spec, sha256_hex};
use crate::target::Target;
use crate::tokens::Tokens;

/// How many times larger than the verified-token cache the token-churn pool must be, so
/// that cycling through it misses the cache on every request.
pub const CHURN_FACTOR: usize = 4;
/// Large bodies are prepared for at most this many tokens, to bound memory.
const MAX_LARGE_BODY_TOKENS: usize = 8;

/// The requests and the suite-specific expectations.
pub(super) fn build(
    suite: Suite,
    target: &Target,
    options: &Options,
) -> Result<(Vec<Prepared>, Vec<Expectation>), LoadError> {
    let path = |default: &str| target.path(options.path.as_deref().unwrap_or(default));
    let get =
        |path: String| Spec { method: "GET", path, body: Bytes::new(), check: BodyCheck::None };
    let ok = vec![Expectation::NoFailures, Expectation::AllStatus(200)];
    let tokens = options.tokens.as_ref();
    Ok(match suite {
        Suite::Steady | Suite::Ramp => (with_tokens(target, &[get(path(""))], tokens), ok),
        Suite::BurstOverLimit => {
            let (ok, limited) = burst_counts(options)?;
            let expect = vec![Expectation::NoFailures, Expectation::ExactCounts { ok, limited }];
            (with_tokens(target, &[get(path(""))], tokens), expect)
        }
        Suite::TokenChurn => {
            let tokens = churn_pool(options)?;
            (with_tokens(target, &[get(path(""))], Some(tokens)), ok)
        }
        Suite::InvalidTokens => {
            let builtin = Tokens::invalid();
            let tokens = tokens.unwrap_or(&builtin);
            let expect = vec![Expectation::NoFailures, Expectation::AllStatus(401)];
            (with_tokens(target, &[get(path(""))], Some(tokens)), expect)
        }
        Suite::LargeBodies => {
            let size = options.body_bytes.unwrap_or(if options.short { 256 } else { 1024 } * 1024);
            if size == 0 || size > 64 * 1024 * 1024 {
                return Err(settings(format!("--body-bytes {size} is not in 1..=64 MiB")));
            }
            let body = Bytes::from(pattern(size));
            let check = BodyCheck::Echo { bytes: size as u64, sha256: sha256_hex(&body) };
            let upload = Spec { method: "POST", path: path(""), body, check };
            let mut download = get(target.path(&format!("/_demo/bytes/{size}")));
            download.check = BodyCheck::Length(size as u64);
            let tokens = tokens.map(|t| Tokens::first(t, MAX_LARGE_BODY_TOKENS));
            let mut expect = ok;
            expect.push(Expectation::BodiesMatch);
            (with_tokens(target, &[upload, download], tokens.as_ref()), expect)
        }
        Suite::SlowUpstream => {
            let delay = delay(options);
            let spec = get(target.path(&format!("/_demo/delay/{}", delay.as_millis())));
            let mut expect = ok;
            expect.push(Expectation::MinLatency(delay));
            (with_tokens(target, &[spec], tokens), expect)
        }
    })
}

/// The expected 200s and 429s of burst-over-limit; both must be given.
pub(super) fn burst_counts(options: &Options) -> Result<(u64, u64), LoadError> {
    match (options.expect_ok, options.expect_limited) {
        (Some(ok), Some(limited)) if ok + limited > 0 && ok + limited <= super::MAX_REQUESTS => {
            Ok((ok, limited))
        }
        (Some(_), Some(_)) => Err(settings("the burst must hold 1..=50000000 requests".into())),
        _ => Err(settings(
            "burst-over-limit needs --expect-ok and --expect-limited: the policy's allowance"
                .into(),
        )),
    }
}

/// The slow-upstream delay: `--delay`, or 200 ms (100 ms short).
pub(super) fn delay(options: &Options) -> Duration {
    options.delay.unwrap_or(Duration::from_millis(if options.short { 100 } else { 200 }))
}

/// The token-churn pool, refused unless it holds enough distinct tokens to defeat the cache.
fn churn_pool(options: &Options) -> Result<&Tokens, LoadError> {
    let tokens = options.tokens.as_ref().ok_or_else(|| {
        settings("token-churn needs --tokens FILE with distinct valid tokens".into())
    })?;
    let cache = options.token_cache_size.ok_or_else(|| {
        settings("token-churn needs --token-cache-size: the gateway's verified-token cache".into())
    })?;
    let needed = cache.saturating_mul(CHURN_FACTOR).max(1);
    let distinct = tokens.distinct();
    if distinct < needed {
        return Err(settings(format!(
            "token-churn needs at least {needed} distinct tokens ({CHURN_FACTOR} × cache of \
             {cache}); the file has {distinct}"
        )));
    }
    Ok(tokens)
}

/// Every spec once per token (or once without a token), interleaved so consecutive
/// requests use different tokens.
fn with_tokens(target: &Target, specs: &[Spec<'_>], tokens: Option<&Tokens>) -> Vec<Prepared> {
    match tokens {
        None => specs.iter().map(|spec| Prepared::build(target, spec, None)).collect(),
        Some(tokens) => tokens
            .iter()
            .flat_map(|token| {
                specs.iter().map(move |spec| Prepared::build(target, spec, Some(token)))
            })
            .collect(),
    }
}

/// `size` bytes that do not compress away (xorshift), the same on every run.
fn pattern(size: usize) -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..size)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}
