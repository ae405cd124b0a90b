//! Vault files from memory: a tree read from git objects (`kubevault diff git:REV`) or built by
//! a test, turned into the same [`VaultFiles`] the directory walk ([`super::walk`]) gives, by the
//! same rules: sorted walk order (each folder's entries by name bytes), entries whose name starts
//! with `.` or ends with `~` skipped, names that are not UTF-8 refused, the depth and path-length
//! caps, 1 MiB per file, the vault-wide file and byte budgets, only regular files read, and
//! symlinks followed only while they stay inside the vault (an absolute link, one that climbs
//! out, a dangling link and a loop are errors, with the walk's own messages).
//!
//! One difference, stated in the errors: a symlink to a *folder* is refused here (a git tree has
//! no folder to open; the directory walk follows one that stays inside).

use std::collections::{BTreeSet, HashMap};

use crate::diag::{Diagnostic, Diagnostics};
use crate::limits::{MAX_FILE_BYTES, MAX_PATH_BYTES, MAX_PATH_DEPTH};

use super::walk::{Budget, VaultFile, VaultFiles};

/// One entry of an in-memory tree.
#[derive(Clone)]
pub enum Entry {
    /// A regular file's bytes.
    File(Vec<u8>),
    /// A regular file not read because it is this many bytes, more than the 1 MiB cap.
    TooLarge(u64),
    /// A symlink and its target (as stored).
    Symlink(Vec<u8>),
    /// Anything else (a git submodule...): why it is not a file.
    Other(&'static str),
}

impl std::fmt::Debug for Entry {
    /// The kind and size only: a file holds secret values.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Entry::File(b) => write!(f, "File(<{} bytes>)", b.len()),
            Entry::TooLarge(n) => write!(f, "TooLarge({n})"),
            Entry::Symlink(_) => write!(f, "Symlink"),
            Entry::Other(kind) => write!(f, "Other({kind})"),
        }
    }
}

/// A vault as a list of entries, each with its path relative to the vault directory
/// (`kvstore/app/db.yaml`, `/`-separated, as bytes: git paths need not be UTF-8).
#[derive(Debug, Default)]
pub struct Tree {
    /// How the vault is named in messages (`git:main:vault`).
    pub shown: String,
    /// The entries, in any order.
    pub entries: Vec<(Vec<u8>, Entry)>,
}

/// Most symlinks expanded while resolving one path (the kernel's limit, as in the walk).
const MAX_SYMLINKS: usize = 40;

const ESCAPES: &str =
    "symlink points outside the vault directory (or is absolute); refusing to follow it";

/// Reads a tree like [`super::walk::read_vault`] reads a directory.
pub fn read_tree(tree: Tree, budget: Budget) -> (VaultFiles, Diagnostics) {
    let mut diags = Diagnostics::default();
    let mut files = VaultFiles::default();
    let mut entries = tree.entries;
    // Component-wise order is the walk's order: each folder's entries sorted by name bytes.
    entries.sort_by(|a, b| a.0.split(|&c| c == b'/').cmp(b.0.split(|&c| c == b'/')));
    let index: HashMap<Vec<u8>, usize> = entries
        .iter()
        .enumerate()
        .map(|(i, (p, _))| (p.clone(), i))
        .collect();
    let mut state = State {
        files: 0,
        bytes: 0,
        budget,
        over: false,
    };
    for top in ["kvstore", "access_control"] {
        let prefix = format!("{top}/");
        let mut exists = false;
        let mut out = Vec::new();
        let mut reported: BTreeSet<Vec<u8>> = BTreeSet::new();
        for (path, entry) in &entries {
            if path.as_slice() == top.as_bytes() {
                exists = true;
                diags.push(Diagnostic::error(top, "must be a directory"));
                continue;
            }
            if !path.starts_with(prefix.as_bytes()) {
                continue;
            }
            exists = true;
            if state.over {
                continue;
            }
            let Some(rel) = admit(path, &mut reported, &mut diags) else {
                continue;
            };
            let bytes = match resolve(&entries, &index, path, entry) {
                Ok(bytes) => bytes,
                Err(why) => {
                    diags.push(Diagnostic::error(rel, why));
                    continue;
                }
            };
            state.account(rel, bytes, &mut out, &mut diags);
        }
        match (top, exists) {
            ("kvstore", true) => files.kvstore = out,
            ("kvstore", false) => diags.push(Diagnostic::error(
                "kvstore",
                format!("the vault directory {} has no kvstore/ folder", tree.shown),
            )),
            (_, true) => files.access_control = Some(out),
            (_, false) => diags.push(Diagnostic::warning(
                "access_control",
                "no access_control/ folder: no users are rendered",
            )),
        }
    }
    // `metadata.yaml` at the root, as the walk reads it (a regular file, capped).
    if index.contains_key(b"metadata.yml".as_slice()) {
        diags.push(Diagnostic::warning(
            "metadata.yml",
            "ignored: the Secret metadata file is metadata.yaml (rename it)",
        ));
    }
    let meta = super::metadata::FILE;
    if let Some(&i) = index.get(meta.as_bytes()) {
        match resolve(&entries, &index, meta.as_bytes(), &entries[i].1) {
            Ok(bytes) => {
                files.metadata = Some(VaultFile {
                    rel: meta.to_string(),
                    bytes,
                })
            }
            Err(why) => diags.push(Diagnostic::error(meta, why)),
        }
    }
    (files, diags)
}

