//! The vault model: secrets with identities, names and data, users with rules. Built purely from
//! the files [`super::walk`] read, with every naming, parsing and collision problem collected.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::diag::{Diagnostic, Diagnostics, ResourceRef};
use crate::par::par_map;
use crate::yaml::Node;

use super::metadata::{self, SecretMetadata, Shape};
use super::names::{identity, is_dns1123_label, is_dns1123_subdomain, secret_name};
use super::rule_hints::user_name_hint;
use super::rules::{Rule, parse_rules};
use super::secret_file::{self, Parsed, SecretData};
use super::walk::{VaultFile, VaultFiles};

/// One kvstore file, ready to render.
#[derive(Debug)]
pub struct Secret {
    /// Path under `kvstore/` without `.yaml`/`.yml`: what rules match.
    pub identity: String,
    /// The Kubernetes Secret name.
    pub name: String,
    /// Path relative to the vault directory.
    pub source: String,
    /// Keys and values (values never printed by `Debug`).
    pub data: SecretData,
    /// Type, labels, annotations and `immutable` from `metadata.yaml` (SPEC §10). Shared: the
    /// secrets no rule shapes (most of them) hold one default shape, not 160 bytes each.
    pub shape: Arc<Shape>,
}

/// One user: an access-control file.
#[derive(Debug)]
pub struct User {
    /// The user name: the file name.
    pub name: String,
    /// Path relative to the vault directory.
    pub source: String,
    /// The rules in file order.
    pub rules: Vec<Rule>,
}

/// A whole vault: secrets sorted by name, users sorted by name.
#[derive(Debug, Default)]
pub struct Vault {
    /// Secrets, sorted by name.
    pub secrets: Vec<Secret>,
    /// Users, sorted by name.
    pub users: Vec<User>,
    /// Identities of kvstore files that failed to parse or were dropped after a name clash
    /// (already reported as errors): a rule matching one of them is not "a rule that matches
    /// nothing".
    pub unparsed: Vec<String>,
    /// `metadata.yaml` as far as it is valid (empty when the vault has none).
    pub metadata: SecretMetadata,
    /// Sources (`kvstore/...`) of SOPS-encrypted files read without a key: their keys come from
    /// the clear-text key names, their values are unknown (empty), their MAC was not checked.
    pub undecrypted: Vec<String>,
    /// Sources of SOPS binary-format files read without a key: even their key names are inside
    /// the ciphertext, so their Secrets' keys are unknown.
    pub keys_unknown: Vec<String>,
}

/// What a [`Decryptor`] made of a SOPS document.
pub enum Decrypted {
    /// The plain tree: values decrypted, MAC verified.
    Plain(Node),
    /// Not decrypted (no key, or a read-only question): the document's clear-text key names with
    /// every encrypted value blanked, for everything that does not depend on values.
    KeysOnly(Node),
}

/// Decrypts a SOPS document into a plain mapping; the error names line and key, never a value.
pub type Decryptor<'a> = &'a (dyn Fn(&Node) -> Result<Decrypted, secret_file::FileProblem> + Sync);

/// Builds the model from files read from disk. `namespace` only fills `resourceRef`s.
/// The files stay the caller's (review keeps them for the ciphertexts); the pipeline uses
/// [`build_consuming`].
pub fn build(files: &VaultFiles, namespace: &str, decrypt: Decryptor) -> (Vault, Diagnostics) {
    build_from(Input::Borrowed(files), namespace, decrypt)
}

/// [`build`], consuming the files: their text is freed once every value is parsed, before the
/// model is assembled (16 MB at 100,000 secrets, when memory use peaks).
pub fn build_consuming(
    files: VaultFiles,
    namespace: &str,
    decrypt: Decryptor,
) -> (Vault, Diagnostics) {
    build_from(Input::Owned(files), namespace, decrypt)
}

/// The files [`build_from`] models: the caller's, or its own to free as it goes.
enum Input<'a> {
    Borrowed(&'a VaultFiles),
    Owned(VaultFiles),
}

