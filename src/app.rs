//! The three ways to run kubevault (KRM function, legacy exec plugin, `generate`), built on the
//! pure core. Each returns a [`Report`]: what goes to stdout, the messages for stderr, the exit
//! code. Only `main` prints.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::cli::{Cli, Command, GenerateArgs};
use crate::commands::{self, install};
use crate::config::{self, FunctionConfig};
use crate::confine;
use crate::diag::{Diagnostic, Diagnostics, Severity};
use crate::exit::Exit;
use crate::krm::{self, ResourceList};
use crate::paint::Paint;
use crate::pipeline::{self, load, with_plan};
use crate::render::{Plan, RenderSettings};
use crate::report::Report;
use crate::source::VaultSource;
use crate::vault::names::is_dns1123_label;
use crate::yaml::{Limits, Node, parse_stream};

mod output_dir;

/// Dispatches a parsed command line. The rendering modes write their output to `out` once the
/// whole run is known to succeed (streamed, never held in memory); the other commands return it
/// in the [`Report`].
pub fn run(cli: Cli, out: &mut dyn Write) -> anyhow::Result<Report> {
    let cwd = std::env::current_dir().context("cannot determine the working directory")?;
    match (cli.command, cli.config) {
        (Some(Command::Generate(args)), _) => {
            generate(&args, &cwd, &|name| std::env::var(name).ok(), out)
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
        (Some(Command::Users(args)), _) => Ok(commands::users::run(&args, &cwd, Paint::detect())),
        (Some(Command::Completion(args)), _) => Ok(commands::shell::completion(args.shell)),
        (Some(Command::Man(args)), _) => Ok(commands::shell::man(args.command.as_deref())),
        (Some(Command::AuditPolicy(args)), _) => Ok(commands::review::run_audit_policy(&args)),
        (Some(Command::Audit(args)), _) => Ok(commands::review::run_audit(&args, &cwd)),
        (Some(Command::Diff(args)), _) => Ok(commands::review::run_diff(&args, &cwd)),
        (Some(Command::Report(args)), _) => Ok(commands::review::run_report(&args, &cwd)),
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
        (None, Some(config_file)) => legacy_plugin(&config_file, &cwd, out),
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
            krm_function(&input, &cwd, out)
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

/// Mode 1: a ResourceList on stdin, the same items plus ours on `out`. A failed run returns the
/// input items and the error results in the report instead.
pub fn krm_function(input: &[u8], cwd: &Path, out: &mut dyn Write) -> anyhow::Result<Report> {
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
        return Ok(failed(
            Vec::new(),
            None,
            "",
            vec![Diagnostic::error("", message)].into(),
        ));
    }
    let text = match std::str::from_utf8(input) {
        Ok(t) => t,
        Err(_) => {
            return Ok(failed(
                Vec::new(),
                None,
                "",
                vec![Diagnostic::error("", "stdin: not UTF-8")].into(),
            ));
        }
    };
    // A large ResourceList's items take a while to read: meanwhile, read the vault its
    // functionConfig names, read ahead of the items. Used only if the whole ResourceList is valid
    // and configures the very same run (so errors and output are as without the head start).
    let (read, ahead) = std::thread::scope(|scope| {
        let reading = scope.spawn(|| krm::read(text));
        let ahead = krm::function_config_ahead(text)
            .and_then(|fc| config::parse(Some(&fc)).ok())
            .and_then(|cfg| {
                let (source, settings) = (source_of(&cfg, cwd).ok()?, settings_of(&cfg));
                let loaded = load(&source, &settings);
                Some((source, settings, loaded))
            });
        let read = reading
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (read, ahead)
    });
    let list = match read {
        Ok(list) => list,
        Err(d) => return Ok(failed(Vec::new(), None, "", vec![*d].into())),
    };
    let cfg = match config::parse(list.function_config.as_ref()) {
        Ok(cfg) => cfg,
        Err(diags) => {
            return Ok(failed(
                list.items,
                list.function_config,
                &list.api_version,
                diags,
            ));
        }
    };
    let settings = settings_of(&cfg);
    let source = match source_of(&cfg, cwd) {
        Ok(source) => source,
        Err(diags) => {
            return Ok(failed(
                list.items,
                list.function_config,
                &list.api_version,
                diags,
            ));
        }
    };
    let loaded = match ahead {
        Some((s, st, loaded)) if s == source && st == settings => loaded,
        _ => load(&source, &settings),
    };
    let ResourceList {
        api_version,
        items,
        function_config,
    } = list;
    pipeline::run(&loaded, &settings, |outcome| {
        let mut diags = outcome.diags;
        let Some(plan) = strictly(cfg.strict, outcome.plan, &mut diags) else {
            return Ok(failed(items, function_config, &api_version, diags));
        };
        let tokens = krm::token_secret_names(&items, &settings.namespace);
        for secret in outcome.vault.secrets.iter() {
            if tokens.contains(&secret.name.as_str()) {
                diags.push(Diagnostic::error(
                    &secret.source,
                    format!(
                        "Secret {:?} has the name of a token Secret kubevault generated in the \
                         input (a deleted user's?): kubevault never grants a live token's name; \
                         prune the token Secret from the package and the cluster first, or \
                         rename the file",
                        secret.name
                    ),
                ));
            }
        }
        if diags.has_errors() {
            return Ok(failed(items, function_config, &api_version, diags));
        }
        let summary = summary(plan, &settings);
        let keys: Vec<_> = (0..plan.len()).map(|i| plan.key(i)).collect();
        let merged = match krm::merge(&items, &keys, &cfg.name) {
            Ok(merged) => merged,
            Err(errors) => {
                diags.extend(errors);
                return Ok(failed(items, function_config, &api_version, diags));
            }
        };
        drop(keys);
        let mut results: Vec<Node> = diags.sorted().iter().map(|d| krm::result_node(d)).collect();
        results.push(Node::map([
            ("message", Node::string(summary)),
            ("severity", Node::string("info")),
        ]));
        let generated = krm::Generated {
            write: &|i, buf| plan.write_range(buf, i..i + 1, true),
            node: &|i| plan.object(i).to_node(),
            bytes: &|i| plan.object_bytes(i),
        };
        krm::write_merged(
            out,
            &api_version,
            &items,
            &merged,
            &generated,
            function_config,
            results,
        )
        .context("cannot write to stdout")?;
        Ok(Report {
            stdout: Vec::new(),
            messages: messages(&diags),
            exit: Exit::Success,
        })
    })
}

/// Where the functionConfig's vault and key file are. Unless the operator allows it
/// ([`confine::ALLOW_OUTSIDE`]), both must lie inside the package (SPEC §9).
fn source_of(cfg: &FunctionConfig, cwd: &Path) -> Result<VaultSource, Diagnostics> {
    let root = cfg.package_root(cwd);
    let confine = !confine::outside_allowed(&|name| std::env::var(name).ok());
    let confine = confine.then_some(root);
    let base = cfg.base_dir(cwd);
    let mut errors = Diagnostics::default();
    let mut refuse = |field: &str, written: &str| {
        errors.push(Diagnostic::error(
            "",
            confine::refused(field, written, root),
        ));
    };
    let dir = confine::resolve(base, &cfg.vault_dir, confine).unwrap_or_else(|confine::Outside| {
        refuse("vaultDir", &cfg.vault_dir);
        PathBuf::new()
    });
    let age_key_file = cfg.age_key_file.as_deref().and_then(|file| {
        confine::resolve(base, file, confine)
            .map_err(|confine::Outside| refuse("ageKeyFile", file))
            .ok()
    });
    if errors.is_empty() {
        Ok(VaultSource {
            dir,
            age_key_file,
            require_encryption: cfg.require_encryption,
            decryption: crate::source::Decryption::Required,
            check_recipients: false,
        })
    } else {
        Err(errors)
    }
}

/// `--strict` / `spec.strict`: with any warning, the warnings become errors and nothing is
/// rendered.
fn strictly<'p, 'a>(
    strict: bool,
    plan: Option<&'p Plan<'a>>,
    diags: &mut Diagnostics,
) -> Option<&'p Plan<'a>> {
    if strict && diags.count(Severity::Warning) > 0 {
        diags.promote_warnings();
        return None;
    }
    plan
}

fn settings_of(cfg: &FunctionConfig) -> RenderSettings {
    RenderSettings {
        namespace: cfg.namespace.clone(),
        create_namespace: cfg.create_namespace,
        generator: cfg.name.clone(),
    }
}

/// Writes the plan as a YAML stream to `out` (nothing when there is no plan: the run failed).
fn stream_report(
    plan: Option<&Plan<'_>>,
    diags: &Diagnostics,
    out: &mut dyn Write,
) -> anyhow::Result<Report> {
    let exit = match plan {
        Some(plan) => {
            plan.write_stream(out).context("cannot write to stdout")?;
            Exit::Success
        }
        None => Exit::Failure,
    };
    Ok(Report {
        stdout: Vec::new(),
        messages: messages(diags),
        exit,
    })
}

/// Mode 2: kustomize's legacy exec plugin: `kubevault CONFIG_FILE`, plain YAML on stdout.
pub fn legacy_plugin(
    config_file: &Path,
    cwd: &Path,
    out: &mut dyn Write,
) -> anyhow::Result<Report> {
    let text = std::fs::read_to_string(config_file)
        .with_context(|| format!("cannot read the plugin config {}", config_file.display()))?;
    let docs = parse_stream(&text, &Limits::default())
        .map_err(|e| anyhow::anyhow!("plugin config {}: {e}", config_file.display()))?;
    let cfg = match config::parse(docs.iter().find(|d| !d.is_null())) {
        Ok(cfg) => cfg,
        Err(diags) => return stream_report(None, &diags, out),
    };
    let settings = settings_of(&cfg);
    let source = match source_of(&cfg, cwd) {
        Ok(source) => source,
        Err(diags) => return stream_report(None, &diags, out),
    };
    with_plan(&source, &settings, |outcome| {
        let mut diags = outcome.diags;
        let plan = strictly(cfg.strict, outcome.plan, &mut diags);
        stream_report(plan, &diags, out)
    })
}

/// Mode 3: `kubevault generate`. A flag wins over `KUBEVAULT_*` (clap reads those), which wins
/// over the Argo CD CMP's `ARGOCD_ENV_KUBEVAULT_*` (the Application's plugin env, looked up
/// through `env`), which wins over the defaults.
pub fn generate(
    args: &GenerateArgs,
    cwd: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    out: &mut dyn Write,
) -> anyhow::Result<Report> {
    let argocd = |name: &str| env(name).filter(|v| !v.is_empty());
    let namespace = args
        .namespace
        .clone()
        .or_else(|| argocd("ARGOCD_ENV_KUBEVAULT_NAMESPACE"))
        .unwrap_or_else(|| config::DEFAULT_NAMESPACE.into());
    // A vault directory from the Application (its plugin env, or the default in its app
    // directory) is the repository's choice: it must stay in the app directory (SPEC §9).
    let from_app = args.vault_dir.is_none()
        && (argocd("ARGOCD_ENV_KUBEVAULT_DIR").is_some() || argocd("ARGOCD_APP_NAME").is_some());
    let vault_dir = args
        .vault_dir
        .clone()
        .or_else(|| argocd("ARGOCD_ENV_KUBEVAULT_DIR").map(PathBuf::from))
        .unwrap_or_else(|| config::DEFAULT_VAULT_DIR.into());
    if from_app && !confine::outside_allowed(env) {
        let dir = config::normalize(&cwd.join(&vault_dir));
        if confine::beneath(cwd, &dir).is_err() {
            return Ok(Report {
                stdout: Vec::new(),
                messages: vec![format!(
                    "error: {}",
                    confine::refused(
                        if argocd("ARGOCD_ENV_KUBEVAULT_DIR").is_some() {
                            "ARGOCD_ENV_KUBEVAULT_DIR"
                        } else {
                            "the vault directory"
                        },
                        &vault_dir.display().to_string(),
                        cwd
                    )
                    .replacen("functionConfig: ", "", 1)
                )],
                exit: Exit::Failure,
            });
        }
    }
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
    with_plan(&source, &settings, |outcome| {
        let mut diags = outcome.diags;
        let plan = strictly(args.strict, outcome.plan, &mut diags);
        match (&args.output_dir, plan) {
            (Some(dir), Some(plan)) => {
                let written = match output_dir::write(&cwd.join(dir), &source.dir, plan) {
                    Ok(written) => written,
                    Err(why) => {
                        let mut report = stream_report(None, &diags, out)?;
                        report.messages.push(format!("error: --output-dir: {why}"));
                        return Ok(report);
                    }
                };
                let mut report = stream_report(None, &diags, out)?;
                report.exit = Exit::Success;
                report
                    .messages
                    .push(format!("wrote {written} files to {}", dir.display()));
                Ok(report)
            }
            (_, plan) => stream_report(plan, &diags, out),
        }
    })
}
