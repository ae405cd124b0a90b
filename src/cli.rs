//! Command-line definitions (clap derive) and nothing else: the core never sees clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// kubevault: a git-managed vault directory rendered into Kubernetes Secrets, ServiceAccounts,
/// tokens and RBAC.
///
/// Without arguments, kubevault is a KRM function: it reads a ResourceList on stdin
/// (kpt, kustomize, Argo CD). With one file argument it is a legacy kustomize exec plugin.
#[derive(Debug, Parser)]
#[command(name = "kubevault", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do; none: run as a KRM function on stdin.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Legacy kustomize exec plugin: the KubeVault config file kustomize passes.
    #[arg(value_name = "CONFIG_FILE")]
    pub config: Option<PathBuf>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render the vault as a plain YAML stream (or into a directory).
    Generate(GenerateArgs),
}

/// `kubevault generate` flags.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The vault directory.
    #[arg(long, env = "KUBEVAULT_DIR", default_value = crate::config::DEFAULT_VAULT_DIR)]
    pub vault_dir: PathBuf,
    /// Namespace of the generated objects.
    #[arg(short = 'n', long, env = "KUBEVAULT_NAMESPACE", default_value = crate::config::DEFAULT_NAMESPACE)]
    pub namespace: String,
    /// Also generate the Namespace object.
    #[arg(long)]
    pub create_namespace: bool,
    /// An age key file for SOPS-encrypted secrets, besides sops' own lookup (SOPS_AGE_KEY,
    /// SOPS_AGE_KEY_FILE, $XDG_CONFIG_HOME/sops/age/keys.txt).
    #[arg(long, value_name = "FILE")]
    pub age_key_file: Option<PathBuf>,
    /// Write one file per object into this directory (created if missing) instead of stdout;
    /// files an earlier run wrote there and this run did not are removed.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}
