//! What every worker shares: the current configuration snapshot, readiness, and the
//! per-worker awc clients built from it.
//!
//! The snapshot ([`Runtime`]) is immutable and swapped as a whole, so a request sees one
//! consistent set of routes and upstreams from start to end. awc clients are `!Send`, so each
//! worker keeps its own, rebuilt lazily when the snapshot's generation changes.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use actix_web::http::Uri;
use arc_swap::ArcSwap;
use openssl::ssl::{SslConnector, SslContext};
use skybridge_actors::audit::AuditSink;
use skybridge_actors::identity::Verifier;
use skybridge_actors::minter::Credentials;
use skybridge_actors::rate_limiter::{self, Limiter};
use skybridge_shared::config::{Config, ConfigProblems, UpstreamConfig};
use skybridge_shared::health::Health;

use crate::metrics::Metrics;
use crate::routing::RouteTable;
use crate::tls;

/// State shared by every worker and the admin listener.
pub struct Gateway {
    runtime: ArcSwap<Runtime>,
    /// The long-lived services: readiness, metrics, audit sink and the actors' handles.
    pub services: Services,
    draining: AtomicBool,
}

impl Gateway {
    /// Shared state around a first snapshot.
    pub fn new(runtime: Runtime, services: Services) -> Self {
        Self { runtime: ArcSwap::from_pointee(runtime), services, draining: AtomicBool::new(false) }
    }

    /// The current snapshot; hold it for the whole request.
    pub fn runtime(&self) -> Arc<Runtime> {
        self.runtime.load_full()
    }

    /// Swaps in a new snapshot; requests already running keep the one they started with.
    pub fn replace_runtime(&self, runtime: Runtime) {
        self.runtime.store(Arc::new(runtime));
    }

    /// Marks the gateway as shutting down: `/readyz` fails from now on.
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// Whether shutdown has begun.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }
}

/// The long-lived services the gateway is built around, started before the listeners.
pub struct Services {
    /// Readiness registry every service reports into.
    pub health: Health,
    /// Request metrics.
    pub metrics: Metrics,
    /// The audit sink.
    pub audit: AuditSink,
    /// The token minter.
    pub credentials: Credentials,
    /// The rate limiter.
    pub limiter: Limiter,
    /// The bearer-token verifier.
    pub verifier: Verifier,
}

/// One immutable configuration snapshot, ready to serve.
pub struct Runtime {
    /// Increases with every reload; workers rebuild their clients when it changes.
    pub generation: u64,
    /// The configuration it was built from.
    pub config: Arc<Config>,
    /// The route table.
    pub routes: RouteTable,
    /// Upstreams by name.
    pub upstreams: HashMap<Arc<str>, Arc<Upstream>>,
    /// Proxies whose `X-Forwarded-For` is believed for `client_ip` keys.
    pub trusted_proxies: Vec<IpAddr>,
    /// The public listener's TLS context (certificate, key, client CA), when it is HTTPS.
    /// New handshakes pick up the current one, so a reload swaps certificates in place.
    pub server_tls: Option<SslContext>,
}

impl Runtime {
    /// Builds a snapshot, loading every certificate and key it needs; every unusable one is
    /// reported.
    pub fn build(config: Config, generation: u64) -> Result<Self, ConfigProblems> {
        let mut problems = ConfigProblems::default();
        // A file that routes nothing is almost always a truncated or wrong file; refusing it
        // keeps a bad deploy or reload from turning every request into a 404. The embedded
        // defaults (no file) legitimately have no routes.
        if config.source.is_some() && config.routes.is_empty() {
            problems.push("routes", "no route is configured, so every request would get 404");
        }
        let mut upstreams = HashMap::new();
        for (index, upstream) in config.upstreams.iter().enumerate() {
            match Upstream::build(&config, &format!("upstreams[{index}]"), upstream) {
                Ok(built) => {
                    upstreams.insert(built.name.clone(), Arc::new(built));
                }
                Err(err) => problems.push(err.key, err.reason),
            }
        }
        let server_tls = match &config.listener.tls {
            Some(server_tls) => match tls::acceptor(&config, server_tls) {
                Ok(acceptor) => Some(acceptor.build().into_context()),
                Err(err) => {
                    problems.push(err.key.clone(), err.describe());
                    None
                }
            },
            None => None,
        };
        if !problems.is_empty() {
            return Err(problems);
        }
        let routes = RouteTable::new(&config);
        let trusted_proxies = rate_limiter::trusted_proxies(&config.rate_limit);
        let config = Arc::new(config);
        Ok(Self { generation, config, routes, upstreams, trusted_proxies, server_tls })
    }
}

