//! KRM function mode through the real binary: the quickstart snapshot, pass-through of every
//! item and annotation, kustomize's generator input, idempotent re-runs, stale removal, clashes.

mod common;

use common::{FN_CONFIG, Sandbox, resource_list, run};
use kubevault::yaml::{Limits, Node, emit_document, parse_stream};
use std::path::Path;

fn quickstart() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/quickstart"))
}

fn parse(text: &str) -> Node {
    parse_stream(text, &Limits::default()).unwrap().remove(0)
}

fn items(out: &str) -> Vec<Node> {
    parse(out).get("items").unwrap().as_seq().unwrap().to_vec()
}

fn id(item: &Node) -> String {
    format!(
        "{}/{}",
        item.str_at(&["kind"]).unwrap_or("?"),
        item.str_at(&["metadata", "name"]).unwrap_or("?")
    )
}

fn quickstart_config() -> String {
    std::fs::read_to_string(quickstart().join("fn-config.yaml")).unwrap()
}

#[test]
fn quickstart_resource_list() {
    let input = resource_list("", &quickstart_config());
    let out = run(quickstart(), &[], Some(input.as_bytes()), &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.stderr, "");
    insta::assert_snapshot!(out.stdout);
}

const PASS_THROUGH_ITEMS: &str = r#"- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: function-input
    annotations:
      config.kubernetes.io/local-config: "true"
  data:
    vaultDir: elsewhere
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web # a comment kpt will put back
    annotations:
      internal.config.kubernetes.io/path: deploy.yaml
      internal.config.kubernetes.io/index: '0'
      internal.config.kubernetes.io/id: '3'
      internal.config.kubernetes.io/package-path: /pkg
      internal.config.kubernetes.io/seqindent: compact
      config.kubernetes.io/path: deploy.yaml
      config.kubernetes.io/index: '0'
      config.k8s.io/id: '3'
      kustomize.config.k8s.io/id: |
        kind: Deployment
        name: web
  spec:
    replicas: 3
    template:
      metadata:
        labels: {app: web}
      spec:
        containers:
        - name: web
          image: nginx:1.27
          args: ["--ratio", 1.10, "0o17", on, "on", ~, 0123]
          env:
          - {name: EMPTY, value: ""}
          - name: MULTI
            value: |
              line one
              line two
- apiVersion: v1
  kind: Secret
  metadata:
    name: unrelated
    namespace: kubevault-kvstore
  stringData:
    note: "yes"
"#;

#[test]
fn every_item_passes_through_unchanged() {
    let sb = Sandbox::vault();
    sb.file("vault/kvstore/app", "k: v\n");
    let input = resource_list(PASS_THROUGH_ITEMS, FN_CONFIG);
    let out = run(sb.path(), &[], Some(input.as_bytes()), &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let input_items = items(&input);
    let output_items = items(&out.stdout);
    assert_eq!(input_items.len(), 3);
    for (i, item) in input_items.iter().enumerate() {
        assert_eq!(
            emit_document(&output_items[i]),
            emit_document(item),
            "item {i} changed"
        );
    }
    assert_eq!(
        output_items.iter().skip(3).map(id).collect::<Vec<_>>(),
        ["Secret/app"]
    );
    // Scalars keep the spelling they had: 1.10 stays 1.10, the string "on" stays quoted.
    assert!(out.stdout.contains("- 1.10\n"), "{}", out.stdout);
    assert!(
        out.stdout.contains("- \"on\"\n") && out.stdout.contains("- on\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("internal.config.kubernetes.io/seqindent: compact")
    );
}

#[test]
fn kustomize_generator_input_never_leaks_local_config() {
    let sb = Sandbox::vault();
    sb.file("vault/kvstore/app", "k: v\n");
    sb.file("vault/access_control/alice", "**\n");
    let config = format!(
        "{}  annotations:\n    config.kubernetes.io/local-config: \"true\"\n    config.kubernetes.io/function: |\n      exec:\n        path: kubevault\n    config.kubernetes.io/index: '0'\n    internal.config.kubernetes.io/index: '0'\n    kustomize.config.k8s.io/id: |\n      kind: KubeVault\n",
        FN_CONFIG
            .replace("spec:\n", "")
            .replace("  vaultDir: vault\n", "")
    ) + "spec:\n  vaultDir: vault\n";
    let item0: String = config
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                format!("- {l}\n")
            } else {
                format!("  {l}\n")
            }
        })
        .collect();
    let input = resource_list(&item0, &config);
    let out = run(sb.path(), &[], Some(input.as_bytes()), &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let output = items(&out.stdout);
    assert_eq!(
        id(&output[0]),
        "KubeVault/test",
        "the config item passes through first"
    );
    assert_eq!(output.len(), 1 + 5);
    for generated in &output[1..] {
        let text = emit_document(generated);
        for forbidden in [
            "local-config",
            "config.kubernetes.io/function",
            "config.kubernetes.io/index",
            "kustomize.config.k8s.io/id",
        ] {
            assert!(
                !text.contains(forbidden),
                "{forbidden} on a generated object:\n{text}"
            );
        }
    }
}

