//! `kubevault diff OLD NEW`: what a change to the vault does, without a single value.
//!
//! Both sides are modelled without a key ([`super::load`]). Each key of each secret gets a
//! fingerprint: a SHA-256 of its plaintext where the plaintext is known (plain files, and
//! encrypted files the operator's key opens, decrypted in memory), else of its ciphertext. Values
//! are compared only through these fingerprints, which are never printed. A key whose ciphertext
//! changed while neither side could be decrypted is "changed (encrypted)".
//!
//! Access is compared per user by identity: a secret a user may read in NEW but not in OLD is a
//! gain, the other way round a loss, each with the rule that decided (`file:line` and pattern).
//! A secret renamed (moved) keeps its readers without a gain or loss; a rename is a removed and
//! an added secret whose keys mostly carry the same fingerprints.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use sha2::{Digest, Sha256};

use crate::sops::{self, Identities};
use crate::vault::Vault;
use crate::vault::access::Grants;
use crate::vault::rules::{Rule, deciding_rule};
use crate::vault::secret_file::{self, Parsed};
use crate::vault::walk::VaultFiles;

/// A value's fingerprint: never printed.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub enum Print {
    /// SHA-256 of the plaintext.
    Plain([u8; 32]),
    /// SHA-256 of the ciphertext (the file could not be decrypted).
    Cipher([u8; 32]),
}

impl fmt::Debug for Print {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Print::Plain(_) => f.write_str("Plain(<hidden>)"),
            Print::Cipher(_) => f.write_str("Cipher(<hidden>)"),
        }
    }
}

fn sha(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The keys of one secret with their fingerprints, and whether its file is SOPS-encrypted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Keys {
    /// Key → fingerprint, sorted by key.
    pub prints: BTreeMap<String, Print>,
    /// The file is SOPS-encrypted.
    pub encrypted: bool,
}

/// One side of a diff: a valid vault modelled without a key, its grants, the fingerprints of
/// its secrets (in `vault.secrets` order) and its metadata.
pub struct Side<'a> {
    /// How the side is named (`git:main`, `vault`).
    pub label: String,
    /// The model.
    pub vault: &'a Vault,
    /// Who reads what.
    pub grants: &'a Grants,
    /// Per secret, in `vault.secrets` order.
    pub keys: Vec<Keys>,
    /// A fingerprint of `metadata.yaml` (`None`: no such file).
    pub metadata: Option<[u8; 32]>,
}

/// Fingerprints every secret of a keyless model. Encrypted files are decrypted in memory with
/// `identities` where they open; the values are dropped (and wiped) right after hashing.
/// Returns the keys in `vault.secrets` order and the sources of encrypted files that could not be
/// decrypted (compared by ciphertext).
pub fn fingerprints(
    vault: &Vault,
    files: &VaultFiles,
    identities: Option<&Identities>,
) -> (Vec<Keys>, Vec<String>) {
    let bytes: HashMap<&str, &[u8]> = files
        .kvstore
        .iter()
        .map(|f| (f.rel.as_str(), f.bytes.as_slice()))
        .collect();
    let mut sealed = Vec::new();
    let keys = vault
        .secrets
        .iter()
        .map(|secret| {
            let raw = bytes
                .get(secret.source.as_str())
                .copied()
                .unwrap_or_default();
            let encrypted = raw.starts_with(b"sops:") || memfind(raw, b"\nsops:");
            let from_data =
                |data: &secret_file::SecretData, plain: bool| -> BTreeMap<String, Print> {
                    data.iter()
                        .map(|(k, v)| {
                            let h = sha(&v.0);
                            (
                                k.clone(),
                                if plain {
                                    Print::Plain(h)
                                } else {
                                    Print::Cipher(h)
                                },
                            )
                        })
                        .collect()
                };
            if !encrypted {
                return Keys {
                    prints: from_data(&secret.data, true),
                    encrypted: false,
                };
            }
            let doc = match secret_file::parse(raw) {
                Ok(Parsed::Encrypted(doc)) => doc,
                // Not encrypted after all (`sops:` inside a block scalar): the model holds values.
                _ => {
                    return Keys {
                        prints: from_data(&secret.data, true),
                        encrypted: false,
                    };
                }
            };
            let opened = identities
                .filter(|ids| !ids.is_empty())
                .and_then(|ids| sops::decrypt(&doc, ids).ok());
            match opened {
                Some(mut plain) => {
                    let data = secret_file::data_from_mapping(&plain);
                    sops::wipe(&mut plain);
                    match data {
                        Ok(data) => Keys {
                            prints: from_data(&data, true),
                            encrypted: true,
                        },
                        Err(_) => {
                            sealed.push(secret.source.clone());
                            Keys {
                                prints: ciphertexts(&doc),
                                encrypted: true,
                            }
                        }
                    }
                }
                None => {
                    sealed.push(secret.source.clone());
                    Keys {
                        prints: ciphertexts(&doc),
                        encrypted: true,
                    }
                }
            }
        })
        .collect();
    (keys, sealed)
}

