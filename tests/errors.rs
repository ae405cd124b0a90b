//! Every error of SPEC §1–§3, through the real binary in both `generate` and KRM mode: exit 1,
//! a message naming file, line or key, nothing rendered, and the planted sentinel nowhere.

mod common;

use common::{SENTINEL, Sandbox, generate, krm};

/// A case: how to break a vault, and what the message must contain.
struct Case {
    name: &'static str,
    setup: fn(&Sandbox),
    needles: &'static [&'static str],
}

fn s(text: &str) -> String {
    text.replace("@S@", SENTINEL)
}

fn cases() -> Vec<Case> {
    vec![
        // §1 vault directory
        Case {
            name: "missing vault dir",
            setup: |sb| {
                std::fs::remove_dir_all(sb.vault_dir()).unwrap();
            },
            needles: &["vault directory [TMP]/vault cannot be read"],
        },
        Case {
            name: "missing kvstore",
            setup: |sb| {
                std::fs::remove_dir_all(sb.vault_dir().join("kvstore")).unwrap();
            },
            needles: &[
                "kvstore: error: the vault directory",
                "has no kvstore/ folder",
            ],
        },
        Case {
            name: "file symlink out of the vault",
            setup: |sb| {
                sb.file("outside/key", s("k: @S@\n"));
                sb.symlink(sb.path().join("outside/key"), "vault/kvstore/stolen");
            },
            needles: &["kvstore/stolen: error: symlink points outside the vault directory"],
        },
        Case {
            name: "directory symlink out of the vault",
            setup: |sb| {
                sb.file("outside/etc/passwd", s("k: @S@\n"));
                sb.symlink(sb.path().join("outside/etc"), "vault/kvstore/etc");
            },
            needles: &["kvstore/etc: error: symlink points outside the vault directory"],
        },
        Case {
            name: "dangling symlink",
            setup: |sb| {
                sb.symlink("nowhere", "vault/kvstore/dangling");
            },
            needles: &["kvstore/dangling: error: dangling symlink"],
        },
        Case {
            name: "symlink loop",
            setup: |sb| {
                sb.symlink("loop", "vault/kvstore/loop");
            },
            needles: &["kvstore/loop: error: symlink loop"],
        },
        Case {
            name: "fifo",
            setup: |sb| {
                let path = sb.vault_dir().join("kvstore/fifo");
                let ok = std::process::Command::new("mkfifo")
                    .arg(&path)
                    .status()
                    .unwrap()
                    .success();
                assert!(ok, "mkfifo");
            },
            needles: &["kvstore/fifo: error: not a regular file (a FIFO)"],
        },
        Case {
            name: "file over 1 MiB",
            setup: |sb| {
                sb.file(
                    "vault/kvstore/big",
                    format!("k: {}{SENTINEL}\n", "x".repeat(1 << 20)),
                );
            },
            needles: &["kvstore/big: error: file is 1048617 bytes, more than the 1 MiB limit"],
        },
        Case {
            name: "two files, one identity",
            setup: |sb| {
                sb.file("vault/kvstore/db", s("k: @S@\n"));
                sb.file("vault/kvstore/db.yaml", s("k: @S@\n"));
            },
            needles: &["kvstore/db.yaml: error: same secret identity \"db\" as kvstore/db"],
        },
        Case {
            name: "two identities, one name",
            setup: |sb| {
                sb.file("vault/kvstore/App/DB", s("k: @S@\n"));
                sb.file("vault/kvstore/app_db", s("k: @S@\n"));
            },
            needles: &["kvstore/app_db: error: same Secret name \"app-db\" as kvstore/App/DB"],
        },
        Case {
            name: "name not DNS-1123",
            setup: |sb| {
                sb.file("vault/kvstore/_hidden-ish", s("k: @S@\n"));
            },
            needles: &["kvstore/_hidden-ish: error: secret name \"-hidden-ish\""],
        },
        Case {
            name: "name too long",
            setup: |sb| {
                sb.file(
                    &format!("vault/kvstore/{}", "a".repeat(200) + "/" + &"b".repeat(60)),
                    s("k: @S@\n"),
                );
            },
            needles: &["is not a valid Kubernetes name"],
        },
        // §2 secret files
        Case {
            name: "not a mapping",
            setup: |sb| {
                sb.file("vault/kvstore/list", s("- @S@\n"));
            },
            needles: &["kvstore/list:1: error: not a mapping"],
        },
        Case {
            name: "nested mapping",
            setup: |sb| {
                sb.file("vault/kvstore/n", s("a: 1\nb:\n  c: @S@\n"));
            },
            needles: &["kvstore/n:2: error: key \"b\": value is a mapping"],
        },
        Case {
            name: "sequence value",
            setup: |sb| {
                sb.file("vault/kvstore/n", s("a: [@S@]\n"));
            },
            needles: &["kvstore/n:1: error: key \"a\": value is a sequence"],
        },
        Case {
            name: "duplicate key",
            setup: |sb| {
                sb.file("vault/kvstore/d", s("a: @S@\nb: 2\na: @S@\n"));
            },
            needles: &["kvstore/d:3: error: key \"a\": duplicate key"],
        },
        Case {
            name: "two documents",
            setup: |sb| {
                sb.file("vault/kvstore/d", s("a: @S@\n---\nb: @S@\n"));
            },
            needles: &["kvstore/d:3: error: more than one YAML document"],
        },
        Case {
            name: "bad key characters",
            setup: |sb| {
                sb.file("vault/kvstore/k", s("good: 1\nbad/key: @S@\n"));
            },
            needles: &["kvstore/k:2: error: key \"bad/key\": may only contain"],
        },
        Case {
            name: "key `..x`",
            setup: |sb| {
                sb.file("vault/kvstore/k", s("..x: @S@\n"));
            },
            needles: &["kvstore/k:1: error: key \"..x\": must not be"],
        },
        Case {
            name: "key `.`",
            setup: |sb| {
                sb.file("vault/kvstore/k", s("'.': @S@\n"));
            },
            needles: &["kvstore/k:1: error: key \".\": must not be"],
        },
        Case {
            name: "key over 253",
            setup: |sb| {
                sb.file(
                    "vault/kvstore/k",
                    format!("{}: {SENTINEL}\n", "k".repeat(254)),
                );
            },
            needles: &["kvstore/k:1: error: key", "must be 1 to 253 characters"],
        },
        Case {
            name: "values over 1 MiB via aliases",
            setup: |sb| {
                let mut text = format!("a: &a {}{SENTINEL}\n", "x".repeat(4000));
                for i in 0..300 {
                    text.push_str(&format!("k{i}: *a\n"));
                }
                sb.file("vault/kvstore/alias", text);
            },
            needles: &["kvstore/alias:", "more than 1048576 bytes"],
        },
        Case {
            name: "invalid UTF-8",
            setup: |sb| {
                sb.file(
                    "vault/kvstore/u",
                    [s("ok: @S@\nbad: ").as_bytes(), b"caf\xe9\n"].concat(),
                );
            },
            needles: &["kvstore/u:2: error: key \"bad\": value is not valid UTF-8"],
        },
        Case {
            name: "custom tag",
            setup: |sb| {
                sb.file("vault/kvstore/t", s("a: !vault @S@\n"));
            },
            needles: &[
                "kvstore/t:1: error: key \"a\": the value starts with `!`, which YAML reads as a tag",
                "put the whole value in quotes",
            ],
        },
        Case {
            name: "invalid !!binary",
            setup: |sb| {
                sb.file("vault/kvstore/b", s("a: !!binary '@S@%%'\n"));
            },
            needles: &["kvstore/b:1: error: key \"a\": `!!binary` value is not valid base64"],
        },
        Case {
            name: "merge key",
            setup: |sb| {
                sb.file("vault/kvstore/m", s("<<: {a: @S@}\n"));
            },
            needles: &["kvstore/m:1: error: key \"<<\": merge keys"],
        },
        Case {
            name: "invalid YAML",
            setup: |sb| {
                sb.file("vault/kvstore/y", s("a: \"@S@\nb: [\n"));
            },
            needles: &["kvstore/y:", "invalid YAML"],
        },
        // §3 access control
        Case {
            name: "unbalanced [",
            setup: |sb| {
                sb.file("vault/access_control/alice", "ok/**\napp/[ab\n");
            },
            needles: &["access_control/alice:2: error: pattern `app/[ab` has an unclosed `[`"],
        },
        Case {
            name: "unbalanced ]",
            setup: |sb| {
                sb.file("vault/access_control/alice", "app/ab]\n");
            },
            needles: &["access_control/alice:1: error: pattern `app/ab]` has a `]` without `[`"],
        },
        Case {
            name: "unbalanced {",
            setup: |sb| {
                sb.file("vault/access_control/alice", "# c\n\napp/{a,b\n");
            },
            needles: &["access_control/alice:3: error: pattern `app/{a,b` has an unclosed `{`"],
        },
        Case {
            name: "unbalanced }",
            setup: |sb| {
                sb.file("vault/access_control/alice", "app/a}\n");
            },
            needles: &["access_control/alice:1: error: pattern `app/a}` has a `}` without `{`"],
        },
        Case {
            name: "bare !",
            setup: |sb| {
                sb.file("vault/access_control/alice", "**\n!\n");
            },
            needles: &["access_control/alice:2: error: a bare `!`"],
        },
        Case {
            name: "!! prefix",
            setup: |sb| {
                sb.file("vault/access_control/alice", "!!app\n");
            },
            needles: &["access_control/alice:1: error: rule `!!app` starts with `!!`"],
        },
        Case {
            name: "user name not a label",
            setup: |sb| {
                sb.file("vault/access_control/Alice.txt", "**\n");
            },
            needles: &["access_control/Alice.txt: error: user name \"Alice.txt\""],
        },
        Case {
            name: "user name too long",
            setup: |sb| {
                sb.file(&format!("vault/access_control/{}", "u".repeat(64)), "**\n");
            },
            needles: &["is not a DNS-1123 label"],
        },
        Case {
            name: "two files, one user",
            setup: |sb| {
                sb.file("vault/access_control/bob", "**\n");
                sb.file("vault/access_control/ops/bob", "**\n");
            },
            needles: &[
                "access_control/ops/bob: error: user \"bob\" is already defined by access_control/bob",
            ],
        },
        Case {
            name: "access file not UTF-8",
            setup: |sb| {
                sb.file("vault/access_control/alice", b"app/\xff\n");
            },
            needles: &["access_control/alice: error: access-control file is not UTF-8"],
        },
        // §4 clash between a kvstore Secret and a token Secret
        Case {
            name: "token name clash",
            setup: |sb| {
                sb.file("vault/kvstore/alice-token", s("k: @S@\n"));
                sb.file("vault/access_control/alice", "**\n");
            },
            needles: &[
                "kvstore/alice-token: error: Secret \"alice-token\" from kvstore/alice-token clashes with the one from access_control/alice",
            ],
        },
    ]
}

