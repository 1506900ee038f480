//! Test harness: local fakes on 127.0.0.1 of Google's token endpoint, the metadata server,
//! the Azure identity endpoints (VM IMDS and App Service), Google STS and IAM Credentials,
//! all served by one actix-web server on an ephemeral port.
//!
//! Every fake checks every field of the request as the protocol note documents it. A request
//! that deviates is answered 400 and recorded in [`Fakes::violations`], which each test
//! asserts is empty, so a wrong field fails the test even when the minter copes.

#![allow(dead_code, unreachable_pub)]

pub mod endpoints;
pub mod issuer;
pub mod tls;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpServer, web};
use serde_json::{Value, json};
use skybridge_shared::config::Config;

pub use issuer::Issuer;

/// How a fake endpoint answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// The documented success shape.
    Ok,
    /// 400 with an OAuth error body.
    OAuthError,
    /// 403 (Google style error body).
    Forbidden,
    /// 503.
    Unavailable,
    /// Answers after this long.
    Slow(Duration),
    /// 200 with a body that is not the documented shape.
    Garbage,
    /// 200 JSON without the token field.
    MissingToken,
}

/// The endpoints, by name, for modes and counters.
pub const TOKEN: &str = "token";
pub const METADATA: &str = "metadata";
pub const AZURE_VM: &str = "azure_vm";
pub const AZURE_APP: &str = "azure_app";
pub const STS: &str = "sts";
pub const IAM: &str = "iam";

/// What the fakes know and check.
pub struct State {
    pub issuer: Issuer,
    pub base: Mutex<String>,
    /// The service-account public key the token endpoint verifies assertions with.
    pub sa_jwk: Value,
    pub sa_key_id: String,
    pub sa_email: String,
    pub app_id_uri: String,
    pub app_service_secret: String,
    pub provider: String,
    pub service_account: String,
    /// Lifetime of the ID tokens the fakes issue.
    pub lifetime: Mutex<Duration>,
    modes: Mutex<HashMap<&'static str, Mode>>,
    counts: Mutex<HashMap<&'static str, usize>>,
    pub violations: Mutex<Vec<String>>,
    /// Subject tokens handed out by the Azure fakes, and federated tokens by STS.
    pub azure_tokens: Mutex<Vec<String>>,
    pub federated_tokens: Mutex<Vec<String>>,
    pub serial: AtomicUsize,
}

/// The running fakes; stops the server when dropped.
pub struct Fakes {
    pub state: Arc<State>,
    pub base: String,
    pub dir: tempfile::TempDir,
    /// The HTTPS listener's certificate, when started with [`Fakes::start_tls`].
    pub ca_pem: Option<Vec<u8>>,
    handle: actix_web::dev::ServerHandle,
}

impl State {
    pub fn mode(&self, endpoint: &'static str) -> Mode {
        self.modes.lock().expect("modes").get(endpoint).cloned().unwrap_or(Mode::Ok)
    }
    pub fn count(&self, endpoint: &'static str) {
        *self.counts.lock().expect("counts").entry(endpoint).or_default() += 1;
    }
    pub fn violation(&self, text: String) {
        self.violations.lock().expect("violations").push(text);
    }
    pub fn lifetime(&self) -> Duration {
        *self.lifetime.lock().expect("lifetime")
    }
}

impl Fakes {
    /// Starts the fakes over plain HTTP and writes the credential files.
    pub async fn start() -> Fakes {
        Self::start_with(false).await
    }

    /// Starts the fakes over HTTPS with a certificate generated now.
    pub async fn start_tls() -> Fakes {
        Self::start_with(true).await
    }

