//! `kubevault edit IDENTITY`: `$VISUAL`/`$EDITOR` (else `vi`) on the decrypted file.
//!
//! The only place plaintext touches a disk: one 0600 file in a fresh 0700 directory, on tmpfs
//! where one exists (`$XDG_RUNTIME_DIR`, then `/dev/shm`, else the temp directory). The directory
//! is removed on every exit path: normal return, error, panic (a drop guard) and SIGINT, SIGTERM
//! and SIGHUP (a signal thread stops the editor, removes it and exits 128+signal; SIGINT while
//! the editor runs belongs to the editor, as in `git commit`). Saved content is checked as a
//! secret file; when invalid, the editor reopens with the problems on top. Saving unchanged, or
//! an empty file, changes nothing. Unchanged values keep their ciphertext.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, bail};
use zeroize::Zeroizing;

use super::{Target, encryption_of, existing, open_file, report};
use crate::exit::Exit;
use crate::report::Report;
use crate::sops::Opened;

/// The first line of the problem header; the header is removed before the file is read.
const HEADER: &str = "# kubevault:";

/// The temp directory; removed when dropped.
struct Scratch {
    dir: PathBuf,
}

impl Scratch {
    fn create() -> anyhow::Result<Scratch> {
        use std::os::unix::fs::DirBuilderExt;
        let bases = [
            std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from),
            Some(PathBuf::from("/dev/shm")),
            Some(std::env::temp_dir()),
        ];
        let mut last = None;
        for base in bases
            .into_iter()
            .flatten()
            .filter(|b| b.is_absolute() && b.is_dir())
        {
            let mut suffix = [0u8; 8];
            crate::sops::random_fill(&mut suffix).map_err(|e| anyhow::anyhow!("{e}"))?;
            let hex: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
            let dir = base.join(format!("kubevault-edit-{hex}"));
            match std::fs::DirBuilder::new().mode(0o700).create(&dir) {
                Ok(()) => return Ok(Scratch { dir }),
                Err(e) => last = Some(e),
            }
        }
        Err(anyhow::anyhow!(
            "cannot create a private temp directory: {}",
            last.map_or("no temp directory".into(), |e| e.to_string())
        ))
    }
}

/// Overwrites and removes the scratch directory (best effort; used by the drop guard and the
/// signal thread).
fn wipe_dir(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if let Ok(meta) = std::fs::symlink_metadata(&path)
                && meta.is_file()
                && let Ok(mut file) = std::fs::OpenOptions::new().write(true).open(&path)
            {
                let zeros = vec![0u8; meta.len() as usize];
                let _ = file.write_all(&zeros);
            }
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}

impl Drop for Scratch {
    fn drop(&mut self) {
        wipe_dir(&self.dir);
    }
}

/// Writes `text` to a new 0600 file (`O_EXCL|O_NOFOLLOW`), replacing an earlier one.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::remove_file(path);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        .open(path)
        .context("cannot create the temp file")?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .context("cannot write the temp file")
}

/// Signal handling for one edit session.
struct Signals {
    handle: signal_hook::iterator::Handle,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Signals {
    fn install(
        dir: PathBuf,
        child: Arc<AtomicI32>,
        editing: Arc<AtomicBool>,
    ) -> anyhow::Result<Signals> {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])
            .context("cannot install signal handlers")?;
        let handle = signals.handle();
        let dir = Arc::new(Mutex::new(dir));
        let thread = std::thread::spawn(move || {
            for signal in signals.forever() {
                if signal == SIGINT && editing.load(Ordering::SeqCst) {
                    // The editor got it too and decides; we clean up when it exits.
                    continue;
                }
                let pid = child.load(Ordering::SeqCst);
                if pid > 0
                    && let Some(pid) = rustix::process::Pid::from_raw(pid)
                {
                    let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
                }
                if let Ok(dir) = dir.lock() {
                    wipe_dir(&dir);
                }
                eprintln!(
                    "kubevault edit: interrupted; nothing was changed and the temp file is removed"
                );
                std::process::exit(128 + signal);
            }
        });
        Ok(Signals {
            handle,
            thread: Some(thread),
        })
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        self.handle.close();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The editor command: `$VISUAL`, `$EDITOR`, else `vi`; run through `sh -c` like git does, so
/// that `code --wait` works.
fn editor() -> String {
    ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|e| !e.trim().is_empty())
        .unwrap_or_else(|| "vi".into())
}

