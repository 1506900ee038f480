//! `skybridge doctor` through the real binary: every broken mapping is reproduced on
//! loopback with real servers (the demo upstream over mutual TLS, verifying tokens like
//! Cloud Run; a fake Google token endpoint; a static discovery server), and doctor must name
//! the cause and exit 1; a healthy chain passes with exit 0. No run may print a token.

mod common;
mod doctor_support;
#[path = "../../actors/tests/common/mod.rs"]
mod fakes;

use std::path::Path;

use common::{TestDir, Upstream, mtls_upstream_block};
use doctor_support::{StaticServer, doctor, free_port, generate_keys, verifying_upstream};
use fakes::{Fakes, Mode, TOKEN};

const SA_EMAIL: &str = "invoker@test-project.iam.gserviceaccount.com";

/// A route `/orders` to upstream `orders` with `auth`.
fn route(auth: &str) -> String {
    format!(
        "[[routes]]\nname = \"orders\"\npath_prefix = \"/orders\"\nupstream = \"orders\"\n\
         auth = {auth}\n"
    )
}

/// A `self_signed` credential named `self` for `audience`, keys in `keys`.
fn self_signed(audience: &str, keys: &Path, header: &str) -> String {
    format!(
        "[[credentials]]\nname = \"self\"\nkind = \"self_signed\"\naudience = \"{audience}\"\n\
         issuer = \"https://skybridge.test\"\nsigning_keys = \"{}\"\npublish_delay = \"0s\"\n\
         header = \"{header}\"\n",
        keys.display()
    )
}

/// A `google_service_account` credential named `google` using the fakes' key file.
fn google(fakes: &Fakes, audience: &str) -> String {
    format!(
        "[[credentials]]\nname = \"google\"\nkind = \"google_service_account\"\n\
         audience = \"{audience}\"\nkey_file = \"{}\"\n",
        fakes.path("sa.json").display()
    )
}

/// A plain-HTTP upstream named `orders`.
fn plain_upstream(port: u16, credential: Option<&str>) -> String {
    let credential = credential.map(|c| format!("credential = \"{c}\"\n")).unwrap_or_default();
    format!("[[upstreams]]\nname = \"orders\"\nurl = \"http://127.0.0.1:{port}\"\n{credential}")
}

#[actix_rt::test]
async fn a_healthy_chain_passes() {
    let dir = TestDir::new();
    let keys = dir.path().join("keys");
    let jwks = generate_keys(&keys);
    let idp = StaticServer::start();
    let discovery = idp.issuer("https://idp.test", jwks.clone());
    let jwks_url = idp.set("/upstream-trusts", jwks);
    let port = free_port();
    let url = format!("https://localhost:{port}");
    let _upstream = verifying_upstream(&dir.certs, port, &jwks_url, &url, "authorization");
    let config = format!(
        "[[issuers]]\nname = \"idp\"\nissuer = \"https://idp.test\"\n\
         discovery_url = \"{discovery}\"\n\
         audiences = [\"api://orders\"]\n{}{}{}",
        self_signed(&url, &keys, "authorization"),
        mtls_upstream_block("orders", port, &dir.certs, "credential = \"self\""),
        route("{ issuers = [\"idp\"] }"),
    );
    let config = dir.write("skybridge.toml", &config);
    doctor(&config, &[]).await.healthy().says(&[
        "OK      configuration: valid",
        "OK      issuer \"idp\": 1 usable key from discovery",
        "OK      credential \"self\" (self_signed): minted a token, sent in `authorization`",
        "iss   https://skybridge.test",
        &format!("aud matches the upstream URL {url}"),
        "OK      upstream \"orders\": TLSv1.3",
        "OK      probe GET /orders: the upstream answered 200 OK",
        "Every link works.",
    ]);
    doctor(&config, &["--route", "nope"]).await.broken().says(&["no route named \"nope\""]);
}

#[actix_rt::test]
async fn an_unreachable_issuer_discovery_is_named() {
    let dir = TestDir::new();
    let upstream = Upstream::plain();
    let closed = free_port();
    let config = format!(
        "[[issuers]]\nname = \"idp\"\nissuer = \"https://idp.test\"\n\
         discovery_url = \"http://127.0.0.1:{closed}/.well-known/openid-configuration\"\n\
         audiences = [\"api://orders\"]\n{}{}",
        plain_upstream(upstream.port(), None),
        route("{ issuers = [\"idp\"] }"),
    );
    let diagnosis = doctor(&dir.write("skybridge.toml", &config), &[]).await;
    diagnosis.broken().says(&[
        "BROKEN  issuer \"idp\": cannot load the discovery document",
        &format!("cannot fetch http://127.0.0.1:{closed}/.well-known/openid-configuration"),
        "nothing listens at that address",
        "OK      probe GET /orders",
    ]);
}

#[actix_rt::test]
async fn a_token_endpoint_refusing_the_key_is_named() {
    let dir = TestDir::new();
    let fakes = Fakes::start().await;
    fakes.set_mode(TOKEN, Mode::OAuthError);
    let upstream = Upstream::plain();
    let config = format!(
        "{}{}{}",
        google(&fakes, &format!("http://127.0.0.1:{}", upstream.port())),
        plain_upstream(upstream.port(), Some("google")),
        route("\"anonymous\""),
    );
    let diagnosis = doctor(&dir.write("skybridge.toml", &config), &[]).await;
    diagnosis.broken().says(&[
        "BROKEN  credential \"google\" (google_service_account): cannot mint a token",
        "token endpoint: HTTP 400 (invalid_grant)",
        "key was deleted or disabled",
        "gcloud iam service-accounts keys create",
        "SKIPPED probe: no token to present",
    ]);
    assert!(!diagnosis.output.contains("DESCRIPTION-MARKER"), "{}", diagnosis.output);
    fakes.assert_no_violations();
}

