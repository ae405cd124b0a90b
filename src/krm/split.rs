//! Reading a ResourceList in the layout orchestrators write: its `items:` block sequence is cut
//! at the entries' `- ` lines, and each entry is read on its own (large inputs in pieces, on
//! every core).
//!
//! An entry in the common block style ([`Skimmer`](crate::yaml::Skimmer): plain, quoted and
//! literal scalars, no anchors, tags or flow collections) is not parsed into a tree at all: its
//! key fields are read and its text is kept as written, comments and quoting included (only
//! re-indented to the output's column). Other entries are parsed one by one, where they stand
//! in the list, and written by our emitter. [`parse`] returns `None` for any other layout, or
//! when an entry needs the whole parse and it does not match the entries one to one; the caller
//! then parses the whole text, which also produces the error messages. `krm::read_agrees`
//! states the contract; a random test and the `resource_list` fuzz target hold it to that.

use std::ops::Range;

use super::Item;
use crate::par::par_map_pieces;
use crate::yaml::{Limits, Node, Value, parse_stream};

/// Inputs smaller than this are read in one piece: splitting would not pay.
pub const MIN_SPLIT_BYTES: usize = 256 << 10;

/// The ResourceList's documents with an empty `items`, and the items (`None` for one that is
/// not a mapping); `None`: parse the whole text instead.
pub fn parse<'a>(text: &'a str, limits: &Limits) -> Option<(Vec<Node>, Vec<Option<Item<'a>>>)> {
    let (block_start, block_end, entries) = items_block(text)?;
    let docs = rest(text, block_start..entries[0], block_end, limits)?;
    let indent = text[entries[0]..].len() - text[entries[0]..].trim_start_matches(' ').len();
    let ranges: Vec<Range<usize>> = entries
        .iter()
        .enumerate()
        .map(|(i, &from)| from..entries.get(i + 1).copied().unwrap_or(block_end))
        .collect();
    let pieces = if text.len() < MIN_SPLIT_BYTES {
        1
    } else {
        std::thread::available_parallelism().map_or(1, usize::from) * 4
    };
    let groups: Vec<&[Range<usize>]> = ranges.chunks(ranges.len().div_ceil(pieces)).collect();
    // The rest of the list after its last entry (see `tree_of`).
    let tail = |r: &Range<usize>| (r.end == block_end).then(|| &text[block_end..]);
    // Entries parsed on their own share the alias-expansion budget: reading entry by entry must
    // never allow more expansion than the whole parse.
    let entry_limits = Limits {
        max_alias_expansion: limits.max_alias_expansion / ranges.len(),
        ..*limits
    };
    let skimmer = Item::skimmer();
    let read = par_map_pieces(&groups, |group| {
        group
            .iter()
            .map(|r| {
                let entry = &text[r.clone()];
                match Item::verbatim(entry, indent, &skimmer) {
                    Some(item) => Entry::Item(item),
                    None => tree_of(entry, indent, tail(r), &entry_limits)
                        .map_or(Entry::Unread, Entry::of),
                }
            })
            .collect::<Vec<_>>()
    });
    let mut entries: Vec<Entry> = read.into_iter().flatten().collect();
    if entries.iter().any(|e| matches!(e, Entry::Unread)) {
        // An entry did not parse on its own (an alias to an anchor elsewhere, say): the whole
        // parse settles it.
        let mut whole = parse_stream(text, limits).ok()?;
        let [doc] = whole.as_mut_slice() else {
            return None;
        };
        let Value::Seq(trees) = doc.remove("items")?.value else {
            return None;
        };
        if trees.len() != entries.len() {
            return None; // the entries were not cut where YAML sees items
        }
        for (entry, tree) in entries.iter_mut().zip(trees) {
            if matches!(entry, Entry::Unread) {
                *entry = Entry::of(tree);
            }
        }
    }
    if entries.iter().any(|e| matches!(e, Entry::Duplicate))
        || docs.iter().any(|doc| super::duplicate_key(doc).is_some())
    {
        return None;
    }
    let items = entries
        .into_iter()
        .map(|e| match e {
            Entry::Item(item) => Some(item),
            _ => None,
        })
        .collect();
    Some((docs, items))
}

/// One entry of the `items:` block as read so far.
enum Entry<'a> {
    Item(Item<'a>),
    NotAnObject,
    /// Has a mapping key twice: the whole parse reports it.
    Duplicate,
    /// Outside the fast subset, and not readable on its own: the whole parse is needed.
    Unread,
}

impl<'a> Entry<'a> {
    /// The entry of a parsed item.
    fn of(tree: Node) -> Entry<'a> {
        if super::duplicate_key(&tree).is_some() {
            return Entry::Duplicate;
        }
        match tree.as_map() {
            Some(_) => Entry::Item(Item::new(tree)),
            None => Entry::NotAnObject,
        }
    }
}

