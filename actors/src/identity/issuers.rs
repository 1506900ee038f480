//! Configured issuers as the validator uses them: `iss` matching with the Entra
//! `{tenantid}` template, the tenant allowlist, audiences, leeway and the key snapshot.

use std::sync::Arc;
use std::time::Duration;

use actix::Addr;
use arc_swap::ArcSwap;
use skybridge_shared::config::IssuerConfig;
use skybridge_shared::config::issuer::TENANT_PLACEHOLDER;

use crate::jwks::{Algorithm, JwksActor, KeySnapshot};

/// One issuer, ready for validation.
pub(crate) struct IssuerRuntime {
    /// The configured name.
    pub name: String,
    /// `issuer` then `additional_issuers`, possibly with `{tenantid}`.
    patterns: Vec<String>,
    /// Accepted `aud` values.
    pub audiences: Vec<String>,
    /// Accepted tenant ids, lowercased (tenant ids are GUIDs, compared case-insensitively).
    tenants: Vec<String>,
    /// Clock skew tolerated, in seconds.
    pub leeway: f64,
    /// The keys, published by the JWKS actor.
    pub keys: Arc<ArcSwap<KeySnapshot>>,
    /// The JWKS actor, asked on an unknown `kid`.
    pub actor: Addr<JwksActor>,
    /// How long to wait for a refetch caused by an unknown `kid`.
    pub miss_wait: Duration,
}

/// How a token's `iss` (and `tid`) relate to one issuer.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum IssuerMatch {
    /// `iss` matches and the tenant, if any is required, is allowed.
    Accepted,
    /// `iss` matches but the token's tenant is not in `tenants`.
    TenantNotAllowed,
    /// Not this issuer.
    NoMatch,
}

impl IssuerRuntime {
    /// Builds the runtime view of `config` around an already started actor.
    pub(crate) fn new(
        config: &IssuerConfig,
        keys: Arc<ArcSwap<KeySnapshot>>,
        actor: Addr<JwksActor>,
        miss_wait: Duration,
    ) -> Self {
        Self {
            name: config.name.clone(),
            patterns: issuer_patterns(config),
            audiences: config.audiences.clone(),
            tenants: config.tenants.iter().map(|t| t.to_ascii_lowercase()).collect(),
            leeway: config.leeway.as_secs_f64(),
            keys,
            actor,
            miss_wait,
        }
    }

    /// `issuer` then `additional_issuers`.
    pub(crate) fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Matches `iss`. A `{tenantid}` pattern is expanded only with the token's own `tid`;
    /// when `tenants` is set, a plain pattern also requires `tid` to be listed.
    pub(crate) fn match_iss(&self, iss: &str, tid: Option<&str>) -> IssuerMatch {
        for pattern in &self.patterns {
            let matched = if pattern.contains(TENANT_PLACEHOLDER) {
                tid.is_some_and(|tid| pattern.replace(TENANT_PLACEHOLDER, tid) == iss)
            } else {
                pattern == iss
            };
            if !matched {
                continue;
            }
            let allowed = self.tenants.is_empty()
                || tid.is_some_and(|tid| self.tenants.contains(&tid.to_ascii_lowercase()));
            return if allowed { IssuerMatch::Accepted } else { IssuerMatch::TenantNotAllowed };
        }
        IssuerMatch::NoMatch
    }
}

/// The issuer strings of a configuration: `issuer`, then `additional_issuers`.
pub(crate) fn issuer_patterns(config: &IssuerConfig) -> Vec<String> {
    std::iter::once(&config.issuer).chain(&config.additional_issuers).cloned().collect()
}

/// The configured algorithms as [`Algorithm`]s; names the validator does not know were
/// already refused by configuration validation and are skipped here.
pub(crate) fn configured_algorithms(config: &IssuerConfig) -> Vec<Algorithm> {
    config.algorithms().iter().filter_map(|name| Algorithm::from_name(name)).collect()
}

/// Whether a per-key `issuer` (Entra v2 publishes one, with `{tenantid}`) allows a token
/// with `iss` and `tid`: the key's issuer, expanded with the token's own `tid`, must be the
/// token's `iss` or another form of the same configured issuer for that tenant (Entra signs
/// v1 tokens with keys its v2 JWKS labels with the v2 issuer). A key pinned to one tenant
/// thus never vouches for another tenant's tokens.
pub(crate) fn key_issuer_allows(
    key_issuer: &str,
    iss: &str,
    tid: Option<&str>,
    patterns: &[String],
) -> bool {
    let expand = |pattern: &str| match tid {
        Some(tid) => pattern.replace(TENANT_PLACEHOLDER, tid),
        None => pattern.to_owned(),
    };
    let key_issuer = expand(key_issuer);
    if key_issuer.contains(TENANT_PLACEHOLDER) {
        return false;
    }
    key_issuer == iss || patterns.iter().any(|pattern| expand(pattern) == key_issuer)
}
