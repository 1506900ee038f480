//! The minter actor of one remote credential: owns the mint in flight, the callers waiting for
//! it, the refresh timer and the backoff state, and publishes the result into the shared
//! [`Cache`] and the readiness registry.

use std::rc::Rc;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use actix::{
    Actor, ActorFutureExt, AsyncContext, Context, Handler, ResponseFuture, SpawnHandle, WrapFuture,
};
use skybridge_shared::config::InjectHeader;
use skybridge_shared::health::{Health, HealthState};
use tokio::sync::oneshot;

use super::cache::Cache;
use super::error::{CredentialError, MintError};
use super::messages::GetToken;
use super::options::MinterOptions;
use super::schedule::{backoff, refresh_delay, usable_margin};
use super::source::{Minted, Source};
use super::token::{Token, TokenParts};
use crate::metrics;

type Waiter = oneshot::Sender<Result<Token, CredentialError>>;

/// One remote credential's minter.
pub(crate) struct MinterActor {
    name: Arc<str>,
    header: InjectHeader,
    source: Rc<Source>,
    client: awc::Client,
    cache: Arc<Cache>,
    health: Health,
    options: MinterOptions,
    in_flight: bool,
    waiters: Vec<Waiter>,
    failures: u32,
    retry_at: Option<Instant>,
    last_error: Option<String>,
    timer: Option<SpawnHandle>,
    serial: u64,
}

/// What a minter actor is built from.
pub(crate) struct MinterParts {
    pub(crate) name: Arc<str>,
    pub(crate) header: InjectHeader,
    pub(crate) source: Source,
    pub(crate) client: awc::Client,
    pub(crate) cache: Arc<Cache>,
    pub(crate) health: Health,
    pub(crate) options: MinterOptions,
}

// === impl MinterActor ===

impl MinterActor {
    pub(crate) fn new(parts: MinterParts) -> Self {
        parts.health.set(&health_key(&parts.name), HealthState::NotReady, "No token minted yet.");
        Self {
            name: parts.name,
            header: parts.header,
            source: Rc::new(parts.source),
            client: parts.client,
            cache: parts.cache,
            health: parts.health,
            options: parts.options,
            in_flight: false,
            waiters: Vec::new(),
            failures: 0,
            retry_at: None,
            last_error: None,
            timer: None,
            serial: 0,
        }
    }

    /// Starts a mint unless one is in flight; a pending refresh or retry timer is dropped.
    fn start_mint(&mut self, ctx: &mut Context<Self>) {
        if self.in_flight {
            return;
        }
        self.in_flight = true;
        if let Some(timer) = self.timer.take() {
            ctx.cancel_future(timer);
        }
        let source = Rc::clone(&self.source);
        let client = self.client.clone();
        let (per_exchange, total) = (self.options.http_timeout, self.options.mint_timeout);
        let mint = async move {
            match actix_rt::time::timeout(total, source.mint(client, per_exchange)).await {
                Ok(result) => result,
                Err(_) => Err(MintError::Timeout(total)),
            }
        };
        ctx.spawn(mint.into_actor(self).map(|result, actor, ctx| match result {
            Ok(minted) => actor.minted(minted, ctx),
            Err(err) => actor.failed(&err, ctx),
        }));
    }

    fn minted(&mut self, minted: Minted, ctx: &mut Context<Self>) {
        self.in_flight = false;
        self.failures = 0;
        self.retry_at = None;
        self.last_error = None;
        self.serial += 1;
        let lifetime = minted.expires_at.duration_since(SystemTime::now()).unwrap_or_default();
        let token = Token::new(TokenParts {
            credential: Arc::clone(&self.name),
            header: self.header,
            jwt: minted.jwt,
            expires_at: minted.expires_at,
            usable_until: minted.expires_at - usable_margin(lifetime),
            serial: self.serial,
            kid: None,
        });
        self.cache.store(token.clone());
        let exp = minted.expires_at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let detail = format!("Token valid until {exp} (Unix time).");
        self.health.set(&health_key(&self.name), HealthState::Ready, detail);
        tracing::info!(
            credential = %self.name,
            expires_in_s = lifetime.as_secs(),
            "Minted an upstream token."
        );
        metrics::TOKEN_MINTS.with_label_values(&[&*self.name, "ok"]).inc();
        for waiter in self.waiters.drain(..) {
            let _ = waiter.send(Ok(token.clone()));
        }
        let delay = refresh_delay(lifetime, rand::random::<f64>());
        self.timer = Some(ctx.run_later(delay, |actor, ctx| actor.start_mint(ctx)));
    }

