//! The pure core's last step: a vault model and settings in, Kubernetes objects out.
//!
//! Objects are built with k8s-openapi types, in the SPEC's order: Namespace, Secrets by name, then
//! per user ServiceAccount, token Secret, Role, RoleBinding. A user who can read nothing gets no
//! Role (an empty `resourceNames` would grant every Secret). Every name is checked against every
//! other of the same kind, so nothing is silently overwritten.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use k8s_openapi::ByteString;
use k8s_openapi::Resource;
use k8s_openapi::api::core::v1::{Namespace, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::diag::{Diagnostic, Diagnostics, ResourceRef};
use crate::limits::{MAX_OBJECT_BYTES, MAX_OUTPUT_BYTES};
use crate::object::{GENERATOR, MANAGED_BY, Object, ObjectKey, SERVICE_ACCOUNT_NAME, SOURCE, kind};
use crate::par::{chunks, par_map, par_stream};
use crate::vault::Vault;
use crate::vault::access::Grants;
use crate::vault::rule_hints::Identities;
use crate::yaml::BlockWriter;

/// About how much YAML one parallel piece of output holds.
pub const CHUNK_BYTES: usize = 256 << 10;

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
    /// Part `part` (0 for `kubevault:<user>:read`, 1 for `...:read-2`, ...) of user `user`'s
    /// Role, granting `grants.readable[user][start..end]`.
    Role {
        user: usize,
        part: usize,
        start: usize,
        end: usize,
    },
    /// Binds the Role of the same user and part.
    RoleBinding {
        user: usize,
        part: usize,
    },
}

/// What [`render`] renders, in output order, checked for name clashes, before any object is
/// built: large vaults are written object by object without holding every object in memory.
/// [`Plan::size`] then measures every object, so that the limits hold before the first byte
/// is written.
pub struct Plan<'a> {
    vault: &'a Vault,
    grants: &'a Grants,
    settings: &'a RenderSettings,
    items: Vec<Planned>,
    /// Each object's size as one YAML document (no `---`), once [`Plan::size`] ran.
    sizes: Vec<usize>,
    /// Per secret, what its name adds to a Role ([`name_costs`]); a name the writer leaves
    /// plain adds exactly `  - <name>\n`.
    costs: Vec<usize>,
}

