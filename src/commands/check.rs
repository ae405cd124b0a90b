//! `kubevault check`: the core's whole validation (files, secret syntax, names, rules, clashes)
//! without printing any object. Every problem comes out on its own line as
//! `path:line: severity: message`, sorted, then a one-line summary; or all of it as one JSON
//! document. Exit 0 when clean (warnings allowed unless `--strict`), 1 on errors. Made for
//! pre-commit hooks and CI. Messages come from the core, which never puts a value in one.

use std::collections::HashMap;
use std::path::Path;

use crate::cli::{CheckArgs, CheckFormat};
use crate::config::DEFAULT_NAMESPACE;
use crate::diag::Severity;
use crate::exit::Exit;
use crate::pipeline::{CheckedVault, check_vault};
use crate::render::RenderSettings;
use crate::report::Report;
use crate::source::VaultSource;
use crate::vault::Vault;
use crate::vault::metadata::Shape;

/// Runs `kubevault check`.
pub fn run(args: &CheckArgs, cwd: &Path) -> Report {
    let settings = RenderSettings {
        namespace: DEFAULT_NAMESPACE.into(),
        create_namespace: false,
        generator: "kubevault".into(),
    };
    let mut source = VaultSource::from_args(
        &args.vault.vault_dir,
        args.vault.age_key_file.as_deref(),
        cwd,
    );
    source.require_encryption = args.require_encryption;
    let mut checked = check_vault(&source, &settings);
    // Recipients are public: compared with the creation rules without any key.
    let (files, _) = crate::vault::walk::read_vault(&source.dir);
    checked
        .diags
        .extend(crate::vault::encryption::recipient_drift(
            &source.dir,
            &files.kvstore,
        ));
    report(&checked, args.format, args.strict)
}

/// Formats a checked vault; pure.
pub fn report(checked: &CheckedVault, format: CheckFormat, strict: bool) -> Report {
    let diags = checked.diags.sorted();
    let errors = checked.diags.count(Severity::Error);
    let warnings = checked.diags.count(Severity::Warning);
    let failed = errors > 0 || (strict && warnings > 0);
    let secrets = checked.vault.secrets.len();
    let users = checked.vault.users.len();
    let stdout = match format {
        CheckFormat::Text => {
            let mut out: String = diags.iter().map(|d| format!("{d}\n")).collect();
            for group in shape_groups(&checked.vault) {
                out.push_str(&group.line());
            }
            let verdict = if failed { "failed" } else { "ok" };
            out.push_str(&format!(
                "check {verdict}: {} secret{}, {} user{}; {} error{}, {} warning{}\n",
                secrets,
                plural(secrets),
                users,
                plural(users),
                errors,
                plural(errors),
                warnings,
                plural(warnings),
            ));
            out
        }
        CheckFormat::Json => {
            let problems: Vec<serde_json::Value> = diags
                .iter()
                .map(|d| {
                    serde_json::json!({
                        "severity": d.severity.as_str(),
                        "path": d.path,
                        "line": d.line,
                        "message": d.message,
                    })
                })
                .collect();
            let shapes: Vec<serde_json::Value> = shape_groups(&checked.vault)
                .iter()
                .map(|g| {
                    serde_json::json!({
                        "shape": g.shape.describe(),
                        "type": g.shape.type_,
                        "labels": g.shape.labels,
                        "annotations": g.shape.annotations,
                        "immutable": g.shape.immutable,
                        "rules": g.shape.rules.iter().map(|l| format!("{}:{l}", crate::vault::metadata::FILE)).collect::<Vec<_>>(),
                        "secrets": g.identities,
                    })
                })
                .collect();
            let doc = serde_json::json!({
                "ok": !failed,
                "secrets": secrets,
                "users": users,
                "errors": errors,
                "warnings": warnings,
                "problems": problems,
                "shapes": shapes,
            });
            // A json! value always serializes.
            serde_json::to_string_pretty(&doc).expect("JSON serializes") + "\n"
        }
    };
    Report {
        stdout: vec![stdout],
        messages: Vec::new(),
        exit: if failed { Exit::Failure } else { Exit::Success },
    }
}

/// Secrets that share one shape from `metadata.yaml`.
pub struct ShapeGroup<'a> {
    /// The shape.
    pub shape: &'a Shape,
    /// The identities of the secrets that have it, sorted.
    pub identities: Vec<&'a str>,
}

impl ShapeGroup<'_> {
    /// `shape TYPE; labels ... (metadata.yaml:4, metadata.yaml:8): 2 secrets: a, b` and a newline;
    /// at most ten identities are named.
    pub fn line(&self) -> String {
        const SHOWN: usize = 10;
        let n = self.identities.len();
        let mut names = self.identities[..n.min(SHOWN)].join(", ");
        if n > SHOWN {
            names.push_str(&format!(" and {} more", n - SHOWN));
        }
        format!(
            "shape {} ({}): {n} secret{}: {names}\n",
            self.shape.describe(),
            self.shape.sources(),
            plural(n)
        )
    }
}

/// The shapes `metadata.yaml` gives, each with the secrets that have it, in order of first
/// appearance; secrets no rule matched are left out (they are plain Opaque).
pub fn shape_groups(vault: &Vault) -> Vec<ShapeGroup<'_>> {
    let mut groups: Vec<ShapeGroup<'_>> = Vec::new();
    let mut by_shape: HashMap<&Shape, usize> = HashMap::new();
    let mut secrets: Vec<_> = vault
        .secrets
        .iter()
        .filter(|s| !s.shape.rules.is_empty())
        .collect();
    secrets.sort_by(|a, b| a.identity.cmp(&b.identity));
    for s in secrets {
        match by_shape.get(&s.shape) {
            Some(&i) => groups[i].identities.push(&s.identity),
            None => {
                by_shape.insert(&s.shape, groups.len());
                groups.push(ShapeGroup {
                    shape: &s.shape,
                    identities: vec![&s.identity],
                });
            }
        }
    }
    groups
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
