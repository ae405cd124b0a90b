//! Changes over time, as an operator makes them: re-render, re-apply with pruning, and the API
//! server takes away what the vault no longer grants (a rule, a secret, a whole user). Plus the
//! Roles of a user whose grants pass the per-object size limit.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::{Value, json};

use crate::access::{assert_reads_exactly, write_vault};
use std::process::Command;

use crate::harness::{self, Cluster, can_read, docs, kubevault_ok, wait_for};

/// The two pruning applies the README documents. `kubectl apply --prune -l` works only
/// client-side (kubectl refuses it with `--server-side`) and prunes only the kinds it is told.
pub const PRUNE_BY_LABEL: &[&str] = &[
    "apply",
    "--prune",
    "-l",
    "app.kubernetes.io/managed-by=kubevault",
    "--prune-allowlist=core/v1/Secret",
    "--prune-allowlist=core/v1/ServiceAccount",
    "--prune-allowlist=rbac.authorization.k8s.io/v1/Role",
    "--prune-allowlist=rbac.authorization.k8s.io/v1/RoleBinding",
    "-f",
    "-",
];

/// An ApplySet (`KUBECTL_APPLYSET=true`): server-side, and the parent ConfigMap records the kinds.
pub const PRUNE_BY_APPLYSET: &[&str] = &[
    "apply",
    "--server-side",
    "--prune",
    "--applyset=configmaps/kubevault",
    "-f",
    "-",
];

/// Renders `root/vault` into `ns` and applies it with a pruning apply; returns the stream.
fn render_and_prune(cluster: &Cluster, root: &Path, ns: &str, prune: &[&str]) -> String {
    let rendered = kubevault_ok(root, &["generate", "--vault-dir", "vault", "-n", ns], None);
    let mut args = prune.to_vec();
    args.extend(["-n", ns]);
    let apply = || {
        cluster
            .kubectl()
            .run_env(&args, Some(&rendered), &[("KUBECTL_APPLYSET", "true")])
    };
    let ran = apply();
    if ran.code != 0 && only_lost_token_races(&ran.stdout, &ran.stderr, ns) {
        // The README's documented race: the API server's token controller deletes a pruned
        // ServiceAccount's token Secret itself, so kubectl's own prune of it may find nothing.
        // Everything is gone all the same; the operator's second apply exits 0.
        let again = apply();
        assert_eq!(again.code, 0, "kubectl {args:?} (second apply): {again:?}");
        return rendered;
    }
    assert_eq!(ran.code, 0, "kubectl {args:?}: {ran:?}");
    rendered
}

/// True when every error line of a pruning apply is kubectl finding a token Secret already
/// deleted, and the ServiceAccount it belonged to was pruned in the same apply.
fn only_lost_token_races(stdout: &str, stderr: &str, ns: &str) -> bool {
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    !errors.is_empty()
        && errors.iter().all(|line| {
            let Some(rest) = line.strip_prefix(&format!("error: pruning Secret {ns}/")) else {
                return false;
            };
            let Some((secret, tail)) = rest.split_once(':') else {
                return false;
            };
            let Some(user) = secret.strip_suffix("-token") else {
                return false;
            };
            tail.trim() == format!("secrets \"{secret}\" not found")
                && stdout
                    .lines()
                    .any(|l| l == format!("serviceaccount/{user} pruned"))
        })
}

fn status(cluster: &Cluster, ns: &str, name: &str, token: &str) -> u16 {
    cluster
        .http(
            "GET",
            &format!("/api/v1/namespaces/{ns}/secrets/{name}"),
            token,
            None,
        )
        .status
}

fn wait_status(cluster: &Cluster, ns: &str, name: &str, token: &str, want: u16, what: &str) {
    wait_for(what, || {
        (status(cluster, ns, name, token) == want).then_some(())
    });
}

