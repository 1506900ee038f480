//! Limiter decisions per second through the actor against a real redis-server on loopback,
//! and the latency one decision adds. Prints Redis round trips per decision at the end.
//!
//! Run: `cargo bench -p skybridge-actors --bench limiter`.

#![allow(unreachable_pub, clippy::unwrap_used)]

#[path = "../tests/redis_server/mod.rs"]
mod redis_server;

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use futures_util::future::join_all;
use redis_server::{RedisServer, config, rate_policy, wait_ready};
use skybridge_actors::rate_limiter::{DecisionSource, LimitRequest, Limiter, StatsSnapshot};
use skybridge_shared::health::Health;

/// Decisions in flight at once, as from many concurrent requests.
const CONCURRENCY: usize = 256;

fn request(i: u64) -> LimitRequest {
    LimitRequest {
        route: "bench".into(),
        items: vec![("p".into(), format!("v:client-{}", i % 10_000))],
    }
}

fn bench(c: &mut Criterion) {
    let redis = RedisServer::start();
    let system = actix_rt::System::new();
    let policy = rate_policy("p", 1_000_000, Duration::from_secs(60));
    let health = Health::default();
    let limiter = system.block_on(async {
        let limiter = Limiter::start(&config(Some(redis.url()), vec![policy]), health.clone())
            .expect("start limiter");
        wait_ready(&health).await;
        limiter
    });
    let limiter = Arc::new(limiter);

    let mut group = c.benchmark_group("limiter");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(5));
    let before = limiter.stats();
    group.bench_function("decide_concurrent_redis", |b| {
        b.iter_custom(|iters| system.block_on(concurrent(limiter.clone(), iters)))
    });
    report("concurrent", &limiter, before);
    system.block_on(until_redis(&limiter));
    let before = limiter.stats();
    group.bench_function("decide_one_at_a_time_redis", |b| {
        let mut i = 0;
        b.iter_custom(|iters| {
            system.block_on(async {
                let started = Instant::now();
                for _ in 0..iters {
                    i += 1;
                    limiter.decide(request(i)).await;
                }
                started.elapsed()
            })
        })
    });
    report("one at a time", &limiter, before);
    group.finish();
}

/// Prints how many decisions Redis made and the round trips they took.
fn report(phase: &str, limiter: &Limiter, before: StatsSnapshot) {
    let after = limiter.stats();
    let decisions = after.redis - before.redis;
    let trips = after.round_trips - before.round_trips;
    eprintln!(
        "{phase}: Redis decisions {decisions}, round trips {trips} ({:.4} per decision), \
         local fallbacks {}, breaker opens {}",
        trips as f64 / decisions.max(1) as f64,
        after.local_fallback - before.local_fallback,
        after.breaker_opens - before.breaker_opens,
    );
}

/// Waits until decisions come from Redis again (the breaker may have opened under load).
async fn until_redis(limiter: &Limiter) {
    for i in 0.. {
        if limiter.decide(request(i)).await.source == DecisionSource::Redis {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `iters` decisions, CONCURRENCY at a time; returns the wall time.
async fn concurrent(limiter: Arc<Limiter>, iters: u64) -> Duration {
    let started = Instant::now();
    let per_task = iters.div_ceil(CONCURRENCY as u64);
    let tasks = (0..CONCURRENCY as u64).map(|task| {
        let limiter = limiter.clone();
        async move {
            for n in 0..per_task {
                limiter.decide(request(task * per_task + n)).await;
            }
        }
    });
    join_all(tasks).await;
    started.elapsed()
}

criterion_group!(benches, bench);
criterion_main!(benches);
