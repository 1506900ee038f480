//! The actix actors of Skybridge and the logic they serve.
//!
//! - [`jwks`]: one `JwksActor` per issuer owns its verification keys (discovery, refresh,
//!   refetch on unknown `kid`, stale-if-error) and publishes them as a lock-free snapshot.
//! - [`identity`]: the [`identity::Verifier`] the gateway calls per request: bearer JWT
//!   validation against those snapshots, a verified-token cache and route authorization.
//!   It messages a `JwksActor` only on a `kid` miss.
//!
//! Actors are started inside the caller's actix System and are not supervised: a JWKS actor
//! has no failure mode that would need a restart (fetch errors are values it handles).

pub mod identity;
pub mod jwks;