#[test]
fn a_second_run_over_the_first_output_changes_nothing() {
    let sb = Sandbox::vault();
    sb.file("vault/kvstore/app", "k: v\n")
        .file("vault/access_control/alice", "**\n");
    let first = run(
        sb.path(),
        &[],
        Some(resource_list(PASS_THROUGH_ITEMS, FN_CONFIG).as_bytes()),
        &[],
    );
    assert_eq!(first.code, 0, "{}", first.stderr);
    let second = run(sb.path(), &[], Some(first.stdout.as_bytes()), &[]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    assert_eq!(items(&second.stdout).len(), items(&first.stdout).len());
    assert_eq!(second.stdout, first.stdout);
}

#[test]
fn replaced_objects_keep_kpt_bookkeeping_and_stale_ones_go() {
    let sb = Sandbox::vault();
    sb.file("vault/kvstore/app", "k: v\n")
        .file("vault/kvstore/old", "k: v\n")
        .file("vault/access_control/alice", "**\n");
    let first = run(
        sb.path(),
        &[],
        Some(resource_list("", FN_CONFIG).as_bytes()),
        &[],
    );
    // kpt would add file annotations when writing the package; simulate that on every item.
    let annotated = first.stdout.replace(
        "      kubevault.dev/generator: test\n",
        "      kubevault.dev/generator: test\n      internal.config.kubernetes.io/path: generated.yaml\n",
    );
    std::fs::remove_file(sb.vault_dir().join("kvstore/old")).unwrap();
    std::fs::write(sb.vault_dir().join("kvstore/app"), "k: changed\n").unwrap();
    let second = run(sb.path(), &[], Some(annotated.as_bytes()), &[]);
    assert_eq!(second.code, 0, "{}", second.stderr);
    let out = items(&second.stdout);
    let ids: Vec<String> = out.iter().map(id).collect();
    assert_eq!(
        ids,
        [
            "Secret/app",
            "ServiceAccount/alice",
            "Secret/alice-token",
            "Role/kubevault:alice:read",
            "RoleBinding/kubevault:alice:read"
        ]
    );
    assert_eq!(out[0].str_at(&["data", "k"]), Some("Y2hhbmdlZA=="));
    assert_eq!(
        out[0].str_at(&[
            "metadata",
            "annotations",
            "internal.config.kubernetes.io/path"
        ]),
        Some("generated.yaml")
    );
}

#[test]
fn another_generator_s_objects_are_left_alone_unless_they_clash() {
    let sb = Sandbox::vault();
    sb.file("vault/kvstore/app", "k: v\n");
    let theirs = "- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: other\n    namespace: kubevault-kvstore\n    labels: {app.kubernetes.io/managed-by: kubevault}\n    annotations: {kubevault.dev/generator: second-config}\n";
    let out = run(
        sb.path(),
        &[],
        Some(resource_list(theirs, FN_CONFIG).as_bytes()),
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        items(&out.stdout).iter().map(id).collect::<Vec<_>>(),
        ["Secret/other", "Secret/app"]
    );

    let clash = theirs.replace("name: other", "name: app");
    let input = resource_list(&clash, FN_CONFIG);
    let out = run(sb.path(), &[], Some(input.as_bytes()), &[]);
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("input item Secret kubevault-kvstore/app is not generated by this kubevault config (test)"), "{}", out.stderr);
    assert_eq!(
        items(&out.stdout).iter().map(id).collect::<Vec<_>>(),
        ["Secret/app"],
        "input items only"
    );
}

