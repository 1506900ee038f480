//! Test harness for the real OpenID provider: starts `scripts/oidc-provider.mjs` (the
//! `oidc-provider` npm package under Node) on an ephemeral loopback port, rotates its keys,
//! and stops it, also when a test fails (kill in `Drop`).
//!
//! Self-contained (std and serde_json only) so other crates' tests can include it with
//! `#[path = "../../actors/tests/idp/oidc_provider.rs"] mod oidc_provider;`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

use serde_json::Value;

/// How long the provider may take to start or to rotate.
const STARTUP: Duration = Duration::from_secs(30);

/// A running provider.
pub(crate) struct OidcProvider {
    child: Child,
    // Held open: the script exits when its stdin closes.
    _stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    /// `http://127.0.0.1:PORT`.
    pub(crate) issuer: String,
    /// The token endpoint.
    pub(crate) token_endpoint: String,
    /// The client allowed the client_credentials grant.
    pub(crate) client_id: String,
    /// Its secret (random per run).
    pub(crate) client_secret: String,
    /// The resource indicator tokens are issued for (their `aud`).
    pub(crate) resource: String,
}

/// The workspace root, from this crate's manifest directory.
pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

impl OidcProvider {
    /// Starts the provider and waits for its first line.
    pub(crate) fn start() -> Result<Self, String> {
        let script = workspace_root().join("scripts/oidc-provider.mjs");
        let mut child = Command::new("node")
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|err| format!("cannot start node {}: {err}", script.display()))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (sender, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        let mut provider = Self {
            child,
            _stdin: stdin,
            lines,
            issuer: String::new(),
            token_endpoint: String::new(),
            client_id: String::new(),
            client_secret: String::new(),
            resource: String::new(),
        };
        let first = provider.next_line()?;
        let text = |name: &str| first[name].as_str().unwrap_or_default().to_owned();
        provider.issuer = text("issuer");
        provider.token_endpoint = text("token_endpoint");
        provider.client_id = text("client_id");
        provider.client_secret = text("client_secret");
        provider.resource = text("resource");
        Ok(provider)
    }

    /// The next JSON line; other output (warnings the package may print) is skipped.
    fn next_line(&self) -> Result<Value, String> {
        let deadline = std::time::Instant::now() + STARTUP;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = self.lines.recv_timeout(left).map_err(|_| {
                "the OIDC provider printed nothing (is scripts/install-deps.sh run?)".to_owned()
            })?;
            if let Ok(value @ Value::Object(_)) = serde_json::from_str::<Value>(&line) {
                return Ok(value);
            }
        }
    }

    /// A client-credentials access token for `scope`, issued for [`Self::resource`].
    pub(crate) async fn access_token(&self, scope: &str) -> String {
        let form = [
            ("grant_type", "client_credentials"),
            ("scope", scope),
            ("resource", self.resource.as_str()),
        ];
        let mut response = awc::Client::new()
            .post(&self.token_endpoint)
            .basic_auth(&self.client_id, &self.client_secret)
            .send_form(&form)
            .await
            .expect("token request");
        assert_eq!(response.status().as_u16(), 200, "token endpoint status");
        let body: Value = response.json().await.expect("token response JSON");
        body["access_token"].as_str().expect("access_token").to_owned()
    }

    /// Rotates the signing key (SIGUSR2) and returns the new key id.
    pub(crate) fn rotate(&self) -> Result<String, String> {
        self.signal("-USR2")?;
        let line = self.next_line()?;
        line["rotated"].as_str().map(str::to_owned).ok_or_else(|| format!("unexpected {line}"))
    }

    /// Stops the provider (SIGTERM) and waits for it to exit.
    pub(crate) fn stop(&mut self) -> Result<(), String> {
        self.signal("-TERM")?;
        self.child.wait().map(|_| ()).map_err(|err| err.to_string())
    }

    fn signal(&self, signal: &str) -> Result<(), String> {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .map_err(|err| err.to_string())?;
        if status.success() { Ok(()) } else { Err(format!("kill {signal} failed")) }
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