/// Plans the objects of a vault. `Err` holds every error (name clashes) and the warnings; `Ok`
/// holds the plan and the warnings.
///
/// A user's grants go into as many Roles (each with its RoleBinding) as it takes to keep every
/// Role within [`MAX_OBJECT_BYTES`]: `kubevault:<user>:read`, `kubevault:<user>:read-2`, ...,
/// each holding a run of the sorted names, as many as fit.
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
    let mut plan = Plan {
        vault,
        grants,
        settings,
        items: Vec::new(),
        sizes: Vec::new(),
        costs: name_costs(vault),
    };
    let mut hints = None;
    for (u, user) in vault.users.iter().enumerate() {
        for (rule, used) in user.rules.iter().zip(&grants.rule_used[u]) {
            if !used && !vault.unparsed.iter().any(|id| rule.matches(id)) {
                let what = if rule.allow { "rule" } else { "deny rule" };
                let hints = hints.get_or_insert_with(|| {
                    Identities::new(vault.secrets.iter().map(|s| s.identity.as_str()))
                });
                warnings.push(
                    Diagnostic::warning(
                        &user.source,
                        format!(
                            "{what} `{}` matches no secret{}",
                            rule.pattern,
                            hints.unmatched_rule(&rule.pattern, rule.allow)
                        ),
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
        let parts = plan.split_role(u);
        items.extend(parts.iter().copied());
        items.extend((0..parts.len()).map(|part| Planned::RoleBinding { user: u, part }));
    }
    plan.items = items;
    warnings.extend(token_shaped(vault, grants));
    if let Err(mut errors) = plan.check_clashes() {
        errors.extend(warnings);
        return Err(errors);
    }
    Ok((plan, warnings))
}

/// What each secret's name adds to a Role: its `resourceNames` line, `  - <name>\n` as the
/// YAML writer quotes it.
fn name_costs(vault: &Vault) -> Vec<usize> {
    let mut line = String::new();
    vault
        .secrets
        .iter()
        .map(|s| {
            line.clear();
            BlockWriter::new(&mut line, false).item(2, &s.name);
            line.len()
        })
        .collect()
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
        self.build(self.items[i], None)
    }

    /// Builds a planned object; a Role with `only` lists just that name, a Secret with `only`
    /// holds just its first key (shells for [`Plan::write_planned`]).
    fn build(&self, planned: Planned, only: Option<&str>) -> Object {
        let (vault, settings) = (self.vault, self.settings);
        let ns = &settings.namespace;
        match planned {
            Planned::Namespace => Object::Namespace(Namespace {
                metadata: meta(ns, None, None, settings),
                ..Default::default()
            }),
            Planned::Secret(s) => {
                let secret = &vault.secrets[s];
                let data: BTreeMap<String, ByteString> = secret
                    .data
                    .iter()
                    .take(if only.is_some() { 1 } else { usize::MAX })
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
                    &token_name(&user.name),
                    Some(ns),
                    Some(&user.source),
                    settings,
                );
                token_meta
                    .annotations
                    .get_or_insert_with(Default::default)
                    .insert(SERVICE_ACCOUNT_NAME.into(), user.name.clone());
                Object::Secret(Secret {
                    metadata: token_meta,
                    type_: Some("kubernetes.io/service-account-token".into()),
                    ..Default::default()
                })
            }
            Planned::Role {
                user: u,
                part,
                start,
                end,
            } => {
                let user = &vault.users[u];
                let names: Vec<String> = match only {
                    Some(name) => vec![name.to_string()],
                    None => self.grants.readable[u]
                        .range(start, end)
                        .map(|i| vault.secrets[i].name.clone())
                        .collect(),
                };
                Object::Role(Role {
                    metadata: meta(
                        &role_name(&user.name, part),
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
            Planned::RoleBinding { user: u, part } => {
                let user = &vault.users[u];
                let role_name = role_name(&user.name, part);
                Object::RoleBinding(RoleBinding {
                    metadata: meta(&role_name, Some(ns), Some(&user.source), settings),
                    role_ref: RoleRef {
                        api_group: "rbac.authorization.k8s.io".into(),
                        kind: kind::ROLE.into(),
                        name: role_name,
                    },
                    subjects: Some(vec![Subject {
                        kind: kind::SERVICE_ACCOUNT.into(),
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
        let key = self.key(i);
        let api_version = match self.items[i] {
            Planned::Namespace => Namespace::API_VERSION,
            Planned::Secret(_) | Planned::Token(_) => Secret::API_VERSION,
            Planned::ServiceAccount(_) => ServiceAccount::API_VERSION,
            Planned::Role { .. } => Role::API_VERSION,
            Planned::RoleBinding { .. } => RoleBinding::API_VERSION,
        };
        ResourceRef {
            api_version: api_version.into(),
            kind: key.kind.to_string(),
            namespace: key.namespace().map(Into::into),
            name: key.name.into_owned(),
        }
    }

    /// Kind, namespace (empty for the Namespace) and name of the `i`-th object, borrowed from
    /// the vault where it has them (every Secret and ServiceAccount): cheap enough to ask for
    /// every object.
    pub fn key(&self, i: usize) -> ObjectKey<'_> {
        let (vault, ns) = (self.vault, self.settings.namespace.as_str());
        let (k, namespace, name) = match self.items[i] {
            Planned::Namespace => (kind::NAMESPACE, "", Cow::Borrowed(ns)),
            Planned::Secret(s) => (
                kind::SECRET,
                ns,
                Cow::Borrowed(vault.secrets[s].name.as_str()),
            ),
            Planned::ServiceAccount(u) => (
                kind::SERVICE_ACCOUNT,
                ns,
                Cow::Borrowed(vault.users[u].name.as_str()),
            ),
            Planned::Token(u) => (
                kind::SECRET,
                ns,
                Cow::Owned(token_name(&vault.users[u].name)),
            ),
            Planned::Role { user, part, .. } => (
                kind::ROLE,
                ns,
                Cow::Owned(role_name(&vault.users[user].name, part)),
            ),
            Planned::RoleBinding { user, part } => (
                kind::ROLE_BINDING,
                ns,
                Cow::Owned(role_name(&vault.users[user].name, part)),
            ),
        };
        ObjectKey::new(k, namespace, name)
    }

    /// The `kubevault.dev/source` of the `i`-th object (empty for the Namespace).
    fn source(&self, i: usize) -> &str {
        match self.items[i] {
            Planned::Namespace => "",
            Planned::Secret(s) => &self.vault.secrets[s].source,
            Planned::ServiceAccount(u)
            | Planned::Token(u)
            | Planned::Role { user: u, .. }
            | Planned::RoleBinding { user: u, .. } => &self.vault.users[u].source,
        }
    }

    /// How many objects of a kind the plan renders.
    pub fn count(&self, of: &str) -> usize {
        self.items
            .iter()
            .filter(|p| {
                let k = match p {
                    Planned::Namespace => kind::NAMESPACE,
                    Planned::Secret(_) | Planned::Token(_) => kind::SECRET,
                    Planned::ServiceAccount(_) => kind::SERVICE_ACCOUNT,
                    Planned::Role { .. } => kind::ROLE,
                    Planned::RoleBinding { .. } => kind::ROLE_BINDING,
                };
                k == of
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
            let start = out.len();
            self.write_planned(out, i, item);
            debug_assert!(
                item || self.sizes.is_empty() || out.len() - start == self.sizes[i],
                "object {i} was sized {} but is {} bytes",
                self.sizes[i],
                out.len() - start
            );
        }
    }

    /// Writes the `i`-th object as [`Object::write_yaml`] writes it. A Role's names and a
    /// Secret's values are written from the model, not copied into the object first (the debug
    /// build checks the bytes against the built object).
    fn write_planned(&self, out: &mut String, i: usize, item: bool) {
        let start = out.len();
        let vault = self.vault;
        match self.items[i] {
            Planned::Role {
                user,
                start: from,
                end: to,
                ..
            } => {
                let readable = &self.grants.readable[user];
                let first = &vault.secrets[readable.get(from)].name;
                let shell = self.build(self.items[i], Some(first));
                // Whether a name needs quotes is known from its cost: no test per name.
                let names = readable.range(from, to).map(|s| {
                    let name = vault.secrets[s].name.as_str();
                    (name, self.costs[s] == name.len() + 5)
                });
                shell.write_role_yaml(out, item, names);
            }
            Planned::Secret(s) if !vault.secrets[s].data.is_empty() => {
                let shell = self.build(self.items[i], Some(""));
                let data = vault.secrets[s]
                    .data
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.0.as_slice()));
                shell.write_secret_yaml(out, item, data);
            }
            _ => {
                self.object(i).write_yaml(out, item);
                return;
            }
        }
        debug_assert!(
            {
                let mut whole = String::new();
                self.object(i).write_yaml(&mut whole, item);
                out[start..] == whole
            },
            "object {i} written from the model differs from the built object"
        );
    }

    /// Splits user `u`'s grants into Roles within [`MAX_OBJECT_BYTES`], given what each name
    /// adds to a Role ([`name_costs`]): as many names as fit into each, in order.
    fn split_role(&self, u: usize) -> Vec<Planned> {
        let costs = &self.costs;
        let readable = &self.grants.readable[u];
        let mut parts = Vec::new();
        let mut start = 0;
        while start < readable.len() {
            let part = parts.len();
            let mut size = self.role_base(u, part, readable.get(start));
            let mut end = start;
            while end < readable.len() {
                let cost = costs[readable.get(end)];
                // Every Role gets at least one name, whatever its size.
                if end > start && size + cost > MAX_OBJECT_BYTES {
                    break;
                }
                size += cost;
                end += 1;
            }
            parts.push(Planned::Role {
                user: u,
                part,
                start,
                end,
            });
            start = end;
        }
        parts
    }

    /// The size of part `part` of user `u`'s Role without its names: the Role with only the
    /// secret `first` in it, less that name's line.
    fn role_base(&self, u: usize, part: usize, first: usize) -> usize {
        let one = Planned::Role {
            user: u,
            part,
            start: 0,
            end: 0,
        };
        let name = &self.vault.secrets[first].name;
        let mut out = String::new();
        self.build(one, Some(name)).write_yaml(&mut out, false);
        let mut line = String::new();
        BlockWriter::new(&mut line, false).item(2, name);
        out.len() - line.len()
    }

    /// Measures every object as YAML (Roles from their names' lines, the others written into
    /// a scratch buffer and counted) and checks them against [`MAX_OBJECT_BYTES`] and the
    /// total against [`MAX_OUTPUT_BYTES`]. The errors name the object and its source file,
    /// never its content. Nothing is kept but the sizes.
    pub fn size(&mut self) -> Diagnostics {
        let costs = &self.costs;
        let chunks = chunks(self.items.len(), 256);
        let sizes: Vec<Vec<usize>> = par_map(&chunks, |range| {
            let mut scratch = String::new();
            range
                .clone()
                .map(|i| match self.items[i] {
                    Planned::Role {
                        user,
                        part,
                        start,
                        end,
                    } => {
                        let readable = &self.grants.readable[user];
                        self.role_base(user, part, readable.get(start))
                            + readable.range(start, end).map(|s| costs[s]).sum::<usize>()
                    }
                    _ => {
                        scratch.clear();
                        self.write_planned(&mut scratch, i, false);
                        scratch.len()
                    }
                })
                .collect()
        });
        self.sizes = sizes.into_iter().flatten().collect();
        let mut diags = Diagnostics::default();
        for (i, &size) in self.sizes.iter().enumerate() {
            if size > MAX_OBJECT_BYTES {
                let r = self.resource_ref(i);
                diags.push(
                    Diagnostic::error(
                        self.source(i),
                        format!(
                            "{} {:?} would be {size} bytes of YAML, more than the {MAX_OBJECT_BYTES} bytes (1.5 MiB) the API server accepts",
                            r.kind, r.name
                        ),
                    )
                    .about(r),
                );
            }
        }
        let total = self.total_bytes();
        if total > MAX_OUTPUT_BYTES {
            diags.push(Diagnostic::error(
                "",
                format!(
                    "the rendered objects total {total} bytes of YAML, more than the {MAX_OUTPUT_BYTES} bytes ({} MiB) limit",
                    MAX_OUTPUT_BYTES >> 20
                ),
            ));
        }
        diags
    }

    /// The size of every object as one YAML document, summed ([`Plan::size`] measures them).
    pub fn total_bytes(&self) -> usize {
        self.sizes.iter().sum()
    }

    /// The size of the `i`-th object as one YAML document, once [`Plan::size`] ran.
    pub fn object_bytes(&self, i: usize) -> usize {
        self.sizes.get(i).copied().unwrap_or(0)
    }

    /// Writes every object as a `---`-separated YAML stream to `out`, built in parallel a few
    /// chunks at a time and written as each chunk is ready: memory holds those chunks, never
    /// the whole output.
    pub fn write_stream(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let chunks = self.chunks_by_size(0..self.len());
        par_stream(
            chunks.len(),
            |c, buf| {
                self.write_range(buf, chunks[c].clone(), false);
                // No `---` before the first document.
                if c == 0 {
                    buf.drain(..4);
                }
            },
            |text| out.write_all(text.as_bytes()),
        )
    }

    /// `range` in consecutive runs of about [`CHUNK_BYTES`] of YAML each (by the sizes).
    pub fn chunks_by_size(&self, range: std::ops::Range<usize>) -> Vec<std::ops::Range<usize>> {
        let mut chunks = Vec::new();
        let (mut start, mut bytes) = (range.start, 0);
        for i in range.clone() {
            bytes += self.object_bytes(i).max(64);
            if bytes >= CHUNK_BYTES {
                chunks.push(start..i + 1);
                (start, bytes) = (i + 1, 0);
            }
        }
        if start < range.end {
            chunks.push(start..range.end);
        }
        chunks
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

/// Warnings for granted secrets named like the token Secret of a user who does not exist
/// (`bob-token` without a user `bob`): if bob existed once and his token Secret was never
/// pruned, applying this Opaque Secret fails on the live token while the Role granting its name
/// applies, and exposes the token.
fn token_shaped(vault: &Vault, grants: &Grants) -> Diagnostics {
    let mut warnings = Diagnostics::default();
    for (i, secret) in vault.secrets.iter().enumerate() {
        let Some(user) = secret.name.strip_suffix("-token") else {
            continue;
        };
        // Names first (cheap, and rare), grants only for those: a role-heavy vault holds
        // millions of grants.
        if crate::vault::names::is_dns1123_label(user)
            && !vault.users.iter().any(|u| u.name == user)
            && grants.readable.iter().any(|r| r.contains(i))
        {
            warnings.push(Diagnostic::warning(
                &secret.source,
                format!(
                    "Secret {:?} has the name of user {user:?}'s token Secret, and there is no \
                     user {user:?}: if there was one, make sure its token Secret was pruned from \
                     the cluster (else the Role granting {:?} exposes the token), or rename the \
                     file",
                    secret.name, secret.name
                ),
            ));
        }
    }
    warnings
}

fn token_name(user: &str) -> String {
    format!("{user}-token")
}

/// `kubevault:<user>:read` for the first part of a user's Role, `kubevault:<user>:read-2` for
/// the second, and so on.
pub fn role_name(user: &str, part: usize) -> String {
    match part {
        0 => format!("kubevault:{user}:read"),
        n => format!("kubevault:{user}:read-{}", n + 1),
    }
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
    fn token_shaped_names_of_missing_users_warn_when_granted() {
        // (kvstore file, rules of alice, warns)
        let table: &[(&str, &str, bool)] = &[
            ("kvstore/bob-token", "**", true),
            ("kvstore/bob/token", "**", true),
            ("kvstore/Bob_token", "**", true),
            ("kvstore/staging/payments-api/token", "**", true),
            ("kvstore/bob-token", "other", false),
            ("kvstore/bob-tokens", "**", false),
            ("kvstore/token", "**", false),
            ("kvstore/alice/token-x", "**", false),
        ];
        for (file, rules, warns) in table {
            let v = vault(
                &[(file, "k: v"), ("kvstore/other", "k: v")],
                &[("access_control/alice", rules)],
            );
            let r = render(&v, &evaluate(&v), &settings(false)).unwrap();
            let hits: Vec<String> = r
                .warnings
                .sorted()
                .iter()
                .map(|d| d.to_string())
                .filter(|m| m.contains("token Secret"))
                .collect();
            assert_eq!(hits.len(), usize::from(*warns), "{file}: {hits:?}");
            if *warns {
                assert!(hits[0].contains("pruned"), "{}", hits[0]);
            }
        }
        // Rendering goes on: the name keeps working.
        let v = vault(
            &[("kvstore/staging/payments-api/token", "k: v")],
            &[("access_control/alice", "**")],
        );
        let r = render(&v, &evaluate(&v), &settings(false)).unwrap();
        assert!(
            r.objects
                .iter()
                .any(|o| format!("{o:?}") == "Secret/staging-payments-api-token")
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
