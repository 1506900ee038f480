//! The `skybridge` subcommands other than `run`, one module each.

pub mod keys;
pub mod token;
