//! Semantic checks across the whole configuration, reporting every problem at once.
//!
//! Parsing (serde) already rejected unknown keys and wrong types. What remains are the
//! checks a schema cannot express: names that must resolve, files that must exist, values
//! that must be in range, and combinations that make no sense.

use std::collections::HashSet;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use super::{
    AuthPolicy, Config, CredentialConfig, CredentialKind, IssuerConfig, PolicyConfig, PolicyKind,
    RouteConfig, UpstreamConfig,
};

/// Algorithms Skybridge can verify; anything else in `algorithms` is a configuration error.
pub const SUPPORTED_ALGORITHMS: &[&str] =
    &["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"];

/// One problem: the dotted key it concerns and why it is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    /// Dotted path of the key, e.g. `routes[2].upstream`.
    pub key: String,
    /// What is wrong and, where useful, how to fix it.
    pub reason: String,
}

/// Every problem found in one configuration.
#[derive(Debug, Clone, Default)]
pub struct ConfigProblems(pub Vec<ConfigProblem>);

impl ConfigProblems {
    /// Records a problem with `key`.
    pub fn push(&mut self, key: impl Into<String>, reason: impl Into<String>) {
        self.0.push(ConfigProblem { key: key.into(), reason: reason.into() });
    }

    /// Whether no problem was found.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for ConfigProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for problem in &self.0 {
            writeln!(f, "{}: {}", problem.key, problem.reason)?;
        }
        Ok(())
    }
}

impl Config {
    /// Checks the loaded configuration and returns every problem found.
    pub fn validate(&self) -> ConfigProblems {
        let mut problems = ConfigProblems::default();
        self.check_listeners(&mut problems);
        unique_names(&mut problems, "upstreams", self.upstreams.iter().map(|u| &u.name));
        unique_names(&mut problems, "routes", self.routes.iter().map(|r| &r.name));
        unique_names(&mut problems, "issuers", self.issuers.iter().map(|i| &i.name));
        unique_names(&mut problems, "credentials", self.credentials.iter().map(|c| &c.name));
        let policy_names = self.rate_limit.policies.iter().map(|p| &p.name);
        unique_names(&mut problems, "rate_limit.policies", policy_names);
        for (index, upstream) in self.upstreams.iter().enumerate() {
            self.check_upstream(&mut problems, &format!("upstreams[{index}]"), upstream);
        }
        for (index, route) in self.routes.iter().enumerate() {
            self.check_route(&mut problems, &format!("routes[{index}]"), route);
        }
        for (index, issuer) in self.issuers.iter().enumerate() {
            self.check_issuer(&mut problems, &format!("issuers[{index}]"), issuer);
        }
        self.check_rate_limit(&mut problems);
        for (index, credential) in self.credentials.iter().enumerate() {
            self.check_credential(&mut problems, &format!("credentials[{index}]"), credential);
        }
        if let Some(endpoint) = &self.telemetry.otlp_endpoint {
            check_url(&mut problems, "telemetry.otlp_endpoint", endpoint, &["http", "https"]);
        }
        problems
    }

    fn check_listeners(&self, problems: &mut ConfigProblems) {
        let public = check_socket(problems, "listener.address", &self.listener.address);
        let admin = check_socket(problems, "admin.address", &self.admin.address);
        if let (Some(public), Some(admin)) = (public, admin)
            && public == admin
            && public.port() != 0
        {
            problems.push("admin.address", "must differ from listener.address");
        }
        if self.listener.max_body_bytes == 0 {
            problems.push("listener.max_body_bytes", "must be greater than 0");
        }
        if let Some(tls) = &self.listener.tls {
            self.check_file(problems, "listener.tls.certificate", &tls.certificate);
            self.check_file(problems, "listener.tls.private_key", &tls.private_key);
            if let Some(ca) = &tls.client_ca {
                self.check_file(problems, "listener.tls.client_ca", ca);
            }
        }
    }

