//! `google_service_account`: a Google ID token from a service-account key with the
//! JWT-bearer grant and `target_audience` (protocol note A1).
//!
//! The assertion carries no `scope`; that is what makes Google answer with an `id_token`
//! instead of an access token. The token endpoint is the key file's `token_uri`, never a
//! built-in default.

use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::error::MintError;
use super::http::{Body, exchange, json_field};
use super::source::{Minted, accept_id_token};
use crate::signing::{SigningKey, unix_now};

const STEP: &str = "token endpoint";
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Lifetime of the assertion, as Google's libraries use.
const ASSERTION_LIFETIME_SECS: u64 = 3600;

/// A loaded service-account key.
pub(crate) struct GoogleServiceAccount {
    key: SigningKey,
    key_id: String,
    email: String,
    token_uri: String,
    audience: String,
}

/// The fields of a key file that matter here; the rest is ignored.
#[derive(Deserialize)]
struct KeyFile {
    #[serde(rename = "type")]
    kind: String,
    client_email: String,
    private_key: String,
    private_key_id: String,
    #[serde(default)]
    token_uri: Option<String>,
}

impl GoogleServiceAccount {
    /// Reads and checks the key file. Errors name the file and the problem, never the key.
    pub(crate) fn load(path: &Path, audience: &str) -> Result<Self, String> {
        let shown = path.display();
        let text = std::fs::read(path).map_err(|err| format!("cannot read {shown}: {err}"))?;
        let file: KeyFile = serde_json::from_slice(&text)
            .map_err(|err| format!("{shown} is not a service-account key: {err}"))?;
        if file.kind != "service_account" {
            return Err(format!("{shown} has type {:?}, not \"service_account\"", file.kind));
        }
        let token_uri = file
            .token_uri
            .filter(|uri| uri.starts_with("https://") || uri.starts_with("http://"))
            .ok_or_else(|| format!("{shown} has no http(s) token_uri"))?;
        let key = SigningKey::from_pem(file.private_key.as_bytes())
            .map_err(|err| format!("{shown}: private_key: {err}"))?;
        Ok(Self {
            key,
            key_id: file.private_key_id,
            email: file.client_email,
            token_uri,
            audience: audience.to_owned(),
        })
    }

    /// Signs a fresh assertion and exchanges it for an ID token.
    pub(crate) async fn mint(
        self: Rc<Self>,
        client: awc::Client,
        timeout: Duration,
    ) -> Result<Minted, MintError> {
        let now = unix_now();
        let claims = json!({
            "iss": self.email,
            "aud": self.token_uri,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_SECS,
            "target_audience": self.audience,
        });
        let assertion = self
            .key
            .sign_jwt_with_kid(&self.key_id, &claims)
            .map_err(|err| MintError::Local(format!("cannot sign the assertion: {err}")))?;
        let form = vec![("grant_type", JWT_BEARER.to_owned()), ("assertion", assertion)];
        let request = client.post(&self.token_uri);
        let answer = exchange(STEP, request, Body::Form(form), timeout).await?;
        let id_token = json_field(STEP, &answer, "id_token", "no id_token in the answer")?;
        accept_id_token(STEP, id_token, &self.audience)
    }
}
