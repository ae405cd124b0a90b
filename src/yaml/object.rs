//! The direct YAML writer for the objects kubevault generates: the same bytes as
//! [`emit_document`](super::emit_document) of [`Object::to_node`], written straight from the
//! k8s-openapi fields without the JSON and [`Node`] detour (it is tested against that path).

use base64::Engine as _;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{BlockWriter, Node};
use crate::object::Object;

/// What [`Object::write_role_yaml`] and [`Object::write_secret_yaml`] borrow from the model.
enum Borrowed<'i, 'v> {
    /// A Role's names, each with whether it is written plain.
    Names(&'i mut dyn Iterator<Item = (&'v str, bool)>),
    /// A Secret's keys and raw values.
    Data(&'i mut dyn Iterator<Item = (&'v str, &'v [u8])>),
}

impl Object {
    /// The object as a YAML tree (apiVersion, kind, metadata first).
    pub fn to_node(&self) -> Node {
        let mut node = Node::from_json(&self.to_json());
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
    /// `emit_document(&self.to_node())`, written straight from the fields that [`crate::render`] sets,
    /// without the JSON and [`Node`] detour. With `item` it is written as an item of a
    /// top-level sequence (a ResourceList's `items`). Objects with fields this writer does not
    /// know (none that [`crate::render`] makes) take the [`Object::to_node`] path.
    pub fn write_yaml(&self, out: &mut String, item: bool) {
        let start = out.len();
        self.write_yaml_fields(out, item);
        debug_assert!(
            out[start..] == self.slow_yaml(item),
            "the direct YAML writer differs from the serde path for {self:?}"
        );
    }

    /// [`Object::write_yaml`] of a Role, with `names` as its first rule's `resourceNames` in
    /// place of the names it holds, each with whether it is written plain (as the quoting test
    /// decides; a planned Role knows it from the name's size): a planned Role's names are
    /// borrowed from the model instead of copied into the object (the Roles of a role-heavy vault list millions of names). The
    /// Role must be one the direct writer handles (a non-empty `resourceNames`, say the first
    /// of `names`).
    pub fn write_role_yaml<'n>(
        &self,
        out: &mut String,
        item: bool,
        mut names: impl Iterator<Item = (&'n str, bool)>,
    ) {
        assert!(
            matches!(self, Object::Role(_)) && self.fast_path_ok(),
            "write_role_yaml needs a Role the direct writer handles"
        );
        self.write_fields_with(out, item, Some(Borrowed::Names(&mut names)));
    }

    /// [`Object::write_yaml`] of a Secret, with `data` (keys and raw values, sorted by key) in
    /// place of the data it holds: a planned Secret's values are borrowed from the model instead
    /// of copied into the object. The Secret must hold some data (say the first entry), so that
    /// the writer writes a `data` field at all.
    pub fn write_secret_yaml<'d>(
        &self,
        out: &mut String,
        item: bool,
        mut data: impl Iterator<Item = (&'d str, &'d [u8])>,
    ) {
        assert!(
            matches!(self, Object::Secret(s) if s.data.as_ref().is_some_and(|d| !d.is_empty()))
                && self.fast_path_ok(),
            "write_secret_yaml needs a Secret with data that the direct writer handles"
        );
        self.write_fields_with(out, item, Some(Borrowed::Data(&mut data)));
    }

    /// `write_yaml` through `to_node` and the [`Node`] emitter: the reference.
    fn slow_yaml(&self, item: bool) -> String {
        let node = self.to_node();
        let mut out = String::new();
        if item {
            super::emit_seq_item_into(&mut out, &node, 0);
        } else {
            super::emit_document_into(&mut out, &node);
        }
        out
    }

    fn write_yaml_fields(&self, out: &mut String, item: bool) {
        self.write_fields_with(out, item, None);
    }

    /// The direct writer; `borrowed`, when given, replaces a Role's first `resourceNames` or a
    /// Secret's `data`.
    fn write_fields_with(&self, out: &mut String, item: bool, borrowed: Option<Borrowed<'_, '_>>) {
        let (mut names, mut data) = match borrowed {
            Some(Borrowed::Names(names)) => (Some(names), None),
            Some(Borrowed::Data(data)) => (None, Some(data)),
            None => (None, None),
        };
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
                if let (Some(_), Some(entries)) = (&o.data, data.take()) {
                    w.open(0, "data");
                    let mut b64 = String::new();
                    for (k, v) in entries {
                        b64.clear();
                        base64::engine::general_purpose::STANDARD.encode_string(v, &mut b64);
                        w.entry(2, k, &b64);
                    }
                } else if let Some(data) = &o.data {
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
                            if key == "resourceNames"
                                && list.is_some()
                                && let Some(names) = names.take()
                            {
                                w.open(2, key);
                                for (v, plain) in names {
                                    w.item_known(2, v, plain);
                                }
                                continue;
                            }
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