fn exists(cluster: &Cluster, ns: &str, kind: &str, name: &str) -> bool {
    let got = cluster.kubectl().run(&["get", kind, name, "-n", ns], None);
    match got.code {
        0 => true,
        _ if got.stderr.contains("NotFound") => false,
        _ => panic!("kubectl get {kind} {name}: {got:?}"),
    }
}

const REVOKE_VAULT: &[(&str, &str)] = &[
    ("kvstore/app/a.yaml", "k: a\n"),
    ("kvstore/app/b.yaml", "k: b\n"),
    ("kvstore/app/c.yaml", "k: c\n"),
    ("access_control/alice", "app/a\napp/b\n"),
    ("access_control/bob", "app/**\n"),
];

pub fn a_removed_rule_is_revoked_by_a_pruning_apply(cluster: &Cluster) {
    let ns = "revoke-rule";
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    write_vault(root, REVOKE_VAULT);
    cluster.namespace(ns);
    render_and_prune(cluster, root, ns, PRUNE_BY_LABEL);
    let alice = cluster.token(ns, "alice");
    let bob = cluster.token(ns, "bob");
    assert_reads_exactly(cluster, root, ns, "alice");

    // Remove one rule: that Secret is no longer readable with alice's token.
    write_vault(root, &[("access_control/alice", "app/a\n")]);
    render_and_prune(cluster, root, ns, PRUNE_BY_LABEL);
    wait_status(cluster, ns, "app-b", &alice, 403, "alice to lose app-b");
    assert_eq!(status(cluster, ns, "app-a", &alice), 200);
    assert_reads_exactly(cluster, root, ns, "alice");

    // Remove a secret file: the Secret itself is pruned, and bob's Role no longer names it.
    std::fs::remove_file(root.join("vault/kvstore/app/c.yaml")).unwrap();
    render_and_prune(cluster, root, ns, PRUNE_BY_LABEL);
    assert!(!exists(cluster, ns, "secret", "app-c"), "app-c was pruned");
    let role = cluster
        .kubectl()
        .json(&["get", "role", "kubevault:bob:read", "-n", ns]);
    assert_eq!(role["rules"][0]["resourceNames"], json!(["app-a", "app-b"]));
    assert_eq!(status(cluster, ns, "app-c", &bob), 403);
    assert_reads_exactly(cluster, root, ns, "bob");

    // Remove alice's last rule: her Role and RoleBinding are pruned and she reads nothing.
    write_vault(root, &[("access_control/alice", "# nothing any more\n")]);
    render_and_prune(cluster, root, ns, PRUNE_BY_LABEL);
    wait_status(cluster, ns, "app-a", &alice, 403, "alice to lose app-a");
    for kind in ["role", "rolebinding"] {
        assert!(
            !exists(cluster, ns, kind, "kubevault:alice:read"),
            "{kind} pruned"
        );
    }
    assert!(
        exists(cluster, ns, "serviceaccount", "alice"),
        "alice stays a user"
    );
    assert_reads_exactly(cluster, root, ns, "alice");
    assert_reads_exactly(cluster, root, ns, "bob");
}

pub fn a_deleted_user_loses_its_token(cluster: &Cluster) {
    let ns = "revoke-user";
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    write_vault(root, REVOKE_VAULT);
    cluster.namespace(ns);
    render_and_prune(cluster, root, ns, PRUNE_BY_APPLYSET);
    let alice = cluster.token(ns, "alice");
    wait_status(cluster, ns, "app-a", &alice, 200, "alice to read app-a");

    std::fs::remove_file(root.join("vault/access_control/alice")).unwrap();
    render_and_prune(cluster, root, ns, PRUNE_BY_APPLYSET);
    for (kind, name) in [
        ("serviceaccount", "alice"),
        ("secret", "alice-token"),
        ("role", "kubevault:alice:read"),
        ("rolebinding", "kubevault:alice:read"),
    ] {
        assert!(!exists(cluster, ns, kind, name), "{kind}/{name} pruned");
    }
    // The token is no longer accepted at all: 401, not merely 403.
    wait_status(
        cluster,
        ns,
        "app-a",
        &alice,
        401,
        "alice's token to stop working",
    );
    let review = cluster.http(
        "POST",
        "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
        &alice,
        Some(
            &json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
            "spec": {"namespace": ns}}),
        ),
    );
    assert_eq!(review.status, 401, "{}", review.body);
    // bob is untouched.
    assert_reads_exactly(cluster, root, ns, "bob");
}

