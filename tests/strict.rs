//! SPEC §9 "Warnings are visible": `--strict` on `generate` and `check`, and `spec.strict: true`
//! in the functionConfig (KRM function and legacy plugin), turn warnings into errors and render
//! nothing; without it the warning is printed and the run succeeds.

mod common;

use common::{Sandbox, resource_list, run};

/// A deny rule with a typo (`dv` for `db`): access stays granted, one warning.
fn typo_vault() -> Sandbox {
    let sb = Sandbox::vault();
    sb.file("vault/kvstore/prod/db.yaml", "password: x\n");
    sb.file("vault/access_control/alice", "prod/**\n!prod/dv/**\n");
    sb
}

const STRICT_CONFIG: &str = "apiVersion: kubevault.dev/v1alpha1\nkind: KubeVault\nmetadata:\n  name: test\nspec:\n  vaultDir: vault\n  strict: true\n";

#[test]
fn generate_strict_renders_nothing_on_a_warning() {
    let sb = typo_vault();
    let lax = run(sb.path(), &["generate", "--vault-dir", "vault"], None, &[]);
    assert_eq!(lax.code, 0);
    assert!(
        lax.stderr.contains("warning: deny rule `prod/dv/**`"),
        "{}",
        lax.stderr
    );
    let strict = run(
        sb.path(),
        &["generate", "--vault-dir", "vault", "--strict"],
        None,
        &[],
    );
    assert_eq!(strict.code, 1, "{}", strict.stderr);
    assert!(strict.stdout.is_empty());
    assert!(
        strict.stderr.contains("error: deny rule `prod/dv/**`"),
        "{}",
        strict.stderr
    );
}

#[test]
fn check_strict_fails_and_says_why() {
    let sb = typo_vault();
    let lax = run(sb.path(), &["check"], None, &[]);
    assert_eq!(lax.code, 0);
    assert_eq!(
        lax.stdout.lines().last(),
        Some("check passed with 1 warning: 1 secret, 1 user")
    );
    let strict = run(sb.path(), &["check", "--strict"], None, &[]);
    assert_eq!(strict.code, 1);
    assert_eq!(
        strict.stdout.lines().last(),
        Some("check failed: 1 warning (--strict): 1 secret, 1 user")
    );
}

#[test]
fn spec_strict_fails_the_krm_function_and_the_plugin() {
    let sb = typo_vault();
    let out = run(
        sb.path(),
        &[],
        Some(resource_list("", STRICT_CONFIG).as_bytes()),
        &[],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("error: deny rule `prod/dv/**`"),
        "{}",
        out.stderr
    );
    assert!(
        !out.stdout.contains("kind: Secret"),
        "nothing rendered: {}",
        out.stdout
    );
    assert!(out.stdout.contains("severity: error"), "{}", out.stdout);
    sb.file("strict.yaml", STRICT_CONFIG);
    let plugin = run(sb.path(), &["strict.yaml"], None, &[]);
    assert_eq!(plugin.code, 1, "{}", plugin.stderr);
    assert!(plugin.stdout.is_empty());
    // `strict: false` (and the ConfigMap form's "false") render as before.
    let lax = STRICT_CONFIG.replace("strict: true", "strict: false");
    let out = run(
        sb.path(),
        &[],
        Some(resource_list("", &lax).as_bytes()),
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: test\ndata:\n  vaultDir: vault\n  strict: \"true\"\n";
    let out = run(sb.path(), &[], Some(resource_list("", cm).as_bytes()), &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
}
