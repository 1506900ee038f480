//! Messages the JWKS actor answers.

use actix::Message;

/// A token named a `kid` missing from the snapshot. Answered once the snapshot is as fresh
/// as the miss policy allows: after a refetch (shared with concurrent misses), or at once
/// when the issuer is inside its miss cooldown. The caller then reads the snapshot again.
#[derive(Debug)]
pub struct KeyMiss {
    /// The unknown key id.
    pub kid: String,
}

impl Message for KeyMiss {
    type Result = ();
}
