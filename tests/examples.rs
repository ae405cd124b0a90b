//! End-to-end: every example under `examples/` run the way its README says, by the real tool
//! (kpt, kubectl, podman), asserting on the rendered objects, which are also validated against
//! Kubernetes 1.32. A missing tool skips a test loudly, and fails it under `CI=true`.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use common::tools::*;
use serde_yaml::Value;

// ---------------------------------------------------------------- kpt-render

#[test]
fn kpt_render_unwrap_prints_the_package_and_writes_nothing() {
    let Some(kpt) = tool("kpt", "kpt-render") else {
        return;
    };
    let tmp = copy_example("kpt-render");
    let pkg = tmp.path().join("kpt-render");
    let before = tree(&pkg);
    let out =
        run_ok(command(&kpt, &pkg).args(["fn", "render", "--allow-exec", "-o", "unwrap", "."]));
    let items = docs(&out);
    let ours = generated(&items);
    assert_example_vault(&ours, "team-secrets", "kpt-render", true);
    let passed: Vec<String> = items.iter().filter(|i| !ours.contains(i)).map(id).collect();
    assert_eq!(passed, ["Kptfile/kpt-render", "KubeVault/kpt-render"]);
    assert_eq!(
        tree(&pkg),
        before,
        "-o unwrap must not write into the package"
    );
    validate("kpt-render", &ours);
}

#[test]
fn kpt_render_in_place_is_idempotent_and_removes_stale_objects() {
    let Some(kpt) = tool("kpt", "kpt-render in place") else {
        return;
    };
    let tmp = copy_example("kpt-render");
    let pkg = tmp.path().join("kpt-render");
    let render = || run_ok(command(&kpt, &pkg).args(["fn", "render", "--allow-exec", "."]));
    render();
    let first = tree(&pkg);
    let written: Vec<&String> = first
        .keys()
        .filter(|k| k.starts_with("team-secrets/"))
        .collect();
    assert_eq!(
        written.len(),
        EXPECTED.len(),
        "one file per object: {written:?}"
    );
    let db = String::from_utf8(first["team-secrets/secret_production-payments-db.yaml"].clone())
        .unwrap();
    assert!(db.contains("kubevault.dev/generator: kpt-render"), "{db}");

    render();
    assert_eq!(
        tree(&pkg),
        first,
        "a second in-place render changed the package"
    );

    // A deleted user and secret disappear from the package on the next render.
    fs::remove_file(pkg.join("vault/access_control/carol")).unwrap();
    fs::remove_file(pkg.join("vault/kvstore/shared/tls.yaml")).unwrap();
    render();
    let after = tree(&pkg);
    let gone: Vec<&String> = first.keys().filter(|k| !after.contains_key(*k)).collect();
    assert_eq!(
        gone,
        [
            "team-secrets/role_kubevault:carol:read.yaml",
            "team-secrets/rolebinding_kubevault:carol:read.yaml",
            "team-secrets/secret_carol-token.yaml",
            "team-secrets/secret_shared-tls.yaml",
            "team-secrets/serviceaccount_carol.yaml",
            "vault/access_control/carol",
            "vault/kvstore/shared/tls.yaml",
        ]
    );
    assert!(
        after.keys().all(|k| first.contains_key(k)),
        "new files: {after:?}"
    );
}

// ---------------------------------------------------------------- kpt-eval

#[test]
fn kpt_eval_with_fn_config() {
    let Some(kpt) = tool("kpt", "kpt-eval --fn-config") else {
        return;
    };
    let pkg = example("kpt-eval");
    let out = run_ok(command(&kpt, &pkg).args([
        "fn",
        "eval",
        ".",
        "--exec",
        "kubevault",
        "--fn-config",
        "fn-config.yaml",
        "-o",
        "unwrap",
    ]));
    let items = docs(&out);
    let ours = generated(&items);
    assert_example_vault(&ours, "team-secrets", "kpt-eval", true);
    assert_eq!(items.len(), ours.len() + 1, "the fn-config passes through");
    validate("kpt-eval-fn-config", &ours);
}

