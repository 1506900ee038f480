//! Skybridge gateway.

pub mod commands;
