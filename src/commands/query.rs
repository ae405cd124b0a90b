//! What the access commands (`can-read`, `who-can-read`) and `external-secret` share: loading a
//! vault that must be free of errors before any question about it is answered, finding a secret
//! by identity with a hint for the usual slips, and terminal colour.

use std::path::Path;

use crate::cli::VaultDirArg;
use crate::config::DEFAULT_NAMESPACE;
use crate::diag::Severity;
use crate::exit::Exit;
use crate::pipeline::{CheckedVault, check_vault};
use crate::render::RenderSettings;
use crate::report::Report;
use crate::source::{Decryption, VaultSource};
use crate::vault::Secret;
use crate::vault::model::Vault;
use crate::vault::rule_hints::Identities;

/// Checks the vault at `vault_dir` (relative to `cwd`). A vault with errors renders nothing, so
/// questions about it are not answered: `Err` is the report listing the errors (exit 1).
pub fn load(vault: &VaultDirArg, cwd: &Path) -> Result<CheckedVault, Report> {
    let settings = RenderSettings {
        namespace: DEFAULT_NAMESPACE.into(),
        create_namespace: false,
        generator: "kubevault".into(),
    };
    let mut source = VaultSource::from_args(&vault.vault_dir, vault.age_key_file.as_deref(), cwd);
    source.decryption = Decryption::Never;
    // Names, keys and access never depend on a value (SPEC §9): never decrypt here, so the
    // answer is the same with or without the private key.
    let checked = check_vault(&source, &settings);
    if !checked.diags.has_errors() {
        return Ok(checked);
    }
    let mut messages: Vec<String> = checked
        .diags
        .sorted()
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| d.to_string())
        .collect();
    messages.push(format!(
        "error: the vault has {} error(s); fix them first (`kubevault check` lists every problem)",
        messages.len()
    ));
    Err(failure(messages))
}

/// A report with no stdout, these stderr lines and exit 1.
pub fn failure(messages: Vec<String>) -> Report {
    Report {
        stdout: Vec::new(),
        messages,
        exit: Exit::Failure,
    }
}

/// The secret with this identity, or an error message with a hint when the argument looks like
/// a Secret name, a file name, a path under the vault, or one slip away from an identity.
pub fn find_secret<'a>(vault: &'a Vault, identity: &str) -> Result<&'a Secret, String> {
    if let Some(s) = vault.secrets.iter().find(|s| s.identity == identity) {
        return Ok(s);
    }
    // The same slips a rule that matches no secret gets a hint for (one lookup for both).
    let hint = Identities::new(vault.secrets.iter().map(|s| s.identity.as_str()))
        .likely(identity)
        .map(|i| &vault.secrets[i])
        .map(|s| format!(": did you mean {:?} (Secret {})?", s.identity, s.name))
        .unwrap_or_else(|| {
            ": an identity is the path under kvstore/ without .yaml; `kubevault can-read USER` lists them"
                .into()
        });
    Err(format!("error: no secret with identity {identity:?}{hint}"))
}
