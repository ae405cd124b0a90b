//! kubevault renders a git-managed vault directory into Kubernetes Secrets, ServiceAccounts,
//! tokens and RBAC, as a KRM function and as a CLI.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod app;
pub mod cli;
pub mod commands;
pub mod config;
pub mod confine;
pub mod diag;
pub mod exit;
pub mod krm;
pub mod limits;
pub mod object;
pub mod paint;
pub mod par;
pub mod pipeline;
pub mod render;
pub mod report;
pub mod review;
pub mod safe_read;
pub mod sops;
pub mod source;
pub mod vault;
pub mod yaml;
