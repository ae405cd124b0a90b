//! Loading a vault for the review commands (`diff`, `report`, `audit`) without any age identity
//! (SPEC §9): names, identities, keys and rules are all in clear text, so an encrypted file is
//! modelled with its key names and its values left as ciphertext, which these commands never
//! print. Naming, collision and rule errors are the model's own ([`crate::vault::model::build`]).

use crate::diag::{Diagnostics, Severity};
use crate::vault::Vault;
use crate::vault::access::{Grants, evaluate};
use crate::vault::model::{Decrypted, build};
use crate::vault::secret_file::FileProblem;
use crate::vault::walk::VaultFiles;
use crate::yaml::{Node, Value};

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

/// A SOPS document as the "decryptor" of a keyless model: the same mapping without its `sops`
/// metadata, every value still ciphertext.
pub fn keys_only(doc: &Node) -> Result<Decrypted, FileProblem> {
    let Some(entries) = doc.as_map() else {
        return Err(FileProblem {
            line: doc.line,
            message: "not a mapping of keys to values".into(),
        });
    };
    let data = entries
        .iter()
        .filter(|(key, _)| key.as_str() != Some("sops"))
        .cloned()
        .collect();
    Ok(Decrypted::KeysOnly(Node {
        value: Value::Map(data),
        tag: None,
        line: doc.line,
    }))
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
    fn encrypted_files_keep_their_keys_without_a_key() {
        let files = test_files(
            &[(
                "kvstore/enc.yaml",
                "password: ENC[AES256_GCM,data:abc,iv:x,tag:y,type:str]\nsops:\n  mac: m\n",
            )],
            &[("access_control/alice", "**\n")],
        );
        let r = review(&files, "ns");
        assert!(r.errors().is_empty(), "{:?}", r.errors());
        let keys: Vec<&String> = r.vault.secrets[0].data.keys().collect();
        assert_eq!(keys, ["password"]);
        assert_eq!(r.grants.readable, [vec![0]]);
    }
}
