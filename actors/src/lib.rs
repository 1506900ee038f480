//! The actix actors of Skybridge.
//!
//! - [`rate_limiter`]: the rate limiter. The gateway holds a [`rate_limiter::Limiter`] and
//!   asks it once per request; the actor runs on its own arbiter and talks to Redis.

pub mod rate_limiter;
