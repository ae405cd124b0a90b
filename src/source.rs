//! Where a vault comes from and the pipeline's first step: reading its files (through
//! `vault::walk`) and decrypting the SOPS-encrypted ones with the keys found, into the model.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::config;
use crate::diag::Diagnostics;
use crate::sops::{self, Identities};
use crate::vault::Vault;
use crate::vault::model::build;
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