    fn check_upstream(&self, problems: &mut ConfigProblems, key: &str, upstream: &UpstreamConfig) {
        check_url(problems, &format!("{key}.url"), &upstream.url, &["http", "https"]);
        if let Some(name) = &upstream.credential
            && self.credential(name).is_none()
        {
            problems.push(format!("{key}.credential"), format!("no credential named {name:?}"));
        }
        check_positive(problems, &format!("{key}.connect_timeout"), upstream.connect_timeout);
        check_positive(problems, &format!("{key}.request_timeout"), upstream.request_timeout);
        if upstream.max_connections == 0 {
            problems.push(format!("{key}.max_connections"), "must be greater than 0");
        }
        let Some(tls) = &upstream.tls else { return };
        for (field, path) in [
            ("ca", &tls.ca),
            ("client_certificate", &tls.client_certificate),
            ("client_private_key", &tls.client_private_key),
        ] {
            if let Some(path) = path {
                self.check_file(problems, &format!("{key}.tls.{field}"), path);
            }
        }
        if tls.client_certificate.is_some() != tls.client_private_key.is_some() {
            problems.push(
                format!("{key}.tls"),
                "client_certificate and client_private_key must be set together",
            );
        }
        if upstream.url.starts_with("http://") {
            problems.push(format!("{key}.tls"), "is set but the url is not https://");
        }
    }

    fn check_route(&self, problems: &mut ConfigProblems, key: &str, route: &RouteConfig) {
        let prefix = &route.path_prefix;
        if !prefix.starts_with('/') {
            problems.push(format!("{key}.path_prefix"), "must start with '/'");
        } else if prefix.contains(['%', '?', '#', '\\'])
            || prefix.split('/').any(|s| s == "." || s == "..")
            || prefix.contains("//")
        {
            problems.push(
                format!("{key}.path_prefix"),
                "must be a normalised path: no '%', '?', '#', '\\', '//' or dot segments",
            );
        }
        for (index, method) in route.methods.iter().enumerate() {
            let is_token = !method.is_empty()
                && method.bytes().all(|b| b.is_ascii_uppercase() || b == b'-' || b == b'_');
            if !is_token {
                problems.push(
                    format!("{key}.methods[{index}]"),
                    format!("{method:?} is not an upper-case HTTP method"),
                );
            }
        }
        if self.upstream(&route.upstream).is_none() {
            problems
                .push(format!("{key}.upstream"), format!("no upstream named {:?}", route.upstream));
        }
        match &route.auth {
            None => problems.push(
                format!("{key}.auth"),
                "is required; set auth = \"anonymous\" to let callers in without a token",
            ),
            Some(AuthPolicy::Required(required)) => {
                if self.issuers.is_empty() {
                    problems.push(
                        format!("{key}.auth"),
                        "requires a token but no issuers are configured",
                    );
                }
                for (index, name) in required.issuers.iter().enumerate() {
                    if !self.issuers.iter().any(|i| &i.name == name) {
                        problems.push(
                            format!("{key}.auth.issuers[{index}]"),
                            format!("no issuer named {name:?}"),
                        );
                    }
                }
            }
            Some(AuthPolicy::Anonymous) => {}
        }
        for (index, name) in route.rate_limits.iter().enumerate() {
            if !self.rate_limit.policies.iter().any(|p| &p.name == name) {
                problems.push(
                    format!("{key}.rate_limits[{index}]"),
                    format!("no policy named {name:?}"),
                );
            }
        }
    }

