//! `kubevault can-read` and `kubevault who-can-read` on the quickstart vault (alice, bob in
//! `access_control/ops/`, carol), plus unknown names, broken vaults and the sentinel value.

mod common;

use common::{QUICKSTART, SENTINEL, in_repo, kubevault, write_tree};

fn can_read(user: &str, extra: &[&str]) -> String {
    let mut args = vec!["can-read", user, "--vault-dir", QUICKSTART];
    args.extend_from_slice(extra);
    in_repo(&args).snapshot(None)
}

fn who_can_read(identity: &str) -> String {
    in_repo(&["who-can-read", identity, "--vault-dir", QUICKSTART]).snapshot(None)
}

#[test]
fn can_read_lists_every_secret_sorted_by_identity() {
    insta::assert_snapshot!(can_read("alice", &[]), @r#"
    exit: 0
    --- stdout
    ● production-payments-db ("production/payments/db")
    ○ production-payments-stripe ("production/payments/stripe")
    ○ shared-smtp ("shared/smtp")
    ● shared-tls ("shared/tls")
    ○ staging-app-config ("staging/app/config")
    --- stderr
    "#);
    insta::assert_snapshot!(can_read("bob", &[]), @r#"
    exit: 0
    --- stdout
    ● production-payments-db ("production/payments/db")
    ○ production-payments-stripe ("production/payments/stripe")
    ● shared-smtp ("shared/smtp")
    ● shared-tls ("shared/tls")
    ● staging-app-config ("staging/app/config")
    --- stderr
    "#);
    insta::assert_snapshot!(can_read("carol", &["--show-only-allowed"]), @r#"
    exit: 0
    --- stdout
    ● staging-app-config ("staging/app/config")
    --- stderr
    "#);
}

#[test]
fn can_read_unknown_user() {
    insta::assert_snapshot!(can_read("dave", &[]), @r#"
    exit: 1
    --- stdout
    --- stderr
    error: no user "dave" in access_control/ (users: alice, bob, carol)
    "#);
}

#[test]
fn who_can_read_names_the_deciding_rule() {
    insta::assert_snapshot!(who_can_read("production/payments/db"), @r#"
    exit: 0
    --- stdout
    production-payments-db ("production/payments/db", from kvstore/production/payments/db.yaml)
    shape: Opaque (no metadata rule)
    ● alice  access_control/alice:2    production/**
    ● bob    access_control/ops/bob:5  production/payments/db
    denied by default (no rule matches): carol
    --- stderr
    "#);
    insta::assert_snapshot!(who_can_read("production/payments/stripe"), @r#"
    exit: 0
    --- stdout
    production-payments-stripe ("production/payments/stripe", from kvstore/production/payments/stripe)
    shape: Opaque (no metadata rule)
    nobody may read it
    ○ alice  access_control/alice:3    !production/payments/stripe
    ○ bob    access_control/ops/bob:4  !production/**
    denied by default (no rule matches): carol
    --- stderr
    "#);
    insta::assert_snapshot!(who_can_read("staging/app/config"), @r#"
    exit: 0
    --- stdout
    staging-app-config ("staging/app/config", from kvstore/staging/app/config.yml)
    shape: Opaque (no metadata rule)
    ● bob    access_control/ops/bob:3  **
    ● carol  access_control/carol:1    staging/**
    denied by default (no rule matches): alice
    --- stderr
    "#);
}

#[test]
fn who_can_read_hints_at_the_identity() {
    insta::assert_snapshot!(who_can_read("kvstore/staging/app/config.yml"), @r#"
    exit: 1
    --- stdout
    --- stderr
    error: no secret with identity "kvstore/staging/app/config.yml": did you mean "staging/app/config" (Secret staging-app-config)?
    "#);
    insta::assert_snapshot!(who_can_read("shared-tls"), @r#"
    exit: 1
    --- stdout
    --- stderr
    error: no secret with identity "shared-tls": did you mean "shared/tls" (Secret shared-tls)?
    "#);
    insta::assert_snapshot!(who_can_read("nothing/here"), @r#"
    exit: 1
    --- stdout
    --- stderr
    error: no secret with identity "nothing/here": an identity is the path under kvstore/ without .yaml; `kubevault can-read USER` lists them
    "#);
}

#[test]
fn the_vault_directory_comes_from_kubevault_dir_too() {
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_kubevault"))
        .args(["can-read", "carol"])
        .current_dir(common::repo())
        .env("KUBEVAULT_DIR", QUICKSTART)
        .env(
            "SOPS_AGE_KEY_FILE",
            common::repo().join("examples/quickstart/age-key.txt"),
        )
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(run.stdout).unwrap().lines().next(),
        Some("○ production-payments-db (\"production/payments/db\")")
    );
}

#[test]
fn no_value_is_ever_printed() {
    let tmp = tempfile::tempdir().unwrap();
    let secret = format!("password: {SENTINEL}\nuser: {SENTINEL}\n");
    write_tree(
        tmp.path(),
        &[
            ("vault/kvstore/app/db.yaml", &secret),
            ("vault/kvstore/app/other.yaml", &secret),
            ("vault/access_control/alice", "app/**\n!app/other\n"),
            ("vault/access_control/bob", "app/other\n"),
        ],
    );
    let runs = [
        kubevault(tmp.path(), &["can-read", "alice"], None),
        kubevault(
            tmp.path(),
            &["can-read", "bob", "--show-only-allowed"],
            None,
        ),
        kubevault(tmp.path(), &["who-can-read", "app/db"], None),
        kubevault(tmp.path(), &["who-can-read", "app/other"], None),
        kubevault(tmp.path(), &["check"], None),
    ];
    for run in &runs {
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(!run.stdout.is_empty());
        assert!(!run.all_output().contains(SENTINEL), "{}", run.all_output());
    }
    insta::assert_snapshot!(runs[3].snapshot(None), @r#"
    exit: 0
    --- stdout
    app-other ("app/other", from kvstore/app/other.yaml)
    shape: Opaque (no metadata rule)
    ● bob    access_control/bob:1    app/other
    ○ alice  access_control/alice:2  !app/other
    --- stderr
    "#);
}

#[test]
fn a_broken_vault_answers_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    write_tree(
        tmp.path(),
        &[
            (
                "vault/kvstore/app.yaml",
                &format!("k: {SENTINEL}\nk: again\n"),
            ),
            ("vault/access_control/alice", "app\n"),
        ],
    );
    let can = kubevault(tmp.path(), &["can-read", "alice"], None);
    let who = kubevault(tmp.path(), &["who-can-read", "app"], None);
    assert!(!can.all_output().contains(SENTINEL));
    assert_eq!(can.snapshot(None), who.snapshot(None));
    insta::assert_snapshot!(who.snapshot(None), @r#"
    exit: 1
    --- stdout
    --- stderr
    kvstore/app.yaml:2: error: key "k": duplicate key
    error: the vault has 1 error(s); fix them first (`kubevault check` lists every problem)
    "#);
}
