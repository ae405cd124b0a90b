//! Parallel parsing of a large ResourceList: its `items:` block sequence is cut at the entries'
//! `- ` lines and the pieces are parsed on every core.
//!
//! Orchestrators write ResourceLists in one layout (a block sequence under a column-0 `items:`),
//! and parsing thousands of pass-through items is most of KRM mode's extra cost. [`parse`] only
//! handles that layout and returns `None` for anything else, or when any piece does not parse on
//! its own (an alias to an anchor in another item, say); the caller then parses the whole text,
//! which also produces the error messages. Within the layout the tree equals the whole parse.

use super::Item;
use crate::par::par_map_pieces;
use crate::yaml::{Limits, Node, Value, parse_items, parse_stream};

/// Inputs smaller than this are parsed in one piece: splitting would not pay.
const MIN_SPLIT_BYTES: usize = 256 << 10;

/// The ResourceList's documents with an empty `items`, and the items (`None` for one that is
/// not a mapping), parsed in pieces; `None`: parse the whole text instead.
pub fn parse(text: &str, limits: &Limits) -> Option<(Vec<Node>, Vec<Option<Item>>)> {
    if text.len() < MIN_SPLIT_BYTES {
        return None;
    }
    let (block_start, block_end, entries) = items_block(text)?;
    let pieces = std::thread::available_parallelism().map_or(1, usize::from) * 4;
    let per_piece = entries.len().div_ceil(pieces).max(1);
    let bounds: Vec<(usize, usize)> = entries
        .chunks(per_piece)
        .enumerate()
        .map(|(i, chunk)| {
            let end = entries
                .get((i + 1) * per_piece)
                .copied()
                .unwrap_or(block_end);
            (chunk[0], end)
        })
        .collect();
    // The pieces share the alias-expansion budget: splitting must never allow more expansion.
    let piece_limits = Limits {
        max_alias_expansion: limits.max_alias_expansion / bounds.len(),
        ..*limits
    };
    let parsed = par_map_pieces(&bounds, |&(from, to)| {
        let items = match parse_items(&text[from..to]) {
            Some(items) => items,
            None => {
                let mut docs = parse_stream(&text[from..to], &piece_limits).ok()?;
                match (docs.len(), docs.pop()) {
                    (
                        1,
                        Some(Node {
                            value: Value::Seq(items),
                            ..
                        }),
                    ) => items,
                    _ => return None,
                }
            }
        };
        // Written while the tree is at hand, on this thread; most trees are dropped here.
        Some(
            items
                .into_iter()
                .map(|item| item.as_map().is_some().then(|| Item::new(item)))
                .collect::<Vec<_>>(),
        )
    });
    let mut items = Vec::with_capacity(entries.len());
    for piece in parsed {
        items.extend(piece?);
    }
    Some((rest(text, block_start, block_end, limits)?, items))
}

/// The documents of a large ResourceList in the usual layout, with an empty `items`: read
/// without parsing any item. `None` for other inputs.
pub fn head(text: &str, limits: &Limits) -> Option<Vec<Node>> {
    if text.len() < MIN_SPLIT_BYTES {
        return None;
    }
    let (block_start, block_end, _) = items_block(text)?;
    rest(text, block_start, block_end, limits)
}

/// Parses the text around the `items:` block, with `items: []` in its place.
fn rest(text: &str, block_start: usize, block_end: usize, limits: &Limits) -> Option<Vec<Node>> {
    let rest = format!("{}items: []\n{}", &text[..block_start], &text[block_end..]);
    let docs = parse_stream(&rest, limits).ok()?;
    if docs.len() != 1 {
        return None;
    }
    docs[0].get("items")?;
    Some(docs)
}

/// Where the `items:` line starts, where its block ends, and where each entry's `- ` line starts.
fn items_block(text: &str) -> Option<(usize, usize, Vec<usize>)> {
    let block_start = if text.starts_with("items:\n") {
        0
    } else {
        text.find("\nitems:\n")? + 1
    };
    let mut at = block_start + "items:\n".len();
    let mut indent = None;
    let mut entries = Vec::new();
    while at < text.len() {
        let line_end = text[at..].find('\n').map_or(text.len(), |n| at + n + 1);
        let line = &text[at..line_end];
        let content = line.trim_start_matches(' ');
        let spaces = line.len() - content.len();
        let blank = content.trim_end().is_empty() || content.starts_with('#');
        if !blank {
            let entry = content.starts_with("- ") || content.trim_end() == "-";
            match indent {
                None if entry => indent = Some(spaces),
                None => return None,
                Some(i) if spaces == i && entry => {}
                Some(i) if spaces > i => {}
                Some(_) => break,
            }
            if Some(spaces) == indent && entry {
                entries.push(at);
            }
        }
        at = line_end;
    }
    if entries.is_empty() || text[..entries[0]].contains('\t') {
        return None;
    }
    Some((block_start, at, entries))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{emit_document, emit_seq_item_into};

    /// The documents (items emptied) and the items, each written, from the whole parse.
    fn whole(text: &str) -> Vec<String> {
        let mut docs = parse_stream(text, &Limits::default()).unwrap();
        let mut out = Vec::new();
        if let Some(Value::Seq(items)) = docs[0].get_mut("items").map(|n| &mut n.value) {
            for item in std::mem::take(items) {
                let mut text = String::new();
                if item.as_map().is_some() {
                    emit_seq_item_into(&mut text, &item, 0);
                }
                out.push(text);
            }
        }
        out.extend(docs.iter().map(emit_document));
        out
    }

    fn split(text: &str) -> Option<Vec<String>> {
        parse(text, &Limits::default()).map(|(docs, items)| {
            let mut out: Vec<String> = items
                .into_iter()
                .map(|i| i.map(|i| i.text).unwrap_or_default())
                .collect();
            out.extend(docs.iter().map(emit_document));
            out
        })
    }

    fn big(items: &str, indent: &str) -> String {
        let mut text =
            String::from("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n");
        while text.len() < MIN_SPLIT_BYTES {
            for line in items.lines() {
                text.push_str(indent);
                text.push_str(line);
                text.push('\n');
            }
        }
        text + "functionConfig:\n  kind: KubeVault\n  metadata: {name: x}\nresults: []\n"
    }

    #[test]
    fn pieces_equal_the_whole_parse() {
        let item = "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a # comment\n  data:\n    s: |\n      - not an item\n      items:\n    n: 1.10\n# a comment between items\n-\n  kind: Odd\n- [1, 2]\n";
        for indent in ["", "  "] {
            let text = big(item, indent);
            assert_eq!(
                split(&text).as_deref(),
                Some(whole(&text).as_slice()),
                "indent {indent:?}"
            );
        }
    }

    #[test]
    fn other_layouts_parse_whole() {
        let flow = format!("apiVersion: v1\nitems: [{}]\n", "{a: 1}, ".repeat(40_000));
        assert!(split(&flow).is_none());
        let alias = big("- &a {k: v}\n- *a\n", "").replacen("- &a {k: v}\n", "- &b {k: v}\n", 1);
        let pieces = split(&alias);
        if let Some(pieces) = pieces {
            assert_eq!(pieces, whole(&alias));
        }
        assert!(
            split("items:\n- a\n").is_none(),
            "small inputs are not split"
        );
    }
}
