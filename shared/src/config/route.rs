//! Routes: what requests match, where they go and which policies apply.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};

/// One route.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Name used in logs, metrics and audit records.
    pub name: String,
    /// Path prefix matched on a segment boundary after normalisation (`/orders` matches
    /// `/orders` and `/orders/1`, not `/ordersx`). `/` matches everything.
    pub path_prefix: String,
    /// Methods this route accepts; empty (the default) accepts every method.
    #[serde(default)]
    pub methods: Vec<String>,
    /// Host the request must be for (case-insensitive, port ignored); absent matches any.
    #[serde(default)]
    pub host: Option<String>,
    /// Name of the upstream requests are forwarded to.
    pub upstream: String,
    /// Who may call: `"anonymous"` or a table of requirements. Required, so that a route is
    /// never open by omission.
    pub auth: Option<AuthPolicy>,
    /// Names of rate-limit policies applied, all of which must allow the request.
    #[serde(default)]
    pub rate_limits: Vec<String>,
}

/// Who may call a route.
#[derive(Debug, Clone, PartialEq)]
pub enum AuthPolicy {
    /// No token needed; any presented `Authorization` is passed through untouched.
    Anonymous,
    /// A valid bearer token meeting these requirements.
    Required(RequiredAuth),
}

/// Requirements on the caller's verified token.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequiredAuth {
    /// Names of the issuers accepted; empty means every configured issuer.
    #[serde(default)]
    pub issuers: Vec<String>,
    /// Scopes (`scp` or `scope`) that must all be granted.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Roles (`roles` or `groups`) that must all be present.
    #[serde(default)]
    pub roles: Vec<String>,
    /// Claims that must have a given value (string) or one of several (array).
    #[serde(default)]
    pub claims: BTreeMap<String, ClaimMatcher>,
    /// Whether the caller's own `Authorization` header is forwarded upstream. Default false:
    /// the verified identity goes upstream in `x-skybridge-*` headers instead.
    #[serde(default)]
    pub forward_token: bool,
}

/// A required claim value.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum ClaimMatcher {
    /// The claim must equal this string.
    Equals(String),
    /// The claim must equal one of these strings.
    OneOf(Vec<String>),
}

// === impl AuthPolicy ===

impl<'de> Deserialize<'de> for AuthPolicy {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct AuthVisitor;

        impl<'de> Visitor<'de> for AuthVisitor {
            type Value = AuthPolicy;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("\"anonymous\" or a table such as { issuers = [...], scopes = [...] }")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<AuthPolicy, E> {
                if value == "anonymous" {
                    Ok(AuthPolicy::Anonymous)
                } else {
                    Err(E::invalid_value(de::Unexpected::Str(value), &self))
                }
            }

            fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<AuthPolicy, M::Error> {
                let required =
                    RequiredAuth::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(AuthPolicy::Required(required))
            }
        }

        deserializer.deserialize_any(AuthVisitor)
    }
}
