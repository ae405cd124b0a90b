//! Secret shape against the API server's own validation: a `kubernetes.io/tls` Secret is
//! accepted with `tls.crt` and `tls.key` and rejected without them.

use serde_json::{Value, json};

use crate::harness::Cluster;

fn tls_secret(name: &str, ns: &str, data: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": ns,
            "labels": {"app.kubernetes.io/managed-by": "kubevault"}},
        "type": "kubernetes.io/tls",
        "data": data,
    })
}

pub fn the_api_server_validates_a_tls_secret(cluster: &Cluster) {
    let ns = "shape";
    cluster.namespace(ns);
    // "eA==" is "x": the API server checks that the keys exist, not that they hold a key pair.
    let good = tls_secret(
        "shared-tls",
        ns,
        json!({"tls.crt": "eA==", "tls.key": "eA=="}),
    );
    cluster.kubectl().ok_in(
        &["apply", "--server-side", "-n", ns, "-f", "-"],
        Some(&good.to_string()),
    );
    let got = cluster
        .kubectl()
        .json(&["get", "secret", "shared-tls", "-n", ns]);
    assert_eq!(got["type"], "kubernetes.io/tls");

    for missing in ["tls.key", "tls.crt"] {
        let mut data = json!({"tls.crt": "eA==", "tls.key": "eA=="});
        data.as_object_mut().unwrap().remove(missing);
        let bad = tls_secret("broken-tls", ns, data);
        let ran = cluster.kubectl().run(
            &["apply", "--server-side", "-n", ns, "-f", "-"],
            Some(&bad.to_string()),
        );
        assert_ne!(ran.code, 0, "a TLS Secret without {missing} was accepted");
        assert!(
            ran.stderr.contains(&format!("data[{missing}]")) && ran.stderr.contains("Required"),
            "{ran:?}"
        );
    }
}
