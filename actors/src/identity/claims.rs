//! Claim checks after the signature verified (time, audience) and the [`Identity`] built
//! from the claims.

use serde_json::{Map, Value};

use super::reason::{AuthReason, AuthRejection};

/// The verified caller, as routes, headers and audit records see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    /// The configured name of the issuer that vouched for the token.
    pub issuer_name: String,
    /// The token's `iss`.
    pub issuer: String,
    /// `sub`, or the client id for tokens without one.
    pub subject: String,
    /// `azp`, `appid` or `client_id`, whichever the issuer uses.
    pub client_id: Option<String>,
    /// Entra `tid`.
    pub tenant: Option<String>,
    /// Granted scopes from `scp` and `scope`, as space-separated strings or arrays.
    pub scopes: Vec<String>,
    /// Roles from `roles` and `groups`.
    pub roles: Vec<String>,
    /// Every claim of the token, for claim matchers.
    pub claims: Map<String, Value>,
    /// `exp`, seconds since the epoch.
    pub expires_at: f64,
}

/// Reads a NumericDate (RFC 7519 §2): a finite JSON number, fractions allowed.
fn numeric_date(value: &Value, name: &str) -> Result<f64, AuthRejection> {
    value.as_f64().filter(|secs| secs.is_finite()).ok_or_else(|| {
        AuthRejection::new(AuthReason::TokenMalformed, format!("The {name} claim is not a number."))
    })
}

/// Checks `exp` (required), `nbf` and the type of `iat` against `now` with `leeway`, and
/// returns `exp`.
pub(crate) fn check_times(
    claims: &Map<String, Value>,
    now: f64,
    leeway: f64,
) -> Result<f64, AuthRejection> {
    let Some(exp) = claims.get("exp") else {
        return Err(AuthRejection::new(AuthReason::TokenMalformed, "The token has no exp claim."));
    };
    let exp = numeric_date(exp, "exp")?;
    if let Some(iat) = claims.get("iat") {
        numeric_date(iat, "iat")?;
    }
    if let Some(nbf) = claims.get("nbf")
        && numeric_date(nbf, "nbf")? > now + leeway
    {
        return Err(AuthRejection::new(
            AuthReason::TokenNotYetValid,
            "The token is not valid yet.",
        ));
    }
    if now > exp + leeway {
        return Err(AuthRejection::new(AuthReason::TokenExpired, "The token has expired."));
    }
    Ok(exp)
}

/// Checks that `aud` (a string or an array of strings) names one of `audiences`.
pub(crate) fn check_audience(
    aud: Option<&Value>,
    audiences: &[String],
) -> Result<(), AuthRejection> {
    let mismatch =
        || AuthRejection::new(AuthReason::AudienceMismatch, "The token is not meant for this API.");
    let matches = |candidate: &Value| {
        candidate.as_str().is_some_and(|aud| audiences.iter().any(|want| want == aud))
    };
    match aud {
        Some(Value::String(_)) if aud.is_some_and(matches) => Ok(()),
        Some(Value::String(_)) | None => Err(mismatch()),
        Some(Value::Array(list)) => {
            if list.iter().any(|v| !v.is_string()) {
                return Err(AuthRejection::new(
                    AuthReason::TokenMalformed,
                    "The aud claim is not a string or an array of strings.",
                ));
            }
            if list.iter().any(matches) { Ok(()) } else { Err(mismatch()) }
        }
        Some(_) => Err(AuthRejection::new(
            AuthReason::TokenMalformed,
            "The aud claim is not a string or an array of strings.",
        )),
    }
}

/// Builds the identity from verified claims.
pub(crate) fn identity(
    issuer_name: &str,
    iss: &str,
    claims: Map<String, Value>,
    expires_at: f64,
) -> Result<Identity, AuthRejection> {
    let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
    let client_id = text("azp").or_else(|| text("appid")).or_else(|| text("client_id"));
    let subject = text("sub").or_else(|| client_id.clone()).ok_or_else(|| {
        AuthRejection::new(AuthReason::TokenMalformed, "The token names no subject.")
    })?;
    let mut scopes = Vec::new();
    for name in ["scp", "scope"] {
        collect_words(claims.get(name), &mut scopes);
    }
    let mut roles = Vec::new();
    for name in ["roles", "groups"] {
        collect_words(claims.get(name), &mut roles);
    }
    Ok(Identity {
        issuer_name: issuer_name.to_owned(),
        issuer: iss.to_owned(),
        subject,
        client_id,
        tenant: text("tid"),
        scopes,
        roles,
        claims,
        expires_at,
    })
}

/// Adds the words of a space-separated string, or the strings of an array, skipping
/// duplicates and values of other types.
fn collect_words(value: Option<&Value>, into: &mut Vec<String>) {
    let mut push = |word: &str| {
        if !word.is_empty() && !into.iter().any(|have| have == word) {
            into.push(word.to_owned());
        }
    };
    match value {
        Some(Value::String(words)) => words.split_ascii_whitespace().for_each(&mut push),
        Some(Value::Array(list)) => list.iter().filter_map(Value::as_str).for_each(push),
        _ => {}
    }
}
