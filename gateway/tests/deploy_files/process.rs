//! Child processes for the load-balancer tests, each killed when its guard is dropped, and a
//! minimal blocking HTTP/1.0 client to talk to them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process killed (and reaped) on drop, even when the test panics.
pub(crate) struct Guard {
    child: Child,
    name: String,
}

impl Guard {
    /// Starts `command`, capturing stdout and discarding stdin.
    pub(crate) fn spawn(name: &str, mut command: Command) -> Self {
        command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let child = command.spawn().unwrap_or_else(|err| panic!("cannot start {name}: {err}"));
        Self { child, name: name.to_owned() }
    }

    /// Starts `command` with stdout and stderr appended to `log`, to be read while it runs.
    pub(crate) fn spawn_logging(name: &str, mut command: Command, log: &std::path::Path) -> Self {
        let file = std::fs::File::create(log).expect("create the log file");
        let stderr = file.try_clone().expect("share the log file");
        command.stdin(Stdio::null()).stdout(file).stderr(stderr);
        let child = command.spawn().unwrap_or_else(|err| panic!("cannot start {name}: {err}"));
        Self { child, name: name.to_owned() }
    }

    /// Reads the first stdout line (the demo upstream announces its address there).
    pub(crate) fn first_line(&mut self) -> String {
        let stdout = self.child.stdout.take().expect("stdout is piped");
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).expect("read the first line");
        line
    }

    /// Panics with the process's stderr if it has already exited.
    pub(crate) fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().expect("try_wait") {
            let mut stderr = String::new();
            if let Some(mut pipe) = self.child.stderr.take() {
                let _ = pipe.read_to_string(&mut stderr);
            }
            panic!("{} exited early with {status}: {stderr}", self.name);
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        // SIGTERM first: nginx and HAProxy stop their workers on it, whereas SIGKILL to the
        // master would leave an nginx worker running with the listening socket open.
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on right now (bound, then released).
pub(crate) fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local address").port()
}

/// The `skybridge-demo-upstream` binary, serving plain HTTP on an ephemeral loopback port.
pub(crate) fn demo_upstream() -> (Guard, u16) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_skybridge-demo-upstream"));
    command.args(["--listen", "127.0.0.1:0"]);
    let mut guard = Guard::spawn("demo upstream", command);
    let line = guard.first_line();
    let announced: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
    let address = announced["listening"].as_str().expect("the listening address");
    (guard, crate::support::port_of(address))
}

/// A program installed by scripts/install-deps.sh, found on PATH or in /usr/sbin.
pub(crate) fn installed(program: &str) -> PathBuf {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).map(|dir| dir.join(program)).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain([PathBuf::from("/usr/sbin").join(program)])
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| panic!("{program} is not installed; run scripts/install-deps.sh"))
}

/// Waits until something accepts connections on `port`, for at most five seconds.
pub(crate) fn wait_for_port(port: u16, guard: &mut Guard) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        guard.assert_running();
        assert!(Instant::now() < deadline, "nothing listens on port {port} after 5s");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The status and body of one HTTP/1.0 exchange with `127.0.0.1:port`.
pub(crate) fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).expect("read timeout");
    let mut request = format!("{method} {path} HTTP/1.0\r\nHost: skybridge.test\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("Content-Length: 0\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send the request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read the response");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"));
    let body = response.split_once("\r\n\r\n").map(|(_, body)| body.to_owned()).unwrap_or_default();
    (status, body)
}