struct State {
    files: usize,
    bytes: usize,
    budget: Budget,
    over: bool,
}

impl State {
    fn account(
        &mut self,
        rel: String,
        bytes: Vec<u8>,
        out: &mut Vec<VaultFile>,
        diags: &mut Diagnostics,
    ) {
        if self.files >= self.budget.max_files {
            self.over = true;
            let max = self.budget.max_files;
            diags.push(Diagnostic::error(
                rel,
                format!("the vault has more than {max} files; stopped reading here"),
            ));
            return;
        }
        self.files += 1;
        self.bytes += bytes.len();
        if self.bytes > self.budget.max_bytes {
            self.over = true;
            let max = self.budget.max_bytes;
            diags.push(Diagnostic::error(
                rel,
                format!("the vault's files total more than {max} bytes; stopped reading here"),
            ));
            return;
        }
        out.push(VaultFile { rel, bytes });
    }
}

/// The path as a string when the walk would read it: `None` when it is skipped (hidden, `~`)
/// or refused (not UTF-8, too deep, too long; reported once per folder).
fn admit(path: &[u8], reported: &mut BTreeSet<Vec<u8>>, diags: &mut Diagnostics) -> Option<String> {
    let parts: Vec<&[u8]> = path.split(|&c| c == b'/').collect();
    let mut len = 0usize;
    for (depth, part) in parts.iter().enumerate() {
        len += part.len() + usize::from(depth > 0);
        let prefix = &path[..len];
        let Ok(name) = std::str::from_utf8(part) else {
            if reported.insert(prefix.to_vec()) {
                let shown = String::from_utf8_lossy(prefix).into_owned();
                diags.push(Diagnostic::error(shown, "file name is not UTF-8"));
            }
            return None;
        };
        if depth > 0 && (name.starts_with('.') || name.ends_with('~')) {
            return None;
        }
        if depth == 0 {
            continue;
        }
        let problem = if depth + 1 > MAX_PATH_DEPTH {
            Some(format!(
                "path is nested deeper than {MAX_PATH_DEPTH} levels"
            ))
        } else if len > MAX_PATH_BYTES {
            Some(format!(
                "path is {len} bytes long, more than the {MAX_PATH_BYTES}-byte limit"
            ))
        } else {
            None
        };
        if let Some(message) = problem {
            if reported.insert(prefix.to_vec()) {
                let shown = String::from_utf8_lossy(prefix).into_owned();
                diags.push(Diagnostic::error(shorten(&shown), message));
            }
            return None;
        }
    }
    String::from_utf8(path.to_vec()).ok()
}

