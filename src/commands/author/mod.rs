//! Authoring commands (SPEC §11): `set`, `unset`, `rm`, `edit`, `encrypt`, `rekey`,
//! `who-can-decrypt` and `show`. They read and write secret files through [`crate::sops::Opened`]
//! (one SOPS format module, both ways), pick recipients and value rules from the nearest
//! `.sops.yaml`, and write with [`fsio`] (atomic, no symlinks). Messages name files and keys,
//! never values.

pub mod edit;
pub mod fsio;
pub mod inspect;
pub mod keys;
pub mod set;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};

use crate::exit::Exit;
use crate::report::Report;
use crate::sops::creation::{CreationRule, SopsConfig};
use crate::sops::{Encryption, Identities, Opened};
use fsio::VaultDir;

/// The vault an authoring command works on.
pub struct Target {
    /// The vault directory (absolute).
    pub dir: PathBuf,
    /// The opened vault directory.
    pub fs: VaultDir,
    age_key_file: Option<PathBuf>,
    configs: HashMap<PathBuf, Option<SopsConfig>>,
}

impl Target {
    /// Opens the vault named on the command line.
    pub fn open(
        vault_dir: &Path,
        age_key_file: Option<&Path>,
        cwd: &Path,
    ) -> anyhow::Result<Target> {
        let dir = crate::config::normalize(&cwd.join(vault_dir));
        if !dir.join("kvstore").is_dir() {
            bail!(
                "{}: no kvstore/ folder here; pass --vault-dir, or create one with `kubevault new`",
                dir.display()
            );
        }
        Ok(Target {
            fs: VaultDir::open(&dir)?,
            age_key_file: age_key_file.map(|f| crate::config::normalize(&cwd.join(f))),
            dir,
            configs: HashMap::new(),
        })
    }

    /// The age identities (sops' lookup plus `--age-key-file`).
    pub fn identities(&self) -> anyhow::Result<Identities> {
        crate::sops::load_identities(self.age_key_file.as_deref(), &|k| std::env::var(k).ok())
            .map_err(|e| anyhow::anyhow!("{e}"))
    }

    /// The creation rule that covers `rel` (a vault-relative path), with its `.sops.yaml`.
    pub fn rule_for(&mut self, rel: &str) -> anyhow::Result<Option<(PathBuf, CreationRule)>> {
        let file = self.dir.join(rel);
        let parent = file.parent().map(Path::to_path_buf).unwrap_or_default();
        if !self.configs.contains_key(&parent) {
            let found = SopsConfig::find(&file).map_err(|e| anyhow::anyhow!("{e}"))?;
            self.configs.insert(parent.clone(), found);
        }
        Ok(self.configs[&parent].as_ref().and_then(|config| {
            config
                .rule_for(&file)
                .map(|rule| (config.path.clone(), rule.clone()))
        }))
    }
}

/// Checks an identity given on the command line: a plain relative path of visible names.
pub fn check_identity(identity: &str) -> anyhow::Result<()> {
    let bad = identity.is_empty()
        || identity.starts_with('/')
        || identity.ends_with('/')
        || identity.split('/').any(|part| {
            part.is_empty() || part.starts_with('.') || part.ends_with('~') || part.contains('\0')
        });
    if bad {
        bail!(
            "`{identity}` is not a secret identity: use its path under kvstore/ without .yaml \
             (`production/payments/db`); no `.`-names, no `..`"
        );
    }
    Ok(())
}

/// The vault-relative path of an existing secret file for `identity`, if one exists.
pub fn existing(target: &Target, identity: &str) -> anyhow::Result<Option<String>> {
    check_identity(identity)?;
    let found: Vec<String> = [".yaml", ".yml", ""]
        .iter()
        .map(|ext| format!("kvstore/{identity}{ext}"))
        .filter(|rel| target.fs.exists(rel))
        .collect();
    match found.len() {
        0 => Ok(None),
        1 => Ok(found.into_iter().next()),
        _ => bail!(
            "{} files have the identity {identity}: {}; keep one",
            found.len(),
            found.join(", ")
        ),
    }
}

/// Opens a secret file, decrypting it when it is encrypted (`identities` loaded on demand).
pub fn open_file(
    target: &Target,
    rel: &str,
    identities: &mut Option<Identities>,
) -> anyhow::Result<Opened> {
    let bytes = target
        .fs
        .read(rel)?
        .with_context(|| format!("{rel}: no such file"))?;
    let binary = is_binary_format(rel, &bytes);
    let text = String::from_utf8(bytes).map_err(|_| anyhow::anyhow!("{rel}: not UTF-8"))?;
    if binary {
        if identities.is_none() {
            *identities = Some(target.identities()?);
        }
        let keys = identities.as_ref().expect("loaded above");
        return Opened::open_binary(&text, keys).map_err(|e| anyhow::anyhow!("{rel}: {e}"));
    }
    let needs_key = crate::yaml::parse_stream(&text, &crate::yaml::Limits::default())
        .ok()
        .and_then(|docs| docs.into_iter().find(|d| !d.is_null()))
        .is_some_and(|doc| crate::sops::is_encrypted(&doc));
    if needs_key && identities.is_none() {
        *identities = Some(target.identities()?);
    }
    Opened::open(&text, identities.as_ref().filter(|_| needs_key))
        .map_err(|e| anyhow::anyhow!("{rel}: {e}"))
}

