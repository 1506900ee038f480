//! The Skybridge gateway: listeners, routing, forwarding and the `skybridge` command line.
//!
//! A request on the public listener goes through the steps in [`proxy`]: correlate (request
//! id, trace context), route ([`path`] normalisation, [`routing`]), then [`forward`] with awc
//! over openssl. Failures at any step are a [`error::GatewayError`], rendered as RFC 9457
//! problem+json in one place. The admin listener ([`admin`]) serves `/healthz` and `/readyz`.
//! [`server`] binds both and shuts down gracefully on SIGTERM/SIGINT.

pub mod admin;
pub mod authn;
pub mod commands;
pub mod correlation;
pub mod credential;
pub mod error;
pub mod exchange;
pub mod forward;
pub mod jwks;
pub mod limit;
pub mod logging;
pub mod metrics;
pub mod path;
pub mod proxy;
pub mod reload;
pub mod routing;
pub mod server;
pub mod state;
pub mod tls;
