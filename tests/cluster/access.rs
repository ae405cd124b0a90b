//! Every user's token against real RBAC: `GET` is 200 for exactly the Secrets
//! `kubevault can-read USER --show-only-allowed` lists and 403 for every other Secret of the
//! namespace (token Secrets included), `LIST` is 403, and `kubectl auth can-i` agrees.

use std::path::Path;

use crate::harness::{self, Cluster, can_read, kubevault_ok, users, wait_for};

/// A vault whose users cover allow, deny, `*`, `**`, `?`, classes, alternatives, case and
/// last-match-wins; `dave` matches nothing.
pub const RULES_VAULT: &[(&str, &str)] = &[
    (
        "kvstore/production/payments/db.yaml",
        "user: app\npassword: s3cret\n",
    ),
    ("kvstore/production/payments/stripe", "key: sk_test_1\n"),
    ("kvstore/production/web/session.yaml", "key: abc\n"),
    ("kvstore/staging/app/config.yml", "debug: \"true\"\n"),
    ("kvstore/staging/web/config.yaml", "debug: \"false\"\n"),
    ("kvstore/shared/tls.yaml", "tls.crt: x\ntls.key: y\n"),
    ("kvstore/shared/smtp.yaml", "password: p\n"),
    ("kvstore/Team/Upper.yaml", "k: v\n"),
    (
        "access_control/alice",
        "# production, but not Stripe\nproduction/**\n!production/payments/stripe\nshared/tls\n",
    ),
    (
        "access_control/ops/bob",
        "**\n!production/**\nproduction/web/*\n",
    ),
    (
        "access_control/carol",
        "staging/*/config\nshared/{tls,smtp}\n",
    ),
    ("access_control/dave", "nothing/matches/**\n"),
    (
        "access_control/erin",
        "*/*/config\n!staging/web/config\nTeam/*\n",
    ),
    (
        "access_control/frank",
        "shared/?mtp\nproduction/payments/[a-d]*\nteam/*\n",
    ),
];

