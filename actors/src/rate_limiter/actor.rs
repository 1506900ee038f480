//! The limiter actor: owns the policies, the Redis connection with its breaker and heartbeat,
//! and the embedded store. A decision that goes to Redis is a future run beside the mailbox,
//! so the actor keeps taking messages while many calls are in flight on the one multiplexed
//! connection; only the bookkeeping after each reply runs on the actor.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use actix::prelude::*;
use skybridge_shared::health::{Health, HealthState};

use super::breaker::Breaker;
use super::embedded::EmbeddedStore;
use super::error::StoreError;
use super::key::key_hash;
use super::local::checks;
use super::messages::{Decide, DecisionSource, LimitOutcome, LimitRequest};
use super::policy::{PolicySpec, outcome};
use super::redis::{INSTANCE_EXPIRY_MS, RedisStore};
use super::stats::Stats;
use super::store::Store;

/// Readiness component name.
pub const HEALTH_COMPONENT: &str = "rate_limit";
/// Bound on connecting and loading the script; runs beside requests, never inside one.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How often the instance heartbeat is refreshed (on the request path).
const HEARTBEAT_EVERY: Duration = Duration::from_secs(10);
/// How often it is refreshed while the count is still settling: during the first heartbeat
/// expiry after start, instances starting together have not all registered yet.
const HEARTBEAT_SETTLING: Duration = Duration::from_secs(1);
/// Mailbox size: decisions queue here when the actor is busy.
const MAILBOX: usize = 65_536;

/// Everything about the shared Redis.
pub(super) struct RedisLink {
    pub(super) client: redis::Client,
    pub(super) store: Option<RedisStore>,
    pub(super) connecting: bool,
    pub(super) breaker: Breaker,
    pub(super) deadline: Duration,
    pub(super) instance_id: String,
    pub(super) instances: Option<u64>,
    pub(super) last_heartbeat: Option<Instant>,
    pub(super) started: Instant,
}

/// The actor's state.
pub(super) struct LimiterActor {
    pub(super) policies: HashMap<Arc<str>, PolicySpec>,
    pub(super) embedded: EmbeddedStore,
    pub(super) redis: Option<RedisLink>,
    pub(super) expected_instances: u64,
    pub(super) health: Health,
    pub(super) stats: Arc<Stats>,
}

/// A request's policies with their hashed counter keys.
pub(super) type Resolved = Vec<(PolicySpec, String)>;

impl Actor for LimiterActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Context<Self>) {
        ctx.set_mailbox_capacity(MAILBOX);
        if self.redis.is_some() {
            self.set_health(
                HealthState::Degraded,
                "Connecting to Redis; policies follow on_store_failure.",
            );
            self.connect(ctx);
        } else {
            tracing::warn!("No rate_limit.redis_url: limits apply per instance.");
            self.set_health(HealthState::Ready, "Embedded limiter: limits apply per instance.");
        }
    }
}

impl Handler<Decide> for LimiterActor {
    type Result = ResponseActFuture<Self, LimitOutcome>;

    fn handle(&mut self, Decide(request): Decide, ctx: &mut Context<Self>) -> Self::Result {
        let resolved = self.resolve(&request);
        let Some(link) = self.redis.as_mut() else {
            return Box::pin(fut::ready(self.decide_embedded(&resolved)));
        };
        let now = Instant::now();
        let mut store = match (&link.store, link.connecting) {
            (Some(store), _) if link.breaker.allows(now) => store.clone(),
            (None, false) if link.breaker.allows(now) => {
                self.connect(ctx);
                return Box::pin(fut::ready(self.fallback(&resolved)));
            }
            _ => return Box::pin(fut::ready(self.fallback(&resolved))),
        };
        let checks = checks(&resolved, |spec| spec.rule());
        let call = store.decide(&checks, None);
        self.heartbeat_if_due(ctx, now);
        Box::pin(call.into_actor(self).map(move |result, act, _ctx| match result {
            Ok(reply) => {
                act.redis_succeeded();
                let decided: Vec<_> = resolved.iter().map(|(s, _)| (s, s.rule())).collect();
                act.stats.count(DecisionSource::Redis);
                outcome(&decided, &[], &reply, DecisionSource::Redis)
            }
            Err(err) => {
                act.redis_failed(&err, &request.route);
                act.fallback(&resolved)
            }
        }))
    }
}

