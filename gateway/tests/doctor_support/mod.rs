//! Pieces the doctor tests add to the common harness: a static JSON server (discovery
//! documents and key sets), the demo upstream verifying tokens on a chosen port, and
//! `skybridge doctor` run as a child process with its output collected.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::Value;

use crate::common::{Certs, Running, START_TIMEOUT};

/// How long one doctor run may take.
const DOCTOR_TIMEOUT: Duration = Duration::from_secs(60);

type Documents = Arc<Mutex<HashMap<String, Value>>>;

/// JSON documents served by path on an ephemeral loopback port; stopped on drop.
pub struct StaticServer {
    pub base: String,
    documents: Documents,
    handle: actix_web::dev::ServerHandle,
}

impl StaticServer {
    pub fn start() -> Self {
        let documents = Documents::default();
        let shared = web::Data::new(Arc::clone(&documents));
        let server = HttpServer::new(move || {
            App::new().app_data(shared.clone()).default_service(web::to(serve))
        })
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", 0))
        .expect("bind static server");
        let base = format!("http://{}", server.addrs()[0]);
        let server = server.run();
        let handle = server.handle();
        actix_rt::spawn(server);
        Self { base, documents, handle }
    }

    /// Serves `document` at `path`; returns its URL.
    pub fn set(&self, path: &str, document: Value) -> String {
        self.documents.lock().expect("documents").insert(path.to_owned(), document);
        format!("{}{path}", self.base)
    }

    /// Serves an OpenID discovery document for `issuer` whose keys are `jwks`; returns the
    /// discovery URL.
    pub fn issuer(&self, issuer: &str, jwks: Value) -> String {
        let jwks_uri = self.set("/keys", jwks);
        let discovery = serde_json::json!({"issuer": issuer, "jwks_uri": jwks_uri});
        self.set("/.well-known/openid-configuration", discovery)
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        actix_rt::spawn(self.handle.stop(false));
    }
}

async fn serve(request: HttpRequest, documents: web::Data<Documents>) -> HttpResponse {
    let found = documents.lock().expect("documents").get(request.path()).cloned();
    match found {
        Some(document) => HttpResponse::Ok().json(document),
        None => HttpResponse::NotFound().finish(),
    }
}

/// A loopback port free a moment ago, for a process that must know its own URL at start.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// The demo upstream on `port` over mutual TLS with the test CA, refusing with 401 any
/// token that does not verify against `jwks_url` for `audience` in `header`.
pub fn verifying_upstream(
    certs: &Certs,
    port: u16,
    jwks_url: &str,
    audience: &str,
    header: &str,
) -> Running {
    let mut command = Command::new(env!("CARGO_BIN_EXE_skybridge-demo-upstream"));
    command
        .args(["--listen", &format!("127.0.0.1:{port}"), "--cert"])
        .arg(&certs.upstream.cert)
        .arg("--key")
        .arg(&certs.upstream.key)
        .arg("--client-ca")
        .arg(&certs.ca)
        .args(["--verify-jwks-url", jwks_url, "--verify-audience", audience])
        .args(["--verify-header", header]);
    let mut upstream = Running::spawn(command);
    upstream.wait_for_line(START_TIMEOUT, |l| l.contains("\"listening\""));
    upstream
}

/// Creates a signing key with `skybridge keys generate`; returns the key set it wrote.
pub fn generate_keys(dir: &Path) -> Value {
    let status = Command::new(env!("CARGO_BIN_EXE_skybridge"))
        .args(["keys", "generate", "--alg", "ES256", "--out"])
        .arg(dir)
        .stdout(Stdio::null())
        .status()
        .expect("keys generate");
    assert!(status.success());
    let text = std::fs::read_to_string(dir.join("jwks.json")).expect("jwks.json");
    serde_json::from_str(&text).expect("jwks json")
}

/// What one doctor run did.
pub struct Diagnosis {
    pub passed: bool,
    pub output: String,
}

impl Diagnosis {
    /// Fails with the whole output unless it contains every one of `texts`.
    pub fn says(&self, texts: &[&str]) -> &Self {
        for text in texts {
            assert!(self.output.contains(text), "expected {text:?} in:\n{}", self.output);
        }
        self
    }

    /// Fails unless doctor exited 1 (a broken link); checks no token leaked either way.
    pub fn broken(&self) -> &Self {
        assert!(!self.passed, "doctor should have failed:\n{}", self.output);
        self.no_token()
    }

    /// Fails unless doctor exited 0.
    pub fn healthy(&self) -> &Self {
        assert!(self.passed, "doctor should have passed:\n{}", self.output);
        self.no_token()
    }

    /// Every JWT starts with `eyJ` (base64url of `{"`); none may be printed.
    fn no_token(&self) -> &Self {
        assert!(!self.output.contains("eyJ"), "a token leaked:\n{}", self.output);
        self
    }
}

/// Runs `skybridge doctor --config CONFIG ARGS…` without blocking the test's runtime, so
/// in-process fakes keep answering; the child is killed if the test ends first.
pub async fn doctor(config: &Path, args: &[&str]) -> Diagnosis {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_skybridge"));
    command.arg("doctor").arg("--config").arg(config).args(args).kill_on_drop(true);
    let output = tokio::time::timeout(DOCTOR_TIMEOUT, command.output())
        .await
        .expect("doctor finished in time")
        .expect("doctor ran");
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    // Shown with the failure, or with --nocapture.
    println!("$ skybridge doctor {args:?}\n{text}");
    let code = output.status.code();
    assert!(matches!(code, Some(0 | 1)), "unexpected exit {code:?}:\n{text}");
    Diagnosis { passed: code == Some(0), output: text }
}
