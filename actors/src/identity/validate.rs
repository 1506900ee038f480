//! Full validation of one token: parse, choose the issuer, pin the algorithm, find the key,
//! verify the signature, then check the claims.
//!
//! Order matters: only `iss`/`tid` are read before the signature is verified (to know whose
//! keys to use); every other claim is judged only once the signature holds, so a forged
//! token learns nothing from the answer except that it is forged.

use std::sync::Arc;

use crate::jwks::{Algorithm, KeyMiss, VerifyingKey};

use super::claims::{self, Identity};
use super::issuers::{IssuerMatch, IssuerRuntime, key_issuer_allows};
use super::reason::{AuthReason, AuthRejection};
use super::token::{self, Parsed};

/// Longest `kid` looked up; a longer one is malformed and never reaches the actor.
const MAX_KID_LEN: usize = 256;
/// Keys tried for a token without `kid`; issuers rarely publish more than a handful.
const MAX_KIDLESS_CANDIDATES: usize = 8;

/// A token that passed every check.
pub(crate) struct Verified {
    pub identity: Arc<Identity>,
    pub issuer: usize,
    pub fingerprint: [u8; 32],
    pub valid_until: f64,
}

fn reject(reason: AuthReason, description: &str) -> AuthRejection {
    AuthRejection::new(reason, description)
}

/// Validates `token` against the issuers `allowed` on the route, at time `now`.
pub(crate) async fn verify(
    issuers: &[IssuerRuntime],
    allowed: &dyn Fn(usize) -> bool,
    token: &[u8],
    now: f64,
) -> Result<Verified, AuthRejection> {
    let parsed = token::parse(token)?;
    let alg = parsed.alg;
    let iss = string_claim(parsed.claims.get("iss"), "iss")?
        .ok_or_else(|| reject(AuthReason::TokenMalformed, "The token has no iss claim."))?
        .to_owned();
    let tid = string_claim(parsed.claims.get("tid"), "tid")?.map(str::to_owned);
    let (index, tenant_allowed) = select_issuer(issuers, allowed, &iss, tid.as_deref())?;
    let issuer = issuers
        .get(index)
        .ok_or_else(|| reject(AuthReason::IssuerUnknown, "The token's issuer is not trusted."))?;
    if !issuer.keys.load().algorithms().contains(&alg) {
        return Err(reject(
            AuthReason::AlgorithmNotAllowed,
            "The token's algorithm is not allowed for its issuer.",
        ));
    }
    let key = find_key(issuer, alg, &parsed).await?;
    if let Some(key_issuer) = &key.issuer
        && !key_issuer_allows(key_issuer, &iss, tid.as_deref(), issuer.patterns())
    {
        return Err(reject(
            AuthReason::IssuerUnknown,
            "The signing key does not belong to the token's issuer.",
        ));
    }
    let exp = claims::check_times(&parsed.claims, now, issuer.leeway)?;
    claims::check_audience(parsed.claims.get("aud"), &issuer.audiences)?;
    if !tenant_allowed {
        return Err(reject(AuthReason::TenantNotAllowed, "The token's tenant is not allowed."));
    }
    let identity = claims::identity(&issuer.name, &iss, parsed.claims, exp)?;
    Ok(Verified {
        identity: Arc::new(identity),
        issuer: index,
        fingerprint: key.fingerprint,
        valid_until: exp + issuer.leeway,
    })
}

fn string_claim<'a>(
    value: Option<&'a serde_json::Value>,
    name: &str,
) -> Result<Option<&'a str>, AuthRejection> {
    match value {
        None => Ok(None),
        Some(serde_json::Value::String(text)) => Ok(Some(text)),
        Some(_) => Err(AuthRejection::new(
            AuthReason::TokenMalformed,
            format!("The {name} claim is not a string."),
        )),
    }
}

/// The first allowed issuer whose `iss` matches, and whether its tenant check passed.
fn select_issuer(
    issuers: &[IssuerRuntime],
    allowed: &dyn Fn(usize) -> bool,
    iss: &str,
    tid: Option<&str>,
) -> Result<(usize, bool), AuthRejection> {
    let (mut tenant_blocked, mut elsewhere) = (None, false);
    for (index, issuer) in issuers.iter().enumerate() {
        match issuer.match_iss(iss, tid) {
            IssuerMatch::NoMatch => {}
            _ if !allowed(index) => elsewhere = true,
            IssuerMatch::Accepted => return Ok((index, true)),
            IssuerMatch::TenantNotAllowed => {
                tenant_blocked.get_or_insert(index);
            }
        }
    }
    match tenant_blocked {
        Some(index) => Ok((index, false)),
        None if elsewhere => {
            Err(reject(AuthReason::IssuerUnknown, "The token's issuer is not accepted here."))
        }
        None => Err(reject(AuthReason::IssuerUnknown, "The token's issuer is not trusted.")),
    }
}

/// The key that verifies the token's signature. A `kid` missing from the snapshot asks
/// the actor once (it decides whether to refetch); a token without `kid` is tried against
/// the keys that accept its algorithm and never causes a fetch.
async fn find_key(
    issuer: &IssuerRuntime,
    alg: Algorithm,
    parsed: &Parsed<'_>,
) -> Result<Arc<VerifyingKey>, AuthRejection> {
    let unavailable =
        || reject(AuthReason::KeysUnavailable, "The token's issuer cannot be checked right now.");
    let Some(kid) = parsed.header.kid.as_deref() else {
        let snapshot = issuer.keys.load_full();
        if snapshot.is_empty() {
            return Err(unavailable());
        }
        let mut candidates =
            snapshot.keys().iter().filter(|key| key.accepts(alg)).take(MAX_KIDLESS_CANDIDATES);
        return candidates
            .find(|key| key.verify(alg, parsed.signing_input, &parsed.signature))
            .cloned()
            .ok_or_else(|| {
                reject(AuthReason::SignatureInvalid, "The token signature is invalid.")
            });
    };
    if kid.len() > MAX_KID_LEN {
        return Err(reject(AuthReason::TokenMalformed, "The token's kid is too long."));
    }
    let mut key = issuer.keys.load().by_kid(kid).cloned();
    if key.is_none() {
        let miss = issuer.actor.send(KeyMiss { kid: kid.to_owned() });
        // A dead actor or a slow fetch leaves the snapshot as it is; the lookup below
        // then reports the key as unknown or the issuer as unavailable.
        let _ = tokio::time::timeout(issuer.miss_wait, miss).await;
        key = issuer.keys.load().by_kid(kid).cloned();
    }
    let Some(key) = key else {
        if issuer.keys.load().is_empty() {
            return Err(unavailable());
        }
        return Err(reject(AuthReason::KeyUnknown, "The token's signing key is not known."));
    };
    if !key.accepts(alg) {
        return Err(reject(
            AuthReason::AlgorithmNotAllowed,
            "The token's algorithm does not fit its signing key.",
        ));
    }
    if !key.verify(alg, parsed.signing_input, &parsed.signature) {
        return Err(reject(AuthReason::SignatureInvalid, "The token signature is invalid."));
    }
    Ok(key)
}
