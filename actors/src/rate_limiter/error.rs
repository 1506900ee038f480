//! Errors of the rate limiter: starting it, and one store call failing.

/// Why the limiter could not start.
#[derive(Debug, thiserror::Error)]
pub enum LimiterError {
    /// `rate_limit.redis_url` is not a usable Redis URL (the URL itself is not repeated: it may
    /// hold a password).
    #[error("rate_limit.redis_url is not a valid Redis URL: {0}")]
    RedisUrl(#[source] redis::RedisError),
    /// A policy cannot be turned into limiter arithmetic (configuration validation would also
    /// have reported it).
    #[error("rate-limit policy {name:?}: {reason}")]
    Policy {
        /// The policy's name.
        name: String,
        /// What is wrong.
        reason: &'static str,
    },
}

/// Why one store call gave no decision; the limiter then follows `on_store_failure`.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No answer within the per-call deadline.
    #[error("Redis did not answer within the deadline")]
    Timeout,
    /// Redis answered with an error or the connection failed.
    #[error("Redis call failed")]
    Redis(#[source] redis::RedisError),
    /// Redis answered something the script never returns.
    #[error("unexpected reply from the rate-limit script: {0}")]
    Reply(&'static str),
}

impl StoreError {
    /// Whether the connection is certainly unusable and should be opened anew. A timeout is
    /// not: the reply may just be late; the breaker drops the connection if timeouts persist.
    pub fn breaks_connection(&self) -> bool {
        match self {
            Self::Timeout => false,
            Self::Redis(err) => {
                err.is_io_error()
                    || err.is_connection_dropped()
                    || err.is_connection_refusal()
                    || err.is_unrecoverable_error()
            }
            Self::Reply(_) => false,
        }
    }
}
