//! The one pipeline, end to end: a Role over the API server's object limit is split into
//! several Roles (and RoleBindings) with the same content in `generate`, KRM and legacy plugin
//! mode, granting exactly what `can-read` says, and a later KRM run with fewer grants prunes the
//! extra ones; every limit of the README's limits table fails every mode the same way (exit 1,
//! nothing on stdout or only the input items in KRM mode, the message `check` gives).

mod common;

use std::collections::BTreeSet;

use common::{Output, Sandbox, run};
use serde_yaml::Value;

/// The API server's object limit kubevault keeps every object under (README, limits table).
const MAX_OBJECT_BYTES: usize = 1_572_864;

/// A functionConfig that renders what `generate` renders (generator `kubevault`, the default
/// namespace), for byte-for-byte comparisons.
const SAME_AS_GENERATE: &str = "apiVersion: kubevault.dev/v1alpha1\nkind: KubeVault\nmetadata:\n  name: kubevault\nspec:\n  vaultDir: vault\n";

/// A pass-through item for the KRM runs.
const CONFIG_MAP: &str = "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: app-settings\n    namespace: default\n  data:\n    mode: fast\n";

/// `count` secrets with 240-character names under `kvstore/long/`, one key each.
fn long_named_secrets(sb: &Sandbox, count: usize) {
    let dir = "d".repeat(200);
    for i in 0..count {
        sb.file(
            &format!("vault/kvstore/long/{dir}/s{i:05}-{}", "x".repeat(28)),
            "k: v\n",
        );
    }
}

