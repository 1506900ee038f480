//! Types every part of Skybridge shares: the configuration tree, the closed vocabulary of
//! problem types, and the names used in telemetry.
//!
//! This crate does no network I/O. It reads the configuration file and checks that files it
//! names exist, and that is all; everything that talks to the outside world lives in
//! `skybridge-actors` or `skybridge-gateway`.
//!
//! # Glossary
//!
//! - **listener**: an address Skybridge accepts connections on (public or admin).
//! - **route**: a rule matching host, path prefix and methods to an upstream and a policy.
//! - **upstream**: a named backend, usually a Cloud Run service, reached over (m)TLS.
//! - **issuer**: an OIDC/JWT issuer whose tokens callers present.
//! - **credential**: what Skybridge presents to an upstream (an ID token it obtains or signs).
//! - **policy**: a rate-limit or quota rule applied to a route.
//! - **decision**: allow or deny, with the reason, recorded once per request in the audit record.

pub mod audit;
pub mod audit_query;
pub mod config;
pub mod health;
pub mod problem;
