//! Which self-signed key signs and which are published: pure bookkeeping over directory scans,
//! tested without files or actors.
//!
//! Invariants, so that an upstream holding our JWKS never sees an unknown `kid`:
//! - a key appears in the JWKS no later than the first token it signs; a key found after
//!   start signs only once it has been published for `publish_delay`;
//! - a key that stops signing (replaced, or its file removed) stays published for `retain`
//!   (the token lifetime plus a grace for clock skew), since tokens it signed live that long.
//!
//! Keys present at start are taken as published since their file's age (capped at the
//! delay): a key dropped into the directory while Skybridge was down still waits out the
//! rest of its delay. Until a key has waited long enough, the current signer keeps signing,
//! even when its file has been replaced or deleted; with no current signer (a first start
//! with only new files) the key published longest signs rather than none.
//!
//! Known shortcoming: deleting a compromised key's file does not stop it signing until a
//! replacement has been published for `publish_delay`; revoking it at once takes a restart
//! (at start only the files present count).

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::signing::SigningKey;

/// The keys of one `self_signed` credential.
#[derive(Debug, Default)]
pub(crate) struct Rotation {
    keys: Vec<Tracked>,
    signer: Option<String>,
}

#[derive(Debug)]
struct Tracked {
    key: Arc<SigningKey>,
    published_at: Instant,
    in_dir: bool,
    /// When it last signed, once it no longer does.
    retired_at: Option<Instant>,
}

/// A key found by a scan and how long its file has existed.
pub(crate) struct Found {
    pub(crate) key: Arc<SigningKey>,
    pub(crate) age: Duration,
}

impl Rotation {
    /// Records one directory scan. `first` marks the scan at start, where file ages count.
    pub(crate) fn observe(
        &mut self,
        found: Vec<Found>,
        now: Instant,
        first: bool,
        delay: Duration,
    ) {
        for tracked in &mut self.keys {
            tracked.in_dir = false;
        }
        for Found { key, age } in found {
            if let Some(tracked) = self.keys.iter_mut().find(|t| t.key.kid() == key.kid()) {
                tracked.in_dir = true;
                continue;
            }
            let head_start = if first { age.min(delay) } else { Duration::ZERO };
            let published_at = now.checked_sub(head_start).unwrap_or(now);
            self.keys.push(Tracked { key, published_at, in_dir: true, retired_at: None });
        }
    }

    /// Picks the signer at `now` and forgets keys whose tokens have all expired. Returns
    /// whether the signer changed.
    pub(crate) fn settle(&mut self, now: Instant, delay: Duration, retain: Duration) -> bool {
        let ready = self
            .keys
            .iter()
            .filter(|t| t.in_dir && t.published_at + delay <= now)
            .max_by_key(|t| (t.published_at, t.key.kid().to_owned()));
        let fallback = || {
            self.keys
                .iter()
                .filter(|t| t.in_dir)
                .min_by_key(|t| (t.published_at, t.key.kid().to_owned()))
        };
        let current = || {
            let kid = self.signer.as_deref()?;
            self.keys.iter().find(|t| t.key.kid() == kid)
        };
        let next = ready.or_else(current).or_else(fallback).map(|t| t.key.kid().to_owned());
        let changed = next != self.signer;
        if changed {
            if let Some(previous) = &self.signer
                && let Some(tracked) = self.keys.iter_mut().find(|t| t.key.kid() == previous)
            {
                tracked.retired_at = Some(now);
            }
            self.signer = next;
        }
        let signer = self.signer.clone();
        self.keys.retain(|t| {
            Some(t.key.kid()) == signer.as_deref()
                || t.in_dir
                || t.retired_at.is_some_and(|at| at + retain > now)
        });
        changed
    }

    /// The key that signs now.
    pub(crate) fn signer(&self) -> Option<Arc<SigningKey>> {
        let kid = self.signer.as_deref()?;
        self.keys.iter().find(|t| t.key.kid() == kid).map(|t| Arc::clone(&t.key))
    }