/// A healthy vault around each broken piece, with the sentinel in a valid secret too.
fn sandbox_for(case: &Case) -> Sandbox {
    let sb = Sandbox::vault();
    sb.file("vault/kvstore/valid/app.yaml", s("password: @S@\n"));
    sb.file("vault/access_control/zed", "valid/**\n");
    (case.setup)(&sb);
    sb
}

#[test]
fn every_error_fails_both_modes_without_leaking() {
    let mut failures = Vec::new();
    for case in cases() {
        let sb = sandbox_for(&case);
        for (mode, out) in [("generate", generate(&sb)), ("krm", krm(&sb))] {
            out.assert_no_sentinel();
            let stderr = sb.redact(&out.stderr);
            let problems = [
                (out.code != 1).then(|| format!("exit {} instead of 1", out.code)),
                case.needles
                    .iter()
                    .find(|n| !stderr.contains(*n))
                    .map(|n| format!("stderr lacks {n:?}")),
                (mode == "generate" && !out.stdout.is_empty())
                    .then(|| "generate printed objects".to_string()),
                (mode == "krm" && out.stdout.contains("kubevault.dev/generator"))
                    .then(|| "KRM output holds generated objects".to_string()),
                (mode == "krm" && !out.stdout.contains("severity: error"))
                    .then(|| "KRM output lacks an error result".to_string()),
            ];
            for p in problems.into_iter().flatten() {
                failures.push(format!("[{}] {mode}: {p}\nstderr:\n{stderr}", case.name));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
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
