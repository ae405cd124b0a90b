//! Reading the vault directory from disk: sorted walk, hidden entries skipped, symlinks followed
//! only while they stay inside the vault, only regular files read, each capped at 1 MiB.
//!
//! This is the only part of the vault layer that touches the filesystem. It returns raw bytes
//! per relative path; parsing happens in the pure [`super::model`].

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, Diagnostics};
use crate::par::par_map;

use super::secret_file::MAX_BYTES;

/// One file read from the vault.
pub struct VaultFile {
    /// Path relative to the vault directory, `/`-separated (`kvstore/app/db.yaml`).
    pub rel: String,
    /// The file's bytes (at most 1 MiB).
    pub bytes: Vec<u8>,
}

/// Everything read from a vault directory.
#[derive(Default)]
pub struct VaultFiles {
    /// Files under `kvstore/`, sorted by path.
    pub kvstore: Vec<VaultFile>,
    /// Files under `access_control/`, sorted by path; `None` when the folder is missing.
    pub access_control: Option<Vec<VaultFile>>,
}

/// Reads a vault directory. `Err` holds every problem (missing folders, escaping links, files
/// too large or not regular); warnings come back with the files.
pub fn read_vault(dir: &Path) -> (VaultFiles, Diagnostics) {
    let mut diags = Diagnostics::default();
    let mut files = VaultFiles::default();
    let root = match fs::canonicalize(dir) {
        Ok(root) if root.is_dir() => root,
        Ok(_) => {
            diags.push(Diagnostic::error(
                "",
                format!("vault directory {} is not a directory", dir.display()),
            ));
            return (files, diags);
        }
        Err(e) => {
            diags.push(Diagnostic::error(
                "",
                format!(
                    "vault directory {} cannot be read: {}",
                    dir.display(),
                    io_reason(&e)
                ),
            ));
            return (files, diags);
        }
    };
    let mut walker = Walker {
        root: &root,
        diags: &mut diags,
        stack: Vec::new(),
    };
    match walker.top("kvstore") {
        Some(out) => files.kvstore = out,
        None if !walker.diags.has_errors() => walker.diags.push(Diagnostic::error(
            "kvstore",
            format!(
                "the vault directory {} has no kvstore/ folder",
                root.display()
            ),
        )),
        None => {}
    }
    files.access_control = walker.top("access_control");
    if fs::symlink_metadata(root.join("access_control")).is_err() {
        diags.push(Diagnostic::warning(
            "access_control",
            "no access_control/ folder: no users are rendered",
        ));
    }
    (files, diags)
}

struct Walker<'a> {
    root: &'a Path,
    diags: &'a mut Diagnostics,
    /// Canonical directories on the current descent, to catch symlink loops.
    stack: Vec<PathBuf>,
}

