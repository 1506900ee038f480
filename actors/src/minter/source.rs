//! The remote kinds behind one enum, so the actor drives every kind the same way, and the
//! check every minted Google ID token goes through.

use std::rc::Rc;
use std::time::{Duration, SystemTime};

use super::azure_wif::AzureWif;
use super::error::MintError;
use super::google_sa::GoogleServiceAccount;
use super::metadata::MetadataServer;
use super::token::{expiry, has_audience, unverified_claims};

/// A token fresh from an endpoint, checked for audience and expiry.
pub(crate) struct Minted {
    pub(crate) jwt: String,
    pub(crate) expires_at: SystemTime,
}

/// One remote way of obtaining a Google ID token.
pub(crate) enum Source {
    /// `google_service_account`.
    ServiceAccount(Rc<GoogleServiceAccount>),
    /// `gce_metadata`.
    Metadata(Rc<MetadataServer>),
    /// `azure_workload_identity`.
    Azure(Rc<AzureWif>),
}

impl Source {
    /// Runs one mint to completion with `client`.
    pub(crate) async fn mint(
        &self,
        client: awc::Client,
        timeout: Duration,
    ) -> Result<Minted, MintError> {
        match self {
            Self::ServiceAccount(source) => Rc::clone(source).mint(client, timeout).await,
            Self::Metadata(source) => Rc::clone(source).mint(client, timeout).await,
            Self::Azure(source) => Rc::clone(source).mint(client, timeout).await,
        }
    }
}

/// Checks an ID token's shape, audience and `exp` and keeps it. The signature is Google's to
/// vouch for and the upstream's to verify; the minter only refuses what is plainly unusable.
pub(crate) fn accept_id_token(
    step: &'static str,
    jwt: String,
    audience: &str,
) -> Result<Minted, MintError> {
    let claims = unverified_claims(&jwt)
        .map_err(|detail| MintError::Unusable { step, detail: detail.to_owned() })?;
    if !has_audience(&claims, audience) {
        let detail = format!("its aud is not {audience:?}");
        return Err(MintError::Unusable { step, detail });
    }
    let expires_at = expiry(&claims)
        .ok_or(MintError::Unusable { step, detail: "it has no integer exp".into() })?;
    if expires_at <= SystemTime::now() {
        return Err(MintError::Unusable { step, detail: "it has already expired".into() });
    }
    Ok(Minted { jwt, expires_at })
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use serde_json::json;

    use super::*;
    use crate::signing::unix_now;

    fn jwt(claims: serde_json::Value) -> String {
        let part = |v: serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
        format!("{}.{}.c2ln", part(json!({"alg": "RS256"})), part(claims))
    }

    #[test]
    fn only_live_tokens_for_our_audience_are_accepted() {
        let exp = unix_now() + 600;
        let ok = accept_id_token("s", jwt(json!({"aud": ["x", "a"], "exp": exp})), "a");
        assert!(ok.is_ok_and(|m| m.expires_at > SystemTime::now()));
        let cases = [
            (jwt(json!({"aud": "b", "exp": exp})), "its aud is not \"a\""),
            (jwt(json!({"aud": "a", "exp": unix_now() - 1})), "it has already expired"),
            (jwt(json!({"aud": "a", "exp": "soon"})), "it has no integer exp"),
            ("not-a-jwt".to_owned(), "the token is not a compact JWT"),
        ];
        for (token, expected) in cases {
            let err = accept_id_token("s", token, "a").err().map(|e| e.to_string());
            assert_eq!(err, Some(format!("s: unusable token: {expected}")));
        }
    }
}
