//! `azure_workload_identity`: an Azure managed identity token, exchanged at Google STS for a
//! federated token, which IAM Credentials `generateIdToken` turns into a Google ID token for
//! the configured service account (protocol note A3, three steps).
//!
//! The `external_account` file Google's tooling writes supplies the identity URL and headers,
//! the workload identity provider (`audience`) and the STS URL (`token_url`). On App Service
//! the identity endpoint and its secret header come from the environment variables the
//! configuration names. IAM Credentials' base URL is configuration. Nothing has a default.

use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::error::MintError;
use super::http::{Body, exchange, expect_success, json_field};
use super::source::{Minted, accept_id_token};

const IDENTITY_STEP: &str = "Azure identity endpoint";
const STS_STEP: &str = "STS token exchange";
const IAM_STEP: &str = "IAM Credentials generateIdToken";
const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
const CLOUD_PLATFORM: &str = "https://www.googleapis.com/auth/cloud-platform";
const APP_SERVICE_API_VERSION: &str = "2019-08-01";
const APP_SERVICE_HEADER: &str = "x-identity-header";

/// Everything needed for the three steps. Holds a secret header: no Debug on purpose.
pub(crate) struct AzureWif {
    identity: Identity,
    subject_field: Option<String>,
    sts_url: String,
    provider: String,
    subject_token_type: String,
    generate_url: String,
    audience: String,
}

/// Where the Azure token comes from.
enum Identity {
    /// The file's `credential_source.url` with its headers (VM / VMSS IMDS).
    Url { url: String, headers: Vec<(String, String)> },
    /// App Service: `GET {endpoint}?api-version=2019-08-01&resource=…` with the secret header.
    AppService { endpoint: String, resource: String, secret: String },
}

/// The parts of the `external_account` file that matter here.
#[derive(Deserialize)]
struct ExternalAccount {
    #[serde(rename = "type")]
    kind: String,
    audience: String,
    subject_token_type: String,
    token_url: String,
    credential_source: CredentialSource,
}

#[derive(Deserialize)]
struct CredentialSource {
    url: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    format: Option<SourceFormat>,
}

#[derive(Deserialize)]
struct SourceFormat {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    subject_token_field_name: Option<String>,
}

/// The App Service environment: names of the variables holding the endpoint and the secret.
pub(crate) struct AppServiceEnv {
    pub(crate) endpoint: String,
    pub(crate) secret: String,
}

/// What the configuration adds to the file.
pub(crate) struct AzureSettings<'a> {
    pub(crate) file: &'a Path,
    pub(crate) service_account: &'a str,
    pub(crate) iam_credentials_url: &'a str,
    pub(crate) audience: &'a str,
    pub(crate) app_service: Option<AppServiceEnv>,
}

impl AzureWif {
    /// Reads the credential file. Errors name the file and field, never a header value.
    pub(crate) fn load(settings: AzureSettings<'_>) -> Result<Self, String> {
        let shown = settings.file.display();
        let text =
            std::fs::read(settings.file).map_err(|err| format!("cannot read {shown}: {err}"))?;
        let file: ExternalAccount = serde_json::from_slice(&text)
            .map_err(|err| format!("{shown} is not an external_account file: {err}"))?;
        if file.kind != "external_account" {
            return Err(format!("{shown} has type {:?}, not \"external_account\"", file.kind));
        }
        let subject_field = match &file.credential_source.format {
            None => None,
            Some(format) if format.kind == "text" => None,
            Some(format) if format.kind == "json" => {
                Some(format.subject_token_field_name.clone().ok_or_else(|| {
                    format!("{shown}: credential_source.format has no subject_token_field_name")
                })?)
            }
            Some(format) => {
                return Err(format!("{shown}: unknown credential_source.format {:?}", format.kind));
            }
        };
        let identity = match settings.app_service {
            None => Identity::Url {
                url: file.credential_source.url.clone(),
                headers: file.credential_source.headers.into_iter().collect(),
            },
            Some(env) => Identity::AppService {
                endpoint: env.endpoint,
                resource: query_param(&file.credential_source.url, "resource").ok_or_else(
                    || format!("{shown}: credential_source.url has no resource parameter"),
                )?,
                secret: env.secret,
            },
        };
        let iam = settings.iam_credentials_url.trim_end_matches('/');
        Ok(Self {
            identity,
            subject_field,
            sts_url: file.token_url,
            provider: file.audience,
            subject_token_type: file.subject_token_type,
            generate_url: format!(
                "{iam}/v1/projects/-/serviceAccounts/{}:generateIdToken",
                settings.service_account
            ),
            audience: settings.audience.to_owned(),
        })
    }

