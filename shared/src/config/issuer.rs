//! Issuers of the bearer tokens callers present.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// Default clock skew tolerated on `exp`, `nbf` and `iat`.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(60);
/// Default time the last good keys keep being trusted while the issuer is unreachable.
pub const DEFAULT_MAX_STALE: Duration = Duration::from_secs(24 * 3600);
/// Algorithms accepted when `algorithms` is not set.
pub const DEFAULT_ALGORITHMS: &[&str] = &["RS256", "PS256", "ES256", "EdDSA"];
/// Placeholder in an Entra issuer replaced by the token's own `tid`.
pub const TENANT_PLACEHOLDER: &str = "{tenantid}";

/// One issuer. Exactly one of `discovery_url`, `jwks_uri` and `jwks_file` names its keys.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerConfig {
    /// Name routes refer to.
    pub name: String,
    /// Expected `iss`, compared exactly; may contain `{tenantid}` (Entra multi-tenant).
    pub issuer: String,
    /// Additional `iss` values accepted for the same issuer, e.g. the Entra v1
    /// `https://sts.windows.net/{tenantid}/` beside the v2 issuer.
    #[serde(default)]
    pub additional_issuers: Vec<String>,
    /// OpenID discovery document URL; its `issuer` is cross-checked and its `jwks_uri` used.
    #[serde(default)]
    pub discovery_url: Option<String>,
    /// JWKS URL, used instead of discovery.
    #[serde(default)]
    pub jwks_uri: Option<String>,
    /// Local JWKS file, reloaded when it changes.
    #[serde(default)]
    pub jwks_file: Option<PathBuf>,
    /// Accepted `aud` values; a token must name at least one.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Accepted signature algorithms, pinned here and never taken from the token. Default
    /// RS256, PS256, ES256, EdDSA.
    #[serde(default)]
    pub algorithms: Vec<String>,
    /// Tenant ids accepted for `{tenantid}` in `issuer`; required when it is used.
    #[serde(default)]
    pub tenants: Vec<String>,
    /// Clock skew tolerated on time claims. Default `60s`.
    #[serde(default = "default_leeway", with = "humantime_serde")]
    pub leeway: Duration,
    /// How long the last good keys stay trusted while the issuer cannot be reached.
    /// Default `24h`.
    #[serde(default = "default_max_stale", with = "humantime_serde")]
    pub max_stale: Duration,
}

impl IssuerConfig {
    /// The configured algorithms, or the defaults when none are set.
    pub fn algorithms(&self) -> Vec<String> {
        if self.algorithms.is_empty() {
            DEFAULT_ALGORITHMS.iter().map(|a| (*a).to_owned()).collect()
        } else {
            self.algorithms.clone()
        }
    }
}

fn default_leeway() -> Duration {
    DEFAULT_LEEWAY
}
fn default_max_stale() -> Duration {
    DEFAULT_MAX_STALE
}
