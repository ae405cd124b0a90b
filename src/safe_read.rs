//! Reading a file named by configuration that may be hostile (a `.sops.yaml` in a pull request,
//! a key file path in a functionConfig): only a regular file is read, never blocking, at most a
//! given size. The path is first opened with `O_PATH` (which opens no FIFO or device for I/O)
//! and `fstat`ed; only a regular file within the limit is then opened for reading
//! (`O_NONBLOCK | O_NOCTTY`), and it must still be that same file. So `/dev/stdout`, a FIFO, a
//! terminal or `/dev/zero` is refused at once. Messages name no content.

use std::io::Read;
use std::path::Path;

use rustix::fs::{FileType, Mode, OFlags, Stat};
use zeroize::Zeroizing;

/// The bytes of the regular file at `path` (a symlink to one is followed), zeroed when dropped
/// (a key file holds private keys), or why not: `cannot open: ...`, `is a directory`, `not a
/// regular file ...`, `larger than N bytes`, `cannot read`.
pub fn read_regular(path: &Path, limit: u64) -> Result<Zeroizing<Vec<u8>>, String> {
    let errno = |e: rustix::io::Errno| reason(&std::io::Error::from(e));
    let looked = rustix::fs::open(path, OFlags::PATH | OFlags::CLOEXEC, Mode::empty())
        .and_then(|fd| rustix::fs::fstat(&fd))
        .map_err(|e| format!("cannot open: {}", errno(e)))?;
    regular(&looked)?;
    let too_large = || format!("larger than {limit} bytes");
    if looked.st_size as u64 > limit {
        return Err(too_large());
    }
    let fd = rustix::fs::open(
        path,
        OFlags::RDONLY | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| format!("cannot open: {}", errno(e)))?;
    let now = rustix::fs::fstat(&fd).map_err(|e| format!("cannot read: {}", errno(e)))?;
    regular(&now)?;
    if (now.st_dev, now.st_ino) != (looked.st_dev, looked.st_ino) {
        return Err("the file was replaced while being read; refusing it".into());
    }
    let mut bytes = Zeroizing::new(Vec::new());
    std::fs::File::from(fd)
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {}", reason(&e)))?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

fn regular(stat: &Stat) -> Result<(), String> {
    match FileType::from_raw_mode(stat.st_mode) {
        FileType::RegularFile => Ok(()),
        FileType::Directory => Err("is a directory".into()),
        _ => Err("not a regular file (a FIFO, socket or device); refusing to read it".into()),
    }
}

/// The OS reason without the path (callers print the path themselves).
fn reason(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "is a directory".into(),
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_regular_files_within_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, "abc").unwrap();
        assert_eq!(*read_regular(&file, 3).unwrap(), b"abc");
        assert_eq!(read_regular(&file, 2).unwrap_err(), "larger than 2 bytes");
        assert_eq!(read_regular(dir.path(), 9).unwrap_err(), "is a directory");
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        // Refused at once, never blocking on the FIFO.
        assert!(
            read_regular(&fifo, 9)
                .unwrap_err()
                .starts_with("not a regular file")
        );
        assert!(
            read_regular(Path::new("/dev/zero"), 9)
                .unwrap_err()
                .starts_with("not a regular file")
        );
        assert_eq!(
            read_regular(&dir.path().join("none"), 9).unwrap_err(),
            "cannot open: no such file"
        );
    }
}
