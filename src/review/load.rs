//! Loading a vault for the review commands (`diff`, `report`, `audit`) without any age identity
//! (SPEC §9): names, identities, keys and rules are all in clear text, so an encrypted file is
//! modelled with its key names and its values left as ciphertext, which these commands never
//! print. Naming, collision and rule errors are the model's own ([`crate::vault::model::build`]).

use crate::diag::{Diagnostics, Severity};
use crate::sops::{self, Keyless};
use crate::source::cannot_decrypt;
use crate::vault::Vault;
use crate::vault::access::{Grants, evaluate};
use crate::vault::model::{Decrypted, build};
use crate::vault::secret_file::FileProblem;
use crate::vault::walk::VaultFiles;
use crate::yaml::Node;

/// A vault modelled for review: the model, who reads what, and every problem found.
#[derive(Debug)]
pub struct Reviewed {
    /// The model; encrypted files hold their ciphertext as values.
    pub vault: Vault,
    /// Who reads what.
    pub grants: Grants,
    /// Every error and warning of reading and modelling.
    pub diags: Diagnostics,
}

impl Reviewed {
    /// The error lines (`path:line: error: message`), sorted; empty when the vault is valid.
    pub fn errors(&self) -> Vec<String> {
        self.diags
            .sorted()
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| d.to_string())
            .collect()
    }
}

/// A SOPS document as the "decryptor" of a keyless model: its metadata checked as `check` checks
/// it without a key, the same mapping without its `sops` metadata, every value still ciphertext.
pub fn keys_only(doc: &Node) -> Result<Decrypted, FileProblem> {
    sops::without_key(doc, Keyless::Ciphertext)
        .map(Decrypted::KeysOnly)
        .map_err(cannot_decrypt)
}

/// Models and evaluates files already read, without decrypting anything.
pub fn review(files: &VaultFiles, namespace: &str) -> Reviewed {
    let (vault, diags) = build(files, namespace, &keys_only);
    let grants = evaluate(&vault);
    Reviewed {
        vault,
        grants,
        diags,
    }
}

/// [`review`] with the diagnostics of reading the files put first.
pub fn with_read(files: &VaultFiles, read: Diagnostics, namespace: &str) -> Reviewed {
    let mut reviewed = review(files, namespace);
    let mut diags = read;
    diags.extend(std::mem::take(&mut reviewed.diags));
    reviewed.diags = diags;
    reviewed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::model::test_files;

    #[test]
    fn encrypted_files_keep_their_keys_and_ciphertext_without_a_key() {
        let enc = include_str!("../../tests/fixtures/sops/flat.enc.yaml");
        let files = test_files(
            &[("kvstore/enc.yaml", enc)],
            &[("access_control/alice", "**\n")],
        );
        let r = review(&files, "ns");
        assert!(r.errors().is_empty(), "{:?}", r.errors());
        let data = &r.vault.secrets[0].data;
        assert!(data.contains_key("password") && data.contains_key("quoted_pin"));
        assert!(
            data["password"].0.starts_with(b"ENC[AES256_GCM,"),
            "ciphertext kept"
        );
        assert_eq!(r.grants.readable, [vec![0]]);
    }

    #[test]
    fn sops_metadata_is_checked_as_check_checks_it_without_a_key() {
        // A hand-made `sops` block with no age recipient: refused, as `check` refuses it.
        let files = test_files(
            &[(
                "kvstore/enc.yaml",
                "password: ENC[AES256_GCM,data:abc,iv:x,tag:y,type:str]\nsops:\n  mac: m\n",
            )],
            &[("access_control/alice", "**\n")],
        );
        let errors = review(&files, "ns").errors();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(
            errors[0].starts_with("kvstore/enc.yaml: error: cannot decrypt:"),
            "{errors:?}"
        );
    }
}