/// One upstream, resolved.
pub struct Upstream {
    /// The name routes use.
    pub name: Arc<str>,
    /// `http` or `https`.
    pub scheme: String,
    /// `host[:port]` from the URL.
    pub authority: String,
    /// Path prefixed to every forwarded path, without a trailing slash.
    pub base_path: String,
    /// The credential attached to requests, if any.
    pub credential: Option<Arc<str>>,
    /// TCP connect (and TLS handshake) timeout.
    pub connect_timeout: Duration,
    /// Time until the response head must arrive.
    pub request_timeout: Duration,
    /// Connection cap per worker.
    pub max_connections: usize,
    /// TLS settings when the URL is `https`.
    pub tls: Option<SslConnector>,
}

impl Upstream {
    fn build(config: &Config, key: &str, upstream: &UpstreamConfig) -> Result<Self, tls::TlsError> {
        let invalid = |reason: &str| tls::TlsError {
            key: format!("{key}.url"),
            path: Default::default(),
            reason: reason.to_owned(),
        };
        let uri: Uri = upstream.url.parse().map_err(|_| invalid("not a valid URL"))?;
        let scheme = uri.scheme_str().ok_or_else(|| invalid("has no scheme"))?.to_owned();
        let authority = uri.authority().ok_or_else(|| invalid("has no host"))?.to_string();
        if uri.query().is_some() {
            return Err(invalid("must not have a query string"));
        }
        let tls = match scheme.as_str() {
            "https" => Some(tls::connector(config, key, upstream.tls.as_ref())?),
            _ => None,
        };
        Ok(Self {
            name: upstream.name.as_str().into(),
            scheme,
            authority,
            base_path: uri.path().trim_end_matches('/').to_owned(),
            credential: upstream.credential.as_deref().map(Into::into),
            connect_timeout: upstream.connect_timeout,
            request_timeout: upstream.request_timeout,
            max_connections: upstream.max_connections,
            tls,
        })
    }

    /// The URL of `path` (already normalised and encoded) and `query` on this upstream.
    pub fn url(&self, path: &str, query: Option<&str>) -> String {
        let mut url = format!("{}://{}{}{}", self.scheme, self.authority, self.base_path, path);
        if let Some(query) = query {
            url.push('?');
            url.push_str(query);
        }
        url
    }

    fn client(&self) -> awc::Client {
        let mut connector = awc::Connector::new()
            .timeout(self.connect_timeout)
            .handshake_timeout(self.connect_timeout)
            .limit(self.max_connections);
        if let Some(tls) = &self.tls {
            connector = connector.openssl(tls.clone());
        }
        awc::Client::builder()
            .connector(connector)
            // Per-request timeouts are set on each request from the upstream's settings.
            .disable_timeout()
            .disable_redirects()
            .no_default_headers()
            .finish()
    }
}

/// A worker's awc clients, one per upstream, for the snapshot generation they were built for.
#[derive(Default)]
pub struct WorkerClients {
    clients: RefCell<(u64, HashMap<Arc<str>, awc::Client>)>,
}

impl WorkerClients {
    /// The client for `upstream` under `runtime`, building it on first use.
    pub fn get(&self, runtime: &Runtime, upstream: &Upstream) -> awc::Client {
        let mut clients = self.clients.borrow_mut();
        if clients.0 != runtime.generation {
            *clients = (runtime.generation, HashMap::new());
        }
        clients.1.entry(upstream.name.clone()).or_insert_with(|| upstream.client()).clone()
    }
}
