//! Reading the vault directory from disk: sorted walk, hidden entries skipped, symlinks followed
//! only while they stay inside the vault, only regular files read, each capped at 1 MiB.
//!
//! This is the only part of the vault layer that touches the filesystem. It returns raw bytes
//! per relative path; parsing happens in the pure [`super::model`].
//!
//! Every open is relative to a file descriptor of the vault root and resolved *beneath* it:
//! `openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)` where the kernel has it, else a
//! component-by-component walk with `O_NOFOLLOW` that expands symlinks itself and refuses any
//! that climbs above the root or is absolute. So a symlink swapped between a check and the open
//! still cannot pull a file from outside the vault. A file is first opened with `O_PATH` (which
//! never opens a device or FIFO for reading), `fstat`ed, and only a regular file is opened
//! again for reading, with `O_NONBLOCK | O_NOCTTY`, `fstat`ed again and required to be the same
//! inode: a FIFO or device swapped in between is refused without blocking.

use std::fs;
use std::io::Read;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use rustix::fs::{FileType, Mode, OFlags, ResolveFlags, Stat};
use rustix::io::Errno;

use crate::diag::{Diagnostic, Diagnostics};
use crate::limits::{MAX_FILE_BYTES, MAX_FILES, MAX_PATH_BYTES, MAX_PATH_DEPTH, MAX_VAULT_BYTES};

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

/// Vault-wide caps on what one run reads.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Most files read.
    pub max_files: usize,
    /// Most bytes read, all files together.
    pub max_bytes: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            max_files: MAX_FILES,
            max_bytes: MAX_VAULT_BYTES,
        }
    }
}

/// Reads a vault directory. The diagnostics hold every problem (missing folders, escaping
/// links, files too large or not regular, unreadable entries, broken limits) and warnings.
pub fn read_vault(dir: &Path) -> (VaultFiles, Diagnostics) {
    read_vault_within(dir, Budget::default())
}

/// [`read_vault`] with explicit vault-wide caps.
pub fn read_vault_within(dir: &Path, budget: Budget) -> (VaultFiles, Diagnostics) {
    let mut diags = Diagnostics::default();
    let mut files = VaultFiles::default();
    let shown = fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let root = match rustix::fs::open(
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
        Mode::empty(),
    ) {
        Ok(fd) => fd,
        Err(Errno::NOTDIR) => {
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
                    errno_reason(e)
                ),
            ));
            return (files, diags);
        }
    };
    let mut walker = Walker {
        root: root.as_fd(),
        diags: &mut diags,
        stack: Vec::new(),
        files: 0,
        bytes: 0,
        budget,
        over_budget: false,
    };
    match walker.top("kvstore") {
        Top::Read(out) => files.kvstore = out,
        Top::Missing => walker.diags.push(Diagnostic::error(
            "kvstore",
            format!(
                "the vault directory {} has no kvstore/ folder",
                shown.display()
            ),
        )),
        Top::Failed => {}
    }
    match walker.top("access_control") {
        Top::Read(out) => files.access_control = Some(out),
        Top::Missing => diags.push(Diagnostic::warning(
            "access_control",
            "no access_control/ folder: no users are rendered",
        )),
        Top::Failed => files.access_control = Some(Vec::new()),
    }
    (files, diags)
}

enum Top {
    Read(Vec<VaultFile>),
    Missing,
    Failed,
}

struct Walker<'a> {
    root: BorrowedFd<'a>,
    diags: &'a mut Diagnostics,
    /// `(device, inode)` of the directories on the current descent, to catch symlink loops.
    stack: Vec<(u64, u64)>,
    /// Files read so far.
    files: usize,
    /// Bytes read so far.
    bytes: usize,
    /// The vault-wide caps.
    budget: Budget,
    /// Set once a vault-wide budget is exhausted (reported once).
    over_budget: bool,
}