#[test]
fn wire_format_variants() {
    let sb = Sandbox::vault();
    sb.file("vault/kvstore/app", "k: v\n");
    let v1beta1 = resource_list("", FN_CONFIG).replace(
        "config.kubernetes.io/v1\n",
        "config.kubernetes.io/v1beta1\n",
    );
    let out = run(sb.path(), &[], Some(v1beta1.as_bytes()), &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout
            .starts_with("apiVersion: config.kubernetes.io/v1beta1\n")
    );

    let no_items = format!(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nfunctionConfig:\n{}",
        FN_CONFIG
            .lines()
            .map(|l| format!("  {l}\n"))
            .collect::<String>()
    );
    let out = run(sb.path(), &[], Some(no_items.as_bytes()), &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(items(&out.stdout).len(), 1);

    let no_config = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n";
    let out = run(sb.path(), &[], Some(no_config.as_bytes()), &[]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("functionConfig: missing"),
        "{}",
        out.stderr
    );
    assert!(
        out.stdout.contains("kind: ResourceList"),
        "a ResourceList even on failure"
    );

    let out = run(sb.path(), &[], Some(b"not: [valid"), &[]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.starts_with("error: stdin: not valid YAML"),
        "{}",
        out.stderr
    );
}

#[test]
fn configmap_function_config_and_relative_paths() {
    let sb = Sandbox::vault();
    sb.file("pkg/secrets/vault/kvstore/app", "k: v\n");
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: function-input\ndata:\n  vaultDir: vault\n  namespace: team-a\n  createNamespace: \"true\"\n";
    let out = run(sb.path(), &[], Some(resource_list("", cm).as_bytes()), &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let ids: Vec<String> = items(&out.stdout).iter().map(id).collect();
    assert_eq!(ids, ["Namespace/team-a"], "the sandbox vault is empty");

    // kpt render: relative to the package path plus the config file's own directory.
    let pkg = sb.path().join("pkg");
    let rendered_config = format!(
        "{}  annotations:\n    internal.config.kubernetes.io/package-path: {}\n    internal.config.kubernetes.io/path: secrets/fn-config.yaml\nspec:\n  vaultDir: vault\n",
        FN_CONFIG.split("spec:").next().unwrap(),
        pkg.display()
    );
    let elsewhere = tempfile::tempdir().unwrap();
    let out = run(
        elsewhere.path(),
        &[],
        Some(resource_list("", &rendered_config).as_bytes()),
        &[],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        items(&out.stdout).iter().map(id).collect::<Vec<_>>(),
        ["Secret/app"]
    );

    let missing = rendered_config.replace("vaultDir: vault", "vaultDir: nope");
    let out = run(
        elsewhere.path(),
        &[],
        Some(resource_list("", &missing).as_bytes()),
        &[],
    );
    assert_eq!(out.code, 1);
    let want = format!(
        "vault directory {}/secrets/nope cannot be read",
        pkg.display()
    );
    assert!(out.stderr.contains(&want), "{}", out.stderr);
}

#[test]
fn output_is_deterministic() {
    let input = resource_list(PASS_THROUGH_ITEMS, &quickstart_config());
    let a = run(quickstart(), &[], Some(input.as_bytes()), &[]);
    let b = run(quickstart(), &[], Some(input.as_bytes()), &[]);
    assert_eq!(a.code, 0, "{}", a.stderr);
    assert_eq!(a.stdout, b.stdout);
}

/// Large ResourceLists are read in parallel pieces (pass-through items kept as written) while
/// the vault is read ahead of the items. They give the output and errors of the same list read
/// in one piece by the full parser (a tab in a leading comment keeps the splitter away; that
/// path writes every item with our emitter, so outputs compare as YAML), the same items as a
/// small list does, and a re-run over the output changes nothing.
#[test]
fn large_resource_lists_match_the_one_piece_reading() {
    let sb = Sandbox::vault();
    sb.file("vault/kvstore/app", "k: v\n")
        .file("vault/kvstore/db", "password: x\n")
        .file("vault/access_control/alice", "**\n");
    let mut many = String::new();
    while many.len() < 300 << 10 {
        many.push_str(PASS_THROUGH_ITEMS);
    }
    let mut bad = many.clone();
    let middle = bad.len() / 2 + bad[bad.len() / 2..].find("\n- ").unwrap() + 1;
    bad.insert_str(middle, "- just a string\n");
    for items in [&many, &bad] {
        let split = resource_list(items, FN_CONFIG);
        let whole = format!("# one piece:\t\n{split}");
        let a = run(sb.path(), &[], Some(split.as_bytes()), &[]);
        let b = run(sb.path(), &[], Some(whole.as_bytes()), &[]);
        assert_eq!((a.code, &a.stderr), (b.code, &b.stderr));
        assert!(
            emit_document(&parse(&a.stdout)) == emit_document(&parse(&b.stdout)),
            "outputs differ"
        );
        if std::ptr::eq(items, &many) {
            assert_eq!(a.code, 0, "{}", a.stderr);
            let again = run(sb.path(), &[], Some(a.stdout.as_bytes()), &[]);
            assert!(again.stdout == a.stdout, "a re-run changed the output");
            let small = resource_list(PASS_THROUGH_ITEMS, FN_CONFIG);
            let small = run(sb.path(), &[], Some(small.as_bytes()), &[]);
            let first_items =
                |out: &str| out[..out.find("\n- apiVersion: apps/v1").unwrap()].to_string();
            assert_eq!(first_items(&small.stdout), first_items(&a.stdout));
        } else {
            assert_eq!(a.code, 1);
            assert!(a.stderr.contains("is not an object"), "{}", a.stderr);
        }
    }
}

/// An emptied vault (or one that generates only its Namespace) removes every object an earlier
/// run of this generator left in `items`, whatever its kind, and keeps another generator's
/// objects and everything unmanaged.
#[test]
fn an_emptied_vault_removes_every_stale_object_of_this_generator() {
    for create_namespace in [false, true] {
        let config = if create_namespace {
            format!("{FN_CONFIG}  createNamespace: true\n")
        } else {
            FN_CONFIG.to_string()
        };
        let sb = Sandbox::vault();
        sb.file("vault/kvstore/app", "k: v\n")
            .file("vault/kvstore/team/db", "password: p\n")
            .file("vault/access_control/alice", "**\n")
            .file("vault/access_control/bob", "team/**\n");
        let first = run(
            sb.path(),
            &[],
            Some(resource_list("", &config).as_bytes()),
            &[],
        );
        assert_eq!(first.code, 0, "{}", first.stderr);
        let kinds: Vec<String> = items(&first.stdout).iter().map(id).collect();
        for kind in ["Secret/", "ServiceAccount/", "Role/", "RoleBinding/"] {
            assert!(kinds.iter().any(|k| k.starts_with(kind)), "{kinds:?}");
        }
        // Keep the first output's items, and add unmanaged and another generator's objects.
        let ours: String = emit_document(&parse(&first.stdout))
            .split_once("items:\n")
            .unwrap()
            .1
            .split("functionConfig:")
            .next()
            .unwrap()
            .to_string();
        let theirs = "- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: other\n    namespace: kubevault-kvstore\n    labels: {app.kubernetes.io/managed-by: kubevault}\n    annotations: {kubevault.dev/generator: second-config}\n\
                      - apiVersion: rbac.authorization.k8s.io/v1\n  kind: Role\n  metadata:\n    name: other\n    namespace: kubevault-kvstore\n    labels: {app.kubernetes.io/managed-by: kubevault}\n    annotations: {kubevault.dev/generator: second-config}\n\
                      - apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: unmanaged\n";
        std::fs::remove_dir_all(sb.vault_dir().join("kvstore")).unwrap();
        std::fs::remove_dir_all(sb.vault_dir().join("access_control")).unwrap();
        std::fs::create_dir_all(sb.vault_dir().join("kvstore")).unwrap();
        std::fs::create_dir_all(sb.vault_dir().join("access_control")).unwrap();
        let input = resource_list(&format!("{theirs}{ours}"), &config);
        let second = run(sb.path(), &[], Some(input.as_bytes()), &[]);
        assert_eq!(second.code, 0, "{}", second.stderr);
        let left: Vec<String> = items(&second.stdout).iter().map(id).collect();
        let mut want = vec!["Secret/other", "Role/other", "ConfigMap/unmanaged"];
        if create_namespace {
            want.push("Namespace/kubevault-kvstore");
        }
        assert_eq!(left, want, "createNamespace: {create_namespace}");
    }
}
