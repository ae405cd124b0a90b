//! The functionConfig: `kubevault.dev/v1alpha1` `KubeVault`, or a `v1` `ConfigMap` with the same
//! keys in `data` (what `kpt fn eval -- key=value` sends). Unknown fields are errors, and every
//! problem is reported at once. Validation reads the YAML tree by hand so that no serde error can
//! echo a value.

use std::path::{Path, PathBuf};

use crate::diag::{Diagnostic, Diagnostics};
use crate::vault::names::is_dns1123_label;
use crate::yaml::Node;

/// The API version of the typed functionConfig.
pub const API_VERSION: &str = "kubevault.dev/v1alpha1";
/// The kind of the typed functionConfig.
pub const KIND: &str = "KubeVault";
/// Default `spec.vaultDir`.
pub const DEFAULT_VAULT_DIR: &str = "vault";
/// Default `spec.namespace`.
pub const DEFAULT_NAMESPACE: &str = "kubevault-kvstore";

/// A validated functionConfig.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionConfig {
    /// `metadata.name`: the generator name stamped on generated objects.
    pub name: String,
    /// `vaultDir` as written.
    pub vault_dir: String,
    /// Target namespace.
    pub namespace: String,
    /// Render the Namespace too.
    pub create_namespace: bool,
    /// `spec.strict`: warnings are errors (nothing rendered when there is one).
    pub strict: bool,
    /// `spec.decryption.ageKeyFile` (`data.ageKeyFile`) as written: an extra age key file for
    /// SOPS-encrypted secrets.
    pub age_key_file: Option<String>,
    /// Where relative paths resolve under `kpt fn render`: the package path plus the config
    /// file's own directory, from kpt's annotations. `None` elsewhere (use the working directory).
    pub package_dir: Option<PathBuf>,
    /// The package itself under `kpt fn render` (`internal.config.kubernetes.io/package-path`):
    /// what the vault and key file must stay inside. `None` elsewhere (the working directory).
    pub package_root: Option<PathBuf>,
    /// `spec.requireEncryption` (`data.requireEncryption`): plaintext secret files are errors.
    pub require_encryption: bool,
}

impl FunctionConfig {
    /// The vault directory as an absolute path: relative to the package directory under
    /// `kpt fn render`, else to `cwd`.
    pub fn resolved_vault_dir(&self, cwd: &Path) -> PathBuf {
        let base = self.package_dir.as_deref().unwrap_or(cwd);
        normalize(&base.join(&self.vault_dir))
    }

    /// The directory relative paths resolve against: the package directory under `kpt fn
    /// render`, else `cwd`.
    pub fn base_dir<'a>(&'a self, cwd: &'a Path) -> &'a Path {
        self.package_dir.as_deref().unwrap_or(cwd)
    }

    /// The directory the vault and key file must stay inside (SPEC §9): the kpt package, else
    /// `cwd` (the kustomization's directory).
    pub fn package_root<'a>(&'a self, cwd: &'a Path) -> &'a Path {
        self.package_root.as_deref().unwrap_or(cwd)
    }

    /// The age key file as an absolute path, resolved like the vault directory.
    pub fn resolved_age_key_file(&self, cwd: &Path) -> Option<PathBuf> {
        let base = self.package_dir.as_deref().unwrap_or(cwd);
        self.age_key_file.as_ref().map(|f| normalize(&base.join(f)))
    }
}

