//! Getting an issuer's keys: OpenID discovery, a JWKS URL or a local file.
//!
//! Every remote document is capped in size and in time. The discovery document must name
//! the configured issuer (OpenID Connect Discovery §4.3); otherwise a compromised or
//! mistyped discovery URL could make us trust another issuer's keys.

use std::path::PathBuf;
use std::time::Duration;

use awc::http::header;
use openssl::ssl::{SslConnector, SslMethod};
use serde::Deserialize;

use super::Tuning;
use super::error::JwksError;
use super::parse::{ParsedSet, parse_jwks};

/// Where an issuer's keys come from.
#[derive(Debug, Clone)]
pub(crate) enum KeySource {
    /// An OpenID discovery document naming the `jwks_uri`.
    Discovery(String),
    /// A JWKS URL.
    Uri(String),
    /// A local JWKS file.
    File(PathBuf),
}

/// A successful load.
#[derive(Debug)]
pub(crate) struct Fetched {
    /// The usable keys and the skipped ones.
    pub set: ParsedSet,
    /// The JWKS response's `Cache-Control: max-age`, if any.
    pub max_age: Option<Duration>,
    /// `id_token_signing_alg_values_supported` from discovery, if advertised.
    pub discovered_algs: Option<Vec<String>>,
}

impl KeySource {
    /// The source an issuer configures (validation ensures exactly one); relative file
    /// paths go through `resolve`.
    pub(crate) fn of(
        issuer: &skybridge_shared::config::IssuerConfig,
        resolve: impl Fn(&std::path::Path) -> PathBuf,
    ) -> Option<Self> {
        if let Some(url) = &issuer.discovery_url {
            Some(Self::Discovery(url.clone()))
        } else if let Some(url) = &issuer.jwks_uri {
            Some(Self::Uri(url.clone()))
        } else {
            issuer.jwks_file.as_deref().map(|path| Self::File(resolve(path)))
        }
    }
}

#[derive(Deserialize)]
struct Discovery {
    issuer: String,
    jwks_uri: String,
    #[serde(default)]
    id_token_signing_alg_values_supported: Option<Vec<String>>,
}

/// Builds the HTTP client for key fetches: openssl with the system trust roots, a bounded
/// number of redirects. Created inside the actor because `awc::Client` is not `Send`.
pub(crate) fn client(tuning: &Tuning) -> awc::Client {
    let mut connector = awc::Connector::new().timeout(tuning.fetch_timeout);
    // `SslConnector::builder` loads the system roots and turns on peer verification.
    match SslConnector::builder(SslMethod::tls()) {
        Ok(ssl) => connector = connector.openssl(ssl.build()),
        Err(err) => {
            tracing::error!(error = %err, "Cannot set up TLS for key fetches; https will fail.");
        }
    }
    awc::Client::builder()
        .connector(connector)
        .timeout(tuning.fetch_timeout)
        .max_redirects(3)
        .finish()
}

/// Loads keys from a remote source; `expected_issuers` are the configured issuer strings a
/// discovery document may name.
pub(crate) async fn fetch_remote(
    client: &awc::Client,
    source: &KeySource,
    expected_issuers: &[String],
    tuning: &Tuning,
) -> Result<Fetched, JwksError> {
    let work = async {
        let (jwks_uri, discovered_algs) = match source {
            KeySource::Discovery(url) => {
                let (body, _) = get(client, url, tuning.max_document_bytes).await?;
                let doc: Discovery = serde_json::from_slice(&body)
                    .map_err(|err| JwksError::Invalid(format!("discovery document: {err}")))?;
                if !expected_issuers.contains(&doc.issuer) {
                    return Err(JwksError::IssuerMismatch {
                        expected: expected_issuers.first().cloned().unwrap_or_default(),
                        found: doc.issuer,
                    });
                }
                (doc.jwks_uri, doc.id_token_signing_alg_values_supported)
            }
            KeySource::Uri(url) => (url.clone(), None),
            KeySource::File(path) => return load_file(path).map(|set| (set, None, None)),
        };
        let (body, max_age) = get(client, &jwks_uri, tuning.max_document_bytes).await?;
        Ok((parse_jwks(&body)?, max_age, discovered_algs))
    };
    let url = match source {
        KeySource::Discovery(url) | KeySource::Uri(url) => url.clone(),
        KeySource::File(path) => path.display().to_string(),
    };
    match tokio::time::timeout(tuning.fetch_timeout, work).await {
        Ok(result) => {
            let (set, max_age, discovered_algs) = result?;
            Ok(Fetched { set, max_age, discovered_algs })
        }
        Err(_) => Err(JwksError::Fetch { url, reason: "timed out".to_owned() }),
    }
}

/// Reads and parses a `jwks_file`.
pub(crate) fn load_file(path: &std::path::Path) -> Result<ParsedSet, JwksError> {
    let text =
        std::fs::read(path).map_err(|source| JwksError::File { path: path.to_owned(), source })?;
    parse_jwks(&text)
}

async fn get(
    client: &awc::Client,
    url: &str,
    limit: usize,
) -> Result<(bytes::Bytes, Option<Duration>), JwksError> {
    let fetch_error = |reason: String| JwksError::Fetch { url: url.to_owned(), reason };
    let mut response = client
        .get(url)
        .insert_header((header::ACCEPT, "application/json"))
        .send()
        .await
        .map_err(|err| fetch_error(err.to_string()))?;
    let status = response.status().as_u16();
    if status != 200 {
        return Err(JwksError::Status { url: url.to_owned(), status });
    }
    let max_age = response
        .headers()
        .get(header::CACHE_CONTROL)
        .and_then(|value| value.to_str().ok())
        .and_then(cache_max_age);
    let body = response.body().limit(limit).await.map_err(|err| match err {
        awc::error::PayloadError::Overflow => JwksError::TooLarge { url: url.to_owned(), limit },
        other => fetch_error(other.to_string()),
    })?;
    Ok((body, max_age))
}

/// The freshness lifetime a `Cache-Control` value grants: `max-age`, or zero for
/// `no-cache`/`no-store` (the caller clamps it to its minimum refresh interval).
pub fn cache_max_age(value: &str) -> Option<Duration> {
    let mut max_age = None;
    for directive in value.split(',') {
        let directive = directive.trim();
        let (name, arg) = directive.split_once('=').unwrap_or((directive, ""));
        let name = name.trim().to_ascii_lowercase();
        match name.as_str() {
            "no-cache" | "no-store" => return Some(Duration::ZERO),
            "max-age" => {
                let arg = arg.trim().trim_matches('"');
                max_age = arg.parse::<u64>().ok().map(Duration::from_secs);
            }
            _ => {}
        }
    }
    max_age
}
