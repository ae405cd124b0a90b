//! Writing a set of generated files into a directory safely: each file first goes to a fresh
//! temp name beside it (`O_CREAT|O_EXCL|O_NOFOLLOW`, so nothing that already exists — a file, a
//! symlink, a FIFO — is ever opened), and only when every file was written completely are they
//! renamed into place. All opens and renames are relative to one descriptor of the directory,
//! opened without following a symlink at its last component.

use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use anyhow::{Context, bail};
use rustix::fs::{Mode, OFlags};

/// Writes `files` (plain names, no `/`) into `dir` (created if missing) with `mode`; on any
/// failure nothing is renamed into place and the temp files are removed.
pub fn write_files(dir: &Path, files: &[(String, String)], mode: u32) -> anyhow::Result<()> {
    for (name, _) in files {
        if name.is_empty() || name.starts_with('.') || name.contains('/') || name.contains('\0') {
            bail!("refusing to write the file name {name:?}");
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let dir_fd = rustix::fs::open(
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .with_context(|| {
        format!(
            "cannot open the directory {} (a symlink is not followed)",
            dir.display()
        )
    })?;
    let mut temps: Vec<(String, &str)> = Vec::with_capacity(files.len());
    let result = write_temps(&dir_fd, dir, files, mode, &mut temps).and_then(|()| {
        for (temp, name) in &temps {
            rustix::fs::renameat(&dir_fd, temp.as_str(), &dir_fd, *name)
                .with_context(|| format!("cannot rename into {}", dir.join(name).display()))?;
        }
        temps.clear();
        Ok(())
    });
    for (temp, _) in &temps {
        let _ = rustix::fs::unlinkat(&dir_fd, temp.as_str(), rustix::fs::AtFlags::empty());
    }
    result
}

fn write_temps<'a>(
    dir_fd: &OwnedFd,
    dir: &Path,
    files: &'a [(String, String)],
    mode: u32,
    temps: &mut Vec<(String, &'a str)>,
) -> anyhow::Result<()> {
    let pid = std::process::id();
    for (i, (name, text)) in files.iter().enumerate() {
        let temp = format!(".{name}.{pid}.{i}.tmp");
        let fd = rustix::fs::openat(
            dir_fd.as_fd(),
            temp.as_str(),
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(mode),
        )
        .with_context(|| format!("cannot create a temp file in {}", dir.display()))?;
        temps.push((temp, name));
        let mut file = std::fs::File::from(fd);
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .with_context(|| format!("cannot write {}", dir.join(name).display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_replaces_and_never_follows_a_symlink() {
        let t = tempfile::tempdir().unwrap();
        let outside = t.path().join("outside");
        std::fs::write(&outside, "keep").unwrap();
        let dir = t.path().join("out");
        std::fs::create_dir(&dir).unwrap();
        std::os::unix::fs::symlink(&outside, dir.join("a.yaml")).unwrap();
        std::fs::write(dir.join("b.yaml"), "old").unwrap();
        let files = vec![
            ("a.yaml".to_string(), "A\n".to_string()),
            ("b.yaml".to_string(), "B\n".to_string()),
        ];
        write_files(&dir, &files, 0o644).unwrap();
        assert_eq!(std::fs::read_to_string(dir.join("a.yaml")).unwrap(), "A\n");
        assert_eq!(std::fs::read_to_string(dir.join("b.yaml")).unwrap(), "B\n");
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), "keep");
        assert!(!dir.join("a.yaml").is_symlink());
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert_eq!(left.len(), 2, "no temp files left");
        // A directory that is a symlink is refused.
        let link = t.path().join("link");
        std::os::unix::fs::symlink(&dir, &link).unwrap();
        assert!(write_files(&link, &files, 0o644).is_err());
        assert!(write_files(&dir, &[("../x".into(), String::new())], 0o644).is_err());
    }
}
