//! `kubevault new`: a fresh scaffold works with `check`, `generate` and (when installed) kpt at
//! once; a second run keeps everything; an existing vault gets no example files.

mod common;

use std::path::Path;

use common::{kubevault, write_tree};

fn tree(root: &Path) -> String {
    let mut files: Vec<String> = walkdir::WalkDir::new(root)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(root).unwrap().display().to_string();
            format!("==> {rel}\n{}", std::fs::read_to_string(e.path()).unwrap())
        })
        .collect();
    files.sort();
    files.concat()
}

#[test]
fn scaffold_then_generate_and_check() {
    let tmp = tempfile::tempdir().unwrap();
    let first = kubevault(tmp.path(), &["new"], None);
    insta::assert_snapshot!(first.snapshot(Some(tmp.path())), @"
    exit: 0
    --- stdout
    create vault/kvstore/example/greeting.yaml
    create vault/access_control/example-reader
    create vault/metadata.yaml
    create kustomization.yaml
    create fn-config.yaml
    create .krmignore
    create .gitignore
    next: kubevault check --vault-dir vault && kubevault generate --vault-dir vault
    --- stderr
    ");
    insta::assert_snapshot!("scaffold_files", tree(tmp.path()));
    let again = kubevault(tmp.path(), &["new"], None);
    insta::assert_snapshot!(again.snapshot(Some(tmp.path())), @"
    exit: 0
    --- stdout
    kept   vault/ (exists: no examples added)
    kept   kustomization.yaml (exists)
    kept   fn-config.yaml (exists)
    kept   .krmignore (exists)
    kept   .gitignore (exists)
    next: kubevault check --vault-dir vault && kubevault generate --vault-dir vault
    --- stderr
    ");
    let check = kubevault(tmp.path(), &["check", "--strict"], None);
    assert_eq!(check.code, 0, "{}", check.stdout);
    let generate = kubevault(tmp.path(), &["generate"], None);
    assert_eq!(generate.code, 0, "{}", generate.stderr);
    assert_eq!(generate.stderr, "");
    for name in [
        "name: example-greeting",
        "name: example-reader-token",
        "name: kubevault:example-reader:read",
        "  - example-greeting",
    ] {
        assert!(
            generate.stdout.contains(name),
            "{name}: {}",
            generate.stdout
        );
    }
    // The legacy plugin reads the same fn-config.yaml and renders the same objects.
    let plugin = kubevault(tmp.path(), &["fn-config.yaml"], None);
    assert_eq!(plugin.code, 0, "{}", plugin.stderr);
    assert_eq!(plugin.stdout, generate.stdout);
}

#[test]
fn nested_dir_and_namespace() {
    let tmp = tempfile::tempdir().unwrap();
    let run = kubevault(tmp.path(), &["new", "infra/secrets", "-n", "team-a"], None);
    insta::assert_snapshot!(run.snapshot(Some(tmp.path())), @"
    exit: 0
    --- stdout
    create infra/secrets/kvstore/example/greeting.yaml
    create infra/secrets/access_control/example-reader
    create infra/secrets/metadata.yaml
    create infra/kustomization.yaml
    create infra/fn-config.yaml
    create infra/.krmignore
    create infra/.gitignore
    next: kubevault check --vault-dir infra/secrets && kubevault generate --vault-dir infra/secrets
    --- stderr
    ");
    let fn_config = std::fs::read_to_string(tmp.path().join("infra/fn-config.yaml")).unwrap();
    assert!(fn_config.contains("  vaultDir: ./secrets\n  namespace: team-a\n"));
    let krmignore = std::fs::read_to_string(tmp.path().join("infra/.krmignore")).unwrap();
    assert!(krmignore.lines().any(|l| l == "secrets/"));
    let plugin = kubevault(&tmp.path().join("infra"), &["fn-config.yaml"], None);
    assert_eq!(plugin.code, 0, "{}", plugin.stderr);
    assert!(plugin.stdout.contains("namespace: team-a"));
}

#[test]
fn an_existing_vault_gets_wiring_but_no_examples() {
    let tmp = tempfile::tempdir().unwrap();
    write_tree(
        tmp.path(),
        &[
            ("vault/kvstore/app/db.yaml", "user: app\n"),
            ("kustomization.yaml", "resources: [deploy.yaml]\n"),
            (".krmignore", "build/\n"),
        ],
    );
    let run = kubevault(tmp.path(), &["new"], None);
    insta::assert_snapshot!(run.snapshot(Some(tmp.path())), @"
    exit: 0
    --- stdout
    kept   vault/ (exists: no examples added)
    create vault/access_control/
    kept   kustomization.yaml (exists)
    create fn-config.yaml
    kept   .krmignore (exists)
    create .gitignore
    next: kubevault check --vault-dir vault && kubevault generate --vault-dir vault
    --- stderr
    warning: kustomization.yaml does not use fn-config.yaml: add it under `generators:` to render the vault
    warning: .krmignore does not list `vault/`: kpt will read the vault files as KRM resources
    ");
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("kustomization.yaml")).unwrap(),
        "resources: [deploy.yaml]\n"
    );
    assert!(!tmp.path().join("vault/kvstore/example").exists());
}

#[test]
fn bad_namespace_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let run = kubevault(tmp.path(), &["new", "-n", "Team_A"], None);
    insta::assert_snapshot!(run.snapshot(Some(tmp.path())), @r#"
    exit: 2
    --- stdout
    --- stderr
    error: namespace "Team_A" is not a DNS-1123 label
    "#);
    assert!(std::fs::read_dir(tmp.path()).unwrap().next().is_none());
}

/// kpt must not read the vault files as KRM resources (the `.krmignore`): runs where kpt is
/// installed, as in CI.
#[test]
fn kpt_fn_eval_runs_on_the_scaffold() {
    let Ok(kpt) = which_kpt() else {
        eprintln!("kpt not installed: skipped");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    assert_eq!(kubevault(tmp.path(), &["new"], None).code, 0);
    let out = std::process::Command::new(kpt)
        .args(["fn", "eval", ".", "--exec", env!("CARGO_BIN_EXE_kubevault")])
        .args(["--fn-config", "fn-config.yaml", "-o", "stdout"])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("name: example-reader-token"), "{stdout}");
    assert!(!stdout.contains("message: hello"), "kpt read a vault file");
}

fn which_kpt() -> Result<std::path::PathBuf, ()> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join("kpt"))
        .find(|p| p.is_file())
        .ok_or(())
}
