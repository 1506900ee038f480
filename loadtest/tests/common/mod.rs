//! Harness for the end-to-end tests: the real `skybridge-demo-upstream` and `skybridge`
//! binaries (built beforehand by `cargo build -p skybridge-gateway --bins`, as `make test`
//! does) on ephemeral loopback ports, and the real `skybridge-loadtest` binary run against
//! them. Every process is killed when its handle drops, also when a test fails.
#![allow(dead_code, unreachable_pub)]

pub mod certs;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long a server gets to report that it listens.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A child process, killed and reaped on drop; its output lines arrive on a channel.
pub struct Running {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl Running {
    pub fn spawn(mut command: Command) -> Self {
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().unwrap_or_else(|err| panic!("spawn {command:?}: {err}"));
        let (sender, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take().expect("stderr");
        for reader in [Box::new(stdout) as Box<dyn std::io::Read + Send>, Box::new(stderr)] {
            let sender = sender.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(reader).lines().map_while(Result::ok) {
                    if sender.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        Self { child, lines, seen: Vec::new() }
    }

    /// The first output line that `accept`s, waiting at most `START_TIMEOUT`.
    pub fn wait_for(&mut self, accept: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) if accept(&line) => return line,
                Ok(line) => self.seen.push(line),
                Err(_) => panic!("no expected line in time; output:\n{}", self.seen.join("\n")),
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where cargo put the gateway's binaries: `$CARGO_TARGET_DIR/debug` or `../target/debug`.
pub fn gateway_binary(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let path = target.join("debug").join(name);
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build -p skybridge-gateway --bins` first (make test does)",
        path.display()
    );
    path
}

/// The demo upstream, running.
pub struct Upstream {
    _process: Running,
    pub address: SocketAddr,
}

impl Upstream {
    /// Starts the demo upstream with extra arguments (`--cert`, `--key`, `--client-ca`).
    pub fn start(args: &[&std::ffi::OsStr]) -> Self {
        let mut command = Command::new(gateway_binary("skybridge-demo-upstream"));
        command.args(["--listen", "127.0.0.1:0"]).args(args);
        let mut process = Running::spawn(command);
        let line = process.wait_for(|l| l.contains("\"listening\""));
        let json: Value = serde_json::from_str(&line).expect("listening line");
        let address = json["listening"].as_str().expect("address").parse().expect("address");
        Self { _process: process, address }
    }
}

/// The gateway, running with one anonymous route `/` to a plain-HTTP upstream.
pub struct Gateway {
    _process: Running,
    _dir: tempfile::TempDir,
    pub public: SocketAddr,
}

impl Gateway {
    pub fn anonymous(upstream: SocketAddr) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("gateway.toml");
        let text = format!(
            "[listener]\naddress = \"127.0.0.1:0\"\n[admin]\naddress = \"127.0.0.1:0\"\n\n\
             [[upstreams]]\nname = \"demo\"\nurl = \"http://{upstream}\"\n\n\
             [[routes]]\nname = \"all\"\npath_prefix = \"/\"\nupstream = \"demo\"\n\
             auth = \"anonymous\"\n"
        );
        std::fs::write(&config, text).expect("write config");
        let mut command = Command::new(gateway_binary("skybridge"));
        command
            .args(["run", "--log-format", "json", "--config"])
            .arg(&config)
            .env("SKYBRIDGE_LOG", "warn,skybridge_gateway::server=info");
        let mut process = Running::spawn(command);
        let line = process.wait_for(|l| l.contains("\"Listening.\"") && l.contains("\"public\""));
        let json: Value = serde_json::from_str(&line).expect("log line");
        let public = json["address"].as_str().expect("address").parse().expect("address");
        Self { _process: process, _dir: dir, public }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.public)
    }
}

/// A finished `skybridge-loadtest` run.
pub struct LoadRun {
    pub output: Output,
    pub report: Option<Value>,
    _dir: tempfile::TempDir,
}

impl LoadRun {
    /// Runs the load-test binary with `args` plus `--out` into a fresh folder.
    pub fn run(args: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("results");
        let output = Command::new(env!("CARGO_BIN_EXE_skybridge-loadtest"))
            .args(args)
            .arg("--out")
            .arg(&out)
            .output()
            .expect("run skybridge-loadtest");
        let report = std::fs::read_to_string(out.join("report.json"))
            .ok()
            .map(|text| serde_json::from_str(&text).expect("report.json is JSON"));
        if report.is_some() {
            for file in ["report.md", "latency.svg"] {
                let text = std::fs::read_to_string(out.join(file)).expect(file);
                assert!(text.len() > 100, "{file} is nearly empty");
            }
        }
        Self { output, report, _dir: dir }
    }

    pub fn code(&self) -> i32 {
        self.output.status.code().expect("exit code")
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }

    pub fn report(&self) -> &Value {
        self.report.as_ref().unwrap_or_else(|| panic!("no report; stderr:\n{}", self.stderr()))
    }

    /// Asserts the run passed every check and returns the report.
    pub fn passed(&self) -> &Value {
        let report = self.report();
        assert_eq!(report["passed"], true, "checks failed: {}", report["checks"]);
        assert_eq!(self.code(), 0, "stdout:\n{}\nstderr:\n{}", self.stdout(), self.stderr());
        report
    }
}
