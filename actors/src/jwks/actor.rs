//! The per-issuer JWKS actor: state, lifecycle and the [`KeyMiss`] handler.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use actix::{
    Actor, ActorFutureExt, AsyncContext, Context, Handler, ResponseFuture, SpawnHandle, WrapFuture,
};
use arc_swap::ArcSwap;
use skybridge_shared::health::{Health, HealthState};
use tokio::sync::oneshot;

use super::error::JwksError;
use super::fetch::{self, Fetched, KeySource};
use super::key::Algorithm;
use super::messages::KeyMiss;
use super::{KeySnapshot, Tuning};
use crate::metrics;

/// What the actor needs to know about its issuer.
#[derive(Debug, Clone)]
pub(crate) struct IssuerSource {
    /// The issuer's configured name, used in logs and readiness.
    pub name: String,
    /// Where the keys come from.
    pub source: KeySource,
    /// Issuer strings a discovery document may name (`issuer` and `additional_issuers`).
    pub expected_issuers: Vec<String>,
    /// The configured algorithms; discovery may only narrow them.
    pub algorithms: Vec<Algorithm>,
    /// How long the last good keys stay trusted while fetches fail.
    pub max_stale: Duration,
}

/// Owns one issuer's keys; see the module documentation.
pub struct JwksActor {
    issuer: IssuerSource,
    tuning: Tuning,
    snapshot: Arc<ArcSwap<KeySnapshot>>,
    health: Health,
    client: Option<awc::Client>,
    last_good: Option<Instant>,
    last_miss_fetch: Option<Instant>,
    fetching: bool,
    waiters: Vec<oneshot::Sender<()>>,
    next_refresh: Option<SpawnHandle>,
    file_stamp: Option<(SystemTime, u64)>,
}

impl JwksActor {
    /// A new actor publishing into `snapshot`; `preloaded` says the snapshot already holds
    /// keys read at startup (a `jwks_file`).
    pub(crate) fn new(
        issuer: IssuerSource,
        tuning: Tuning,
        snapshot: Arc<ArcSwap<KeySnapshot>>,
        health: Health,
        preloaded: bool,
    ) -> Self {
        let file_stamp = match &issuer.source {
            KeySource::File(path) => file_stamp(path),
            _ => None,
        };
        if preloaded {
            let keys = snapshot.load().keys().len();
            metrics::JWKS_REFRESHES.with_label_values(&[issuer.name.as_str(), "ok"]).inc();
            metrics::JWKS_KEYS
                .with_label_values(&[issuer.name.as_str()])
                .set(i64::try_from(keys).unwrap_or(i64::MAX));
        }
        Self {
            issuer,
            tuning,
            snapshot,
            health,
            client: None,
            last_good: preloaded.then(Instant::now),
            last_miss_fetch: None,
            fetching: false,
            waiters: Vec::new(),
            next_refresh: None,
            file_stamp,
        }
    }

    fn component(&self) -> String {
        format!("issuer:{}", self.issuer.name)
    }

    fn start_fetch(&mut self, ctx: &mut Context<Self>, miss: bool) {
        if self.fetching {
            return;
        }
        let Some(client) = self.client.clone() else { return };
        self.fetching = true;
        if miss {
            self.last_miss_fetch = Some(Instant::now());
        }
        if let Some(handle) = self.next_refresh.take() {
            ctx.cancel_future(handle);
        }
        let (source, expected) = (self.issuer.source.clone(), self.issuer.expected_issuers.clone());
        let tuning = self.tuning.clone();
        let work = async move { fetch::fetch_remote(&client, &source, &expected, &tuning).await };
        ctx.spawn(work.into_actor(self).map(|result, act, ctx| {
            act.fetching = false;
            let delay = act.apply(result);
            act.next_refresh = Some(ctx.run_later(delay, |act, ctx| act.start_fetch(ctx, false)));
            for waiter in act.waiters.drain(..) {
                let _ = waiter.send(());
            }
        }));
    }

    /// Publishes the outcome of a load and returns when to load again.
    fn apply(&mut self, result: Result<Fetched, JwksError>) -> Duration {
        match result {
            Ok(fetched) => {
                let delay = fetched
                    .max_age
                    .unwrap_or(self.tuning.default_refresh)
                    .clamp(self.tuning.min_refresh, self.tuning.max_refresh);
                self.publish(fetched);
                delay
            }
            Err(err) => {
                self.keep_last_good(&err);
                self.tuning.retry_interval.min(self.tuning.default_refresh)
            }
        }
    }

