//! The KRM function wire format: a `ResourceList` in, the same items plus ours and flat
//! `results` out. Items stay untyped YAML trees with every annotation.

mod merge;
mod results;

pub use merge::merge_items;
pub use results::result_node;

use crate::diag::Diagnostic;
use crate::yaml::{Limits, Node, emit_document, parse_stream};

/// Accepted `apiVersion`s of a ResourceList.
pub const API_VERSIONS: [&str; 2] = ["config.kubernetes.io/v1", "config.kubernetes.io/v1beta1"];

/// A parsed ResourceList.
pub struct ResourceList {
    /// `apiVersion` as sent (answered with the same).
    pub api_version: String,
    /// The items, in order.
    pub items: Vec<Node>,
    /// The functionConfig, if any.
    pub function_config: Option<Node>,
}

/// Reads a ResourceList from stdin text. Errors never quote the input.
pub fn read(text: &str) -> Result<ResourceList, Box<Diagnostic>> {
    let limits = Limits {
        max_depth: crate::limits::RESOURCE_LIST_MAX_DEPTH,
        max_alias_expansion: crate::limits::RESOURCE_LIST_MAX_ALIAS_EXPANSION,
    };
    let bad = |m: String| Box::new(Diagnostic::error("", format!("stdin: {m}")));
    let mut docs = parse_stream(text, &limits)
        .map_err(|e| bad(format!("not valid YAML at line {}: {}", e.line, e.message)))?;
    docs.retain(|d| !d.is_null());
    if docs.len() != 1 {
        return Err(bad(format!(
            "expected one ResourceList document, found {}",
            docs.len()
        )));
    }
    let root = docs.remove(0);
    if root.as_map().is_none() {
        return Err(bad("a ResourceList must be a mapping".into()));
    }
    let api_version = root.str_at(&["apiVersion"]).unwrap_or("").to_string();
    let kind = root.str_at(&["kind"]).unwrap_or("");
    if kind != "ResourceList" || !API_VERSIONS.contains(&api_version.as_str()) {
        return Err(bad(format!(
            "expected a config.kubernetes.io/v1 ResourceList, got kind {kind:?} apiVersion {api_version:?}"
        )));
    }
    let items = match root.get("items") {
        None => Vec::new(),
        Some(n) if n.is_null() => Vec::new(),
        Some(n) => match n.as_seq() {
            Some(items) => items.to_vec(),
            None => return Err(bad("`items` must be a list".into())),
        },
    };
    if let Some(i) = items.iter().position(|i| i.as_map().is_none()) {
        return Err(bad(format!("items[{i}] is not an object")));
    }
    let function_config = root.get("functionConfig").filter(|n| !n.is_null()).cloned();
    Ok(ResourceList {
        api_version,
        items,
        function_config,
    })
}

/// Writes a ResourceList with these items, the functionConfig echoed, and results.
pub fn write(
    api_version: &str,
    items: Vec<Node>,
    function_config: Option<Node>,
    results: Vec<Node>,
) -> String {
    let api_version = if API_VERSIONS.contains(&api_version) {
        api_version
    } else {
        API_VERSIONS[0]
    };
    let mut entries = vec![
        ("apiVersion", Node::string(api_version)),
        ("kind", Node::string("ResourceList")),
        ("items", Node::seq(items)),
    ];
    if let Some(fc) = function_config {
        entries.push(("functionConfig", fc));
    }
    if !results.is_empty() {
        entries.push(("results", Node::seq(results)));
    }
    emit_document(&Node::map(entries))
}