/// The bytes of a listed entry, following symlinks inside the tree.
fn resolve(
    entries: &[(Vec<u8>, Entry)],
    index: &HashMap<Vec<u8>, usize>,
    path: &[u8],
    entry: &Entry,
) -> Result<Vec<u8>, String> {
    let mut at: Vec<u8> = path.to_vec();
    let mut entry = entry;
    for _ in 0..=MAX_SYMLINKS {
        match entry {
            Entry::File(bytes) if bytes.len() > MAX_FILE_BYTES => {
                return Err(format!(
                    "file is {} bytes, more than the 1 MiB limit",
                    bytes.len()
                ));
            }
            Entry::File(bytes) => return Ok(bytes.clone()),
            Entry::TooLarge(size) => {
                return Err(format!("file is {size} bytes, more than the 1 MiB limit"));
            }
            Entry::Other(kind) => {
                return Err(format!("not a regular file ({kind}); refusing to read it"));
            }
            Entry::Symlink(target) => {
                if target.first() == Some(&b'/') {
                    return Err(ESCAPES.into());
                }
                let mut parts: Vec<&[u8]> = at.split(|&c| c == b'/').collect();
                parts.pop();
                for comp in target.split(|&c| c == b'/') {
                    match comp {
                        b"" | b"." => {}
                        b".." => {
                            if parts.pop().is_none() {
                                return Err(ESCAPES.into());
                            }
                        }
                        other => parts.push(other),
                    }
                }
                let next = parts.join(&b'/');
                match index.get(&next) {
                    Some(&i) => {
                        entry = &entries[i].1;
                        at = next;
                    }
                    None => {
                        let mut dir = next.clone();
                        dir.push(b'/');
                        let is_dir = entries.iter().any(|(p, _)| p.starts_with(&dir));
                        return Err(if is_dir {
                            "symlink to a folder: not followed when the vault is read from git objects; link the files instead"
                                .into()
                        } else {
                            "dangling symlink (no such file or directory)".into()
                        });
                    }
                }
            }
        }
    }
    Err("symlink loop".into())
}