impl Walker<'_> {
    /// Walks `root/name` if it exists (following a link only inside the vault).
    fn top(&mut self, name: &str) -> Top {
        match rustix::fs::statat(self.root, name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW) {
            Err(Errno::NOENT) => return Top::Missing,
            Err(e) => {
                self.error(name, format!("cannot read: {}", errno_reason(e)));
                return Top::Failed;
            }
            Ok(_) => {}
        }
        let Some((fd, stat)) = self.open_path(name) else {
            return Top::Failed;
        };
        if FileType::from_raw_mode(stat.st_mode) != FileType::Directory {
            self.error(name, "must be a directory".into());
            return Top::Failed;
        }
        let mut out = Vec::new();
        self.dir(fd.as_fd(), &stat, name, 1, &mut out);
        Top::Read(out)
    }

    fn error(&mut self, rel: &str, message: String) {
        self.diags.push(Diagnostic::error(rel, message));
    }

    /// Opens `rel` with `O_PATH` beneath the root and `fstat`s it; reports why not.
    fn open_path(&mut self, rel: &str) -> Option<(OwnedFd, Stat)> {
        let opened = open_beneath(self.root, rel, OFlags::PATH)
            .and_then(|fd| rustix::fs::fstat(&fd).map(|st| (fd, st)));
        match opened {
            Ok(pair) => Some(pair),
            Err(e) => {
                self.error(rel, open_error(e));
                None
            }
        }
    }

    fn dir(
        &mut self,
        path_fd: BorrowedFd,
        stat: &Stat,
        rel: &str,
        depth: usize,
        out: &mut Vec<VaultFile>,
    ) {
        let id = (stat.st_dev, stat.st_ino);
        if self.stack.contains(&id) {
            self.error(rel, "symlink loop".into());
            return;
        }
        // Re-open the very directory the O_PATH descriptor names: no second path resolution.
        let listed = rustix::fs::openat(
            path_fd,
            ".",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .and_then(list);
        let names = match listed {
            Ok(names) => names,
            Err(e) => {
                self.error(rel, format!("cannot read directory: {}", errno_reason(e)));
                return;
            }
        };
        self.stack.push(id);
        for name in names {
            let Ok(name) = String::from_utf8(name.clone()) else {
                let shown = String::from_utf8_lossy(&name).into_owned();
                self.error(&format!("{rel}/{shown}"), "file name is not UTF-8".into());
                continue;
            };
            if name.starts_with('.') || name.ends_with('~') {
                continue;
            }
            let child = format!("{rel}/{name}");
            if depth + 1 > MAX_PATH_DEPTH {
                self.error(
                    &shorten(&child),
                    format!("path is nested deeper than {MAX_PATH_DEPTH} levels"),
                );
                continue;
            }
            if child.len() > MAX_PATH_BYTES {
                self.error(
                    &shorten(&child),
                    format!(
                        "path is {} bytes long, more than the {MAX_PATH_BYTES}-byte limit",
                        child.len()
                    ),
                );
                continue;
            }
            if self.over_budget {
                break;
            }
            self.entry(&child, depth + 1, out);
        }
        self.stack.pop();
    }

    fn entry(&mut self, rel: &str, depth: usize, out: &mut Vec<VaultFile>) {
        let Some((path_fd, stat)) = self.open_path(rel) else {
            return;
        };
        match FileType::from_raw_mode(stat.st_mode) {
            FileType::Directory => self.dir(path_fd.as_fd(), &stat, rel, depth, out),
            FileType::RegularFile => self.file(rel, &stat, out),
            other => self.error(
                rel,
                format!(
                    "not a regular file ({}); refusing to read it",
                    kind_of(other)
                ),
            ),
        }
    }

    fn file(&mut self, rel: &str, stat: &Stat, out: &mut Vec<VaultFile>) {
        if stat.st_size > MAX_FILE_BYTES as i64 {
            self.error(
                rel,
                format!("file is {} bytes, more than the 1 MiB limit", stat.st_size),
            );
            return;
        }
        if self.files >= self.budget.max_files {
            self.over_budget = true;
            self.error(
                rel,
                format!(
                    "the vault has more than {} files; stopped reading here",
                    self.budget.max_files
                ),
            );
            return;
        }
        let bytes = match read_regular(self.root, rel, stat) {
            Ok(bytes) => bytes,
            Err(ReadError::Io(e)) => {
                self.error(rel, open_error(e));
                return;
            }
            Err(ReadError::Changed) => {
                self.error(
                    rel,
                    "file was replaced while being read (by a non-regular file or another file); refusing it"
                        .into(),
                );
                return;
            }
        };
        if bytes.len() > MAX_FILE_BYTES {
            self.error(rel, "file is more than the 1 MiB limit".into());
            return;
        }
        self.files += 1;
        self.bytes += bytes.len();
        if self.bytes > self.budget.max_bytes {
            self.over_budget = true;
            self.error(
                rel,
                format!(
                    "the vault's files total more than {} bytes; stopped reading here",
                    self.budget.max_bytes
                ),
            );
            return;
        }
        out.push(VaultFile {
            rel: rel.to_string(),
            bytes,
        });
    }
}

