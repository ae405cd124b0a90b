//! Opening files beneath the vault root, and nothing else: `openat2(RESOLVE_BENEATH)` with a
//! user-space fallback resolver for kernels without it, reading a regular file capped at 1 MiB
//! (refusing FIFOs, devices and files swapped in meanwhile), and listing a directory. The walk
//! (`walk.rs`) decides what to open and keeps the budgets; this file is the only one that
//! touches the file system for it.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

use rustix::fs::{FileType, Mode, OFlags, ResolveFlags, Stat};
use rustix::io::Errno;

use crate::limits::MAX_FILE_BYTES;

/// What reading one listed file gave.
pub(super) enum Fetched {
    /// The file's bytes (at most 1 MiB).
    Bytes(Vec<u8>),
    /// Refused before reading (not a regular file, too large): does not count against budgets.
    Refused(String),
    /// Reading failed.
    Failed(String),
}

pub(super) fn too_large(size: i64) -> String {
    format!("file is {size} bytes, more than the 1 MiB limit")
}

pub(super) fn not_regular(t: FileType) -> String {
    format!("not a regular file ({}); refusing to read it", kind_of(t))
}

/// Opens and reads one listed file (on a reader thread).
///
/// With `expected` (the listing `fstat`ed an `O_PATH` descriptor), the file is opened again and
/// must be the same regular file. Without it the directory reported a regular file, and the file
/// is opened for reading straight away, without blocking, and refused unless its `fstat` says
/// regular file. The open is still resolved beneath the root, so a symlink swapped in cannot
/// leave the vault; a FIFO or device swapped in is refused before any read. (Only a device node
/// created inside the vault, which takes `mknod` privileges, could be opened this way.)
pub(super) fn fetch(root: BorrowedFd, rel: &str, expected: Option<&Stat>) -> Fetched {
    let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY;
    let fd = match open_beneath(root, rel, flags) {
        Ok(fd) => fd,
        Err(e) => return Fetched::Failed(open_error(e)),
    };
    let now = match rustix::fs::fstat(&fd) {
        Ok(now) => now,
        Err(e) => return Fetched::Failed(open_error(e)),
    };
    let kind = FileType::from_raw_mode(now.st_mode);
    match expected {
        Some(expected)
            if kind != FileType::RegularFile
                || (now.st_dev, now.st_ino) != (expected.st_dev, expected.st_ino) =>
        {
            return Fetched::Failed(
                "file was replaced while being read (by a non-regular file or another file); refusing it"
                    .into(),
            );
        }
        None if kind != FileType::RegularFile => return Fetched::Refused(not_regular(kind)),
        None if now.st_size > MAX_FILE_BYTES as i64 => {
            return Fetched::Refused(too_large(now.st_size));
        }
        _ => {}
    }
    match read_capped(&fd, now.st_size) {
        Ok(bytes) if bytes.len() > MAX_FILE_BYTES => {
            Fetched::Failed("file is more than the 1 MiB limit".into())
        }
        Ok(bytes) => Fetched::Bytes(bytes),
        Err(e) => Fetched::Failed(open_error(e)),
    }
}

/// Reads an open file to its end, or to 1 MiB + 1 bytes, whichever comes first. A file whose
/// `fstat` gave a size is read until that size (one `read`, usually): a file growing meanwhile is
/// read as it was when looked at, never past the cap.
pub(super) fn read_capped(fd: &OwnedFd, size: i64) -> rustix::io::Result<Vec<u8>> {
    let expected = usize::try_from(size).unwrap_or(0).min(MAX_FILE_BYTES + 1);
    let mut bytes = vec![0u8; if expected > 0 { expected } else { 64 }];
    let mut len = 0;
    loop {
        if len == bytes.len() {
            if expected > 0 || len > MAX_FILE_BYTES {
                break;
            }
            bytes.resize((len * 2).min(MAX_FILE_BYTES + 1), 0);
        }
        match rustix::io::read(fd, &mut bytes[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(Errno::INTR) => {}
            Err(e) => return Err(e),
        }
    }
    bytes.truncate(len);
    Ok(bytes)
}

/// The entries of a directory with the type the directory reports, sorted by name bytes,
/// without `.` and `..`.
pub(super) fn list(fd: OwnedFd) -> rustix::io::Result<Vec<(Vec<u8>, FileType)>> {
    let mut dir = rustix::fs::Dir::new(fd)?;
    let mut entries = Vec::new();
    while let Some(entry) = dir.read() {
        let entry = entry?;
        let name = entry.file_name().to_bytes();
        if name != b"." && name != b".." {
            entries.push((name.to_vec(), entry.file_type()));
        }
    }
    entries.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    Ok(entries)
}

/// Set when the kernel has no usable `openat2` (before Linux 5.6, or filtered by seccomp).
static NO_OPENAT2: AtomicBool = AtomicBool::new(false);

/// Opens `rel` (a `/`-separated path) beneath `root`, following symlinks only while they stay
/// beneath it. `EXDEV` means a link leads out of the root (or is absolute), `ELOOP` a loop.
pub(super) fn open_beneath(
    root: BorrowedFd,
    rel: &str,
    flags: OFlags,
) -> rustix::io::Result<OwnedFd> {
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
pub(super) fn open_beneath_fallback(
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

pub(super) fn open_error(e: Errno) -> String {
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

pub(super) fn kind_of(t: FileType) -> &'static str {
    match t {
        FileType::Fifo => "a FIFO",
        FileType::Socket => "a socket",
        FileType::BlockDevice | FileType::CharacterDevice => "a device",
        FileType::Symlink => "a symlink",
        _ => "not a file",
    }
}

pub(super) fn errno_reason(e: Errno) -> String {
    io_reason(&std::io::Error::from(e))
}

/// An I/O error's reason without the OS error number noise.
pub(crate) fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    s.split(" (os error").next().unwrap_or(&s).to_lowercase()
}