    /// Starts the fakes and writes the credential files into a temporary directory.
    async fn start_with(tls: bool) -> Fakes {
        // Google's service-account keys are 2048-bit RSA in PKCS#8 PEM.
        let sa_pem = openssl::pkey::PKey::from_rsa(openssl::rsa::Rsa::generate(2048).expect("rsa"))
            .expect("pkey")
            .private_key_to_pem_pkcs8()
            .expect("pem");
        let sa_pem = String::from_utf8(sa_pem).expect("utf8");
        let sa_jwk = skybridge_actors::signing::SigningKey::from_pem(sa_pem.as_bytes())
            .expect("sa key")
            .public_jwk()
            .clone();
        let state = Arc::new(State {
            issuer: Issuer::new(),
            base: Mutex::new(String::new()),
            sa_jwk,
            sa_key_id: "0123456789abcdef0123456789abcdef01234567".into(),
            sa_email: "invoker@test-project.iam.gserviceaccount.com".into(),
            app_id_uri: "api://0b1f5c6e-skybridge".into(),
            app_service_secret: "app-service-secret-value-do-not-log".into(),
            provider: concat!(
                "//iam.googleapis.com/projects/123456/locations/global/",
                "workloadIdentityPools/azure/providers/entra"
            )
            .into(),
            service_account: "runner@test-project.iam.gserviceaccount.com".into(),
            lifetime: Mutex::new(Duration::from_secs(3600)),
            modes: Mutex::default(),
            counts: Mutex::default(),
            violations: Mutex::default(),
            azure_tokens: Mutex::default(),
            federated_tokens: Mutex::default(),
            serial: AtomicUsize::new(0),
        });
        let data = web::Data::from(Arc::clone(&state));
        let server = HttpServer::new(move || {
            App::new().app_data(data.clone()).default_service(web::to(endpoints::dispatch))
        })
        .workers(2)
        .disable_signals();
        let (server, ca_pem) = if tls {
            let (pem, acceptor) = tls::acceptor();
            (server.bind_openssl(("127.0.0.1", 0), acceptor).expect("bind fakes"), Some(pem))
        } else {
            (server.bind(("127.0.0.1", 0)).expect("bind fakes"), None)
        };
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        actix_rt::spawn(server);
        let scheme = if tls { "https" } else { "http" };
        let base = format!("{scheme}://{addr}");
        *state.base.lock().expect("base") = base.clone();
        let dir = tempfile::tempdir().expect("tempdir");
        let fakes = Fakes { state, base, dir, ca_pem, handle };
        fakes.write_files(&sa_pem);
        fakes
    }

    fn write_files(&self, sa_pem: &str) {
        let key = json!({
            "type": "service_account",
            "project_id": "test-project",
            "private_key_id": self.state.sa_key_id,
            "private_key": sa_pem,
            "client_email": self.state.sa_email,
            "client_id": "1234567890",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": format!("{}/token", self.base),
        });
        std::fs::write(self.path("sa.json"), key.to_string()).expect("write key");
        let resource = self.state.app_id_uri.replace(':', "%3A").replace('/', "%2F");
        let external = json!({
            "type": "external_account",
            "audience": self.state.provider,
            "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
            "token_url": format!("{}/v1/token", self.base),
            "credential_source": {
                "url": format!(
                    "{}/metadata/identity/oauth2/token?api-version=2018-02-01&resource={resource}",
                    self.base
                ),
                "headers": {"Metadata": "True"},
                "format": {"type": "json", "subject_token_field_name": "access_token"},
            },
        });
        std::fs::write(self.path("external_account.json"), external.to_string()).expect("write");
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn set_mode(&self, endpoint: &'static str, mode: Mode) {
        self.state.modes.lock().expect("modes").insert(endpoint, mode);
    }

    pub fn count(&self, endpoint: &'static str) -> usize {
        self.state.counts.lock().expect("counts").get(endpoint).copied().unwrap_or(0)
    }

    pub fn set_lifetime(&self, lifetime: Duration) {
        *self.state.lifetime.lock().expect("lifetime") = lifetime;
    }

    /// Fails the test if any request deviated from the protocol.
    pub fn assert_no_violations(&self) {
        let violations = self.state.violations.lock().expect("violations");
        assert!(violations.is_empty(), "protocol violations: {violations:#?}");
    }

    /// A configuration holding `credentials` (TOML), resolved against the temp directory.
    pub fn config(&self, credentials: &str) -> Config {
        config_in(self.dir.path(), credentials)
    }
}

impl Drop for Fakes {
    fn drop(&mut self) {
        let stop = self.handle.stop(false);
        // Outside a running system the server threads die with the test process anyway.
        if actix_rt::System::try_current().is_some() {
            actix_rt::spawn(stop);
        }
    }
}

/// Loads a configuration made of `credentials` from a file in `dir`.
pub fn config_in(dir: &Path, credentials: &str) -> Config {
    let path = dir.join("skybridge.toml");
    std::fs::write(&path, credentials).expect("write config");
    let config = skybridge_shared::config::load(Some(&path)).expect("config loads");
    let problems = config.validate();
    assert!(problems.is_empty(), "{problems}");
    config
}

/// Short timeouts and backoff so failure tests finish quickly.
pub fn fast_options() -> skybridge_actors::minter::MinterOptions {
    skybridge_actors::minter::MinterOptions {
        http_timeout: Duration::from_millis(500),
        mint_timeout: Duration::from_secs(1),
        backoff_base: Duration::from_millis(100),
        backoff_max: Duration::from_millis(400),
        remint_floor: Duration::ZERO,
        key_poll_interval: Duration::from_millis(50),
        retire_grace: Duration::from_millis(500),
        ..Default::default()
    }
}

/// Waits until `check` holds, polling every 20 ms, failing after `limit`.
pub async fn eventually(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + limit;
    while !check() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}");
        actix_rt::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn count_of(state: &State, endpoint: &'static str) -> usize {
    state.counts.lock().expect("counts").get(endpoint).copied().unwrap_or(0)
}

pub fn next_serial(state: &State) -> usize {
    state.serial.fetch_add(1, Ordering::Relaxed)
}