    /// Runs the three steps.
    pub(crate) async fn mint(
        self: Rc<Self>,
        client: awc::Client,
        timeout: Duration,
    ) -> Result<Minted, MintError> {
        let subject = self.azure_token(&client, timeout).await?;
        let federated = self.exchange(&client, subject, timeout).await?;
        let body = json!({"audience": self.audience, "includeEmail": true});
        let request =
            client.post(&self.generate_url).bearer_auth(federated).content_type("application/json");
        let answer = exchange(IAM_STEP, request, Body::Json(body), timeout).await?;
        let token = json_field(IAM_STEP, &answer, "token", "no token in the answer")?;
        accept_id_token(IAM_STEP, token, &self.audience)
    }

    /// Step 1: the subject token from the managed identity endpoint.
    async fn azure_token(
        &self,
        client: &awc::Client,
        timeout: Duration,
    ) -> Result<String, MintError> {
        let (request, field) = match &self.identity {
            Identity::Url { url, headers } => {
                let mut request = client.get(url);
                for (name, value) in headers {
                    request = request.insert_header((name.as_str(), value.as_str()));
                }
                (request, self.subject_field.as_deref())
            }
            Identity::AppService { endpoint, resource, secret } => {
                let query = [("api-version", APP_SERVICE_API_VERSION), ("resource", resource)];
                let request = client
                    .get(endpoint)
                    .insert_header((APP_SERVICE_HEADER, secret.as_str()))
                    .query(&query)
                    .map_err(|err| MintError::Local(format!("cannot encode the query: {err}")))?;
                (request, Some("access_token"))
            }
        };
        let answer = exchange(IDENTITY_STEP, request, Body::Empty, timeout).await?;
        match field {
            Some(field) => json_field(IDENTITY_STEP, &answer, field, "no subject token field"),
            None => {
                expect_success(IDENTITY_STEP, &answer)?;
                let text = std::str::from_utf8(&answer.body).map_err(|_| MintError::Malformed {
                    step: IDENTITY_STEP,
                    detail: "the body is not text",
                })?;
                Ok(text.trim().to_owned())
            }
        }
    }

    /// Step 2: STS token exchange for a federated access token.
    async fn exchange(
        &self,
        client: &awc::Client,
        subject: String,
        timeout: Duration,
    ) -> Result<String, MintError> {
        let form = vec![
            ("grant_type", TOKEN_EXCHANGE.to_owned()),
            ("audience", self.provider.clone()),
            ("scope", CLOUD_PLATFORM.to_owned()),
            ("requested_token_type", ACCESS_TOKEN_TYPE.to_owned()),
            ("subject_token_type", self.subject_token_type.clone()),
            ("subject_token", subject),
        ];
        let answer =
            exchange(STS_STEP, client.post(&self.sts_url), Body::Form(form), timeout).await?;
        json_field(STS_STEP, &answer, "access_token", "no access_token in the answer")
    }
}

/// The percent-decoded value of query parameter `name` in `url`.
fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1.split('#').next()?;
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| {
            let value = value.replace('+', " ");
            percent_encoding::percent_decode_str(&value).decode_utf8_lossy().into_owned()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_is_decoded_from_the_identity_url() {
        let url = "http://127.0.0.1:1/metadata/identity/oauth2/token\
                   ?api-version=2018-02-01&resource=api%3A%2F%2Fabc";
        assert_eq!(query_param(url, "resource").as_deref(), Some("api://abc"));
        assert_eq!(query_param(url, "missing"), None);
    }
}
