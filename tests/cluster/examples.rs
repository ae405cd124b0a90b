//! Every example route's output applied to the API server with `kubectl apply --server-side`,
//! twice: the first apply is accepted whole, the second changes nothing (no object's
//! `resourceVersion` moves, and `kubectl diff --server-side` is empty).
//!
//! Routes: `generate` of every example vault (with `--create-namespace`), `kpt fn render`,
//! `kpt fn eval`, the legacy kustomize plugin under `kubectl kustomize`, the KRM function on
//! kustomize's wire input, the Argo CD CMP's `generate`, and the container image when it exists
//! (`examples/container/build-image.sh`; CI builds it first). Each route's objects move to their
//! own namespace (the namespace fields and the RoleBinding subjects) so the routes, which all
//! render into `team-secrets`, do not meet; nothing else is changed. Local-config items (the
//! functionConfig, the Kptfile) are not applied, as kpt and kustomize never apply them.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::harness::{self, Cluster, docs, kubevault, run, wait_for};

fn examples() -> PathBuf {
    harness::repo().join("examples")
}

/// PATH with the kubevault under test first, so `exec: kubevault` finds it.
fn path_with_kubevault() -> std::ffi::OsString {
    let dir = kubevault().parent().unwrap().to_path_buf();
    let rest = std::env::var_os("PATH").unwrap_or_default();
    std::env::join_paths(std::iter::once(dir).chain(std::env::split_paths(&rest))).unwrap()
}

