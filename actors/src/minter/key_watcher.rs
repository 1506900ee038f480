//! The key watcher of one `self_signed` credential: scans its key directory at start and every
//! poll interval, feeds [`Rotation`], and publishes the signer and the JWKS keys as a snapshot.
//!
//! Polling rather than file-system notifications: it works the same on every platform and
//! volume type (Kubernetes secret mounts swap a symlink, which notifiers often miss).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use actix::{Actor, AsyncContext, Context};
use arc_swap::ArcSwap;
use serde_json::Value;
use skybridge_shared::health::{Health, HealthState};

use super::actor::health_key;
use super::rotation::{Found, Rotation};
use crate::signing::SigningKey;

/// What request handlers read: the key to sign with and the keys to publish.
#[derive(Default)]
pub(crate) struct KeyView {
    pub(crate) signer: Option<Arc<SigningKey>>,
    pub(crate) published: Vec<Value>,
}

/// The watcher's settings.
pub(crate) struct WatchSettings {
    pub(crate) name: Arc<str>,
    pub(crate) dir: PathBuf,
    pub(crate) publish_delay: Duration,
    /// How long a retired key stays published: token lifetime plus grace.
    pub(crate) retain: Duration,
    pub(crate) poll: Duration,
}

/// Scans one directory of PEM keys.
pub(crate) struct KeyWatcher {
    settings: WatchSettings,
    rotation: Rotation,
    view: Arc<ArcSwap<KeyView>>,
    health: Health,
}

impl KeyWatcher {
    /// Creates the watcher and runs the first scan at once, so a token can be signed as soon
    /// as `Credentials::start` returns.
    pub(crate) fn new(settings: WatchSettings, health: Health) -> Self {
        let mut watcher = Self {
            settings,
            rotation: Rotation::default(),
            view: Arc::new(ArcSwap::from_pointee(KeyView::default())),
            health,
        };
        watcher.scan(true);
        watcher
    }

    /// The snapshot the signer reads.
    pub(crate) fn view(&self) -> Arc<ArcSwap<KeyView>> {
        Arc::clone(&self.view)
    }

    fn scan(&mut self, first: bool) {
        let name = Arc::clone(&self.settings.name);
        let (found, broken) = match read_keys(&self.settings) {
            Ok(result) => result,
            Err(err) => {
                // Keep what is loaded: a directory briefly missing during a secret remount
                // must not unpublish keys whose tokens are live.
                tracing::warn!(
                    credential = %name,
                    error = %err,
                    "Cannot scan the signing key directory."
                );
                (None, Vec::new())
            }
        };
        let now = Instant::now();
        if let Some(found) = found {
            self.rotation.observe(found, now, first, self.settings.publish_delay);
        }
        let changed = self.rotation.settle(now, self.settings.publish_delay, self.settings.retain);
        let signer = self.rotation.signer();
        if changed && let Some(signer) = &signer {
            tracing::info!(
                credential = %name,
                kid = signer.kid(),
                "Signing with a new self-signed key."
            );
        }
        let published = self.rotation.published();
        let (state, detail) = match (&signer, broken.is_empty()) {
            (Some(signer), true) => (
                HealthState::Ready,
                format!("Signing with key {}; {} key(s) published.", signer.kid(), published.len()),
            ),
            (Some(signer), false) => (
                HealthState::Degraded,
                format!("Signing with key {}; unreadable: {}.", signer.kid(), broken.join(", ")),
            ),
            (None, _) => (
                HealthState::NotReady,
                format!("No usable signing key in {}.", self.settings.dir.display()),
            ),
        };
        self.health.set(&health_key(&name), state, detail);
        self.view.store(Arc::new(KeyView { signer, published }));
    }
}

impl Actor for KeyWatcher {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        ctx.run_interval(self.settings.poll, |watcher, _| watcher.scan(false));
    }
}

/// Loads every `*.pem` file. Returns the keys (None when the directory cannot be listed) and
/// the names of files that failed, each failure logged with its reason.
fn read_keys(settings: &WatchSettings) -> std::io::Result<(Option<Vec<Found>>, Vec<String>)> {
    let mut found = Vec::new();
    let mut broken = Vec::new();
    let now = SystemTime::now();
    for entry in std::fs::read_dir(&settings.dir)? {
        let path = entry?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("pem") {
            continue;
        }
        let loaded = std::fs::read(&path)
            .map_err(|err| err.to_string())
            .and_then(|pem| SigningKey::from_pem(&pem).map_err(|err| err.to_string()));
        match loaded {
            Ok(key) => {
                let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
                let age = modified.and_then(|m| now.duration_since(m).ok()).unwrap_or_default();
                found.push(Found { key: Arc::new(key), age });
            }
            Err(err) => {
                let file = path.display().to_string();
                tracing::warn!(
                    credential = %settings.name,
                    file = %file,
                    error = %err,
                    "Cannot load a signing key."
                );
                broken.push(file);
            }
        }
    }
    // Two files holding the same key count once.
    found.sort_by(|a, b| a.key.kid().cmp(b.key.kid()));
    found.dedup_by(|a, b| a.key.kid() == b.key.kid());
    Ok((Some(found), broken))
}
