//! The `skybridge` subcommands other than `run`, one module each.
