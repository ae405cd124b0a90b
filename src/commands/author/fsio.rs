//! File access for the authoring commands: every path beneath the vault directory is opened one
//! component at a time with `O_NOFOLLOW` (a symlink anywhere below the vault directory is
//! refused, never followed), only regular files are read (`O_NONBLOCK`, so a FIFO cannot block
//! us), and every write goes to a fresh temp name beside the file (`O_CREAT|O_EXCL|O_NOFOLLOW`,
//! mode 0600), is synced, and is renamed into place only when all of it was written; a failed
//! write removes the temp file and leaves the old file as it was.

use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

/// The vault directory, opened.
pub struct VaultDir {
    root: OwnedFd,
    /// Its path, for messages.
    pub path: PathBuf,
}

fn reason(e: Errno) -> String {
    match e {
        Errno::LOOP | Errno::NOTDIR => {
            "a symlink or non-directory is in the way (kubevault never writes through symlinks)"
                .into()
        }
        Errno::NOENT => "no such file or directory".into(),
        Errno::ACCESS | Errno::PERM => "permission denied".into(),
        other => std::io::Error::from(other).to_string(),
    }
}

impl VaultDir {
    /// Opens the vault directory (it may itself be reached through a symlink).
    pub fn open(path: &Path) -> anyhow::Result<VaultDir> {
        let root = rustix::fs::open(
            path,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| anyhow::anyhow!("vault directory {}: {}", path.display(), reason(e)))?;
        Ok(VaultDir {
            root,
            path: path.to_path_buf(),
        })
    }

    /// The directory holding `rel` (a `/`-separated path), opened without following links;
    /// created (0755) when `create` and missing.
    fn parent(&self, rel: &str, create: bool) -> anyhow::Result<(OwnedFd, String)> {
        let mut parts: Vec<&str> = rel.split('/').collect();
        let name = parts.pop().unwrap_or_default().to_string();
        let mut dir = rustix::io::dup(&self.root).context("cannot duplicate a descriptor")?;
        for part in parts {
            if part.is_empty() || part == "." || part == ".." {
                bail!("{rel}: not a plain relative path");
            }
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            dir = match rustix::fs::openat(&dir, part, flags, Mode::empty()) {
                Ok(fd) => fd,
                Err(Errno::NOENT) if create => {
                    match rustix::fs::mkdirat(&dir, part, Mode::from_raw_mode(0o755)) {
                        Ok(()) | Err(Errno::EXIST) => {}
                        Err(e) => bail!("{rel}: cannot create folder {part}: {}", reason(e)),
                    }
                    rustix::fs::openat(&dir, part, flags, Mode::empty())
                        .map_err(|e| anyhow::anyhow!("{rel}: {}", reason(e)))?
                }
                Err(e) => bail!("{rel}: {}", reason(e)),
            };
        }
        Ok((dir, name))
    }

    /// Reads `rel` when it is a regular file; `None` when it does not exist.
    pub fn read(&self, rel: &str) -> anyhow::Result<Option<Vec<u8>>> {
        let (dir, name) = match self.parent(rel, false) {
            Ok(found) => found,
            Err(_) if !self.path.join(rel).parent().is_some_and(Path::exists) => return Ok(None),
            Err(e) => return Err(e),
        };
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let fd = match rustix::fs::openat(&dir, name.as_str(), flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => return Ok(None),
            Err(e) => bail!("{rel}: {}", reason(e)),
        };
        let stat = rustix::fs::fstat(&fd).with_context(|| format!("{rel}: cannot stat"))?;
        if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
            bail!("{rel}: not a regular file");
        }
        let limit = crate::limits::MAX_FILE_BYTES as u64;
        let mut bytes = Vec::new();
        std::fs::File::from(fd)
            .take(limit + 1)
            .read_to_end(&mut bytes)
            .with_context(|| format!("{rel}: cannot read"))?;
        if bytes.len() as u64 > limit {
            bail!("{rel}: larger than 1 MiB");
        }
        Ok(Some(bytes))
    }

    /// True when `rel` names an existing entry of any kind (a symlink included).
    pub fn exists(&self, rel: &str) -> bool {
        let Ok((dir, name)) = self.parent(rel, false) else {
            return false;
        };
        rustix::fs::statat(&dir, name.as_str(), AtFlags::SYMLINK_NOFOLLOW).is_ok()
    }

    /// Writes `bytes` to `rel` atomically (temp + rename), mode 0600, creating folders.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let (dir, name) = self.parent(rel, true)?;
        if let Ok(stat) = rustix::fs::statat(&dir, name.as_str(), AtFlags::SYMLINK_NOFOLLOW)
            && FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile
        {
            bail!("{rel}: not a regular file (kubevault replaces regular files only)");
        }
        let mut suffix = [0u8; 6];
        crate::sops::random_fill(&mut suffix).context("no randomness for a temp name")?;
        let hex: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
        let temp = format!(".{name}.kubevault-{hex}.tmp");
        let fd = rustix::fs::openat(
            &dir,
            temp.as_str(),
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .map_err(|e| anyhow::anyhow!("{rel}: cannot create a temp file: {}", reason(e)))?;
        let mut file = std::fs::File::from(fd);
        let written = file.write_all(bytes).and_then(|()| file.sync_all());
        drop(file);
        let renamed = written.map_err(anyhow::Error::from).and_then(|()| {
            rustix::fs::renameat(&dir, temp.as_str(), &dir, name.as_str())
                .map_err(|e| anyhow::anyhow!(reason(e)))
        });
        if let Err(e) = renamed {
            let _ = rustix::fs::unlinkat(&dir, temp.as_str(), AtFlags::empty());
            bail!("{rel}: cannot write ({e}); the file is unchanged");
        }
        let _ = rustix::fs::fsync(dir.as_fd());
        Ok(())
    }

    /// Removes the regular file `rel`.
    pub fn remove(&self, rel: &str) -> anyhow::Result<()> {
        let (dir, name) = self.parent(rel, false)?;
        rustix::fs::unlinkat(&dir, name.as_str(), AtFlags::empty())
            .map_err(|e| anyhow::anyhow!("{rel}: cannot remove: {}", reason(e)))
    }
}
