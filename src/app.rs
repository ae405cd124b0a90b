//! The three ways to run kubevault (KRM function, legacy exec plugin, `generate`), built on the
//! pure core. Each returns a [`Report`]: what goes to stdout, the messages for stderr, the exit
//! code. Only `main` prints.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::Context;

use crate::cli::{Cli, Command, GenerateArgs};
use crate::commands::{self, install, query::Paint};
use crate::config::{self, FunctionConfig};
use crate::diag::{Diagnostic, Diagnostics, Severity};
use crate::exit::Exit;
use crate::krm::{self, ResourceList};
use crate::par::par_map;
use crate::render::{Object, Plan, RenderSettings, plan, render};
use crate::sops::{self, Identities};
use crate::vault::Vault;
use crate::vault::access::{Grants, evaluate};
use crate::vault::model::build;
use crate::vault::names::is_dns1123_label;
use crate::vault::secret_file::FileProblem;
use crate::vault::walk::read_vault;
use crate::yaml::{Limits, Node, parse_stream};

mod output_dir;

/// What a run prints and how it exits.
pub struct Report {
    /// Everything for stdout: these parts, one after the other (large outputs are written in
    /// parallel parts and never joined into one copy).
    pub stdout: Vec<String>,
    /// Lines for stderr (errors and warnings, sorted).
    pub messages: Vec<String>,
    /// Exit code.
    pub exit: Exit,
}

impl std::fmt::Debug for Report {
    /// Sizes and the exit code only: stdout holds rendered Secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let bytes: usize = self.stdout.iter().map(String::len).sum();
        f.debug_struct("Report")
            .field("stdout", &format_args!("<{bytes} bytes>"))
            .field("messages", &self.messages.len())
            .field("exit", &self.exit)
            .finish()
    }
}

/// Dispatches a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<Report> {
    let cwd = std::env::current_dir().context("cannot determine the working directory")?;
    match (cli.command, cli.config) {
        (Some(Command::Generate(args)), _) => {
            generate(&args, &cwd, &|name| std::env::var(name).ok())
        }
        (Some(Command::Install(args)), _) => install::install(&args.dir, &cwd),
        (Some(Command::InstallPlugin(args)), _) => {
            install::install_plugin(args.plugin_home.as_deref(), &cwd)
        }
        (Some(Command::New(args)), _) => commands::new::run(&args, &cwd),
        (Some(Command::Check(args)), _) => Ok(commands::check::run(&args, &cwd)),
        (Some(Command::CanRead(args)), _) => {
            Ok(commands::can_read::run(&args, &cwd, Paint::detect()))
        }
        (Some(Command::WhoCanRead(args)), _) => {
            Ok(commands::who_can_read::run(&args, &cwd, Paint::detect()))
        }
        (Some(Command::ExternalSecretStore(args)), _) => {
            let mut stdin = std::io::stdin();
            if stdin.is_terminal() {
                return Ok(Report {
                    stdout: Vec::new(),
                    messages: vec![format!(
                        "error: pipe the token Secret in: kubectl get secret {}-token -n NAMESPACE -o yaml | kubevault external-secret-store {} --server URL",
                        args.user, args.user
                    )],
                    exit: Exit::Usage,
                });
            }
            let mut input = String::new();
            stdin
                .read_to_string(&mut input)
                .context("cannot read the token Secret from stdin (not UTF-8?)")?;
            Ok(commands::eso::store(&args, &input))
        }
        (Some(Command::ExternalSecret(args)), _) => Ok(commands::eso::external_secret(&args, &cwd)),
        (Some(Command::AuditPolicy(args)), _) => Ok(commands::review::run_audit_policy(&args)),
        (Some(Command::Audit(args)), _) => Ok(commands::review::run_audit(&args, &cwd)),
        (Some(Command::Diff(args)), _) => Ok(commands::review::run_diff(&args, &cwd)),
        (
            Some(
                command @ (Command::Set(_)
                | Command::Unset(_)
                | Command::Rm(_)
                | Command::Edit(_)
                | Command::Encrypt(_)
                | Command::Rekey(_)
                | Command::WhoCanDecrypt(_)
                | Command::Show(_)),
            ),
            _,
        ) => commands::author::run(command, &cwd),
        (None, Some(config_file)) => legacy_plugin(&config_file, &cwd),
        (None, None) => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                return Ok(Report {
                    stdout: Vec::new(),
                    messages: vec![
                        "error: kubevault without arguments is a KRM function and reads a ResourceList on stdin; \
                         try `kubevault generate` or `kubevault --help`"
                            .into(),
                    ],
                    exit: Exit::Usage,
                });
            }
            let mut input = Vec::new();
            let limit = crate::limits::MAX_STDIN_BYTES;
            stdin
                .take(limit as u64 + 1)
                .read_to_end(&mut input)
                .context("cannot read stdin")?;
            Ok(krm_function(&input, &cwd))
        }
    }
}