    /// Every key an upstream may meet: in the directory, signing, or retired recently.
    pub(crate) fn published(&self) -> Vec<Value> {
        self.keys.iter().map(|t| t.key.public_jwk().clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::{Algorithm, generate_key};

    fn key() -> Arc<SigningKey> {
        let (pem, _) = generate_key(Algorithm::ES256).expect("generate");
        Arc::new(SigningKey::from_pem(pem.as_bytes()).expect("load"))
    }

    fn found(keys: &[&Arc<SigningKey>], age: Duration) -> Vec<Found> {
        keys.iter().map(|k| Found { key: Arc::clone(k), age }).collect()
    }

    fn kids(rotation: &Rotation) -> Vec<String> {
        let mut kids: Vec<String> =
            rotation.published().iter().map(|j| j["kid"].as_str().unwrap_or("").into()).collect();
        kids.sort();
        kids
    }

    #[test]
    fn new_key_is_published_first_signs_after_the_delay_and_old_key_lingers() {
        let (delay, retain) = (Duration::from_secs(600), Duration::from_secs(360));
        let (old, new) = (key(), key());
        let start = Instant::now();
        let mut rotation = Rotation::default();
        rotation.observe(found(&[&old], Duration::from_secs(86_400)), start, true, delay);
        assert!(rotation.settle(start, delay, retain));
        assert_eq!(rotation.signer().map(|k| k.kid().to_owned()), Some(old.kid().to_owned()));

        // The operator replaces the file: the new key is published at once, not used.
        let t1 = start + Duration::from_secs(5);
        rotation.observe(found(&[&new], Duration::ZERO), t1, false, delay);
        assert!(
            !rotation.settle(t1, delay, retain),
            "old key keeps signing: nothing newer is ready"
        );
        assert_eq!(rotation.signer().map(|k| k.kid().to_owned()), Some(old.kid().to_owned()));
        let mut both = vec![old.kid().to_owned(), new.kid().to_owned()];
        both.sort();
        assert_eq!(kids(&rotation), both);

        // After the delay the new key signs; the old one stays published for `retain`.
        let t2 = t1 + delay;
        rotation.observe(found(&[&new], Duration::ZERO), t2, false, delay);
        assert!(rotation.settle(t2, delay, retain));
        assert_eq!(rotation.signer().map(|k| k.kid().to_owned()), Some(new.kid().to_owned()));
        assert_eq!(kids(&rotation), both);
        let t3 = t2 + retain - Duration::from_secs(1);
        rotation.settle(t3, delay, retain);
        assert_eq!(kids(&rotation), both);
        rotation.settle(t2 + retain, delay, retain);
        assert_eq!(kids(&rotation), vec![new.kid().to_owned()]);
    }

    #[test]
    fn at_start_a_young_file_waits_out_the_rest_of_its_delay() {
        let (delay, retain) = (Duration::from_secs(600), Duration::from_secs(60));
        let (old, young) = (key(), key());
        let now = Instant::now();
        let mut rotation = Rotation::default();
        let mut scan = found(&[&old], Duration::from_secs(3600));
        scan.extend(found(&[&young], Duration::from_secs(100)));
        rotation.observe(scan, now, true, delay);
        rotation.settle(now, delay, retain);
        assert_eq!(rotation.signer().map(|k| k.kid().to_owned()), Some(old.kid().to_owned()));
        rotation.settle(now + Duration::from_secs(500), delay, retain);
        assert_eq!(rotation.signer().map(|k| k.kid().to_owned()), Some(young.kid().to_owned()));
    }

    #[test]
    fn a_lone_key_keeps_signing_after_its_file_goes_until_a_successor_is_ready() {
        let (delay, retain) = (Duration::from_secs(600), Duration::from_secs(60));
        let (only, successor) = (key(), key());
        let now = Instant::now();
        let mut rotation = Rotation::default();
        rotation.observe(found(&[&only], Duration::ZERO), now, true, delay);
        rotation.settle(now, delay, retain);
        assert_eq!(rotation.signer().map(|k| k.kid().to_owned()), Some(only.kid().to_owned()));
        rotation.observe(Vec::new(), now, false, delay);
        rotation.settle(now + retain * 2, delay, retain);
        assert_eq!(rotation.signer().map(|k| k.kid().to_owned()), Some(only.kid().to_owned()));
        let later = now + retain * 2;
        rotation.observe(found(&[&successor], Duration::ZERO), later, false, delay);
        rotation.settle(later + delay, delay, retain);
        assert_eq!(rotation.signer().map(|k| k.kid().to_owned()), Some(successor.kid().to_owned()));
        rotation.settle(later + delay + retain, delay, retain);
        assert_eq!(kids(&rotation), vec![successor.kid().to_owned()]);
    }

    #[test]
    fn an_empty_directory_has_no_signer() {
        let mut rotation = Rotation::default();
        let now = Instant::now();
        rotation.observe(Vec::new(), now, true, Duration::from_secs(1));
        assert!(!rotation.settle(now, Duration::from_secs(1), Duration::from_secs(1)));
        assert!(rotation.signer().is_none());
        assert!(rotation.published().is_empty());
    }
}
