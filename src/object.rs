//! The objects kubevault generates, and the strings they share: the label and annotations every
//! object carries, the kinds, and [`ObjectKey`], the one `(kind, namespace, name)` that identifies
//! an object in the plan, in clash checks and when merging with a ResourceList's items.
//!
//! Objects are k8s-openapi types; `yaml::object` writes them as YAML.

use std::borrow::Cow;
use std::fmt;

use k8s_openapi::api::core::v1::{Namespace, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::{Metadata, Resource};

use crate::diag::ResourceRef;

/// The label every generated object carries.
pub const MANAGED_BY: (&str, &str) = ("app.kubernetes.io/managed-by", "kubevault");
/// The annotation naming the functionConfig that generated an object.
pub const GENERATOR: &str = "kubevault.dev/generator";
/// The annotation naming the vault file an object comes from.
pub const SOURCE: &str = "kubevault.dev/source";
/// The annotation on a token Secret naming its ServiceAccount.
pub const SERVICE_ACCOUNT_NAME: &str = "kubernetes.io/service-account.name";

/// The kinds kubevault generates.
pub mod kind {
    use k8s_openapi::Resource;
    use k8s_openapi::api::core::v1::{Namespace, Secret, ServiceAccount};
    use k8s_openapi::api::rbac::v1::{Role, RoleBinding};

    /// `Namespace`.
    pub const NAMESPACE: &str = Namespace::KIND;
    /// `Secret`.
    pub const SECRET: &str = Secret::KIND;
    /// `ServiceAccount`.
    pub const SERVICE_ACCOUNT: &str = ServiceAccount::KIND;
    /// `Role`.
    pub const ROLE: &str = Role::KIND;
    /// `RoleBinding`.
    pub const ROLE_BINDING: &str = RoleBinding::KIND;
}

/// What identifies an object: kind, namespace (empty for cluster-scoped objects) and name,
/// borrowed where the owner has them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectKey<'a> {
    /// `Secret`, `Role`, ...
    pub kind: Cow<'a, str>,
    /// The namespace, empty when none.
    pub namespace: Cow<'a, str>,
    /// The name.
    pub name: Cow<'a, str>,
}

impl<'a> ObjectKey<'a> {
    /// A key from its three parts.
    pub fn new(
        kind: impl Into<Cow<'a, str>>,
        namespace: impl Into<Cow<'a, str>>,
        name: impl Into<Cow<'a, str>>,
    ) -> ObjectKey<'a> {
        ObjectKey {
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    /// The same key, owning its parts.
    pub fn into_owned(self) -> ObjectKey<'static> {
        ObjectKey {
            kind: Cow::Owned(self.kind.into_owned()),
            namespace: Cow::Owned(self.namespace.into_owned()),
            name: Cow::Owned(self.name.into_owned()),
        }
    }

    /// The namespace, `None` when empty.
    pub fn namespace(&self) -> Option<&str> {
        Some(self.namespace.as_ref()).filter(|ns| !ns.is_empty())
    }
}

impl fmt::Display for ObjectKey<'_> {
    /// `Kind namespace/name`, or `Kind name` without a namespace.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.namespace() {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
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
    /// apiVersion, kind and metadata.
    pub fn parts(&self) -> (&'static str, &'static str, &ObjectMeta) {
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

    /// Kind, namespace and name.
    pub fn key(&self) -> ObjectKey<'_> {
        let (_, kind, meta) = self.parts();
        ObjectKey::new(
            kind,
            meta.namespace.as_deref().unwrap_or(""),
            meta.name.as_deref().unwrap_or(""),
        )
    }

    /// The object as JSON (k8s-openapi's serialization, fields in alphabetical order).
    pub fn to_json(&self) -> serde_json::Value {
        let json = match self {
            Object::Namespace(o) => serde_json::to_value(o),
            Object::Secret(o) => serde_json::to_value(o),
            Object::ServiceAccount(o) => serde_json::to_value(o),
            Object::Role(o) => serde_json::to_value(o),
            Object::RoleBinding(o) => serde_json::to_value(o),
        };
        // k8s-openapi types always serialize to JSON; a failure here is a bug, not bad input.
        json.expect("k8s-openapi objects serialize")
    }
}
