//! The one current token of a credential, read by request handlers without locks or messages.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwapOption;

use super::token::Token;

/// The current token, replaced by whoever mints and cleared by a 401 invalidation.
#[derive(Default)]
pub(crate) struct Cache {
    current: ArcSwapOption<Token>,
}

impl Cache {
    /// The current token, if it may still be handed out at `now`.
    pub(crate) fn usable(&self, now: SystemTime) -> Option<Token> {
        let current = self.current.load();
        current.as_deref().filter(|token| token.usable_at(now)).cloned()
    }

    /// The current token, usable or not.
    pub(crate) fn current(&self) -> Option<Token> {
        self.current.load().as_deref().cloned()
    }

    /// Makes `token` the current one.
    pub(crate) fn store(&self, token: Token) {
        self.current.store(Some(Arc::new(token)));
    }

    /// Drops `token` if it is still the current one and older than `floor`. Returns whether it
    /// was dropped; a token already replaced, or minted moments ago, is left alone so that a
    /// burst of 401s for one token causes one mint, not one per request.
    pub(crate) fn invalidate(&self, token: &Token, floor: Duration) -> bool {
        if token.age() < floor {
            return false;
        }
        let previous = self.current.rcu(|current| match current {
            Some(current) if current.serial() == token.serial() => None,
            other => other.clone(),
        });
        previous.is_some_and(|previous| previous.serial() == token.serial())
    }
}