fn run_editor(path: &Path, child_pid: &AtomicI32, editing: &AtomicBool) -> anyhow::Result<()> {
    let command = editor();
    let mut child = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("exec {command} \"$@\""))
        .arg("kubevault-editor")
        .arg(path)
        .spawn()
        .with_context(|| format!("cannot start the editor `{command}`"))?;
    child_pid.store(i32::try_from(child.id()).unwrap_or(0), Ordering::SeqCst);
    editing.store(true, Ordering::SeqCst);
    let status = child.wait();
    editing.store(false, Ordering::SeqCst);
    child_pid.store(0, Ordering::SeqCst);
    let status = status.context("cannot wait for the editor")?;
    if !status.success() {
        bail!("the editor `{command}` failed ({status}); nothing was changed");
    }
    Ok(())
}

/// Drops the problem header that an earlier round put on top.
fn strip_header(text: &str) -> &str {
    let mut rest = text;
    while rest.starts_with(HEADER) {
        rest = rest.split_once('\n').map_or("", |(_, tail)| tail);
    }
    rest
}

/// The problems of edited text as a secret file, for the header (no values).
fn problems(text: &str, opened: &mut Opened) -> Option<Vec<String>> {
    match crate::vault::secret_file::parse_full(text) {
        Err(problems) => Some(
            problems
                .into_iter()
                .map(|p| {
                    if p.line > 0 {
                        format!("line {}: {}", p.line, p.message)
                    } else {
                        p.message
                    }
                })
                .collect(),
        ),
        Ok(crate::vault::secret_file::Parsed::Encrypted(_)) => Some(vec![
            "`sops` is reserved for the SOPS metadata; use another key".into(),
        ]),
        Ok(crate::vault::secret_file::Parsed::Plain(_)) => match opened.replace_view(text) {
            Ok(_) => None,
            Err(e) => Some(vec![e.to_string()]),
        },
    }
}

/// Runs `kubevault edit`.
pub fn edit(target: &mut Target, identity: &str) -> anyhow::Result<Report> {
    let mut identities = None;
    let (rel, mut opened, created) = match existing(target, identity)? {
        Some(rel) => {
            let opened = open_file(target, &rel, &mut identities)?;
            (rel, opened, false)
        }
        None => {
            let rel = format!("kvstore/{identity}.yaml");
            let Some((_, rule)) = target.rule_for(&rel)? else {
                bail!(
                    "{rel} does not exist and no .sops.yaml creation rule covers it; create it \
                     with `kubevault set {identity} KEY=VALUE --plaintext`, or add a creation rule"
                );
            };
            let mut opened = Opened::open("", None).map_err(|e| anyhow::anyhow!("{e}"))?;
            opened
                .encrypt(&encryption_of(&rule))
                .map_err(|e| anyhow::anyhow!("{rel}: {e}"))?;
            (rel, opened, true)
        }
    };
    let original = opened.view_text();
    let scratch = Scratch::create()?;
    let child = Arc::new(AtomicI32::new(0));
    let editing = Arc::new(AtomicBool::new(false));
    let _signals = Signals::install(scratch.dir.clone(), child.clone(), editing.clone())?;
    let name = rel.rsplit('/').next().unwrap_or("secret.yaml");
    let name = if name.ends_with(".yaml") || name.ends_with(".yml") {
        name.to_string()
    } else {
        format!("{name}.yaml")
    };
    let path = scratch.dir.join(name);
    let mut shown = Zeroizing::new(original.to_string());
    loop {
        write_private(&path, &shown)?;
        run_editor(&path, &child, &editing)?;
        let saved = Zeroizing::new(
            std::fs::read_to_string(&path)
                .context("cannot read the edited temp file (not UTF-8?)")?,
        );
        if *saved == *shown && shown.starts_with(HEADER) {
            bail!("{rel}: the problems were not fixed; nothing was changed");
        }
        let text = strip_header(&saved);
        if text == original.as_str() && !created {
            return Ok(report(vec![format!("{rel}: unchanged")], Exit::Success));
        }
        if text.trim().is_empty() {
            return Ok(report(
                vec![format!(
                    "{rel}: the file was saved empty; nothing was changed (remove a secret with \
                     `kubevault rm {identity}`)"
                )],
                Exit::Success,
            ));
        }
        match problems(text, &mut opened) {
            None => break,
            Some(found) => {
                let mut header = String::new();
                header.push_str(&format!(
                    "{HEADER} this file is not a valid secret file; fix it and save, or quit without saving to cancel\n"
                ));
                for problem in found {
                    header.push_str(&format!("{HEADER}   {}\n", problem.replace('\n', " ")));
                }
                *shown = format!("{header}{text}");
            }
        }
    }
    let text = opened.write().map_err(|e| anyhow::anyhow!("{rel}: {e}"))?;
    target.fs.write(&rel, text.as_bytes())?;
    drop(scratch);
    let how = if opened.is_encrypted() {
        "encrypted"
    } else {
        "plaintext"
    };
    Ok(report(
        vec![format!(
            "{} {rel} ({how})",
            if created { "created" } else { "updated" }
        )],
        Exit::Success,
    ))
}