    fn publish(&mut self, fetched: Fetched) {
        let algorithms = narrow(&self.issuer, fetched.discovered_algs.as_deref());
        let (count, skipped) = (fetched.set.keys.len(), fetched.set.skipped);
        if !skipped.is_empty() {
            let reasons: Vec<String> = skipped
                .iter()
                .map(|(kid, reason)| format!("{}: {reason}", kid.as_deref().unwrap_or("-")))
                .collect();
            tracing::info!(
                issuer = %self.issuer.name,
                skipped = skipped.len(),
                reasons = %reasons.join("; "),
                "Skipped unusable keys in the JWKS."
            );
        }
        self.snapshot.store(Arc::new(KeySnapshot::new(fetched.set.keys, algorithms)));
        self.last_good = Some(Instant::now());
        tracing::debug!(issuer = %self.issuer.name, keys = count, "Loaded issuer keys.");
        metrics::JWKS_REFRESHES.with_label_values(&[self.issuer.name.as_str(), "ok"]).inc();
        metrics::JWKS_KEYS
            .with_label_values(&[self.issuer.name.as_str()])
            .set(i64::try_from(count).unwrap_or(i64::MAX));
        let detail = format!("{count} keys loaded, {} skipped.", skipped.len());
        self.health.set(&self.component(), HealthState::Ready, detail);
    }

    fn keep_last_good(&mut self, err: &JwksError) {
        metrics::JWKS_REFRESHES.with_label_values(&[self.issuer.name.as_str(), "failed"]).inc();
        let age = self.last_good.map(|at| at.elapsed());
        match age {
            Some(age) if age <= self.issuer.max_stale => {
                tracing::warn!(
                    issuer = %self.issuer.name,
                    error = %err,
                    age_secs = age.as_secs(),
                    "Key refresh failed; keeping the last good keys."
                );
                let detail =
                    format!("Key refresh failed; serving keys loaded {}s ago.", age.as_secs());
                self.health.set(&self.component(), HealthState::Degraded, detail);
            }
            _ => {
                tracing::error!(
                    issuer = %self.issuer.name,
                    error = %err,
                    "Key refresh failed and no usable keys remain; its tokens are rejected."
                );
                if age.is_some() {
                    let algorithms = self.snapshot.load().algorithms().to_vec();
                    self.snapshot.store(Arc::new(KeySnapshot::empty(algorithms)));
                    self.last_good = None;
                }
                self.health.set(
                    &self.component(),
                    HealthState::NotReady,
                    "No usable keys: the issuer's keys cannot be loaded.",
                );
            }
        }
    }

    fn poll_file(&mut self) {
        let KeySource::File(path) = &self.issuer.source else { return };
        let stamp = file_stamp(path);
        if stamp == self.file_stamp {
            return;
        }
        self.file_stamp = stamp;
        tracing::info!(issuer = %self.issuer.name, "The JWKS file changed; reloading it.");
        let result =
            fetch::load_file(path).map(|set| Fetched { set, max_age: None, discovered_algs: None });
        match result {
            Ok(fetched) => self.publish(fetched),
            // A local file never goes stale: the operator owns it, so the last good keys
            // stay until the file is fixed.
            Err(err) => {
                self.last_good = Some(Instant::now());
                self.keep_last_good(&err);
            }
        }
    }
}

impl Actor for JwksActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        if matches!(self.issuer.source, KeySource::File(_)) {
            ctx.run_interval(self.tuning.file_poll, |act, _| act.poll_file());
        } else {
            self.client = Some(fetch::client(&self.tuning));
            self.start_fetch(ctx, false);
        }
    }
}

impl Handler<KeyMiss> for JwksActor {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, msg: KeyMiss, ctx: &mut Self::Context) -> Self::Result {
        let known = self.snapshot.load().by_kid(&msg.kid).is_some();
        let cooled =
            self.last_miss_fetch.is_none_or(|at| at.elapsed() >= self.tuning.miss_cooldown);
        if known || matches!(self.issuer.source, KeySource::File(_)) {
            return Box::pin(async {});
        }
        if !self.fetching {
            if !cooled {
                tracing::debug!(
                    issuer = %self.issuer.name,
                    "Unknown kid inside the refetch cooldown."
                );
                return Box::pin(async {});
            }
            tracing::info!(
                issuer = %self.issuer.name,
                "Unknown kid; refetching the issuer's keys."
            );
            self.start_fetch(ctx, true);
        }
        let (sender, receiver) = oneshot::channel();
        self.waiters.push(sender);
        Box::pin(async move {
            let _ = receiver.await;
        })
    }
}

/// The configured algorithms, narrowed to those discovery advertises. Discovery can never
/// add one; if it shares none with the configuration it is ignored (and logged), since
/// `id_token_signing_alg_values_supported` describes ID tokens, not access tokens.
fn narrow(issuer: &IssuerSource, discovered: Option<&[String]>) -> Vec<Algorithm> {
    let Some(discovered) = discovered else { return issuer.algorithms.clone() };
    let narrowed: Vec<Algorithm> = issuer
        .algorithms
        .iter()
        .copied()
        .filter(|alg| discovered.iter().any(|d| d == alg.name()))
        .collect();
    if narrowed.is_empty() {
        tracing::warn!(
            issuer = %issuer.name,
            "Discovery advertises none of the configured algorithms; keeping the configured list."
        );
        return issuer.algorithms.clone();
    }
    narrowed
}

fn file_stamp(path: &std::path::Path) -> Option<(SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}