impl Input<'_> {
    fn files(&self) -> &VaultFiles {
        match self {
            Input::Borrowed(files) => files,
            Input::Owned(files) => files,
        }
    }

    /// Frees the secret files' text, when they are ours.
    fn release_text(&mut self) {
        if let Input::Owned(files) = self {
            for file in &mut files.kvstore {
                file.bytes = Vec::new();
            }
        }
    }

    /// Secret file `k`'s path: moved out when the files are ours, else copied.
    fn take_rel(&mut self, k: usize) -> String {
        match self {
            Input::Borrowed(files) => files.kvstore[k].rel.clone(),
            Input::Owned(files) => std::mem::take(&mut files.kvstore[k].rel),
        }
    }
}

fn build_from(mut input: Input<'_>, namespace: &str, decrypt: Decryptor) -> (Vault, Diagnostics) {
    let files = input.files();
    let mut diags = Diagnostics::default();
    let mut vault = Vault::default();
    let mut by_identity: HashMap<String, &str> = HashMap::with_capacity(files.kvstore.len());
    let mut by_name: HashMap<String, &str> = HashMap::with_capacity(files.kvstore.len());
    let mut candidates = Vec::with_capacity(files.kvstore.len());
    if let Some(file) = &files.metadata {
        let (meta, problems) = metadata::parse(&file.bytes);
        for p in problems {
            diags.push(
                Diagnostic {
                    severity: p.severity,
                    ..Diagnostic::error(&file.rel, p.message)
                }
                .at_line(p.line),
            );
        }
        vault.metadata = meta;
    }
    let named = par_map(&files.kvstore, |file| {
        let inner = file.rel.strip_prefix("kvstore/").unwrap_or(&file.rel);
        let identity = identity(inner);
        let name = secret_name(&identity);
        (identity, name)
    });
    for (k, (file, (identity, name))) in files.kvstore.iter().zip(named).enumerate() {
        if let Some(first) = by_identity.insert(identity.clone(), &file.rel) {
            diags.push(Diagnostic::error(
                &file.rel,
                format!("same secret identity {identity:?} as {first}"),
            ));
            vault.unparsed.push(identity);
            continue;
        }
        if !is_dns1123_subdomain(&name) {
            diags.push(Diagnostic::error(
                &file.rel,
                format!(
                    "secret name {name:?} (from identity {identity:?}) is not a valid Kubernetes name: \
                     at most 253 of a-z, 0-9 and '-', starting and ending with a letter or digit"
                ),
            ));
            vault.unparsed.push(identity);
            continue;
        }
        if let Some(first) = by_name.insert(name.clone(), &file.rel) {
            diags.push(Diagnostic::error(
                &file.rel,
                format!("same Secret name {name:?} as {first}"),
            ));
            vault.unparsed.push(identity);
            continue;
        }
        let canonical = crate::vault::spelling::canonical(&identity);
        if canonical != identity {
            diags.push(Diagnostic::warning(
                &file.rel,
                format!(
                    "identity {identity:?} is not the canonical spelling of Secret {name:?}: \
                     rename it to {canonical:?} (deny rules match every spelling of a name, \
                     allow rules only the identity they name)"
                ),
            ));
        }
        candidates.push((identity, name, k));
    }
    // The clash tables are done with: free them (17 MB at 100,000 secrets) before the parse.
    drop((by_identity, by_name));
    // Parsing (and decrypting) is the costly part: do it on every core, in order.
    // So is matching every metadata rule and checking the shape: on every core too.
    let meta = &vault.metadata;
    let unshaped = Arc::new(Shape::default());
    let parsed = par_map(&candidates, |(identity, _, k)| {
        let file = &files.kvstore[*k];
        let (parsed, warnings) = parse_secret(file, decrypt);
        let shape = meta.shape(identity);
        let shape = if shape.rules.is_empty() {
            Arc::clone(&unshaped)
        } else {
            Arc::new(shape)
        };
        let problems = match &parsed {
            Ok((data, read)) => check_shape(&shape, data, *read, &file.rel),
            Err(_) => Vec::new(),
        };
        (parsed, warnings, shape, problems)
    });
    // Every value is parsed: free the files' text before the model is assembled.
    input.release_text();
    for ((identity, name, k), (parsed, warnings, shape, problems)) in
        candidates.into_iter().zip(parsed)
    {
        let rel = input.take_rel(k);
        let resource = ResourceRef {
            api_version: "v1".into(),
            kind: "Secret".into(),
            name: name.clone(),
            namespace: Some(namespace.to_string()),
        };
        for w in warnings {
            diags.push(
                Diagnostic::warning(&rel, w.message)
                    .at_line(w.line)
                    .about(resource.clone()),
            );
        }
        match parsed {
            Ok((data, read)) => {
                match read {
                    Read::Decrypted => {}
                    Read::KeysOnly => vault.undecrypted.push(rel.clone()),
                    Read::KeysUnknown => {
                        vault.undecrypted.push(rel.clone());
                        vault.keys_unknown.push(rel.clone());
                    }
                }
                if data.is_empty() && read != Read::KeysUnknown {
                    diags.push(
                        Diagnostic::warning(&rel, "no keys: the Secret has no data")
                            .about(resource.clone()),
                    );
                }
                for p in problems {
                    diags.push(
                        Diagnostic::error(&rel, p.message)
                            .at_line(p.line)
                            .about(resource.clone()),
                    );
                }
                vault.secrets.push(Secret {
                    identity,
                    name,
                    source: rel,
                    data,
                    shape,
                });
            }
            Err(problems) => {
                vault.unparsed.push(identity);
                for p in problems {
                    diags.push(
                        Diagnostic::error(&rel, p.message)
                            .at_line(p.line)
                            .about(resource.clone()),
                    );
                }
            }
        }
    }
    let files = input.files();
    if let Some(file) = &files.metadata {
        let identities: Vec<&str> = vault.secrets.iter().map(|s| s.identity.as_str()).collect();
        for p in vault.metadata.unmatched(&identities, &vault.unparsed) {
            diags.push(Diagnostic::warning(&file.rel, p.message).at_line(p.line));
        }
    }
    let mut users: BTreeMap<String, &str> = BTreeMap::new();
    let user_name = |file: &VaultFile| file.rel.rsplit('/').next().unwrap_or(&file.rel).to_string();
    let valid_names: Vec<String> = files
        .access_control
        .iter()
        .flatten()
        .map(user_name)
        .filter(|name| is_dns1123_label(name))
        .collect();
    let valid_names: Vec<&str> = valid_names.iter().map(String::as_str).collect();
    for file in files.access_control.iter().flatten() {
        let name = user_name(file);
        if !is_dns1123_label(&name) {
            diags.push(Diagnostic::error(
                &file.rel,
                format!(
                    "user name {name:?} (the file name) is not a DNS-1123 label: at most 63 of \
                     a-z, 0-9 and '-'{}",
                    user_name_hint(&name, &valid_names)
                ),
            ));
            continue;
        }
        if let Some(first) = users.insert(name.clone(), &file.rel) {
            diags.push(Diagnostic::error(
                &file.rel,
                format!("user {name:?} is already defined by {first}"),
            ));
            continue;
        }
        let Ok(text) = std::str::from_utf8(&file.bytes) else {
            diags.push(Diagnostic::error(
                &file.rel,
                "access-control file is not UTF-8",
            ));
            continue;
        };
        let (rules, errors) = parse_rules(text);
        if !errors.is_empty() {
            for e in errors {
                diags.push(Diagnostic::error(&file.rel, e.message).at_line(e.line));
            }
            continue;
        }
        vault.users.push(User {
            name,
            source: file.rel.clone(),
            rules,
        });
    }
    vault.secrets.sort_by(|a, b| a.name.cmp(&b.name));
    vault.users.sort_by(|a, b| a.name.cmp(&b.name));
    (vault, diags)
}

