//! The Skybridge gateway: listeners, the request steps, and the `skybridge` command line.
//!
//! A request on the public listener goes through the steps in [`proxy`]: correlate (request
//! id, trace context), route ([`path`] normalisation, [`routing`]), authenticate ([`authn`]),
//! limit ([`limit`]), credential ([`credential`]) and [`forward`] with awc over openssl. Each
//! step records what it learned in the request's [`exchange`], which becomes its audit record.
//! Failures at any step are a [`error::GatewayError`], rendered as RFC 9457 problem+json in
//! one place. The admin listener ([`admin`]) serves `/healthz`, `/readyz` and `/metrics`;
//! [`published_keys`] serves Skybridge's own signing keys. [`server`] binds both listeners and
//! shuts down gracefully; [`reload`] swaps the configuration snapshot ([`state`]) in place.

pub mod admin;
pub mod authn;
pub mod commands;
pub mod correlation;
pub mod credential;
pub mod error;
pub mod exchange;
pub mod forward;
pub mod limit;
pub mod logging;
pub mod metrics;
pub mod path;
pub mod proxy;
pub mod published_keys;
pub mod reload;
pub mod routing;
pub mod server;
pub mod state;
pub mod tls;
