//! The pure core's last step: a vault model and settings in, Kubernetes objects out.
//!
//! Objects are built with k8s-openapi types, in the SPEC's order: Namespace, Secrets by name, then
//! per user ServiceAccount, token Secret, Role, RoleBinding. A user who can read nothing gets no
//! Role (an empty `resourceNames` would grant every Secret). Every name is checked against every
//! other of the same kind, so nothing is silently overwritten.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{Namespace, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::{Metadata, Resource};

use crate::diag::{Diagnostic, Diagnostics, ResourceRef};
use crate::vault::Vault;
use crate::vault::access::Grants;
use base64::Engine as _;

use crate::yaml::{BlockWriter, Node};

/// The label every generated object carries.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "kubevault");
/// The annotation naming the functionConfig that generated an object.
pub const GENERATOR: &str = "kubevault.dev/generator";
/// The annotation naming the vault file an object comes from.
pub const SOURCE: &str = "kubevault.dev/source";

/// What to render, independent of where it came from (functionConfig or flags).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderSettings {
    /// Namespace of every object.
    pub namespace: String,
    /// Also render the Namespace.
    pub create_namespace: bool,
    /// Value of `kubevault.dev/generator`: the functionConfig's name.
    pub generator: String,
}

/// One generated object.
pub enum Object {
    /// The opt-in Namespace.
    Namespace(Namespace),
    /// A kvstore Secret or a token Secret.
    Secret(Secret),
    /// A user's ServiceAccount.
    ServiceAccount(ServiceAccount),
    /// A user's read Role.
    Role(Role),
    /// Binds the Role to the ServiceAccount.
    RoleBinding(RoleBinding),
}

impl fmt::Debug for Object {
    /// Kind and name only: a Secret's data must never reach `Debug` output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.resource_ref();
        write!(f, "{}/{}", r.kind, r.name)
    }
}

impl Object {
    fn parts(&self) -> (&'static str, &'static str, &ObjectMeta) {
        fn p<T: Resource + Metadata<Ty = ObjectMeta>>(
            o: &T,
        ) -> (&'static str, &'static str, &ObjectMeta) {
            (T::API_VERSION, T::KIND, o.metadata())
        }
        match self {
            Object::Namespace(o) => p(o),
            Object::Secret(o) => p(o),
            Object::ServiceAccount(o) => p(o),
            Object::Role(o) => p(o),
            Object::RoleBinding(o) => p(o),
        }
    }

    /// apiVersion, kind, name and namespace.
    pub fn resource_ref(&self) -> ResourceRef {
        let (api_version, kind, meta) = self.parts();
        ResourceRef {
            api_version: api_version.into(),
            kind: kind.into(),
            name: meta.name.clone().unwrap_or_default(),
            namespace: meta.namespace.clone(),
        }
    }

    /// The object as a YAML tree (apiVersion, kind, metadata first).
    pub fn to_node(&self) -> Node {
        let json = match self {
            Object::Namespace(o) => serde_json::to_value(o),
            Object::Secret(o) => serde_json::to_value(o),
            Object::ServiceAccount(o) => serde_json::to_value(o),
            Object::Role(o) => serde_json::to_value(o),
            Object::RoleBinding(o) => serde_json::to_value(o),
        };
        // k8s-openapi types always serialize to JSON; a failure here is a bug, not bad input.
        let mut node = Node::from_json(&json.expect("k8s-openapi objects serialize"));
        // apiVersion, kind, metadata, then the rest (k8s-openapi writes fields alphabetically).
        if let Some(entries) = node.as_map_mut()
            && let Some(pos) = entries
                .iter()
                .position(|(k, _)| k.as_str() == Some("metadata"))
        {
            let meta = entries.remove(pos);
            entries.insert(2.min(entries.len()), meta);
        }
        node
    }
}

impl Object {
    /// Appends the object as one YAML document (no `---`): the same bytes as
    /// `emit_document(&self.to_node())`, written straight from the fields that [`render`] sets,
    /// without the JSON and [`Node`] detour. With `item` it is written as an item of a
    /// top-level sequence (a ResourceList's `items`). Objects with fields this writer does not
    /// know (none that [`render`] makes) take the [`Object::to_node`] path.
    pub fn write_yaml(&self, out: &mut String, item: bool) {
        let start = out.len();
        self.write_yaml_fields(out, item);
        debug_assert!(
            out[start..] == self.slow_yaml(item),
            "the direct YAML writer differs from the serde path for {self:?}"
        );
    }

