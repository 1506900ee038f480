//! Turns one `[[credentials]]` entry into a running minter or key watcher.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use actix::Actor;
use skybridge_shared::config::{Config, CredentialConfig, CredentialKind};
use skybridge_shared::health::Health;

use super::actor::{MinterActor, MinterParts};
use super::azure_wif::{AppServiceEnv, AzureSettings, AzureWif};
use super::cache::Cache;
use super::error::MinterError;
use super::google_sa::GoogleServiceAccount;
use super::key_watcher::{KeyWatcher, WatchSettings};
use super::metadata::MetadataServer;
use super::options::MinterOptions;
use super::self_signed::SelfSigned;
use super::source::Source;
use super::{Slot, http};

/// Loads the credential's files and starts its actor in the current arbiter.
pub(super) fn start_slot(
    config: &Config,
    credential: &CredentialConfig,
    health: &Health,
    options: &MinterOptions,
) -> Result<Slot, MinterError> {
    let setup = |reason: String| MinterError::Setup { credential: credential.name.clone(), reason };
    let required = |field: &str, value: Option<&str>| {
        value.map(str::to_owned).ok_or_else(|| setup(format!("{field} is required")))
    };
    let audience = required("audience", credential.audience.as_deref())?;
    let source = match credential.kind {
        CredentialKind::SelfSigned => {
            return start_self_signed(config, credential, health, options);
        }
        CredentialKind::GoogleServiceAccount => {
            let file =
                credential.key_file.as_ref().ok_or_else(|| setup("key_file is required".into()))?;
            let account =
                GoogleServiceAccount::load(&config.resolve(file), &audience).map_err(setup)?;
            Source::ServiceAccount(std::rc::Rc::new(account))
        }
        CredentialKind::GceMetadata => {
            let url = required("metadata_url", credential.metadata_url.as_deref())?;
            Source::Metadata(std::rc::Rc::new(MetadataServer::new(&url, &audience)))
        }
        CredentialKind::AzureWorkloadIdentity => {
            let file = credential
                .credential_file
                .as_ref()
                .ok_or_else(|| setup("credential_file is required".into()))?;
            let app_service = app_service_env(credential, options).map_err(setup)?;
            let settings = AzureSettings {
                file: &config.resolve(file),
                service_account: &required(
                    "service_account",
                    credential.service_account.as_deref(),
                )?,
                iam_credentials_url: &required(
                    "iam_credentials_url",
                    credential.iam_credentials_url.as_deref(),
                )?,
                audience: &audience,
                app_service,
            };
            Source::Azure(std::rc::Rc::new(AzureWif::load(settings).map_err(setup)?))
        }
    };
    let cache = Arc::new(Cache::default());
    let minter = MinterActor::new(MinterParts {
        name: Arc::from(credential.name.as_str()),
        header: credential.header,
        source,
        client: http::client(options)?,
        cache: Arc::clone(&cache),
        health: health.clone(),
        options: options.clone(),
    })
    .start();
    Ok(Slot::Remote { cache, minter })
}

fn start_self_signed(
    config: &Config,
    credential: &CredentialConfig,
    health: &Health,
    options: &MinterOptions,
) -> Result<Slot, MinterError> {
    let setup = |reason: &str| MinterError::Setup {
        credential: credential.name.clone(),
        reason: reason.to_owned(),
    };
    let dir = credential.signing_keys.as_ref().ok_or_else(|| setup("signing_keys is required"))?;
    let name: Arc<str> = Arc::from(credential.name.as_str());
    let watcher = KeyWatcher::new(
        WatchSettings {
            name: Arc::clone(&name),
            dir: config.resolve(dir),
            publish_delay: credential.publish_delay,
            retain: credential.ttl + options.retire_grace,
            poll: options.key_poll_interval,
        },
        health.clone(),
    );
    let signer = SelfSigned {
        name,
        header: credential.header,
        issuer: credential.issuer.clone().ok_or_else(|| setup("issuer is required"))?,
        audience: credential.audience.clone().ok_or_else(|| setup("audience is required"))?,
        ttl: credential.ttl,
        include_caller: credential.include_caller,
        keys: watcher.view(),
        cache: Cache::default(),
        serial: AtomicU64::new(0),
    };
    Ok(Slot::SelfSigned { signer: Arc::new(signer), _watcher: watcher.start() })
}

/// The App Service endpoint and secret, read from the variables the configuration names.
fn app_service_env(
    credential: &CredentialConfig,
    options: &MinterOptions,
) -> Result<Option<AppServiceEnv>, String> {
    let (Some(endpoint_var), Some(secret_var)) =
        (&credential.identity_endpoint_env, &credential.identity_header_env)
    else {
        return Ok(None);
    };
    let read = |var: &str| {
        (options.env)(var)
            .filter(|value| !value.is_empty())
            .ok_or_else(|| format!("environment variable {var} is not set"))
    };
    Ok(Some(AppServiceEnv { endpoint: read(endpoint_var)?, secret: read(secret_var)? }))
}