/// The tree of one entry (at column `indent`) parsed by the full parser where it stands, since
/// how YAML ends an entry's last node can depend on what comes next: followed by a stand-in for
/// the next entry's dash, or by `tail`, the rest of the list after its last entry.
fn tree_of(entry: &str, indent: usize, tail: Option<&str>, limits: &Limits) -> Option<Node> {
    let doc = match tail {
        Some(tail) => format!("items:\n{entry}{tail}"),
        None => format!("items:\n{entry}{}-\n", " ".repeat(indent)),
    };
    let mut docs = parse_stream(&doc, limits).ok()?;
    let Value::Seq(mut items) = docs.pop()?.remove("items")?.value else {
        return None;
    };
    let expected = if tail.is_some() { 1 } else { 2 };
    (docs.is_empty() && items.len() == expected).then(|| items.swap_remove(0))
}

/// Parses the text around the `items:` block, with `items: []` in its place; `head` is the
/// `items:` line and the blank and comment lines up to the first entry, which no entry holds
/// but which must be valid YAML all the same.
fn rest(text: &str, head: Range<usize>, block_end: usize, limits: &Limits) -> Option<Vec<Node>> {
    let comments = &text[head.start + "items:\n".len()..head.end];
    let rest = format!(
        "{}items: []\n{comments}{}",
        &text[..head.start],
        &text[block_end..]
    );
    let docs = parse_stream(&rest, limits).ok()?;
    // The `items: []` put in must be the list's only `items` (a second one, or one inside a
    // scalar, would make the whole parse read other items).
    let entries = docs.first()?.as_map()?;
    let mut items = entries.iter().filter(|(k, _)| k.as_str() == Some("items"));
    match (docs.len(), items.next(), items.next()) {
        (1, Some((_, v)), None) if v.as_seq().is_some_and(<[Node]>::is_empty) => Some(docs),
        _ => None,
    }
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
        let line_end = text.as_bytes()[at..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(text.len(), |n| at + n + 1);
        let line = &text[at..line_end];
        // Most lines are deeper than the entries (or blank): more than `indent` spaces.
        if let Some(i) = indent
            && line.len() > i
            && line.as_bytes()[..=i].iter().all(|&b| b == b' ')
        {
            at = line_end;
            continue;
        }
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
    // YAML also breaks lines at a CR, which the cuts above do not see.
    if entries.is_empty()
        || text[..entries[0]].contains('\t')
        || text.as_bytes()[block_start..at].contains(&b'\r')
    {
        return None;
    }
    Some((block_start, at, entries))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{emit_document, emit_seq_item_into};

    /// The documents (items emptied) and the items, each written by our emitter, from the
    /// whole parse.
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

    /// Like [`whole`], from [`parse`]: each item's text read back and written by our emitter,
    /// so that items kept as written compare by what they say.
    fn split(text: &str) -> Option<Vec<String>> {
        parse(text, &Limits::default()).map(|(docs, items)| {
            let mut out: Vec<String> = items
                .into_iter()
                .map(|i| i.map(|i| rewritten(&i.text)).unwrap_or_default())
                .collect();
            out.extend(docs.iter().map(emit_document));
            out
        })
    }

    /// An item's text (a one-entry block sequence) as our emitter writes it.
    fn rewritten(item: &str) -> String {
        let mut docs = parse_stream(item, &Limits::default()).unwrap();
        let Value::Seq(mut entries) = docs.remove(0).value else {
            panic!("not a sequence: {item}");
        };
        assert_eq!(entries.len(), 1, "{item}");
        let mut text = String::new();
        emit_seq_item_into(&mut text, &entries.remove(0), 0);
        text
    }

    fn texts(text: &str) -> Vec<String> {
        parse(text, &Limits::default())
            .unwrap()
            .1
            .into_iter()
            .map(|i| i.map(|i| i.text.into_owned()).unwrap_or_default())
            .collect()
    }

    /// `items` with `indent` before every line that is not empty.
    fn indented(items: &str, indent: &str) -> String {
        let mut text = String::new();
        for line in items.lines() {
            if !line.is_empty() {
                text.push_str(indent);
            }
            text.push_str(line);
            text.push('\n');
        }
        text
    }

    /// A ResourceList large enough to be read in pieces, of `items` again and again.
    fn big(items: &str, indent: &str) -> String {
        let mut text =
            String::from("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n");
        while text.len() < MIN_SPLIT_BYTES {
            text.push_str(&indented(items, indent));
        }
        text + "functionConfig:\n  kind: KubeVault\n  metadata: {name: x}\nresults: []\n"
    }

    const ITEMS: &str = "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a # comment\n  data:\n    s: |\n      - not an item\n      items:\n\n      x\n    n: 1.10\n    q: 'yes'\n# a comment between items\n-\n  kind: Odd\n- [1, 2]\n- {flow: mapping}\n- k: &anchor v\n";

    #[test]
    fn pieces_read_what_the_whole_parse_reads() {
        for indent in ["", "  ", "    "] {
            let text = big(ITEMS, indent);
            assert_eq!(
                split(&text).as_deref(),
                Some(whole(&text).as_slice()),
                "indent {indent:?}"
            );
            let small = format!("items:\n{}", indented(ITEMS, indent));
            assert_eq!(split(&small), Some(whole(&small)), "indent {indent:?}");
        }
    }

    #[test]
    fn entries_in_the_common_style_are_kept_as_written() {
        for indent in ["", "  "] {
            let texts = texts(&big(ITEMS, indent));
            // Moved to column 0, comments and quoting kept, up to the next entry.
            assert_eq!(
                texts[0],
                "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a # comment\n  data:\n    s: |\n      - not an item\n      items:\n\n      x\n    n: 1.10\n    q: 'yes'\n# a comment between items\n"
            );
            assert_eq!(texts[1], "-\n  kind: Odd\n");
            assert_eq!(texts[2], "", "not an object");
            // Outside the subset: written by our emitter.
            assert_eq!(texts[3], "- flow: mapping\n");
            assert_eq!(texts[4], "- k: v\n");
        }
    }

    #[test]
    fn other_layouts_parse_whole() {
        let flow = format!("apiVersion: v1\nitems: [{}]\n", "{a: 1}, ".repeat(40_000));
        assert!(split(&flow).is_none());
        // An alias to an anchor in another piece: the whole parse settles that piece.
        let alias = big("- k: v\n", "").replacen("- k: v\n", "- &b {k: v}\n", 1) + "";
        let alias = alias.replacen("results: []\n", "", 1);
        let at = alias.find("functionConfig").unwrap();
        let alias = format!("{}- *b\n{}", &alias[..at], &alias[at..]);
        assert_eq!(split(&alias), Some(whole(&alias)));
        assert!(
            split("items:\n- a\n").is_some(),
            "small inputs are read entry by entry"
        );
        assert!(
            split("items:\n- a: [\n").is_none(),
            "the whole parse reports errors"
        );
    }

    /// Random ResourceLists in and around the usual layout, small and (now and then) large
    /// enough for pieces: reading entry by entry always agrees with the whole parse.
    #[test]
    fn random_lists_read_as_the_whole_parse_reads() {
        const ENTRIES: &[&str] = &[
            "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n  data: {}\n",
            "- kind: Secret\n  metadata:\n    name: s # c\n    namespace: 'ns'\n",
            "- kind: Secret\n  metadata:\n    name: \"s\"\n    namespace: ns\n    labels:\n      app.kubernetes.io/managed-by: kubevault\n    annotations:\n      kubevault.dev/generator: g\n      config.kubernetes.io/path: 'x.yaml'\n",
            "- kind: Role\n  metadata:\n    labels: {}\n    name: |\n      odd\n",
            "- metadata:\n    name: n\n    name: dup\n  kind: K\n  kind: L\n",
            "-\n  kind: Deployment\n\n  spec:\n    x: |-\n      a\n\n      b\n",
            "# a comment\n",
            "\n",
            "- kind: K\n  metadata: {name: q}\n  data:\n    s: \"a\\tb\\u00e9\"\n    t: 'it''s'\n",
            "- kind: ConfigMap\n  data:\n    k: >\n      folded\n",
        ];
        // Outside the common style, or not valid at all: picked 1 in 6.
        const ODD: &[&str] = &[
            "- &a\n  kind: A\n",
            "- *a\n",
            "- {kind: Flow, metadata: {name: f}}\n",
            "- [1, 2]\n",
            "- plain\n",
            "- kind: !t Tagged\n",
            "- kind: K\n  metadata:\n\tname: tab\n",
            "- kind: \"unterminated\n",
            "- kind: K\n- - nested\n",
            "- kind: A\r- kind: B\r\n",
        ];
        const HEADS: &[&str] = &[
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n",
            "kind: ResourceList\napiVersion: config.kubernetes.io/v1beta1\n",
            "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n",
            "# head\napiVersion: config.kubernetes.io/v1\nkind: ResourceList\n",
            "---\napiVersion: config.kubernetes.io/v1\nkind: ResourceList\n",
        ];
        const TAILS: &[&str] = &[
            "",
            "functionConfig:\n  kind: KubeVault\n  metadata: {name: g}\n",
            "results: []\n",
            "items:\n- kind: Second\n",
            "---\nkind: Other\n",
            "functionConfig: {kind: X}",
        ];
        let mut rng = crate::vault::test_rng::Rng(11);
        for case in 0..400 {
            let indent = rng.pick(&["", "", "  ", "    "]);
            let mut block = String::new();
            for _ in 0..1 + rng.next() % 6 {
                let odd = rng.next().is_multiple_of(6);
                block.push_str(&indented(rng.pick(if odd { ODD } else { ENTRIES }), indent));
            }
            let mut items = block.clone();
            if case % 40 == 0 {
                while items.len() < MIN_SPLIT_BYTES {
                    items.push_str(&block);
                }
            }
            let (head, tail) = if rng.next().is_multiple_of(4) {
                (rng.pick(HEADS), rng.pick(TAILS))
            } else {
                (HEADS[0], TAILS[1])
            };
            let text = format!("{head}items:\n{items}{tail}");
            assert!(super::super::read_agrees(&text), "case {case}:\n{text}");
        }
    }
}
