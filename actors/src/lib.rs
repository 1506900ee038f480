//! The actix actors of Skybridge and the background parts that outlive a single request.
//!
//! - [`jwks`]: one `JwksActor` per issuer owns its verification keys (discovery, refresh,
//!   refetch on unknown `kid`, stale-if-error) and publishes them as a lock-free snapshot.
//! - [`identity`]: the [`identity::Verifier`] the gateway calls per request: bearer JWT
//!   validation against those snapshots, a verified-token cache and route authorization.
//!   It messages a `JwksActor` only on a `kid` miss.
//! - [`rate_limiter`]: the rate limiter. The gateway holds a [`rate_limiter::Limiter`] and asks
//!   it once per request; the actor runs on its own arbiter and talks to Redis.
//! - [`minter`]: the token minter, one actor per upstream credential, which keeps a current
//!   token in a lock-free snapshot that request handlers read without a message round trip.
//! - [`signing`]: private keys, public JWKs, compact JWS; used by the `self_signed` credential
//!   and the `skybridge keys` / `skybridge token` commands.
//! - [`metrics`]: the counters and gauges of all of the above, for `/metrics`.
//! - [`audit`]: the audit trail's sink, which batches, spools and exports one record per
//!   request on its own threads.
//!
//! Actors are started inside the caller's actix System and are not supervised: their failure
//! modes (fetch and mint errors, Redis outages) are values they handle, not crashes.

pub mod audit;
pub mod identity;
pub mod jwks;
pub mod metrics;
pub mod minter;
pub mod rate_limiter;
pub mod signing;
