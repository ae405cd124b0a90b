//! Encryption policy over a read vault, answered without any key: which secret files are
//! plaintext (an error when encryption is required: `check --require-encryption`,
//! `spec.requireEncryption: true`, `requireEncryption: true` in `vault/metadata.yaml`), and which
//! encrypted files' age recipients differ from what their `.sops.yaml` creation rule names now
//! (a warning: run `kubevault rekey`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, Diagnostics};
use crate::sops::creation::SopsConfig;
use crate::vault::walk::VaultFile;
use crate::yaml::{Limits, parse_stream};

/// True when a secret file's bytes hold a SOPS document (a top-level `sops` key), judged from the
/// text alone: a line starting `sops:` (YAML) or a `"sops":` key (JSON).
pub fn looks_encrypted(bytes: &[u8]) -> bool {
    bytes.starts_with(b"sops:")
        || bytes.windows(6).any(|w| w == b"\nsops:")
        || bytes.windows(7).any(|w| w == b"\"sops\":")
}

/// `requireEncryption: true` in `vault/metadata.yaml` (its problems are reported by the model).
pub fn metadata_requires_encryption(metadata: Option<&VaultFile>) -> bool {
    metadata.is_some_and(|file| {
        crate::vault::metadata::parse(&file.bytes)
            .0
            .require_encryption
            .is_some_and(|lined| lined.value)
    })
}

/// An error for every plaintext file under kvstore/.
pub fn plaintext_errors(files: &[VaultFile]) -> Diagnostics {
    let mut diags = Diagnostics::default();
    for file in files.iter().filter(|f| !looks_encrypted(&f.bytes)) {
        diags.push(Diagnostic::error(
            &file.rel,
            "plaintext secret file, but encryption is required (requireEncryption); encrypt it \
             with `kubevault encrypt` (a .sops.yaml creation rule must cover it)",
        ));
    }
    diags
}

/// A warning for every encrypted file whose recipients differ from its creation rule's, and for
/// `.sops.yaml` files that do not parse.
pub fn recipient_drift(vault_dir: &Path, files: &[VaultFile]) -> Diagnostics {
    let mut diags = Diagnostics::default();
    let mut configs: HashMap<PathBuf, Option<SopsConfig>> = HashMap::new();
    for file in files.iter().filter(|f| looks_encrypted(&f.bytes)) {
        let path = vault_dir.join(&file.rel);
        let parent = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let config = configs
            .entry(parent)
            .or_insert_with(|| match SopsConfig::find(&path) {
                Ok(found) => found,
                Err(e) => {
                    diags.push(Diagnostic::warning(
                        &file.rel,
                        format!("cannot read the creation rules: {e}"),
                    ));
                    None
                }
            });
        let Some(config) = config else { continue };
        let Some(rule) = config.rule_for(&path) else {
            continue;
        };
        let Ok(text) = std::str::from_utf8(&file.bytes) else {
            continue;
        };
        let Some(doc) = parse_stream(text, &Limits::default())
            .ok()
            .and_then(|docs| docs.into_iter().find(|d| !d.is_null()))
        else {
            continue;
        };
        let Ok(mut have) = crate::sops::recipients(&doc) else {
            continue;
        };
        let mut want = rule.age.clone();
        // sops writes one stanza per listed recipient, a recipient listed twice twice; the
        // rule's list is deduplicated: compare sets.
        have.sort();
        have.dedup();
        want.sort();
        if have != want {
            let added: Vec<&str> = want
                .iter()
                .filter(|r| !have.contains(r))
                .map(String::as_str)
                .collect();
            let extra: Vec<&str> = have
                .iter()
                .filter(|r| !want.contains(r))
                .map(String::as_str)
                .collect();
            let mut detail = Vec::new();
            if !added.is_empty() {
                detail.push(format!("missing {}", added.join(", ")));
            }
            if !extra.is_empty() {
                detail.push(format!("not in the rule {}", extra.join(", ")));
            }
            diags.push(Diagnostic::warning(
                &file.rel,
                format!(
                    "recipients differ from {} of {} ({}); run `kubevault rekey`",
                    rule.describe(),
                    config.path.display(),
                    detail.join("; "),
                ),
            ));
        }
    }
    diags
}