/// Removes `.` and resolves `..` lexically, so messages show a clean absolute path.
pub fn normalize(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn err(message: String) -> Diagnostic {
    Diagnostic::error("", format!("functionConfig: {message}"))
}

/// Validates a functionConfig; `None` (no functionConfig at all) is an error.
pub fn parse(node: Option<&Node>) -> Result<FunctionConfig, Diagnostics> {
    let Some(node) = node.filter(|n| !n.is_null()) else {
        return Err(vec![err(format!(
            "missing: give a {API_VERSION} {KIND} (or a ConfigMap with vaultDir/namespace in data)"
        ))]
        .into());
    };
    let Some(entries) = node.as_map() else {
        return Err(vec![err("must be a mapping".into())].into());
    };
    let mut errors = Diagnostics::default();
    if let Some((key, line)) = crate::krm::duplicate_key(node) {
        // A reader that keeps the first value and one that keeps the last would disagree.
        errors.push(err(format!(
            "the mapping key {key} appears twice (line {line} of the config); give each field once"
        )));
    }
    let form = form(node, &mut errors)?;
    for (k, _) in entries {
        let k = k.as_str().unwrap_or("");
        if !["apiVersion", "kind", "metadata", form.body_key].contains(&k) {
            errors.push(err(format!("unknown field `{k}`")));
        }
    }
    let name = node.str_at(&["metadata", "name"]).unwrap_or("").to_string();
    if name.is_empty() {
        errors.push(err(
            "metadata.name is required (it names the generator of the objects)".into(),
        ));
    }
    let mut cfg = FunctionConfig {
        name,
        vault_dir: DEFAULT_VAULT_DIR.into(),
        namespace: DEFAULT_NAMESPACE.into(),
        create_namespace: false,
        strict: false,
        age_key_file: None,
        package_dir: package_dir(node),
        package_root: package_dir(node).and(package_path(node)),
        require_encryption: false,
    };
    match node.get(form.body_key) {
        None => {}
        Some(body) if body.is_null() => {}
        Some(body) => match body.as_map() {
            None => errors.push(err(format!("`{}` must be a mapping", form.body_key))),
            Some(fields) => {
                for (k, v) in fields {
                    let field = k.as_str().unwrap_or("");
                    for message in body_field(&mut cfg, form, field, v) {
                        errors.push(err(message));
                    }
                }
            }
        },
    }
    if errors.is_empty() {
        Ok(cfg)
    } else {
        Err(errors)
    }
}

/// Which of the two functionConfig forms a config is.
#[derive(Clone, Copy)]
struct Form {
    /// `spec` (typed) or `data` (ConfigMap).
    body_key: &'static str,
    /// The typed `KubeVault` form: YAML booleans and nested `decryption`.
    typed: bool,
}

/// The form from `apiVersion` and `kind`; an unknown kind is an error on its own.
fn form(node: &Node, errors: &mut Diagnostics) -> Result<Form, Diagnostics> {
    let api_version = node.str_at(&["apiVersion"]).unwrap_or("");
    let kind = node.str_at(&["kind"]).unwrap_or("");
    let typed = Form {
        body_key: "spec",
        typed: true,
    };
    match (api_version, kind) {
        (API_VERSION, KIND) => Ok(typed),
        ("v1", "ConfigMap") => Ok(Form {
            body_key: "data",
            typed: false,
        }),
        (_, KIND) => {
            errors.push(err(format!(
                "apiVersion {api_version:?} is not supported for {KIND}: use {API_VERSION}"
            )));
            Ok(typed)
        }
        _ => Err(vec![err(format!(
            "kind {kind:?} (apiVersion {api_version:?}) is not supported: use {API_VERSION} {KIND} or a v1 ConfigMap"
        ))]
        .into()),
    }
}

/// One field of `spec` / `data` into `cfg`; returns its problems, each naming the field as
/// `spec.x` / `data.x`.
fn body_field(cfg: &mut FunctionConfig, form: Form, field: &str, v: &Node) -> Vec<String> {
    let at = format!("{}.{field}", form.body_key);
    let set = match field {
        "vaultDir" => path_field(v, &at).map(|s| cfg.vault_dir = s),
        "namespace" => namespace_field(v, &at).map(|s| cfg.namespace = s),
        "createNamespace" => bool_field(v, form, &at).map(|b| cfg.create_namespace = b),
        "strict" => bool_field(v, form, &at).map(|b| cfg.strict = b),
        "requireEncryption" => bool_field(v, form, &at).map(|b| cfg.require_encryption = b),
        "ageKeyFile" if !form.typed => path_field(v, &at).map(|s| cfg.age_key_file = Some(s)),
        "decryption" if form.typed => return decryption_field(cfg, v),
        other => Err(format!("unknown field `{}.{other}`", form.body_key)),
    };
    set.err().into_iter().collect()
}

/// A non-empty path string.
fn path_field(v: &Node, at: &str) -> Result<String, String> {
    v.as_str()
        .filter(|s| !s.is_empty() && !v.is_null())
        .map(str::to_string)
        .ok_or_else(|| format!("`{at}` must be a non-empty path"))
}

/// A DNS-1123 label.
fn namespace_field(v: &Node, at: &str) -> Result<String, String> {
    v.as_str()
        .filter(|s| is_dns1123_label(s))
        .map(str::to_string)
        .ok_or_else(|| format!("`{at}` must be a DNS-1123 label (at most 63 of a-z, 0-9 and '-')"))
}

/// A boolean in the form's spelling (see [`parse_bool`]).
fn bool_field(v: &Node, form: Form, at: &str) -> Result<bool, String> {
    parse_bool(v, form.typed).ok_or_else(|| {
        let spelled = if form.typed {
            "true or false"
        } else {
            "\"true\" or \"false\""
        };
        format!("`{at}` must be {spelled}")
    })
}

/// `spec.decryption`: a mapping whose one field is `ageKeyFile`; returns its problems.
fn decryption_field(cfg: &mut FunctionConfig, v: &Node) -> Vec<String> {
    let Some(fields) = v.as_map() else {
        return vec!["`spec.decryption` must be a mapping".into()];
    };
    let mut problems = Vec::new();
    for (k, v) in fields {
        let set = match k.as_str().unwrap_or("") {
            "ageKeyFile" => {
                path_field(v, "spec.decryption.ageKeyFile").map(|s| cfg.age_key_file = Some(s))
            }
            other => Err(format!("unknown field `spec.decryption.{other}`")),
        };
        problems.extend(set.err());
    }
    problems
}

/// Typed form: a plain YAML boolean. ConfigMap form: exactly the strings `true`/`false`.
fn parse_bool(v: &Node, typed: bool) -> Option<bool> {
    use crate::yaml::{Style, Value};
    match (&v.value, typed) {
        (
            Value::Scalar {
                text,
                style: Style::Plain,
            },
            true,
        ) if v.tag.is_none() || v.tag.as_deref() == Some("!!bool") => match text.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        (Value::Scalar { text, .. }, false) => match text.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// `internal.config.kubernetes.io/package-path`, when absolute.
fn package_path(node: &Node) -> Option<PathBuf> {
    let package = node
        .path(&["metadata", "annotations"])?
        .get("internal.config.kubernetes.io/package-path")?
        .as_str()?;
    Path::new(package)
        .is_absolute()
        .then(|| PathBuf::from(package))
}

/// `internal.config.kubernetes.io/package-path` joined with the directory of the config's own path.
fn package_dir(node: &Node) -> Option<PathBuf> {
    let ann = node.path(&["metadata", "annotations"])?;
    let package = ann
        .get("internal.config.kubernetes.io/package-path")?
        .as_str()?;
    let package = Path::new(package);
    if !package.is_absolute() {
        return None;
    }
    let own = ann
        .get("internal.config.kubernetes.io/path")
        .or_else(|| ann.get("config.kubernetes.io/path"))
        .and_then(Node::as_str)
        .map(Path::new)
        .and_then(Path::parent)
        .unwrap_or(Path::new(""));
    Some(package.join(own))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Limits, parse_stream};

    fn cfg(text: &str) -> Result<FunctionConfig, Vec<String>> {
        let doc = parse_stream(text, &Limits::default()).unwrap().pop();
        parse(doc.as_ref()).map_err(|d| d.sorted().iter().map(|d| d.message.clone()).collect())
    }

    #[test]
    fn typed_and_configmap_forms() {
        let c = cfg("apiVersion: kubevault.dev/v1alpha1\nkind: KubeVault\nmetadata: {name: homelab}\nspec:\n  vaultDir: ./v\n  namespace: ns\n  createNamespace: true\n").unwrap();
        assert_eq!(
            (
                c.name.as_str(),
                c.vault_dir.as_str(),
                c.namespace.as_str(),
                c.create_namespace
            ),
            ("homelab", "./v", "ns", true)
        );
        let c = cfg("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: function-input}\ndata: {vaultDir: v, createNamespace: \"false\"}\n").unwrap();
        assert_eq!(
            (c.name.as_str(), c.namespace.as_str(), c.create_namespace),
            ("function-input", DEFAULT_NAMESPACE, false)
        );
        let c = cfg("apiVersion: kubevault.dev/v1alpha1\nkind: KubeVault\nmetadata: {name: x}\n")
            .unwrap();
        assert_eq!(c.vault_dir, DEFAULT_VAULT_DIR);
    }

    #[test]
    fn every_problem_at_once() {
        let errs = cfg("apiVersion: kubevault.dev/v1alpha1\nkind: KubeVault\nmetadata: {}\nextra: 1\nspec:\n  vaultDir: \"\"\n  namespace: Bad_NS\n  createNamespace: \"yes\"\n  typo: 1\n").unwrap_err();
        let joined = errs.join("\n");
        for needle in [
            "unknown field `extra`",
            "metadata.name is required",
            "`spec.vaultDir`",
            "`spec.namespace`",
            "`spec.createNamespace` must be true or false",
            "unknown field `spec.typo`",
        ] {
            assert!(joined.contains(needle), "{needle}: {joined}");
        }
        assert_eq!(errs.len(), 6);
    }

    #[test]
    fn each_field_in_each_form() {
        let typed =
            "apiVersion: kubevault.dev/v1alpha1\nkind: KubeVault\nmetadata: {name: g}\nspec:\n";
        let map = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: g}\ndata:\n";
        // (form, field line, the one problem or "" when it is valid)
        let table: &[(&str, &str, &str)] = &[
            (typed, "vaultDir: v", ""),
            (
                typed,
                "vaultDir: ~",
                "`spec.vaultDir` must be a non-empty path",
            ),
            (
                map,
                "vaultDir: \"\"",
                "`data.vaultDir` must be a non-empty path",
            ),
            (typed, "namespace: a-b", ""),
            (
                map,
                "namespace: A",
                "`data.namespace` must be a DNS-1123 label",
            ),
            (typed, "strict: true", ""),
            (
                typed,
                "strict: \"true\"",
                "`spec.strict` must be true or false",
            ),
            (map, "strict: \"true\"", ""),
            (
                map,
                "strict: yes",
                "`data.strict` must be \"true\" or \"false\"",
            ),
            (
                typed,
                "requireEncryption: 1",
                "`spec.requireEncryption` must be true or false",
            ),
            (typed, "createNamespace: false", ""),
            (map, "ageKeyFile: k.txt", ""),
            (
                typed,
                "ageKeyFile: k.txt",
                "unknown field `spec.ageKeyFile`",
            ),
            (map, "decryption: {}", "unknown field `data.decryption`"),
            (typed, "decryption: {ageKeyFile: k.txt}", ""),
            (
                typed,
                "decryption: k.txt",
                "`spec.decryption` must be a mapping",
            ),
            (
                typed,
                "decryption: {ageKeyFile: \"\"}",
                "`spec.decryption.ageKeyFile` must be a non-empty path",
            ),
        ];
        for (form, line, want) in table {
            let got = cfg(&format!("{form}  {line}\n"));
            match (got, want.is_empty()) {
                (Ok(_), true) => {}
                (Err(errs), false) => {
                    assert_eq!(errs.len(), 1, "{line}: {errs:?}");
                    assert!(errs[0].contains(want), "{line}: {errs:?}");
                }
                (got, _) => panic!("{line}: {got:?}"),
            }
        }
        // Every problem inside `decryption` is reported, not only the first.
        let errs = cfg(&format!(
            "{typed}  decryption: {{ageKeyFile: \"\", x: 1, y: 2}}\n"
        ))
        .unwrap_err();
        assert_eq!(errs.len(), 3, "{errs:?}");
    }

    #[test]
    fn wrong_kinds_and_missing() {
        assert!(
            cfg("apiVersion: v1\nkind: Secret\nmetadata: {name: x}\n").unwrap_err()[0]
                .contains("not supported")
        );
        assert!(
            cfg("apiVersion: kubevault.dev/v2\nkind: KubeVault\nmetadata: {name: x}\n")
                .unwrap_err()[0]
                .contains("apiVersion")
        );
        assert!(parse(None).is_err());
        let bad_bool = cfg("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {createNamespace: \"True\"}\n").unwrap_err();
        assert!(
            bad_bool[0].contains("\"true\" or \"false\""),
            "{bad_bool:?}"
        );
        assert!(
            cfg("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {ageKey: x}\n")
                .unwrap_err()[0]
                .contains("unknown field `data.ageKey`")
        );
    }

    #[test]
    fn kpt_render_resolves_against_the_package() {
        let c = cfg("apiVersion: kubevault.dev/v1alpha1\nkind: KubeVault\nmetadata:\n  name: x\n  annotations:\n    internal.config.kubernetes.io/package-path: /pkg\n    internal.config.kubernetes.io/path: config/fn.yaml\nspec: {vaultDir: ../vault}\n").unwrap();
        assert_eq!(
            c.resolved_vault_dir(Path::new("/elsewhere")),
            PathBuf::from("/pkg/vault")
        );
        let c = cfg("apiVersion: kubevault.dev/v1alpha1\nkind: KubeVault\nmetadata: {name: x}\nspec: {vaultDir: ./v}\n").unwrap();
        assert_eq!(
            c.resolved_vault_dir(Path::new("/cwd")),
            PathBuf::from("/cwd/v")
        );
        let c = cfg("apiVersion: kubevault.dev/v1alpha1\nkind: KubeVault\nmetadata: {name: x}\nspec: {vaultDir: /abs}\n").unwrap();
        assert_eq!(
            c.resolved_vault_dir(Path::new("/cwd")),
            PathBuf::from("/abs")
        );
    }
}