fn command(program: impl AsRef<std::ffi::OsStr>, cwd: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(cwd).env("PATH", path_with_kubevault());
    for var in [
        "KUBEVAULT_DIR",
        "KUBEVAULT_NAMESPACE",
        "KUSTOMIZE_PLUGIN_HOME",
        "XDG_CONFIG_HOME",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn ok(cmd: &mut Command, stdin: Option<&str>) -> String {
    let ran = run(cmd, stdin);
    assert_eq!(ran.code, 0, "{cmd:?}: {ran:?}");
    ran.stdout
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Every route: (name, its output).
fn routes(scratch: &Path) -> Vec<(String, String)> {
    let mut routes = Vec::new();
    // `generate` of every example vault.
    let mut vaults: Vec<PathBuf> = std::fs::read_dir(examples())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("vault/kvstore").is_dir())
        .collect();
    vaults.push(examples().join("argocd-cmp/app"));
    vaults.sort();
    assert!(vaults.len() >= 6, "{vaults:?}");
    for dir in &vaults {
        let mut args = vec!["generate", "--vault-dir", "vault", "--create-namespace"];
        if dir.join("age-key.txt").is_file() {
            args.extend(["--age-key-file", "age-key.txt"]);
        }
        let name = dir
            .strip_prefix(examples())
            .unwrap()
            .display()
            .to_string()
            .replace('/', "-");
        routes.push((
            format!("generate-{name}"),
            ok(command(kubevault(), dir).args(&args), None),
        ));
    }

    // kpt fn render, on a copy (it writes into the package otherwise).
    let pkg = scratch.join("kpt-render");
    copy_dir(&examples().join("kpt-render"), &pkg);
    routes.push((
        "kpt-render".into(),
        ok(
            command("kpt", &pkg).args(["fn", "render", "--allow-exec", "-o", "unwrap", "."]),
            None,
        ),
    ));
    // kpt fn eval with the fn-config.
    routes.push((
        "kpt-eval".into(),
        ok(
            command("kpt", &examples().join("kpt-eval")).args([
                "fn",
                "eval",
                ".",
                "--exec",
                "kubevault",
                "--fn-config",
                "fn-config.yaml",
                "-o",
                "unwrap",
            ]),
            None,
        ),
    ));
    // The legacy exec plugin under kubectl kustomize.
    let xdg = scratch.join("xdg");
    ok(
        command(kubevault(), scratch)
            .env("XDG_CONFIG_HOME", &xdg)
            .arg("install-plugin"),
        None,
    );
    routes.push((
        "kubectl-legacy-plugin".into(),
        ok(
            command("kubectl", &examples().join("kubectl-legacy-plugin"))
                .env("XDG_CONFIG_HOME", &xdg)
                .args(["kustomize", "--enable-alpha-plugins", "."]),
            None,
        ),
    ));
    // The KRM function on the ResourceList kustomize sends (kustomize build --enable-exec).
    let dir = examples().join("kustomize-exec");
    let input = std::fs::read_to_string(dir.join("kustomize-input.yaml")).unwrap();
    let list = &docs(&ok(&mut command(kubevault(), &dir), Some(&input)))[0];
    let items = list["items"].as_array().unwrap();
    routes.push(("kustomize-exec".into(), harness::yaml_stream(items)));
    // The Argo CD CMP: `kubevault generate` in the app directory with the plugin's env.
    routes.push((
        "argocd-cmp".into(),
        ok(
            command(kubevault(), &examples().join("argocd-cmp/app"))
                .env("ARGOCD_ENV_KUBEVAULT_NAMESPACE", "team-secrets")
                .arg("generate"),
            None,
        ),
    ));
    // The container image, when built.
    let container = examples().join("container");
    let image = std::env::var("KUBEVAULT_IMAGE").unwrap_or("localhost/kubevault:dev".into());
    let podman_env = [
        ("CONTAINERS_CONF", container.join("podman/containers.conf")),
        (
            "CONTAINERS_STORAGE_CONF",
            container.join("podman/storage.conf"),
        ),
    ];
    let has_image = harness::which("podman").is_some()
        && run(
            command("podman", &container)
                .envs(podman_env.iter().map(|(k, v)| (k, v)))
                .args(["image", "exists", &image]),
            None,
        )
        .code
            == 0;
    if has_image {
        routes.push((
            "container".into(),
            ok(
                command(container.join("run.sh"), &container)
                    .envs(podman_env.iter().map(|(k, v)| (k, v))),
                None,
            ),
        ));
    } else {
        assert!(
            !harness::in_ci(),
            "image {image} missing under CI (examples/container/build-image.sh)"
        );
        eprintln!("!!!!!!!! cluster examples: container route skipped, no image {image} !!!!!!!!");
    }
    routes
}

fn is_local_config(o: &Value) -> bool {
    o["metadata"]["annotations"]["config.kubernetes.io/local-config"] == "true"
        || o["kind"] == "Kptfile"
}

/// The route's objects, moved into `ns`.
fn relocate(objects: &[Value], ns: &str) -> Vec<Value> {
    objects
        .iter()
        .filter(|o| !is_local_config(o))
        .map(|o| {
            let mut o = o.clone();
            if o["kind"] == "Namespace" {
                o["metadata"]["name"] = ns.into();
            } else {
                o["metadata"]["namespace"] = ns.into();
            }
            if let Some(subjects) = o.get_mut("subjects").and_then(Value::as_array_mut) {
                for s in subjects {
                    if s.get("namespace").is_some() {
                        s["namespace"] = ns.into();
                    }
                }
            }
            o
        })
        .collect()
}

/// `resourceVersion` of every object in the stream, by `Kind/name`.
fn versions(cluster: &Cluster, stream: &str) -> Vec<(String, String)> {
    let got: Value = serde_json::from_str(
        &cluster
            .kubectl()
            .ok_in(&["get", "-f", "-", "-o", "json"], Some(stream)),
    )
    .unwrap();
    let items = match got["kind"].as_str() {
        Some("List") => got["items"].as_array().unwrap().clone(),
        _ => vec![got],
    };
    let mut v: Vec<(String, String)> = items
        .iter()
        .map(|o| {
            (
                harness::id(o),
                o["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn apply_twice(cluster: &Cluster, route: &str, ns: &str, objects: &[Value]) {
    let ours = objects
        .iter()
        .filter(|o| o["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "kubevault")
        .count();
    assert!(ours >= 5, "{route}: only {ours} kubevault objects");
    let stream = harness::yaml_stream(objects);
    if !objects.iter().any(|o| o["kind"] == "Namespace") {
        cluster.namespace(ns);
    }
    let apply = ["apply", "--server-side", "-f", "-"];
    let first = cluster.kubectl().run(&apply, Some(&stream));
    assert_eq!(first.code, 0, "{route}: first apply: {first:?}");
    // Let the controllers finish their own writes (token data, the ServiceAccounts' token list).
    for sa in objects.iter().filter(|o| o["kind"] == "ServiceAccount") {
        let user = sa["metadata"]["name"].as_str().unwrap();
        cluster.token(ns, user);
        wait_for(
            &format!("{route}: {user}'s ServiceAccount token list"),
            || {
                let got = cluster
                    .kubectl()
                    .json(&["get", "serviceaccount", user, "-n", ns]);
                got["secrets"]
                    .as_array()
                    .is_some_and(|s| !s.is_empty())
                    .then_some(())
            },
        );
    }
    let before = versions(cluster, &stream);
    assert_eq!(before.len(), objects.len(), "{route}: {before:?}");
    let second = cluster.kubectl().run(&apply, Some(&stream));
    assert_eq!(second.code, 0, "{route}: second apply: {second:?}");
    let after = versions(cluster, &stream);
    assert_eq!(after, before, "{route}: the second apply changed objects");
    let diff = cluster
        .kubectl()
        .run(&["diff", "--server-side", "-f", "-"], Some(&stream));
    assert_eq!(diff.code, 0, "{route}: kubectl diff after apply: {diff:?}");
}

pub fn every_route_applies_server_side_twice_without_change(cluster: &Cluster) {
    let scratch = tempfile::tempdir().unwrap();
    let routes = routes(scratch.path());
    for (route, output) in &routes {
        let objects = relocate(&docs(output), &format!("ex-{route}"));
        apply_twice(cluster, route, &format!("ex-{route}"), &objects);
    }
    eprintln!(
        "cluster examples: {} routes applied twice: {:?}",
        routes.len(),
        routes.iter().map(|r| &r.0).collect::<Vec<_>>()
    );
}