enum ReadError {
    Io(Errno),
    Changed,
}

/// Opens a regular file for reading without blocking and reads at most 1 MiB + 1 bytes. The
/// opened file must still be a regular file and the same inode as `expected`.
fn read_regular(root: BorrowedFd, rel: &str, expected: &Stat) -> Result<Vec<u8>, ReadError> {
    let fd = open_beneath(
        root,
        rel,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY,
    )
    .map_err(ReadError::Io)?;
    let now = rustix::fs::fstat(&fd).map_err(ReadError::Io)?;
    if FileType::from_raw_mode(now.st_mode) != FileType::RegularFile
        || (now.st_dev, now.st_ino) != (expected.st_dev, expected.st_ino)
    {
        return Err(ReadError::Changed);
    }
    let mut bytes = Vec::new();
    fs::File::from(fd)
        .take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| ReadError::Io(Errno::from_io_error(&e).unwrap_or(Errno::IO)))?;
    Ok(bytes)
}

/// The entry names of a directory, sorted by bytes, without `.` and `..`.
fn list(fd: OwnedFd) -> rustix::io::Result<Vec<Vec<u8>>> {
    let mut dir = rustix::fs::Dir::new(fd)?;
    let mut names = Vec::new();
    while let Some(entry) = dir.read() {
        let name = entry?.file_name().to_bytes().to_vec();
        if name != b"." && name != b".." {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// Set when the kernel has no usable `openat2` (before Linux 5.6, or filtered by seccomp).
static NO_OPENAT2: AtomicBool = AtomicBool::new(false);

/// Opens `rel` (a `/`-separated path) beneath `root`, following symlinks only while they stay
/// beneath it. `EXDEV` means a link leads out of the root (or is absolute), `ELOOP` a loop.
pub fn open_beneath(root: BorrowedFd, rel: &str, flags: OFlags) -> rustix::io::Result<OwnedFd> {
    if !NO_OPENAT2.load(Ordering::Relaxed) {
        for _ in 0..16 {
            match rustix::fs::openat2(
                root,
                rel,
                flags | OFlags::CLOEXEC,
                Mode::empty(),
                ResolveFlags::BENEATH | ResolveFlags::NO_MAGICLINKS,
            ) {
                // The kernel asks for a retry when a rename raced with `..` resolution.
                Err(Errno::AGAIN) => continue,
                Err(Errno::NOSYS | Errno::PERM) => {
                    NO_OPENAT2.store(true, Ordering::Relaxed);
                    break;
                }
                other => return other,
            }
        }
        if !NO_OPENAT2.load(Ordering::Relaxed) {
            return Err(Errno::AGAIN);
        }
    }
    open_beneath_fallback(root, rel, flags)
}

/// Most symlinks expanded while resolving one path (the kernel's limit too).
const MAX_SYMLINKS: usize = 40;

/// `openat2(RESOLVE_BENEATH)` in user space: each component is opened with `O_NOFOLLOW`
/// relative to its parent's descriptor; symlinks are read and expanded here, `..` pops our own
/// stack of descriptors and may never climb above `root`; absolute links are refused.
fn open_beneath_fallback(
    root: BorrowedFd,
    rel: &str,
    flags: OFlags,
) -> rustix::io::Result<OwnedFd> {
    let mut stack: Vec<OwnedFd> = Vec::new();
    let mut queue: std::collections::VecDeque<Vec<u8>> =
        rel.split('/').map(|c| c.as_bytes().to_vec()).collect();
    if rel.starts_with('/') {
        return Err(Errno::XDEV);
    }
    let mut links = 0usize;
    while let Some(comp) = queue.pop_front() {
        if comp.is_empty() || comp == b"." {
            continue;
        }
        if comp == b".." {
            if stack.pop().is_none() {
                return Err(Errno::XDEV);
            }
            continue;
        }
        let cur = stack.last().map_or(root, |fd| fd.as_fd());
        match rustix::fs::readlinkat(cur, comp.as_slice(), Vec::new()) {
            Ok(target) => {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(Errno::LOOP);
                }
                let target = target.into_bytes();
                if target.first() == Some(&b'/') {
                    return Err(Errno::XDEV);
                }
                for part in target.rsplit(|&b| b == b'/') {
                    queue.push_front(part.to_vec());
                }
                continue;
            }
            Err(Errno::INVAL) => {} // not a symlink
            Err(e) => return Err(e),
        }
        let last = queue.iter().all(|c| c.is_empty() || c == b".");
        if last {
            return rustix::fs::openat(
                cur,
                comp.as_slice(),
                flags | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            );
        }
        let next = rustix::fs::openat(
            cur,
            comp.as_slice(),
            OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        stack.push(next);
    }
    // The path named a directory (`.`, or it ended in `..`): open that directory itself.
    let cur = stack.last().map_or(root, |fd| fd.as_fd());
    rustix::fs::openat(cur, ".", flags | OFlags::CLOEXEC, Mode::empty())
}

fn open_error(e: Errno) -> String {
    match e {
        Errno::XDEV => {
            "symlink points outside the vault directory (or is absolute); refusing to follow it"
                .into()
        }
        Errno::LOOP => "symlink loop".into(),
        Errno::NOENT => "dangling symlink (no such file or directory)".into(),
        other => format!("cannot read: {}", errno_reason(other)),
    }
}

fn kind_of(t: FileType) -> &'static str {
    match t {
        FileType::Fifo => "a FIFO",
        FileType::Socket => "a socket",
        FileType::BlockDevice | FileType::CharacterDevice => "a device",
        FileType::Symlink => "a symlink",
        _ => "not a file",
    }
}

/// A long path cut for a message (the full path may be kilobytes of hostile text).
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

fn errno_reason(e: Errno) -> String {
    io_reason(&std::io::Error::from(e))
}

/// An I/O error's reason without the OS error number noise.
pub(crate) fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    s.split(" (os error").next().unwrap_or(&s).to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    /// A tree with links inside, out, absolute, dangling, looping and climbing.
    fn tree() -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        let p = t.path();
        fs::create_dir_all(p.join("root/a/b")).unwrap();
        fs::create_dir_all(p.join("outside")).unwrap();
        fs::write(p.join("root/a/b/file"), "in").unwrap();
        fs::write(p.join("outside/file"), "out").unwrap();
        symlink("b/file", p.join("root/a/rel")).unwrap();
        symlink("../a/b", p.join("root/a/up")).unwrap();
        symlink("../../outside/file", p.join("root/a/escape")).unwrap();
        symlink(p.join("root/a/b/file"), p.join("root/a/absolute")).unwrap();
        symlink("nowhere", p.join("root/a/dangling")).unwrap();
        symlink("loop", p.join("root/a/loop")).unwrap();
        symlink("a", p.join("root/dir")).unwrap();
        t
    }

    fn read(root: BorrowedFd, rel: &str, fallback: bool) -> Result<String, Errno> {
        let fd = if fallback {
            open_beneath_fallback(root, rel, OFlags::RDONLY)?
        } else {
            open_beneath(root, rel, OFlags::RDONLY)?
        };
        let mut s = String::new();
        fs::File::from(fd).read_to_string(&mut s).unwrap();
        Ok(s)
    }

    #[test]
    fn both_resolvers_agree() {
        let t = tree();
        let root = rustix::fs::open(
            t.path().join("root"),
            OFlags::RDONLY | OFlags::DIRECTORY,
            Mode::empty(),
        )
        .unwrap();
        let table: &[(&str, Result<&str, Errno>)] = &[
            ("a/b/file", Ok("in")),
            ("a/rel", Ok("in")),
            ("a/up/file", Ok("in")),
            ("dir/b/file", Ok("in")),
            ("dir/up/../b/file", Ok("in")),
            ("a/escape", Err(Errno::XDEV)),
            ("a/absolute", Err(Errno::XDEV)),
            ("../outside/file", Err(Errno::XDEV)),
            ("a/../../outside/file", Err(Errno::XDEV)),
            ("a/dangling", Err(Errno::NOENT)),
            ("a/loop", Err(Errno::LOOP)),
        ];
        for fallback in [false, true] {
            for (rel, want) in table {
                let got = read(root.as_fd(), rel, fallback);
                assert_eq!(
                    got.as_deref().map_err(|e| *e),
                    want.as_deref().map_err(|e| *e),
                    "{rel} (fallback: {fallback})"
                );
            }
        }
    }

    #[test]
    fn fifos_are_refused_without_blocking() {
        let t = tempfile::tempdir().unwrap();
        fs::create_dir_all(t.path().join("kvstore")).unwrap();
        let fifo = t.path().join("kvstore/fifo");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let root =
            rustix::fs::open(t.path(), OFlags::RDONLY | OFlags::DIRECTORY, Mode::empty()).unwrap();
        // A regular file's stat, as if the FIFO had been swapped in after the check.
        fs::write(t.path().join("plain"), "x").unwrap();
        let plain = rustix::fs::stat(t.path().join("plain")).unwrap();
        assert!(matches!(
            read_regular(root.as_fd(), "kvstore/fifo", &plain),
            Err(ReadError::Changed)
        ));
        let (_, diags) = read_vault(t.path());
        let msgs: Vec<String> = diags.sorted().iter().map(|d| d.to_string()).collect();
        assert!(
            msgs.iter()
                .any(|m| m
                    == "kvstore/fifo: error: not a regular file (a FIFO); refusing to read it"),
            "{msgs:?}"
        );
    }

    #[test]
    fn vault_wide_budgets_stop_reading() {
        let t = tempfile::tempdir().unwrap();
        fs::create_dir_all(t.path().join("kvstore/many")).unwrap();
        fs::create_dir_all(t.path().join("access_control")).unwrap();
        let budget = Budget {
            max_files: 10,
            max_bytes: 3 * MAX_FILE_BYTES,
        };
        for i in 0..=budget.max_files {
            fs::write(t.path().join(format!("kvstore/many/f{i:05}")), "").unwrap();
        }
        let (files, diags) = read_vault_within(t.path(), budget);
        assert_eq!(files.kvstore.len(), budget.max_files);
        let msgs: Vec<String> = diags.sorted().iter().map(|d| d.to_string()).collect();
        assert_eq!(
            msgs,
            ["kvstore/many/f00010: error: the vault has more than 10 files; stopped reading here"]
        );

        let t = tempfile::tempdir().unwrap();
        fs::create_dir_all(t.path().join("kvstore")).unwrap();
        fs::create_dir_all(t.path().join("access_control")).unwrap();
        let big = vec![b'x'; MAX_FILE_BYTES];
        for i in 0..=budget.max_bytes / MAX_FILE_BYTES {
            fs::write(t.path().join(format!("kvstore/big{i:02}")), &big).unwrap();
        }
        let (_, diags) = read_vault_within(t.path(), budget);
        let msgs: Vec<String> = diags.sorted().iter().map(|d| d.to_string()).collect();
        assert_eq!(
            msgs,
            [
                "kvstore/big03: error: the vault's files total more than 3145728 bytes; stopped reading here"
            ]
        );
    }
}
