//! Credentials Skybridge presents to upstreams.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

/// Default lifetime of a self-signed token.
pub const DEFAULT_SELF_SIGNED_TTL: Duration = Duration::from_secs(300);
/// Default delay between publishing a new self-signed key and signing with it.
pub const DEFAULT_PUBLISH_DELAY: Duration = Duration::from_secs(600);

/// One credential. Which fields apply depends on `kind`; validation names the missing ones.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CredentialConfig {
    /// Name upstreams refer to.
    pub name: String,
    /// How the token is obtained.
    pub kind: CredentialKind,
    /// Audience of the token: the Cloud Run URL or a custom audience.
    #[serde(default)]
    pub audience: Option<String>,
    /// Header the token is sent in. Default `authorization`.
    #[serde(default)]
    pub header: InjectHeader,
    /// `google_service_account`: the service-account key file (its `token_uri` is used).
    #[serde(default)]
    pub key_file: Option<PathBuf>,
    /// `gce_metadata`: base URL of the metadata server; required, no default.
    #[serde(default)]
    pub metadata_url: Option<String>,
    /// `azure_workload_identity`: the `external_account` file Google's tooling writes.
    #[serde(default)]
    pub credential_file: Option<PathBuf>,
    /// `azure_workload_identity`: the service account to impersonate.
    #[serde(default)]
    pub service_account: Option<String>,
    /// `azure_workload_identity`: base URL of IAM Credentials; required, no default.
    #[serde(default)]
    pub iam_credentials_url: Option<String>,
    /// `azure_workload_identity` on App Service, Functions or Container Apps: the name of the
    /// environment variable holding the managed identity endpoint (Azure sets
    /// `IDENTITY_ENDPOINT`). Set together with `identity_header_env`; absent means the
    /// credential file's `credential_source.url` (the VM identity endpoint) is used.
    #[serde(default)]
    pub identity_endpoint_env: Option<String>,
    /// `azure_workload_identity` on App Service: the name of the environment variable holding
    /// the secret sent as `X-IDENTITY-HEADER` (Azure sets `IDENTITY_HEADER`). Naming the
    /// variable instead of the value keeps the secret out of the configuration file.
    #[serde(default)]
    pub identity_header_env: Option<String>,
    /// `self_signed`: the `iss` of the tokens.
    #[serde(default)]
    pub issuer: Option<String>,
    /// `self_signed`: directory of PEM private keys.
    #[serde(default)]
    pub signing_keys: Option<PathBuf>,
    /// `self_signed`: how long a new key is published before it signs. Default `10m`.
    #[serde(default = "default_publish_delay", with = "humantime_serde")]
    pub publish_delay: Duration,
    /// `self_signed`: token lifetime. Default `5m`.
    #[serde(default = "default_ttl", with = "humantime_serde")]
    pub ttl: Duration,
    /// `self_signed`: add the caller's verified identity (issuer, subject, client id, tenant)
    /// as a `caller` claim. Such tokens are signed per request instead of cached. Default false.
    #[serde(default)]
    pub include_caller: bool,
}

/// How a credential's token is obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// Skybridge signs the token with its own keys.
    SelfSigned,
    /// A Google ID token from a service-account key.
    GoogleServiceAccount,
    /// A Google ID token from the metadata server.
    GceMetadata,
    /// An Azure managed identity exchanged for a Google ID token.
    AzureWorkloadIdentity,
}

/// Header a credential is injected into.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InjectHeader {
    /// `Authorization: Bearer …`.
    #[default]
    Authorization,
    /// `X-Serverless-Authorization: Bearer …`, leaving `Authorization` to the caller.
    XServerlessAuthorization,
}

impl InjectHeader {
    /// The lower-case header name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Authorization => "authorization",
            Self::XServerlessAuthorization => "x-serverless-authorization",
        }
    }
}

fn default_publish_delay() -> Duration {
    DEFAULT_PUBLISH_DELAY
}
fn default_ttl() -> Duration {
    DEFAULT_SELF_SIGNED_TTL
}
