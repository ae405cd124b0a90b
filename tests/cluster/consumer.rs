//! The consumer path: `kubectl get secret alice-token -o yaml | kubevault external-secret-store
//! alice --server URL`, then the requests External Secrets Operator's `kubernetes` provider makes
//! with what was printed — no ESO controller runs; its requests are reproduced: a TLS connection
//! verified with the printed `ca.crt` only, the store validation (a `SelfSubjectRulesReview` in
//! `remoteNamespace` that must show `get` on `secrets`), and `GET` of each remote Secret.

use serde_json::{Value, json};

use crate::access::{RULES_VAULT, render_and_apply, write_vault};
use crate::harness::{self, Cluster, b64, can_read, docs, kubevault_ok};
use crate::lifecycle::secret_get_names;

/// `data[key]` of the printed Secret named `name`, decoded.
fn printed_value(printed: &[Value], name: &str, key: &str) -> String {
    let secret = printed
        .iter()
        .find(|o| o["kind"] == "Secret" && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no Secret {name} printed: {printed:?}"));
    b64(secret["data"][key]
        .as_str()
        .unwrap_or_else(|| panic!("Secret {name} has no {key}")))
}

pub fn eso_kubernetes_provider_requests_with_the_printed_credentials(cluster: &Cluster) {
    let ns = "consumer";
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    write_vault(root, RULES_VAULT);
    cluster.namespace(ns);
    render_and_apply(cluster, root, ns, &[]);
    cluster.token(ns, "alice");

    let token_secret =
        cluster
            .kubectl()
            .ok(&["get", "secret", "alice-token", "-n", ns, "-o", "yaml"]);
    let printed = docs(&kubevault_ok(
        root,
        &[
            "external-secret-store",
            "alice",
            "--server",
            &cluster.server,
        ],
        Some(&token_secret),
    ));
    let store = printed
        .iter()
        .find(|o| o["kind"] == "SecretStore")
        .unwrap_or_else(|| panic!("no SecretStore printed: {printed:?}"));
    assert_eq!(store["apiVersion"], "external-secrets.io/v1");
    let provider = &store["spec"]["provider"]["kubernetes"];
    let remote_ns = provider["remoteNamespace"].as_str().unwrap();
    assert_eq!(remote_ns, ns);
    let url = provider["server"]["url"].as_str().unwrap();
    assert_eq!(url, cluster.server);

    // Resolve the store's references the way ESO does: caProvider (type Secret) and bearerToken.
    let ca_ref = &provider["server"]["caProvider"];
    assert_eq!(ca_ref["type"], "Secret");
    let ca_pem = printed_value(
        &printed,
        ca_ref["name"].as_str().unwrap(),
        ca_ref["key"].as_str().unwrap(),
    );
    let token_ref = &provider["auth"]["token"]["bearerToken"];
    let token = printed_value(
        &printed,
        token_ref["name"].as_str().unwrap(),
        token_ref["key"].as_str().unwrap(),
    );
    assert!(ca_pem.contains("BEGIN CERTIFICATE"), "ca.crt is a PEM");
    let consumer = tempfile::tempdir().unwrap();
    let ca = consumer.path().join("ca.crt");
    std::fs::write(&ca, &ca_pem).unwrap();
    let request = |method: &str, path: &str, body: Option<&Value>| {
        harness::http(url, &ca, method, path, &token, body)
    };

    // TLS is really verified: the same request with another CA fails the handshake.
    let other_ca = consumer.path().join("other-ca.crt");
    let made = harness::run(
        std::process::Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args(["-subj", "/CN=other", "-keyout", "/dev/null", "-out"])
            .arg(&other_ca),
        None,
    );
    assert_eq!(made.code, 0, "{made:?}");
    let wrong = harness::run(
        std::process::Command::new("curl")
            .args(["-sS", "--max-time", "20", "--cacert"])
            .arg(&other_ca)
            .arg(format!("{url}/readyz")),
        None,
    );
    assert_eq!(
        wrong.code, 60,
        "curl with a foreign CA must fail verification: {wrong:?}"
    );

    // Store validation (SecretStore reconciler): SelfSubjectRulesReview in remoteNamespace.
    let review = request(
        "POST",
        "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
        Some(
            &json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
            "spec": {"namespace": remote_ns}}),
        ),
    );
    assert_eq!(review.status, 201, "{}", review.body);
    let rules = review.json()["status"]["resourceRules"].clone();
    let valid = rules.as_array().unwrap().iter().any(|r| {
        r["resources"]
            .as_array()
            .unwrap()
            .contains(&json!("secrets"))
            && r["verbs"].as_array().unwrap().contains(&json!("get"))
    });
    assert!(valid, "ESO would mark the store invalid: {rules}");
    let allowed = can_read(root, "vault", "alice");
    let granted: Vec<String> = secret_get_names(&review.json()).into_iter().collect();
    assert_eq!(granted, allowed, "the review shows exactly can-read's set");

    // GET of each remote Secret (ExternalSecret dataFrom.extract / data[].remoteRef.key).
    for name in &allowed {
        let got = request(
            "GET",
            &format!("/api/v1/namespaces/{remote_ns}/secrets/{name}"),
            None,
        );
        assert_eq!(got.status, 200, "{name}: {}", got.body);
        let admin = cluster
            .kubectl()
            .json(&["get", "secret", name, "-n", remote_ns]);
        assert_eq!(got.json()["data"], admin["data"], "{name}");
    }
    // A secret outside alice's grants, and alice's own token: 403.
    for name in [
        "production-payments-stripe",
        "staging-app-config",
        "alice-token",
    ] {
        assert!(!allowed.contains(&name.to_string()));
        let got = request(
            "GET",
            &format!("/api/v1/namespaces/{remote_ns}/secrets/{name}"),
            None,
        );
        assert_eq!(got.status, 403, "{name}: {}", got.body);
    }
    // Another namespace of the vault cluster: nothing.
    let got = request("GET", "/api/v1/namespaces/default/secrets", None);
    assert_eq!(got.status, 403);

    // The other store form: a ClusterSecretStore with the consumer namespace ESO requires.
    let clustered = docs(&kubevault_ok(
        root,
        &[
            "external-secret-store",
            "alice",
            "--server",
            &cluster.server,
            "--clustered",
            "--namespace",
            "eso-consumer",
        ],
        Some(&token_secret),
    ));
    let store = clustered
        .iter()
        .find(|o| o["kind"] == "ClusterSecretStore")
        .unwrap_or_else(|| panic!("no ClusterSecretStore: {clustered:?}"));
    let provider = &store["spec"]["provider"]["kubernetes"];
    assert_eq!(provider["remoteNamespace"], ns);
    assert_eq!(
        provider["server"]["caProvider"]["namespace"],
        "eso-consumer"
    );
    assert_eq!(
        provider["auth"]["token"]["bearerToken"]["namespace"],
        "eso-consumer"
    );
    let ca_ref = &provider["server"]["caProvider"];
    assert_eq!(
        printed_value(
            &clustered,
            ca_ref["name"].as_str().unwrap(),
            ca_ref["key"].as_str().unwrap()
        ),
        ca_pem
    );
}