#[actix_rt::test]
async fn an_audience_other_than_the_upstream_url_is_named() {
    let dir = TestDir::new();
    let fakes = Fakes::start().await;
    let keys = StaticServer::start();
    let google_jwks = keys.set("/google-keys", fakes.state.issuer.jwks());
    let port = free_port();
    let url = format!("https://localhost:{port}");
    let _upstream = verifying_upstream(&dir.certs, port, &google_jwks, &url, "authorization");
    let config = format!(
        "{}{}{}",
        google(&fakes, "https://orders-abc123-uc.a.run.app"),
        mtls_upstream_block("orders", port, &dir.certs, "credential = \"google\""),
        route("\"anonymous\""),
    );
    let diagnosis = doctor(&dir.write("skybridge.toml", &config), &[]).await;
    diagnosis.broken().says(&[
        "BROKEN  credential \"google\" (google_service_account): \
         minted a token for another audience",
        &format!("aud \"https://orders-abc123-uc.a.run.app\" is not the upstream URL \"{url}\""),
        &format!("email {SA_EMAIL}"),
        "iss   https://accounts.google.com",
        "--add-custom-audiences=https://orders-abc123-uc.a.run.app",
        "BROKEN  probe GET /orders: the upstream answered 401 Unauthorized",
        "cause: audience mismatch",
        "WWW-Authenticate: Bearer error=\"invalid_token\"",
    ]);
    fakes.assert_no_violations();
}

#[actix_rt::test]
async fn an_upstream_certificate_from_another_ca_is_named() {
    let dir = TestDir::new();
    let upstream = Upstream::rogue(&dir.certs);
    let config = format!(
        "{}{}",
        mtls_upstream_block("orders", upstream.port(), &dir.certs, ""),
        route("\"anonymous\"")
    );
    let diagnosis = doctor(&dir.write("skybridge.toml", &config), &[]).await;
    diagnosis.broken().says(&[
        "BROKEN  upstream \"orders\": cannot be reached",
        "the upstream's certificate is not trusted",
        "set `tls.ca` of upstream \"orders\"",
        "SKIPPED probe: the upstream cannot be reached",
    ]);
}

#[actix_rt::test]
async fn a_client_certificate_the_upstream_wants_is_named() {
    let dir = TestDir::new();
    let upstream = Upstream::mtls(&dir.certs);
    let config = format!(
        "[[upstreams]]\nname = \"orders\"\nurl = \"https://localhost:{}\"\n[upstreams.tls]\n\
         ca = \"{}\"\n{}",
        upstream.port(),
        dir.certs.ca.display(),
        route("\"anonymous\"")
    );
    let diagnosis = doctor(&dir.write("skybridge.toml", &config), &[]).await;
    diagnosis.broken().says(&[
        "the upstream rejected the client certificate",
        "set `tls.client_certificate` and `tls.client_private_key`",
    ]);
}

#[actix_rt::test]
async fn a_401_to_the_token_in_the_wrong_header_is_explained() {
    let dir = TestDir::new();
    let keys = dir.path().join("keys");
    let jwks = generate_keys(&keys);
    let trusted = StaticServer::start();
    let jwks_url = trusted.set("/keys", jwks);
    let port = free_port();
    let url = format!("https://localhost:{port}");
    let _upstream =
        verifying_upstream(&dir.certs, port, &jwks_url, &url, "x-serverless-authorization");
    let config = format!(
        "{}{}{}",
        self_signed(&url, &keys, "authorization"),
        mtls_upstream_block("orders", port, &dir.certs, "credential = \"self\""),
        route("\"anonymous\""),
    );
    let diagnosis = doctor(&dir.write("skybridge.toml", &config), &[]).await;
    diagnosis.broken().says(&[
        "OK      credential \"self\" (self_signed)",
        "BROKEN  probe GET /orders: the upstream answered 401 Unauthorized",
        "wrong header: the upstream reads the token from `x-serverless-authorization`",
        "set `header = \"x-serverless-authorization\"` on credential \"self\"",
    ]);
}

#[actix_rt::test]
async fn a_403_names_the_missing_invoker_role() {
    let dir = TestDir::new();
    let fakes = Fakes::start().await;
    let upstream = Upstream::plain();
    let config = format!(
        "{}{}{}",
        google(&fakes, &format!("http://127.0.0.1:{}", upstream.port())),
        plain_upstream(upstream.port(), Some("google")),
        route("\"anonymous\""),
    );
    let config = dir.write("skybridge.toml", &config);
    let diagnosis = doctor(&config, &["--probe-path", "/orders/_demo/status/403"]).await;
    diagnosis.broken().says(&[
        "OK      credential \"google\" (google_service_account): minted a token",
        "BROKEN  probe GET /orders/_demo/status/403: the upstream answered 403 Forbidden",
        &format!("{SA_EMAIL} lacks roles/run.invoker"),
        &format!("--member=\"serviceAccount:{SA_EMAIL}\" --role=\"roles/run.invoker\""),
    ]);
    fakes.assert_no_violations();
}