/// Where a vault is and how to decrypt its SOPS-encrypted files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VaultSource {
    /// The vault directory (absolute).
    pub dir: PathBuf,
    /// An extra age key file (`spec.decryption.ageKeyFile`), besides sops' own lookup.
    pub age_key_file: Option<PathBuf>,
    /// Plaintext secret files are errors (`spec.requireEncryption`, `check
    /// --require-encryption`; `requireEncryption` in metadata.yaml counts too).
    pub require_encryption: bool,
}

impl VaultSource {
    /// A vault directory and optional key file given on the command line, relative to `cwd`.
    pub fn from_args(vault_dir: &Path, age_key_file: Option<&Path>, cwd: &Path) -> VaultSource {
        VaultSource {
            dir: config::normalize(&cwd.join(vault_dir)),
            age_key_file: age_key_file.map(|f| config::normalize(&cwd.join(f))),
            require_encryption: false,
        }
    }
}

/// Reads and checks a vault without rendering: the model and every problem found.
pub fn load_vault(source: &VaultSource, namespace: &str) -> (Vault, Diagnostics) {
    let (files, mut diags) = read_vault(&source.dir);
    if source.require_encryption
        || crate::vault::encryption::metadata_requires_encryption(files.metadata.as_ref())
    {
        diags.extend(crate::vault::encryption::plaintext_errors(&files.kvstore));
    }
    // Keys are looked up once, and only when an encrypted file needs them.
    let identities: OnceLock<Result<Identities, String>> = OnceLock::new();
    let decrypt = |doc: &Node| {
        let ids = identities.get_or_init(|| {
            sops::load_identities(source.age_key_file.as_deref(), &|k| std::env::var(k).ok())
                .map_err(|e| e.to_string())
        });
        let ids = ids.as_ref().map_err(|why| FileProblem {
            line: 0,
            message: format!("cannot decrypt: {why}"),
        })?;
        sops::decrypt(doc, ids).map_err(|e| FileProblem {
            line: e.line().unwrap_or(0),
            message: format!("cannot decrypt: {e}"),
        })
    };
    let (vault, build_diags) = build(&files, namespace, &decrypt);
    diags.extend(build_diags);
    (vault, diags)
}

/// A vault read, modelled and rendered in memory: what `check`, `can-read` and `who-can-read`
/// answer from, and what `render_vault` prints.
#[derive(Debug)]
pub struct CheckedVault {
    /// The model (valid secrets and users only).
    pub vault: Vault,
    /// Who reads what, evaluated on the model.
    pub grants: Grants,
    /// The rendered objects, or `None` when any error was found.
    pub objects: Option<Vec<Object>>,
    /// Every error and warning: reading, parsing, naming, rules, clashes.
    pub diags: Diagnostics,
}

