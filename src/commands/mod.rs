//! Subcommands beyond the three rendering modes, one module each.

pub mod install;