/// Fingerprints of an encrypted document's values as stored (ciphertext, or the clear text of
/// values sops left unencrypted), read from the file itself rather than from the model.
fn ciphertexts(doc: &crate::yaml::Node) -> BTreeMap<String, Print> {
    doc.as_map()
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, v)| {
            let key = k.as_str()?;
            (key != "sops").then(|| {
                let text = v.as_str().map_or_else(|| format!("{v:?}"), str::to_string);
                (key.to_string(), Print::Cipher(sha(text.as_bytes())))
            })
        })
        .collect()
}

fn memfind(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// How one key changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum KeyChange {
    /// New key.
    Added,
    /// Key gone.
    Removed,
    /// The plaintext changed.
    Changed,
    /// The ciphertext changed and no key could open it.
    ChangedEncrypted,
    /// Encrypted on one side and unreadable: not compared.
    NotCompared,
}

impl KeyChange {
    /// The word shown.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyChange::Added => "added",
            KeyChange::Removed => "removed",
            KeyChange::Changed => "changed",
            KeyChange::ChangedEncrypted => "changed (encrypted)",
            KeyChange::NotCompared => "not compared (encrypted, no key)",
        }
    }
}

/// One secret's change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretChange {
    /// What happened.
    pub kind: SecretChangeKind,
    /// The identity (NEW's for renames and changes, OLD's for removals).
    pub identity: String,
    /// The OLD identity of a renamed secret.
    pub from: Option<String>,
    /// The keys of an added or removed secret, or the changed keys of a kept or renamed one.
    pub keys: Vec<(String, Option<KeyChange>)>,
    /// `Some((old, new))` when the file's encryption changed.
    pub encryption: Option<(bool, bool)>,
    /// `Some((old, new))` when its shape changed (one-line descriptions).
    pub shape: Option<(String, String)>,
}

/// What kind of change a secret had.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SecretChangeKind {
    /// Only in NEW.
    Added,
    /// Only in OLD.
    Removed,
    /// Moved to another identity.
    Renamed,
    /// Same identity, keys, encryption or shape changed.
    Changed,
}

impl SecretChangeKind {
    /// The word shown.
    pub fn as_str(self) -> &'static str {
        match self {
            SecretChangeKind::Added => "added",
            SecretChangeKind::Removed => "removed",
            SecretChangeKind::Renamed => "renamed",
            SecretChangeKind::Changed => "changed",
        }
    }
}

/// A rule that decided, named by place and pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleRef {
    /// The access-control file, relative to the vault (`access_control/alice`).
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// The pattern, with `!` for a deny rule.
    pub pattern: String,
    /// An allow rule.
    pub allow: bool,
}

impl RuleRef {
    fn of(file: &str, rule: &Rule) -> RuleRef {
        RuleRef {
            file: file.to_string(),
            line: rule.line,
            pattern: format!("{}{}", if rule.allow { "" } else { "!" }, rule.pattern),
            allow: rule.allow,
        }
    }

    /// `access_control/alice:2 production/**`.
    pub fn show(&self) -> String {
        format!("{}:{} {}", self.file, self.line, self.pattern)
    }
}

/// A secret a user gained or lost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// The identity (NEW's where the secret exists in NEW).
    pub identity: String,
    /// The rule that decides in NEW (`None`: no rule matches, or see `why`).
    pub rule: Option<RuleRef>,
    /// The rule that decided in OLD, where the secret existed there.
    pub was: Option<RuleRef>,
    /// Why, when no rule says it: `new secret`, `secret removed`, `new user`, `user removed`,
    /// `no rule matches`.
    pub why: &'static str,
}