/// Writes `files` under `root/vault`.
pub fn write_vault(root: &Path, files: &[(&str, &str)]) {
    for (rel, text) in files {
        let path = root.join("vault").join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

/// `kubevault generate` of `root/vault` into `ns`, applied server-side as admin.
pub fn render_and_apply(cluster: &Cluster, root: &Path, ns: &str, extra: &[&str]) -> String {
    let mut args = vec!["generate", "--vault-dir", "vault", "-n", ns];
    args.extend(extra);
    let rendered = kubevault_ok(root, &args, None);
    cluster.kubectl().ok_in(
        &["apply", "--server-side", "-n", ns, "-f", "-"],
        Some(&rendered),
    );
    rendered
}

/// Checks one user's token against every Secret of `ns`.
pub fn assert_reads_exactly(cluster: &Cluster, root: &Path, ns: &str, user: &str) {
    let allowed = can_read(root, "vault", user);
    let token = cluster.token(ns, user);
    let as_user = cluster.kubectl_as(&token, root);
    // RBAC reaches the authorizer through an informer: wait until the first grant is visible.
    if let Some(first) = allowed.first() {
        let path = format!("/api/v1/namespaces/{ns}/secrets/{first}");
        wait_for(&format!("{user} to read {first}"), || {
            (cluster.http("GET", &path, &token, None).status == 200).then_some(())
        });
    }
    let secrets = cluster.kubectl().json(&["get", "secrets", "-n", ns]);
    let secrets = secrets["items"].as_array().unwrap();
    let names: Vec<&str> = secrets
        .iter()
        .map(|s| s["metadata"]["name"].as_str().unwrap())
        .collect();
    for name in &allowed {
        assert!(
            names.contains(&name.as_str()),
            "can-read lists {name}, which is not in the namespace"
        );
    }
    let mut token_secrets = 0;
    let mut refused_checked = false;
    for (name, secret) in names.iter().zip(secrets) {
        if secret["type"] == "kubernetes.io/service-account-token" {
            token_secrets += 1;
        }
        let expect = allowed.iter().any(|a| a == name);
        let path = format!("/api/v1/namespaces/{ns}/secrets/{name}");
        let got = cluster.http("GET", &path, &token, None);
        assert_eq!(
            got.status,
            if expect { 200 } else { 403 },
            "{user} GET {name}: {}",
            got.body
        );
        if expect {
            assert_eq!(got.json()["data"], secret["data"], "{user} GET {name}");
        }
        // One `kubectl auth can-i` per granted Secret, per token Secret of the user, and for
        // the first refused one (each call is a Go binary start; the full set is checked below).
        let own_token = name.starts_with(&format!("{user}-token"));
        if expect || own_token || !refused_checked {
            refused_checked |= !expect;
            assert_eq!(
                as_user.can_i("get", &format!("secret/{name}"), ns),
                expect,
                "kubectl auth can-i get secret/{name} as {user}"
            );
        }
    }
    // kubectl's own listing of the user's rules names exactly the granted Secrets.
    let listed = as_user.can_i_list_secret_names(ns);
    let mut want = allowed.clone();
    want.sort();
    assert_eq!(listed, want, "kubectl auth can-i --list as {user}");
    assert!(
        token_secrets >= users(&root.join("vault")).len(),
        "every user's token Secret was checked too: {names:?}"
    );
    let list = cluster.http(
        "GET",
        &format!("/api/v1/namespaces/{ns}/secrets"),
        &token,
        None,
    );
    assert_eq!(list.status, 403, "{user} LIST secrets: {}", list.body);
    assert!(!as_user.can_i("list", "secrets", ns), "{user} can-i list");
    assert!(!as_user.can_i("watch", "secrets", ns), "{user} can-i watch");
    // A name nobody rendered is not readable either (resourceNames is never empty).
    let other = cluster.http(
        "GET",
        &format!("/api/v1/namespaces/{ns}/secrets/not-rendered"),
        &token,
        None,
    );
    assert_eq!(other.status, 403, "{user} GET not-rendered");
}

pub fn every_user_reads_exactly_what_can_read_lists(cluster: &Cluster) {
    let ns = "access-rules";
    let root = tempfile::tempdir().unwrap();
    write_vault(root.path(), RULES_VAULT);
    cluster.namespace(ns);
    render_and_apply(cluster, root.path(), ns, &[]);
    let users = users(&root.path().join("vault"));
    assert_eq!(users, ["alice", "bob", "carol", "dave", "erin", "frank"]);
    // The rules must really differ, or this checks less than it claims.
    let sets: Vec<Vec<String>> = users
        .iter()
        .map(|u| can_read(root.path(), "vault", u))
        .collect();
    assert_eq!(
        sets[0],
        [
            "production-payments-db",
            "production-web-session",
            "shared-tls"
        ]
    );
    assert!(sets[3].is_empty(), "dave reads nothing");
    for user in &users {
        assert_reads_exactly(cluster, root.path(), ns, user);
    }
}

pub fn a_user_who_can_read_nothing_has_no_role_and_reads_nothing(cluster: &Cluster) {
    let ns = "access-nothing";
    let root = tempfile::tempdir().unwrap();
    write_vault(root.path(), RULES_VAULT);
    cluster.namespace(ns);
    let rendered = render_and_apply(cluster, root.path(), ns, &[]);
    assert!(can_read(root.path(), "vault", "dave").is_empty());
    let kinds: Vec<String> = harness::docs(&rendered)
        .iter()
        .filter(|o| o["metadata"]["name"].as_str().unwrap().contains("dave"))
        .map(harness::id)
        .collect();
    assert_eq!(kinds, ["ServiceAccount/dave", "Secret/dave-token"]);
    for kind in ["role", "rolebinding"] {
        let got = cluster
            .kubectl()
            .run(&["get", kind, "kubevault:dave:read", "-n", ns], None);
        assert!(
            got.code != 0 && got.stderr.contains("NotFound"),
            "{kind}: {got:?}"
        );
    }
    let roles = cluster
        .kubectl()
        .json(&["get", "roles,rolebindings", "-n", ns]);
    for item in roles["items"].as_array().unwrap() {
        let text = item.to_string();
        assert!(!text.contains("\"dave\""), "dave in {}", harness::id(item));
    }
    assert_reads_exactly(cluster, root.path(), ns, "dave");
}