    fn check_issuer(&self, problems: &mut ConfigProblems, key: &str, issuer: &IssuerConfig) {
        if issuer.issuer.is_empty() {
            problems.push(format!("{key}.issuer"), "must not be empty");
        }
        let sources =
            [issuer.discovery_url.is_some(), issuer.jwks_uri.is_some(), issuer.jwks_file.is_some()];
        if sources.iter().filter(|s| **s).count() != 1 {
            problems
                .push(key.to_owned(), "set exactly one of discovery_url, jwks_uri and jwks_file");
        }
        for (field, url) in
            [("discovery_url", &issuer.discovery_url), ("jwks_uri", &issuer.jwks_uri)]
        {
            if let Some(url) = url {
                check_url(problems, &format!("{key}.{field}"), url, &["http", "https"]);
            }
        }
        if let Some(file) = &issuer.jwks_file {
            self.check_file(problems, &format!("{key}.jwks_file"), file);
        }
        // An issuer without audiences would accept tokens minted for any other API of the
        // same provider; Skybridge never skips the audience check.
        if issuer.audiences.is_empty() || issuer.audiences.iter().any(String::is_empty) {
            problems.push(format!("{key}.audiences"), "must list at least one non-empty audience");
        }
        if issuer.leeway > std::time::Duration::from_secs(300) {
            problems.push(format!("{key}.leeway"), "must be at most 5m");
        }
        let templated = std::iter::once(&issuer.issuer)
            .chain(&issuer.additional_issuers)
            .any(|i| i.contains(super::issuer::TENANT_PLACEHOLDER));
        if templated && issuer.tenants.is_empty() {
            problems
                .push(format!("{key}.tenants"), "is required when the issuer contains {tenantid}");
        }
        for (index, alg) in issuer.algorithms.iter().enumerate() {
            if !SUPPORTED_ALGORITHMS.contains(&alg.as_str()) {
                problems.push(
                    format!("{key}.algorithms[{index}]"),
                    format!(
                        "{alg:?} is not accepted; use one of {}",
                        SUPPORTED_ALGORITHMS.join(", ")
                    ),
                );
            }
        }
    }

    fn check_rate_limit(&self, problems: &mut ConfigProblems) {
        let section = &self.rate_limit;
        if let Some(url) = &section.redis_url {
            check_url(problems, "rate_limit.redis_url", url, &["redis", "rediss"]);
        }
        check_positive(problems, "rate_limit.timeout", section.timeout);
        if section.expected_instances == 0 {
            problems.push("rate_limit.expected_instances", "must be greater than 0");
        }
        for (index, proxy) in section.trusted_proxies.iter().enumerate() {
            if proxy.parse::<IpAddr>().is_err() {
                problems.push(
                    format!("rate_limit.trusted_proxies[{index}]"),
                    format!("{proxy:?} is not an IP address"),
                );
            }
        }
        for (index, policy) in section.policies.iter().enumerate() {
            check_policy(problems, &format!("rate_limit.policies[{index}]"), policy);
        }
    }

    fn check_credential(
        &self,
        problems: &mut ConfigProblems,
        key: &str,
        credential: &CredentialConfig,
    ) {
        let mut require = |field: &str, present: bool| {
            if !present {
                problems.push(
                    format!("{key}.{field}"),
                    format!("is required for kind {:?}", credential.kind),
                );
            }
        };
        match credential.kind {
            CredentialKind::GoogleServiceAccount => {
                require("audience", credential.audience.is_some());
                require("key_file", credential.key_file.is_some());
            }
            CredentialKind::GceMetadata => {
                require("audience", credential.audience.is_some());
                require("metadata_url", credential.metadata_url.is_some());
            }
            CredentialKind::AzureWorkloadIdentity => {
                require("audience", credential.audience.is_some());
                require("credential_file", credential.credential_file.is_some());
                require("service_account", credential.service_account.is_some());
                require("iam_credentials_url", credential.iam_credentials_url.is_some());
                if let Some(account) = &credential.service_account
                    && (account.is_empty() || account.contains(['/', '?', '#', ' ', '%']))
                {
                    problems.push(
                        format!("{key}.service_account"),
                        "must be a service-account email or unique id",
                    );
                }
            }
            CredentialKind::SelfSigned => {
                require("audience", credential.audience.is_some());
                require("issuer", credential.issuer.is_some());
                require("signing_keys", credential.signing_keys.is_some());
            }
        }
        for (field, path) in [
            ("key_file", &credential.key_file),
            ("credential_file", &credential.credential_file),
            ("signing_keys", &credential.signing_keys),
        ] {
            if let Some(path) = path {
                self.check_file(problems, &format!("{key}.{field}"), path);
            }
        }
        for (field, url) in [
            ("metadata_url", &credential.metadata_url),
            ("iam_credentials_url", &credential.iam_credentials_url),
        ] {
            if let Some(url) = url {
                check_url(problems, &format!("{key}.{field}"), url, &["http", "https"]);
            }
        }
        check_positive(problems, &format!("{key}.ttl"), credential.ttl);
        check_credential_kind_fields(problems, key, credential);
        if let Some(dir) = &credential.signing_keys
            && std::fs::metadata(self.resolve(dir)).is_ok_and(|m| !m.is_dir())
        {
            problems.push(format!("{key}.signing_keys"), "must be a directory of PEM private keys");
        }
    }