/// One user's access change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserAccess {
    /// The user.
    pub user: String,
    /// `added`, `removed` or `kept`.
    pub status: &'static str,
    /// The access-control file (NEW's, else OLD's).
    pub file: String,
    /// Secrets the user may read in NEW but not in OLD, by identity.
    pub gained: Vec<Grant>,
    /// Secrets the user may read in OLD but not in NEW.
    pub lost: Vec<Grant>,
    /// The rules changed (even where access did not).
    pub rules_changed: bool,
}

/// Everything that changed between two vaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diff {
    /// OLD's label.
    pub old: String,
    /// NEW's label.
    pub new: String,
    /// Secret changes, sorted by identity.
    pub secrets: Vec<SecretChange>,
    /// Per user whose access, rules or existence changed, sorted by name.
    pub users: Vec<UserAccess>,
    /// `metadata.yaml`: `added`, `removed`, `changed` or `None`.
    pub metadata: Option<&'static str>,
}

impl Diff {
    /// How many (user, secret) gains.
    pub fn gains(&self) -> usize {
        self.users.iter().map(|u| u.gained.len()).sum()
    }

    /// How many (user, secret) losses.
    pub fn losses(&self) -> usize {
        self.users.iter().map(|u| u.lost.len()).sum()
    }

    /// Secret changes of one kind.
    pub fn count(&self, kind: SecretChangeKind) -> usize {
        self.secrets.iter().filter(|s| s.kind == kind).count()
    }

    /// Users added or removed.
    pub fn users_with(&self, status: &str) -> Vec<&str> {
        self.users
            .iter()
            .filter(|u| u.status == status)
            .map(|u| u.user.as_str())
            .collect()
    }

    /// Nothing changed.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty() && self.users.is_empty() && self.metadata.is_none()
    }
}

/// Buckets with more secrets than this sharing one (key, value) do not suggest renames (a
/// `port: 5432` every database has says nothing about which one moved).
const RENAME_BUCKET: usize = 64;

fn key_changes(old: &Keys, new: &Keys) -> Vec<(String, Option<KeyChange>)> {
    let mut out = Vec::new();
    let names: BTreeSet<&String> = old.prints.keys().chain(new.prints.keys()).collect();
    for k in names {
        let change = match (old.prints.get(k), new.prints.get(k)) {
            (None, Some(_)) => Some(KeyChange::Added),
            (Some(_), None) => Some(KeyChange::Removed),
            (Some(a), Some(b)) if a == b => None,
            (Some(Print::Plain(_)), Some(Print::Plain(_))) => Some(KeyChange::Changed),
            (Some(Print::Cipher(_)), Some(Print::Cipher(_))) => Some(KeyChange::ChangedEncrypted),
            _ => Some(KeyChange::NotCompared),
        };
        if let Some(c) = change {
            out.push((k.clone(), Some(c)));
        }
    }
    out
}

