//! `gce_metadata`: a Google ID token from the metadata server's identity endpoint
//! (protocol note A2), at the configured `metadata_url` only.
//!
//! `GCE_METADATA_HOST` is deliberately not read: the configuration names the server, so a
//! stray variable cannot redirect where Skybridge asks for tokens.

use std::rc::Rc;
use std::time::Duration;

use super::error::MintError;
use super::http::{Body, exchange, expect_success};
use super::source::{Minted, accept_id_token};

const STEP: &str = "metadata server";
const IDENTITY_PATH: &str = "/computeMetadata/v1/instance/service-accounts/default/identity";
const FLAVOR_HEADER: &str = "metadata-flavor";
const FLAVOR: &str = "Google";

/// Where the metadata server is and which audience to ask for.
pub(crate) struct MetadataServer {
    identity_url: String,
    audience: String,
}

impl MetadataServer {
    pub(crate) fn new(metadata_url: &str, audience: &str) -> Self {
        let base = metadata_url.trim_end_matches('/');
        Self { identity_url: format!("{base}{IDENTITY_PATH}"), audience: audience.to_owned() }
    }

    /// Asks for an ID token; the answer is the bare JWT as text.
    pub(crate) async fn mint(
        self: Rc<Self>,
        client: awc::Client,
        timeout: Duration,
    ) -> Result<Minted, MintError> {
        let request = client
            .get(&self.identity_url)
            .insert_header((FLAVOR_HEADER, FLAVOR))
            .query(&[("audience", self.audience.as_str())])
            .map_err(|err| MintError::Local(format!("cannot encode the audience: {err}")))?;
        let answer = exchange(STEP, request, Body::Empty, timeout).await?;
        expect_success(STEP, &answer)?;
        // The real server marks every answer; anything else is not the metadata server.
        let flavor = answer.headers.get(FLAVOR_HEADER).and_then(|v| v.to_str().ok());
        if flavor != Some(FLAVOR) {
            let detail = "the answer lacks Metadata-Flavor: Google";
            return Err(MintError::Malformed { step: STEP, detail });
        }
        let text = std::str::from_utf8(&answer.body)
            .map_err(|_| MintError::Malformed { step: STEP, detail: "the body is not text" })?;
        accept_id_token(STEP, text.trim().to_owned(), &self.audience)
    }
}
