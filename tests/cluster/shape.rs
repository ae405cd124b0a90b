//! Secret shape (`vault/metadata.yaml`) against the API server's own validation: the shaped
//! Secrets kubevault renders (a `kubernetes.io/tls`, a `kubernetes.io/dockerconfigjson`, labels,
//! annotations, `immutable`) are accepted and stored as rendered, a user's token reads them; the
//! same TLS Secret without `tls.crt` or `tls.key` is rejected by the server (kubevault's own check
//! refuses such a vault first, so the key is removed from the rendered object); and an immutable
//! Secret cannot be changed by a later apply.

use std::path::Path;

use serde_json::Value;

use crate::access::{render_and_apply, write_vault};
use crate::harness::{self, Cluster, docs, kubevault_ok};

/// A YAML block scalar holding `text` at indent 2.
fn block(text: &str) -> String {
    let body: String = text.lines().map(|l| format!("  {l}\n")).collect();
    format!("|\n{body}")
}

fn fixture(rel: &str) -> String {
    std::fs::read_to_string(harness::repo().join("tests/fixtures").join(rel)).unwrap()
}

const METADATA: &str = "\
apiVersion: kubevault.dev/v1alpha1
kind: SecretMetadata
rules:
  - secrets: \"**\"
    labels: {team: platform}
  - secrets: shared/tls
    type: kubernetes.io/tls
    annotations: {reloader.stakater.com/match: \"true\"}
  - secrets: registry/pull
    type: kubernetes.io/dockerconfigjson
  - secrets: frozen/**
    immutable: true
";

fn apply(cluster: &Cluster, ns: &str, objects: &[Value]) -> harness::Ran {
    cluster.kubectl().run(
        &["apply", "--server-side", "-n", ns, "-f", "-"],
        Some(&harness::yaml_stream(objects)),
    )
}

pub fn shaped_secrets_meet_the_api_servers_validation(cluster: &Cluster) {
    let ns = "shape";
    let root = tempfile::tempdir().unwrap();
    let root: &Path = root.path();
    let tls = format!(
        "tls.crt: {}tls.key: {}",
        block(&fixture("shape/tls.crt")),
        block(&fixture("shape/tls.key"))
    );
    write_vault(
        root,
        &[
            ("metadata.yaml", METADATA),
            ("kvstore/shared/tls.yaml", &tls),
            (
                "kvstore/registry/pull.yaml",
                ".dockerconfigjson: '{\"auths\": {\"registry.example.com\": {\"auth\": \"dXNlcjpwYXNz\"}}}'\n",
            ),
            ("kvstore/frozen/config.yaml", "mode: one\n"),
            ("access_control/shop", "**\n"),
        ],
    );
    cluster.namespace(ns);
    let rendered = docs(&render_and_apply(cluster, root, ns, &[]));
    let find = |name: &str| {
        rendered
            .iter()
            .find(|o| o["kind"] == "Secret" && o["metadata"]["name"] == name)
            .unwrap_or_else(|| panic!("{name} not rendered"))
            .clone()
    };

    // Stored as rendered: type, labels, annotations, immutable, data.
    for name in ["shared-tls", "registry-pull", "frozen-config"] {
        let want = find(name);
        let got = cluster.kubectl().json(&["get", "secret", name, "-n", ns]);
        assert_eq!(got["type"], want["type"], "{name} type");
        assert_eq!(got["data"], want["data"], "{name} data");
        assert_eq!(got["immutable"], want["immutable"], "{name} immutable");
        for (k, v) in want["metadata"]["labels"].as_object().unwrap() {
            assert_eq!(&got["metadata"]["labels"][k], v, "{name} label {k}");
        }
        for (k, v) in want["metadata"]["annotations"].as_object().unwrap() {
            assert_eq!(
                &got["metadata"]["annotations"][k], v,
                "{name} annotation {k}"
            );
        }
    }
    assert_eq!(find("shared-tls")["type"], "kubernetes.io/tls");
    assert_eq!(
        find("registry-pull")["type"],
        "kubernetes.io/dockerconfigjson"
    );
    assert_eq!(find("frozen-config")["immutable"], true);
    crate::access::assert_reads_exactly(cluster, root, ns, "shop");

    // The server's own validation: the TLS Secret without either key is rejected.
    for missing in ["tls.key", "tls.crt"] {
        let mut bad = find("shared-tls");
        bad["metadata"]["name"] = "broken-tls".into();
        bad["data"].as_object_mut().unwrap().remove(missing);
        let ran = apply(cluster, ns, &[bad]);
        assert_ne!(ran.code, 0, "a TLS Secret without {missing} was accepted");
        assert!(
            ran.stderr.contains(&format!("data[{missing}]")) && ran.stderr.contains("Required"),
            "{ran:?}"
        );
    }
    // ... and kubevault refuses that vault before any server sees it.
    let no_key = format!("tls.crt: {}", block(&fixture("shape/tls.crt")));
    write_vault(root, &[("kvstore/shared/tls.yaml", &no_key)]);
    let check = harness::run(
        std::process::Command::new(harness::kubevault())
            .current_dir(root)
            .args(["generate", "--vault-dir", "vault", "-n", ns]),
        None,
    );
    assert_eq!(check.code, 1, "{check:?}");
    assert!(check.stderr.contains("tls.key"), "{check:?}");
    assert!(check.stdout.is_empty(), "nothing partial: {check:?}");
    write_vault(root, &[("kvstore/shared/tls.yaml", &tls)]);

    // Immutable means immutable: a changed value does not reach the server.
    write_vault(root, &[("kvstore/frozen/config.yaml", "mode: two\n")]);
    let changed = docs(&kubevault_ok(
        root,
        &["generate", "--vault-dir", "vault", "-n", ns],
        None,
    ));
    let frozen: Vec<Value> = changed
        .into_iter()
        .filter(|o| o["metadata"]["name"] == "frozen-config")
        .collect();
    let ran = apply(cluster, ns, &frozen);
    assert_ne!(ran.code, 0, "an immutable Secret changed");
    assert!(ran.stderr.contains("immutable"), "{ran:?}");
}
