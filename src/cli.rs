//! Command-line definitions (clap derive) and nothing else: the core never sees clap.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// kubevault: a git-managed vault directory rendered into Kubernetes Secrets, ServiceAccounts,
/// tokens and RBAC.
///
/// Without arguments, kubevault is a KRM function: it reads a ResourceList on stdin
/// (kpt, kustomize, Argo CD). With one argument that is an existing file (and no subcommand's
/// name), it is a legacy kustomize exec plugin: `kubevault CONFIG_FILE`.
#[derive(Debug, Parser)]
#[command(
    name = "kubevault",
    version,
    override_usage = "kubevault [OPTIONS] <COMMAND>\n       kubevault CONFIG_FILE   (legacy kustomize exec plugin; an existing file)\n       kubevault < RESOURCE_LIST   (KRM function)",
    after_help = "Examples:\n  kubevault new                                   # scaffold a vault and its kustomize/kpt wiring\n  kubevault check --strict --vault-dir vault      # validate, e.g. in a pre-commit hook\n  kubevault generate --vault-dir vault | kubectl apply -f -\n  kpt fn eval . --exec kubevault --fn-config fn-config.yaml -o unwrap"
)]
pub struct Cli {
    /// What to do; none: run as a KRM function on stdin.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Legacy kustomize exec plugin: the KubeVault config file kustomize passes. Never parsed
    /// from the command line by clap (a mistyped subcommand must get clap's "did you mean"):
    /// `main` sets it from [`legacy_plugin_config`].
    #[arg(skip)]
    pub config: Option<PathBuf>,
    /// Print errors only: no warnings, notes or summaries.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// When to colour the output: auto (on a terminal, unless NO_COLOR is set), always, never.
    #[arg(
        long,
        value_enum,
        global = true,
        value_name = "WHEN",
        default_value = "auto",
        hide_possible_values = true
    )]
    pub color: ColorWhen,
}

/// `--color`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorWhen {
    /// On a terminal, unless `NO_COLOR` is set (no-color.org).
    Auto,
    /// Always, even into a pipe.
    Always,
    /// Never.
    Never,
}

