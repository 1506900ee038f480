//! Shared test harness: a fake OpenID provider and the real one.

#![allow(dead_code)] // Each test binary uses part of the harness.

pub(crate) mod fake_idp;
pub(crate) mod oidc_provider;