/// Compares two sides.
pub fn diff(old: &Side, new: &Side) -> Diff {
    let old_ids: HashMap<&str, usize> = index(old.vault);
    let new_ids: HashMap<&str, usize> = index(new.vault);
    let mut secrets = Vec::new();
    // Shapes compare by what they give (type, labels, annotations, immutable), not by the
    // lines of the rules that gave it.
    let shape_change = |j: usize, i: usize| {
        let sa = old.vault.secrets[j].shape.describe();
        let sb = new.vault.secrets[i].shape.describe();
        (sa != sb).then_some((sa, sb))
    };
    // Kept secrets.
    for (i, s) in new.vault.secrets.iter().enumerate() {
        let Some(&j) = old_ids.get(s.identity.as_str()) else {
            continue;
        };
        let (ok, nk) = (&old.keys[j], &new.keys[i]);
        let keys = key_changes(ok, nk);
        let encryption = (ok.encrypted != nk.encrypted).then_some((ok.encrypted, nk.encrypted));
        let shape = shape_change(j, i);
        if !keys.is_empty() || encryption.is_some() || shape.is_some() {
            secrets.push(SecretChange {
                kind: SecretChangeKind::Changed,
                identity: s.identity.clone(),
                from: None,
                keys,
                encryption,
                shape,
            });
        }
    }
    let removed: Vec<usize> = (0..old.vault.secrets.len())
        .filter(|&j| !new_ids.contains_key(old.vault.secrets[j].identity.as_str()))
        .collect();
    let added: Vec<usize> = (0..new.vault.secrets.len())
        .filter(|&i| !old_ids.contains_key(new.vault.secrets[i].identity.as_str()))
        .collect();
    let renames = match_renames(old, new, &removed, &added);
    let renamed_to: HashMap<usize, usize> = renames.iter().copied().collect();
    let renamed_from: HashMap<usize, usize> = renames.iter().map(|&(j, i)| (i, j)).collect();
    for &j in &removed {
        let s = &old.vault.secrets[j];
        if let Some(&i) = renamed_to.get(&j) {
            let n = &new.vault.secrets[i];
            let (ok, nk) = (&old.keys[j], &new.keys[i]);
            secrets.push(SecretChange {
                kind: SecretChangeKind::Renamed,
                identity: n.identity.clone(),
                from: Some(s.identity.clone()),
                keys: key_changes(ok, nk),
                encryption: (ok.encrypted != nk.encrypted).then_some((ok.encrypted, nk.encrypted)),
                shape: shape_change(j, i),
            });
        } else {
            secrets.push(SecretChange {
                kind: SecretChangeKind::Removed,
                identity: s.identity.clone(),
                from: None,
                keys: old.keys[j]
                    .prints
                    .keys()
                    .map(|k| (k.clone(), None))
                    .collect(),
                encryption: None,
                shape: None,
            });
        }
    }
    for &i in &added {
        if renamed_from.contains_key(&i) {
            continue;
        }
        let s = &new.vault.secrets[i];
        secrets.push(SecretChange {
            kind: SecretChangeKind::Added,
            identity: s.identity.clone(),
            from: None,
            keys: new.keys[i]
                .prints
                .keys()
                .map(|k| (k.clone(), None))
                .collect(),
            encryption: None,
            shape: None,
        });
    }
    secrets.sort_by(|a, b| (&a.identity, a.kind).cmp(&(&b.identity, b.kind)));

    // OLD identity → the identity the secret has in NEW (itself, or its new name).
    let moved: HashMap<&str, &str> = renames
        .iter()
        .map(|&(j, i)| {
            (
                old.vault.secrets[j].identity.as_str(),
                new.vault.secrets[i].identity.as_str(),
            )
        })
        .collect();
    let users = access(old, new, &moved, &old_ids, &new_ids);
    let metadata = match (old.metadata, new.metadata) {
        (None, Some(_)) => Some("added"),
        (Some(_), None) => Some("removed"),
        (Some(a), Some(b)) if a != b => Some("changed"),
        _ => None,
    };
    Diff {
        old: old.label.clone(),
        new: new.label.clone(),
        secrets,
        users,
        metadata,
    }
}

fn index(vault: &Vault) -> HashMap<&str, usize> {
    vault
        .secrets
        .iter()
        .enumerate()
        .map(|(i, s)| (s.identity.as_str(), i))
        .collect()
}

/// Pairs removed and added secrets whose keys mostly carry the same fingerprints: more than
/// half of the larger key set, best pairs first.
fn match_renames(
    old: &Side,
    new: &Side,
    removed: &[usize],
    added: &[usize],
) -> Vec<(usize, usize)> {
    let mut buckets: HashMap<(&str, Print), Vec<usize>> = HashMap::new();
    for &i in added {
        for (k, p) in &new.keys[i].prints {
            buckets.entry((k.as_str(), *p)).or_default().push(i);
        }
    }
    let mut candidates: Vec<(usize, usize, usize)> = Vec::new();
    for &j in removed {
        let mut hits: HashMap<usize, usize> = HashMap::new();
        for (k, p) in &old.keys[j].prints {
            if let Some(list) = buckets.get(&(k.as_str(), *p))
                && list.len() <= RENAME_BUCKET
            {
                for &i in list {
                    *hits.entry(i).or_default() += 1;
                }
            }
        }
        for (i, score) in hits {
            let larger = old.keys[j].prints.len().max(new.keys[i].prints.len());
            if score * 2 > larger {
                candidates.push((score, j, i));
            }
        }
    }
    // Best score first; ties by OLD then NEW position (name order): deterministic.
    candidates.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let (mut used_old, mut used_new) = (BTreeSet::new(), BTreeSet::new());
    let mut pairs = Vec::new();
    for (_, j, i) in candidates {
        if used_old.contains(&j) || used_new.contains(&i) {
            continue;
        }
        used_old.insert(j);
        used_new.insert(i);
        pairs.push((j, i));
    }
    pairs
}