/// The legacy kustomize exec plugin form: exactly one argument, which is no subcommand's name
/// and no flag and names an existing regular file (kustomize passes
/// `/tmp/kust-plugin-config-NNN`). Anything else is parsed by clap, so `kubevault genrate` gets
/// "unrecognized subcommand 'genrate'" with a "similar subcommand: 'generate'" tip.
pub fn legacy_plugin_config(args: &[std::ffi::OsString]) -> Option<PathBuf> {
    let [_, arg] = args else {
        return None;
    };
    let text = arg.to_str().unwrap_or("");
    if text.starts_with('-') {
        return None;
    }
    let command = <Cli as clap::CommandFactory>::command();
    if command
        .get_subcommands()
        .any(|c| c.get_name() == text || c.get_all_aliases().any(|a| a == text))
        || text == "help"
    {
        return None;
    }
    let path = PathBuf::from(arg);
    path.is_file().then_some(path)
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render the vault as a plain YAML stream (or into a directory).
    #[command(
        after_help = "Examples:\n  kubevault generate --vault-dir vault -n team-a | kubectl apply -f -\n  SOPS_AGE_KEY_FILE=age-key.txt kubevault generate --strict --create-namespace"
    )]
    Generate(GenerateArgs),
    /// Scaffold a vault and the kustomize/kpt wiring next to it; never overwrites a file.
    #[command(
        after_help = "Examples:\n  kubevault new                       # ./vault, wiring in .\n  kubevault new infra/secrets -n team-a"
    )]
    New(NewArgs),
    /// Validate the vault without rendering: every problem as `path:line: severity: message`.
    #[command(
        after_help = "Examples:\n  kubevault check --strict --vault-dir vault\n  kubevault check --format json | jq .problems"
    )]
    Check(CheckArgs),
    /// List every secret with whether USER may read it (● readable, ○ not).
    #[command(
        after_help = "Examples:\n  kubevault can-read alice --vault-dir vault\n  kubevault can-read alice --show-only-allowed --format json"
    )]
    CanRead(CanReadArgs),
    /// The users who may read one secret, and the rule that decided for each.
    #[command(
        after_help = "Examples:\n  kubevault who-can-read production/payments/db --vault-dir vault\n  kubevault who-can-read shared/tls --format json"
    )]
    WhoCanRead(WhoCanReadArgs),
    /// Read USER's token Secret on stdin; print a credentials Secret and an External Secrets
    /// Operator store for the consumer cluster.
    #[command(
        after_help = "Examples:\n  kubectl get secret alice-token -n kubevault-kvstore -o yaml \\\n    | kubevault external-secret-store alice --server https://vault-cluster:6443 --namespace apps"
    )]
    ExternalSecretStore(ExternalSecretStoreArgs),
    /// Print an External Secrets Operator ExternalSecret that pulls one vault secret.
    #[command(
        after_help = "Examples:\n  kubevault external-secret production/payments/db --vault-dir vault --refresh 15m"
    )]
    ExternalSecret(ExternalSecretArgs),
    /// Copy this binary into DIR as `DIR/kubevault` (for Argo CD initContainers; no shell needed).
    #[command(
        after_help = "Examples:\n  kubevault install /custom-tools     # an Argo CD initContainer copying the binary"
    )]
    Install(InstallArgs),
    /// Install this binary as the legacy kustomize exec plugin
    /// (`<plugin home>/kubevault.dev/v1alpha1/kubevault/KubeVault`).
    #[command(
        after_help = "Examples:\n  kubevault install-plugin && kubectl kustomize --enable-alpha-plugins ."
    )]
    InstallPlugin(InstallPluginArgs),
    /// List the users with what each may read: secrets readable, rules, the file.
    #[command(
        after_help = "Examples:\n  kubevault users --vault-dir vault\n  kubevault users --format json | jq '.[] | select(.readable == 0)'"
    )]
    Users(UsersArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish).
    #[command(
        after_help = "Examples:\n  kubevault completion bash > ~/.local/share/bash-completion/completions/kubevault\n  kubevault completion zsh > \"${fpath[1]}/_kubevault\"\n  kubevault completion fish > ~/.config/fish/completions/kubevault.fish\n  kubevault completion powershell >> $PROFILE"
    )]
    Completion(CompletionArgs),
    /// Print the manual page (roff) of kubevault or of one subcommand.
    #[command(
        after_help = "Examples:\n  kubevault man | man -l -\n  kubevault man generate > kubevault-generate.1"
    )]
    Man(ManArgs),
    /// Create or update a secret file: KEY=VALUE, KEY=@FILE, KEY=- (stdin), KEY=%random[:N].
    #[command(
        after_help = "Examples:\n  kubevault set production/payments/db password=%random:32 user=app\n  kubevault set shared/tls tls.crt=@cert.pem tls.key=@key.pem"
    )]
    Set(SetArgs),
    /// Remove keys from a secret file.
    #[command(after_help = "Examples:\n  kubevault unset production/payments/db old-password")]
    Unset(UnsetArgs),
    /// Remove a secret file (warns about access rules that then match nothing).
    #[command(after_help = "Examples:\n  kubevault rm staging/app/config")]
    Rm(RmArgs),
    /// Edit a secret file decrypted in $EDITOR; re-encrypted on save.
    #[command(after_help = "Examples:\n  EDITOR=vim kubevault edit production/payments/db")]
    Edit(EditArgs),
    /// Encrypt plaintext secret files in place, as their .sops.yaml creation rule says.
    #[command(
        after_help = "Examples:\n  kubevault encrypt                        # every plaintext file a creation rule covers\n  kubevault encrypt vault/kvstore/shared"
    )]
    Encrypt(EncryptArgs),
    /// Re-wrap data keys for the recipients the creation rules name now (--rotate: new data key).
    #[command(
        after_help = "Examples:\n  kubevault rekey                          # after changing recipients in .sops.yaml\n  kubevault rekey --rotate                 # after a key leaked"
    )]
    Rekey(RekeyArgs),
    /// The age recipients of each encrypted file, and the files a recipient can open.
    #[command(
        after_help = "Examples:\n  kubevault who-can-decrypt production/payments/db\n  kubevault who-can-decrypt age1..."
    )]
    WhoCanDecrypt(WhoCanDecryptArgs),
    /// Print one secret file decrypted (refuses a terminal without --force).
    #[command(
        after_help = "Examples:\n  kubevault show production/payments/db --key password | wc -c"
    )]
    Show(ShowArgs),
    /// Print an audit.k8s.io/v1 Policy that records every request on the vault namespace's
    /// Secrets, ServiceAccounts, Roles and RoleBindings at Metadata level.
    #[command(
        after_help = "Examples:\n  kubevault audit-policy > /etc/kubernetes/audit-policy.yaml\n  kubevault audit-policy -n team-a"
    )]
    AuditPolicy(AuditPolicyArgs),
    /// Who read which vault secret, and when, from API-server audit logs.
    #[command(
        after_help = "Examples:\n  kubevault audit /var/log/kubernetes/audit.log --since 7d --secret production/payments/db\n  zcat audit.log.gz | kubevault audit - --user alice --format json"
    )]
    Audit(AuditArgs),
    /// What a change does to the vault: who gains and loses which secret (with the deciding
    /// rule), secrets and keys added, removed, renamed or changed, users added or removed.
    #[command(
        after_help = "Examples:\n  kubevault diff git:origin/main vault --format markdown --fail-on-gain\n  kubevault diff old-vault vault --format json"
    )]
    Diff(DiffArgs),
    /// Write the access matrix (users × secrets, grouped by folder, the deciding rule on hover)
    /// as one self-contained HTML page.
    #[command(after_help = "Examples:\n  kubevault report --html access.html --vault-dir vault")]
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
    #[arg(
        short = 'n',
        long,
        env = "KUBEVAULT_NAMESPACE",
        value_name = "NAMESPACE"
    )]
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
    /// Treat warnings as errors: render nothing when there is one (as `spec.strict: true`).
    #[arg(long)]
    pub strict: bool,
}