/// Reads, models, evaluates and renders a vault: the whole validation of the core.
pub fn check_vault(source: &VaultSource, settings: &RenderSettings) -> CheckedVault {
    let (vault, mut diags) = load_vault(source, &settings.namespace);
    let grants = evaluate(&vault);
    let objects = match render(&vault, &grants, settings) {
        Ok(rendered) => {
            diags.extend(rendered.warnings);
            diags.extend(crate::limits::check_objects(&rendered.objects));
            let ok = !diags.has_errors();
            ok.then_some(rendered.objects)
        }
        Err(errors) => {
            diags.extend(errors);
            None
        }
    };
    CheckedVault {
        vault,
        grants,
        objects,
        diags,
    }
}

/// Reads, checks and renders a vault: the objects, or `None` when any error was found. The
/// diagnostics hold every error and warning.
pub fn render_vault(
    source: &VaultSource,
    settings: &RenderSettings,
) -> (Option<Vec<Object>>, Diagnostics) {
    let checked = check_vault(source, settings);
    (checked.objects, checked.diags)
}

/// A vault read, modelled and evaluated: everything [`with_loaded`] needs to plan it.
pub struct Loaded {
    vault: Vault,
    grants: Grants,
    diags: Diagnostics,
}

/// Reads, models and evaluates a vault.
pub fn load(source: &VaultSource, settings: &RenderSettings) -> Loaded {
    let (vault, diags) = load_vault(source, &settings.namespace);
    let grants = evaluate(&vault);
    Loaded {
        vault,
        grants,
        diags,
    }
}

