//! `kubevault new [DIR]`: scaffold a vault that `kubevault generate`, kustomize, kubectl and kpt
//! work on at once. The vault itself (one example secret, one example user) goes into DIR; the
//! wiring (`kustomization.yaml`, `fn-config.yaml`, `Kptfile`, `.krmignore`, `.gitignore`,
//! `.sops.yaml`, `.pre-commit-config.yaml`) goes into DIR's parent, the package directory, where
//! the functionConfig's `vaultDir` points back at DIR. The commands it prints
//! ([`next_commands`]) run as printed in that directory, on every route. Running it again is harmless: an
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
# kubevault keeps a value exactly as written, but sops retypes unquoted values when it
# encrypts them (0080 becomes 80, 1.10 becomes 1.1): quote every value.
message: \"hello from kubevault\"
port: \"0080\"
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
# kubectl kustomize --enable-alpha-plugins .     (after `kubevault install-plugin`)
# kustomize build --enable-alpha-plugins .       (the same legacy exec plugin)
# kustomize runs kubevault as the legacy exec plugin for fn-config.yaml's apiVersion and kind.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
metadata:
  name: kubevault
  annotations:
    # Package configuration, never applied (kpt and `kubectl apply` tooling skip it).
    config.kubernetes.io/local-config: \"true\"
generators:
  - fn-config.yaml
";

const GITIGNORE_TEXT: &str = "\
# Private keys never belong in the repository (the names age-keygen, sops and the docs use).
*.agekey
age.txt
age-key.txt
age-keys.txt
keys.txt
*.age-key
# Rendered objects hold the secret values (base64 is not encryption): what an in-place
# `kpt fn render` / `kpt fn eval` or `kubevault generate --output-dir` writes.
secret_*.yaml
serviceaccount_*.yaml
role_*.yaml
rolebinding_*.yaml
namespace_*.yaml
Secret_*.yaml
.kubevault-generated
rendered/
";

const PRE_COMMIT_TEXT_HEAD: &str = "\
# pre-commit (https://pre-commit.com): `pre-commit install`, then every commit runs
# `kubevault check --strict`: warnings (a rule that matches no secret is often a typo that
# leaves access granted) fail the commit. In CI, run the same command.
repos:
  - repo: local
    hooks:
      - id: kubevault-check
        name: kubevault check
        language: system
        pass_filenames: false
";

const SOPS_TEXT: &str = "\
# sops (and kubevault) read this file to know which files to encrypt, and for whom. sops finds
# it from the directory it runs in, upwards: run sops from this directory (or below).
#
#   age-keygen -o age-key.txt                  # keep it safe; .gitignore keeps it out of git
#   # paste its public key (age1...) below and uncomment the rule, then:
#   sops encrypt -i VAULT/kvstore/example/greeting.yaml
#   SOPS_AGE_KEY_FILE=age-key.txt kubevault generate --vault-dir VAULT
#
# Several recipients: a comma-separated list; any one of them can decrypt.
creation_rules:
#  - path_regex: (^|/)kvstore/
#    age: age1...
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
# The kubevault functionConfig, for every route (run them in this directory):
#   kubectl kustomize --enable-alpha-plugins .   (kustomization.yaml; after `kubevault install-plugin`)
#   kpt fn eval . --exec kubevault --fn-config fn-config.yaml -o unwrap
#   kpt fn render . --allow-exec -o unwrap       (the Kptfile pipeline)
# No `config.kubernetes.io/function` annotation: with one, kustomize would run it as a KRM
# function, which `kubectl kustomize` skips without a word (it renders nothing, exit 0).
apiVersion: kubevault.dev/v1alpha1
kind: KubeVault
metadata:
  name: kubevault
  annotations:
    config.kubernetes.io/local-config: \"true\"
spec:
  vaultDir: {vault_dir}
  namespace: {namespace}
  createNamespace: false
  # true: warnings (a rule that matches no secret, ...) are errors and nothing renders.
  strict: false
"
    );
    let package = parent
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| crate::vault::names::is_dns1123_label(n))
        .unwrap_or("kubevault");
    let kptfile = format!(
        "\
# A kpt package: `kpt fn render . --allow-exec -o unwrap` runs kubevault (on PATH) and prints
# the result. Never render in place: it writes plaintext (base64) Secrets into the package.
apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: {package}
  annotations:
    config.kubernetes.io/local-config: \"true\"
pipeline:
  mutators:
    - exec: kubevault
      configPath: fn-config.yaml
"
    );
    let krmignore = format!(
        "# kpt must not read the vault files or these non-KRM files as resources\n{vault_name}/\n.sops.yaml\n.pre-commit-config.yaml\n"
    );
    let pre_commit = format!(
        "{PRE_COMMIT_TEXT_HEAD}        entry: kubevault check --strict --vault-dir {}\n        files: {}\n",
        yaml_string(vault_name),
        yaml_string(&format!("^{}/", regex::escape(vault_name))),
    );
    let sops = SOPS_TEXT.replace("VAULT", &shell_word(vault_name));
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
        wiring("Kptfile", kptfile),
        wiring(".krmignore", krmignore),
        wiring(".gitignore", GITIGNORE_TEXT.to_string()),
        wiring(".sops.yaml", sops),
        wiring(".pre-commit-config.yaml", pre_commit),
    ]
}

/// The commands `new` prints, each to run as printed in the package directory (the vault's
/// parent). Every one is tested verbatim (tests/new_routes.rs).
pub fn next_commands(vault_name: &str, namespace: &str) -> Vec<String> {
    let vault = shell_word(vault_name);
    vec![
        format!("kubevault check --strict --vault-dir {vault}"),
        format!("kubevault generate --vault-dir {vault} -n {namespace}"),
        "kpt fn eval . --exec kubevault --fn-config fn-config.yaml -o unwrap".into(),
        "kpt fn render . --allow-exec -o unwrap".into(),
        "kubevault install-plugin && kubectl kustomize --enable-alpha-plugins .".into(),
    ]
}

/// A word for a POSIX shell: as is when it is plainly safe, else single-quoted.
pub fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "./_-+=:,@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
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
    let place = if parent.as_os_str().is_empty() {
        String::from("here")
    } else {
        format!("in {}/", parent.display())
    };
    out.push_str(&format!(
        "next, {place} (kubevault, kpt and kubectl on PATH; -o unwrap prints, never writes Secrets to disk):\n"
    ));
    for command in next_commands(name, &args.namespace) {
        out.push_str(&format!("  {command}\n"));
    }
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
        "fn-config.yaml"
            if text
                .lines()
                .any(|l| l.trim_start().starts_with("config.kubernetes.io/function:")) =>
        {
            Some(format!(
                "warning: {} has a `config.kubernetes.io/function` annotation: `kubectl kustomize` skips such a generator and renders nothing (exit 0); remove the annotation to run kubevault as the legacy exec plugin (`kubevault install-plugin`)",
                shown.display()
            ))
        }
        "Kptfile" if !text.contains("kubevault") => Some(format!(
            "warning: {} has no kubevault mutator: add `- exec: kubevault` with `configPath: fn-config.yaml` under `pipeline.mutators` for `kpt fn render`",
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