    /// `write_yaml` through `to_node` and the [`Node`] emitter: the reference.
    fn slow_yaml(&self, item: bool) -> String {
        let node = self.to_node();
        let mut out = String::new();
        if item {
            crate::yaml::emit_seq_item_into(&mut out, &node, 0);
        } else {
            crate::yaml::emit_document_into(&mut out, &node);
        }
        out
    }

    fn write_yaml_fields(&self, out: &mut String, item: bool) {
        if !self.fast_path_ok() {
            out.push_str(&self.slow_yaml(item));
            return;
        }
        let (api_version, kind, meta) = self.parts();
        let mut w = BlockWriter::new(out, item);
        w.entry(0, "apiVersion", api_version);
        w.entry(0, "kind", kind);
        write_meta(&mut w, meta);
        match self {
            Object::Namespace(_) | Object::ServiceAccount(_) => {}
            Object::Secret(o) => {
                if let Some(data) = &o.data {
                    w.open(0, "data");
                    let mut b64 = String::new();
                    for (k, v) in data {
                        b64.clear();
                        base64::engine::general_purpose::STANDARD.encode_string(&v.0, &mut b64);
                        w.entry(2, k, &b64);
                    }
                }
                if let Some(immutable) = o.immutable {
                    w.entry_plain(0, "immutable", if immutable { "true" } else { "false" });
                }
                if let Some(t) = &o.type_ {
                    w.entry(0, "type", t);
                }
            }
            Object::Role(o) => {
                if let Some(rules) = &o.rules {
                    w.open(0, "rules");
                    for r in rules {
                        w.open_item(0);
                        let lists = [
                            ("apiGroups", r.api_groups.as_deref()),
                            ("resourceNames", r.resource_names.as_deref()),
                            ("resources", r.resources.as_deref()),
                            ("verbs", Some(&r.verbs[..])),
                        ];
                        for (key, list) in lists {
                            if let Some(list) = list {
                                w.open(2, key);
                                for v in list {
                                    w.item(2, v);
                                }
                            }
                        }
                    }
                }
            }
            Object::RoleBinding(o) => {
                w.open(0, "roleRef");
                w.entry(2, "apiGroup", &o.role_ref.api_group);
                w.entry(2, "kind", &o.role_ref.kind);
                w.entry(2, "name", &o.role_ref.name);
                if let Some(subjects) = &o.subjects {
                    w.open(0, "subjects");
                    for s in subjects {
                        w.open_item(0);
                        if let Some(g) = &s.api_group {
                            w.entry(2, "apiGroup", g);
                        }
                        w.entry(2, "kind", &s.kind);
                        w.entry(2, "name", &s.name);
                        if let Some(ns) = &s.namespace {
                            w.entry(2, "namespace", ns);
                        }
                    }
                }
            }
        }
    }

    /// True when every field set is one that [`Object::write_yaml`] writes itself.
    fn fast_path_ok(&self) -> bool {
        let (_, _, m) = self.parts();
        // Listing every field makes a new k8s-openapi field a compile error here, not a silent gap.
        let ObjectMeta {
            annotations,
            creation_timestamp,
            deletion_grace_period_seconds,
            deletion_timestamp,
            finalizers,
            generate_name,
            generation,
            labels,
            managed_fields,
            name,
            namespace: _,
            owner_references,
            resource_version,
            self_link,
            uid,
        } = m;
        let meta_ok = name.is_some()
            && annotations.as_ref().is_none_or(|a| !a.is_empty())
            && labels.as_ref().is_none_or(|l| !l.is_empty())
            && creation_timestamp.is_none()
            && deletion_grace_period_seconds.is_none()
            && deletion_timestamp.is_none()
            && finalizers.is_none()
            && generate_name.is_none()
            && generation.is_none()
            && managed_fields.is_none()
            && owner_references.is_none()
            && resource_version.is_none()
            && self_link.is_none()
            && uid.is_none();
        meta_ok
            && match self {
                Object::Namespace(o) => o.spec.is_none() && o.status.is_none(),
                Object::ServiceAccount(o) => {
                    o.automount_service_account_token.is_none()
                        && o.image_pull_secrets.is_none()
                        && o.secrets.is_none()
                }
                Object::Secret(o) => {
                    o.string_data.is_none() && o.data.as_ref().is_none_or(|d| !d.is_empty())
                }
                Object::Role(o) => o.rules.as_ref().is_some_and(|rules| {
                    !rules.is_empty()
                        && rules.iter().all(|r| {
                            r.non_resource_urls.is_none()
                                && !r.verbs.is_empty()
                                && [&r.api_groups, &r.resource_names, &r.resources]
                                    .iter()
                                    .all(|l| l.as_ref().is_none_or(|l| !l.is_empty()))
                        })
                }),
                Object::RoleBinding(o) => o.subjects.as_ref().is_some_and(|s| !s.is_empty()),
            }
    }
}

