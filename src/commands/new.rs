//! `kubevault new [DIR]`: scaffold a vault that `kubevault generate`, kustomize and kpt work on at
//! once. The vault itself (one example secret, one example user) goes into DIR; the wiring
//! (`kustomization.yaml`, `fn-config.yaml`, `.krmignore`, `.gitignore`) goes into DIR's parent,
//! where the functionConfig's `vaultDir` points back at DIR. Running it again is harmless: an
//! existing file is never overwritten, and an example is only added to an empty folder; every
//! line of the report says what was created and what was kept.

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Component, Path, PathBuf};

use anyhow::Context;

use crate::cli::NewArgs;
use crate::config::normalize;
use crate::exit::Exit;
use crate::report::Report;
use crate::vault::names::is_dns1123_label;

/// The example secret, relative to the vault directory.
pub const EXAMPLE_SECRET: &str = "kvstore/example/greeting.yaml";
/// The example user's access-control file, relative to the vault directory.
pub const EXAMPLE_USER: &str = "access_control/example-reader";

const SECRET_TEXT: &str = "\
# A secret: one YAML mapping of keys to values. Its identity is its path under kvstore/
# without .yaml (\"example/greeting\"); the Kubernetes Secret is named \"example-greeting\".
# Values are kept exactly as written: `port: 0080` gives \"0080\".
message: hello from kubevault
port: 0080
";

const USER_TEXT: &str = "\
# An access-control file: the file name is the user (\"example-reader\"). One glob per line over
# secret identities; `!pattern` denies; the last matching rule wins; everything else is denied.
example/**
";

/// The example `metadata.yaml` (SPEC §10), relative to the vault directory.
pub const EXAMPLE_METADATA: &str = "metadata.yaml";

const METADATA_TEXT: &str = "\
# Secret shape: the type, labels and annotations of the rendered Secrets. Cleartext, never
# encrypted, never holds values. Rules apply in order and every matching rule contributes:
# labels and annotations merge key by key (a later rule wins a key), type and immutable are
# last-wins. A secret no rule matches is type Opaque. `secrets:` takes one glob or a list,
# over identities, like the access-control rules.
apiVersion: kubevault.dev/v1alpha1
kind: SecretMetadata
rules:
  - secrets: \"example/**\"
    labels:
      app.kubernetes.io/part-of: example
#  - secrets: [shared/tls, \"*/ingress-tls\"]
#    type: kubernetes.io/tls               # needs the keys tls.crt and tls.key (PEM)
#  - secrets: registry/pull
#    type: kubernetes.io/dockerconfigjson  # needs .dockerconfigjson: {\"auths\": {...}}
#  - secrets: production/**
#    annotations:
#      reloader.stakater.com/match: \"true\"  # Stakater Reloader restarts what uses it
#    immutable: false
# requireEncryption: true                  # every secret file must be SOPS-encrypted
";

const KUSTOMIZATION_TEXT: &str = "\
# kustomize build --enable-alpha-plugins --enable-exec .
# runs kubevault (on PATH) as an exec KRM function configured by fn-config.yaml.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
generators:
  - fn-config.yaml
";

const GITIGNORE_TEXT: &str = "\
# Private keys never belong in the repository.
*.agekey
keys.txt
";

/// One file `new` wants to exist, and where it checks first.
#[derive(Debug, PartialEq, Eq)]
pub struct Planned {
    /// Where the file goes, as the user named it (for the report).
    pub shown: PathBuf,
    /// The file's content.
    pub text: String,
    /// An example file: only written into a new (missing or empty) vault directory, so a real
    /// vault never gets example files.
    pub example: bool,
}

/// The files of a scaffold. `vault` is the vault directory as shown to the user, `parent` its
/// parent directory, `vault_name` the last component of the vault path (what `vaultDir` and
/// `.krmignore` name).
pub fn plan(vault: &Path, parent: &Path, vault_name: &str, namespace: &str) -> Vec<Planned> {
    let vault_dir = yaml_string(&format!("./{vault_name}"));
    let fn_config = format!(
        "\
# The kubevault functionConfig. kustomize runs it through kustomization.yaml;
# kpt: kpt fn eval --exec kubevault --fn-config fn-config.yaml
apiVersion: kubevault.dev/v1alpha1
kind: KubeVault
metadata:
  name: kubevault
  annotations:
    config.kubernetes.io/local-config: \"true\"
    config.kubernetes.io/function: |
      exec:
        path: kubevault
spec:
  vaultDir: {vault_dir}
  namespace: {namespace}
  createNamespace: false
"
    );
    let krmignore =
        format!("# kpt must not read the vault files as KRM resources\n{vault_name}/\n");
    let example = |rel: &str, text: &str| Planned {
        shown: vault.join(rel),
        text: text.to_string(),
        example: true,
    };
    let wiring = |name: &str, text: String| Planned {
        shown: parent.join(name),
        text,
        example: false,
    };
    vec![
        example(EXAMPLE_SECRET, SECRET_TEXT),
        example(EXAMPLE_USER, USER_TEXT),
        example(EXAMPLE_METADATA, METADATA_TEXT),
        wiring("kustomization.yaml", KUSTOMIZATION_TEXT.to_string()),
        wiring("fn-config.yaml", fn_config),
        wiring(".krmignore", krmignore),
        wiring(".gitignore", GITIGNORE_TEXT.to_string()),
    ]
}

