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
//! still cannot pull a file from outside the vault.
//!
//! Directories are listed in order on the calling thread while reader threads (one per core)
//! read the files already listed, in small batches; the batches are accounted for in walk order,
//! so diagnostics and the vault-wide budgets come out exactly as in a one-by-one walk (reading
//! runs at most a few batches past a budget). An entry the directory reports as a regular file is opened for reading
//! straight away with `O_NONBLOCK | O_NOCTTY` and refused unless `fstat` on the opened file says
//! regular file: a FIFO swapped in is refused without blocking, and a device could only be
//! reached through a device node created inside the vault (a symlink to one is refused by the
//! beneath-resolution). Any other entry (symlink, unknown type) is first opened with `O_PATH`,
//! which never opens a device or FIFO, `fstat`ed, and only a regular file is opened again and
//! required to be the same inode. The opening itself (and the capped read and the listing) is
//! in [`super::beneath`].

use std::collections::BTreeMap;
use std::fs;
use std::num::NonZeroUsize;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError, mpsc};
use std::thread;

use rustix::fs::{FileType, Mode, OFlags, Stat};
use rustix::io::Errno;

use super::beneath::{list, open_beneath, read_capped};
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
    /// Directories listed (each at most once): the walk's work, which grows with the number of
    /// directories and links, never with the paths they could spell.
    pub dirs_walked: usize,
    /// `metadata.yaml` at the vault root (SPEC §10), when there is one.
    pub metadata: Option<VaultFile>,
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
    let root = root.as_fd();
    let (jobs, job_queue) = mpsc::sync_channel::<Batch>(IN_FLIGHT);
    let (done, results) = mpsc::channel::<(usize, Vec<Step>, Vec<Option<Fetched>>)>();
    let job_queue = Mutex::new(job_queue);
    std::thread::scope(|scope| {
        let readers = thread::available_parallelism().map_or(1, NonZeroUsize::get);
        for _ in 0..readers {
            let (job_queue, done) = (&job_queue, done.clone());
            scope.spawn(move || {
                // The lock is held only to take a batch; reading happens without it.
                loop {
                    let job = lock(job_queue).recv();
                    let Ok((seq, steps)) = job else { break };
                    let fetched = steps
                        .iter()
                        .map(|step| match step {
                            Step::File { rel, stat } => Some(fetch(root, rel, stat.as_ref())),
                            Step::Problem(_) => None,
                        })
                        .collect();
                    if done.send((seq, steps, fetched)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done);
        let mut walker = Walker {
            root,
            diags: &mut diags,
            stack: Vec::new(),
            seen: std::collections::HashMap::new(),
            dirs_walked: 0,
            pending: Vec::new(),
            jobs: Some(jobs),
            results,
            sent: 0,
            accounted: 0,
            arrived: BTreeMap::new(),
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
            Top::Missing => walker.diags.push(Diagnostic::warning(
                "access_control",
                "no access_control/ folder: no users are rendered",
            )),
            Top::Failed => files.access_control = Some(Vec::new()),
        }
        files.dirs_walked = walker.dirs_walked;
        // Closing the queue ends the readers; the scope waits for them.
        walker.jobs = None;
    });
    files.metadata = read_metadata(root, &mut diags);
    (files, diags)
}

/// Reads `metadata.yaml` at the vault root like any vault file (beneath the root, regular files
/// only, capped); a misspelt `metadata.yml` is pointed out.
fn read_metadata(root: BorrowedFd, diags: &mut Diagnostics) -> Option<VaultFile> {
    let exists = |name: &str| {
        !matches!(
            rustix::fs::statat(root, name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW),
            Err(Errno::NOENT)
        )
    };
    if exists("metadata.yml") {
        diags.push(Diagnostic::warning(
            "metadata.yml",
            "ignored: the Secret metadata file is metadata.yaml (rename it)",
        ));
    }
    if !exists(super::metadata::FILE) {
        return None;
    }
    let rel = super::metadata::FILE.to_string();
    match fetch(root, &rel, None) {
        Fetched::Bytes(bytes) => Some(VaultFile { rel, bytes }),
        Fetched::Refused(why) | Fetched::Failed(why) => {
            diags.push(Diagnostic::error(rel, why));
            None
        }
    }
}

enum Top {
    Read(Vec<VaultFile>),
    Missing,
    Failed,
}

/// Listed steps go to the reader threads in batches of this many.
const BATCH: usize = 32;

/// Most batches queued for the readers at once. Reading runs at most
/// `(IN_FLIGHT + readers + 1) * BATCH` files past a vault-wide budget before the walk stops.
const IN_FLIGHT: usize = 4;

/// A batch of steps with its sequence number.
type Batch = (usize, Vec<Step>);

/// One step of the walk, in walk order: a problem found while listing, or a file to read.
enum Step {
    /// An error found while listing (bad name, escaping link, not a regular file...).
    Problem(Diagnostic),
    /// A regular file to read. `stat` is known when the listing had to look at the entry itself
    /// (symlinks, unknown entry types); `None` when the directory said "regular file".
    File { rel: String, stat: Option<Stat> },
}

/// What reading one listed file gave.
enum Fetched {
    /// The file's bytes (at most 1 MiB).
    Bytes(Vec<u8>),
    /// Refused before reading (not a regular file, too large): does not count against budgets.
    Refused(String),
    /// Reading failed.
    Failed(String),
}

struct Walker<'a> {
    root: BorrowedFd<'a>,
    diags: &'a mut Diagnostics,
    /// `(device, inode)` of the directories on the current descent, to catch symlink loops.
    stack: Vec<(u64, u64)>,
    /// Every directory walked so far, by `(device, inode)`, with the path it was first walked
    /// as: a directory is walked once, and reaching it again through another path is an error.
    seen: std::collections::HashMap<(u64, u64), String>,
    /// Directories listed so far.
    dirs_walked: usize,
    /// Listed steps not yet sent to the readers.
    pending: Vec<Step>,
    /// Where batches go to the reader threads (`None` once closed).
    jobs: Option<mpsc::SyncSender<Batch>>,
    /// Batches back from the readers, in any order.
    results: mpsc::Receiver<(usize, Vec<Step>, Vec<Option<Fetched>>)>,
    /// Batches sent so far (the next batch's sequence number).
    sent: usize,
    /// Batches accounted for so far, in order.
    accounted: usize,
    /// Batches back from the readers but not yet accounted (a later one came back first).
    arrived: BTreeMap<usize, (Vec<Step>, Vec<Option<Fetched>>)>,
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
                self.diags.push(Diagnostic::error(
                    name,
                    format!("cannot read: {}", errno_reason(e)),
                ));
                return Top::Failed;
            }
            Ok(_) => {}
        }
        let mut out = Vec::new();
        let walked = match self.open_path(name) {
            None => false,
            Some((_, stat)) if FileType::from_raw_mode(stat.st_mode) != FileType::Directory => {
                self.error(name, "must be a directory".into());
                false
            }
            Some((fd, stat)) => {
                self.dir(fd.as_fd(), &stat, name, 1, &mut out);
                true
            }
        };
        // Problems of a failed top folder are pending too: account for them either way.
        self.finish(&mut out);
        if walked { Top::Read(out) } else { Top::Failed }
    }

    /// Records a problem found while listing, in walk order.
    fn error(&mut self, rel: &str, message: String) {
        self.pending
            .push(Step::Problem(Diagnostic::error(rel, message)));
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
        if let Some(first) = self.seen.get(&id) {
            // Symlinks that reach one directory through many paths would multiply the files
            // (38 links can spell 2^19 paths): each directory is walked once.
            let message = format!(
                "this directory was already read as {first}: a directory may be reached through \
                 one path only (replace the symlink that leads here by a link to each file, or \
                 remove it)"
            );
            self.error(rel, message);
            return;
        }
        self.seen.insert(id, rel.to_string());
        self.dirs_walked += 1;
        // Re-open the very directory the O_PATH descriptor names: no second path resolution.
        let listed = rustix::fs::openat(
            path_fd,
            ".",
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .and_then(list);
        let entries = match listed {
            Ok(entries) => entries,
            Err(e) => {
                self.error(rel, format!("cannot read directory: {}", errno_reason(e)));
                return;
            }
        };
        self.stack.push(id);
        for (name, kind) in entries {
            let Ok(name) = String::from_utf8(name.clone()) else {
                let shown = String::from_utf8_lossy(&name).into_owned();
                self.error(&format!("{rel}/{shown}"), "file name is not UTF-8".into());
                continue;
            };
            if name.starts_with('.') || name.ends_with('~') {
                continue;
            }
            if name.chars().any(is_forging_char) {
                // Shown escaped: a newline in a name could forge a "check ok" line.
                self.error(
                    &format!("{rel}/{}", escape_name(&name)),
                    "file name contains a control or text-direction character (shown escaped); \
                     rename it"
                        .into(),
                );
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
            if self.pending.len() >= BATCH {
                self.send(out);
            }
            if self.over_budget {
                break;
            }
            if kind == FileType::RegularFile {
                // Opened, checked and read by a reader thread: see `fetch`.
                self.pending.push(Step::File {
                    rel: child,
                    stat: None,
                });
            } else {
                self.entry(child, depth + 1, out);
            }
        }
        self.stack.pop();
    }

    /// An entry the directory did not call a regular file: a directory, a symlink, something
    /// else or unknown. Looked at with `O_PATH` (which never opens a device or FIFO).
    fn entry(&mut self, rel: String, depth: usize, out: &mut Vec<VaultFile>) {
        let Some((path_fd, stat)) = self.open_path(&rel) else {
            return;
        };
        match FileType::from_raw_mode(stat.st_mode) {
            FileType::Directory => self.dir(path_fd.as_fd(), &stat, &rel, depth, out),
            FileType::RegularFile if stat.st_size > MAX_FILE_BYTES as i64 => {
                self.error(&rel, too_large(stat.st_size));
            }
            FileType::RegularFile => self.pending.push(Step::File {
                rel,
                stat: Some(stat),
            }),
            other => self.error(&rel, not_regular(other)),
        }
    }

    /// Sends the pending steps to the readers as one batch, then accounts for the batches
    /// already back, without waiting.
    fn send(&mut self, out: &mut Vec<VaultFile>) {
        if !self.pending.is_empty() {
            let steps = std::mem::take(&mut self.pending);
            if let Some(jobs) = &self.jobs
                && jobs.send((self.sent, steps)).is_ok()
            {
                self.sent += 1;
            }
        }
        while let Ok((seq, steps, fetched)) = self.results.try_recv() {
            self.arrived.insert(seq, (steps, fetched));
        }
        self.account_arrived(out);
    }

    /// Sends the pending steps and waits until every batch is back and accounted for (or a
    /// budget stopped the walk).
    fn finish(&mut self, out: &mut Vec<VaultFile>) {
        self.send(out);
        while self.accounted < self.sent && !self.over_budget {
            let Ok((seq, steps, fetched)) = self.results.recv() else {
                break;
            };
            self.arrived.insert(seq, (steps, fetched));
            self.account_arrived(out);
        }
    }

    /// Accounts for the batches back from the readers, in walk order: the diagnostics and
    /// budgets come out exactly as if each file had been read in turn.
    fn account_arrived(&mut self, out: &mut Vec<VaultFile>) {
        while let Some((steps, fetched)) = self.arrived.remove(&self.accounted) {
            self.accounted += 1;
            for (step, fetched) in steps.into_iter().zip(fetched) {
                if self.over_budget {
                    return;
                }
                let (rel, fetched) = match (step, fetched) {
                    (Step::Problem(diag), _) => {
                        self.diags.push(diag);
                        continue;
                    }
                    (Step::File { rel, .. }, Some(fetched)) => (rel, fetched),
                    (Step::File { .. }, None) => unreachable!("every file step is fetched"),
                };
                self.account(rel, fetched, out);
            }
        }
    }

    fn account(&mut self, rel: String, fetched: Fetched, out: &mut Vec<VaultFile>) {
        if let Fetched::Refused(why) = fetched {
            self.diags.push(Diagnostic::error(rel, why));
            return;
        }
        if self.files >= self.budget.max_files {
            self.over_budget = true;
            let max = self.budget.max_files;
            self.diags.push(Diagnostic::error(
                rel,
                format!("the vault has more than {max} files; stopped reading here"),
            ));
            return;
        }
        let bytes = match fetched {
            Fetched::Bytes(bytes) => bytes,
            Fetched::Failed(why) | Fetched::Refused(why) => {
                self.diags.push(Diagnostic::error(rel, why));
                return;
            }
        };
        self.files += 1;
        self.bytes += bytes.len();
        if self.bytes > self.budget.max_bytes {
            self.over_budget = true;
            let max = self.budget.max_bytes;
            self.diags.push(Diagnostic::error(
                rel,
                format!("the vault's files total more than {max} bytes; stopped reading here"),
            ));
            return;
        }
        out.push(VaultFile { rel, bytes });
    }
}

/// Locks a mutex; a reader that panicked while holding it leaves nothing half-done.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn too_large(size: i64) -> String {
    format!("file is {size} bytes, more than the 1 MiB limit")
}