fn write_meta(w: &mut BlockWriter<'_>, m: &ObjectMeta) {
    w.open(0, "metadata");
    for (key, map) in [("annotations", &m.annotations), ("labels", &m.labels)] {
        if let Some(map) = map {
            w.open(2, key);
            for (k, v) in map {
                w.entry(4, k, v);
            }
        }
    }
    if let Some(name) = &m.name {
        w.entry(2, "name", name);
    }
    if let Some(ns) = &m.namespace {
        w.entry(2, "namespace", ns);
    }
}

/// The rendered objects plus warnings; errors mean nothing is rendered.
pub struct Rendered {
    /// Objects in output order.
    pub objects: Vec<Object>,
    /// Warnings (rules that match nothing, users who read nothing).
    pub warnings: Diagnostics,
}

/// One object of a [`Plan`], pointing into the vault: built only when it is written.
#[derive(Clone, Copy, Debug)]
enum Planned {
    Namespace,
    Secret(usize),
    ServiceAccount(usize),
    Token(usize),
    Role(usize),
    RoleBinding(usize),
}

/// What [`render`] renders, in output order, checked for name clashes, before any object is
/// built: large vaults are written object by object without holding every object in memory.
pub struct Plan<'a> {
    vault: &'a Vault,
    grants: &'a Grants,
    settings: &'a RenderSettings,
    items: Vec<Planned>,
}

/// Plans the objects of a vault. `Err` holds every error (name clashes) and the warnings; `Ok`
/// holds the plan and the warnings.
pub fn plan<'a>(
    vault: &'a Vault,
    grants: &'a Grants,
    settings: &'a RenderSettings,
) -> Result<(Plan<'a>, Diagnostics), Diagnostics> {
    let mut warnings = Diagnostics::default();
    let mut items = Vec::with_capacity(vault.secrets.len() + 4 * vault.users.len() + 1);
    if settings.create_namespace {
        items.push(Planned::Namespace);
    }
    items.extend((0..vault.secrets.len()).map(Planned::Secret));
    for (u, user) in vault.users.iter().enumerate() {
        for (rule, used) in user.rules.iter().zip(&grants.rule_used[u]) {
            if !used && !vault.unparsed.iter().any(|id| rule.matches(id)) {
                let what = if rule.allow { "rule" } else { "deny rule" };
                warnings.push(
                    Diagnostic::warning(
                        &user.source,
                        format!("{what} `{}` matches no secret (a typo?)", rule.pattern),
                    )
                    .at_line(rule.line),
                );
            }
        }
        items.push(Planned::ServiceAccount(u));
        items.push(Planned::Token(u));
        if grants.readable[u].is_empty() {
            warnings.push(Diagnostic::warning(
                &user.source,
                format!(
                    "user {:?} can read no secret: no Role is rendered",
                    user.name
                ),
            ));
            continue;
        }
        items.push(Planned::Role(u));
        items.push(Planned::RoleBinding(u));
    }
    let plan = Plan {
        vault,
        grants,
        settings,
        items,
    };
    if let Err(mut errors) = plan.check_clashes() {
        errors.extend(warnings);
        return Err(errors);
    }
    Ok((plan, warnings))
}

