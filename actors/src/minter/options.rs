//! Knobs of the minter that are about how the process runs, not what it talks to: timeouts,
//! backoff, polling. Defaults suit production; tests shorten them.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Reads an environment variable; a seam so tests need not mutate the process environment.
pub type EnvReader = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Runtime settings of [`Credentials`](super::Credentials).
#[derive(Clone)]
pub struct MinterOptions {
    /// Budget for one HTTP exchange until its answer head. Default 10 s.
    pub http_timeout: Duration,
    /// Budget for a whole mint, all its exchanges and bodies included. Default 30 s.
    pub mint_timeout: Duration,
    /// Wait after the first failed mint; doubled per further failure. Default 1 s.
    pub backoff_base: Duration,
    /// Longest wait between attempts. Default 5 min.
    pub backoff_max: Duration,
    /// A token younger than this is not dropped on a 401, so an upstream that rejects every
    /// token cannot make the gateway mint once per request. Default 10 s.
    pub remint_floor: Duration,
    /// How often the `self_signed` key directories are scanned for changes. Default 10 s.
    pub key_poll_interval: Duration,
    /// How long a retired self-signed key stays published after its last token expired, for
    /// clock skew between Skybridge and the upstream. Default 60 s.
    pub retire_grace: Duration,
    /// PEM CA certificates trusted in addition to the system's for the minting endpoints.
    pub extra_roots_pem: Vec<Vec<u8>>,
    /// Where environment variables are read (App Service identity endpoint and header).
    pub env: EnvReader,
}

impl Default for MinterOptions {
    fn default() -> Self {
        Self {
            http_timeout: Duration::from_secs(10),
            mint_timeout: Duration::from_secs(30),
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(300),
            remint_floor: Duration::from_secs(10),
            key_poll_interval: Duration::from_secs(10),
            retire_grace: Duration::from_secs(60),
            extra_roots_pem: Vec::new(),
            env: Arc::new(|name| std::env::var(name).ok()),
        }
    }
}

impl fmt::Debug for MinterOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MinterOptions")
            .field("http_timeout", &self.http_timeout)
            .field("mint_timeout", &self.mint_timeout)
            .field("backoff_base", &self.backoff_base)
            .field("backoff_max", &self.backoff_max)
            .field("remint_floor", &self.remint_floor)
            .field("key_poll_interval", &self.key_poll_interval)
            .field("retire_grace", &self.retire_grace)
            .field("extra_roots", &self.extra_roots_pem.len())
            .finish_non_exhaustive()
    }
}
