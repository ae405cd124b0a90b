//! Test helpers: build vaults in temp directories, run the real binary, check for leaks.
#![allow(dead_code)]

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

    /// Replaces the sandbox path in text with `[SANDBOX]`, for snapshots.
    pub fn redact(&self, text: &str) -> String {
        let real = std::fs::canonicalize(self.path()).unwrap();
        text.replace(&real.display().to_string(), "[SANDBOX]")
            .replace(&self.path().display().to_string(), "[SANDBOX]")
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

/// Runs the kubevault binary in `cwd` with arguments, optional stdin and extra environment.
pub fn run(cwd: &Path, args: &[&str], stdin: Option<&[u8]>, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubevault"));
    cmd.current_dir(cwd)
        .args(args)
        .env_remove("KUBEVAULT_DIR")
        .env_remove("KUBEVAULT_NAMESPACE")
        // Hermetic: no age keys from the developer's environment.
        .env_remove("SOPS_AGE_KEY")
        .env_remove("SOPS_AGE_KEY_FILE")
        .env("XDG_CONFIG_HOME", "/nonexistent/kubevault-tests")
        .env("NO_COLOR", "1");
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
