//! The limiter against a real redis-server started on a free loopback port.

mod redis_server;

use std::sync::Arc;
use std::time::{Duration, Instant};

use redis_server::{RedisServer, config, rate_policy, wait_ready};
use skybridge_actors::rate_limiter::{
    Check, DecisionSource, DenialKind, EmbeddedStore, LimitRequest, Limiter, MICROS, PolicySpec,
    RedisStore, StateItem, Stats, Store, key_hash, redis_key, state_field, verdict,
};
use skybridge_shared::config::{PolicyConfig, PolicyKind, StoreFailure};
use skybridge_shared::health::Health;

fn request(policy: &str, client: &str) -> LimitRequest {
    LimitRequest { route: "orders".into(), items: vec![(policy.into(), format!("v:{client}"))] }
}

fn quota(name: &str, limit: u64, period_secs: u64) -> PolicyConfig {
    PolicyConfig {
        kind: PolicyKind::Quota,
        ..rate_policy(name, limit, Duration::from_secs(period_secs))
    }
}

/// Headers from a raw reply, as the limiter derives them.
fn rendered(
    specs: &[PolicySpec],
    checks: &[Check],
    reply: &skybridge_actors::rate_limiter::Reply,
) -> String {
    let verdicts: Vec<_> = checks
        .iter()
        .zip(&reply.values)
        .map(|(c, v)| verdict(&c.rule, *v, reply.now_us, reply.admitted))
        .collect();
    let items: Vec<StateItem<'_>> = specs
        .iter()
        .zip(&verdicts)
        .map(|(s, v)| StateItem { name: &s.name, remaining: v.remaining, reset_secs: v.reset_secs })
        .collect();
    state_field(&items).unwrap_or_default()
}

#[actix_rt::test]
async fn lua_script_and_embedded_store_agree_on_a_vector_of_times() {
    let redis = RedisServer::start();
    let client = redis::Client::open(redis.url()).expect("client");
    let stats = Arc::new(Stats::default());
    let mut lua =
        RedisStore::connect(client, Duration::from_secs(1), Duration::from_secs(2), stats)
            .await
            .expect("connect");
    let mut embedded = EmbeddedStore::default();
    let burst = PolicyConfig { burst: Some(5), ..rate_policy("smooth", 3, Duration::from_secs(1)) };
    let specs: Vec<PolicySpec> = [
        rate_policy("per-min", 10, Duration::from_secs(60)),
        burst,
        quota("hourly", 40, 3600),
        quota("monthly", 60, 30 * 86_400),
    ]
    .iter()
    .map(|c| PolicySpec::from_config(c).expect("policy"))
    .collect();
    // 2030-01-31T23:59:50Z: the vector crosses an hour, a day and a month boundary. Quota keys
    // expire at the window's end in real time, so the fixed clock lies in the future.
    let mut now = 1_896_134_390 * MICROS;
    let mut seed = 0x2545_f491_u64;
    let (mut admitted, mut denied) = (0, 0);
    for step in 0..300 {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        now += (seed >> 33) % 250_000;
        let key = key_hash(if step % 7 == 0 { "v:other" } else { "v:main" });
        let checks: Vec<Check> = specs
            .iter()
            .map(|s| Check { policy: s.name.clone(), key_hash: key.clone(), rule: s.rule() })
            .collect();
        let from_lua = lua.decide(&checks, Some(now)).await.expect("script");
        let from_rust = embedded.decide(&checks, Some(now)).await.expect("embedded");
        assert_eq!(from_lua, from_rust, "step {step} at {now}");
        assert_eq!(rendered(&specs, &checks, &from_lua), rendered(&specs, &checks, &from_rust));
        if from_lua.admitted { admitted += 1 } else { denied += 1 }
    }
    assert!(admitted > 20 && denied > 20, "the vector must exercise both: {admitted}/{denied}");
}

