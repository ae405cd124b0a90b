//! The one helper every binary-level test uses: run the real `kubevault` with a clean
//! environment, build small vaults in temp directories, and turn a run into a snapshot text
//! (exit code, stdout, stderr) with temp paths replaced by `[TMP]`.
#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The repository root (where `examples/` lives).
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The bundled example vault, relative to [`repo`].
pub const QUICKSTART: &str = "examples/quickstart/vault";

/// What one run of the binary did.
pub struct Run {
    /// Exit code (-1 when killed by a signal).
    pub code: i32,
    /// Everything on stdout.
    pub stdout: String,
    /// Everything on stderr.
    pub stderr: String,
}

impl Run {
    /// `exit`, `stdout` and `stderr` in one text, `tmp` shown as `[TMP]` and the repository as
    /// `[REPO]`.
    pub fn snapshot(&self, tmp: Option<&Path>) -> String {
        let text = format!(
            "exit: {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        );
        let text = match tmp {
            Some(tmp) => redact(&text, tmp, "[TMP]"),
            None => text,
        };
        redact(&text, repo(), "[REPO]")
    }

    /// Stdout and stderr together, for "never contains" checks.
    pub fn all_output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

fn redact(text: &str, path: &Path, label: &str) -> String {
    let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    text.replace(&canonical.display().to_string(), label)
        .replace(&path.display().to_string(), label)
}

/// Runs `kubevault args...` in `cwd` with `stdin` (empty when `None`) and without any
/// `KUBEVAULT_*`/`NO_COLOR` from the caller's environment.
pub fn kubevault(cwd: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kubevault"))
        .args(args)
        .current_dir(cwd)
        .env_remove("KUBEVAULT_DIR")
        .env_remove("KUBEVAULT_NAMESPACE")
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run kubevault");
    let mut pipe = child.stdin.take().expect("stdin");
    pipe.write_all(stdin.unwrap_or_default())
        .expect("write stdin");
    drop(pipe);
    let out = child.wait_with_output().expect("wait for kubevault");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(out.stderr).expect("stderr is UTF-8"),
    }
}

/// Runs in the repository root (for the quickstart vault).
pub fn in_repo(args: &[&str]) -> Run {
    kubevault(repo(), args, None)
}

/// Writes `files` (path relative to `root`, text) and returns `root`.
pub fn write_tree(root: &Path, files: &[(&str, &str)]) -> PathBuf {
    for (rel, text) in files {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
    }
    root.to_path_buf()
}

/// A value planted in test secrets: no command output may ever contain it.
pub const SENTINEL: &str = "SENTINEL-value-4b1d";
