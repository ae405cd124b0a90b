//! Reading a vault from git objects (`git:REV`), without a checkout and without temp files:
//! `git ls-tree` lists the vault's entries at that commit with their modes and sizes, and one
//! `git cat-file --batch` streams the blobs into memory. The result is a
//! [`crate::vault::source::Tree`], read by the same rules as a directory.
//!
//! The vault's place in the repository is where the vault directory (`--vault-dir`, relative to
//! the working directory) is in the work tree: `git:main` with `--vault-dir vault` run at the
//! repository root reads `vault/` of `main`.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::process::{Command, Stdio};

use crate::limits::MAX_FILE_BYTES;
use crate::vault::source::{Entry, Tree};

/// A vault at a git revision: the tree of its files and `metadata.yaml` at the vault root.
pub fn read_rev(cwd: &Path, vault_dir: &Path, rev: &str) -> Result<Tree, String> {
    if rev.is_empty() || rev.starts_with('-') {
        return Err(format!("git:{rev}: not a revision"));
    }
    let top = git(cwd, &["rev-parse", "--show-toplevel"]).map_err(|e| {
        format!(
            "git:{rev}: {} is not inside a git work tree ({e})",
            cwd.display()
        )
    })?;
    let top = PathBuf::from(String::from_utf8_lossy(&top).trim_end_matches('\n'));
    let top = top.canonicalize().unwrap_or(top);
    let cwd_real = cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf());
    let wanted = normalize(&cwd_real.join(vault_dir));
    let inside = wanted.strip_prefix(&top).map_err(|_| {
        format!(
            "git:{rev}: the vault directory {} is not inside the repository at {}",
            wanted.display(),
            top.display()
        )
    })?;
    let inside = inside
        .to_str()
        .ok_or_else(|| format!("git:{rev}: the vault path is not UTF-8"))?
        .to_string();
    let commit = git(
        &top,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            &format!("{rev}^{{commit}}"),
        ],
    )
    .map_err(|_| format!("git:{rev}: no such revision in {}", top.display()))?;
    let commit = String::from_utf8_lossy(&commit).trim().to_string();
    let mut args = vec!["ls-tree", "-r", "-l", "-z", "--full-tree", commit.as_str()];
    let spec = format!("{inside}/");
    if !inside.is_empty() {
        args.extend(["--", spec.as_str()]);
    }
    let listing = git(&top, &args).map_err(|e| format!("git:{rev}: cannot list the tree: {e}"))?;
    let shown = if inside.is_empty() {
        format!("git:{rev}")
    } else {
        format!("git:{rev}:{inside}")
    };
    let prefix = if inside.is_empty() {
        Vec::new()
    } else {
        spec.as_bytes().to_vec()
    };
    // Each record: `<mode> SP <type> SP <object> SP+ <size> TAB <path> NUL`.
    let mut wanted_blobs: Vec<(usize, String)> = Vec::new();
    let mut entries: Vec<(Vec<u8>, Entry)> = Vec::new();
    for record in listing.split(|&b| b == 0).filter(|r| !r.is_empty()) {
        let Some(tab) = record.iter().position(|&b| b == b'\t') else {
            return Err(format!("git:{rev}: unexpected `git ls-tree` output"));
        };
        let head = String::from_utf8_lossy(&record[..tab]).into_owned();
        let path = &record[tab + 1..];
        let Some(rel) = path.strip_prefix(prefix.as_slice()) else {
            continue;
        };
        let fields: Vec<&str> = head.split_whitespace().collect();
        let [mode, kind, oid, size] = fields[..] else {
            return Err(format!("git:{rev}: unexpected `git ls-tree` output"));
        };
        let entry = match (mode, kind) {
            ("100644" | "100755", "blob") => {
                let size: u64 = size.parse().unwrap_or(u64::MAX);
                if size > MAX_FILE_BYTES as u64 {
                    Entry::TooLarge(size)
                } else {
                    wanted_blobs.push((entries.len(), oid.to_string()));
                    Entry::File(Vec::new())
                }
            }
            ("120000", "blob") if size.parse::<u64>().is_ok_and(|n| n > 4096) => {
                Entry::Other("a symlink with a target over 4096 bytes")
            }
            ("120000", "blob") => {
                wanted_blobs.push((entries.len(), oid.to_string()));
                Entry::Symlink(Vec::new())
            }
            ("160000", _) => Entry::Other("a git submodule"),
            _ => Entry::Other("not a file"),
        };
        entries.push((rel.to_vec(), entry));
    }
    let blobs = cat_blobs(&top, wanted_blobs.iter().map(|(_, oid)| oid.as_str()))
        .map_err(|e| format!("git:{rev}: cannot read objects: {e}"))?;
    for ((i, _), bytes) in wanted_blobs.iter().zip(blobs) {
        match &mut entries[*i].1 {
            Entry::File(b) | Entry::Symlink(b) => *b = bytes,
            _ => {}
        }
    }
    Ok(Tree { shown, entries })
}

/// `.` and `..` removed lexically.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn command(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .env("GIT_LITERAL_PATHSPECS", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// Runs git and returns its stdout; the error is git's first stderr line.
fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = command(dir)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        Err(err.lines().next().unwrap_or("git failed").to_string())
    }
}

/// The contents of these blobs, in order, through one `git cat-file --batch`.
fn cat_blobs<'a>(top: &Path, oids: impl Iterator<Item = &'a str>) -> Result<Vec<Vec<u8>>, String> {
    let oids: Vec<&str> = oids.collect();
    if oids.is_empty() {
        return Ok(Vec::new());
    }
    let mut child = command(top)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("no stdin")?;
    let request: String = oids.iter().map(|o| format!("{o}\n")).collect();
    // Written from another thread: git answers while we still ask, and a full pipe both ways
    // would stall.
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(request.as_bytes());
    });
    let mut out = BufReader::new(child.stdout.take().ok_or("no stdout")?);
    let mut blobs = Vec::with_capacity(oids.len());
    let mut header = Vec::new();
    for oid in &oids {
        header.clear();
        out.read_until(b'\n', &mut header)
            .map_err(|e| e.to_string())?;
        let text = String::from_utf8_lossy(&header);
        let parts: Vec<&str> = text.split_whitespace().collect();
        let size = match parts[..] {
            [_, "blob", size] => size.parse::<usize>().map_err(|_| "bad size".to_string())?,
            _ => return Err(format!("object {oid} is missing")),
        };
        if size > MAX_FILE_BYTES + 1024 {
            return Err(format!("object {oid} is larger than listed"));
        }
        let mut blob = vec![0; size + 1];
        out.read_exact(&mut blob).map_err(|e| e.to_string())?;
        blob.pop();
        blobs.push(blob);
    }
    let _ = writer.join();
    let status = child.wait().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("git cat-file failed".into());
    }
    Ok(blobs)
}
