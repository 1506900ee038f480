//! Binding the listeners, serving, and shutting down cleanly.
//!
//! On SIGTERM or SIGINT the gateway first reports not-ready (so a load balancer moves away),
//! keeps serving for `drain_delay`, then stops accepting and gives in-flight requests up to
//! `shutdown_timeout` before it exits 0.

use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer, web};
use openssl::ssl::SniError;
use skybridge_actors::audit::{AuditError, AuditSink};
use skybridge_actors::identity::{Verifier, VerifierError};
use skybridge_actors::minter::{Credentials, MinterError};
use skybridge_actors::rate_limiter::{Limiter, LimiterError};
use skybridge_shared::config::{Config, CredentialKind};
use skybridge_shared::health::Health;
use tokio::signal::unix::{Signal, SignalKind, signal};
use uuid::Uuid;

use crate::metrics::Metrics;
use crate::state::{Gateway, Runtime, Services, WorkerClients};
use crate::{admin, proxy, published_keys, reload, tls};

/// Time stopped workers get to drop their last requests before the audit sink closes.
const WORKER_STOP_GRACE: Duration = Duration::from_millis(500);

/// Time the audit sink gets at exit to deliver what is pending before leaving it spooled.
const AUDIT_FLUSH_DEADLINE: Duration = Duration::from_secs(5);

