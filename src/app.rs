//! The three ways to run kubevault (KRM function, legacy exec plugin, `generate`), built on the
//! pure core. Each returns a [`Report`]: what goes to stdout, the messages for stderr, the exit
//! code. Only `main` prints.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::cli::{Cli, Command, GenerateArgs};
use crate::config::{self, FunctionConfig};
use crate::diag::{Diagnostic, Diagnostics, Severity};
use crate::exit::Exit;
use crate::krm;
use crate::render::{Object, RenderSettings, render};
use crate::vault::access::evaluate;
use crate::vault::model::build;
use crate::vault::names::is_dns1123_label;
use crate::vault::walk::read_vault;
use crate::yaml::{Limits, Node, emit_stream, parse_stream};

mod output_dir;

/// What a run prints and how it exits.
#[derive(Debug)]
pub struct Report {
    /// Everything for stdout.
    pub stdout: String,
    /// Lines for stderr (errors and warnings, sorted).
    pub messages: Vec<String>,
    /// Exit code.
    pub exit: Exit,
}

/// Dispatches a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<Report> {
    let cwd = std::env::current_dir().context("cannot determine the working directory")?;
    match (cli.command, cli.config) {
        (Some(Command::Generate(args)), _) => generate(&args, &cwd),
        (None, Some(config_file)) => legacy_plugin(&config_file, &cwd),
        (None, None) => {
            let stdin = std::io::stdin();
            if stdin.is_terminal() {
                return Ok(Report {
                    stdout: String::new(),
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

/// Reads, checks and renders a vault: the objects, or `None` when any error was found. The
/// diagnostics hold every error and warning.
pub fn render_vault(
    vault_dir: &Path,
    settings: &RenderSettings,
) -> (Option<Vec<Object>>, Diagnostics) {
    let (files, mut diags) = read_vault(vault_dir);
    let (vault, build_diags) = build(&files, &settings.namespace, &|_| {
        Err("file is SOPS-encrypted, and this build of kubevault cannot decrypt it".into())
    });
    diags.extend(build_diags);
    let grants = evaluate(&vault);
    match render(&vault, &grants, settings) {
        Ok(rendered) => {
            diags.extend(rendered.warnings);
            diags.extend(crate::limits::check_objects(&rendered.objects));
            let ok = !diags.has_errors();
            (ok.then_some(rendered.objects), diags)
        }
        Err(errors) => {
            diags.extend(errors);
            (None, diags)
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

fn summary(objects: &[Object], settings: &RenderSettings) -> String {
    let count = |kind: &str| {
        objects
            .iter()
            .filter(|o| o.resource_ref().kind == kind)
            .count()
    };
    format!(
        "rendered {} objects in namespace {}: {} Secrets for {} users, {} Roles",
        objects.len(),
        settings.namespace,
        count("Secret") - count("ServiceAccount"),
        count("ServiceAccount"),
        count("Role"),
    )
}

/// Mode 1: a ResourceList on stdin, the same items plus ours on stdout.
pub fn krm_function(input: &[u8], cwd: &Path) -> Report {
    let failed = |items: Vec<Node>, fc: Option<Node>, api: &str, diags: Diagnostics| Report {
        stdout: krm::write(
            api,
            items,
            fc,
            diags.sorted().iter().map(|d| krm::result_node(d)).collect(),
        ),
        messages: messages(&diags),
        exit: Exit::Failure,
    };
    if input.len() > crate::limits::MAX_STDIN_BYTES {
        let message = format!(
            "stdin: the ResourceList is more than {} bytes (64 MiB)",
            crate::limits::MAX_STDIN_BYTES
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
    let list = match krm::read(text) {
        Ok(list) => list,
        Err(d) => return failed(Vec::new(), None, "", vec![*d].into()),
    };
    let cfg = match config::parse(list.function_config.as_ref()) {
        Ok(cfg) => cfg,
        Err(diags) => return failed(list.items, list.function_config, &list.api_version, diags),
    };
    let settings = settings_of(&cfg);
    let (objects, mut diags) = render_vault(&cfg.resolved_vault_dir(cwd), &settings);
    let Some(objects) = objects else {
        return failed(list.items, list.function_config, &list.api_version, diags);
    };
    let summary = summary(&objects, &settings);
    let generated = objects.iter().map(Object::to_node).collect();
    let items = match krm::merge_items(list.items.clone(), generated, &cfg.name) {
        Ok(items) => items,
        Err(errors) => {
            diags.extend(errors);
            return failed(list.items, list.function_config, &list.api_version, diags);
        }
    };
    let mut results: Vec<Node> = diags.sorted().iter().map(|d| krm::result_node(d)).collect();
    results.push(Node::map([
        ("message", Node::string(summary)),
        ("severity", Node::string("info")),
    ]));
    Report {
        stdout: krm::write(&list.api_version, items, list.function_config, results),
        messages: messages(&diags),
        exit: Exit::Success,
    }
}

fn settings_of(cfg: &FunctionConfig) -> RenderSettings {
    RenderSettings {
        namespace: cfg.namespace.clone(),
        create_namespace: cfg.create_namespace,
        generator: cfg.name.clone(),
    }
}

fn stream_report(objects: Option<Vec<Object>>, diags: &Diagnostics) -> Report {
    match objects {
        Some(objects) => Report {
            stdout: emit_stream(&objects.iter().map(Object::to_node).collect::<Vec<_>>()),
            messages: messages(diags),
            exit: Exit::Success,
        },
        None => Report {
            stdout: String::new(),
            messages: messages(diags),
            exit: Exit::Failure,
        },
    }
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
    let (objects, diags) = render_vault(&cfg.resolved_vault_dir(cwd), &settings);
    Ok(stream_report(objects, &diags))
}

/// Mode 3: `kubevault generate`.
pub fn generate(args: &GenerateArgs, cwd: &Path) -> anyhow::Result<Report> {
    if !is_dns1123_label(&args.namespace) {
        return Ok(Report {
            stdout: String::new(),
            messages: vec![format!(
                "error: namespace {:?} is not a DNS-1123 label",
                args.namespace
            )],
            exit: Exit::Usage,
        });
    }
    let settings = RenderSettings {
        namespace: args.namespace.clone(),
        create_namespace: args.create_namespace,
        generator: "kubevault".into(),
    };
    let vault_dir: PathBuf = config::normalize(&cwd.join(&args.vault_dir));
    let (objects, diags) = render_vault(&vault_dir, &settings);
    match (&args.output_dir, objects) {
        (Some(dir), Some(objects)) => {
            let written = output_dir::write(&cwd.join(dir), &objects)?;
            let mut report = stream_report(Some(Vec::new()), &diags);
            report
                .messages
                .push(format!("wrote {written} files to {}", dir.display()));
            Ok(report)
        }
        (_, objects) => Ok(stream_report(objects, &diags)),
    }
}
