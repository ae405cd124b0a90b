//! How errors and warnings come out, through the real binary: all at once and sorted, with the
//! file path and resourceRef in KRM results, warnings without failing the run. (Each error of
//! SPEC §1–§4 is a case of the bad-input catalogue: tests/bad_input/spec_errors.rs.)

mod common;

use common::{SENTINEL, Sandbox, generate, krm};

/// `text` with `@S@` replaced by the sentinel.
fn s(text: &str) -> String {
    text.replace("@S@", SENTINEL)
}

#[test]
fn errors_come_out_sorted_and_all_at_once() {
    let sb = Sandbox::vault();
    sb.file("vault/kvstore/z", "a: [1]\n");
    sb.file("vault/kvstore/a", "- x\n");
    sb.file("vault/access_control/bob", "!\n");
    let out = generate(&sb);
    assert_eq!(out.code, 1);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(
        lines,
        [
            "access_control/bob:1: error: a bare `!` is not a rule: write `!pattern`",
            "kvstore/a:1: error: not a mapping of keys to values",
            "kvstore/z:1: error: key \"a\": value is a sequence; values must be scalars: write a \
             list as one value (a block scalar, `key: |`, with one item per line) or as flat keys \
             (`hosts.0`, `hosts.1`)",
        ]
    );
}

#[test]
fn krm_errors_carry_file_path_and_resource_ref() {
    let sb = Sandbox::vault();
    sb.file("vault/kvstore/app/db.yaml", s("a: 1\nb:\n  c: @S@\n"));
    let out = krm(&sb);
    assert_eq!(out.code, 1);
    out.assert_no_sentinel();
    for needle in [
        "- message: \"kvstore/app/db.yaml:2: key \\\"b\\\": value is a mapping; values must be scalars (no nesting): use flat keys",
        "  severity: error",
        "  resourceRef:\n    apiVersion: v1\n    kind: Secret\n    name: app-db\n    namespace: kubevault-kvstore",
        "  file:\n    path: kvstore/app/db.yaml",
    ] {
        assert!(
            out.stdout.contains(needle),
            "lacks {needle:?}:\n{}",
            out.stdout
        );
    }
}

#[test]
fn warnings_do_not_fail_the_run() {
    let sb = Sandbox::vault();
    sb.file("vault/kvstore/app", "k: v\n");
    sb.file("vault/kvstore/empty.yaml", "# nothing yet\n");
    sb.file("vault/access_control/alice", "app\nap/typo\n!nothing\n");
    sb.file("vault/access_control/nobody", "missing/**\n");
    let out = generate(&sb);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let lines: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(
        lines,
        [
            "access_control/alice:2: warning: rule `ap/typo` matches no secret (a typo?)",
            "access_control/alice:3: warning: deny rule `nothing` matches no secret (a typo?)",
            "access_control/nobody: warning: user \"nobody\" can read no secret: no Role is rendered",
            "access_control/nobody:1: warning: rule `missing/**` matches no secret (a typo?)",
            "kvstore/empty.yaml: warning: no keys: the Secret has no data",
        ]
    );
    assert!(
        !out.stdout.contains("kubevault:nobody:read"),
        "no Role for a user who reads nothing"
    );
    assert!(out.stdout.contains("name: nobody-token"));
}

#[test]
fn missing_access_control_is_a_warning() {
    let sb = Sandbox::vault();
    std::fs::remove_dir_all(sb.vault_dir().join("access_control")).unwrap();
    sb.file("vault/kvstore/app", "k: v\n");
    let out = generate(&sb);
    assert_eq!(out.code, 0);
    assert_eq!(
        out.stderr.trim(),
        "access_control: warning: no access_control/ folder: no users are rendered"
    );
}
