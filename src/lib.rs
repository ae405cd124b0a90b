//! kubevault renders a git-managed vault directory into Kubernetes Secrets, ServiceAccounts,
//! tokens and RBAC, as a KRM function and as a CLI.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod sops;
pub mod yaml;
