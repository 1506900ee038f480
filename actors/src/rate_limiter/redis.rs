//! The Redis store: the decision script, the key scheme and the calls, each bounded by the
//! per-call deadline.
//!
//! Keys are `gw:rl:v1:{<hash>}:<policy>` (rate, value = TAT in µs, expiring when the bucket is
//! full again) and `gw:q:v1:{<hash>}:<policy>` (quota, value = `window-start:count`, expiring
//! a minute after the window ends). `<hash>` is the hashed counter key, so key names have a
//! bounded length, and being the hash tag it puts every policy of one counter key in one
//! Cluster slot. The instance heartbeat is the sorted set [`INSTANCES_KEY`].

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, ErrorKind, RedisError};

use super::algorithm::Rule;
use super::error::StoreError;
use super::stats::Stats;
use super::store::{Check, Reply, Store};

/// The decision script; see the file for its contract.
pub const DECIDE_SCRIPT: &str = include_str!("decide.lua");

/// Sorted set of live instances: member = instance id, score = last heartbeat (ms, Redis time).
pub const INSTANCES_KEY: &str = "gw:instances";

/// Heartbeats older than this no longer count as an instance.
pub(super) const INSTANCE_EXPIRY_MS: u64 = 30_000;

const HEARTBEAT_SCRIPT: &str = r"
local time = redis.call('TIME')
local ms = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZADD', KEYS[1], ms, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ms - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
return redis.call('ZCARD', KEYS[1])
";

/// The Redis key holding one policy's state for one hashed counter key.
pub fn redis_key(check: &Check) -> String {
    let prefix = match check.rule {
        Rule::Rate(_) => "gw:rl:v1",
        Rule::Quota(_) => "gw:q:v1",
    };
    format!("{prefix}:{{{}}}:{}", check.key_hash, check.policy)
}

/// A multiplexed connection with the script loaded. Cheap to clone; clones share the connection.
#[derive(Clone)]
pub struct RedisStore {
    connection: MultiplexedConnection,
    sha: Arc<str>,
    deadline: Duration,
    stats: Arc<Stats>,
}

impl RedisStore {
    /// Connects and loads the script; `connect_timeout` bounds both.
    pub async fn connect(
        client: Client,
        deadline: Duration,
        connect_timeout: Duration,
        stats: Arc<Stats>,
    ) -> Result<Self, StoreError> {
        let setup = async {
            let config = AsyncConnectionConfig::new().set_connection_timeout(connect_timeout);
            let mut connection = client
                .get_multiplexed_async_connection_with_config(&config)
                .await
                .map_err(StoreError::Redis)?;
            let sha = load_script(&mut connection, &stats).await?;
            Ok(Self { connection, sha: sha.into(), deadline, stats })
        };
        tokio::time::timeout(connect_timeout, setup).await.map_err(|_| StoreError::Timeout)?
    }

    /// Refreshes this instance's heartbeat and returns how many instances are alive.
    pub async fn heartbeat(&self, instance_id: &str) -> Result<u64, StoreError> {
        let mut connection = self.connection.clone();
        let mut command = redis::cmd("EVAL");
        command.arg(HEARTBEAT_SCRIPT).arg(1).arg(INSTANCES_KEY).arg(instance_id);
        command.arg(INSTANCE_EXPIRY_MS);
        self.stats.round_trips.fetch_add(1, Ordering::Relaxed);
        let call = command.query_async::<u64>(&mut connection);
        tokio::time::timeout(self.deadline.max(Duration::from_secs(1)), call)
            .await
            .map_err(|_| StoreError::Timeout)?
            .map_err(StoreError::Redis)
    }
}

async fn load_script(
    connection: &mut MultiplexedConnection,
    stats: &Stats,
) -> Result<String, StoreError> {
    stats.round_trips.fetch_add(1, Ordering::Relaxed);
    redis::cmd("SCRIPT")
        .arg("LOAD")
        .arg(DECIDE_SCRIPT)
        .query_async(connection)
        .await
        .map_err(StoreError::Redis)
}

impl Store for RedisStore {
    fn decide(
        &mut self,
        checks: &[Check],
        now_override: Option<u64>,
    ) -> impl Future<Output = Result<Reply, StoreError>> + Send + 'static {
        let mut command = redis::cmd("EVALSHA");
        command.arg(&*self.sha).arg(checks.len());
        for check in checks {
            command.arg(redis_key(check));
        }
        command.arg(now_override.map(|now| now.to_string()).unwrap_or_default());
        for check in checks {
            match check.rule {
                Rule::Rate(rule) => command.arg("r").arg(rule.emission_us).arg(rule.burst),
                Rule::Quota(rule) => command.arg("q").arg(rule.limit).arg(rule.cost),
            };
            match check.rule {
                Rule::Rate(rule) => command.arg(rule.cost),
                Rule::Quota(rule) => command.arg(rule.window.code()),
            };
        }
        let store = self.clone();
        let expected = checks.len();
        async move {
            let deadline = store.deadline;
            let raw = tokio::time::timeout(deadline, store.evalsha(command))
                .await
                .map_err(|_| StoreError::Timeout)?
                .map_err(StoreError::Redis)?;
            parse_reply(&raw, expected)
        }
    }
}

impl RedisStore {
    /// Runs the script by hash; on NOSCRIPT (Redis restarted or flushed its script cache)
    /// loads it again and retries once.
    async fn evalsha(self, command: redis::Cmd) -> Result<Vec<i64>, RedisError> {
        let started = std::time::Instant::now();
        let result = self.evalsha_once_or_reload(command).await;
        let outcome = if result.is_ok() { "ok" } else { "failed" };
        crate::metrics::REDIS_CALL_SECONDS
            .with_label_values(&[outcome])
            .observe(started.elapsed().as_secs_f64());
        result
    }

    async fn evalsha_once_or_reload(mut self, command: redis::Cmd) -> Result<Vec<i64>, RedisError> {
        self.stats.round_trips.fetch_add(1, Ordering::Relaxed);
        match command.query_async(&mut self.connection).await {
            Err(err) if err.kind() == ErrorKind::NoScriptError => {
                self.stats.script_reloads.fetch_add(1, Ordering::Relaxed);
                load_script(&mut self.connection, &self.stats).await.map_err(|err| match err {
                    StoreError::Redis(err) => err,
                    other => {
                        RedisError::from((ErrorKind::ResponseError, "script", other.to_string()))
                    }
                })?;
                self.stats.round_trips.fetch_add(1, Ordering::Relaxed);
                command.query_async(&mut self.connection).await
            }
            result => result,
        }
    }
}

fn parse_reply(raw: &[i64], expected: usize) -> Result<Reply, StoreError> {
    if raw.len() != expected + 2 {
        return Err(StoreError::Reply("wrong number of values"));
    }
    let unsigned = |value: i64| u64::try_from(value).map_err(|_| StoreError::Reply("negative"));
    let admitted = match raw[0] {
        0 => false,
        1 => true,
        _ => return Err(StoreError::Reply("admitted flag is not 0 or 1")),
    };
    let values = raw[2..].iter().map(|v| unsigned(*v)).collect::<Result<Vec<_>, _>>()?;
    Ok(Reply { now_us: unsigned(raw[1])?, admitted, values })
}
