//! Diagnostics as KRM results in the flat shape (`message`, `severity`, `resourceRef`, `file`).

use crate::diag::Diagnostic;
use crate::yaml::Node;

/// One result entry.
pub fn result_node(d: &Diagnostic) -> Node {
    let message = match d.location() {
        l if l.is_empty() => d.message.clone(),
        l => format!("{l}: {}", d.message),
    };
    let mut entries = vec![
        ("message", Node::string(message)),
        ("severity", Node::string(d.severity.as_str())),
    ];
    if let Some(r) = &d.resource {
        let mut rr = vec![
            ("apiVersion", Node::string(&r.api_version)),
            ("kind", Node::string(&r.kind)),
            ("name", Node::string(&r.name)),
        ];
        if let Some(ns) = &r.namespace {
            rr.push(("namespace", Node::string(ns)));
        }
        entries.push(("resourceRef", Node::map(rr)));
    }
    if !d.path.is_empty() {
        entries.push(("file", Node::map([("path", Node::string(&d.path))])));
    }
    Node::map(entries)
}
