//! Subcommands beyond the three rendering modes, one module each: scaffolding, checking, access
//! questions, the External Secrets Operator wiring for consumer clusters, and installing the
//! binary for orchestrators. Each builds on the core's model and rule evaluation and returns an
//! [`crate::report::Report`] for `main` to print.

pub mod author;
pub mod can_read;
pub mod check;
pub mod eso;
pub mod install;
pub mod new;
pub mod query;
pub mod review;
pub mod safe_write;
pub mod shell;
pub mod users;
pub mod who_can_read;
