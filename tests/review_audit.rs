//! `kubevault audit-policy` and `kubevault audit` through the real binary: the policy against
//! the audit.k8s.io/v1 schema, and audit logs in the format kube-apiserver writes (plain, gzip,
//! stdin) answered as tables, with values never printed.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};

use common::{QUICKSTART, kubevault, repo};

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/audit").join(name)
}

/// Text planted in the log (a RequestResponse body, malformed lines): never printed.
const SENTINELS: &[&str] = &[
    "SENTINEL-audit-value",
    "U0VOVElORUwtYXVkaXQtdmFsdWU",
    "SENTINEL-in-a",
    "SENTINEL-plain",
];

fn assert_clean(out: &str) {
    for s in SENTINELS {
        assert!(!out.contains(s), "{s} leaked:\n{out}");
    }
}

fn yaml_to_json(text: &str) -> serde_json::Value {
    let value: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
    serde_json::to_value(value).unwrap()
}

#[test]
fn audit_policy_is_a_valid_v1_policy_logging_secrets_at_metadata_only() {
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("policy-v1.schema.json")).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    // The schema is not a rubber stamp.
    for bad in [
        "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: Everything}]\n",
        "apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules: []\n",
        "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: Metadata, resource: [x]}]\n",
        "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{namespaces: [x]}]\n",
    ] {
        assert!(!validator.is_valid(&yaml_to_json(bad)), "{bad}");
    }
    for ns in ["kubevault-kvstore", "vault-prod"] {
        let run = kubevault(repo(), &["audit-policy", "-n", ns], None);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let policy = yaml_to_json(&run.stdout);
        let errors: Vec<String> = validator
            .iter_errors(&policy)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{errors:?}\n{}", run.stdout);
        // Every rule that can match a Secret in the namespace logs at Metadata (or None).
        let rules = policy["rules"].as_array().unwrap();
        let mut covered = std::collections::BTreeSet::new();
        for rule in rules {
            let in_ns = rule["namespaces"]
                .as_array()
                .is_none_or(|n| n.iter().any(|v| v == ns));
            for gr in rule["resources"].as_array().into_iter().flatten() {
                let group = gr["group"].as_str().unwrap_or("");
                for r in gr["resources"].as_array().unwrap() {
                    let r = r.as_str().unwrap();
                    if in_ns {
                        covered.insert(format!("{group}/{r}"));
                    }
                    if group.is_empty() && (r == "secrets" || r == "*") && in_ns {
                        assert!(
                            matches!(rule["level"].as_str(), Some("Metadata" | "None")),
                            "{rule}"
                        );
                    }
                }
            }
            assert_eq!(rule["namespaces"], serde_json::json!([ns]));
        }
        for want in [
            "/secrets",
            "/serviceaccounts",
            "/serviceaccounts/*",
            "rbac.authorization.k8s.io/roles",
            "rbac.authorization.k8s.io/rolebindings",
        ] {
            assert!(covered.contains(want), "{want} not recorded: {covered:?}");
        }
        assert!(!run.stdout.contains("Request\n") && !run.stdout.contains("RequestResponse\n"));
    }
    let bad = kubevault(repo(), &["audit-policy", "-n", "Not_A_Label"], None);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}

fn audit(args: &[&str], stdin: Option<&[u8]>) -> common::Run {
    let mut all = vec!["audit", "--vault-dir", QUICKSTART];
    all.extend_from_slice(args);
    kubevault(repo(), &all, stdin)
}

#[test]
fn audit_tables_from_a_kube_apiserver_log() {
    let log = fixture("audit.log");
    let run = audit(&[log.to_str().unwrap()], None);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_clean(&run.all_output());
    insta::assert_snapshot!("audit_text", run.snapshot(None));
    let json = audit(&["--format", "json", log.to_str().unwrap()], None);
    assert_clean(&json.all_output());
    insta::assert_snapshot!("audit_json", json.snapshot(None));
}