#[test]
fn kpt_eval_with_key_values() {
    let Some(kpt) = tool("kpt", "kpt-eval -- k=v") else {
        return;
    };
    let pkg = example("kpt-eval");
    let out = run_ok(command(&kpt, &pkg).args([
        "fn",
        "eval",
        ".",
        "--exec",
        "kubevault",
        "-o",
        "unwrap",
        "--",
        "vaultDir=vault",
        "namespace=team-a",
    ]));
    let ours = generated(&docs(&out));
    // `-- k=v` becomes a ConfigMap functionConfig named function-input.
    assert_example_vault(&ours, "team-a", "function-input", true);
    validate("kpt-eval-key-values", &ours);
}

// ---------------------------------------------------------------- kustomize-exec

#[test]
fn kustomize_exec_wire_input_renders_in_the_kustomization_dir() {
    let dir = example("kustomize-exec");
    // The fixture must say what kubevault.yaml says, or it tests something else.
    let config = &docs(&fs::read_to_string(dir.join("kubevault.yaml")).unwrap())[0];
    let input_text = fs::read_to_string(dir.join("kustomize-input.yaml")).unwrap();
    let input = &docs(&input_text)[0];
    for sent in [&input["functionConfig"], &input["items"][0]] {
        assert_eq!(sent["spec"], config["spec"]);
        assert_eq!(sent["metadata"]["name"], config["metadata"]["name"]);
        assert_eq!(
            s(
                sent,
                &["metadata", "annotations", "config.kubernetes.io/function"]
            ),
            s(
                config,
                &["metadata", "annotations", "config.kubernetes.io/function"]
            )
        );
        assert!(is_local_config(sent));
    }

    let mut child = command(kubevault(), &dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input_text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let list = &docs(std::str::from_utf8(&out.stdout).unwrap())[0];
    assert_eq!(s(list, &["kind"]), "ResourceList");
    let items = list["items"].as_sequence().unwrap();
    assert_eq!(
        items[0], input["items"][0],
        "items[0] passes through unchanged"
    );
    // What kustomize keeps: everything that is not local-config.
    let kept: Vec<Value> = items
        .iter()
        .filter(|i| !is_local_config(i))
        .cloned()
        .collect();
    assert_example_vault(&kept, "team-secrets", "kustomize-exec", true);
    validate("kustomize-exec", &kept);
}

/// The trap the README warns about: `kubectl kustomize` has no `--enable-exec` and drops an exec
/// function without a word. If this ever renders our objects, the docs must change.
#[test]
fn kubectl_kustomize_silently_skips_exec_functions() {
    let Some(kubectl) = tool("kubectl", "kubectl kustomize exec trap") else {
        return;
    };
    let dir = example("kustomize-exec");
    let out = run_ok(command(&kubectl, &dir).args(["kustomize", "--enable-alpha-plugins", "."]));
    let ids: Vec<String> = docs(&out).iter().map(id).collect();
    assert_eq!(ids, ["ConfigMap/app-settings"]);
}

// ---------------------------------------------------------------- kubectl-legacy-plugin

#[test]
fn kubectl_legacy_plugin_composes_with_resources_and_transformers() {
    let Some(kubectl) = tool("kubectl", "kubectl-legacy-plugin") else {
        return;
    };
    let xdg = tempfile::tempdir().unwrap();
    let installed = run(command(kubevault(), xdg.path())
        .env("XDG_CONFIG_HOME", xdg.path())
        .arg("install-plugin"));
    assert!(installed.status.success(), "{installed:?}");
    let plugin = xdg
        .path()
        .join("kustomize/plugin/kubevault.dev/v1alpha1/kubevault/KubeVault");
    assert_eq!(fs::read(&plugin).unwrap(), fs::read(kubevault()).unwrap());

    let dir = example("kubectl-legacy-plugin");
    let out = run_ok(
        command(&kubectl, &dir)
            .env("XDG_CONFIG_HOME", xdg.path())
            .args(["kustomize", "--enable-alpha-plugins", "."]),
    );
    let items = docs(&out);
    let ours = generated(&items);
    assert_example_vault(&ours, "team-secrets", "kubectl-legacy-plugin", false);
    let others: Vec<String> = items.iter().filter(|i| !ours.contains(i)).map(id).collect();
    assert_eq!(others, ["ConfigMap/app-settings"]);
    for item in &items {
        assert_eq!(
            s(item, &["metadata", "namespace"]),
            "team-secrets",
            "{}",
            id(item)
        );
        assert_eq!(
            s(item, &["metadata", "labels", "team"]),
            "platform",
            "{}",
            id(item)
        );
    }
    validate("kubectl-legacy-plugin", &items);
}

// ---------------------------------------------------------------- container

#[test]
fn container_function_runs_on_the_real_image() {
    let test = "container";
    let (Some(_), Some(podman)) = (tool("kpt", test), tool("podman", test)) else {
        return;
    };
    let dir = example("container");
    let env = container_env(&dir);
    let image = env[2].1.clone();
    let exists = run(Command::new(&podman)
        .envs(env.iter().cloned())
        .args(["image", "exists", &image]));
    if !exists.status.success() {
        skip(
            test,
            &format!("image {image} is missing: build it with examples/container/build-image.sh"),
        );
        return;
    }

    // The README's command.
    let out = run_ok(command(dir.join("run.sh"), &dir).envs(env.iter().cloned()));
    let items = docs(&out);
    let ours = generated(&items);
    assert_example_vault(&ours, "team-secrets", "container", true);
    validate("container", &ours);

    // The image: SPEC §8.
    let inspect = run_ok(
        Command::new(&podman)
            .envs(env.iter().cloned())
            .args(["image", "inspect", &image]),
    );
    let config = &serde_json::from_str::<serde_json::Value>(&inspect).unwrap()[0]["Config"];
    assert_eq!(config["User"], "65534:65534");
    assert_eq!(config["Entrypoint"], serde_json::json!(["kubevault"]));
    assert_eq!(
        config["Labels"]["org.opencontainers.image.title"],
        "kubevault"
    );
    let shell = run(Command::new(&podman).envs(env.iter().cloned()).args([
        "run",
        "--rm",
        "--network=none",
        "--entrypoint=/bin/sh",
        &image,
        "-c",
        "true",
    ]));
    assert!(!shell.status.success(), "the image must not have a shell");

    // The Argo CD initContainer: `kubevault install DIR` as nobody, no shell.
    let tools = tempfile::tempdir().unwrap();
    fs::set_permissions(tools.path(), fs::Permissions::from_mode(0o777)).unwrap();
    let mount = format!("{}:/custom-tools", tools.path().display());
    run_ok(Command::new(&podman).envs(env.iter().cloned()).args([
        "run",
        "--rm",
        "--network=none",
        "-v",
        &mount,
        &image,
        "install",
        "/custom-tools",
    ]));
    let copied = tools.path().join("kubevault");
    let version = run_ok(Command::new(&copied).arg("--version"));
    assert!(version.starts_with("kubevault "), "{version}");
}

/// podman settings from examples/container/env.sh (as the scripts use them), as variables.
fn container_env(dir: &std::path::Path) -> Vec<(String, String)> {
    let var = |name: &str, default: std::path::PathBuf| {
        (
            name.to_string(),
            std::env::var(name).unwrap_or_else(|_| default.display().to_string()),
        )
    };
    vec![
        var("CONTAINERS_CONF", dir.join("podman/containers.conf")),
        var("CONTAINERS_STORAGE_CONF", dir.join("podman/storage.conf")),
        var("KUBEVAULT_IMAGE", "localhost/kubevault:dev".into()),
    ]
}

// ---------------------------------------------------------------- argocd-cmp

#[test]
fn argocd_cmp_generate_prints_a_plain_object_stream() {
    let dir = example("argocd-cmp");
    let plugin = &docs(&fs::read_to_string(dir.join("plugin.yaml")).unwrap())[0];
    let app = &docs(&fs::read_to_string(dir.join("application.yaml")).unwrap())[0];
    assert_eq!(s(plugin, &["kind"]), "ConfigManagementPlugin");
    let plugin_name = format!(
        "{}-{}",
        s(plugin, &["metadata", "name"]),
        s(plugin, &["spec", "version"])
    );
    assert_eq!(s(app, &["spec", "source", "plugin", "name"]), plugin_name);

    // The app directory, as the CMP server sees it (the Application's path in this repo).
    let app_path = s(app, &["spec", "source", "path"]);
    let app_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(app_path);
    // discover.fileName is a glob against the app directory; ours names a directory.
    let discover = s(plugin, &["spec", "discover", "fileName"]);
    assert!(
        app_dir.join(discover).exists(),
        "discover {discover} matches nothing"
    );

    let argv: Vec<String> = plugin["spec"]["generate"]["command"]
        .as_sequence()
        .unwrap()
        .iter()
        .chain(
            plugin["spec"]["generate"]["args"]
                .as_sequence()
                .map(|a| a.as_slice())
                .unwrap_or_default(),
        )
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    assert_eq!(argv[0], "kubevault");
    let mut cmd = Command::new(kubevault());
    cmd.args(&argv[1..])
        .current_dir(&app_dir)
        .env_clear()
        .env("PATH", path_with_kubevault())
        .env("ARGOCD_APP_NAME", s(app, &["metadata", "name"]))
        .env(
            "ARGOCD_APP_NAMESPACE",
            s(app, &["spec", "destination", "namespace"]),
        )
        .env("ARGOCD_APP_SOURCE_PATH", app_path)
        .env("ARGOCD_APP_REVISION", "0123456789abcdef");
    for e in app["spec"]["source"]["plugin"]["env"]
        .as_sequence()
        .unwrap()
    {
        cmd.env(format!("ARGOCD_ENV_{}", s(e, &["name"])), s(e, &["value"]));
    }
    let out = run_ok(&mut cmd);
    let objects = docs(&out);
    assert!(
        objects.iter().all(|o| s(o, &["kind"]) != "ResourceList"),
        "the CMP needs plain objects"
    );
    assert_example_vault(&objects, "team-secrets", "kubevault", true);
    validate("argocd-cmp", &objects);
}

#[test]
fn argocd_install_components_patch_an_argocd_installation() {
    let Some(kubectl) = tool("kubectl", "argocd install components") else {
        return;
    };
    let tmp = copy_example("argocd-cmp");
    fs::write(tmp.path().join("argocd.yaml"), ARGOCD_STUB).unwrap();
    fs::write(
        tmp.path().join("kustomization.yaml"),
        "resources: [argocd.yaml]\ncomponents:\n  - argocd-cmp\n  - argocd-cmp/builtin-kustomize\n",
    )
    .unwrap();
    let out = run_ok(command(&kubectl, tmp.path()).arg("kustomize"));
    let objects = docs(&out);
    let get = |wanted: &str| objects.iter().find(|o| id(o) == wanted).unwrap().clone();

    let plugin_cm = get("ConfigMap/kubevault-cmp-plugin");
    assert_eq!(
        s(&plugin_cm, &["data", "plugin.yaml"]),
        fs::read_to_string(example("argocd-cmp/plugin.yaml")).unwrap()
    );
    let argocd_cm = get("ConfigMap/argocd-cm");
    assert_eq!(
        s(&argocd_cm, &["data", "kustomize.buildOptions"]),
        "--enable-alpha-plugins --enable-exec"
    );

    let pod = &get("Deployment/argocd-repo-server")["spec"]["template"]["spec"];
    let containers = pod["containers"].as_sequence().unwrap();
    let sidecar = containers
        .iter()
        .find(|c| s(c, &["name"]) == "kubevault")
        .unwrap();
    assert_eq!(
        sidecar["command"],
        serde_yaml::from_str::<Value>("[/var/run/argocd/argocd-cmp-server]").unwrap()
    );
    assert_eq!(sidecar["securityContext"]["runAsUser"].as_u64(), Some(999));
    let mounts = sidecar["volumeMounts"].as_sequence().unwrap();
    assert!(mounts.iter().any(|m| {
        s(m, &["mountPath"]) == "/home/argocd/cmp-server/config/plugin.yaml"
            && s(m, &["subPath"]) == "plugin.yaml"
    }));
    let init = &pod["initContainers"][0];
    assert_eq!(
        init["args"],
        serde_yaml::from_str::<Value>("[install, /custom-tools]").unwrap()
    );
    let repo_server = containers
        .iter()
        .find(|c| s(c, &["name"]) == "argocd-repo-server")
        .unwrap();
    assert!(
        repo_server["volumeMounts"]
            .as_sequence()
            .unwrap()
            .iter()
            .any(|m| s(m, &["mountPath"]) == "/usr/local/bin/kubevault")
    );
    validate("argocd-install", &objects);
}

/// The parts of an Argo CD installation the components patch.
const ARGOCD_STUB: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: argocd-repo-server
  namespace: argocd
spec:
  selector:
    matchLabels: {app.kubernetes.io/name: argocd-repo-server}
  template:
    metadata:
      labels: {app.kubernetes.io/name: argocd-repo-server}
    spec:
      containers:
        - name: argocd-repo-server
          image: quay.io/argoproj/argocd:v3.0.0
      volumes:
        - name: var-files
          emptyDir: {}
        - name: plugins
          emptyDir: {}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: argocd-cm
  namespace: argocd
";

// ---------------------------------------------------------------- generate and install

#[test]
fn generate_flags_beat_kubevault_env_which_beats_the_argocd_plugin_env() {
    let dir = example("argocd-cmp/app");
    let namespace = |extra: &[&str], env: &[(&str, &str)]| {
        let out = run_ok(
            command(kubevault(), &dir)
                .arg("generate")
                .args(extra)
                .envs(env.iter().copied()),
        );
        s(&docs(&out)[0], &["metadata", "namespace"]).to_string()
    };
    assert_eq!(namespace(&[], &[]), "kubevault-kvstore");
    let argocd = ("ARGOCD_ENV_KUBEVAULT_NAMESPACE", "from-argocd");
    assert_eq!(namespace(&[], &[argocd]), "from-argocd");
    let env = ("KUBEVAULT_NAMESPACE", "from-env");
    assert_eq!(namespace(&[], &[argocd, env]), "from-env");
    assert_eq!(namespace(&["-n", "from-flag"], &[argocd, env]), "from-flag");

    let moved = tempfile::tempdir().unwrap();
    copy_dir(&dir.join("vault"), &moved.path().join("elsewhere"));
    let out = run_ok(
        command(kubevault(), moved.path())
            .arg("generate")
            .env("ARGOCD_ENV_KUBEVAULT_DIR", "elsewhere"),
    );
    assert_eq!(docs(&out).len(), EXPECTED.len());
}

#[test]
fn install_copies_a_working_binary() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(command(kubevault(), tmp.path()).args(["install", "tools"]));
    assert!(out.status.success(), "{out:?}");
    let copied = tmp.path().join("tools/kubevault");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&copied.display().to_string()),
        "{out:?}"
    );
    let mode = fs::metadata(&copied).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o755);
    let version = run_ok(Command::new(&copied).arg("--version"));
    assert!(version.starts_with("kubevault "), "{version}");
}

#[test]
fn install_plugin_honours_an_explicit_plugin_home() {
    let tmp = tempfile::tempdir().unwrap();
    let out = run(command(kubevault(), tmp.path())
        .env("KUSTOMIZE_PLUGIN_HOME", "/nonexistent/ignored")
        .args(["install-plugin", "--plugin-home", "plugins"]));
    assert!(out.status.success(), "{out:?}");
    let plugin = tmp
        .path()
        .join("plugins/kubevault.dev/v1alpha1/kubevault/KubeVault");
    assert!(plugin.is_file());
}