/// A long path cut for a message, as in the walk.
fn shorten(rel: &str) -> String {
    if rel.len() <= 200 {
        return rel.to_string();
    }
    let mut cut = 200;
    while !rel.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}...", &rel[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::walk::read_vault;
    use std::fs;
    use std::os::unix::fs::symlink;

    fn tree_of(dir: &std::path::Path) -> Tree {
        let mut entries = Vec::new();
        for e in walkdir::WalkDir::new(dir).min_depth(1) {
            let e = e.unwrap();
            let rel = e.path().strip_prefix(dir).unwrap();
            let rel = rel.to_str().unwrap().as_bytes().to_vec();
            let ft = e.file_type();
            if ft.is_symlink() {
                let t = fs::read_link(e.path()).unwrap();
                entries.push((rel, Entry::Symlink(t.to_str().unwrap().as_bytes().to_vec())));
            } else if ft.is_file() {
                entries.push((rel, Entry::File(fs::read(e.path()).unwrap())));
            }
        }
        Tree {
            shown: dir.display().to_string(),
            entries,
        }
    }

    fn summary(files: &VaultFiles, diags: &Diagnostics) -> (Vec<(String, Vec<u8>)>, Vec<String>) {
        let list = files
            .kvstore
            .iter()
            .chain(files.access_control.iter().flatten())
            .map(|f| (f.rel.clone(), f.bytes.clone()))
            .collect();
        (list, diags.sorted().iter().map(|d| d.to_string()).collect())
    }

    /// The same vault read from disk and from memory gives the same files and messages.
    #[test]
    fn memory_trees_read_like_directories() {
        let t = tempfile::tempdir().unwrap();
        let p = t.path();
        for (rel, text) in [
            ("kvstore/a-b", "k: 1\n"),
            ("kvstore/a/b.yaml", "k: 2\n"),
            ("kvstore/a/.hidden", "k: 3\n"),
            ("kvstore/.git/config", "x"),
            ("kvstore/backup~", "k: 4\n"),
            ("kvstore/z/deep/x", "k: 5\n"),
            ("access_control/ops/bob", "**\n"),
            ("access_control/alice", "a/**\n"),
            ("other/ignored", "x"),
            ("metadata.yaml", "rules: []\n"),
            ("metadata.yml", "rules: []\n"),
        ] {
            fs::create_dir_all(p.join(rel).parent().unwrap()).unwrap();
            fs::write(p.join(rel), text).unwrap();
        }
        symlink("../a-b", p.join("kvstore/a/link")).unwrap();
        symlink("../../outside", p.join("kvstore/a/escape")).unwrap();
        symlink("/etc/passwd", p.join("kvstore/a/absolute")).unwrap();
        symlink("nowhere", p.join("kvstore/a/dangling")).unwrap();
        symlink("loop", p.join("kvstore/a/loop")).unwrap();
        let deep = format!("kvstore/{}", vec!["d"; MAX_PATH_DEPTH].join("/"));
        fs::create_dir_all(p.join(&deep)).unwrap();
        fs::write(p.join(&deep).join("f"), "k: 6\n").unwrap();
        fs::write(p.join("kvstore/big"), vec![b'x'; MAX_FILE_BYTES + 1]).unwrap();
        let (disk_files, disk_diags) = read_vault(p);
        let (mem_files, mem_diags) = read_tree(tree_of(p), Budget::default());
        let disk = summary(&disk_files, &disk_diags);
        let mem = summary(&mem_files, &mem_diags);
        let meta = |f: &VaultFiles| {
            f.metadata
                .as_ref()
                .map(|m| (m.rel.clone(), m.bytes.clone()))
        };
        assert_eq!(meta(&mem_files), meta(&disk_files));
        assert!(meta(&mem_files).is_some());
        assert_eq!(mem.0, disk.0);
        assert_eq!(mem.1, disk.1);
        assert_eq!(mem.0.len(), 6, "{:?}", mem.1);
        assert!(
            mem.1.iter().any(|m| m.contains("symlink loop")),
            "{:?}",
            mem.1
        );
    }

    #[test]
    fn missing_folders_budgets_and_odd_entries() {
        let (files, diags) = read_tree(
            Tree {
                shown: "git:HEAD:vault".into(),
                entries: vec![(b"access_control".to_vec(), Entry::File(b"x".to_vec()))],
            },
            Budget::default(),
        );
        let (_, msgs) = summary(&files, &diags);
        assert_eq!(
            msgs,
            [
                "access_control: error: must be a directory",
                "kvstore: error: the vault directory git:HEAD:vault has no kvstore/ folder",
            ]
        );
        let entries = (0..5)
            .map(|i| {
                (
                    format!("kvstore/f{i}").into_bytes(),
                    Entry::File(b"k: v\n".to_vec()),
                )
            })
            .chain([
                (b"kvstore/a-sub".to_vec(), Entry::Other("a git submodule")),
                (b"kvstore/a-big".to_vec(), Entry::TooLarge(5 << 20)),
                (b"kvstore/a-\xff".to_vec(), Entry::File(Vec::new())),
                (
                    b"kvstore/dir-link".to_vec(),
                    Entry::Symlink(b"sub".to_vec()),
                ),
                (b"kvstore/sub/x".to_vec(), Entry::File(Vec::new())),
            ])
            .collect();
        let budget = Budget {
            max_files: 3,
            max_bytes: 1 << 20,
        };
        let (files, diags) = read_tree(
            Tree {
                shown: "t".into(),
                entries,
            },
            budget,
        );
        let (list, msgs) = summary(&files, &diags);
        assert_eq!(list.len(), 3);
        assert_eq!(
            msgs,
            [
                "access_control: warning: no access_control/ folder: no users are rendered",
                "kvstore/a-big: error: file is 5242880 bytes, more than the 1 MiB limit",
                "kvstore/a-sub: error: not a regular file (a git submodule); refusing to read it",
                "kvstore/a-\u{fffd}: error: file name is not UTF-8",
                "kvstore/dir-link: error: symlink to a folder: not followed when the vault is read from git objects; link the files instead",
                "kvstore/f3: error: the vault has more than 3 files; stopped reading here",
            ]
        );
    }
}
