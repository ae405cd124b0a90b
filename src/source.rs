//! Where a vault comes from and the pipeline's first step: reading its files (through
//! `vault::walk`) and decrypting the SOPS-encrypted ones with the keys found, into the model.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::config;
use crate::diag::{Diagnostic, Diagnostics};
use crate::sops::{self, Identities, Keyless, SopsError};
use crate::vault::Vault;
use crate::vault::model::{Decrypted, build_consuming};
use crate::vault::secret_file::FileProblem;
use crate::vault::walk::read_vault;
use crate::yaml::Node;

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
    /// What happens to SOPS-encrypted files (rendering needs the key; questions do not).
    pub decryption: Decryption,
    /// Warn where an encrypted file's recipients differ from its `.sops.yaml` creation rule
    /// (`check`; recipients are public, so no key is needed).
    pub check_recipients: bool,
}

/// How [`load_vault`] treats SOPS-encrypted files (SPEC §9: the private key is needed only to
/// see values).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decryption {
    /// Rendering: every encrypted file is decrypted and its MAC checked; no key is an error.
    Required,
    /// `check`: decrypt when any age key is available; without one, read key names only and
    /// record the file in [`Vault::undecrypted`] (what `check` says it skipped).
    IfKeyAvailable,
    /// Questions about names and access (`can-read`, `who-can-read`, `external-secret`,
    /// `users`): never decrypt, so the answer is the same with or without a key.
    Never,
}

impl VaultSource {
    /// A vault directory and optional key file given on the command line, relative to `cwd`.
    pub fn from_args(vault_dir: &Path, age_key_file: Option<&Path>, cwd: &Path) -> VaultSource {
        VaultSource {
            dir: config::normalize(&cwd.join(vault_dir)),
            age_key_file: age_key_file.map(|f| config::normalize(&cwd.join(f))),
            require_encryption: false,
            decryption: Decryption::Required,
            check_recipients: false,
        }
    }
}

/// Reads and checks a vault without rendering: the model and every problem found, treating
/// encrypted files as `source.decryption` says. An age key the operator named
/// (`--age-key-file`, `spec.decryption.ageKeyFile`, `SOPS_AGE_KEY_FILE`, `SOPS_AGE_KEY`) that
/// cannot be read is an error in every mode, even when nothing is encrypted: a typo must not wait
/// for the first encrypted file to show.
pub fn load_vault(source: &VaultSource, namespace: &str) -> (Vault, Diagnostics) {
    let mode = source.decryption;
    let (files, mut diags) = read_vault(&source.dir);
    if source.require_encryption
        || crate::vault::encryption::metadata_requires_encryption(files.metadata.as_ref())
    {
        diags.extend(crate::vault::encryption::plaintext_errors(&files.kvstore));
    }
    if source.check_recipients {
        diags.extend(crate::vault::encryption::recipient_drift(
            &source.dir,
            &files.kvstore,
        ));
    }
    let named_key = source.age_key_file.is_some()
        || std::env::var_os("SOPS_AGE_KEY_FILE").is_some_and(|v| !v.is_empty())
        || std::env::var_os("SOPS_AGE_KEY").is_some_and(|v| !v.is_empty());
    // Keys are looked up once: at once when the operator named one (to report a typo), else
    // only when an encrypted file needs them.
    let identities: OnceLock<Result<Identities, String>> = OnceLock::new();
    let lookup = || {
        identities.get_or_init(|| {
            sops::load_identities(source.age_key_file.as_deref(), &|k| std::env::var(k).ok())
                .map_err(|e| e.to_string())
        })
    };
    if named_key && let Err(why) = lookup() {
        diags.push(Diagnostic::error(
            "",
            format!("cannot load the age key: {why}"),
        ));
    }
    let keys_only = |doc: &Node| {
        sops::without_key(doc, Keyless::Blank)
            .map(Decrypted::KeysOnly)
            .map_err(cannot_decrypt)
    };
    let decrypt = |doc: &Node| {
        if mode == Decryption::Never {
            return keys_only(doc);
        }
        let ids = match lookup() {
            // Reported once above.
            Err(_) if named_key => return keys_only(doc),
            Err(why) => {
                return Err(FileProblem {
                    line: 0,
                    message: format!("cannot decrypt: {why}"),
                });
            }
            Ok(ids) => ids,
        };
        if ids.is_empty() && mode == Decryption::IfKeyAvailable {
            return keys_only(doc);
        }
        sops::decrypt(doc, ids)
            .map(Decrypted::Plain)
            .map_err(cannot_decrypt)
    };
    let (vault, build_diags) = build_consuming(files, namespace, &decrypt);
    diags.extend(build_diags);
    (vault, diags)
}

/// A SOPS error as a problem of the file it is about: `cannot decrypt: …`, at its line when it
/// has one. (A [`SopsError`] never holds a value, ciphertext or key.)
pub fn cannot_decrypt(e: SopsError) -> FileProblem {
    FileProblem {
        line: e.line().unwrap_or(0),
        message: format!("cannot decrypt: {e}"),
    }
}