fn not_regular(t: FileType) -> String {
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
fn fetch(root: BorrowedFd, rel: &str, expected: Option<&Stat>) -> Fetched {
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

/// Characters that change what a terminal or log shows: controls (newline, escape, ...) and the
/// bidi controls that reorder text.
fn is_forging_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A file name with every [`is_forging_char`] written as `\u{...}`.
fn escape_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if is_forging_char(c) {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect()
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

    /// `levels` directories, each holding two links to the one below: `2^levels` paths.
    fn fan_out(levels: usize) -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        let kv = t.path().join("kvstore");
        fs::create_dir_all(kv.join("d0")).unwrap();
        fs::write(kv.join("d0/f"), "k: v\n").unwrap();
        for level in 1..=levels {
            let dir = kv.join(format!("d{level}"));
            fs::create_dir(&dir).unwrap();
            let below = format!("../d{}", level - 1);
            symlink(&below, dir.join("a")).unwrap();
            symlink(&below, dir.join("b")).unwrap();
        }
        t
    }

    #[test]
    fn symlink_fan_out_walks_each_directory_once() {
        let mut walked = Vec::new();
        for levels in [4, 8, 16] {
            let t = fan_out(levels);
            let (files, diags) = read_vault(t.path());
            // kvstore, then each d<N> once; every second link to a directory is an error.
            assert_eq!(files.dirs_walked, levels + 2, "{levels}");
            assert!(files.kvstore.len() <= levels + 1, "{}", files.kvstore.len());
            let errors: Vec<String> = diags
                .sorted()
                .iter()
                .filter(|d| d.message.contains("already read as"))
                .map(|d| d.to_string())
                .collect();
            assert_eq!(errors.len(), 2 * levels, "{errors:#?}");
            assert!(
                errors[0].starts_with(
                    "kvstore/d1/a: error: this directory was already read as kvstore/d0:"
                ),
                "{errors:#?}"
            );
            walked.push(files.dirs_walked);
        }
        // Linear in the number of directories, not 2^levels.
        assert_eq!(walked, [6, 10, 18]);
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
            fetch(root.as_fd(), "kvstore/fifo", Some(&plain)),
            Fetched::Failed(why) if why.contains("replaced")
        ));
        // Listed as a regular file, a FIFO by the time it is opened: refused, not read.
        assert!(matches!(
            fetch(root.as_fd(), "kvstore/fifo", None),
            Fetched::Refused(why) if why.contains("a FIFO")
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

    /// Budgets and listing problems across several reading batches: the cut falls on the same
    /// file, and only the problems listed before it are reported, as in a one-by-one walk.
    #[test]
    fn budgets_and_problems_keep_walk_order_across_batches() {
        let t = tempfile::tempdir().unwrap();
        let many = t.path().join("kvstore/many");
        fs::create_dir_all(&many).unwrap();
        fs::create_dir_all(t.path().join("access_control")).unwrap();
        for i in 0..3 * BATCH {
            fs::write(many.join(format!("f{i:05}")), format!("k: {i}\n")).unwrap();
        }
        // Problems early (reported) and late (after the cut: not reported).
        for i in [5, BATCH + 3, BATCH + 30] {
            symlink("/etc/passwd", many.join(format!("f{i:05}-abs"))).unwrap();
        }
        let budget = Budget {
            max_files: BATCH + 20,
            max_bytes: MAX_VAULT_BYTES,
        };
        let (files, diags) = read_vault_within(t.path(), budget);
        let names: Vec<&str> = files.kvstore.iter().map(|f| f.rel.as_str()).collect();
        let want: Vec<String> = (0..BATCH + 20)
            .map(|i| format!("kvstore/many/f{i:05}"))
            .collect();
        assert_eq!(names, want);
        assert!(
            files
                .kvstore
                .iter()
                .enumerate()
                .all(|(i, f)| f.bytes == format!("k: {i}\n").as_bytes())
        );
        let msgs: Vec<String> = diags.sorted().iter().map(|d| d.to_string()).collect();
        let refused = "error: symlink points outside the vault directory (or is absolute); refusing to follow it";
        assert_eq!(
            msgs,
            [
                format!("kvstore/many/f00005-abs: {refused}"),
                format!("kvstore/many/f{:05}-abs: {refused}", BATCH + 3),
                format!(
                    "kvstore/many/f{:05}: error: the vault has more than {} files; stopped reading here",
                    BATCH + 20,
                    BATCH + 20
                ),
            ]
        );
    }
}
