//! `/.well-known/jwks.json` on the public listener: the public keys of every `self_signed`
//! credential, so upstreams that trust Skybridge directly can verify its tokens. A new key
//! appears here `publish_delay` before it signs anything, and a retired key stays until the
//! tokens it signed have expired, so a verifier caching this document for its `max-age`
//! never meets an unknown key.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use crate::state::Gateway;

/// Where the document is served.
pub const PATH: &str = "/.well-known/jwks.json";

/// How long verifiers may cache the document; well below any sensible `publish_delay`.
const MAX_AGE: &str = "public, max-age=60";

/// Serves the current key set.
pub async fn publish(gateway: web::Data<Gateway>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, MAX_AGE))
        .content_type("application/jwk-set+json")
        .json(gateway.services.credentials.jwks())
}