    fn failed(&mut self, err: &MintError, ctx: &mut Context<Self>) {
        self.in_flight = false;
        self.failures = self.failures.saturating_add(1);
        let options = &self.options;
        let delay = backoff(
            self.failures,
            options.backoff_base,
            options.backoff_max,
            rand::random::<f64>(),
        );
        self.retry_at = Some(Instant::now() + delay);
        self.last_error = Some(err.to_string());
        metrics::TOKEN_MINTS.with_label_values(&[&*self.name, "failed"]).inc();
        tracing::warn!(
            credential = %self.name,
            error = %err,
            failures = self.failures,
            retry_in_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            "Minting an upstream token failed."
        );
        let current = self.cache.usable(SystemTime::now());
        self.publish_health();
        if let Some(token) = &current
            && let Ok(left) = token.expires_at().duration_since(SystemTime::now())
        {
            // Readiness must turn to not-ready when the served token stops being usable,
            // even if the next retry is later than that.
            ctx.run_later(left.saturating_sub(usable_margin(left)), |actor, _| {
                actor.publish_health();
            });
        }
        let answer = current.ok_or_else(|| self.unavailable());
        for waiter in std::mem::take(&mut self.waiters) {
            let _ = waiter.send(answer.clone());
        }
        self.timer = Some(ctx.run_later(delay, |actor, ctx| actor.start_mint(ctx)));
    }

    /// Readiness from the cache and the last failure.
    fn publish_health(&self) {
        let Some(error) = &self.last_error else { return };
        let (state, detail) = if self.cache.usable(SystemTime::now()).is_some() {
            let detail = format!("Refresh failing, serving the current token: {error}.");
            (HealthState::Degraded, detail)
        } else {
            (HealthState::NotReady, format!("No valid token: {error}."))
        };
        self.health.set(&health_key(&self.name), state, detail);
    }

    fn unavailable(&self) -> CredentialError {
        let reason = self.last_error.clone().unwrap_or_else(|| "no token minted yet".into());
        CredentialError::Unavailable { credential: self.name.to_string(), reason }
    }
}

impl Actor for MinterActor {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        // Mint at once, so readiness is true before the first request and that request
        // does not pay for the mint.
        self.start_mint(ctx);
    }
}

impl Handler<GetToken> for MinterActor {
    type Result = ResponseFuture<Result<Token, CredentialError>>;

    fn handle(&mut self, _: GetToken, ctx: &mut Self::Context) -> Self::Result {
        if let Some(token) = self.cache.usable(SystemTime::now()) {
            return Box::pin(async move { Ok(token) });
        }
        if !self.in_flight {
            if self.retry_at.is_some_and(|at| Instant::now() < at) {
                let err = self.unavailable();
                return Box::pin(async move { Err(err) });
            }
            self.start_mint(ctx);
        }
        let (sender, receiver) = oneshot::channel();
        self.waiters.push(sender);
        let name = self.name.to_string();
        Box::pin(async move {
            receiver.await.unwrap_or_else(|_| {
                Err(CredentialError::Unavailable {
                    credential: name,
                    reason: "the minter stopped".into(),
                })
            })
        })
    }
}

/// The readiness registry entry of credential `name`.
pub(crate) fn health_key(name: &str) -> String {
    format!("credential:{name}")
}
