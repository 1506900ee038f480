//! Route authorization: does a verified identity meet a route's `auth` requirements?

use serde_json::Value;
use skybridge_shared::config::{ClaimMatcher, RequiredAuth};

use super::claims::Identity;
use super::reason::{AuthReason, AuthRejection};

/// Checks scopes (all required), roles (all required) and claim matchers. The issuer
/// restriction is applied earlier, when the token's issuer is chosen.
pub fn authorize(identity: &Identity, policy: &RequiredAuth) -> Result<(), AuthRejection> {
    if policy.scopes.iter().any(|want| !identity.scopes.contains(want)) {
        return Err(AuthRejection {
            reason: AuthReason::InsufficientScope,
            description: "The token lacks a scope this route requires.".to_owned(),
            required_scope: Some(policy.scopes.join(" ")),
        });
    }
    if policy.roles.iter().any(|want| !identity.roles.contains(want)) {
        return Err(AuthRejection::new(
            AuthReason::InsufficientRole,
            "The token lacks a role this route requires.",
        ));
    }
    for (name, matcher) in &policy.claims {
        if !claim_matches(identity.claims.get(name), matcher) {
            return Err(AuthRejection::new(
                AuthReason::ClaimMismatch,
                format!("The token's {name} claim does not have a value this route accepts."),
            ));
        }
    }
    Ok(())
}

/// A claim matches when it (or, for an array claim, one of its elements) equals the
/// expected string or one of the expected strings. Numbers and booleans compare by their
/// JSON text, so `{ email_verified = "true" }` works.
fn claim_matches(value: Option<&Value>, matcher: &ClaimMatcher) -> bool {
    let accepts = |candidate: &str| match matcher {
        ClaimMatcher::Equals(want) => want == candidate,
        ClaimMatcher::OneOf(wants) => wants.iter().any(|want| want == candidate),
    };
    let scalar = |value: &Value| match value {
        Value::String(text) => accepts(text),
        Value::Number(_) | Value::Bool(_) => accepts(&value.to_string()),
        _ => false,
    };
    match value {
        Some(Value::Array(list)) => list.iter().any(scalar),
        Some(value) => scalar(value),
        None => false,
    }
}