/// Plain when it is plainly a path, else a JSON string (which is valid YAML).
fn yaml_string(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "./_-".contains(c))
    {
        s.to_string()
    } else {
        serde_json::Value::String(s.to_string()).to_string()
    }
}

/// Runs `kubevault new`: creates what is missing, keeps what exists, reports both.
pub fn run(args: &NewArgs, cwd: &Path) -> anyhow::Result<Report> {
    if !is_dns1123_label(&args.namespace) {
        return Ok(Report {
            stdout: Vec::new(),
            messages: vec![format!(
                "error: namespace {:?} is not a DNS-1123 label",
                args.namespace
            )],
            exit: Exit::Usage,
        });
    }
    let absolute = normalize(&cwd.join(&args.dir));
    // Show paths as the user wrote them, unless DIR ends in `.`/`..` (then it has no name).
    let shown = match args.dir.components().next_back() {
        Some(Component::Normal(_)) => args.dir.clone(),
        _ => absolute.clone(),
    };
    let (Some(name), Some(parent)) = (
        absolute.file_name().and_then(|n| n.to_str()),
        shown.parent(),
    ) else {
        return Ok(Report {
            stdout: Vec::new(),
            messages: vec![format!(
                "error: {} cannot hold a vault: give a directory with a UTF-8 name",
                args.dir.display()
            )],
            exit: Exit::Usage,
        });
    };
    let mut out = String::new();
    let mut messages = Vec::new();
    let fresh = !has_entries(&absolute)?;
    if !fresh {
        out.push_str(&format!(
            "kept   {}/ (exists: no examples added)\n",
            shown.display()
        ));
        // Both folders, so that `generate` finds the kvstore and no warning says "no users".
        for folder in ["kvstore", "access_control"] {
            if !absolute.join(folder).exists() {
                fs::create_dir_all(absolute.join(folder))
                    .with_context(|| format!("cannot create {}", shown.join(folder).display()))?;
                out.push_str(&format!("create {}/\n", shown.join(folder).display()));
            }
        }
    }
    for file in plan(&shown, parent, name, &args.namespace) {
        let real = cwd.join(&file.shown);
        if file.example && !fresh {
            continue;
        }
        if let Some(dir) = real.parent() {
            fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        match OpenOptions::new().write(true).create_new(true).open(&real) {
            Ok(mut f) => {
                f.write_all(file.text.as_bytes())
                    .with_context(|| format!("cannot write {}", file.shown.display()))?;
                out.push_str(&format!("create {}\n", file.shown.display()));
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                out.push_str(&format!("kept   {} (exists)\n", file.shown.display()));
                if let Some(warning) = kept_file_warning(&file.shown, &real, name) {
                    messages.push(warning);
                }
            }
            Err(e) => {
                return Err(e).with_context(|| format!("cannot create {}", file.shown.display()));
            }
        }
    }
    out.push_str(&format!(
        "next: kubevault check --vault-dir {0} && kubevault generate --vault-dir {0}\n",
        shown.display()
    ));
    Ok(Report {
        stdout: vec![out],
        messages,
        exit: Exit::Success,
    })
}

/// True when `dir` exists and holds anything.
fn has_entries(dir: &Path) -> anyhow::Result<bool> {
    match fs::read_dir(dir) {
        Ok(mut entries) => Ok(entries.next().is_some()),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", dir.display())),
    }
}

/// A warning when a kept file lacks what the scaffold needs from it: `.krmignore` must list the
/// vault folder, `kustomization.yaml` must run `fn-config.yaml`.
fn kept_file_warning(shown: &Path, real: &Path, vault_name: &str) -> Option<String> {
    let text = fs::read_to_string(real).unwrap_or_default();
    match shown.file_name()?.to_str()? {
        ".krmignore"
            if !text
                .lines()
                .any(|l| l.trim().trim_start_matches('/').trim_end_matches('/') == vault_name) =>
        {
            Some(format!(
                "warning: {} does not list `{vault_name}/`: kpt will read the vault files as KRM resources",
                shown.display()
            ))
        }
        "kustomization.yaml" if !text.contains("fn-config.yaml") => Some(format!(
            "warning: {} does not use fn-config.yaml: add it under `generators:` to render the vault",
            shown.display()
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fn_config_points_back_at_the_vault() {
        let files = plan(
            Path::new("infra/my vault"),
            Path::new("infra"),
            "my vault",
            "ns",
        );
        let fc = files
            .iter()
            .find(|f| f.shown == Path::new("infra/fn-config.yaml"))
            .unwrap();
        assert!(
            fc.text.contains("  vaultDir: \"./my vault\"\n"),
            "{}",
            fc.text
        );
        assert!(fc.text.contains("  namespace: ns\n"));
        let ignore = files
            .iter()
            .find(|f| f.shown == Path::new("infra/.krmignore"))
            .unwrap();
        assert!(ignore.text.lines().any(|l| l == "my vault/"));
        let secret = &files[0];
        assert_eq!(
            secret.shown,
            Path::new("infra/my vault/kvstore/example/greeting.yaml")
        );
        assert!(secret.example);
        assert!(!fc.example);
    }

    #[test]
    fn plain_paths_stay_plain() {
        assert_eq!(yaml_string("./vault"), "./vault");
        assert_eq!(yaml_string("./a: b"), "\"./a: b\"");
    }
}
