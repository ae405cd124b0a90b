//! The KRM function wire format: a `ResourceList` in, the same items plus ours and flat
//! `results` out. Items stay untyped YAML trees with every annotation.

mod merge;
mod results;
mod split;

pub use merge::{Key, Merged, key, merge, merge_items, with_bookkeeping_of};
pub use results::result_node;

use crate::diag::Diagnostic;
use crate::par::par_map;
use crate::yaml::{
    Limits, Node, Value, emit_document, emit_document_into, emit_seq_item_into, parse_stream,
};

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
    let mut docs = match split::parse(text, &limits) {
        Some(docs) => docs,
        None => parse_stream(text, &limits)
            .map_err(|e| bad(format!("not valid YAML at line {}: {}", e.line, e.message)))?,
    };
    docs.retain(|d| !d.is_null());
    if docs.len() != 1 {
        return Err(bad(format!(
            "expected one ResourceList document, found {}",
            docs.len()
        )));
    }
    let mut root = docs.remove(0);
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
    let items = match root.get_mut("items") {
        None => Vec::new(),
        Some(n) if n.is_null() => Vec::new(),
        Some(n) => match &mut n.value {
            Value::Seq(items) => std::mem::take(items),
            _ => return Err(bad("`items` must be a list".into())),
        },
    };
    if let Some(i) = items.iter().position(|i| i.as_map().is_none()) {
        return Err(bad(format!("items[{i}] is not an object")));
    }
    let function_config = root.remove("functionConfig").filter(|n| !n.is_null());
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

/// Writes a ResourceList like [`write`], with the items given as a [`merge`] order: input items
/// by index, generated objects written by `write_generated(i, out)` as items of a top-level
/// sequence (or, where one replaces an earlier run's item, as `generated_node(i)` with that
/// item's bookkeeping). The same bytes as [`write`] on the merged trees; items are written in
/// parallel chunks and returned as parts to print one after the other.
pub fn write_merged(
    api_version: &str,
    items: &[Node],
    merged: &[Merged],
    write_generated: &(dyn Fn(usize, &mut String) + Sync),
    generated_node: &(dyn Fn(usize) -> Node + Sync),
    function_config: Option<Node>,
    results: Vec<Node>,
) -> Vec<String> {
    if merged.is_empty() {
        return vec![write(api_version, Vec::new(), function_config, results)];
    }
    let api_version = if API_VERSIONS.contains(&api_version) {
        api_version
    } else {
        API_VERSIONS[0]
    };
    let size = merged.len().div_ceil(64).max(1);
    let chunks: Vec<&[Merged]> = merged.chunks(size).collect();
    let parts = par_map(&chunks, |chunk| {
        let mut out = String::with_capacity(chunk.len() * 640);
        for m in chunk.iter() {
            match *m {
                Merged::Input(j) => emit_seq_item_into(&mut out, &items[j], 0),
                Merged::Replaces(i, j) => emit_seq_item_into(
                    &mut out,
                    &with_bookkeeping_of(generated_node(i), &items[j]),
                    0,
                ),
                Merged::Generated(i) => write_generated(i, &mut out),
            }
        }
        out
    });
    let mut head = String::new();
    emit_document_into(
        &mut head,
        &Node::map([
            ("apiVersion", Node::string(api_version)),
            ("kind", Node::string("ResourceList")),
        ]),
    );
    head.push_str("items:\n");
    let mut tail_entries = Vec::new();
    if let Some(fc) = function_config {
        tail_entries.push(("functionConfig", fc));
    }
    if !results.is_empty() {
        tail_entries.push(("results", Node::seq(results)));
    }
    let mut tail = String::new();
    if !tail_entries.is_empty() {
        emit_document_into(&mut tail, &Node::map(tail_entries));
    }
    let mut out = Vec::with_capacity(parts.len() + 2);
    out.push(head);
    out.extend(parts);
    out.push(tail);
    out
}