#[test]
fn audit_reads_gzip_stdin_and_several_logs() {
    let plain = std::fs::read(fixture("audit.log")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("audit.log.1.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&plain).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let json = |run: &common::Run| -> serde_json::Value {
        assert_eq!(run.code, 0, "{}", run.stderr);
        serde_json::from_str(&run.stdout).unwrap()
    };
    let from_file = json(&audit(
        &["--format", "json", fixture("audit.log").to_str().unwrap()],
        None,
    ));
    let from_gz = json(&audit(&["--format", "json", gz.to_str().unwrap()], None));
    let from_stdin = json(&audit(&["--format", "json"], Some(&plain)));
    let from_dash = json(&audit(&["--format", "json", "-"], Some(&plain)));
    assert_eq!(from_file, from_gz);
    assert_eq!(from_file, from_stdin);
    assert_eq!(from_file, from_dash);
    // Two logs: every count doubles, the rows stay the same.
    let both = json(&audit(
        &[
            "--format",
            "json",
            gz.to_str().unwrap(),
            fixture("audit.log").to_str().unwrap(),
        ],
        None,
    ));
    assert_eq!(
        both["counts"]["lines"].as_u64(),
        from_file["counts"]["lines"].as_u64().map(|n| n * 2)
    );
    assert_eq!(
        both["requests"].as_array().unwrap().len(),
        from_file["requests"].as_array().unwrap().len()
    );
    let alice_db = |v: &serde_json::Value| {
        v["requests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["vaultUser"] == "alice" && r["identity"] == "production/payments/db")
            .map(|r| r["count"].as_u64().unwrap())
    };
    assert_eq!(alice_db(&from_file), Some(2));
    assert_eq!(alice_db(&both), Some(4));
    let missing = audit(&[dir.path().join("nope.log").to_str().unwrap()], None);
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.contains("cannot read the audit log"),
        "{}",
        missing.stderr
    );
}

fn rows(run: &common::Run) -> Vec<String> {
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    v["requests"]
        .as_array()
        .unwrap()
        .iter()
        .chain(v["denied"].as_array().unwrap())
        .map(|r| {
            format!(
                "{} {} {} {}",
                r["vaultUser"]
                    .as_str()
                    .unwrap_or(r["username"].as_str().unwrap()),
                r["verb"].as_str().unwrap(),
                r["identity"].as_str().or(r["name"].as_str()).unwrap_or("*"),
                r["code"]
            )
        })
        .collect()
}

#[test]
fn audit_filters_by_time_user_and_secret() {
    let log = fixture("audit.log");
    let log = log.to_str().unwrap();
    let table: &[(&[&str], &[&str])] = &[
        (
            &["--user", "alice"],
            &[
                "alice get production/payments/db 200",
                "alice get old-deleted-secret 404",
                "alice get production/payments/stripe 403",
            ],
        ),
        (
            &[
                "--secret",
                "production/payments/db",
                "--since",
                "2026-11-29",
            ],
            &[
                "alice get production/payments/db 200",
                "system:serviceaccount:kube-system:generic-garbage-collector list * 200",
                "bob list * 200",
                "system:serviceaccount:kubevault-kvstore:mallory get production/payments/db 403",
                "carol watch * 403",
            ],
        ),
        (
            &["--secret", "shared/**", "--user", "system:admin"],
            &[
                "system:admin update shared/smtp 200",
                "system:admin get shared/tls 200",
            ],
        ),
        (&["--since", "2027-01-01T00:00:00Z"], &[]),
    ];
    for (args, want) in table {
        let mut all = vec!["--format", "json", log];
        all.extend_from_slice(args);
        assert_eq!(rows(&audit(&all, None)), *want, "{args:?}");
    }
    let bad = audit(&["--since", "last week", log], None);
    assert_eq!(bad.code, 2);
    assert!(bad.stderr.contains("7d"), "{}", bad.stderr);
}

#[test]
fn audit_survives_garbage_and_a_vault_with_errors_is_refused() {
    let mut junk = Vec::new();
    junk.extend_from_slice(b"\x00\xff\xfe garbage\n{\"kind\":\"Event\"\n\n");
    junk.extend(std::iter::repeat_n(b'{', 100_000));
    junk.push(b'\n');
    junk.extend_from_slice(&std::fs::read(fixture("audit.log")).unwrap());
    let run = audit(&["--format", "json"], Some(&junk));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["counts"]["malformed"], 7);
    assert!(
        run.stderr.contains("skipped 7 malformed lines"),
        "{}",
        run.stderr
    );

    let dir = tempfile::tempdir().unwrap();
    let vault = dir.path().join("vault");
    std::fs::create_dir_all(vault.join("kvstore")).unwrap();
    std::fs::create_dir_all(vault.join("access_control")).unwrap();
    std::fs::write(vault.join("access_control/Bad_Name"), "**\n").unwrap();
    let run = kubevault(dir.path(), &["audit", "--vault-dir", "vault"], Some(b""));
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("Bad_Name"), "{}", run.stderr);
    let _ = Path::new("");
}
