//! The operator commands around the vault: scaffolding, checking, access questions and the
//! External Secrets Operator wiring for consumer clusters. Each builds on the core's model and
//! rule evaluation and returns an [`crate::app::Report`] for `main` to print.

pub mod can_read;
pub mod check;
pub mod eso;
pub mod new;
pub mod query;
pub mod who_can_read;
