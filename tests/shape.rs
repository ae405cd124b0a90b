//! Secret shape end to end (SPEC §10): a vault with a TLS, a dockerconfigjson and a
//! Reloader-annotated secret shaped by `metadata.yaml`, rendered by every route (generate, KRM
//! function, legacy plugin) with the same objects, validated against Kubernetes 1.32 by
//! `kubernetes-validate --strict`; its ExternalSecrets and ClusterExternalSecrets validated
//! against the ESO `v1` CRD schema in `tests/fixtures/eso`; KRM re-renders after a
//! metadata-only change; `check` catching a TLS secret without `tls.key`; and sentinel values
//! in broken values that no channel ever prints.

mod common;

use std::path::Path;
use std::process::Command;

use common::eso::{docs, schema_errors};
use common::{FN_CONFIG, SENTINEL, Sandbox, resource_list, run};
use serde_json::Value as Json;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

fn fixture(rel: &str) -> String {
    std::fs::read_to_string(Path::new(FIXTURES).join(rel)).unwrap()
}

/// A YAML block scalar holding `text` at indent 2.
fn block(text: &str) -> String {
    let body: String = text.lines().map(|l| format!("  {l}\n")).collect();
    format!("|\n{body}")
}

const METADATA: &str = "\
apiVersion: kubevault.dev/v1alpha1
kind: SecretMetadata
rules:
  - secrets: \"**\"
    labels: {team: platform}
  - secrets: [shared/tls, \"*/tls\"]
    type: kubernetes.io/tls
  - secrets: registry/pull
    type: kubernetes.io/dockerconfigjson
    labels: {team: build}
  - secrets: production/**
    annotations: {reloader.stakater.com/match: \"true\"}
    immutable: false
";

const DOCKER: &str = r#"{"auths": {"registry.example.com": {"auth": "dXNlcjpwYXNz"}}}"#;

/// The shaped vault: three secrets, one user who reads them all.
fn shaped() -> Sandbox {
    let s = Sandbox::vault();
    s.file(
        "vault/kvstore/shared/tls.yaml",
        format!(
            "tls.crt: {}tls.key: {}",
            block(&fixture("shape/tls.crt")),
            block(&fixture("shape/tls.key"))
        ),
    )
    .file(
        "vault/kvstore/registry/pull.yaml",
        format!(".dockerconfigjson: '{DOCKER}'\n"),
    )
    .file("vault/kvstore/production/api.yaml", "password: hunter2\n")
    .file("vault/access_control/shop", "**\n")
    .file("vault/metadata.yaml", METADATA);
    s
}

fn secrets_of(objects: &[Json]) -> Vec<Json> {
    objects
        .iter()
        .filter(|o| o["kind"] == "Secret" && o["type"] != "kubernetes.io/service-account-token")
        .cloned()
        .collect()
}

fn find<'a>(objects: &'a [Json], name: &str) -> &'a Json {
    objects
        .iter()
        .find(|o| o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no object {name}"))
}

/// `kubernetes-validate --strict -k 1.32.0` on the objects (skipped without the tool unless
/// `CI=true`).
fn kubernetes_validate(test: &str, objects: &[Json]) {
    let found = Command::new("kubernetes-validate")
        .arg("--version")
        .output();
    if found.is_err() {
        assert!(
            std::env::var("CI").is_err(),
            "{test}: kubernetes-validate is missing (pip install kubernetes-validate)"
        );
        eprintln!("SKIP {test}: kubernetes-validate not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("objects.yaml");
    let text: String = objects
        .iter()
        .map(|o| format!("---\n{}\n", serde_json::to_string(o).unwrap()))
        .collect();
    std::fs::write(&file, text).unwrap();
    let out = Command::new("kubernetes-validate")
        .args(["--strict", "-k", "1.32.0"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{test}: not valid for Kubernetes 1.32:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn assert_shapes(test: &str, secrets: &[Json]) {
    let tls = find(secrets, "shared-tls");
    assert_eq!(tls["type"], "kubernetes.io/tls", "{test}");
    assert_eq!(tls["metadata"]["labels"]["team"], "platform", "{test}");
    assert_eq!(
        tls["metadata"]["labels"]["app.kubernetes.io/managed-by"], "kubevault",
        "{test}"
    );
    let pull = find(secrets, "registry-pull");
    assert_eq!(pull["type"], "kubernetes.io/dockerconfigjson", "{test}");
    assert_eq!(pull["metadata"]["labels"]["team"], "build", "{test}");
    let api = find(secrets, "production-api");
    assert_eq!(api["type"], "Opaque", "{test}");
    assert_eq!(
        api["metadata"]["annotations"]["reloader.stakater.com/match"], "true",
        "{test}"
    );
    assert_eq!(
        api["metadata"]["annotations"]["kubevault.dev/source"], "kvstore/production/api.yaml",
        "{test}"
    );
    assert_eq!(api["immutable"], false, "{test}");
    assert!(tls.get("immutable").is_none(), "{test}");
}

#[test]
fn every_route_renders_the_same_shapes_and_kubernetes_accepts_them() {
    let s = shaped();
    let generate = run(s.path(), &["generate", "--vault-dir", "vault"], None, &[]);
    assert_eq!(generate.code, 0, "{}", generate.stderr);
    assert_eq!(generate.stderr, "");
    let objects = docs(&generate.stdout);
    let from_generate = secrets_of(&objects);
    assert_shapes("generate", &from_generate);
    kubernetes_validate("generate", &objects);

    let krm = run(
        s.path(),
        &[],
        Some(resource_list("", FN_CONFIG).as_bytes()),
        &[],
    );
    assert_eq!(krm.code, 0, "{}", krm.stderr);
    let list = docs(&krm.stdout).remove(0);
    let items: Vec<Json> = list["items"].as_array().unwrap().clone();
    let mut from_krm = secrets_of(&items);
    for o in &mut from_krm {
        o["metadata"]["annotations"]["kubevault.dev/generator"] = "kubevault".into();
    }
    assert_eq!(from_krm, from_generate, "KRM and generate differ");
    kubernetes_validate("krm", &items);

    s.file(
        "plugin.yaml",
        "apiVersion: kubevault.dev/v1alpha1\nkind: KubeVault\nmetadata:\n  name: kubevault\nspec:\n  vaultDir: vault\n",
    );
    let plugin = run(s.path(), &["plugin.yaml"], None, &[]);
    assert_eq!(plugin.code, 0, "{}", plugin.stderr);
    assert_eq!(
        secrets_of(&docs(&plugin.stdout)),
        from_generate,
        "the legacy plugin and generate differ"
    );

    let check = run(s.path(), &["check", "--vault-dir", "vault"], None, &[]);
    assert_eq!(check.code, 0, "{}{}", check.stdout, check.stderr);
    assert!(
        check.stdout.contains(
            "shape kubernetes.io/tls; labels team=\"platform\" (metadata.yaml:4, metadata.yaml:6): 1 secret: shared/tls\n"
        ),
        "{}",
        check.stdout
    );
    assert!(
        check.stdout.contains(
            "shape Opaque; labels team=\"platform\"; annotations reloader.stakater.com/match=\"true\"; mutable (metadata.yaml:4, metadata.yaml:11): 1 secret: production/api\n"
        ),
        "{}",
        check.stdout
    );
    let json = run(
        s.path(),
        &["check", "--vault-dir", "vault", "--format", "json"],
        None,
        &[],
    );
    let report: Json = serde_json::from_str(&json.stdout).unwrap();
    let shapes = report["shapes"].as_array().unwrap();
    assert_eq!(shapes.len(), 3);
    assert!(
        shapes
            .iter()
            .any(|g| g["type"] == "kubernetes.io/dockerconfigjson"
                && g["secrets"] == serde_json::json!(["registry/pull"])
                && g["rules"] == serde_json::json!(["metadata.yaml:4", "metadata.yaml:8"]))
    );

    let who = run(
        s.path(),
        &["who-can-read", "shared/tls", "--vault-dir", "vault"],
        None,
        &[],
    );
    assert_eq!(who.code, 0, "{}", who.stderr);
    assert!(
        who.stdout.contains(
            "shape: kubernetes.io/tls; labels team=\"platform\" (metadata.yaml:4, metadata.yaml:6)\n"
        ),
        "{}",
        who.stdout
    );
}

/// A Secret that has the same bytes in two runs' outputs.
fn secret_texts(stdout: &str) -> Vec<(String, String)> {
    let list = docs(stdout).remove(0);
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                format!("{}/{}", o["kind"], o["metadata"]["name"]),
                serde_json::to_string(o).unwrap(),
            )
        })
        .collect()
}

#[test]
fn krm_a_metadata_only_change_changes_only_the_affected_secrets() {
    let s = shaped();
    let pass_through =
        "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: keep\n  data:\n    a: b\n";
    let first = run(
        s.path(),
        &[],
        Some(resource_list(pass_through, FN_CONFIG).as_bytes()),
        &[],
    );
    assert_eq!(first.code, 0, "{}", first.stderr);
    // The output is the next run's input (results dropped), as `kpt fn render` does.
    let again = |metadata: &str, input: &str| {
        s.file("vault/metadata.yaml", metadata);
        let input = &input[..input.find("results:\n").unwrap_or(input.len())];
        run(s.path(), &[], Some(input.as_bytes()), &[])
    };
    let same = again(METADATA, &first.stdout);
    assert_eq!(same.stdout, first.stdout, "a re-render is idempotent");

    let changed = METADATA.replace("labels: {team: build}", "labels: {team: release}");
    let second = again(&changed, &first.stdout);
    assert_eq!(second.code, 0, "{}", second.stderr);
    let (a, b) = (secret_texts(&first.stdout), secret_texts(&second.stdout));
    let keys = |v: &[(String, String)]| v.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
    assert_eq!(keys(&a), keys(&b), "same objects in the same order");
    let differing: Vec<&String> = a
        .iter()
        .zip(&b)
        .filter(|(x, y)| x.1 != y.1)
        .map(|(x, _)| &x.0)
        .collect();
    assert_eq!(differing, ["\"Secret\"/\"registry-pull\""]);

    // Pruning is unchanged: a deleted secret file's Secret goes, the pass-through item stays.
    std::fs::remove_file(s.path().join("vault/kvstore/registry/pull.yaml")).unwrap();
    let third = again(
        &changed.replace("  - secrets: registry/pull\n    type: kubernetes.io/dockerconfigjson\n    labels: {team: release}\n", ""),
        &second.stdout,
    );
    assert_eq!(third.code, 0, "{}", third.stderr);
    let names = keys(&secret_texts(&third.stdout));
    assert!(
        !names.iter().any(|n| n.contains("registry-pull")),
        "{names:?}"
    );
    assert!(names.contains(&"\"ConfigMap\"/\"keep\"".to_string()));
    assert_eq!(names.len(), keys(&a).len() - 1);
}

#[test]
fn check_catches_a_tls_secret_without_tls_key_in_every_mode() {
    let s = shaped();
    s.file(
        "vault/kvstore/shared/tls.yaml",
        format!("tls.crt: {}", block(&fixture("shape/tls.crt"))),
    );
    let want = "kvstore/shared/tls.yaml: error: type kubernetes.io/tls (from metadata.yaml:7) needs the key tls.key; add it to the secret file or change the rule";
    let check = run(s.path(), &["check", "--vault-dir", "vault"], None, &[]);
    assert_eq!(check.code, 1);
    assert!(check.stdout.contains(want), "{}", check.stdout);
    let generate = run(s.path(), &["generate", "--vault-dir", "vault"], None, &[]);
    assert_eq!(generate.code, 1);
    assert_eq!(generate.stdout, "", "nothing partial");
    assert!(generate.stderr.contains(want), "{}", generate.stderr);
    let krm = run(
        s.path(),
        &[],
        Some(resource_list("", FN_CONFIG).as_bytes()),
        &[],
    );
    assert_eq!(krm.code, 1);
    assert!(krm.stderr.contains(want), "{}", krm.stderr);
    let list = docs(&krm.stdout).remove(0);
    assert_eq!(list["items"], serde_json::json!([]), "nothing rendered");
    let result = &list["results"][0];
    assert_eq!(result["file"]["path"], "kvstore/shared/tls.yaml");
    assert_eq!(result["severity"], "error");
}

#[test]
fn metadata_errors_stop_every_mode_with_file_and_line() {
    let s = shaped();
    s.file(
        "vault/metadata.yaml",
        "apiVersion: kubevault.dev/v1alpha1\nkind: SecretMetadata\nrules:\n  - secrets: a/**\n    labels: {app.kubernetes.io/managed-by: me}\n    type: kubernetes.io/service-account-token\n  - secrets: typo/**\n    type: Opaque\n",
    );
    let check = run(s.path(), &["check", "--vault-dir", "vault"], None, &[]);
    assert_eq!(check.code, 1);
    for needle in [
        "metadata.yaml:5: error: label key \"app.kubernetes.io/managed-by\" is kubevault's own",
        "metadata.yaml:6: error: type kubernetes.io/service-account-token is refused",
        "metadata.yaml:4: warning: rule `a/**` matches no secret (a typo?)",
        "metadata.yaml:7: warning: rule `typo/**` matches no secret (a typo?)",
    ] {
        // The first rule has errors, so it is left out and cannot warn.
        if needle.contains("`a/**`") {
            assert!(!check.stdout.contains(needle), "{}", check.stdout);
        } else {
            assert!(check.stdout.contains(needle), "{needle}\n{}", check.stdout);
        }
    }
    let krm = run(
        s.path(),
        &[],
        Some(resource_list("", FN_CONFIG).as_bytes()),
        &[],
    );
    assert_eq!(krm.code, 1);
    let list = docs(&krm.stdout).remove(0);
    assert_eq!(list["items"], serde_json::json!([]));
    assert!(
        list["results"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["file"]["path"] == "metadata.yaml" && r["severity"] == "error")
    );

    s.file(
        "vault/metadata.yaml",
        "apiVersion: kubevault.dev/v1alpha1\nkind: SecretMetadata\nrules: ENC[AES256_GCM,data:x]\nsops:\n  mac: ENC[x]\n",
    );
    let sops = run(s.path(), &["generate", "--vault-dir", "vault"], None, &[]);
    assert_eq!(sops.code, 1);
    assert!(
        sops.stderr
            .contains("metadata.yaml:4: error: has a `sops:` section: metadata.yaml is cleartext"),
        "{}",
        sops.stderr
    );
}

#[test]
fn broken_values_are_named_by_key_and_never_printed() {
    let s = shaped();
    let pem = format!("-----BEGIN CERTIFICATE-----\n{SENTINEL}\n-----END CERTIFICATE-----\n");
    let label = format!("-----BEGIN {SENTINEL}-----\nAAAA\n-----END {SENTINEL}-----\n");
    s.file(
        "vault/kvstore/shared/tls.yaml",
        format!("tls.crt: {}tls.key: {}", block(&pem), block(&label)),
    )
    .file(
        "vault/kvstore/registry/pull.yaml",
        format!(".dockerconfigjson: '{{\"auths\": {{\"{SENTINEL}\": [\"{SENTINEL}\"]}}'\n"),
    );
    let runs = [
        run(s.path(), &["check", "--vault-dir", "vault"], None, &[]),
        run(
            s.path(),
            &["check", "--vault-dir", "vault", "--format", "json"],
            None,
            &[],
        ),
        run(s.path(), &["generate", "--vault-dir", "vault"], None, &[]),
        run(
            s.path(),
            &[],
            Some(resource_list("", FN_CONFIG).as_bytes()),
            &[],
        ),
        run(
            s.path(),
            &["external-secret", "shared/tls", "--vault-dir", "vault"],
            None,
            &[],
        ),
        run(
            s.path(),
            &["who-can-read", "shared/tls", "--vault-dir", "vault"],
            None,
            &[],
        ),
    ];
    for out in &runs {
        assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
        out.assert_no_sentinel();
    }
    let text = &runs[0].stdout;
    for needle in [
        "kvstore/shared/tls.yaml: error: key tls.crt: has a PEM block whose body is not valid base64",
        "kvstore/shared/tls.yaml: error: key tls.key: has no PRIVATE KEY PEM block",
        "kvstore/registry/pull.yaml: error: key .dockerconfigjson: is not valid JSON (ends too early",
    ] {
        assert!(text.contains(needle), "{needle}\n{text}");
    }
    // Valid JSON, wrong structure.
    s.file(
        "vault/kvstore/registry/pull.yaml",
        format!(".dockerconfigjson: '{{\"auths\": {{\"{SENTINEL}\": [\"{SENTINEL}\"]}}}}'\n"),
    );
    let out = run(s.path(), &["check", "--vault-dir", "vault"], None, &[]);
    out.assert_no_sentinel();
    assert!(
        out.stdout
            .contains("key .dockerconfigjson: has a registry entry that is not an object"),
        "{}",
        out.stdout
    );
}

// ------------------------------------------------------------------------- ESO

fn assert_eso_valid(doc: &Json) {
    let errors = schema_errors(doc);
    assert!(errors.is_empty(), "{}: {errors:#?}", doc["kind"]);
}

fn eso(s: &Sandbox, args: &[&str]) -> common::Output {
    let mut all = vec!["external-secret", "--vault-dir", "vault"];
    all.extend_from_slice(args);
    run(s.path(), &all, None, &[])
}

#[test]
fn the_shape_travels_to_the_consumer_cluster() {
    let s = shaped();
    let tls = eso(&s, &["shared/tls"]);
    assert_eq!(tls.code, 0, "{}", tls.stderr);
    let doc = docs(&tls.stdout).remove(0);
    assert_eso_valid(&doc);
    let target = &doc["spec"]["target"];
    assert_eq!(
        target["template"],
        serde_json::json!({
            "engineVersion": "v2",
            "type": "kubernetes.io/tls",
            "metadata": {"labels": {"team": "platform"}},
        })
    );
    assert_eq!(target["creationPolicy"], "Owner");
    assert_eq!(target["deletionPolicy"], "Retain");
    assert_eq!(
        doc["spec"]["dataFrom"],
        serde_json::json!([{"extract": {"key": "shared-tls"}}])
    );

    let api = docs(&eso(&s, &["production/api"]).stdout).remove(0);
    assert_eso_valid(&api);
    assert_eq!(
        api["spec"]["target"]["template"]["metadata"]["annotations"],
        serde_json::json!({"reloader.stakater.com/match": "true"})
    );
    assert_eq!(api["spec"]["target"]["immutable"], false);
    let pull = docs(&eso(&s, &["registry/pull"]).stdout).remove(0);
    assert_eso_valid(&pull);
    assert_eq!(
        pull["spec"]["target"]["template"]["type"],
        "kubernetes.io/dockerconfigjson"
    );
    // Never `find`: kubevault's Roles grant `get` on names, never `list`.
    for doc in [&doc, &api, &pull] {
        assert!(!serde_json::to_string(doc).unwrap().contains("\"find\""));
    }
}

#[test]
fn every_secret_a_user_reads_and_cluster_external_secrets() {
    let s = shaped();
    s.file(
        "vault/access_control/reader",
        "production/**\nregistry/**\n",
    );
    let all = eso(&s, &["--user", "reader", "--all", "--refresh", "15m"]);
    assert_eq!(all.code, 0, "{}", all.stderr);
    let objects = docs(&all.stdout);
    let names: Vec<&str> = objects
        .iter()
        .map(|o| o["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["production-api", "registry-pull"]);
    objects.iter().for_each(assert_eso_valid);
    assert!(
        objects
            .iter()
            .all(|o| o["spec"]["refreshInterval"] == "15m")
    );

    let out_dir = s.path().join("consumer");
    let written = eso(
        &s,
        &[
            "--user",
            "reader",
            "--all",
            "--refresh",
            "15m",
            "--output-dir",
            "consumer",
        ],
    );
    assert_eq!(written.code, 0, "{}", written.stderr);
    assert_eq!(written.stdout, "");
    assert!(
        written.stderr.contains("wrote 2 files to consumer"),
        "{}",
        written.stderr
    );
    let mut files: Vec<String> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(files, ["production-api.yaml", "registry-pull.yaml"]);
    let one = docs(&std::fs::read_to_string(out_dir.join("registry-pull.yaml")).unwrap());
    assert_eq!(one.len(), 1);
    assert_eq!(one[0], objects[1]);

    let ces = eso(
        &s,
        &[
            "shared/tls",
            "--cluster-external-secret",
            "--namespaces",
            "shop,web",
            "--namespaces",
            "api",
        ],
    );
    assert_eq!(ces.code, 0, "{}", ces.stderr);
    let doc = docs(&ces.stdout).remove(0);
    assert_eq!(doc["kind"], "ClusterExternalSecret");
    assert_eso_valid(&doc);
    assert_eq!(
        doc["spec"]["namespaceSelectors"][0]["matchExpressions"][0],
        serde_json::json!({"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["api", "shop", "web"]})
    );
    let inner = &doc["spec"]["externalSecretSpec"];
    assert_eq!(inner["secretStoreRef"]["kind"], "ClusterSecretStore");
    assert_eq!(inner["target"]["template"]["type"], "kubernetes.io/tls");
    // The wrapper schema really checks the inner spec.
    let mut broken = doc.clone();
    broken["spec"]["externalSecretSpec"]["target"]["creationPolicy"] = "Sometimes".into();
    assert!(!schema_errors(&broken).is_empty());

    let denied = eso(&s, &["shared/tls", "--user", "reader"]);
    assert_eq!(denied.code, 1);
    assert!(
        denied
            .stderr
            .contains("user \"reader\" may not read \"shared/tls\""),
        "{}",
        denied.stderr
    );
    let allowed = eso(&s, &["registry/pull", "--user", "reader"]);
    assert_eq!(allowed.code, 0, "{}", allowed.stderr);
}

#[test]
fn keys_and_policies() {
    let s = shaped();
    let keys = eso(
        &s,
        &[
            "shared/tls",
            "--key",
            "tls.crt",
            "--key",
            "tls.key=tls.key",
            "--deletion-policy",
            "Delete",
            "--creation-policy",
            "Orphan",
        ],
    );
    assert_eq!(keys.code, 0, "{}", keys.stderr);
    let doc = docs(&keys.stdout).remove(0);
    assert_eso_valid(&doc);
    assert!(doc["spec"].get("dataFrom").is_none());
    assert_eq!(
        doc["spec"]["data"],
        serde_json::json!([
            {"secretKey": "tls.crt", "remoteRef": {"key": "shared-tls", "property": "tls.crt"}},
            {"secretKey": "tls.key", "remoteRef": {"key": "shared-tls", "property": "tls.key"}},
        ])
    );
    assert_eq!(doc["spec"]["target"]["deletionPolicy"], "Delete");
    assert_eq!(doc["spec"]["target"]["creationPolicy"], "Orphan");

    let renamed = eso(&s, &["production/api", "--key", "DB_PASSWORD=password"]);
    assert_eq!(renamed.code, 0, "{}", renamed.stderr);
    let doc = docs(&renamed.stdout).remove(0);
    assert_eso_valid(&doc);
    assert_eq!(doc["spec"]["data"][0]["secretKey"], "DB_PASSWORD");
    assert_eq!(doc["spec"]["data"][0]["remoteRef"]["property"], "password");

    for (args, code, needle) in [
        (
            &["shared/tls", "--key", "tls.crt"][..],
            1,
            "needs the key tls.key; pull it with --key",
        ),
        (
            &["production/api", "--key", "nope"][..],
            1,
            "--key nope: \"production/api\" has no key \"nope\" (its keys: password)",
        ),
        (
            &["production/api", "--key", "a b=password"][..],
            2,
            "NAME may only contain",
        ),
        (
            &[
                "production/api",
                "--key",
                "x=password",
                "--key",
                "x=password",
            ][..],
            2,
            "named twice",
        ),
        (
            &[
                "production/api",
                "--deletion-policy",
                "Delete",
                "--creation-policy",
                "Merge",
            ][..],
            2,
            "--deletion-policy Delete needs a Secret ESO owns",
        ),
        (
            &[
                "production/api",
                "--deletion-policy",
                "Merge",
                "--creation-policy",
                "None",
            ][..],
            2,
            "there is no Secret to merge with",
        ),
        (
            &[
                "production/api",
                "--cluster-external-secret",
                "--namespaces",
                "Bad_NS",
            ][..],
            2,
            "\"Bad_NS\" is not a namespace name",
        ),
        (
            &["--user", "nobody", "--all"][..],
            1,
            "no user \"nobody\" in the vault (users: shop)",
        ),
        (&["--all"][..], 2, "--user"),
        (
            &["production/api", "--cluster-external-secret"][..],
            2,
            "--namespaces",
        ),
        (
            &["production/api", "--deletion-policy", "retain"][..],
            2,
            "invalid value",
        ),
    ] {
        let out = eso(&s, args);
        assert_eq!(out.code, code, "{args:?}: {}{}", out.stdout, out.stderr);
        assert!(
            out.stderr.contains(needle),
            "{args:?}: {needle}\n{}",
            out.stderr
        );
        assert_eq!(out.stdout, "");
    }
}

// ------------------------------------------------------------- examples/secret-shapes

/// `name` on PATH, or `None` (a loud skip; a failure under `CI=true`).
fn tool(name: &str, test: &str) -> Option<std::path::PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true" || v == "1"),
            "{test}: `{name}` is not on PATH, and CI=true: refusing to skip"
        );
        eprintln!("SKIPPED {test}: `{name}` is not on PATH");
    }
    found
}

/// A command in `cwd` with this kubevault first on PATH and a private XDG config home.
fn tool_command(program: &Path, cwd: &Path, xdg: &Path) -> Command {
    let bin = Path::new(env!("CARGO_BIN_EXE_kubevault")).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(bin.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let mut cmd = Command::new(program);
    cmd.current_dir(cwd)
        .env("PATH", path)
        .env("XDG_CONFIG_HOME", xdg)
        .env_remove("KUBEVAULT_DIR")
        .env_remove("KUBEVAULT_NAMESPACE")
        .env_remove("KUSTOMIZE_PLUGIN_HOME");
    cmd
}

fn ok_stdout(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The example's Secrets with the generator annotation (the only thing a route changes) unset.
fn shaped_secrets(objects: &[Json]) -> Vec<Json> {
    let mut secrets = secrets_of(objects);
    for s in &mut secrets {
        s["metadata"]["annotations"]
            .as_object_mut()
            .unwrap()
            .remove("kubevault.dev/generator");
        for k in [
            "internal.config.kubernetes.io/path",
            "config.kubernetes.io/path",
            "internal.config.kubernetes.io/index",
            "config.kubernetes.io/index",
            "internal.config.kubernetes.io/id",
            "config.k8s.io/id",
            "internal.config.kubernetes.io/annotations-migration-resource-id",
        ] {
            s["metadata"]["annotations"]
                .as_object_mut()
                .unwrap()
                .remove(k);
        }
    }
    secrets.sort_by_key(|s| s["metadata"]["name"].as_str().unwrap().to_string());
    secrets
}

fn assert_example_shapes(test: &str, secrets: &[Json]) {
    assert_eq!(secrets.len(), 3, "{test}");
    assert_eq!(
        find(secrets, "shared-tls")["type"],
        "kubernetes.io/tls",
        "{test}"
    );
    assert_eq!(
        find(secrets, "registry-pull")["type"],
        "kubernetes.io/dockerconfigjson",
        "{test}"
    );
    let api = find(secrets, "production-api");
    assert_eq!(
        api["metadata"]["annotations"]["reloader.stakater.com/match"], "true",
        "{test}"
    );
    assert!(
        secrets
            .iter()
            .all(|s| s["metadata"]["labels"]["team"] == "shop"
                && s["metadata"]["namespace"] == "shop-secrets"),
        "{test}"
    );
}

#[test]
fn the_secret_shapes_example_renders_alike_on_every_route() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/secret-shapes");
    let xdg = tempfile::tempdir().unwrap();
    let kubevault = Path::new(env!("CARGO_BIN_EXE_kubevault"));
    let generate = ok_stdout(tool_command(kubevault, &example, xdg.path()).args([
        "generate",
        "--vault-dir",
        "vault",
        "-n",
        "shop-secrets",
    ]));
    let objects = docs(&generate);
    let reference = shaped_secrets(&objects);
    assert_example_shapes("generate", &reference);
    kubernetes_validate("secret-shapes generate", &objects);

    if let Some(kpt) = tool("kpt", "secret-shapes kpt") {
        for args in [
            &["fn", "render", "--allow-exec", "-o", "unwrap", "."][..],
            &[
                "fn",
                "eval",
                ".",
                "--exec",
                "kubevault",
                "--fn-config",
                "fn-config.yaml",
                "-o",
                "unwrap",
            ][..],
        ] {
            let out = ok_stdout(tool_command(&kpt, &example, xdg.path()).args(args));
            let objects: Vec<Json> = docs(&out)
                .into_iter()
                .filter(|o| o["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "kubevault")
                .collect();
            assert_eq!(shaped_secrets(&objects), reference, "kpt {}", args[1]);
            kubernetes_validate(&format!("secret-shapes kpt {}", args[1]), &objects);
        }
    }
    if let Some(kubectl) = tool("kubectl", "secret-shapes legacy plugin") {
        ok_stdout(tool_command(kubevault, &example, xdg.path()).arg("install-plugin"));
        let out = ok_stdout(tool_command(&kubectl, &example, xdg.path()).args([
            "kustomize",
            "--enable-alpha-plugins",
            ".",
        ]));
        let objects = docs(&out);
        assert_eq!(shaped_secrets(&objects), reference, "legacy plugin");
        kubernetes_validate("secret-shapes legacy plugin", &objects);
    }
    let eso = ok_stdout(tool_command(kubevault, &example, xdg.path()).args([
        "external-secret",
        "--vault-dir",
        "vault",
        "--user",
        "shop",
        "--all",
    ]));
    let external: Vec<Json> = docs(&eso);
    assert_eq!(external.len(), 3);
    for doc in &external {
        assert_eso_valid(doc);
        let name = doc["metadata"]["name"].as_str().unwrap();
        let vault_side = find(&reference, name);
        let template = &doc["spec"]["target"]["template"];
        assert_eq!(template["type"], vault_side["type"], "{name}");
        assert_eq!(template["metadata"]["labels"]["team"], "shop", "{name}");
    }
}
