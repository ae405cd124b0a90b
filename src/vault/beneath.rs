//! Opening beneath the vault root: every open of the walk goes through [`open_beneath`], which
//! resolves a `/`-separated path relative to the root's descriptor and never leaves it —
//! `openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)` where the kernel has it, else a
//! component-by-component resolver in user space with the same answers (`EXDEV` for a link out
//! of the root or an absolute one, `ELOOP` for a loop). Also the two reads the walk does on
//! what it opened: a file capped at 1 MiB + 1 bytes ([`read_capped`]) and a directory's sorted
//! entries ([`list`]). The walk's rules and budgets are in [`super::walk`].

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

use rustix::fs::{FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

use crate::limits::MAX_FILE_BYTES;

/// Reads an open file to its end, or to 1 MiB + 1 bytes, whichever comes first. A file whose
/// `fstat` gave a size is read until that size (one `read`, usually): a file growing meanwhile is
/// read as it was when looked at, never past the cap.
pub fn read_capped(fd: &OwnedFd, size: i64) -> rustix::io::Result<Vec<u8>> {
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
pub fn list(fd: OwnedFd) -> rustix::io::Result<Vec<(Vec<u8>, FileType)>> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::io::Read;
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
}
