//! The token minter: the credentials Skybridge presents to upstreams.
//!
//! [`Credentials`] is the handle request handlers use. Each remote credential
//! (`google_service_account`, `gce_metadata`, `azure_workload_identity`) has one
//! `MinterActor`, which owns the only mint in flight for it, the callers waiting on that mint,
//! the refresh timer and the backoff state. Each `self_signed` credential has one
//! `KeyWatcher`, which owns its key directory and rotation.
//!
//! Invariants:
//! - a request reads the current token from a lock-free snapshot; it messages the actor only
//!   when there is no usable token, and however many requests do, one mint runs;
//! - a token is refreshed ahead of expiry (80% of its lifetime or 5 minutes before `exp`,
//!   whichever is first, with jitter) and stops being handed out shortly before `exp`;
//! - after a failed mint the actor backs off exponentially while a still-valid token keeps
//!   being served; readiness (`credential:<name>`) says which state it is in and why;
//! - no token, key or secret reaches a log line, an error or readiness.
//!
//! Every endpoint comes from the configuration or the credential file; none has a default.

mod actor;
mod azure_wif;
mod cache;
mod error;
mod google_sa;
mod http;
mod key_watcher;
mod messages;
mod metadata;
mod options;
mod rotation;
mod schedule;
mod self_signed;
mod setup;
mod source;
mod token;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::SystemTime;

use actix::Addr;
use serde_json::{Value, json};
use skybridge_shared::config::Config;
use skybridge_shared::health::Health;

pub use error::{CredentialError, MinterError};
pub use options::{EnvReader, MinterOptions};
pub use token::{CallerIdentity, Token};

use actor::MinterActor;
use cache::Cache;
use key_watcher::KeyWatcher;
use messages::GetToken;
use self_signed::SelfSigned;

/// The minted credentials. Cheap to clone, Send + Sync; created inside a running actix System.
#[derive(Clone)]
pub struct Credentials {
    inner: Arc<Inner>,
}

struct Inner {
    slots: HashMap<String, Slot>,
    options: MinterOptions,
}

/// One configured credential.
enum Slot {
    Remote { cache: Arc<Cache>, minter: Addr<MinterActor> },
    SelfSigned { signer: Arc<SelfSigned>, _watcher: Addr<KeyWatcher> },
}

impl Credentials {
    /// Starts the minter with default options; publishes readiness per credential into
    /// `health` as `credential:<name>`.
    pub fn start(config: &Config, health: Health) -> Result<Self, MinterError> {
        Self::start_with(config, health, MinterOptions::default())
    }

    /// Starts the minter with explicit options (shorter timeouts, extra CA roots, an
    /// environment seam). Fails on the first credential whose files or environment are
    /// unusable, naming it.
    pub fn start_with(
        config: &Config,
        health: Health,
        options: MinterOptions,
    ) -> Result<Self, MinterError> {
        let mut slots = HashMap::new();
        for credential in &config.credentials {
            let slot = setup::start_slot(config, credential, &health, &options)?;
            slots.insert(credential.name.clone(), slot);
        }
        Ok(Self { inner: Arc::new(Inner { slots, options }) })
    }

    /// The current token for `credential`: a snapshot read, a message only on a miss, one
    /// mint in flight per credential however many callers wait. `identity` is the verified
    /// caller, put into `self_signed` tokens whose credential sets `include_caller`.
    pub async fn token(
        &self,
        credential: &str,
        identity: Option<&CallerIdentity>,
    ) -> Result<Token, CredentialError> {
        match self.inner.slots.get(credential) {
            None => Err(CredentialError::Unknown(credential.to_owned())),
            Some(Slot::SelfSigned { signer, .. }) => signer.token(identity),
            Some(Slot::Remote { cache, minter }) => {
                if let Some(token) = cache.usable(SystemTime::now()) {
                    return Ok(token);
                }
                minter.send(GetToken).await.unwrap_or_else(|_| {
                    Err(CredentialError::Unavailable {
                        credential: credential.to_owned(),
                        reason: "the minter stopped".into(),
                    })
                })
            }
        }
    }

    /// The upstream answered 401 with `token`: drop it so the next call mints again. Tokens
    /// already replaced, or minted less than `remint_floor` ago, are left alone.
    pub fn invalidate(&self, credential: &str, token: &Token) {
        let cache = match self.inner.slots.get(credential) {
            Some(Slot::Remote { cache, .. }) => cache.as_ref(),
            Some(Slot::SelfSigned { signer, .. }) => &signer.cache,
            None => return,
        };
        if cache.invalidate(token, self.inner.options.remint_floor) {
            tracing::info!(credential, "Dropped an upstream token the upstream refused.");
        }
    }

    /// Every published self-signed public key, as a JWKS document for
    /// `/.well-known/jwks.json`.
    pub fn jwks(&self) -> Value {
        let mut keys = BTreeMap::new();
        for slot in self.inner.slots.values() {
            if let Slot::SelfSigned { signer, .. } = slot {
                for jwk in &signer.keys.load().published {
                    let kid = jwk.get("kid").and_then(Value::as_str).unwrap_or_default();
                    keys.insert(kid.to_owned(), jwk.clone());
                }
            }
        }
        json!({ "keys": keys.into_values().collect::<Vec<_>>() })
    }

    /// The names of the configured credentials.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.inner.slots.keys().map(String::as_str)
    }

    /// The current token of `credential` without minting, usable or not (for diagnostics
    /// and tests).
    pub fn peek(&self, credential: &str) -> Option<Token> {
        match self.inner.slots.get(credential)? {
            Slot::Remote { cache, .. } => cache.current(),
            Slot::SelfSigned { signer, .. } => signer.cache.current(),
        }
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("credentials", &self.inner.slots.len()).finish()
    }
}
