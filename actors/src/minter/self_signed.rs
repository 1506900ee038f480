//! `self_signed`: tokens Skybridge signs itself with the key the [`KeyWatcher`] chose, with
//! integer NumericDates, a random `jti` and, when configured, the caller's verified identity.
//!
//! [`KeyWatcher`]: super::key_watcher::KeyWatcher

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use serde_json::{Value, json};
use skybridge_shared::config::InjectHeader;

use super::cache::Cache;
use super::error::CredentialError;
use super::key_watcher::KeyView;
use super::token::{CallerIdentity, Token, TokenParts};
use crate::signing::{random_jti, unix_now};

/// Signs tokens for one `self_signed` credential.
pub(crate) struct SelfSigned {
    pub(crate) name: Arc<str>,
    pub(crate) header: InjectHeader,
    pub(crate) issuer: String,
    pub(crate) audience: String,
    pub(crate) ttl: Duration,
    pub(crate) include_caller: bool,
    pub(crate) keys: Arc<ArcSwap<KeyView>>,
    pub(crate) cache: Cache,
    pub(crate) serial: AtomicU64,
}

impl SelfSigned {
    /// The cached token while it is usable and signed by the current key; a new one
    /// otherwise. With `include_caller` and an identity, a token of its own for that caller.
    pub(crate) fn token(
        &self,
        identity: Option<&CallerIdentity>,
    ) -> Result<Token, CredentialError> {
        let view = self.keys.load();
        let Some(signer) = view.signer.as_ref() else {
            return Err(self.unavailable("no usable signing key".into()));
        };
        let caller = identity.filter(|_| self.include_caller);
        if caller.is_none()
            && let Some(token) = self.cache.usable(SystemTime::now())
            && token.kid() == Some(signer.kid())
        {
            return Ok(token);
        }
        let now = unix_now();
        let exp = now + self.ttl.as_secs().max(1);
        let mut claims = json!({
            "iss": self.issuer,
            "aud": self.audience,
            "sub": &*self.name,
            "iat": now,
            "nbf": now,
            "exp": exp,
            "jti": random_jti().map_err(|err| self.unavailable(err.to_string()))?,
        });
        if let (Some(caller), Value::Object(members)) = (caller, &mut claims) {
            let caller =
                serde_json::to_value(caller).map_err(|err| self.unavailable(err.to_string()))?;
            members.insert("caller".into(), caller);
        }
        let jwt = signer.sign_jwt(&claims).map_err(|err| self.unavailable(err.to_string()))?;
        let expires_at = UNIX_EPOCH + Duration::from_secs(exp);
        let token = Token::new(TokenParts {
            credential: Arc::clone(&self.name),
            header: self.header,
            jwt,
            expires_at,
            // Re-sign once 80% of the lifetime has passed.
            usable_until: expires_at - self.ttl / 5,
            serial: self.serial.fetch_add(1, Ordering::Relaxed) + 1,
            kid: Some(signer.kid().to_owned()),
        });
        if caller.is_none() {
            self.cache.store(token.clone());
        }
        Ok(token)
    }

    fn unavailable(&self, reason: String) -> CredentialError {
        CredentialError::Unavailable { credential: self.name.to_string(), reason }
    }
}