fn docs(text: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(text)
        .map(|d| serde::Deserialize::deserialize(d).expect("valid YAML"))
        .filter(|v: &Value| !v.is_null())
        .collect()
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    path.iter()
        .try_fold(v, |v, k| v.get(k))
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// The Roles and RoleBindings of `user`, in output order.
fn rbac_of(objects: &[Value], user: &str) -> Vec<Value> {
    let prefix = format!("kubevault:{user}:read");
    objects
        .iter()
        .filter(|o| {
            matches!(str_at(o, &["kind"]), "Role" | "RoleBinding")
                && str_at(o, &["metadata", "name"]).starts_with(&prefix)
        })
        .cloned()
        .collect()
}

fn names(objects: &[Value]) -> Vec<String> {
    objects
        .iter()
        .map(|o| {
            format!(
                "{}/{}",
                str_at(o, &["kind"]),
                str_at(o, &["metadata", "name"])
            )
        })
        .collect()
}

/// The items of a KRM function's output.
fn items(stdout: &str) -> Vec<Value> {
    let list = docs(stdout).remove(0);
    list["items"].as_sequence().cloned().unwrap_or_default()
}

fn ok(out: &Output, what: &str) {
    assert_eq!(out.code, 0, "{what}: stderr:\n{}", out.stderr);
}

fn krm_run(sb: &Sandbox, items: &str) -> Output {
    run(
        sb.path(),
        &[],
        Some(common::resource_list(items, SAME_AS_GENERATE).as_bytes()),
        &[],
    )
}

#[test]
fn an_oversized_role_is_split_alike_in_every_mode() {
    let sb = Sandbox::vault();
    long_named_secrets(&sb, 7000);
    sb.file("vault/kvstore/app/db.yaml", "password: p\n");
    sb.file("vault/access_control/alice", "long/**\napp/db\n");
    sb.file("vault/access_control/bob", "app/db\n");

    let generated = run(sb.path(), &["generate", "--vault-dir", "vault"], None, &[]);
    ok(&generated, "generate");
    let objects = docs(&generated.stdout);
    let alice = rbac_of(&objects, "alice");
    assert_eq!(
        names(&alice),
        [
            "Role/kubevault:alice:read",
            "Role/kubevault:alice:read-2",
            "RoleBinding/kubevault:alice:read",
            "RoleBinding/kubevault:alice:read-2",
        ]
    );
    assert_eq!(
        names(&rbac_of(&objects, "bob")),
        ["Role/kubevault:bob:read", "RoleBinding/kubevault:bob:read"]
    );
    // Each Role is within the limit, as the documents of the stream show.
    for doc in generated.stdout.split("\n---\n") {
        assert!(doc.len() <= MAX_OBJECT_BYTES, "{} bytes", doc.len());
    }
    // Each RoleBinding binds the Role of its name to alice's ServiceAccount.
    for binding in &alice[2..] {
        assert_eq!(
            str_at(binding, &["roleRef", "name"]),
            str_at(binding, &["metadata", "name"])
        );
        assert_eq!(binding["subjects"][0]["name"].as_str(), Some("alice"));
    }
    // The union of the Roles' names is what can-read allows, each name once, sorted.
    let granted: Vec<String> = alice[..2]
        .iter()
        .flat_map(|role| {
            role["rules"][0]["resourceNames"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(|n| n.as_str().unwrap().to_string())
        })
        .collect();
    let mut sorted = granted.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(granted, sorted, "names sorted across the Roles, none twice");
    let can_read = run(
        sb.path(),
        &[
            "can-read",
            "alice",
            "--vault-dir",
            "vault",
            "--show-only-allowed",
        ],
        None,
        &[],
    );
    ok(&can_read, "can-read");
    let allowed: BTreeSet<String> = can_read
        .stdout
        .lines()
        .map(|l| l.split(' ').nth(1).unwrap().to_string())
        .collect();
    assert_eq!(allowed.len(), 7001);
    assert_eq!(granted.into_iter().collect::<BTreeSet<_>>(), allowed);

    // The legacy plugin prints the very same stream.
    sb.file("plugin-config.yaml", SAME_AS_GENERATE);
    let plugin = run(sb.path(), &["plugin-config.yaml"], None, &[]);
    ok(&plugin, "plugin");
    assert!(plugin.stdout == generated.stdout, "plugin output differs");

    // The KRM function appends the same objects after the pass-through item.
    let krm = krm_run(&sb, CONFIG_MAP);
    ok(&krm, "krm");
    let krm_items = items(&krm.stdout);
    assert_eq!(str_at(&krm_items[0], &["kind"]), "ConfigMap");
    assert!(
        krm_items[1..] == objects[..],
        "KRM objects differ from generate's"
    );

    // Fewer grants: the next KRM run, fed the previous output, prunes read-2.
    std::fs::write(sb.path().join("vault/access_control/alice"), "app/db\n").unwrap();
    let again = run(sb.path(), &[], Some(krm.stdout.as_bytes()), &[]);
    ok(&again, "krm again");
    let again_items = items(&again.stdout);
    assert_eq!(
        names(&rbac_of(&again_items, "alice")),
        [
            "Role/kubevault:alice:read",
            "RoleBinding/kubevault:alice:read"
        ]
    );
    assert!(
        !again.stdout.contains("kubevault:alice:read-2"),
        "read-2 was not pruned"
    );
    assert_eq!(str_at(&again_items[0], &["kind"]), "ConfigMap");
}

/// One limit of the README's table and a vault that breaks it.
struct Limit {
    name: &'static str,
    setup: fn(&Sandbox),
}

fn limits() -> Vec<Limit> {
    vec![
        Limit {
            name: "size of one vault file",
            setup: |sb| {
                sb.file("vault/kvstore/big", format!("k: {}\n", "a".repeat(1 << 20)));
            },
        },
        Limit {
            name: "one Secret's keys and values",
            setup: |sb| {
                let half = "a".repeat(600_000);
                sb.file("vault/kvstore/big", format!("a: &x {half}\nb: *x\n"));
            },
        },
        Limit {
            name: "keys in one secret file",
            setup: |sb| {
                let keys: String = (0..1025).map(|i| format!("k{i}: v\n")).collect();
                sb.file("vault/kvstore/many", keys);
            },
        },
        Limit {
            name: "YAML nesting in a secret file",
            setup: |sb| {
                sb.file(
                    "vault/kvstore/deep",
                    format!("k: {}{}\n", "[".repeat(17), "]".repeat(17)),
                );
            },
        },
        Limit {
            name: "alias expansion in a secret file",
            setup: |sb| {
                let mut text = format!("a: &a0 {}\n", "x".repeat(1000));
                for i in 1..12 {
                    let prev = i - 1;
                    text.push_str(&format!(
                        "a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
                    ));
                }
                sb.file("vault/kvstore/laughs", text);
            },
        },
        Limit {
            name: "control characters in YAML",
            setup: |sb| {
                sb.file("vault/kvstore/bell", "k: v\u{7}\n");
            },
        },
        Limit {
            name: "path depth",
            setup: |sb| {
                let deep = vec!["d"; 33].join("/");
                sb.file(&format!("vault/kvstore/{deep}"), "k: v\n");
            },
        },
        Limit {
            name: "path length",
            setup: |sb| {
                let long = vec!["p".repeat(200); 6].join("/");
                sb.file(&format!("vault/kvstore/{long}"), "k: v\n");
            },
        },
        Limit {
            name: "file names are UTF-8",
            setup: |sb| {
                use std::os::unix::ffi::OsStrExt;
                let name = std::ffi::OsStr::from_bytes(b"caf\xe9.yaml");
                std::fs::write(sb.path().join("vault/kvstore").join(name), "k: v\n").unwrap();
            },
        },
        Limit {
            name: "rule line length",
            setup: |sb| {
                sb.file(
                    "vault/access_control/bob",
                    format!("{}\n", "a".repeat(1025)),
                );
            },
        },
        Limit {
            name: "rules in one file",
            setup: |sb| {
                let rules: String = (0..1001).map(|i| format!("r{i}\n")).collect();
                sb.file("vault/access_control/bob", rules);
            },
        },
        Limit {
            name: "{...} groups in one rule",
            setup: |sb| {
                sb.file(
                    "vault/access_control/bob",
                    format!("{}\n", "{a,b}".repeat(9)),
                );
            },
        },
        Limit {
            name: "control characters in a rule",
            setup: |sb| {
                sb.file("vault/access_control/bob", "app/\u{1}x\n");
            },
        },
        Limit {
            name: "symlinks expanded while resolving one path",
            setup: |sb| {
                sb.symlink("loop", "vault/kvstore/loop");
            },
        },
        Limit {
            name: "all rendered objects together",
            setup: |sb| {
                // 20,000 secrets with long names and 240 users who read them all: about 4.9 MB
                // of Roles per user, more than 1.1 GiB in all.
                long_named_secrets(sb, 20_000);
                for u in 0..240 {
                    sb.file(&format!("vault/access_control/u{u:03}"), "long/**\n");
                }
            },
        },
    ]
}

/// The error lines of a run's messages (`path:line: error: ...`), sorted.
fn errors(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text
        .lines()
        // `check`'s verdict line ("check failed with 1 error: ...") is not a message.
        .filter(|l| l.contains("error: ") && !l.starts_with("check "))
        .map(str::to_string)
        .collect();
    lines.sort();
    lines
}

#[test]
fn every_limit_fails_every_mode_alike() {
    let mut failures = Vec::new();
    for limit in limits() {
        let sb = Sandbox::vault();
        sb.file("vault/kvstore/app/db.yaml", "password: p\n");
        sb.file("vault/access_control/alice", "app/**\n");
        sb.file("plugin-config.yaml", SAME_AS_GENERATE);
        (limit.setup)(&sb);
        let check = run(sb.path(), &["check", "--vault-dir", "vault"], None, &[]);
        let want = errors(&check.stdout);
        let mut problems = Vec::new();
        if check.code != 1 || want.is_empty() {
            problems.push(format!("check: exit {}, errors {want:?}", check.code));
        }
        let runs = [
            (
                "generate",
                run(sb.path(), &["generate", "--vault-dir", "vault"], None, &[]),
            ),
            ("plugin", run(sb.path(), &["plugin-config.yaml"], None, &[])),
            ("krm", krm_run(&sb, CONFIG_MAP)),
        ];
        for (mode, out) in &runs {
            if out.code != 1 {
                problems.push(format!("{mode}: exit {}", out.code));
            }
            if errors(&out.stderr) != want {
                problems.push(format!(
                    "{mode}: errors {:?} instead of check's",
                    errors(&out.stderr)
                ));
            }
            let printed_ok = match *mode {
                "krm" => {
                    let items = items(&out.stdout);
                    items.len() == 1 && str_at(&items[0], &["kind"]) == "ConfigMap"
                }
                _ => out.stdout.is_empty(),
            };
            if !printed_ok {
                let shown: String = out.stdout.chars().take(300).collect();
                problems.push(format!("{mode}: printed {shown:?}"));
            }
        }
        failures.extend(
            problems
                .into_iter()
                .map(|p| format!("[{}] {p}", limit.name)),
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
