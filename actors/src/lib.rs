//! The actix actors of Skybridge and the background parts that outlive a single request.
//!
//! - [`rate_limiter`]: the rate limiter. The gateway holds a [`rate_limiter::Limiter`] and asks
//!   it once per request; the actor runs on its own arbiter and talks to Redis.
//! - [`minter`]: the token minter, one actor per upstream credential, which keeps a current
//!   token in a lock-free snapshot that request handlers read without a message round trip.
//! - [`signing`]: private keys, public JWKs, compact JWS; used by the `self_signed` credential
//!   and the `skybridge keys` / `skybridge token` commands.
//! - [`audit`]: the audit trail's sink, which batches, spools and exports one record per
//!   request on its own threads.

pub mod audit;
pub mod minter;
pub mod rate_limiter;
pub mod signing;