    /// Records a problem unless `path` (resolved against the file's directory) exists.
    fn check_file(&self, problems: &mut ConfigProblems, key: &str, path: &Path) {
        let resolved = self.resolve(path);
        if let Err(err) = std::fs::metadata(&resolved) {
            problems.push(key.to_owned(), format!("cannot read {}: {err}", resolved.display()));
        }
    }
}

/// Rejects fields that only one kind reads, so a typo in `kind` is not silently ignored.
fn check_credential_kind_fields(
    problems: &mut ConfigProblems,
    key: &str,
    credential: &CredentialConfig,
) {
    let azure = credential.kind == CredentialKind::AzureWorkloadIdentity;
    let endpoint = credential.identity_endpoint_env.is_some();
    let header = credential.identity_header_env.is_some();
    if (endpoint || header) && !azure {
        problems.push(
            format!("{key}.identity_endpoint_env"),
            "identity_endpoint_env and identity_header_env apply to kind azure_workload_identity",
        );
    } else if endpoint != header {
        problems.push(
            format!("{key}.identity_header_env"),
            "identity_endpoint_env and identity_header_env must be set together",
        );
    }
    for (field, name) in [
        ("identity_endpoint_env", &credential.identity_endpoint_env),
        ("identity_header_env", &credential.identity_header_env),
    ] {
        if let Some(name) = name
            && (name.is_empty() || name.contains(['=', '\0']))
        {
            problems.push(format!("{key}.{field}"), "must name an environment variable");
        }
    }
    if credential.include_caller && credential.kind != CredentialKind::SelfSigned {
        problems.push(format!("{key}.include_caller"), "applies to kind self_signed only");
    }
}

/// Largest count or time (in microseconds) the limiter handles: the Lua script computes in
/// doubles, which are exact up to 2^53.
const MAX_EXACT: u64 = 1 << 53;

/// Longest a rate bucket may take to refill (`burst × period / limit`): ten years. Keeps every
/// time the script computes (now + this) below [`MAX_EXACT`] microseconds.
const MAX_REFILL_MICROS: u128 = 10 * 365 * 86_400 * 1_000_000;

