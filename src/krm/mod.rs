//! The KRM function wire format: a `ResourceList` in, the same items plus ours and flat
//! `results` out. Items pass through as text with every annotation: as written where they are
//! in the usual block style, else as our emitter writes their untyped YAML tree.

mod merge;
mod results;
mod split;

pub use merge::{Item, Merged, key, merge, token_secret_names, with_bookkeeping_of};
pub use results::result_node;

use crate::diag::Diagnostic;
use crate::par::par_stream;
use crate::yaml::{
    Limits, Node, Value, emit_document, emit_document_into, emit_seq_item_into, parse_stream,
};

/// Accepted `apiVersion`s of a ResourceList.
pub const API_VERSIONS: [&str; 2] = ["config.kubernetes.io/v1", "config.kubernetes.io/v1beta1"];

/// A parsed ResourceList.
pub struct ResourceList<'a> {
    /// `apiVersion` as sent (answered with the same).
    pub api_version: String,
    /// The items, in order.
    pub items: Vec<Item<'a>>,
    /// The functionConfig, if any.
    pub function_config: Option<Node>,
}

/// The caps on a ResourceList read from stdin.
const LIMITS: Limits = Limits {
    max_depth: crate::limits::RESOURCE_LIST_MAX_DEPTH,
    max_alias_expansion: crate::limits::RESOURCE_LIST_MAX_ALIAS_EXPANSION,
};

/// The functionConfig of a large ResourceList, found without reading its items (the last
/// `functionConfig:` line at column 0 and the lines under it), so that the work it configures
/// can start while [`read`] reads the items. `None` for small inputs or where there is none.
/// Only a head start: [`read`] remains the authority, errors included.
pub fn function_config_ahead(text: &str) -> Option<Node> {
    const KEY: &str = "functionConfig:";
    if text.len() < split::MIN_SPLIT_BYTES {
        return None;
    }
    let start = if text.starts_with(KEY) {
        0
    } else {
        text.rfind("\nfunctionConfig:")? + 1
    };
    // To the next line at column 0 with content (another top-level key, or the document's end).
    let mut end = start
        + text[start..]
            .find('\n')
            .map_or(text.len() - start, |n| n + 1);
    while end < text.len() {
        let line_end = text[end..].find('\n').map_or(text.len(), |n| end + n + 1);
        match text.as_bytes()[end] {
            b' ' | b'#' | b'\n' => end = line_end,
            _ => break,
        }
    }
    let mut docs = parse_stream(&text[start..end], &LIMITS).ok()?;
    docs.pop()?
        .remove("functionConfig")
        .filter(|n| !n.is_null())
}

/// Reads a ResourceList from stdin text. Errors never quote the input.
///
/// In the layout orchestrators write, items are read entry by entry, and the ones in the
/// common block style are kept as written (see `split`); anything else is parsed as a whole.
pub fn read(text: &str) -> Result<ResourceList<'_>, Box<Diagnostic>> {
    read_as(text, true)
}

/// [`read`]'s contract, for tests and fuzz targets: reading entry by entry gives what the full
/// parser reads from the whole text: the same errors, or the same items, each item's text
/// saying what the full parser's tree says.
#[doc(hidden)]
pub fn read_agrees(text: &str) -> bool {
    agree(read_as(text, true), read_as(text, false))
}

/// Two readings of one ResourceList: the same error, or items saying the same.
fn agree(
    a: Result<ResourceList<'_>, Box<Diagnostic>>,
    b: Result<ResourceList<'_>, Box<Diagnostic>>,
) -> bool {
    let reread = |item: &Item| -> Option<String> {
        let mut docs = parse_stream(&item.text, &LIMITS).ok()?;
        let Value::Seq(mut entries) = docs.pop()?.value else {
            return None;
        };
        (docs.is_empty() && entries.len() == 1).then(|| emit_document(&entries.remove(0)))
    };
    match (a, b) {
        (Ok(a), Ok(b)) => {
            let emitted = |n: &Option<Node>| n.as_ref().map(emit_document);
            a.api_version == b.api_version
                && emitted(&a.function_config) == emitted(&b.function_config)
                && a.items.len() == b.items.len()
                && a.items.iter().zip(&b.items).all(|(a, b)| {
                    let text = reread(a);
                    a.key == b.key
                        && emitted(&a.node) == emitted(&b.node)
                        && text.is_some()
                        && text == reread(b)
                })
        }
        (Err(a), Err(b)) => a.message == b.message,
        _ => false,
    }
}

