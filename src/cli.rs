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
    /// Scaffold a vault and the kustomize/kpt wiring next to it; never overwrites a file.
    New(NewArgs),
    /// Validate the vault without rendering: every problem as `path:line: severity: message`.
    Check(CheckArgs),
    /// List every secret with whether USER may read it (● readable, ○ not).
    CanRead(CanReadArgs),
    /// The users who may read one secret, and the rule that decided for each.
    WhoCanRead(WhoCanReadArgs),
    /// Read USER's token Secret on stdin; print a credentials Secret and an External Secrets
    /// Operator store for the consumer cluster.
    ExternalSecretStore(ExternalSecretStoreArgs),
    /// Print an External Secrets Operator ExternalSecret that pulls one vault secret.
    ExternalSecret(ExternalSecretArgs),
    /// Copy this binary into DIR as `DIR/kubevault` (for Argo CD initContainers; no shell needed).
    Install(InstallArgs),
    /// Install this binary as the legacy kustomize exec plugin
    /// (`<plugin home>/kubevault.dev/v1alpha1/kubevault/KubeVault`).
    InstallPlugin(InstallPluginArgs),
    /// Create or update a secret file: KEY=VALUE, KEY=@FILE, KEY=- (stdin), KEY=%random[:N].
    Set(SetArgs),
    /// Remove keys from a secret file.
    Unset(UnsetArgs),
    /// Remove a secret file (warns about access rules that then match nothing).
    Rm(RmArgs),
    /// Edit a secret file decrypted in $EDITOR; re-encrypted on save.
    Edit(EditArgs),
    /// Encrypt plaintext secret files in place, as their .sops.yaml creation rule says.
    Encrypt(EncryptArgs),
    /// Re-wrap data keys for the recipients the creation rules name now (--rotate: new data key).
    Rekey(RekeyArgs),
    /// The age recipients of each encrypted file, and the files a recipient can open.
    WhoCanDecrypt(WhoCanDecryptArgs),
    /// Print one secret file decrypted (refuses a terminal without --force).
    Show(ShowArgs),
    /// Print an audit.k8s.io/v1 Policy that records every request on the vault namespace's
    /// Secrets, ServiceAccounts, Roles and RoleBindings at Metadata level.
    AuditPolicy(AuditPolicyArgs),
    /// Who read which vault secret, and when, from API-server audit logs.
    Audit(AuditArgs),
    /// What a change does to the vault: who gains and loses which secret (with the deciding
    /// rule), secrets and keys added, removed, renamed or changed, users added or removed.
    Diff(DiffArgs),
    /// Write the access matrix (users × secrets, grouped by folder, the deciding rule on hover)
    /// as one self-contained HTML page.
    Report(ReportArgs),
}

/// `kubevault set` arguments.
#[derive(Debug, Args)]
pub struct SetArgs {
    /// The secret identity: its path under `kvstore/` without `.yaml`.
    pub identity: String,
    /// `KEY=VALUE`, `KEY=@FILE`, `KEY=-` (stdin) or `KEY=%random[:N]` (N characters, default
    /// 32, from the OS CSPRNG); `@@…`/`%%…` for a literal leading `@`/`%`.
    #[arg(value_name = "KEY=VALUE", required = true)]
    pub assignments: Vec<String>,
    /// Where the vault is.
    #[command(flatten)]
    pub vault: VaultDirArg,
    /// Write a new file in clear text even though no .sops.yaml creation rule covers it.
    #[arg(long)]
    pub plaintext: bool,
}

/// `kubevault unset` arguments.
#[derive(Debug, Args)]
pub struct UnsetArgs {
    /// The secret identity.
    pub identity: String,
    /// The keys to remove.
    #[arg(value_name = "KEY", required = true)]
    pub keys: Vec<String>,
    /// Where the vault is.
    #[command(flatten)]
    pub vault: VaultDirArg,
}

/// `kubevault rm` arguments.
#[derive(Debug, Args)]
pub struct RmArgs {
    /// The secret identity.
    pub identity: String,
    /// Where the vault is.
    #[command(flatten)]
    pub vault: VaultDirArg,
}

/// `kubevault edit` arguments.
#[derive(Debug, Args)]
pub struct EditArgs {
    /// The secret identity (created when a creation rule covers it).
    pub identity: String,
    /// Where the vault is.
    #[command(flatten)]
    pub vault: VaultDirArg,
}

/// `kubevault encrypt` arguments.
#[derive(Debug, Args)]
pub struct EncryptArgs {
    /// Files or folders under kvstore/ [default: every plaintext file a creation rule covers].
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Where the vault is.
    #[command(flatten)]
    pub vault: VaultDirArg,
}

/// `kubevault rekey` arguments.
#[derive(Debug, Args)]
pub struct RekeyArgs {
    /// Files or folders under kvstore/ [default: every encrypted file].
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Also draw a fresh data key and re-encrypt every value (after a key leaked).
    #[arg(long)]
    pub rotate: bool,
    /// Where the vault is.
    #[command(flatten)]
    pub vault: VaultDirArg,
}