fn access(
    old: &Side,
    new: &Side,
    moved: &HashMap<&str, &str>,
    old_ids: &HashMap<&str, usize>,
    new_ids: &HashMap<&str, usize>,
) -> Vec<UserAccess> {
    let moved_back: HashMap<&str, &str> = moved.iter().map(|(a, b)| (*b, *a)).collect();
    let old_users: HashMap<&str, usize> = old
        .vault
        .users
        .iter()
        .enumerate()
        .map(|(i, u)| (u.name.as_str(), i))
        .collect();
    let new_users: HashMap<&str, usize> = new
        .vault
        .users
        .iter()
        .enumerate()
        .map(|(i, u)| (u.name.as_str(), i))
        .collect();
    let names: BTreeSet<&str> = old_users.keys().chain(new_users.keys()).copied().collect();
    let mut out = Vec::new();
    for name in names {
        let (ou, nu) = (old_users.get(name).copied(), new_users.get(name).copied());
        // What the user reads, as NEW identities where the secret still exists.
        let old_reads: BTreeMap<&str, &str> = ou
            .map(|u| {
                old.grants.readable[u]
                    .iter()
                    .map(|j| {
                        let id = old.vault.secrets[j].identity.as_str();
                        (moved.get(id).copied().unwrap_or(id), id)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let new_reads: BTreeSet<&str> = nu
            .map(|u| {
                new.grants.readable[u]
                    .iter()
                    .map(|i| new.vault.secrets[i].identity.as_str())
                    .collect()
            })
            .unwrap_or_default();
        let old_user = ou.map(|u| &old.vault.users[u]);
        let new_user = nu.map(|u| &new.vault.users[u]);
        let old_rule = |old_id: &str| {
            old_user
                .and_then(|u| deciding_rule(&u.rules, old_id).map(|r| RuleRef::of(&u.source, r)))
        };
        let new_rule = |id: &str| {
            new_user.and_then(|u| deciding_rule(&u.rules, id).map(|r| RuleRef::of(&u.source, r)))
        };
        // The OLD identity of a NEW secret, where it existed.
        let old_identity = |id: &str| -> Option<String> {
            match moved_back.get(id) {
                Some(from) => Some(from.to_string()),
                None => {
                    (old_ids.contains_key(id) && !moved.contains_key(id)).then(|| id.to_string())
                }
            }
        };
        let mut gained = Vec::new();
        for &id in new_reads.iter().filter(|id| !old_reads.contains_key(*id)) {
            let was_id = if ou.is_some() { old_identity(id) } else { None };
            let why = match (ou, &was_id) {
                (None, _) => "new user",
                (_, None) => "new secret",
                _ => "rule",
            };
            gained.push(Grant {
                identity: id.to_string(),
                rule: new_rule(id),
                was: was_id.as_deref().and_then(old_rule),
                why,
            });
        }
        let mut lost = Vec::new();
        for (&id, &old_id) in old_reads.iter().filter(|(id, _)| !new_reads.contains(*id)) {
            let exists = new_ids.contains_key(id);
            let rule = if exists { new_rule(id) } else { None };
            let why = match (nu, exists, &rule) {
                (None, ..) => "user removed",
                (_, false, _) => "secret removed",
                (_, true, None) => "no rule matches",
                _ => "rule",
            };
            lost.push(Grant {
                identity: id.to_string(),
                rule,
                was: old_rule(old_id),
                why,
            });
        }
        let rules_changed = match (old_user, new_user) {
            (Some(a), Some(b)) => a.rules != b.rules || a.source != b.source,
            _ => true,
        };
        let status = match (ou, nu) {
            (None, _) => "added",
            (_, None) => "removed",
            _ => "kept",
        };
        if gained.is_empty() && lost.is_empty() && !rules_changed {
            continue;
        }
        let file = new_user
            .or(old_user)
            .map(|u| u.source.clone())
            .unwrap_or_default();
        out.push(UserAccess {
            user: name.to_string(),
            status,
            file,
            gained,
            lost,
            rules_changed,
        });
    }
    out
}