/// How much of a secret file could be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Read {
    /// Plain, or decrypted: keys and values.
    Decrypted,
    /// Encrypted and not decrypted: keys, no values.
    KeysOnly,
    /// A binary-format SOPS file not decrypted: neither keys nor values.
    KeysUnknown,
}

/// A secret's data against its shape: the keys its type needs, and its values where readable
/// (not for an encrypted file read without a key; nothing for a binary-format one, whose keys
/// are unknown too).
fn check_shape(
    shape: &Shape,
    data: &SecretData,
    read: Read,
    source: &str,
) -> Vec<metadata::SecretProblem> {
    if shape.is_plain() || read == Read::KeysUnknown {
        return Vec::new();
    }
    let keys: Vec<&str> = data.keys().map(String::as_str).collect();
    // kubevault's own annotations count towards the object's 256 KiB: the source path, and the
    // generator (a functionConfig name, at most 253 characters).
    let own = crate::object::SOURCE.len() + source.len() + crate::object::GENERATOR.len() + 253;
    metadata::check_secret(
        shape,
        &keys,
        &|key| {
            data.get(key)
                .filter(|_| read == Read::Decrypted)
                .map(|v| (v.0.as_slice(), 0))
        },
        own,
    )
}

/// A secret file's data and how much of it could be read (or its problems), and the warnings
/// about it.
type ParsedSecret = (
    Result<(SecretData, Read), Vec<secret_file::FileProblem>>,
    Vec<secret_file::FileProblem>,
);

