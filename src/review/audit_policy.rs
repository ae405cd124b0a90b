//! `kubevault audit-policy`: an `audit.k8s.io/v1` Policy for kube-apiserver that records every
//! request on the objects kubevault manages in its namespace (Secrets, ServiceAccounts and their
//! token subresource, Roles, RoleBindings) at `Metadata` level: who, what, when and the response
//! code, never a request or response body (a body of a Secret request holds its values).
//!
//! The policy's first matching rule decides a request's level, so these rules go first in an
//! existing policy; on their own they log nothing else.

use crate::yaml::{Node, emit_document};

/// The resources recorded, by API group: `(group, resources)`.
pub const RECORDED: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "secrets",
            "secrets/*",
            "serviceaccounts",
            "serviceaccounts/*",
        ],
    ),
    ("rbac.authorization.k8s.io", &["roles", "rolebindings"]),
];

/// The Policy as a YAML document, with a comment saying how to use it.
pub fn policy(namespace: &str) -> String {
    let strings = |items: &[&str]| Node::seq(items.iter().map(|s| Node::string(*s)));
    let resources = Node::seq(RECORDED.iter().map(|(group, resources)| {
        Node::map([
            ("group", Node::string(*group)),
            ("resources", strings(resources)),
        ])
    }));
    let rule = Node::map([
        ("level", Node::string("Metadata")),
        ("namespaces", strings(&[namespace])),
        ("resources", resources),
        ("omitStages", strings(&["RequestReceived"])),
    ]);
    let doc = Node::map([
        ("apiVersion", Node::string("audit.k8s.io/v1")),
        ("kind", Node::string("Policy")),
        ("rules", Node::seq([rule])),
    ]);
    format!(
        "# kubevault audit policy for namespace {namespace}: every request on its Secrets,\n\
         # ServiceAccounts, Roles and RoleBindings at Metadata level (never Request or\n\
         # RequestResponse: those would log Secret values). Put these rules FIRST in an existing\n\
         # policy (the first matching rule decides). Enable: kube-apiserver --audit-policy-file=...\n\
         # --audit-log-path=... (README: \"Audit\"). Then: kubevault audit LOG...\n{}",
        emit_document(&doc)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_logged_at_metadata_level_only() {
        let text = policy("vault-ns");
        let docs = crate::yaml::parse_stream(&text, &crate::yaml::Limits::default()).unwrap();
        let rules = docs[0].get("rules").and_then(Node::as_seq).unwrap();
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].str_at(&["level"]), Some("Metadata"));
        assert!(text.contains("- vault-ns\n"), "{text}");
        assert!(!text.contains("level: Request"), "{text}");
    }
}