/// The vault flags shared by the operator commands.
#[derive(Debug, Args)]
pub struct VaultDirArg {
    /// The vault directory.
    #[arg(long, env = "KUBEVAULT_DIR", value_name = "DIR", default_value = crate::config::DEFAULT_VAULT_DIR)]
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
    #[arg(env = "KUBEVAULT_DIR", value_name = "DIR", default_value = crate::config::DEFAULT_VAULT_DIR)]
    pub dir: PathBuf,
    /// Namespace written into `fn-config.yaml`.
    #[arg(short = 'n', long, env = "KUBEVAULT_NAMESPACE", value_name = "NAMESPACE", default_value = crate::config::DEFAULT_NAMESPACE)]
    pub namespace: String,
}

/// Output format of `check`, `can-read`, `who-can-read` and `users`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum CheckFormat {
    /// Lines for people (`check`: one `path:line: severity: message` line per problem, then a
    /// summary).
    Text,
    /// One JSON document.
    Json,
}

/// The `--format` flag of the query commands.
pub type Format = CheckFormat;

/// `kubevault check` flags.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Where the vault is.
    #[command(flatten)]
    pub vault: VaultDirArg,
    /// Output format.
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "text")]
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
    #[arg(value_name = "USER")]
    pub user: String,
    /// Where the vault is.
    #[command(flatten)]
    pub vault: VaultDirArg,
    /// List only the secrets the user may read.
    #[arg(long)]
    pub show_only_allowed: bool,
    /// Output format.
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "text")]
    pub format: Format,
}

/// `kubevault who-can-read` arguments.
#[derive(Debug, Args)]
pub struct WhoCanReadArgs {
    /// The secret identity: its path under `kvstore/` without `.yaml` (`production/payments/db`).
    #[arg(value_name = "IDENTITY")]
    pub identity: String,
    /// Where the vault is.
    #[command(flatten)]
    pub vault: VaultDirArg,
    /// Output format.
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "text")]
    pub format: Format,
}

/// `kubevault users` flags.
#[derive(Debug, Args)]
pub struct UsersArgs {
    /// Where the vault is.
    #[command(flatten)]
    pub vault: VaultDirArg,
    /// Output format.
    #[arg(long, value_enum, value_name = "FORMAT", default_value = "text")]
    pub format: Format,
}

/// `kubevault completion` arguments.
#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell to write the completion script for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// `kubevault man` arguments.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The subcommand whose page to print (`kubevault-generate(1)`); none: `kubevault(1)`.
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}

/// `kubevault external-secret-store` arguments.
#[derive(Debug, Args)]
pub struct ExternalSecretStoreArgs {
    /// The vault user whose token Secret (`USER-token`) is read from stdin.
    #[arg(value_name = "USER")]
    pub user: String,
    /// The vault cluster's API server as the consumer cluster reaches it (https only).
    #[arg(long, value_name = "URL")]
    pub server: String,
    /// Print a ClusterSecretStore instead of a namespaced SecretStore (needs --namespace).
    #[arg(long)]
    pub clustered: bool,
    /// Consumer-cluster namespace of the credentials Secret (and of the SecretStore).
    #[arg(long, value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Name of the store; the credentials Secret is `NAME-credentials`.
    #[arg(long, value_name = "NAME", default_value = "kubevault")]
    pub name: String,
}

/// `kubevault external-secret` arguments.
#[derive(Debug, Args)]
pub struct ExternalSecretArgs {
    /// The secret identity: its path under `kvstore/` without `.yaml` (`production/payments/db`).
    #[arg(
        value_name = "IDENTITY",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
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