/// `kubevault who-can-decrypt` arguments.
#[derive(Debug, Args)]
pub struct WhoCanDecryptArgs {
    /// A secret identity, or an age recipient (`age1…`) to list the files it opens
    /// [default: every file].
    pub which: Option<String>,
    /// Where the vault is.
    #[command(flatten)]
    pub vault: VaultDirArg,
}

/// `kubevault show` arguments.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The secret identity.
    pub identity: String,
    /// Print only this key's value (raw; binary values base64-encoded).
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// Print to a terminal too.
    #[arg(long)]
    pub force: bool,
    /// Where the vault is.
    #[command(flatten)]
    pub vault: VaultDirArg,
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
    /// An age key file for SOPS-encrypted secrets, besides sops' own lookup (SOPS_AGE_KEY,
    /// SOPS_AGE_KEY_FILE, $XDG_CONFIG_HOME/sops/age/keys.txt).
    #[arg(long, value_name = "FILE")]
    pub age_key_file: Option<PathBuf>,
    /// Write one file per object into this directory (created if missing) instead of stdout;
    /// files an earlier run wrote there and this run did not are removed.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

/// The vault flags shared by the operator commands.
#[derive(Debug, Args)]
pub struct VaultDirArg {
    /// The vault directory.
    #[arg(long, env = "KUBEVAULT_DIR", default_value = crate::config::DEFAULT_VAULT_DIR)]
    pub vault_dir: PathBuf,
    /// An age key file for SOPS-encrypted secrets, besides sops' own lookup.
    #[arg(long, value_name = "FILE")]
    pub age_key_file: Option<PathBuf>,
}

/// `kubevault new` arguments.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// The vault directory to create; `kustomization.yaml`, `fn-config.yaml`, `.krmignore` and
    /// `.gitignore` go into its parent directory.
    #[arg(env = "KUBEVAULT_DIR", default_value = crate::config::DEFAULT_VAULT_DIR)]
    pub dir: PathBuf,
    /// Namespace written into `fn-config.yaml`.
    #[arg(short = 'n', long, env = "KUBEVAULT_NAMESPACE", default_value = crate::config::DEFAULT_NAMESPACE)]
    pub namespace: String,
}

/// Output format of `kubevault check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    /// One `path:line: severity: message` line per problem, then a summary.
    Text,
    /// One JSON document with the counts and every problem.
    Json,
}

/// `kubevault check` flags.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Where the vault is.
    #[command(flatten)]
    pub vault: VaultDirArg,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: CheckFormat,
    /// Fail (exit 1) on warnings too.
    #[arg(long)]
    pub strict: bool,
    /// Make every plaintext secret file an error (also `requireEncryption: true` in
    /// vault/metadata.yaml).
    #[arg(long)]
    pub require_encryption: bool,
}

/// `kubevault can-read` arguments.
#[derive(Debug, Args)]
pub struct CanReadArgs {
    /// The user (the access-control file name).
    pub user: String,
    /// Where the vault is.
    #[command(flatten)]
    pub vault: VaultDirArg,
    /// List only the secrets the user may read.
    #[arg(long)]
    pub show_only_allowed: bool,
}

/// `kubevault who-can-read` arguments.
#[derive(Debug, Args)]
pub struct WhoCanReadArgs {
    /// The secret identity: its path under `kvstore/` without `.yaml` (`production/payments/db`).
    pub identity: String,
    /// Where the vault is.
    #[command(flatten)]
    pub vault: VaultDirArg,
}

/// `kubevault external-secret-store` arguments.
#[derive(Debug, Args)]
pub struct ExternalSecretStoreArgs {
    /// The vault user whose token Secret (`USER-token`) is read from stdin.
    pub user: String,
    /// The vault cluster's API server as the consumer cluster reaches it (https only).
    #[arg(long, value_name = "URL")]
    pub server: String,
    /// Print a ClusterSecretStore instead of a namespaced SecretStore (needs --namespace).
    #[arg(long)]
    pub clustered: bool,
    /// Consumer-cluster namespace of the credentials Secret (and of the SecretStore).
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,
    /// Name of the store; the credentials Secret is `NAME-credentials`.
    #[arg(long, default_value = "kubevault")]
    pub name: String,
}