impl LimiterActor {
    /// The request's known policies, each once, with hashed counter keys.
    fn resolve(&self, request: &LimitRequest) -> Resolved {
        let mut resolved: Resolved = Vec::with_capacity(request.items.len());
        for (name, key) in &request.items {
            match self.policies.get(name) {
                Some(_) if resolved.iter().any(|(spec, _)| spec.name == *name) => {}
                Some(spec) => resolved.push((spec.clone(), key_hash(key))),
                None => tracing::warn!(
                    policy = %name,
                    route = %request.route,
                    "Route names an unknown rate-limit policy; it is skipped."
                ),
            }
        }
        resolved
    }

    fn redis_succeeded(&mut self) {
        let Some(link) = self.redis.as_mut() else { return };
        if link.breaker.success(Instant::now()) {
            tracing::info!("Redis is available again; rate limits are shared.");
            self.set_health(HealthState::Ready, "Deciding in Redis.");
        }
    }

    fn redis_failed(&mut self, err: &StoreError, route: &str) {
        let Some(link) = self.redis.as_mut() else { return };
        tracing::debug!(error = %error_text(err), route, "Rate-limit decision in Redis failed.");
        let opened = link.breaker.failure(Instant::now());
        if opened || err.breaks_connection() {
            link.store = None;
        }
        if opened {
            self.stats.breaker_opens.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                error = %error_text(err),
                "Redis is unavailable; rate-limit policies follow on_store_failure."
            );
            self.set_health(
                HealthState::Degraded,
                "Redis unavailable; policies follow on_store_failure.",
            );
        }
    }

    /// Opens a connection and loads the script, beside the mailbox. Its result counts as the
    /// breaker's probe.
    fn connect(&mut self, ctx: &mut Context<Self>) {
        let Some(link) = self.redis.as_mut() else { return };
        link.connecting = true;
        let attempt = RedisStore::connect(
            link.client.clone(),
            link.deadline,
            CONNECT_TIMEOUT,
            self.stats.clone(),
        );
        ctx.spawn(attempt.into_actor(self).map(|result, act, ctx| {
            let Some(link) = act.redis.as_mut() else { return };
            link.connecting = false;
            match result {
                Ok(store) => {
                    link.store = Some(store);
                    link.last_heartbeat = None;
                    act.redis_succeeded();
                    act.heartbeat_if_due(ctx, Instant::now());
                }
                Err(err) => act.redis_failed(&err, "-"),
            }
        }));
    }

    /// Refreshes the heartbeat every [`HEARTBEAT_EVERY`] ([`HEARTBEAT_SETTLING`] at first),
    /// beside the request that triggers it.
    fn heartbeat_if_due(&mut self, ctx: &mut Context<Self>, now: Instant) {
        let Some(link) = self.redis.as_mut() else { return };
        let Some(store) = link.store.clone() else { return };
        let settling =
            now.duration_since(link.started).as_millis() < u128::from(INSTANCE_EXPIRY_MS);
        let every = if settling { HEARTBEAT_SETTLING } else { HEARTBEAT_EVERY };
        if link.last_heartbeat.is_some_and(|at| now.duration_since(at) < every) {
            return;
        }
        link.last_heartbeat = Some(now);
        let id = link.instance_id.clone();
        let beat = async move { store.heartbeat(&id).await };
        ctx.spawn(beat.into_actor(self).map(|result, act, _ctx| match result {
            Ok(count) => {
                if let Some(link) = act.redis.as_mut() {
                    link.instances = Some(count.max(1));
                }
            }
            Err(err) => tracing::debug!(error = %error_text(&err), "Instance heartbeat failed."),
        }));
    }

    fn set_health(&self, state: HealthState, detail: &str) {
        self.health.set(HEALTH_COMPONENT, state, detail);
    }
}

/// The error and its causes on one line. Redis errors carry no URL or password.
fn error_text(err: &StoreError) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
