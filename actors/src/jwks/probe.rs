//! A one-off load of an issuer's keys for diagnostics (`skybridge doctor`): the same fetch
//! the [`JwksActor`](super::JwksActor) runs, outside any actor, reporting what it found
//! instead of publishing it.

use skybridge_shared::config::{Config, IssuerConfig};

use super::error::{JwksError, SkipReason};
use super::fetch::{self, KeySource};
use super::{Algorithm, Tuning};

/// What one load of an issuer's keys found.
#[derive(Debug)]
pub struct IssuerProbe {
    /// Where the keys came from: `discovery`, `jwks_uri` or `jwks_file`.
    pub source: &'static str,
    /// The discovery URL, JWKS URL or file path asked.
    pub location: String,
    /// Keys that verify at least one configured algorithm.
    pub usable: usize,
    /// Keys parsed but not usable with any configured algorithm.
    pub wrong_algorithm: usize,
    /// Keys skipped while parsing, with their `kid` and why.
    pub skipped: Vec<(Option<String>, SkipReason)>,
    /// `id_token_signing_alg_values_supported` from discovery, when advertised.
    pub discovered_algorithms: Option<Vec<String>>,
}

/// Loads `issuer`'s keys once. A failure names the URL that failed, so the caller can tell
/// a discovery failure from a JWKS failure by comparing it with [`IssuerProbe::location`].
pub async fn probe_issuer(
    config: &Config,
    issuer: &IssuerConfig,
    tuning: &Tuning,
) -> Result<IssuerProbe, JwksError> {
    let source = KeySource::of(issuer, |path| config.resolve(path))
        .ok_or_else(|| JwksError::Invalid("the issuer names no key source".into()))?;
    let (kind, location) = describe(&source);
    let fetched = match &source {
        KeySource::File(path) => fetch::load_file(path).map(|set| (set, None))?,
        remote => {
            let client = fetch::client(tuning);
            // The discovery document may name any configured form of the issuer.
            let expected: Vec<String> = std::iter::once(&issuer.issuer)
                .chain(&issuer.additional_issuers)
                .cloned()
                .collect();
            let fetched = fetch::fetch_remote(&client, remote, &expected, tuning).await?;
            (fetched.set, fetched.discovered_algs)
        }
    };
    let (set, discovered_algorithms) = fetched;
    let algorithms: Vec<Algorithm> =
        issuer.algorithms().iter().filter_map(|name| Algorithm::from_name(name)).collect();
    let usable =
        set.keys.iter().filter(|key| algorithms.iter().any(|alg| key.accepts(*alg))).count();
    Ok(IssuerProbe {
        source: kind,
        location,
        usable,
        wrong_algorithm: set.keys.len() - usable,
        skipped: set.skipped,
        discovered_algorithms,
    })
}

/// Where the keys of `issuer` come from, as `(kind, location)`, without loading them.
pub fn key_location(config: &Config, issuer: &IssuerConfig) -> Option<(&'static str, String)> {
    KeySource::of(issuer, |path| config.resolve(path)).map(|source| describe(&source))
}

fn describe(source: &KeySource) -> (&'static str, String) {
    match source {
        KeySource::Discovery(url) => ("discovery", url.clone()),
        KeySource::Uri(url) => ("jwks_uri", url.clone()),
        KeySource::File(path) => ("jwks_file", path.display().to_string()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failed unwrap is a failed test.
mod tests {
    use serde_json::json;

    use super::*;
    use crate::signing::{Algorithm as SigningAlgorithm, generate_key};

    #[actix_rt::test]
    async fn a_key_file_is_counted_by_configured_algorithm() {
        let dir = tempfile::tempdir().unwrap();
        let (_, es256) = generate_key(SigningAlgorithm::ES256).unwrap();
        let (_, eddsa) = generate_key(SigningAlgorithm::EdDSA).unwrap();
        let mut encryption = es256.clone();
        encryption["use"] = json!("enc");
        encryption["kid"] = json!("encryption");
        let jwks = json!({"keys": [es256, eddsa, encryption]});
        std::fs::write(dir.path().join("keys.json"), jwks.to_string()).unwrap();
        let text = "[[issuers]]\nname = \"dev\"\nissuer = \"https://dev.test\"\n\
                    jwks_file = \"keys.json\"\naudiences = [\"api\"]\nalgorithms = [\"ES256\"]\n";
        std::fs::write(dir.path().join("skybridge.toml"), text).unwrap();
        let config =
            skybridge_shared::config::load(Some(&dir.path().join("skybridge.toml"))).unwrap();
        let probe = probe_issuer(&config, &config.issuers[0], &Tuning::default()).await.unwrap();
        assert_eq!((probe.source, probe.usable, probe.wrong_algorithm), ("jwks_file", 1, 1));
        assert_eq!(probe.skipped.len(), 1);
        assert!(probe.location.ends_with("keys.json"));

        std::fs::remove_file(dir.path().join("keys.json")).unwrap();
        let err = probe_issuer(&config, &config.issuers[0], &Tuning::default()).await.unwrap_err();
        assert!(matches!(err, JwksError::File { .. }), "{err}");
    }
}