/// [`read`]: entry by entry where the layout allows (`entries`), or always as a whole.
fn read_as(text: &str, entries: bool) -> Result<ResourceList<'_>, Box<Diagnostic>> {
    let limits = LIMITS;
    let bad = |m: String| Box::new(Diagnostic::error("", format!("stdin: {m}")));
    let split = entries.then(|| split::parse(text, &limits)).flatten();
    let (mut docs, split_items) = match split {
        Some((docs, items)) => (docs, Some(items)),
        None => (
            parse_stream(text, &limits)
                .map_err(|e| bad(format!("not valid YAML at line {}: {}", e.line, e.message)))?,
            None,
        ),
    };
    docs.retain(|d| !d.is_null());
    if docs.len() != 1 {
        return Err(bad(format!(
            "expected one ResourceList document, found {}",
            docs.len()
        )));
    }
    let mut root = docs.remove(0);
    if let Some((key, line)) = duplicate_key(&root) {
        return Err(bad(format!(
            "not valid YAML at line {line}: the mapping key {key} appears twice (kubectl, kpt and \
             kustomize refuse duplicate keys: each would read a different value)"
        )));
    }
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
    let items: Vec<Option<Item>> = match (split_items, root.get_mut("items")) {
        (Some(items), _) => items,
        (None, None) => Vec::new(),
        (None, Some(n)) if n.is_null() => Vec::new(),
        (None, Some(n)) => match &mut n.value {
            Value::Seq(items) => std::mem::take(items)
                .into_iter()
                .map(|item| item.as_map().is_some().then(|| Item::new(item)))
                .collect(),
            _ => return Err(bad("`items` must be a list".into())),
        },
    };
    if let Some(i) = items.iter().position(Option::is_none) {
        return Err(bad(format!("items[{i}] is not an object")));
    }
    let items = items.into_iter().flatten().collect();
    let function_config = root.remove("functionConfig").filter(|n| !n.is_null());
    Ok(ResourceList {
        api_version,
        items,
        function_config,
    })
}

/// The first mapping key that appears twice in one mapping of `node`, shown quoted (at most 64
/// characters, escaped), with the line of its second occurrence.
pub fn duplicate_key(node: &Node) -> Option<(String, usize)> {
    let mut stack = vec![node];
    while let Some(node) = stack.pop() {
        match &node.value {
            Value::Scalar { .. } => {}
            Value::Seq(items) => stack.extend(items.iter()),
            Value::Map(entries) => {
                let mut seen = std::collections::HashSet::with_capacity(entries.len());
                for (key, value) in entries {
                    let text = match &key.value {
                        Value::Scalar { text, .. } => text.as_str(),
                        _ => "",
                    };
                    if matches!(key.value, Value::Scalar { .. }) && !seen.insert(text) {
                        let shown: String = text.chars().take(64).collect();
                        let more = if shown.len() < text.len() { "..." } else { "" };
                        return Some((format!("`{}{more}`", shown.escape_debug()), key.line));
                    }
                    stack.push(key);
                    stack.push(value);
                }
            }
        }
    }
    None
}

/// Writes a ResourceList with these items, the functionConfig echoed, and results.
pub fn write(
    api_version: &str,
    items: &[Item],
    function_config: Option<Node>,
    results: Vec<Node>,
) -> String {
    let (head, tail) = around(api_version, !items.is_empty(), function_config, results);
    let mut out = head;
    for item in items {
        out.push_str(&item.text);
    }
    out.push_str(&tail);
    out
}

