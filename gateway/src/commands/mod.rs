//! The `skybridge` subcommands other than `run`, one module each.

pub mod audit_query;
pub mod check_config;
pub mod doctor;
pub mod keys;
pub mod token;