async fn start_limiters(
    redis: &RedisServer,
    policies: Vec<PolicyConfig>,
    n: usize,
) -> Vec<Limiter> {
    let mut limiters = Vec::new();
    for _ in 0..n {
        let health = Health::default();
        let limiter = Limiter::start(&config(Some(redis.url()), policies.clone()), health.clone())
            .expect("start");
        wait_ready(&health).await;
        limiters.push(limiter);
    }
    limiters
}

#[actix_rt::test]
async fn three_instances_share_ten_per_minute() {
    let redis = RedisServer::start();
    let policy = rate_policy("per-client", 10, Duration::from_secs(60));
    let limiters = start_limiters(&redis, vec![policy], 3).await;
    let started = Instant::now();
    let mut allowed = 0;
    let mut retry_afters = Vec::new();
    for i in 0..40 {
        let outcome = limiters[i % 3].decide(request("per-client", "alice")).await;
        assert_eq!(outcome.source, DecisionSource::Redis);
        match outcome.denial {
            None => allowed += 1,
            Some(denial) => {
                assert_eq!(denial.kind, DenialKind::RateLimited);
                assert_eq!(outcome.ratelimit_header.as_deref(), Some("\"per-client\";r=0;t=6"));
                retry_afters.push(denial.retry_after_secs);
            }
        }
    }
    assert!(started.elapsed() < Duration::from_millis(500), "took {:?}", started.elapsed());
    assert_eq!(allowed, 10);
    assert_eq!(retry_afters, vec![6; 30]);
    let trips: u64 = limiters.iter().map(|l| l.stats().round_trips).sum();
    // 40 decisions plus each instance's script load and heartbeats.
    assert!(trips <= 40 + 3 * 4, "{trips} round trips");
}