fn check_policy(problems: &mut ConfigProblems, key: &str, policy: &PolicyConfig) {
    if policy.limit == 0 {
        problems.push(format!("{key}.limit"), "must be greater than 0");
    }
    if policy.limit > MAX_EXACT {
        problems.push(format!("{key}.limit"), format!("must be at most {MAX_EXACT}"));
    }
    let printable = policy.name.bytes().all(|b| (0x20..=0x7e).contains(&b));
    if policy.name.is_empty() || !printable {
        problems.push(
            format!("{key}.name"),
            "must be non-empty printable ASCII (it is sent in the RateLimit-Policy field)",
        );
    }
    if policy.kind == PolicyKind::Rate {
        check_rate_range(problems, key, policy);
    }
    match policy.kind {
        PolicyKind::Rate => {
            if policy.period < Duration::from_secs(1) || policy.period.subsec_nanos() != 0 {
                problems.push(
                    format!("{key}.period"),
                    "must be a whole number of seconds, at least 1s",
                );
            }
            let burst = policy.burst.unwrap_or(policy.limit);
            if burst == 0 {
                problems.push(format!("{key}.burst"), "must be greater than 0");
            }
            if policy.cost > burst {
                problems.push(
                    format!("{key}.cost"),
                    format!("{} exceeds the burst of {burst}", policy.cost),
                );
            }
        }
        PolicyKind::Quota => {
            const CALENDAR: [u64; 3] = [3600, 86_400, 30 * 86_400];
            if !CALENDAR.contains(&policy.period.as_secs()) || policy.period.subsec_nanos() != 0 {
                problems.push(
                    format!("{key}.period"),
                    "a quota's period is 1h, 1d or 30d (calendar month)",
                );
            }
            if policy.burst.is_some() {
                problems.push(format!("{key}.burst"), "applies to kind \"rate\" only");
            }
            if policy.cost > policy.limit {
                problems.push(
                    format!("{key}.cost"),
                    format!("{} exceeds the limit of {}", policy.cost, policy.limit),
                );
            }
        }
    }
    if policy.cost == 0 {
        problems.push(format!("{key}.cost"), "must be greater than 0");
    }
    let key_ok = match policy.key.split_once(':') {
        Some(("claim" | "header", name)) => !name.is_empty(),
        None => matches!(policy.key.as_str(), "client_ip" | "route"),
        _ => false,
    };
    if !key_ok {
        problems.push(
            format!("{key}.key"),
            format!("{:?} is not one of claim:NAME, header:NAME, client_ip, route", policy.key),
        );
    }
}

/// The emission interval (`period / limit`) must be at least 1 µs and a full refill must fit
/// in [`MAX_REFILL_MICROS`].
fn check_rate_range(problems: &mut ConfigProblems, key: &str, policy: &PolicyConfig) {
    if policy.limit == 0 {
        return;
    }
    let emission = policy.period.as_micros() / u128::from(policy.limit);
    if emission == 0 {
        problems.push(
            format!("{key}.limit"),
            "exceeds one request per microsecond of the period; lengthen the period",
        );
    }
    let burst = u128::from(policy.burst.unwrap_or(policy.limit));
    if burst.saturating_mul(emission) > MAX_REFILL_MICROS {
        problems.push(
            format!("{key}.burst"),
            "takes more than ten years to refill (burst × period / limit); lower it",
        );
    }
}

fn unique_names<'a>(
    problems: &mut ConfigProblems,
    section: &str,
    names: impl Iterator<Item = &'a String>,
) {
    let mut seen = HashSet::new();
    for (index, name) in names.enumerate() {
        if name.is_empty() {
            problems.push(format!("{section}[{index}].name"), "must not be empty");
        } else if !seen.insert(name) {
            problems.push(format!("{section}[{index}].name"), format!("{name:?} is used twice"));
        }
    }
}

fn check_socket(problems: &mut ConfigProblems, key: &str, value: &str) -> Option<SocketAddr> {
    match value.parse() {
        Ok(addr) => Some(addr),
        Err(_) => {
            problems.push(key.to_owned(), format!("{value:?} is not an IP address and port"));
            None
        }
    }
}

fn check_positive(problems: &mut ConfigProblems, key: &str, value: Duration) {
    if value.is_zero() {
        problems.push(key.to_owned(), "must be longer than 0s");
    }
}

fn check_url(problems: &mut ConfigProblems, key: &str, value: &str, schemes: &[&str]) {
    let scheme_ok = value.split_once("://").is_some_and(|(scheme, rest)| {
        schemes.contains(&scheme) && !rest.is_empty() && !rest.starts_with('/')
    });
    if !scheme_ok {
        let expected: Vec<String> = schemes.iter().map(|s| format!("{s}://")).collect();
        problems.push(
            key.to_owned(),
            format!("{value:?} is not a URL starting with {}", expected.join(" or ")),
        );
    }
}
