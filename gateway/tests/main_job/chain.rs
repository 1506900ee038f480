//! The chain the main-job test runs through, outside the gateway: the demo upstream verifying
//! Google ID tokens like Cloud Run, the caller's token from the real OpenID provider, and the
//! configuration that points three instances at the provider and at the Azure fakes.

use awc::http::StatusCode;
use serde_json::Value;

use crate::common::{Running, TestDir, mtls_upstream_block, tls_client};
use crate::doctor_support::verifying_upstream;
use crate::fakes::Fakes;
use crate::oidc_provider::OidcProvider;

/// The Cloud Run service's audience: what the upstream requires in every ID token.
pub(crate) const AUDIENCE: &str = "https://orders-abc123-uc.a.run.app";

/// The demo upstream verifying Google ID tokens against `jwks_url`, and its port.
pub(crate) fn cloud_run(dir: &TestDir, jwks_url: &str) -> (Running, u16) {
    let upstream = verifying_upstream(&dir.certs, 0, jwks_url, AUDIENCE, "authorization");
    let line = upstream.seen.iter().find(|l| l.contains("\"listening\"")).expect("listening");
    let json: Value = serde_json::from_str(line).expect("listening line");
    let address: std::net::SocketAddr =
        json["listening"].as_str().expect("address").parse().expect("socket address");
    (upstream, address.port())
}

/// The upstream's status for a direct mTLS request presenting `token`.
pub(crate) async fn direct_status(dir: &TestDir, port: u16, token: &str) -> StatusCode {
    let response = tls_client(&dir.certs.ca, Some(&dir.certs.gateway_client))
        .get(format!("https://127.0.0.1:{port}/orders/direct"))
        .insert_header(("authorization", format!("Bearer {token}")))
        .send()
        .await
        .expect("direct request to the upstream");
    response.status()
}

/// What the cluster's shared configuration gets on top of the harness's: the provider as
/// issuer (by discovery), the Azure workload identity credential pointed at the fakes, the
/// verifying upstream and the protected, rate-limited route.
pub(crate) fn main_job_config(
    fakes: &Fakes,
    provider: &OidcProvider,
    dir: &TestDir,
    port: u16,
) -> String {
    let credential = format!(
        "[[credentials]]\nname = \"orders\"\nkind = \"azure_workload_identity\"\n\
         audience = \"{AUDIENCE}\"\ncredential_file = \"{file}\"\nservice_account = \"{account}\"\n\
         iam_credentials_url = \"{base}\"\n",
        file = fakes.path("external_account.json").display(),
        account = fakes.state.service_account,
        base = fakes.base,
    );
    format!(
        "[[issuers]]\nname = \"idp\"\nissuer = \"{issuer}\"\n\
         discovery_url = \"{issuer}/.well-known/openid-configuration\"\naudiences = [\"{aud}\"]\n\
         {credential}{upstream}\n[[routes]]\nname = \"orders\"\npath_prefix = \"/orders\"\n\
         upstream = \"orders\"\nauth = {{ scopes = [\"orders.read\"] }}\n\
         rate_limits = [\"ten-per-minute\"]\n",
        issuer = provider.issuer,
        aud = provider.resource,
        upstream = mtls_upstream_block("orders", port, &dir.certs, "credential = \"orders\""),
    )
}