impl Walker<'_> {
    /// Walks `root/name` if it exists (following a link only inside the vault).
    fn top(&mut self, name: &str) -> Option<Vec<VaultFile>> {
        let path = self.root.join(name);
        fs::symlink_metadata(&path).ok()?;
        let real = self.resolve(&path, name)?;
        if !real.is_dir() {
            self.diags
                .push(Diagnostic::error(name, "must be a directory"));
            return None;
        }
        let mut found = Vec::new();
        self.dir(&real, name, &mut found);
        // The walk only lists; the files (independent of each other) are read on every core,
        // in sorted order.
        let read = par_map(&found, |(_, path, len)| read_capped(path, *len));
        let mut out = Vec::with_capacity(found.len());
        for ((rel, _, _), read) in found.into_iter().zip(read) {
            match read {
                Ok(bytes) if bytes.len() <= MAX_BYTES => out.push(VaultFile { rel, bytes }),
                Ok(_) => self
                    .diags
                    .push(Diagnostic::error(rel, "file is more than the 1 MiB limit")),
                Err(e) => self.diags.push(Diagnostic::error(
                    rel,
                    format!("cannot read: {}", io_reason(&e)),
                )),
            }
        }
        Some(out)
    }

    /// The canonical target of a path, or an error when it leaves the vault or dangles.
    fn resolve(&mut self, path: &Path, rel: &str) -> Option<PathBuf> {
        match fs::canonicalize(path) {
            Ok(real) if real.starts_with(self.root) => Some(real),
            Ok(_) => {
                self.diags.push(Diagnostic::error(
                    rel,
                    "symlink points outside the vault directory; refusing to follow it",
                ));
                None
            }
            Err(e) => {
                let why = if e.raw_os_error() == Some(40) {
                    "symlink loop".to_string()
                } else {
                    format!("dangling symlink ({})", io_reason(&e))
                };
                self.diags.push(Diagnostic::error(rel, why));
                None
            }
        }
    }

    fn dir(&mut self, real: &Path, rel: &str, out: &mut Vec<Found>) {
        if self.stack.iter().any(|p| p == real) {
            self.diags.push(Diagnostic::error(rel, "symlink loop"));
            return;
        }
        let entries = match fs::read_dir(real) {
            Ok(rd) => rd.collect::<Result<Vec<_>, _>>(),
            Err(e) => Err(e),
        };
        let mut entries = match entries {
            Ok(entries) => entries,
            Err(e) => {
                self.diags.push(Diagnostic::error(
                    rel,
                    format!("cannot read directory: {}", io_reason(&e)),
                ));
                return;
            }
        };
        entries.sort_by_key(|e| e.file_name());
        self.stack.push(real.to_path_buf());
        for entry in entries {
            let name = entry.file_name();
            let Some(name) = name.to_str() else {
                let shown = name.to_string_lossy().into_owned();
                self.diags.push(Diagnostic::error(
                    format!("{rel}/{shown}"),
                    "file name is not UTF-8",
                ));
                continue;
            };
            if name.starts_with('.') || name.ends_with('~') {
                continue;
            }
            let child_rel = format!("{rel}/{name}");
            self.entry(&entry.path(), &child_rel, out);
        }
        self.stack.pop();
    }

    fn entry(&mut self, path: &Path, rel: &str, out: &mut Vec<Found>) {
        let meta = match fs::symlink_metadata(path) {
            Ok(meta) => meta,
            Err(e) => {
                self.diags.push(Diagnostic::error(
                    rel,
                    format!("cannot read: {}", io_reason(&e)),
                ));
                return;
            }
        };
        let (real, meta) = if meta.file_type().is_symlink() {
            let Some(real) = self.resolve(path, rel) else {
                return;
            };
            match fs::metadata(&real) {
                Ok(meta) => (real, meta),
                Err(e) => {
                    self.diags.push(Diagnostic::error(
                        rel,
                        format!("cannot read: {}", io_reason(&e)),
                    ));
                    return;
                }
            }
        } else {
            (path.to_path_buf(), meta)
        };
        if meta.is_dir() {
            self.dir(&real, rel, out);
        } else if meta.is_file() {
            if meta.len() > MAX_BYTES as u64 {
                self.diags.push(Diagnostic::error(
                    rel,
                    format!("file is {} bytes, more than the 1 MiB limit", meta.len()),
                ));
                return;
            }
            out.push((rel.to_string(), real, meta.len()));
        } else {
            self.diags.push(Diagnostic::error(
                rel,
                format!(
                    "not a regular file ({}); refusing to read it",
                    kind_of(&meta)
                ),
            ));
        }
    }
}

/// A regular file found by the walk: relative path, real path, size when listed.
type Found = (String, PathBuf, u64);

fn read_capped(path: &Path, len: u64) -> std::io::Result<Vec<u8>> {
    // Room for the listed size and one byte more, so a file that grew still hits the cap.
    let mut bytes = Vec::with_capacity(len.min(MAX_BYTES as u64) as usize + 1);
    fs::File::open(path)?
        .take(MAX_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn kind_of(meta: &fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else {
        "not a file"
    }
}

/// An I/O error's reason without the OS error number noise.
pub(crate) fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    s.split(" (os error").next().unwrap_or(&s).to_lowercase()
}
