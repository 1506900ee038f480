//! Reading a minted token for display: the payload's claims only (never the signature, never
//! the token text), and how its `aud` relates to the upstream's URL.
//!
//! Cloud Run accepts an ID token whose `aud` is the service URL (scheme and host, no path,
//! no trailing slash) or one of the service's custom audiences (protocol note A4).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// The claims doctor shows, read without verifying the signature.
#[derive(Debug, Default, Clone)]
pub(crate) struct Claims {
    pub(crate) iss: Option<String>,
    pub(crate) sub: Option<String>,
    pub(crate) email: Option<String>,
    /// `aud` as a list (a single string becomes one entry).
    pub(crate) aud: Vec<String>,
    pub(crate) exp: Option<u64>,
    /// Whether the token carries `scope` or `scp`, as OAuth access tokens do.
    pub(crate) scoped: bool,
}

/// How a token's audience relates to the upstream.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Audience {
    /// `aud` names the upstream's URL.
    Matches,
    /// `aud` names something else; the text says how it differs.
    Differs(String),
    /// No `aud` at all: not an ID token.
    Missing,
}

/// Decodes the payload of a compact JWS; the error says why it is not one.
pub(crate) fn decode(jwt: &str) -> Result<Claims, &'static str> {
    let mut parts = jwt.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("the token is not a JWT (an opaque OAuth access token?)");
    };
    let bytes = URL_SAFE_NO_PAD.decode(payload).map_err(|_| "the JWT payload is not base64url")?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|_| "the JWT payload is not JSON")?;
    let text = |name: &str| value.get(name).and_then(Value::as_str).map(str::to_owned);
    let aud = match value.get("aud") {
        Some(Value::String(one)) => vec![one.clone()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).map(Into::into).collect(),
        _ => Vec::new(),
    };
    Ok(Claims {
        iss: text("iss"),
        sub: text("sub"),
        email: text("email"),
        aud,
        exp: value.get("exp").and_then(Value::as_u64),
        scoped: value.get("scope").is_some() || value.get("scp").is_some(),
    })
}

/// The audience Cloud Run expects for an upstream: its scheme and authority, without the
/// default port.
pub(crate) fn expected_audience(scheme: &str, authority: &str) -> String {
    let authority = match scheme {
        "https" => authority.strip_suffix(":443").unwrap_or(authority),
        "http" => authority.strip_suffix(":80").unwrap_or(authority),
        _ => authority,
    };
    format!("{scheme}://{authority}")
}

/// Compares `claims.aud` with `expected`.
pub(crate) fn audience(claims: &Claims, expected: &str) -> Audience {
    if claims.aud.is_empty() {
        return Audience::Missing;
    }
    if claims.aud.iter().any(|aud| aud == expected) {
        return Audience::Matches;
    }
    let shown = claims.aud.join(", ");
    let how = if claims.aud.iter().any(|aud| aud.trim_end_matches('/') == expected) {
        "it has a trailing slash"
    } else if claims.aud.iter().any(|aud| aud.starts_with(&format!("{expected}/"))) {
        "it has a path"
    } else {
        "it names another host (a custom domain, a custom audience or another service)"
    };
    Audience::Differs(format!("aud {shown:?} is not the upstream URL {expected:?}: {how}"))
}

/// `exp` as an RFC 3339 time and how far away it is, e.g. `2030-01-01T00:00:00Z (in 59m)`.
pub(crate) fn describe_expiry(exp: u64, now: SystemTime) -> String {
    let at = UNIX_EPOCH + Duration::from_secs(exp);
    let stamp = humantime::format_rfc3339_seconds(at);
    match at.duration_since(now) {
        Ok(left) => format!("{stamp} (in {})", humantime::format_duration(whole_seconds(left))),
        Err(past) => {
            let ago = whole_seconds(past.duration());
            format!("{stamp} (expired {} ago)", humantime::format_duration(ago))
        }
    }
}

fn whole_seconds(duration: Duration) -> Duration {
    Duration::from_secs(duration.as_secs())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failed unwrap is a failed test.
mod tests {
    use serde_json::json;

    use super::*;

    fn jwt(claims: Value) -> String {
        format!("e30.{}.c2ln", URL_SAFE_NO_PAD.encode(claims.to_string()))
    }

    #[test]
    fn claims_are_read_from_the_payload() {
        let token = jwt(json!({"iss": "https://accounts.google.com", "aud": ["a", "b"],
            "email": "sa@p.iam.gserviceaccount.com", "sub": "1", "exp": 5}));
        let claims = decode(&token).unwrap();
        assert_eq!(claims.iss.as_deref(), Some("https://accounts.google.com"));
        assert_eq!(claims.aud, ["a", "b"]);
        assert_eq!(claims.exp, Some(5));
        assert!(!claims.scoped);
        assert!(decode("opaque-access-token").is_err());
        assert!(decode("a.b.c.d").is_err());
    }

    #[test]
    fn audience_mismatches_are_named() {
        let expected = expected_audience("https", "orders-abc.a.run.app:443");
        assert_eq!(expected, "https://orders-abc.a.run.app");
        let with = |aud: &str| Claims { aud: vec![aud.to_owned()], ..Claims::default() };
        assert_eq!(audience(&with("https://orders-abc.a.run.app"), &expected), Audience::Matches);
        let slash = audience(&with("https://orders-abc.a.run.app/"), &expected);
        assert!(matches!(slash, Audience::Differs(ref why) if why.contains("trailing slash")));
        let path = audience(&with("https://orders-abc.a.run.app/v1"), &expected);
        assert!(matches!(path, Audience::Differs(ref why) if why.contains("has a path")));
        let other = audience(&with("https://api.example.com"), &expected);
        assert!(matches!(other, Audience::Differs(ref why) if why.contains("another host")));
        assert_eq!(audience(&Claims::default(), &expected), Audience::Missing);
    }

    #[test]
    fn expiry_is_shown_as_time_and_distance() {
        let now = UNIX_EPOCH + Duration::from_secs(1000);
        assert_eq!(describe_expiry(1060, now), "1970-01-01T00:17:40Z (in 1m)");
        assert_eq!(describe_expiry(940, now), "1970-01-01T00:15:40Z (expired 1m ago)");
    }
}