/// Reads, checks and plans a vault, then hands `f` the plan (`None` when any error was found)
/// and every error and warning. Objects are built only as they are written.
pub fn with_plan<R>(
    source: &VaultSource,
    settings: &RenderSettings,
    f: impl FnOnce(Option<&Plan<'_>>, Diagnostics) -> R,
) -> R {
    with_loaded(load(source, settings), settings, f)
}

/// [`with_plan`] on a vault already [`load`]ed with the same settings.
pub fn with_loaded<R>(
    loaded: Loaded,
    settings: &RenderSettings,
    f: impl FnOnce(Option<&Plan<'_>>, Diagnostics) -> R,
) -> R {
    let Loaded {
        vault,
        grants,
        mut diags,
    } = loaded;
    match plan(&vault, &grants, settings) {
        Ok((plan, warnings)) => {
            diags.extend(warnings);
            if diags.has_errors() {
                f(None, diags)
            } else {
                f(Some(&plan), diags)
            }
        }
        Err(errors) => {
            diags.extend(errors);
            f(None, diags)
        }
    }
}

fn messages(diags: &Diagnostics) -> Vec<String> {
    diags
        .sorted()
        .iter()
        .filter(|d| d.severity != Severity::Info)
        .map(|d| d.to_string())
        .collect()
}

fn summary(plan: &Plan<'_>, settings: &RenderSettings) -> String {
    let count = |kind: &str| plan.count(kind);
    let users = count("ServiceAccount");
    // Every user has one token Secret; the rest come from kvstore files.
    let secrets = count("Secret") - users;
    format!(
        "rendered {} in namespace {}: {} for {}, {}",
        plural(plan.len(), "object"),
        settings.namespace,
        plural(secrets, "Secret"),
        plural(users, "user"),
        plural(count("Role"), "Role"),
    )
}

/// `1 user`, `2 users`.
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Mode 1: a ResourceList on stdin, the same items plus ours on stdout.
pub fn krm_function(input: &[u8], cwd: &Path) -> Report {
    let failed = |items: Vec<krm::Item>, fc: Option<Node>, api: &str, diags: Diagnostics| Report {
        stdout: vec![krm::write(
            api,
            &items,
            fc,
            diags.sorted().iter().map(|d| krm::result_node(d)).collect(),
        )],
        messages: messages(&diags),
        exit: Exit::Failure,
    };
    if input.len() > crate::limits::MAX_STDIN_BYTES {
        let message = format!(
            "stdin: the ResourceList is more than {} bytes ({} MiB)",
            crate::limits::MAX_STDIN_BYTES,
            crate::limits::MAX_STDIN_BYTES >> 20
        );
        return failed(
            Vec::new(),
            None,
            "",
            vec![Diagnostic::error("", message)].into(),
        );
    }
    let text = match std::str::from_utf8(input) {
        Ok(t) => t,
        Err(_) => {
            return failed(
                Vec::new(),
                None,
                "",
                vec![Diagnostic::error("", "stdin: not UTF-8")].into(),
            );
        }
    };
    // A large ResourceList's items take a while to read: meanwhile, read the vault its
    // functionConfig names, read ahead of the items. Used only if the whole ResourceList is valid
    // and configures the very same run (so errors and output are as without the head start).
    let (read, ahead) = std::thread::scope(|scope| {
        let reading = scope.spawn(|| krm::read(text));
        let ahead = krm::function_config_ahead(text)
            .and_then(|fc| config::parse(Some(&fc)).ok())
            .map(|cfg| {
                let (source, settings) = (source_of(&cfg, cwd), settings_of(&cfg));
                let loaded = load(&source, &settings);
                (source, settings, loaded)
            });
        let read = reading
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (read, ahead)
    });
    let list = match read {
        Ok(list) => list,
        Err(d) => return failed(Vec::new(), None, "", vec![*d].into()),
    };
    let cfg = match config::parse(list.function_config.as_ref()) {
        Ok(cfg) => cfg,
        Err(diags) => return failed(list.items, list.function_config, &list.api_version, diags),
    };
    let settings = settings_of(&cfg);
    let source = source_of(&cfg, cwd);
    let loaded = match ahead {
        Some((s, st, loaded)) if s == source && st == settings => loaded,
        _ => load(&source, &settings),
    };
    let ResourceList {
        api_version,
        items,
        function_config,
    } = list;
    with_loaded(loaded, &settings, |plan, mut diags| {
        let Some(plan) = plan else {
            return failed(items, function_config, &api_version, diags);
        };
        let summary = summary(plan, &settings);
        let owned: Vec<_> = (0..plan.len()).map(|i| plan.key(i)).collect();
        let keys: Vec<krm::KeyRef<'_>> = owned
            .iter()
            .map(|(kind, ns, name)| (*kind, ns.unwrap_or(""), name.as_ref()))
            .collect();
        let merged = match krm::merge(&items, &keys, &cfg.name) {
            Ok(merged) => merged,
            Err(errors) => {
                diags.extend(errors);
                return failed(items, function_config, &api_version, diags);
            }
        };
        drop(keys);
        drop(owned);
        let mut results: Vec<Node> = diags.sorted().iter().map(|d| krm::result_node(d)).collect();
        results.push(Node::map([
            ("message", Node::string(summary)),
            ("severity", Node::string("info")),
        ]));
        Report {
            stdout: krm::write_merged(
                &api_version,
                &items,
                &merged,
                &|i, out| plan.write_range(out, i..i + 1, true),
                &|i| plan.object(i).to_node(),
                function_config,
                results,
            ),
            messages: messages(&diags),
            exit: Exit::Success,
        }
    })
}

fn source_of(cfg: &FunctionConfig, cwd: &Path) -> VaultSource {
    VaultSource {
        dir: cfg.resolved_vault_dir(cwd),
        age_key_file: cfg.resolved_age_key_file(cwd),
        require_encryption: cfg.require_encryption,
    }
}

fn settings_of(cfg: &FunctionConfig) -> RenderSettings {
    RenderSettings {
        namespace: cfg.namespace.clone(),
        create_namespace: cfg.create_namespace,
        generator: cfg.name.clone(),
    }
}

fn stream_report(plan: Option<&Plan<'_>>, diags: &Diagnostics) -> Report {
    match plan {
        Some(plan) => Report {
            stdout: emit_objects(plan),
            messages: messages(diags),
            exit: Exit::Success,
        },
        None => Report {
            stdout: Vec::new(),
            messages: messages(diags),
            exit: Exit::Failure,
        },
    }
}

/// Splits `0..len` into up to 64 ranges for [`par_map`].
fn chunks(len: usize) -> Vec<std::ops::Range<usize>> {
    let size = len.div_ceil(64).max(1);
    (0..len)
        .step_by(size)
        .map(|start| start..(start + size).min(len))
        .collect()
}

/// The planned objects as one `---`-separated YAML stream, built and written in parallel parts.
fn emit_objects(plan: &Plan<'_>) -> Vec<String> {
    let mut parts = par_map(&chunks(plan.len()), |range| {
        let mut out = String::with_capacity(range.len() * 640);
        plan.write_range(&mut out, range.clone(), false);
        out
    });
    // No `---` before the first document.
    if let Some(first) = parts.first_mut() {
        first.drain(..4);
    }
    parts
}

/// Mode 2: kustomize's legacy exec plugin: `kubevault CONFIG_FILE`, plain YAML on stdout.
pub fn legacy_plugin(config_file: &Path, cwd: &Path) -> anyhow::Result<Report> {
    let text = std::fs::read_to_string(config_file)
        .with_context(|| format!("cannot read the plugin config {}", config_file.display()))?;
    let docs = parse_stream(&text, &Limits::default())
        .map_err(|e| anyhow::anyhow!("plugin config {}: {e}", config_file.display()))?;
    let cfg = match config::parse(docs.iter().find(|d| !d.is_null())) {
        Ok(cfg) => cfg,
        Err(diags) => return Ok(stream_report(None, &diags)),
    };
    let settings = settings_of(&cfg);
    Ok(with_plan(
        &source_of(&cfg, cwd),
        &settings,
        |plan, diags| stream_report(plan, &diags),
    ))
}

/// Mode 3: `kubevault generate`. A flag wins over `KUBEVAULT_*` (clap reads those), which wins
/// over the Argo CD CMP's `ARGOCD_ENV_KUBEVAULT_*` (the Application's plugin env, looked up
/// through `env`), which wins over the defaults.
pub fn generate(
    args: &GenerateArgs,
    cwd: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<Report> {
    let argocd = |name: &str| env(name).filter(|v| !v.is_empty());
    let namespace = args
        .namespace
        .clone()
        .or_else(|| argocd("ARGOCD_ENV_KUBEVAULT_NAMESPACE"))
        .unwrap_or_else(|| config::DEFAULT_NAMESPACE.into());
    let vault_dir = args
        .vault_dir
        .clone()
        .or_else(|| argocd("ARGOCD_ENV_KUBEVAULT_DIR").map(PathBuf::from))
        .unwrap_or_else(|| config::DEFAULT_VAULT_DIR.into());
    if !is_dns1123_label(&namespace) {
        return Ok(Report {
            stdout: Vec::new(),
            messages: vec![format!(
                "error: namespace {namespace:?} is not a DNS-1123 label"
            )],
            exit: Exit::Usage,
        });
    }
    let settings = RenderSettings {
        namespace,
        create_namespace: args.create_namespace,
        generator: "kubevault".into(),
    };
    let source = VaultSource::from_args(&vault_dir, args.age_key_file.as_deref(), cwd);
    with_plan(&source, &settings, |plan, diags| {
        match (&args.output_dir, plan) {
            (Some(dir), Some(plan)) => {
                let written = output_dir::write(&cwd.join(dir), &plan.objects())?;
                let mut report = stream_report(None, &diags);
                report.exit = Exit::Success;
                report
                    .messages
                    .push(format!("wrote {written} files to {}", dir.display()));
                Ok(report)
            }
            (_, plan) => Ok(stream_report(plan, &diags)),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_stdout() {
        let report = Report {
            stdout: vec!["data:\n  password: U0VOVElORUw=\n".into()],
            messages: vec!["warning: x".into()],
            exit: Exit::Success,
        };
        let shown = format!("{report:?}");
        assert!(!shown.contains("U0VOVElORUw"), "{shown}");
        assert!(shown.contains("bytes"), "{shown}");
    }
}