/// How one output item of a [`merge`] order is written: input items by index, generated
/// objects written by `write(i, out)` as items of a top-level sequence (or, where one replaces
/// an earlier run's item, as `node(i)` with that item's bookkeeping), about `bytes(i)` long.
pub struct Generated<'g> {
    /// Writes generated object `i` as a sequence item.
    pub write: &'g (dyn Fn(usize, &mut String) + Sync),
    /// Generated object `i` as a tree.
    pub node: &'g (dyn Fn(usize) -> Node + Sync),
    /// About how many bytes generated object `i` takes.
    pub bytes: &'g (dyn Fn(usize) -> usize + Sync),
}

/// Writes a ResourceList like [`write`](fn@write) to `out`, with the items given as a [`merge`]
/// order. Items are built in parallel chunks of about [`crate::render::CHUNK_BYTES`] and
/// written as each is ready, never all held at once.
pub fn write_merged(
    out: &mut dyn std::io::Write,
    api_version: &str,
    items: &[Item],
    merged: &[Merged],
    generated: &Generated<'_>,
    function_config: Option<Node>,
    results: Vec<Node>,
) -> std::io::Result<()> {
    let mut chunks: Vec<&[Merged]> = Vec::new();
    let (mut start, mut bytes) = (0, 0);
    for (n, m) in merged.iter().enumerate() {
        bytes += match *m {
            Merged::Input(j) => items[j].text.len(),
            Merged::Replaces(i, _) | Merged::Generated(i) => (generated.bytes)(i),
        }
        .max(64);
        if bytes >= crate::render::CHUNK_BYTES {
            chunks.push(&merged[start..=n]);
            (start, bytes) = (n + 1, 0);
        }
    }
    if start < merged.len() {
        chunks.push(&merged[start..]);
    }
    let (head, tail) = around(api_version, !merged.is_empty(), function_config, results);
    out.write_all(head.as_bytes())?;
    par_stream(
        chunks.len(),
        |c, buf| {
            for m in chunks[c] {
                match *m {
                    Merged::Input(j) => buf.push_str(&items[j].text),
                    Merged::Replaces(i, j) => {
                        let new = (generated.node)(i);
                        let new = match &items[j].node {
                            Some(old) => with_bookkeeping_of(new, old),
                            None => new,
                        };
                        emit_seq_item_into(buf, &new, 0);
                    }
                    Merged::Generated(i) => (generated.write)(i, buf),
                }
            }
        },
        |text| out.write_all(text.as_bytes()),
    )?;
    out.write_all(tail.as_bytes())
}

/// The text of a ResourceList before and after its written items (`any_items`: there are
/// some): the head, then `functionConfig` and `results`.
fn around(
    api_version: &str,
    any_items: bool,
    function_config: Option<Node>,
    results: Vec<Node>,
) -> (String, String) {
    let api_version = if API_VERSIONS.contains(&api_version) {
        api_version
    } else {
        API_VERSIONS[0]
    };
    let mut head = vec![
        ("apiVersion", Node::string(api_version)),
        ("kind", Node::string("ResourceList")),
    ];
    let mut tail = Vec::new();
    if let Some(fc) = function_config {
        tail.push(("functionConfig", fc));
    }
    if !results.is_empty() {
        tail.push(("results", Node::seq(results)));
    }
    if !any_items {
        head.push(("items", Node::seq(Vec::new())));
        head.extend(tail);
        return (emit_document(&Node::map(head)), String::new());
    }
    let mut text = String::new();
    emit_document_into(&mut text, &Node::map(head));
    text.push_str("items:\n");
    let mut rest = String::new();
    if !tail.is_empty() {
        emit_document_into(&mut rest, &Node::map(tail));
    }
    (text, rest)
}