/// True for a file in sops' binary format (what `sops encrypt` makes of a file whose name has
/// no `.yaml` extension: the whole secret file as one encrypted value, in JSON): it is opened
/// with [`Opened::open_binary`] and written back in that format, so sops still reads it.
pub fn is_binary_format(rel: &str, bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|text| crate::yaml::parse_stream(text, &Default::default()).ok())
        .and_then(|docs| docs.into_iter().find(|d| !d.is_null()))
        .is_some_and(|doc| crate::sops::is_binary_format(rel, bytes, &doc))
}

/// What a creation rule says about encryption.
pub fn encryption_of(rule: &CreationRule) -> Encryption {
    Encryption {
        recipients: rule.age.clone(),
        selector: rule.selector.clone(),
        mac_only_encrypted: rule.mac_only_encrypted,
    }
}

/// A report with lines for stderr and an exit code.
pub fn report(messages: Vec<String>, exit: Exit) -> Report {
    Report {
        stdout: Vec::new(),
        messages,
        exit,
    }
}

/// Every secret file under the given paths (files or folders, relative to `cwd`), or under
/// `kvstore/` when none is given, as vault-relative paths, sorted. Symlinks are skipped.
pub fn files_under(target: &Target, paths: &[PathBuf], cwd: &Path) -> anyhow::Result<Vec<String>> {
    let kvstore = target.dir.join("kvstore");
    let roots: Vec<PathBuf> = if paths.is_empty() {
        vec![kvstore.clone()]
    } else {
        paths
            .iter()
            .map(|p| crate::config::normalize(&cwd.join(p)))
            .collect()
    };
    let mut out = Vec::new();
    for root in roots {
        if !root.starts_with(&kvstore) {
            bail!(
                "{}: not inside the vault's kvstore/ ({})",
                root.display(),
                kvstore.display()
            );
        }
        if !root.exists() {
            bail!("{}: no such file or folder", root.display());
        }
        for entry in walkdir::WalkDir::new(&root)
            .follow_links(false)
            .sort_by_file_name()
        {
            let entry = entry.with_context(|| format!("cannot walk {}", root.display()))?;
            let name = entry.file_name().to_string_lossy();
            let hidden = entry.depth() > 0 && (name.starts_with('.') || name.ends_with('~'));
            if hidden {
                continue;
            }
            if entry.file_type().is_file() {
                let rel = entry
                    .path()
                    .strip_prefix(&target.dir)
                    .unwrap_or(entry.path())
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                if rel.split('/').any(|p| p.starts_with('.')) {
                    continue;
                }
                out.push(rel);
            }
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Dispatches one authoring command.
pub fn run(command: crate::cli::Command, cwd: &Path) -> anyhow::Result<Report> {
    use crate::cli::Command;
    let vault = match &command {
        Command::Set(a) => &a.vault,
        Command::Unset(a) => &a.vault,
        Command::Rm(a) => &a.vault,
        Command::Edit(a) => &a.vault,
        Command::Encrypt(a) => &a.vault,
        Command::Rekey(a) => &a.vault,
        Command::WhoCanDecrypt(a) => &a.vault,
        Command::Show(a) => &a.vault,
        _ => bail!("not an authoring command"),
    };
    let mut target = Target::open(&vault.vault_dir, vault.age_key_file.as_deref(), cwd)?;
    match &command {
        Command::Set(a) => set::set(
            &mut target,
            &set::SetOptions {
                identity: &a.identity,
                assignments: &a.assignments,
                plaintext: a.plaintext,
            },
            cwd,
        ),
        Command::Unset(a) => set::unset(&mut target, &a.identity, &a.keys),
        Command::Rm(a) => set::rm(&mut target, &a.identity),
        Command::Edit(a) => edit::edit(&mut target, &a.identity),
        Command::Encrypt(a) => keys::encrypt(&mut target, &a.paths, cwd),
        Command::Rekey(a) => keys::rekey(&mut target, &a.paths, a.rotate, cwd),
        Command::WhoCanDecrypt(a) => inspect::who_can_decrypt(&mut target, a.which.as_deref(), cwd),
        Command::Show(a) => inspect::show(&mut target, &a.identity, a.key.as_deref(), a.force),
        _ => bail!("not an authoring command"),
    }
}