/// Why the gateway could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The configuration has problems; each is listed.
    #[error("the configuration is not usable:\n{0}")]
    Config(skybridge_shared::config::ConfigProblems),
    /// A listener could not be bound.
    #[error("cannot listen on {address} ({listener}): {source}")]
    Bind {
        /// `public` or `admin`.
        listener: &'static str,
        /// The address asked for.
        address: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The metrics registry could not be set up (a bug: names collide).
    #[error("cannot set up metrics: {0}")]
    Metrics(String),
    /// The audit sink could not start (spool or audit file not writable).
    #[error("cannot start the audit trail: {0}")]
    Audit(#[from] AuditError),
    /// A credential could not be set up (unreadable key file, bad credential file).
    #[error("cannot start the token minter: {0}")]
    Credentials(#[from] MinterError),
    /// The rate limiter could not start (e.g. a malformed Redis URL).
    #[error("cannot start the rate limiter: {0}")]
    Limiter(#[from] LimiterError),
    /// An issuer could not be set up (e.g. an unreadable `jwks_file`).
    #[error("cannot start token verification: {0}")]
    Verifier(#[from] VerifierError),
    /// The signal handlers could not be installed.
    #[error("cannot install signal handlers: {0}")]
    Signals(std::io::Error),
    /// The TLS acceptor could not be built.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
}

/// Runs the gateway until a shutdown signal, then drains and returns.
/// `source` is the file the configuration came from, reloaded on SIGHUP.
pub async fn serve(config: Config, source: Option<PathBuf>) -> Result<(), StartError> {
    let problems = config.validate();
    if !problems.is_empty() {
        return Err(StartError::Config(problems));
    }
    let runtime = Runtime::build(config, 1).map_err(StartError::Config)?;
    let config = runtime.config.clone();
    let metrics = Metrics::new().map_err(|err| StartError::Metrics(err.to_string()))?;
    let health = Health::default();
    let instance_id =
        config.telemetry.instance_id.clone().unwrap_or_else(|| Uuid::new_v4().to_string());
    let audit =
        AuditSink::start(&config.telemetry, &config.base_dir, &instance_id, health.clone())?;
    let credentials = Credentials::start(&config, health.clone())?;
    let limiter = Limiter::start(&config.rate_limit, health.clone())?;
    let verifier = Verifier::start(&config, health.clone())?;
    let services = Services { health, metrics, audit, credentials, limiter, verifier };
    let gateway = web::Data::new(Gateway::new(runtime, services));

    let (public_listener, public_addr) = bind("public", &config.listener.address)?;
    let (admin_listener, admin_addr) = bind("admin", &config.admin.address)?;
    let shutdown_secs = config.listener.shutdown_timeout.as_secs_f64().ceil() as u64;

    let public_state = gateway.clone();
    // Skybridge's own key set is only served when a self-signed credential publishes keys;
    // otherwise the path is an ordinary route like any other.
    let publishes_keys = config.credentials.iter().any(|c| c.kind == CredentialKind::SelfSigned);
    let mut public = HttpServer::new(move || {
        let mut app = App::new().app_data(public_state.clone()).app_data(WorkerClients::default());
        if publishes_keys {
            app = app.route(published_keys::PATH, web::get().to(published_keys::publish));
        }
        app.default_service(web::to(proxy::handle))
    })
    .disable_signals()
    .shutdown_timeout(shutdown_secs);
    if config.listener.workers > 0 {
        public = public.workers(config.listener.workers);
    }
    let public = match &config.listener.tls {
        Some(server_tls) => {
            let mut acceptor = tls::acceptor(&config, server_tls)?;
            // Every handshake switches to the current snapshot's context, so certificates
            // and keys reloaded on SIGHUP apply to new connections without a restart.
            let current = gateway.clone();
            acceptor.set_servername_callback(move |ssl, _alert| {
                if let Some(context) = &current.runtime().server_tls {
                    ssl.set_ssl_context(context).map_err(|_| SniError::ALERT_FATAL)?;
                }
                Ok(())
            });
            public.listen_openssl(public_listener, acceptor)
        }
        None => public.listen(public_listener),
    }
    .map_err(|source| StartError::Bind {
        listener: "public",
        address: public_addr.to_string(),
        source,
    })?
    .run();

    let admin_state = gateway.clone();
    let admin = HttpServer::new(move || {
        App::new().app_data(admin_state.clone()).configure(admin::configure)
    })
    .disable_signals()
    .workers(1)
    .shutdown_timeout(shutdown_secs)
    .listen(admin_listener)
    .map_err(|source| StartError::Bind {
        listener: "admin",
        address: admin_addr.to_string(),
        source,
    })?
    .run();

    let scheme = if config.listener.tls.is_some() { "https" } else { "http" };
    // Signal handlers are installed before anything announces the listeners, so a signal sent
    // as soon as the gateway says it listens is never met by the default action (exit).
    let signals = Signals::install()?;
    tracing::info!(listener = "public", address = %public_addr, scheme, "Listening.");
    tracing::info!(listener = "admin", address = %admin_addr, scheme = "http", "Listening.");

    let handles = (public.handle(), admin.handle());
    actix_web::rt::spawn(reload::watch(gateway.clone(), source, signals.hangup));
    let stop = (signals.terminate, signals.interrupt);
    actix_web::rt::spawn(stop_on_signal(
        gateway.clone(),
        handles,
        stop,
        config.listener.drain_delay,
    ));
    let (public_result, admin_result) = futures_util::future::join(public, admin).await;
    for result in [public_result, admin_result] {
        if let Err(err) = result {
            tracing::error!(error = %err, "Listener stopped with an error.");
        }
    }
    // Workers drop requests still running at the shutdown deadline as they stop; give them a
    // moment, so that those requests' audit records (status 499) reach the sink before it closes.
    tokio::time::sleep(WORKER_STOP_GRACE).await;
    // The sink blocks while it writes out and exports what is pending, so it runs off the
    // runtime's thread; whatever it cannot deliver in time stays spooled for the next start.
    let audit = gateway.services.audit.clone();
    let deadline = AUDIT_FLUSH_DEADLINE;
    if let Err(err) = actix_web::rt::task::spawn_blocking(move || audit.shutdown(deadline)).await {
        tracing::error!(error = %err, "Audit flush failed; pending records stay in the spool.");
    }
    tracing::info!("Stopped.");
    Ok(())
}

fn bind(listener: &'static str, address: &str) -> Result<(TcpListener, SocketAddr), StartError> {
    let fail = |source| StartError::Bind { listener, address: address.to_owned(), source };
    let socket = TcpListener::bind(address).map_err(fail)?;
    let bound = socket.local_addr().map_err(fail)?;
    Ok((socket, bound))
}

/// The signals the gateway handles, installed once at start.
struct Signals {
    terminate: Signal,
    interrupt: Signal,
    hangup: Signal,
}

impl Signals {
    fn install() -> Result<Self, StartError> {
        let install = |kind| signal(kind).map_err(StartError::Signals);
        Ok(Self {
            terminate: install(SignalKind::terminate())?,
            interrupt: install(SignalKind::interrupt())?,
            hangup: install(SignalKind::hangup())?,
        })
    }
}

async fn stop_on_signal(
    gateway: web::Data<Gateway>,
    handles: (ServerHandle, ServerHandle),
    (mut term, mut int): (Signal, Signal),
    drain_delay: Duration,
) {
    let name = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    tracing::info!(
        signal = name,
        drain_delay_ms = drain_delay.as_millis() as u64,
        "Shutting down: not ready any more."
    );
    gateway.start_draining();
    if !drain_delay.is_zero() {
        tokio::time::sleep(drain_delay).await;
    }
    tracing::info!("Draining in-flight requests.");
    let (public, admin) = handles;
    public.stop(true).await;
    admin.stop(true).await;
}
