//! `kubevault check`: clean, broken and warning-only vaults, in text and JSON, with and without
//! `--strict`; the planted sentinel value never shows up.

mod common;

use common::{QUICKSTART, SENTINEL, in_repo, kubevault, write_tree};

fn broken_vault(root: &std::path::Path) -> std::path::PathBuf {
    let duplicate = format!("password: {SENTINEL}\npassword: {SENTINEL}-2\n");
    let nested = format!("conf:\n  inner: {SENTINEL}\n");
    let ok = format!("user: {SENTINEL}\n");
    write_tree(
        &root.join("vault"),
        &[
            ("kvstore/app/db.yaml", &duplicate),
            ("kvstore/app/nested.yaml", &nested),
            ("kvstore/app/ok.yaml", &ok),
            ("kvstore/empty.yaml", "# nothing yet\n"),
            ("access_control/dave", "app/**\n!app/typo\n"),
            ("access_control/Eve", "app/**\n"),
            ("access_control/frank", "app/[x\n"),
        ],
    )
}

#[test]
fn quickstart_is_clean() {
    let run = in_repo(&["check", "--vault-dir", QUICKSTART]);
    insta::assert_snapshot!(run.snapshot(None), @"
    exit: 0
    --- stdout
    check passed: 5 secrets, 3 users
    --- stderr
    ");
}

#[test]
fn every_problem_on_its_own_line_then_a_summary() {
    let tmp = tempfile::tempdir().unwrap();
    broken_vault(tmp.path());
    let run = kubevault(tmp.path(), &["check"], None);
    assert!(!run.all_output().contains(SENTINEL));
    insta::assert_snapshot!(run.snapshot(Some(tmp.path())));
}

#[test]
fn json_format() {
    let tmp = tempfile::tempdir().unwrap();
    broken_vault(tmp.path());
    let run = kubevault(tmp.path(), &["check", "--format", "json"], None);
    assert!(!run.all_output().contains(SENTINEL));
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("stdout is JSON");
    assert_eq!(doc["ok"], false);
    insta::assert_snapshot!(run.snapshot(Some(tmp.path())));
}

#[test]
fn warnings_pass_unless_strict() {
    let tmp = tempfile::tempdir().unwrap();
    write_tree(
        tmp.path(),
        &[
            ("vault/kvstore/app.yaml", "k: v\n"),
            ("vault/access_control/alice", "app\n!ap\n"),
        ],
    );
    let run = kubevault(tmp.path(), &["check"], None);
    insta::assert_snapshot!(run.snapshot(Some(tmp.path())), @"
    exit: 0
    --- stdout
    access_control/alice:2: warning: deny rule `ap` matches no secret (a typo?); the nearest identity is `app`: write `!app`
    check passed with 1 warning: 1 secret, 1 user
    --- stderr
    ");
    let strict = kubevault(tmp.path(), &["check", "--strict"], None);
    insta::assert_snapshot!(strict.snapshot(Some(tmp.path())), @"
    exit: 1
    --- stdout
    access_control/alice:2: warning: deny rule `ap` matches no secret (a typo?); the nearest identity is `app`: write `!app`
    check failed: 1 warning (--strict): 1 secret, 1 user
    --- stderr
    ");
}

#[test]
fn missing_vault_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let run = kubevault(tmp.path(), &["check", "--vault-dir", "nowhere"], None);
    insta::assert_snapshot!(run.snapshot(Some(tmp.path())), @"
    exit: 1
    --- stdout
    error: vault directory [TMP]/nowhere cannot be read: no such file or directory
    check failed with 1 error: 0 secrets, 0 users
    --- stderr
    ");
}
