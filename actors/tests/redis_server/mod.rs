//! Test harness: a real `redis-server` on a free loopback port, stopped in `Drop`.

#![allow(dead_code, unreachable_pub)]

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use skybridge_shared::config::{PolicyConfig, PolicyKind, RateLimitConfig, StoreFailure};
use skybridge_shared::health::{Health, HealthState};

/// A redis-server child process, killed when dropped.
pub struct RedisServer {
    pub port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts redis-server on a free loopback port and waits until it answers PING.
    pub fn start() -> Self {
        let port = {
            let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
            listener.local_addr().expect("local addr").port()
        };
        let mut server = Self { port, child: None };
        server.restart();
        server
    }

    /// The URL for the limiter configuration.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (as a crash would: SIGKILL).
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and waits until it answers.
    pub fn restart(&mut self) {
        self.kill();
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--protected-mode", "yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server on PATH (scripts/install-deps.sh)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(mut conn) = self.connection()
                && redis::cmd("PING").query::<String>(&mut conn).is_ok()
            {
                return;
            }
            assert!(Instant::now() < deadline, "redis-server did not start on {}", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A plain synchronous connection for inspecting and disturbing the server.
    pub fn connection(&self) -> redis::RedisResult<redis::Connection> {
        redis::Client::open(self.url())?.get_connection_with_timeout(Duration::from_secs(1))
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A `rate` policy keyed on a header, falling back locally.
pub fn rate_policy(name: &str, limit: u64, period: Duration) -> PolicyConfig {
    PolicyConfig {
        name: name.to_owned(),
        kind: PolicyKind::Rate,
        limit,
        period,
        burst: None,
        cost: 1,
        key: "header:x-client".to_owned(),
        on_store_failure: StoreFailure::Local,
    }
}

/// A limiter configuration for `policies` against `redis_url`.
pub fn config(redis_url: Option<String>, policies: Vec<PolicyConfig>) -> RateLimitConfig {
    RateLimitConfig { redis_url, policies, ..RateLimitConfig::default() }
}

/// Waits until `health` shows the limiter ready (connected to Redis).
pub async fn wait_ready(health: &Health) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let ready = health
            .snapshot()
            .get(skybridge_actors::rate_limiter::HEALTH_COMPONENT)
            .is_some_and(|c| c.state == HealthState::Ready);
        if ready {
            return;
        }
        assert!(Instant::now() < deadline, "limiter did not become ready: {:?}", health.snapshot());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