/// `kubevault external-secret` arguments.
#[derive(Debug, Args)]
pub struct ExternalSecretArgs {
    /// The secret identity: its path under `kvstore/` without `.yaml` (`production/payments/db`).
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub identity: Option<String>,
    /// Where the vault is.
    #[command(flatten)]
    pub vault: VaultDirArg,
    /// Name of the store to pull through (as given to `external-secret-store --name`).
    #[arg(long, value_name = "NAME", default_value = "kubevault")]
    pub store: String,
    /// The store is a ClusterSecretStore.
    #[arg(long)]
    pub clustered: bool,
    /// How often ESO refreshes the Secret (a Go duration: `1h`, `15m`, `1h30m`; `0` never).
    #[arg(long, value_name = "DURATION", default_value = "1h")]
    pub refresh: String,
    /// The vault user whose token the store uses: with IDENTITY, checks that USER may read it;
    /// with --all, picks the secrets.
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// One ExternalSecret for every secret --user may read.
    #[arg(long, requires = "user")]
    pub all: bool,
    /// Write one file per object (`<name>.yaml`) into this directory instead of stdout.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Print a ClusterExternalSecret (one ExternalSecret in each of --namespaces) instead; it
    /// reads through a ClusterSecretStore.
    #[arg(long, requires = "namespaces")]
    pub cluster_external_secret: bool,
    /// Consumer namespaces of the ClusterExternalSecret (comma-separated or repeated).
    #[arg(
        long,
        value_name = "NS,...",
        value_delimiter = ',',
        requires = "cluster_external_secret"
    )]
    pub namespaces: Vec<String>,
    /// Pull only this key (`spec.data`), as NAME in the consumer Secret, from the vault key
    /// REMOTE_KEY (default: NAME). Repeatable.
    #[arg(long = "key", value_name = "NAME[=REMOTE_KEY]")]
    pub keys: Vec<String>,
    /// What ESO does with the consumer Secret when the vault secret goes away.
    #[arg(long, value_enum, default_value = "Retain")]
    pub deletion_policy: DeletionPolicy,
    /// How ESO creates the consumer Secret.
    #[arg(long, value_enum, default_value = "Owner")]
    pub creation_policy: CreationPolicy,
}

/// ESO's `spec.target.deletionPolicy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "verbatim")]
pub enum DeletionPolicy {
    /// Keep the consumer Secret.
    Retain,
    /// Delete the consumer Secret.
    Delete,
    /// Remove only the keys ESO wrote.
    Merge,
}

/// ESO's `spec.target.creationPolicy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
#[value(rename_all = "verbatim")]
pub enum CreationPolicy {
    /// ESO creates the Secret and owns it.
    Owner,
    /// ESO creates the Secret but does not own it.
    Orphan,
    /// ESO merges into an existing Secret.
    Merge,
    /// ESO creates no Secret.
    None,
    /// ESO creates the Secret, or merges into one that exists.
    CreateOrMerge,
}

/// Output format of `kubevault audit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum AuditFormat {
    /// Tables: requests, then denied attempts, then what was read.
    Text,
    /// One JSON document.
    Json,
}

/// `kubevault audit-policy` flags.
#[derive(Debug, Args)]
pub struct AuditPolicyArgs {
    /// The vault namespace.
    #[arg(short = 'n', long, env = "KUBEVAULT_NAMESPACE", default_value = crate::config::DEFAULT_NAMESPACE)]
    pub namespace: String,
}

/// `kubevault audit` arguments.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// API-server audit logs (JSON lines; `.gz` too, recognised by content); none or `-`: stdin.
    #[arg(value_name = "LOG")]
    pub logs: Vec<PathBuf>,
    /// Where the vault is (its current rules decide what is flagged).
    #[command(flatten)]
    pub vault: VaultDirArg,
    /// The vault namespace.
    #[arg(short = 'n', long, env = "KUBEVAULT_NAMESPACE", default_value = crate::config::DEFAULT_NAMESPACE)]
    pub namespace: String,
    /// Only events since then: a duration back from now (`30m`, `24h`, `7d`, `2w`), a date
    /// (`2026-12-01`) or an RFC 3339 time.
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only this requester: a vault user or a full user name (`system:admin`).
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,
    /// Only this secret: an identity, a Secret name or a glob over identities
    /// (`production/**`); list/watch of the whole namespace are shown too.
    #[arg(long, value_name = "SECRET")]
    pub secret: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: AuditFormat,
}

/// Output format of `kubevault diff`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    /// For a terminal.
    Text,
    /// For a pull-request comment: a summary table, gains and losses per user, secret changes.
    Markdown,
    /// One JSON document with every change.
    Json,
}

/// `kubevault diff` arguments.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The old vault: a vault directory, or `git:REV` (the vault directory as it is at that
    /// revision, read from git objects).
    #[arg(value_name = "OLD")]
    pub old: String,
    /// The new vault, the same way [default: the vault directory as it is now].
    #[arg(value_name = "NEW")]
    pub new: Option<String>,
    /// The vault directory: the default NEW, and where `git:REV` finds the vault in the
    /// repository; plus an age key to compare encrypted values by plaintext (optional).
    #[command(flatten)]
    pub vault: VaultDirArg,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: DiffFormat,
    /// Exit 3 when any user gains access to a secret (a review gate for CI).
    #[arg(long)]
    pub fail_on_gain: bool,
}

/// `kubevault report` arguments.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Write the page to this file (replaced atomically; no network needed to open it).
    #[arg(long, value_name = "FILE")]
    pub html: PathBuf,
    /// Where the vault is.
    #[command(flatten)]
    pub vault: VaultDirArg,
    /// The page title [default: "kubevault access matrix: <vault dir>"].
    #[arg(long)]
    pub title: Option<String>,
}