fn parse_secret(file: &VaultFile, decrypt: Decryptor) -> ParsedSecret {
    let (parsed, warnings) = match secret_file::parse_with_warnings(&file.bytes) {
        Ok(read) => read,
        Err(problems) => return (Err(problems), Vec::new()),
    };
    let data = match parsed {
        Parsed::Plain(data) => Ok((data, Read::Decrypted)),
        Parsed::Encrypted(doc) => decrypt_secret(file, &doc, decrypt),
    };
    (data, warnings)
}

/// An encrypted secret file's data: decrypted, or its key names only (see [`Decrypted`]); a
/// sops binary-format file is read as the secret file it holds.
fn decrypt_secret(
    file: &VaultFile,
    doc: &Node,
    decrypt: Decryptor,
) -> Result<(SecretData, Read), Vec<secret_file::FileProblem>> {
    let binary = crate::sops::is_binary_format(&file.rel, &file.bytes, doc);
    match decrypt(doc).map_err(|problem| vec![problem])? {
        Decrypted::KeysOnly(_) if binary => Ok((SecretData::new(), Read::KeysUnknown)),
        Decrypted::KeysOnly(keys) => {
            secret_file::data_from_mapping(&keys).map(|data| (data, Read::KeysOnly))
        }
        Decrypted::Plain(mut plain) if binary => {
            // sops stored the whole plaintext file as the one value `data`: read that text as
            // the secret file it was before encryption.
            let parsed =
                crate::sops::binary_text(&plain).map(|text| secret_file::parse(text.as_bytes()));
            crate::sops::wipe(&mut plain);
            match parsed {
                Some(Ok(Parsed::Plain(data))) => Ok((data, Read::Decrypted)),
                Some(Ok(Parsed::Encrypted(_))) => Err(vec![secret_file::FileProblem {
                    line: 0,
                    message: "a sops binary-format file that holds another SOPS file".into(),
                }]),
                Some(Err(problems)) => Err(problems
                    .into_iter()
                    .map(|p| secret_file::FileProblem {
                        line: 0,
                        message: match p.line {
                            0 => {
                                format!("{} (in the decrypted sops binary-format file)", p.message)
                            }
                            line => format!(
                                "{} (line {line} of the decrypted sops binary-format file)",
                                p.message
                            ),
                        },
                    })
                    .collect()),
                None => Err(vec![secret_file::FileProblem {
                    line: 0,
                    message: "sops binary-format file: `data` is not a text value".into(),
                }]),
            }
        }
        Decrypted::Plain(mut plain) => {
            let data = secret_file::data_from_mapping(&plain);
            // The decrypted tree held plaintext; the values now live in self-wiping SecretValues.
            crate::sops::wipe(&mut plain);
            data.map(|data| (data, Read::Decrypted))
        }
    }
}

