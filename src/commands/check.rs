//! `kubevault check`: the core's whole validation (files, secret syntax, names, rules, clashes)
//! without printing any object. Every problem comes out on its own line as
//! `path:line: severity: message`, sorted, then a one-line summary; or all of it as one JSON
//! document. Exit 0 when clean (warnings allowed unless `--strict`), 1 on errors. Made for
//! pre-commit hooks and CI. Messages come from the core, which never puts a value in one.

use std::path::Path;

use crate::app::{CheckedVault, Report, VaultSource, check_vault};
use crate::cli::{CheckArgs, CheckFormat};
use crate::config::DEFAULT_NAMESPACE;
use crate::diag::Severity;
use crate::exit::Exit;
use crate::render::RenderSettings;

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
            let doc = serde_json::json!({
                "ok": !failed,
                "secrets": secrets,
                "users": users,
                "errors": errors,
                "warnings": warnings,
                "problems": problems,
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

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
