//! Every hard limit kubevault enforces on hostile or oversized input, in one place.
//!
//! kubevault runs unattended on whatever a pull request contains. Each limit below turns an input
//! that would otherwise exhaust memory, stack or time, or that the Kubernetes API server would
//! reject half-way through an apply, into a clear error before anything is rendered. The numbers
//! are documented for users in the README ("Limits, exit codes and messages"); keep the two in sync.

/// Largest file read from the vault: 1 MiB (exactly 1 MiB is allowed).
pub const MAX_FILE_BYTES: usize = 1 << 20;

/// Largest Secret: the bytes of all keys plus all values, the rule the API server applies to a
/// Secret's `data` (`MaxSecretSize`, 1 MiB).
pub const MAX_SECRET_BYTES: usize = 1 << 20;

/// Most keys in one secret file.
pub const MAX_KEYS_PER_SECRET: usize = 1024;

/// Deepest YAML nesting in a secret file (a valid one needs 1).
pub const SECRET_FILE_MAX_DEPTH: usize = 16;

/// Deepest YAML nesting in a ResourceList on stdin.
pub const RESOURCE_LIST_MAX_DEPTH: usize = 256;

/// Deepest YAML nesting in any other YAML kubevault reads (the legacy plugin's config file).
pub const DEFAULT_MAX_DEPTH: usize = 128;

/// Most bytes aliases may add to a secret file by expansion (each node costs
/// [`crate::yaml::NODE_COST`] bytes plus its text).
pub const SECRET_FILE_MAX_ALIAS_EXPANSION: usize = 1 << 20;

/// Most bytes aliases may add to a ResourceList (or another YAML document) by expansion.
pub const RESOURCE_LIST_MAX_ALIAS_EXPANSION: usize = 16 << 20;

/// Largest ResourceList read from stdin: 256 MiB (a re-render passes the previous output back in,
/// 68 MB for a 100,000-secret vault).
pub const MAX_STDIN_BYTES: usize = 256 << 20;

/// Most path components below the vault directory (`kvstore/a/b` has 3).
pub const MAX_PATH_DEPTH: usize = 32;

/// Longest path below the vault directory, in bytes.
pub const MAX_PATH_BYTES: usize = 1024;

/// Most files in one vault (both trees together): ten times the largest benchmarked vault
/// (100,000 secrets and 1,000 users), a bound on memory rather than a size anyone should reach.
pub const MAX_FILES: usize = 1_000_000;

/// Most bytes read from one vault (all files together): 1 GiB.
pub const MAX_VAULT_BYTES: usize = 1 << 30;

/// Longest rule line in an access-control file, in bytes (after trimming).
pub const MAX_RULE_LINE_BYTES: usize = 1024;

/// Most rules in one access-control file.
pub const MAX_RULES_PER_USER: usize = 1000;

/// Most `{...}` groups in one rule pattern (each multiplies the matching work).
pub const MAX_RULE_BRACE_GROUPS: usize = 8;

/// Largest rendered object as YAML: 1.5 MiB, the API server's (etcd's) default request limit.
/// A Secret at [`MAX_SECRET_BYTES`] stays below it after base64.
pub const MAX_OBJECT_BYTES: usize = 3 << 19;

/// Largest rendered output (all objects together): 1 GiB (a 100,000-secret vault renders 68 MB).
pub const MAX_OUTPUT_BYTES: usize = 1 << 30;
