//! The helpers every binary-level test uses: build vaults in temp directories, run the real
//! `kubevault` with a clean environment, check for leaked sentinels, and turn a run into a
//! snapshot text (exit code, stdout, stderr) with temp paths replaced. [`tools`] finds and runs
//! the real orchestrators (kpt, kubectl, podman) for the end-to-end tests of `examples/`.
//!
//! Every process a test starts gets one environment, from [`clean_env`]: none of the caller's
//! kubevault, Argo CD, kustomize or sops variables, no colour settings, no XDG config, and the
//! kubevault under test first on `PATH`. A helper that needs more (the quickstart's age key)
//! adds it visibly.
#![allow(dead_code)]

pub mod eso;
pub mod tools;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A value planted in secret files: it must never appear in stdout or stderr of a failing run.
pub const SENTINEL: &str = "SENTINEL-7f3a9c-must-never-be-printed";

/// A temporary directory holding a vault (and anything else a test needs).
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Self {
        Sandbox {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// A sandbox with `vault/kvstore` and `vault/access_control` created.
    pub fn vault() -> Self {
        let s = Self::new();
        std::fs::create_dir_all(s.path().join("vault/kvstore")).unwrap();
        std::fs::create_dir_all(s.path().join("vault/access_control")).unwrap();
        s
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn vault_dir(&self) -> PathBuf {
        self.path().join("vault")
    }

    /// Writes a file (creating parent folders) relative to the sandbox.
    pub fn file(&self, rel: &str, content: impl AsRef<[u8]>) -> &Self {
        let path = self.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
        self
    }

    pub fn symlink(&self, target: impl AsRef<Path>, rel: &str) -> &Self {
        let path = self.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, path).unwrap();
        self
    }

    /// Replaces the sandbox path in text with `[TMP]` (see [`redact_paths`]), for snapshots.
    pub fn redact(&self, text: &str) -> String {
        redact_paths(text, Some(self.path()))
    }
}

/// What a run printed and how it ended.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    /// Fails when the sentinel shows up anywhere.
    pub fn assert_no_sentinel(&self) {
        assert!(
            !self.stdout.contains(SENTINEL),
            "sentinel leaked to stdout:\n{}",
            self.stdout
        );
        assert!(
            !self.stderr.contains(SENTINEL),
            "sentinel leaked to stderr:\n{}",
            self.stderr
        );
    }
}

/// The variables of the caller's environment that would change what kubevault or the
/// orchestrators do; [`clean_env`] removes them all.
pub const CALLER_VARS: &[&str] = &[
    "KUBEVAULT_DIR",
    "KUBEVAULT_NAMESPACE",
    "ARGOCD_ENV_KUBEVAULT_DIR",
    "ARGOCD_ENV_KUBEVAULT_NAMESPACE",
    "KUSTOMIZE_PLUGIN_HOME",
    "SOPS_AGE_KEY",
    "SOPS_AGE_KEY_FILE",
    "SOPS_AGE_KEY_CMD",
    "NO_COLOR",
    "CLICOLOR_FORCE",
];

/// The one test environment (see the module docs): every [`CALLER_VARS`] removed,
/// `XDG_CONFIG_HOME` pointing nowhere (no sops keys, no kustomize plugins of the developer's),
/// and the kubevault under test first on `PATH`.
pub fn clean_env(cmd: &mut Command) -> &mut Command {
    for var in CALLER_VARS {
        cmd.env_remove(var);
    }
    cmd.env("XDG_CONFIG_HOME", "/nonexistent/kubevault-tests")
        .env("PATH", tools::path_with_kubevault())
}

/// Runs the kubevault binary in `cwd` with arguments, optional stdin and extra environment.
pub fn run(cwd: &Path, args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubevault"));
    clean_env(&mut cmd).current_dir(cwd).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn kubevault");
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    Output {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// `kubevault generate --vault-dir vault` in the sandbox.
pub fn generate(sandbox: &Sandbox) -> Output {
    run(
        sandbox.path(),
        &["generate", "--vault-dir", "vault"],
        None,
        &[],
    )
}

/// A functionConfig for `vault/` named `test`.
pub const FN_CONFIG: &str = "apiVersion: kubevault.dev/v1alpha1\nkind: KubeVault\nmetadata:\n  name: test\nspec:\n  vaultDir: vault\n";

/// A ResourceList with the given items (YAML sequence entries, already indented) and config.
pub fn resource_list(items: &str, function_config: &str) -> String {
    let fc: String = function_config
        .lines()
        .map(|l| format!("  {l}\n"))
        .collect();
    format!(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:{}\nfunctionConfig:\n{fc}",
        if items.is_empty() {
            " []".to_string()
        } else {
            format!("\n{items}")
        }
    )
}

/// Runs the KRM function in the sandbox with `FN_CONFIG` and no items.
pub fn krm(sandbox: &Sandbox) -> Output {
    run(
        sandbox.path(),
        &[],
        Some(resource_list("", FN_CONFIG).as_bytes()),
        &[],
    )
}

// ---- run-and-snapshot helpers (operator commands) ----

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
        redact_paths(&text, tmp)
    }

    /// Stdout and stderr together, for "never contains" checks.
    pub fn all_output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// The one redaction of paths in test output: the temp directory `tmp` (as given and
/// canonical) becomes `[TMP]`, the repository `[REPO]`.
pub fn redact_paths(text: &str, tmp: Option<&Path>) -> String {
    let replace = |text: String, path: &Path, label: &str| {
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        text.replace(&canonical.display().to_string(), label)
            .replace(&path.display().to_string(), label)
    };
    let text = match tmp {
        Some(tmp) => replace(text.to_string(), tmp, "[TMP]"),
        None => text.to_string(),
    };
    replace(text, repo(), "[REPO]")
}

/// Runs `kubevault args...` in `cwd` with `stdin` (empty when `None`) in the [`clean_env`], plus
/// the quickstart's test-only age key as `SOPS_AGE_KEY_FILE` (it decrypts the quickstart's one
/// SOPS-encrypted secret).
pub fn kubevault(cwd: &Path, args: &[&str], stdin: Option<&[u8]>) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubevault"));
    clean_env(&mut cmd);
    let mut child = cmd
        .args(args)
        .current_dir(cwd)
        .env(
            "SOPS_AGE_KEY_FILE",
            repo().join("examples/quickstart/age-key.txt"),
        )
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