/// Vault files from `(relative path, text)` pairs, for unit tests of the pure core.
#[cfg(test)]
pub(crate) fn test_files(kv: &[(&str, &str)], ac: &[(&str, &str)]) -> VaultFiles {
    let f = |list: &[(&str, &str)]| {
        list.iter()
            .map(|(rel, text)| VaultFile {
                rel: rel.to_string(),
                bytes: text.as_bytes().to_vec(),
            })
            .collect()
    };
    VaultFiles {
        kvstore: f(kv),
        access_control: Some(f(ac)),
        metadata: None,
        ..VaultFiles::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(kv: &[(&str, &str)], ac: &[(&str, &str)]) -> VaultFiles {
        test_files(kv, ac)
    }

    fn no_sops(_: &Node) -> Result<Decrypted, secret_file::FileProblem> {
        Err(secret_file::FileProblem {
            line: 0,
            message: "no keys".into(),
        })
    }

    type Files<'a> = &'a [(&'a str, &'a str)];

    fn errors(kv: &[(&str, &str)], ac: &[(&str, &str)]) -> Vec<String> {
        let (_, diags) = build(&files(kv, ac), "ns", &no_sops);
        diags.sorted().iter().map(|d| d.to_string()).collect()
    }

    #[test]
    fn collisions_name_both_files() {
        let table: &[(Files, Files, &str)] = &[
            (
                &[("kvstore/db", "a: 1"), ("kvstore/db.yaml", "a: 1")],
                &[],
                "kvstore/db.yaml: error: same secret identity \"db\" as kvstore/db",
            ),
            (
                &[("kvstore/App/DB", "a: 1"), ("kvstore/app/db", "a: 1")],
                &[],
                "kvstore/app/db: error: same Secret name \"app-db\" as kvstore/App/DB",
            ),
            (
                &[("kvstore/a_b", "a: 1"), ("kvstore/a.b.yml", "a: 1")],
                &[],
                "same Secret name \"a-b\"",
            ),
            (
                &[("kvstore/_x", "a: 1")],
                &[],
                "kvstore/_x: error: secret name \"-x\"",
            ),
            (
                &[],
                &[("access_control/bob", "x"), ("access_control/ops/bob", "x")],
                "access_control/ops/bob: error: user \"bob\" is already defined by access_control/bob",
            ),
            (
                &[],
                &[("access_control/Alice", "x")],
                "access_control/Alice: error: user name \"Alice\"",
            ),
            (
                &[],
                &[("access_control/alice.txt", "x")],
                "user name \"alice.txt\"",
            ),
            (
                &[],
                &[("access_control/alice", "ok\n!\n")],
                "access_control/alice:2: error: a bare `!`",
            ),
        ];
        for (kv, ac, needle) in table {
            let errs = errors(kv, ac);
            assert!(
                errs.iter().any(|e| e.contains(needle)),
                "{needle}: {errs:?}"
            );
        }
        let long = format!("kvstore/{}", "a".repeat(254));
        assert!(
            errors(&[(&long, "a: 1")], &[])
                .iter()
                .any(|e| e.contains("not a valid Kubernetes name"))
        );
    }

    #[test]
    fn model_is_sorted_and_named() {
        let (vault, diags) = build(
            &files(
                &[
                    ("kvstore/z.yaml", "a: 1"),
                    ("kvstore/a/b", "k: v"),
                    ("kvstore/empty", ""),
                ],
                &[
                    ("access_control/ops/bob", "a/**"),
                    ("access_control/alice", "z"),
                ],
            ),
            "ns",
            &no_sops,
        );
        let names: Vec<_> = vault
            .secrets
            .iter()
            .map(|s| (s.name.as_str(), s.identity.as_str()))
            .collect();
        assert_eq!(names, [("a-b", "a/b"), ("empty", "empty"), ("z", "z")]);
        let users: Vec<_> = vault
            .users
            .iter()
            .map(|u| (u.name.as_str(), u.source.as_str()))
            .collect();
        assert_eq!(
            users,
            [
                ("alice", "access_control/alice"),
                ("bob", "access_control/ops/bob")
            ]
        );
        assert_eq!(diags.sorted().len(), 1, "the empty file warns");
    }

    #[test]
    fn encrypted_files_go_through_the_decryptor() {
        let errs = errors(&[("kvstore/enc.yaml", "a: ENC[x]\nsops:\n  mac: m\n")], &[]);
        assert_eq!(errs, ["kvstore/enc.yaml: error: no keys"]);
    }
}