/// Renders a vault. `Err` holds every error (name clashes) and the warnings; `Ok` holds the
/// objects and the warnings.
pub fn render(
    vault: &Vault,
    grants: &Grants,
    settings: &RenderSettings,
) -> Result<Rendered, Diagnostics> {
    let (plan, warnings) = plan(vault, grants, settings)?;
    Ok(Rendered {
        objects: plan.objects(),
        warnings,
    })
}

impl Plan<'_> {
    /// How many objects the plan renders.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when nothing is rendered.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Builds the `i`-th object.
    pub fn object(&self, i: usize) -> Object {
        let (vault, settings) = (self.vault, self.settings);
        let ns = &settings.namespace;
        match self.items[i] {
            Planned::Namespace => Object::Namespace(Namespace {
                metadata: meta(ns, None, None, settings),
                ..Default::default()
            }),
            Planned::Secret(s) => {
                let secret = &vault.secrets[s];
                let data: BTreeMap<String, ByteString> = secret
                    .data
                    .iter()
                    .map(|(k, v)| (k.clone(), ByteString(v.0.clone())))
                    .collect();
                let shape = &secret.shape;
                let mut metadata = meta(&secret.name, Some(ns), Some(&secret.source), settings);
                // kubevault's own label and annotations always win (metadata.yaml may not set
                // them; this keeps it so even if it could).
                for (own, theirs) in [
                    (&mut metadata.labels, &shape.labels),
                    (&mut metadata.annotations, &shape.annotations),
                ] {
                    if let Some(own) = own
                        && !theirs.is_empty()
                    {
                        let mut merged = theirs.clone();
                        merged.append(own);
                        *own = merged;
                    }
                }
                Object::Secret(Secret {
                    metadata,
                    type_: Some(shape.type_.clone()),
                    data: (!data.is_empty()).then_some(data),
                    immutable: shape.immutable,
                    ..Default::default()
                })
            }
            Planned::ServiceAccount(u) => {
                let user = &vault.users[u];
                Object::ServiceAccount(ServiceAccount {
                    metadata: meta(&user.name, Some(ns), Some(&user.source), settings),
                    ..Default::default()
                })
            }
            Planned::Token(u) => {
                let user = &vault.users[u];
                let mut token_meta = meta(
                    &format!("{}-token", user.name),
                    Some(ns),
                    Some(&user.source),
                    settings,
                );
                token_meta
                    .annotations
                    .get_or_insert_with(Default::default)
                    .insert(
                        "kubernetes.io/service-account.name".into(),
                        user.name.clone(),
                    );
                Object::Secret(Secret {
                    metadata: token_meta,
                    type_: Some("kubernetes.io/service-account-token".into()),
                    ..Default::default()
                })
            }
            Planned::Role(u) => {
                let user = &vault.users[u];
                let names: Vec<String> = self.grants.readable[u]
                    .iter()
                    .map(|&i| vault.secrets[i].name.clone())
                    .collect();
                Object::Role(Role {
                    metadata: meta(
                        &role_name(&user.name),
                        Some(ns),
                        Some(&user.source),
                        settings,
                    ),
                    rules: Some(vec![PolicyRule {
                        api_groups: Some(vec![String::new()]),
                        resources: Some(vec!["secrets".into()]),
                        verbs: vec!["get".into()],
                        resource_names: Some(names),
                        ..Default::default()
                    }]),
                })
            }
            Planned::RoleBinding(u) => {
                let user = &vault.users[u];
                let role_name = role_name(&user.name);
                Object::RoleBinding(RoleBinding {
                    metadata: meta(&role_name, Some(ns), Some(&user.source), settings),
                    role_ref: RoleRef {
                        api_group: "rbac.authorization.k8s.io".into(),
                        kind: "Role".into(),
                        name: role_name,
                    },
                    subjects: Some(vec![Subject {
                        kind: "ServiceAccount".into(),
                        name: user.name.clone(),
                        namespace: Some(ns.clone()),
                        ..Default::default()
                    }]),
                })
            }
        }
    }

    /// Every object, built.
    pub fn objects(&self) -> Vec<Object> {
        (0..self.len()).map(|i| self.object(i)).collect()
    }

    /// apiVersion, kind, name and namespace of the `i`-th object, without building it.
    pub fn resource_ref(&self, i: usize) -> ResourceRef {
        let (kind, namespace, name) = self.key(i);
        let api_version = match self.items[i] {
            Planned::Namespace => Namespace::API_VERSION,
            Planned::Secret(_) | Planned::Token(_) => Secret::API_VERSION,
            Planned::ServiceAccount(_) => ServiceAccount::API_VERSION,
            Planned::Role(_) => Role::API_VERSION,
            Planned::RoleBinding(_) => RoleBinding::API_VERSION,
        };
        ResourceRef {
            api_version: api_version.into(),
            kind: kind.into(),
            name: name.into_owned(),
            namespace: namespace.map(Into::into),
        }
    }

    /// Kind, namespace (`None` for the Namespace) and name of the `i`-th object, borrowed from
    /// the vault where it has them (every Secret and ServiceAccount): cheap enough to ask for
    /// every object.
    pub fn key(&self, i: usize) -> (&'static str, Option<&str>, Cow<'_, str>) {
        let (vault, ns) = (self.vault, self.settings.namespace.as_str());
        match self.items[i] {
            Planned::Namespace => (Namespace::KIND, None, Cow::Borrowed(ns)),
            Planned::Secret(s) => (
                Secret::KIND,
                Some(ns),
                Cow::Borrowed(&vault.secrets[s].name),
            ),
            Planned::ServiceAccount(u) => (
                ServiceAccount::KIND,
                Some(ns),
                Cow::Borrowed(&vault.users[u].name),
            ),
            Planned::Token(u) => (
                Secret::KIND,
                Some(ns),
                Cow::Owned(format!("{}-token", vault.users[u].name)),
            ),
            Planned::Role(u) => (
                Role::KIND,
                Some(ns),
                Cow::Owned(role_name(&vault.users[u].name)),
            ),
            Planned::RoleBinding(u) => (
                RoleBinding::KIND,
                Some(ns),
                Cow::Owned(role_name(&vault.users[u].name)),
            ),
        }
    }

    /// The `kubevault.dev/source` of the `i`-th object (empty for the Namespace).
    fn source(&self, i: usize) -> &str {
        match self.items[i] {
            Planned::Namespace => "",
            Planned::Secret(s) => &self.vault.secrets[s].source,
            Planned::ServiceAccount(u)
            | Planned::Token(u)
            | Planned::Role(u)
            | Planned::RoleBinding(u) => &self.vault.users[u].source,
        }
    }

    /// How many objects of a kind the plan renders.
    pub fn count(&self, kind: &str) -> usize {
        self.items
            .iter()
            .filter(|p| {
                let k = match p {
                    Planned::Namespace => Namespace::KIND,
                    Planned::Secret(_) | Planned::Token(_) => Secret::KIND,
                    Planned::ServiceAccount(_) => ServiceAccount::KIND,
                    Planned::Role(_) => Role::KIND,
                    Planned::RoleBinding(_) => RoleBinding::KIND,
                };
                k == kind
            })
            .count()
    }

    /// Builds and writes objects `range` (see [`Object::write_yaml`]), each preceded by
    /// `---\n` unless `item`; every object is dropped as soon as it is written.
    pub fn write_range(&self, out: &mut String, range: std::ops::Range<usize>, item: bool) {
        for i in range {
            if !item {
                out.push_str("---\n");
            }
            self.object(i).write_yaml(out, item);
        }
    }

    /// Every (kind, namespace, name) must be unique among generated objects.
    fn check_clashes(&self) -> Result<(), Diagnostics> {
        let mut seen: HashMap<_, usize> = HashMap::with_capacity(self.len());
        let mut errors = Diagnostics::default();
        for i in 0..self.len() {
            if let Some(first) = seen.insert(self.key(i), i) {
                let r = self.resource_ref(i);
                let (a, b) = (self.source(first), self.source(i));
                let (first_src, second_src) = if a <= b { (a, b) } else { (b, a) };
                errors.push(
                    Diagnostic::error(
                        second_src,
                        format!(
                            "{} {:?} from {second_src} clashes with the one from {first_src}",
                            r.kind, r.name
                        ),
                    )
                    .about(r),
                );
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}

fn role_name(user: &str) -> String {
    format!("kubevault:{user}:read")
}

fn meta(
    name: &str,
    namespace: Option<&str>,
    source: Option<&str>,
    settings: &RenderSettings,
) -> ObjectMeta {
    let mut annotations = BTreeMap::from([(GENERATOR.to_string(), settings.generator.clone())]);
    if let Some(source) = source {
        annotations.insert(SOURCE.into(), source.into());
    }
    ObjectMeta {
        name: Some(name.into()),
        namespace: namespace.map(Into::into),
        labels: Some(BTreeMap::from([(
            MANAGED_BY.0.to_string(),
            MANAGED_BY.1.to_string(),
        )])),
        annotations: Some(annotations),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::access::evaluate;
    use crate::vault::model::build;

    fn vault(kv: &[(&str, &str)], ac: &[(&str, &str)]) -> Vault {
        let (v, d) = build(&crate::vault::model::test_files(kv, ac), "ns", &|_| {
            Err(crate::vault::secret_file::FileProblem {
                line: 0,
                message: "x".into(),
            })
        });
        assert!(!d.has_errors(), "{d:?}");
        v
    }

    fn settings(create_namespace: bool) -> RenderSettings {
        RenderSettings {
            namespace: "ns".into(),
            create_namespace,
            generator: "g".into(),
        }
    }

    fn kinds_and_names(vault: &Vault, create: bool) -> Vec<String> {
        let r = render(vault, &evaluate(vault), &settings(create)).unwrap();
        r.objects.iter().map(|o| format!("{o:?}")).collect()
    }

    #[test]
    fn order_and_empty_roles() {
        let v = vault(
            &[("kvstore/b", "k: v"), ("kvstore/a", "k: v")],
            &[
                ("access_control/zed", "a\nb"),
                ("access_control/amy", "nothing/**"),
            ],
        );
        assert_eq!(
            kinds_and_names(&v, true),
            [
                "Namespace/ns",
                "Secret/a",
                "Secret/b",
                "ServiceAccount/amy",
                "Secret/amy-token",
                "ServiceAccount/zed",
                "Secret/zed-token",
                "Role/kubevault:zed:read",
                "RoleBinding/kubevault:zed:read",
            ]
        );
        let r = render(&v, &evaluate(&v), &settings(false)).unwrap();
        let warnings: Vec<String> = r.warnings.sorted().iter().map(|d| d.to_string()).collect();
        assert_eq!(
            warnings,
            [
                "access_control/amy: warning: user \"amy\" can read no secret: no Role is rendered",
                "access_control/amy:1: warning: rule `nothing/**` matches no secret (a typo?)",
            ]
        );
    }

    #[test]
    fn role_lists_sorted_names_and_never_empty() {
        let v = vault(
            &[
                ("kvstore/x/b", "k: v"),
                ("kvstore/x/a", "k: v"),
                ("kvstore/y", "k: v"),
            ],
            &[("access_control/u", "x/**\n!x/b")],
        );
        let r = render(&v, &evaluate(&v), &settings(false)).unwrap();
        let role = r
            .objects
            .iter()
            .find_map(|o| match o {
                Object::Role(r) => Some(r),
                _ => None,
            })
            .unwrap();
        assert_eq!(
            role.rules.as_ref().unwrap()[0].resource_names.as_deref(),
            Some(&["x-a".to_string()][..])
        );
        for o in &r.objects {
            if let Object::Role(role) = o {
                assert!(
                    role.rules
                        .iter()
                        .flatten()
                        .all(|r| r.resource_names.as_ref().is_some_and(|n| !n.is_empty()))
                );
            }
        }
    }

    #[test]
    fn token_name_clash_is_an_error() {
        let v = vault(
            &[("kvstore/alice-token", "k: v")],
            &[("access_control/alice", "**")],
        );
        let errs = render(&v, &evaluate(&v), &settings(false)).err().unwrap();
        let msgs: Vec<String> = errs.sorted().iter().map(|d| d.to_string()).collect();
        assert_eq!(errs.count(crate::diag::Severity::Warning), 0);
        assert_eq!(
            msgs,
            [
                "kvstore/alice-token: error: Secret \"alice-token\" from kvstore/alice-token clashes with the one from access_control/alice"
            ]
        );
    }

    #[test]
    fn a_rule_for_a_broken_file_is_not_called_a_typo() {
        let (v, d) = build(
            &crate::vault::model::test_files(
                &[("kvstore/ok", "k: v"), ("kvstore/broken", "- x")],
                &[("access_control/u", "ok\nbroken")],
            ),
            "ns",
            &|_| unreachable!(),
        );
        assert!(d.has_errors());
        let r = render(&v, &evaluate(&v), &settings(false)).unwrap();
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    }

    #[test]
    fn warnings_survive_a_clash() {
        let v = vault(
            &[("kvstore/alice-token", "k: v")],
            &[("access_control/alice", "**\ntypo/**")],
        );
        let errs = render(&v, &evaluate(&v), &settings(false)).err().unwrap();
        assert_eq!(errs.count(crate::diag::Severity::Error), 1);
        assert_eq!(errs.count(crate::diag::Severity::Warning), 1, "{errs:?}");
    }

    #[test]
    fn metadata_shapes_the_secrets_and_kubevault_keeps_its_own_keys() {
        let mut files = crate::vault::model::test_files(
            &[
                ("kvstore/app/db.yaml", "password: p"),
                ("kvstore/plain", "k: v"),
            ],
            &[("access_control/u", "**")],
        );
        files.metadata = Some(crate::vault::walk::VaultFile {
            rel: "metadata.yaml".into(),
            bytes: b"apiVersion: kubevault.dev/v1alpha1\nkind: SecretMetadata\nrules:
  - secrets: app/**
    type: kubernetes.io/basic-auth
    labels: {team: platform}
    annotations: {reloader.stakater.com/match: \"true\"}
    immutable: true
"
            .to_vec(),
        });
        let (v, d) = build(&files, "ns", &|_| unreachable!());
        assert!(d.is_empty(), "{d:?}");
        let r = render(&v, &evaluate(&v), &settings(false)).unwrap();
        let node = r.objects[0].to_node();
        assert_eq!(node.str_at(&["type"]), Some("kubernetes.io/basic-auth"));
        assert_eq!(node.str_at(&["immutable"]), Some("true"));
        assert_eq!(
            node.str_at(&["metadata", "labels", "team"]),
            Some("platform")
        );
        assert_eq!(
            node.str_at(&["metadata", "labels", MANAGED_BY.0]),
            Some("kubevault")
        );
        assert_eq!(
            node.str_at(&["metadata", "annotations", "reloader.stakater.com/match"]),
            Some("true")
        );
        assert_eq!(
            node.str_at(&["metadata", "annotations", SOURCE]),
            Some("kvstore/app/db.yaml")
        );
        let plain = r.objects[1].to_node();
        assert_eq!(plain.str_at(&["type"]), Some("Opaque"));
        assert!(plain.get("immutable").is_none());
        // The direct writer gives the serde path's bytes (checked by its debug assertion).
        let mut out = String::new();
        r.objects[0].write_yaml(&mut out, false);
        assert!(
            out.contains("immutable: true\ntype: kubernetes.io/basic-auth\n"),
            "{out}"
        );
    }

    #[test]
    fn labels_annotations_and_no_string_data() {
        let v = vault(
            &[("kvstore/app/db.yaml", "port: 5432")],
            &[("access_control/u", "**")],
        );
        let r = render(&v, &evaluate(&v), &settings(false)).unwrap();
        let node = r.objects[0].to_node();
        assert_eq!(
            node.str_at(&["metadata", "labels", MANAGED_BY.0]),
            Some("kubevault")
        );
        assert_eq!(
            node.str_at(&["metadata", "annotations", SOURCE]),
            Some("kvstore/app/db.yaml")
        );
        assert_eq!(
            node.str_at(&["metadata", "annotations", GENERATOR]),
            Some("g")
        );
        assert_eq!(node.str_at(&["data", "port"]), Some("NTQzMg=="));
        assert!(node.get("stringData").is_none());
        assert_eq!(node.str_at(&["type"]), Some("Opaque"));
    }
}