/// Secrets whose names are long enough that one user's single Role would pass the API server's
/// 1.5 MiB object limit.
const BULK: usize = 7000;

fn bulk_name(i: usize) -> String {
    format!("bulk/{}-{i:05}", "x".repeat(220))
}

pub fn a_split_role_grants_exactly_the_same_set(cluster: &Cluster) {
    let ns = "split-role";
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    let mut files: Vec<(String, String)> = (0..BULK)
        .map(|i| {
            (
                format!("kvstore/{}.yaml", bulk_name(i)),
                format!("k: v{i}\n"),
            )
        })
        .collect();
    // Everything but the first ten; zoe reads one, so she keeps a single small Role.
    files.push((
        "access_control/alice".into(),
        "bulk/**\n!bulk/*-0000?\n".into(),
    ));
    files.push(("access_control/zoe".into(), "bulk/*-00042\n".into()));
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    write_vault(root, &files);
    let rendered = kubevault_ok(root, &["generate", "--vault-dir", "vault", "-n", ns], None);
    let objects = docs(&rendered);
    cluster.namespace(ns);

    let check = harness::run(
        Command::new(harness::kubevault()).current_dir(root).args([
            "check",
            "--vault-dir",
            "vault",
        ]),
        None,
    );
    assert_eq!(
        check.code, 0,
        "check accepts a vault whose Roles are split: {check:?}"
    );
    let allowed = can_read(root, "vault", "alice");
    assert_eq!(allowed.len(), BULK - 10);
    let roles: Vec<&Value> = objects
        .iter()
        .filter(|o| {
            o["kind"] == "Role"
                && o["metadata"]["name"]
                    .as_str()
                    .unwrap()
                    .starts_with("kubevault:alice:read")
        })
        .collect();
    let role_names: Vec<&str> = roles
        .iter()
        .map(|r| r["metadata"]["name"].as_str().unwrap())
        .collect();
    eprintln!(
        "split-role: alice has {} Role(s): {role_names:?}",
        roles.len()
    );
    assert!(
        roles.len() >= 2,
        "one Role would pass the limit: {role_names:?}"
    );
    assert_eq!(role_names[0], "kubevault:alice:read");
    assert_eq!(role_names[1], "kubevault:alice:read-2");
    for name in &role_names {
        let binding = objects
            .iter()
            .find(|o| o["kind"] == "RoleBinding" && o["metadata"]["name"] == *name)
            .unwrap_or_else(|| panic!("no RoleBinding {name}"));
        assert_eq!(binding["roleRef"]["name"], *name);
        assert_eq!(binding["subjects"][0]["name"], "alice");
    }
    // Apply the RBAC objects and a sample of the Secrets: authorization does not need the other
    // thousands to exist (a granted missing Secret is 404, a refused one 403).
    let sample: BTreeSet<String> = [0, 9, 10, 11, 42, BULK / 2, BULK - 1]
        .iter()
        .map(|&i| bulk_name(i).replace('/', "-"))
        .collect();
    let kept: Vec<Value> = objects
        .iter()
        .filter(|o| {
            o["type"] != "Opaque" || sample.contains(o["metadata"]["name"].as_str().unwrap())
        })
        .cloned()
        .collect();
    let ran = cluster.kubectl().run_env(
        &[PRUNE_BY_APPLYSET, &["-n", ns][..]].concat(),
        Some(&crate::harness::yaml_stream(&kept)),
        &[("KUBECTL_APPLYSET", "true")],
    );
    assert_eq!(ran.code, 0, "{ran:?}");
    let token = cluster.token(ns, "alice");

    // The API server's own view of alice's rules: the union over every Role is can-read's set.
    let granted = wait_for("alice's rules to cover can-read", || {
        let review = cluster.http(
            "POST",
            "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
            &token,
            Some(&json!({"apiVersion": "authorization.k8s.io/v1",
                "kind": "SelfSubjectRulesReview", "spec": {"namespace": ns}})),
        );
        assert_eq!(review.status, 201, "{}", review.body);
        let names = secret_get_names(&review.json());
        (names.len() >= allowed.len()).then_some(names)
    });
    let want: BTreeSet<String> = allowed.iter().cloned().collect();
    assert_eq!(
        granted.len(),
        want.len(),
        "granted {} names, can-read lists {}",
        granted.len(),
        want.len()
    );
    assert!(
        granted == want,
        "the union of alice's Roles is can-read's set"
    );

    for name in &sample {
        let want = if allowed.contains(name) { 200 } else { 403 };
        assert_eq!(status(cluster, ns, name, &token), want, "alice GET {name}");
    }
    // A granted name whose Secret was not applied: authorized (404), from every Role.
    for role in &roles {
        let names = role["rules"][0]["resourceNames"].as_array().unwrap();
        for name in [names.first().unwrap(), names.last().unwrap()] {
            let name = name.as_str().unwrap();
            if !sample.contains(name) {
                assert_eq!(status(cluster, ns, name, &token), 404, "alice GET {name}");
            }
        }
    }
    let list = cluster.http(
        "GET",
        &format!("/api/v1/namespaces/{ns}/secrets"),
        &token,
        None,
    );
    assert_eq!(list.status, 403);

    // Fewer grants later: one Role is enough again, and a pruning apply removes the extra ones.
    write_vault(root, &[("access_control/alice", "bulk/*-0000?\n")]);
    let narrowed = kubevault_ok(root, &["generate", "--vault-dir", "vault", "-n", ns], None);
    let narrowed: Vec<Value> = docs(&narrowed)
        .into_iter()
        .filter(|o| {
            o["type"] != "Opaque" || sample.contains(o["metadata"]["name"].as_str().unwrap())
        })
        .collect();
    let ran = cluster.kubectl().run_env(
        &[PRUNE_BY_APPLYSET, &["-n", ns][..]].concat(),
        Some(&crate::harness::yaml_stream(&narrowed)),
        &[("KUBECTL_APPLYSET", "true")],
    );
    assert_eq!(ran.code, 0, "{ran:?}");
    for name in &role_names[1..] {
        for kind in ["role", "rolebinding"] {
            assert!(!exists(cluster, ns, kind, name), "{kind} {name} pruned");
        }
    }
    let now = wait_for("alice's narrowed rules", || {
        let review = cluster.http(
            "POST",
            "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
            &token,
            Some(&json!({"apiVersion": "authorization.k8s.io/v1",
                "kind": "SelfSubjectRulesReview", "spec": {"namespace": ns}})),
        );
        let names = secret_get_names(&review.json());
        (names.len() == 10).then_some(names)
    });
    let want: BTreeSet<String> = can_read(root, "vault", "alice").into_iter().collect();
    assert!(now == want, "after narrowing: {now:?}");
}

/// The names a SelfSubjectRulesReview grants `get` on `secrets` for.
pub fn secret_get_names(review: &Value) -> BTreeSet<String> {
    review["status"]["resourceRules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["resources"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == "secrets"))
                && r["verbs"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == "get"))
        })
        .flat_map(|r| {
            r["resourceNames"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(|n| n.as_str().unwrap().to_string())
        })
        .collect()
}