#[actix_rt::test]
async fn redis_killed_mid_run_falls_back_to_the_local_share_and_recovers() {
    let mut redis = RedisServer::start();
    let allow = PolicyConfig {
        on_store_failure: StoreFailure::Allow,
        ..rate_policy("analytics", 1, Duration::from_secs(60))
    };
    let deny = PolicyConfig {
        on_store_failure: StoreFailure::Deny,
        ..rate_policy("login", 100, Duration::from_secs(60))
    };
    let policies = vec![rate_policy("per-client", 10, Duration::from_secs(60)), allow, deny];
    let limiters = start_limiters(&redis, policies, 3).await;
    // Let the heartbeats (every second while settling) count all three instances.
    for _ in 0..3 {
        for limiter in &limiters {
            limiter.decide(request("per-client", "warm-up")).await;
        }
        tokio::time::sleep(Duration::from_millis(600)).await;
    }
    redis.kill();
    let mut sources = Vec::new();
    let mut allowed = 0;
    for _ in 0..8 {
        let outcome = limiters[0].decide(request("per-client", "bob")).await;
        assert_ne!(outcome.denial.as_ref().map(|d| d.kind), Some(DenialKind::StoreUnavailable));
        allowed += u32::from(outcome.denial.is_none());
        sources.push(outcome.source);
    }
    assert!(sources.iter().all(|s| *s == DecisionSource::LocalFallback), "{sources:?}");
    assert_eq!(allowed, 4, "ceil(10 / 3 instances) = 4 on this instance");
    let unlimited = limiters[1].decide(request("analytics", "bob")).await;
    assert_eq!((unlimited.source, unlimited.denial), (DecisionSource::AllowFallback, None));
    let refused = limiters[2].decide(request("login", "bob")).await;
    let denial = refused.denial.expect("deny policy refuses");
    assert_eq!((denial.kind, denial.retry_after_secs), (DenialKind::StoreUnavailable, 1));

    redis.restart();
    let back = Instant::now();
    loop {
        let outcome = limiters[0].decide(request("per-client", "carol")).await;
        if outcome.source == DecisionSource::Redis {
            break;
        }
        assert!(back.elapsed() < Duration::from_secs(2), "Redis decisions did not resume");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[actix_rt::test]
async fn slow_redis_never_delays_a_decision_much_beyond_the_deadline() {
    let redis = RedisServer::start();
    let limiter = start_limiters(&redis, vec![rate_policy("p", 1000, Duration::from_secs(60))], 1)
        .await
        .remove(0);
    let mut admin = redis.connection().expect("admin connection");
    redis::cmd("CLIENT").arg("PAUSE").arg(1500).arg("ALL").query::<()>(&mut admin).expect("pause");
    let mut slowest = Duration::ZERO;
    let mut sources = Vec::new();
    for i in 0..30 {
        let started = Instant::now();
        let outcome = limiter.decide(request("p", &format!("c{i}"))).await;
        slowest = slowest.max(started.elapsed());
        sources.push(outcome.source);
    }
    // Deadline 25 ms; the rest is headroom for a machine shared with other builds.
    assert!(slowest < Duration::from_millis(25 + 40), "slowest decision took {slowest:?}");
    assert!(sources.iter().all(|s| *s == DecisionSource::LocalFallback), "{sources:?}");
    assert!(limiter.stats().breaker_opens >= 1);
}

#[actix_rt::test]
async fn keys_expire_when_buckets_refill_and_the_script_survives_a_flush() {
    let redis = RedisServer::start();
    let per_minute = rate_policy("per-minute", 10, Duration::from_secs(60));
    let one_shot = rate_policy("one-shot", 10, Duration::from_secs(1));
    let specs: Vec<PolicySpec> = [&per_minute, &one_shot]
        .iter()
        .map(|c| PolicySpec::from_config(c).expect("spec"))
        .collect();
    let limiter =
        start_limiters(&redis, vec![per_minute.clone(), one_shot.clone()], 1).await.remove(0);
    let key_of = |spec: &PolicySpec, client: &str| {
        redis_key(&Check {
            policy: spec.name.clone(),
            key_hash: key_hash(client),
            rule: spec.rule(),
        })
    };
    for _ in 0..12 {
        limiter.decide(request("per-minute", "burst")).await;
    }
    limiter.decide(request("one-shot", "once")).await;
    let mut admin = redis.connection().expect("admin");
    let ttl: i64 =
        redis::cmd("PTTL").arg(key_of(&specs[0], "v:burst")).query(&mut admin).expect("pttl");
    assert!(ttl > 0 && ttl <= 60_000, "TTL {ttl} ms must be at most the period");
    let key = key_of(&specs[1], "v:once");
    assert!(key.contains('{') && key.len() < 64, "{key}");
    let ttl: i64 = redis::cmd("PTTL").arg(&key).query(&mut admin).expect("pttl");
    assert!(ttl > 0 && ttl <= 100, "one request of 10/s holds its key for 100 ms, not {ttl}");
    tokio::time::sleep(Duration::from_millis(150)).await;
    let exists: i64 = redis::cmd("EXISTS").arg(&key).query(&mut admin).expect("exists");
    assert_eq!(exists, 0, "a one-shot key vanishes once its bucket is full");

    redis::cmd("SCRIPT").arg("FLUSH").query::<()>(&mut admin).expect("flush");
    let outcome = limiter.decide(request("per-minute", "after-flush")).await;
    assert_eq!((outcome.source, outcome.denial), (DecisionSource::Redis, None));
    assert_eq!(limiter.stats().script_reloads, 1);
}

#[actix_rt::test]
async fn without_redis_the_embedded_limiter_applies_full_limits() {
    let health = Health::default();
    let policy = rate_policy("per-client", 3, Duration::from_secs(60));
    let limiter = Limiter::start(&config(None, vec![policy]), health.clone()).expect("start");
    wait_ready(&health).await;
    let mut allowed = 0;
    for _ in 0..5 {
        let outcome = limiter.decide(request("per-client", "dave")).await;
        assert_eq!(outcome.source, DecisionSource::Embedded);
        assert_eq!(outcome.policy_header.as_deref(), Some("\"per-client\";q=3;w=60"));
        allowed += u32::from(outcome.denial.is_none());
    }
    assert_eq!(allowed, 3);
}
