//! The actix actors of Skybridge and the key handling they share.
//!
//! - [`signing`]: private keys, public JWKs, compact JWS; used by the `self_signed` credential
//!   and the `skybridge keys` / `skybridge token` commands.
//! - [`minter`]: the token minter, one actor per upstream credential, which keeps a current
//!   token in a lock-free snapshot that request handlers read without a message round trip.

pub mod minter;
pub mod signing;
