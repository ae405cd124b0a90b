//! `kubevault generate` and the legacy kustomize exec plugin mode through the real binary.

mod common;

use common::{Sandbox, run};
use std::path::Path;

fn quickstart() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/quickstart"))
}

#[test]
fn quickstart_stream() {
    let out = run(
        quickstart(),
        &[
            "generate",
            "--vault-dir",
            "vault",
            "--age-key-file",
            "age-key.txt",
        ],
        None,
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr, "");
    insta::assert_snapshot!(out.stdout);
}

#[test]
fn generate_is_deterministic() {
    let args = ["generate", "--age-key-file", "age-key.txt"];
    let a = run(quickstart(), &args, None, &[]);
    let b = run(quickstart(), &args, None, &[]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn environment_and_flags() {
    let sb = Sandbox::vault();
    sb.file("vault/kvstore/app", "k: v\n");
    let elsewhere = tempfile::tempdir().unwrap();
    let dir = sb.vault_dir().display().to_string();
    let out = run(
        elsewhere.path(),
        &["generate"],
        None,
        &[("KUBEVAULT_DIR", &dir), ("KUBEVAULT_NAMESPACE", "from-env")],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stdout.contains("namespace: from-env"));
    let out = run(
        elsewhere.path(),
        &["generate", "-n", "flag-wins", "--create-namespace"],
        None,
        &[("KUBEVAULT_DIR", &dir), ("KUBEVAULT_NAMESPACE", "from-env")],
    );
    assert!(
        out.stdout
            .starts_with("apiVersion: v1\nkind: Namespace\nmetadata:\n"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains("name: flag-wins") && !out.stdout.contains("from-env"));
    let out = run(
        elsewhere.path(),
        &["generate", "-n", "Bad_NS"],
        None,
        &[("KUBEVAULT_DIR", &dir)],
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("namespace \"Bad_NS\" is not a DNS-1123 label")
    );
}

#[test]
fn output_dir_writes_files_and_removes_only_its_own_stale_ones() {
    let sb = Sandbox::vault();
    sb.file("vault/kvstore/app", "k: v\n")
        .file("vault/kvstore/old", "k: v\n")
        .file("vault/access_control/alice", "**\n");
    sb.file("out/README.md", "kept\n");
    let out = run(
        sb.path(),
        &["generate", "--vault-dir", "vault", "--output-dir", "out"],
        None,
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stdout, "");
    let list = |sb: &Sandbox| {
        let mut names: Vec<String> = std::fs::read_dir(sb.path().join("out"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    };
    assert_eq!(
        list(&sb),
        [
            ".kubevault-generated",
            "README.md",
            "role_kubevault-alice-read.yaml",
            "rolebinding_kubevault-alice-read.yaml",
            "secret_alice-token.yaml",
            "secret_app.yaml",
            "secret_old.yaml",
            "serviceaccount_alice.yaml",
        ]
    );
    let app = std::fs::read_to_string(sb.path().join("out/secret_app.yaml")).unwrap();
    assert!(
        app.starts_with("apiVersion: v1\nkind: Secret\n") && app.contains("  k: dg==\n"),
        "{app}"
    );

    std::fs::remove_file(sb.vault_dir().join("kvstore/old")).unwrap();
    std::fs::remove_file(sb.vault_dir().join("access_control/alice")).unwrap();
    let out = run(
        sb.path(),
        &["generate", "--vault-dir", "vault", "--output-dir", "out"],
        None,
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        list(&sb),
        [".kubevault-generated", "README.md", "secret_app.yaml"]
    );
}

#[test]
fn output_dir_is_untouched_on_error() {
    let sb = Sandbox::vault();
    sb.file("vault/kvstore/bad", "- x\n");
    let out = run(
        sb.path(),
        &["generate", "--vault-dir", "vault", "--output-dir", "out"],
        None,
        &[],
    );
    assert_eq!(out.code, 1);
    assert!(!sb.path().join("out").exists());
}

#[test]
fn legacy_plugin_prints_a_plain_stream() {
    let sb = Sandbox::vault();
    sb.file("vault/kvstore/app", "k: v\n")
        .file("vault/access_control/alice", "app\n");
    // kustomize re-serialises the config into a temp file and runs the plugin in the
    // kustomization directory.
    let config = "apiVersion: kubevault.dev/v1alpha1\nkind: KubeVault\nmetadata:\n  name: plugin\nspec:\n  vaultDir: ./vault\n  namespace: plugged\n";
    let config_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(config_file.path(), config).unwrap();
    let arg = config_file.path().display().to_string();
    let out = run(
        sb.path(),
        &[&arg],
        None,
        &[("KUSTOMIZE_PLUGIN_CONFIG_STRING", config)],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stdout.contains("ResourceList"));
    let kinds: Vec<&str> = out
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("kind: "))
        .collect();
    assert_eq!(
        kinds,
        ["Secret", "ServiceAccount", "Secret", "Role", "RoleBinding"]
    );
    assert!(
        out.stdout.contains("kubevault.dev/generator: plugin")
            && out.stdout.contains("namespace: plugged")
    );

    std::fs::write(
        config_file.path(),
        config.replace("namespace: plugged", "namespace: Bad"),
    )
    .unwrap();
    let out = run(sb.path(), &[&arg], None, &[]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stdout, "");
    assert!(
        out.stderr
            .contains("error: functionConfig: `spec.namespace` must be a DNS-1123 label"),
        "{}",
        out.stderr
    );
}

#[test]
fn no_arguments_on_a_terminal_is_a_usage_hint_not_a_hang() {
    // stdin is /dev/null here (not a terminal): an empty ResourceList is an error, not a hang.
    let sb = Sandbox::vault();
    let out = run(sb.path(), &[], None, &[]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr
            .contains("stdin: expected one ResourceList document, found 0"),
        "{}",
        out.stderr
    );
}
