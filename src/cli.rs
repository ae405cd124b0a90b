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
    /// Copy this binary into DIR as `DIR/kubevault` (for Argo CD initContainers; no shell needed).
    Install(InstallArgs),
    /// Install this binary as the legacy kustomize exec plugin
    /// (`<plugin home>/kubevault.dev/v1alpha1/kubevault/KubeVault`).
    InstallPlugin(InstallPluginArgs),
}

/// `kubevault install` arguments.
#[derive(Debug, Args)]
pub struct InstallArgs {
    /// Directory to copy the binary into (created if missing).
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

/// `kubevault install-plugin` flags.
#[derive(Debug, Args)]
pub struct InstallPluginArgs {
    /// The kustomize plugin home [default: $KUSTOMIZE_PLUGIN_HOME, else
    /// $XDG_CONFIG_HOME/kustomize/plugin, else ~/.config/kustomize/plugin].
    #[arg(long, value_name = "DIR")]
    pub plugin_home: Option<PathBuf>,
}

/// `kubevault generate` flags.
#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// The vault directory [default: $ARGOCD_ENV_KUBEVAULT_DIR (an Argo CD plugin env), else
    /// "vault"].
    #[arg(long, env = "KUBEVAULT_DIR", value_name = "DIR")]
    pub vault_dir: Option<PathBuf>,
    /// Namespace of the generated objects [default: $ARGOCD_ENV_KUBEVAULT_NAMESPACE (an Argo CD
    /// plugin env), else "kubevault-kvstore"].
    #[arg(short = 'n', long, env = "KUBEVAULT_NAMESPACE")]
    pub namespace: Option<String>,
    /// Also generate the Namespace object.
    #[arg(long)]
    pub create_namespace: bool,
    /// Write one file per object into this directory (created if missing) instead of stdout;
    /// files an earlier run wrote there and this run did not are removed.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}
