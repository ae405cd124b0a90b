//! External Secrets Operator wiring: `external-secret-store` on a token Secret as kubectl prints it
//! (YAML and JSON), `external-secret` on the quickstart vault, every failure case, and every ESO
//! object printed validated against the `v1` `openAPIV3Schema` of the ESO CRDs in
//! `tests/fixtures/eso/` (objects get `additionalProperties: false`, as the API server prunes
//! unknown fields, so a misspelt field fails too).

mod common;

use common::eso::{docs, schema_errors};
use common::{QUICKSTART, in_repo, kubevault, repo};
use serde_json::Value as Json;
const SERVER: &str = "https://vault.example.com:6443";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(repo().join("tests/fixtures").join(name)).unwrap()
}

fn store(args: &[&str], stdin: &[u8]) -> common::Run {
    let mut all = vec!["external-secret-store"];
    all.extend_from_slice(args);
    kubevault(repo(), &all, Some(stdin))
}

/// Every ESO object in `stdout` validates; returns how many there were.
fn assert_eso_valid(stdout: &str) -> usize {
    let mut n = 0;
    for doc in docs(stdout) {
        if doc["apiVersion"] == "v1" {
            assert_eq!(doc["kind"], "Secret");
            continue;
        }
        let errors = schema_errors(&doc);
        assert!(errors.is_empty(), "{}: {errors:#?}", doc["kind"]);
        n += 1;
    }
    n
}

#[test]
fn namespaced_store_from_kubectl_yaml() {
    let run = store(&["alice", "--server", SERVER], &fixture("alice-token.yaml"));
    assert_eq!(assert_eso_valid(&run.stdout), 1);
    insta::assert_snapshot!(run.snapshot(None));
}

#[test]
fn json_input_gives_the_same_objects() {
    let yaml = store(
        &["alice", "--server", SERVER, "--namespace", "payments"],
        &fixture("alice-token.yaml"),
    );
    let json = store(
        &["alice", "--server", SERVER, "--namespace", "payments"],
        &fixture("alice-token.json"),
    );
    assert_eq!(yaml.code, 0);
    assert_eq!(yaml.snapshot(None), json.snapshot(None));
    assert_eq!(assert_eso_valid(&json.stdout), 1);
    let objects = docs(&json.stdout);
    assert_eq!(objects[0]["metadata"]["namespace"], "payments");
    assert_eq!(objects[1]["metadata"]["namespace"], "payments");
}

#[test]
fn cluster_store_names_the_namespace_on_every_reference() {
    let run = store(
        &[
            "alice",
            "--server",
            SERVER,
            "--clustered",
            "--namespace",
            "external-secrets",
            "--name",
            "vault-alice",
        ],
        &fixture("alice-token.yaml"),
    );
    assert_eq!(assert_eso_valid(&run.stdout), 1);
    let store = &docs(&run.stdout)[1];
    let k8s = &store["spec"]["provider"]["kubernetes"];
    assert_eq!(k8s["server"]["caProvider"]["namespace"], "external-secrets");
    assert_eq!(
        k8s["auth"]["token"]["bearerToken"]["namespace"],
        "external-secrets"
    );
    insta::assert_snapshot!(run.snapshot(None));
}

#[test]
fn flag_errors_exit_2() {
    let token = fixture("alice-token.yaml");
    let table: &[&[&str]] = &[
        &["alice", "--server", "http://vault.example.com"],
        &["alice", "--server", "https://"],
        &["alice", "--server", SERVER, "--clustered"],
        &[
            "Alice",
            "--server",
            SERVER,
            "--namespace",
            "Bad_NS",
            "--name=-x",
        ],
    ];
    let out: String = table
        .iter()
        .map(|args| {
            let run = store(args, &token);
            format!("$ {}\n{}", args.join(" "), run.snapshot(None))
        })
        .collect();
    insta::assert_snapshot!(out);
}

#[test]
fn token_secret_errors_exit_1_without_values() {
    let token = String::from_utf8(fixture("alice-token.yaml")).unwrap();
    let opaque = token.replace("type: kubernetes.io/service-account-token", "type: Opaque");
    let no_ca: String = token
        .lines()
        .filter(|l| !l.contains("ca.crt"))
        .map(|l| format!("{l}\n"))
        .collect();
    let configmap = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n";
    let cases: &[(&str, &[&str], &str)] = &[
        ("bob's store from alice's token", &["bob"], &token),
        ("an Opaque Secret", &["alice"], &opaque),
        ("no ca.crt yet", &["alice"], &no_ca),
        ("a ConfigMap", &["alice"], configmap),
        ("nothing", &["alice"], ""),
        ("two documents", &["alice"], &format!("{token}---\n{token}")),
    ];
    let mut out = String::new();
    for (what, user, stdin) in cases {
        let mut args = user.to_vec();
        args.extend(["--server", SERVER]);
        let run = store(&args, stdin.as_bytes());
        assert!(!run.all_output().contains("ZXlK"), "the token leaked");
        assert!(!run.all_output().contains("LS0t"), "the CA leaked");
        out.push_str(&format!("## {what}\n{}", run.snapshot(None)));
    }
    insta::assert_snapshot!(out);
}

#[test]
fn external_secret_for_a_quickstart_secret() {
    let run = in_repo(&[
        "external-secret",
        "production/payments/db",
        "--vault-dir",
        QUICKSTART,
    ]);
    assert_eq!(assert_eso_valid(&run.stdout), 1);
    insta::assert_snapshot!(run.snapshot(None));
}

#[test]
fn external_secret_through_a_cluster_store() {
    let run = in_repo(&[
        "external-secret",
        "shared/tls",
        "--vault-dir",
        QUICKSTART,
        "--clustered",
        "--store",
        "vault-alice",
        "--refresh",
        "15m",
    ]);
    assert_eq!(assert_eso_valid(&run.stdout), 1);
    insta::assert_snapshot!(run.snapshot(None));
}

#[test]
fn external_secret_errors() {
    let cases: &[&[&str]] = &[
        &[
            "external-secret",
            "production/payments/db.yaml",
            "--vault-dir",
            QUICKSTART,
        ],
        &[
            "external-secret",
            "shared/tls",
            "--vault-dir",
            QUICKSTART,
            "--refresh",
            "1 day",
        ],
        &["external-secret", "shared/tls", "--vault-dir", "missing"],
    ];
    let out: String = cases
        .iter()
        .map(|args| format!("$ {}\n{}", args.join(" "), in_repo(args).snapshot(None)))
        .collect();
    insta::assert_snapshot!(out);
}

#[test]
fn the_schema_check_catches_mistakes() {
    let run = store(&["alice", "--server", SERVER], &fixture("alice-token.yaml"));
    let mut store = docs(&run.stdout).remove(1);
    let provider = &mut store["spec"]["provider"]["kubernetes"];
    provider["server"]["caProvider"]
        .as_object_mut()
        .unwrap()
        .remove("type");
    provider["remoteNamespaces"] = Json::String("typo".into());
    let errors = schema_errors(&store).join("\n");
    assert!(
        errors.contains("\"type\" is a required property"),
        "{errors}"
    );
    assert!(errors.contains("remoteNamespaces"), "{errors}");
}
