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
use crate::source::{Decryption, VaultSource};
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
    source.decryption = Decryption::IfKeyAvailable;
    // Recipients are public: compared with the creation rules without any key.
    source.check_recipients = true;
    let checked = check_vault(&source, &settings);
    report(
        &checked,
        args.format,
        args.strict,
        crate::paint::Paint::detect(),
    )
}

/// Formats a checked vault; pure.
pub fn report(
    checked: &CheckedVault,
    format: CheckFormat,
    strict: bool,
    paint: crate::paint::Paint,
) -> Report {
    let diags = checked.diags.sorted();
    let errors = checked.diags.count(Severity::Error);
    let warnings = checked.diags.count(Severity::Warning);
    let failed = errors > 0 || (strict && warnings > 0);
    let secrets = checked.vault.secrets.len();
    let users = checked.vault.users.len();
    let skipped = skipped(checked);
    let stdout = match format {
        CheckFormat::Text => {
            let mut out: String = diags
                .iter()
                .map(|d| paint.message(&d.to_string()) + "\n")
                .collect();
            for group in shape_groups(&checked.vault) {
                out.push_str(&group.line());
            }
            if let Some(note) = &skipped {
                out.push_str(&paint.message(&format!("note: {note}")));
                out.push('\n');
            }
            let head = verdict(errors, warnings, strict);
            out.push_str(&match (failed, warnings) {
                (true, _) => paint.red(&head),
                (false, 0) => paint.green(&head),
                (false, _) => paint.yellow(&head),
            });
            out.push_str(&format!(
                ": {}, {}\n",
                count(secrets, "secret"),
                count(users, "user")
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
                "strict": strict,
                "secrets": secrets,
                "users": users,
                "errors": errors,
                "warnings": warnings,
                "problems": problems,
                "skipped": {
                    "reason": if skipped.is_some() { serde_json::json!("no age key") } else { serde_json::Value::Null },
                    "checks": if skipped.is_some() { serde_json::json!(SKIPPED_CHECKS) } else { serde_json::json!([]) },
                    "undecrypted": checked.vault.undecrypted,
                    "keysUnknown": checked.vault.keys_unknown,
                },
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
        match by_shape.get(&&*s.shape) {
            Some(&i) => groups[i].identities.push(&s.identity),
            None => {
                by_shape.insert(&*s.shape, groups.len());
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

/// What `check` cannot do without an age key.
const SKIPPED_CHECKS: [&str; 3] = ["decryption", "MAC", "value checks (size, UTF-8, !!binary)"];

/// The note saying what was skipped for lack of a key, if anything was.
fn skipped(checked: &CheckedVault) -> Option<String> {
    let files = &checked.vault.undecrypted;
    if files.is_empty() {
        return None;
    }
    let mut note = format!(
        "no age key: skipped decryption, MAC and value checks of {} ({}); key names, rules and access were checked",
        count(files.len(), "encrypted file"),
        files.join(", ")
    );
    if !checked.vault.keys_unknown.is_empty() {
        note.push_str(&format!(
            "; the keys of {} (sops binary format) are unknown",
            checked.vault.keys_unknown.join(", ")
        ));
    }
    note.push_str(" (give a key with --age-key-file, SOPS_AGE_KEY_FILE or SOPS_AGE_KEY)");
    Some(note)
}

/// The last line's head: `check passed`, `check passed with 2 warnings`, `check failed with
/// 1 error and 2 warnings`, `check failed: 2 warnings (--strict)`.
pub fn verdict(errors: usize, warnings: usize, strict: bool) -> String {
    match (errors, warnings) {
        (0, 0) => "check passed".into(),
        (0, w) if strict => format!("check failed: {} (--strict)", count(w, "warning")),
        (0, w) => format!("check passed with {}", count(w, "warning")),
        (e, 0) => format!("check failed with {}", count(e, "error")),
        (e, w) => format!(
            "check failed with {} and {}",
            count(e, "error"),
            count(w, "warning")
        ),
    }
}

/// `1 warning`, `2 warnings`.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_verdict_names_warnings() {
        let table = [
            (0, 0, false, "check passed"),
            (0, 1, false, "check passed with 1 warning"),
            (0, 2, false, "check passed with 2 warnings"),
            (0, 2, true, "check failed: 2 warnings (--strict)"),
            (1, 0, false, "check failed with 1 error"),
            (3, 1, true, "check failed with 3 errors and 1 warning"),
        ];
        for (e, w, strict, want) in table {
            assert_eq!(verdict(e, w, strict), want);
        }
    }
}
