//! A fast path for the common shape of ResourceList items and secret files: block mappings and
//! sequences of plain, single-quoted, double-quoted and literal (`|`, `|-`) scalars, and
//! `{}` / `[]`.
//!
//! Orchestrators serialize items in that shape, and most secret files are flat mappings in it;
//! running them through the full YAML parser is most of the cost of reading them. [`parse_items`]
//! (a block sequence), [`parse_document`] (a flat mapping) and [`Skimmer`] (one sequence entry,
//! only the strings at a few key paths, no tree) read the subset directly and return `None` for
//! anything else: anchors, aliases, tags, flow collections, folded or kept block scalars,
//! multi-line plain or quoted scalars, complex keys, tabs, CR, document markers, directives,
//! unusual indentation, a last line without a line break. `None` means "ask the full parser",
//! which then also produces every error message. Within the subset the tree is exactly the full
//! parser's, line numbers included (checked by property tests and the `resource_list` and
//! `secret_file` fuzz targets against it). One reader serves all three ([`Build`]).

use std::borrow::Cow;

use super::node::{Node, Style, Value};

/// Deepest nesting the fast path follows; deeper documents go to the full parser.
const MAX_DEPTH: usize = 64;

/// Longest key the fast path reads (YAML's limit for implicit keys is 1024 characters).
const MAX_KEY_BYTES: usize = 1024;

/// Parses `text` as one block sequence (the entries of a ResourceList's `items:`, all at one
/// indentation) into its entries, or `None` when the text is outside the subset.
pub fn parse_items(text: &str) -> Option<Vec<Node>> {
    let (p, first) = Parser::new(text, Tree, MAX_DEPTH)?;
    p.top(first)
}

/// Parses `text` as one document holding a flat block mapping (keys at column 0, each value a
/// scalar in the subset or `{}` / `[]`), the common secret file, or `None` when the text is
/// anything else (nested collections included: the full parser reports what is wrong there).
pub fn parse_document(text: &str) -> Option<Node> {
    parse_nested_document(text, 1)
}

/// Deepest nesting [`parse_nested_document`] reads for a SOPS file: the document, `sops:`, its
/// `age:` list and an entry of it; a file nested deeper goes to the full parser.
pub const SOPS_DEPTH: usize = 4;

/// [`parse_document`] with nested block mappings and sequences up to `max_depth` levels (the
/// document is one): the shape of a SOPS-encrypted secret file, whose values form a flat
/// mapping next to the nested `sops:` metadata (age entries with `enc: |` literal blocks).
pub fn parse_nested_document(text: &str, max_depth: usize) -> Option<Node> {
    let (p, first) = Parser::new(text, Tree, max_depth)?;
    if p.indent(first) != 0 || is_dash(p.lines[first]) {
        return None;
    }
    let (doc, next) = p.map_from(first, 0, 0)?;
    p.next_content(next).is_none().then_some(doc)
}

/// Reads one entry of a block sequence (its `- ` line and the lines under it) for the strings
/// at a few key paths, without building its tree: exactly what [`parse_items`] would find at
/// those paths with [`Node::str_at`], and `None` wherever [`parse_items`] would not answer or
/// the entry is not a single mapping.
pub struct Skimmer<'p, const N: usize> {
    paths: [&'p [&'p str]; N],
    /// Every key name on the paths: mappings keep only values under these keys.
    keys: Vec<&'p str>,
}

impl<'p, const N: usize> Skimmer<'p, N> {
    /// A skimmer for these key paths.
    pub fn new(paths: [&'p [&'p str]; N]) -> Self {
        let mut keys: Vec<&str> = Vec::new();
        for key in paths.iter().flat_map(|p| p.iter().copied()) {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
        Skimmer { paths, keys }
    }

    /// The strings at the paths of the entry `text`, or `None` (see [`Skimmer`]).
    pub fn entry<'a>(&self, text: &'a str) -> Option<[Option<Cow<'a, str>>; N]> {
        let (p, first) = Parser::new(text, Skim { keys: &self.keys }, MAX_DEPTH)?;
        let mut items = p.top(first)?;
        if items.len() != 1 {
            return None;
        }
        let item = items.pop()?;
        if !matches!(item, Skimmed::Map(_)) {
            return None;
        }
        Some(self.paths.map(|path| item.str_at(path, &self.keys)))
    }
}

/// Printable characters YAML reads the same everywhere: no tab, CR, BOM, NEL or Unicode line
/// separators, no control characters.
fn simple_chars(text: &str) -> bool {
    if text.is_ascii() {
        // Whole chunks at a time, without stopping early: the check vectorizes.
        return text.as_bytes().chunks(64).all(|chunk| {
            chunk.iter().fold(true, |ok, &b| {
                ok & ((0x20..0x7f).contains(&b) | (b == b'\n'))
            })
        });
    }
    text.chars().all(|c| {
        c == '\n'
            || (' '..='~').contains(&c)
            || (('\u{a0}'..='\u{fffd}').contains(&c)
                && !matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}'))
            || c >= '\u{10000}'
    })
}

/// A `- ` entry line (or a lone `-`), given the text after the indentation.
fn is_dash(body: &str) -> bool {
    body == "-" || body.starts_with("- ")
}

/// What the reader makes of what it reads: the tree ([`Tree`]), or only the values under a few
/// keys ([`Skim`]). Both go through the one reader, so they accept exactly the same texts.
trait Build<'a> {
    /// A node.
    type Node;
    /// A mapping being read.
    type Map: Default;
    /// A sequence being read.
    type Seq: Default;
    fn scalar(&self, text: Cow<'a, str>, style: Style, line: usize) -> Self::Node;
    fn entry(&self, map: &mut Self::Map, key: Self::Node, value: Self::Node);
    fn map(&self, map: Self::Map, line: usize) -> Self::Node;
    fn item(&self, seq: &mut Self::Seq, item: Self::Node);
    fn seq(&self, seq: Self::Seq, line: usize) -> Self::Node;
    /// The entries of a sequence read with [`Build::seq`], or `None` when its items were not kept.
    fn items(&self, node: Self::Node) -> Option<Vec<Self::Node>>;
}

/// Builds the [`Node`] tree.
struct Tree;

impl<'a> Build<'a> for Tree {
    type Node = Node;
    type Map = Vec<(Node, Node)>;
    type Seq = Vec<Node>;

    fn scalar(&self, text: Cow<'a, str>, style: Style, line: usize) -> Node {
        node(
            Value::Scalar {
                text: text.into_owned(),
                style,
            },
            line,
        )
    }
    fn entry(&self, map: &mut Self::Map, key: Node, value: Node) {
        map.push((key, value));
    }
    fn map(&self, map: Self::Map, line: usize) -> Node {
        node(Value::Map(map), line)
    }
    fn item(&self, seq: &mut Self::Seq, item: Node) {
        seq.push(item);
    }
    fn seq(&self, seq: Self::Seq, line: usize) -> Node {
        node(Value::Seq(seq), line)
    }
    fn items(&self, node: Node) -> Option<Vec<Node>> {
        match node.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }
}

/// Keeps scalars as read (borrowed where they need no unescaping) and, of mappings, only the
/// first value under each of `keys` (as [`Node::get`] finds the first).
struct Skim<'k> {
    keys: &'k [&'k str],
}

/// What [`Skim`] keeps of a node.
enum Skimmed<'a> {
    Scalar(Cow<'a, str>),
    /// A mapping: the values under wanted keys, by index into [`Skim::keys`].
    Map(Vec<(usize, Skimmed<'a>)>),
    /// A sequence, with its entries while they are few (the top level has one).
    Seq(Vec<Skimmed<'a>>),
}

impl<'a> Skimmed<'a> {
    fn str_at(&self, path: &[&str], keys: &[&str]) -> Option<Cow<'a, str>> {
        let mut at = self;
        for step in path {
            let Skimmed::Map(entries) = at else {
                return None;
            };
            let want = key_index(keys, step)?;
            at = &entries.iter().find(|(k, _)| *k == want)?.1;
        }
        match at {
            Skimmed::Scalar(s) => Some(s.clone()),
            _ => None,
        }
    }
}

/// Where `key` is in `keys` (a handful: a length check rules out most at once).
fn key_index(keys: &[&str], key: &str) -> Option<usize> {
    keys.iter().position(|k| k.len() == key.len() && *k == key)
}

impl<'a> Build<'a> for Skim<'_> {
    type Node = Skimmed<'a>;
    type Map = Vec<(usize, Skimmed<'a>)>;
    type Seq = Vec<Skimmed<'a>>;

    fn scalar(&self, text: Cow<'a, str>, _: Style, _: usize) -> Skimmed<'a> {
        Skimmed::Scalar(text)
    }
    fn entry(&self, map: &mut Self::Map, key: Skimmed<'a>, value: Skimmed<'a>) {
        let Skimmed::Scalar(key) = key else { return };
        if let Some(k) = key_index(self.keys, &key)
            && !map.iter().any(|(seen, _)| *seen == k)
        {
            map.push((k, value));
        }
    }
    fn map(&self, map: Self::Map, _: usize) -> Skimmed<'a> {
        Skimmed::Map(map)
    }
    fn item(&self, seq: &mut Self::Seq, item: Skimmed<'a>) {
        // Only the top level's entries are ever asked for, and one is all an entry has.
        if seq.len() < 2 {
            seq.push(item);
        }
    }
    fn seq(&self, seq: Self::Seq, _: usize) -> Skimmed<'a> {
        Skimmed::Seq(seq)
    }
    fn items(&self, node: Skimmed<'a>) -> Option<Vec<Skimmed<'a>>> {
        match node {
            Skimmed::Seq(items) => Some(items),
            _ => None,
        }
    }
}

struct Parser<'a, B> {
    lines: Vec<&'a str>,
    build: B,
    /// Deepest nesting followed; deeper text goes to the full parser.
    max_depth: usize,
}

impl<'a, B: Build<'a>> Parser<'a, B> {
    /// A reader of `text` and its first line with content; `None` when the text is outside the
    /// subset at a glance.
    fn new(text: &'a str, build: B, max_depth: usize) -> Option<(Self, usize)> {
        // Without a final line break the full parser's end-of-stream position differs.
        if !text.ends_with('\n') || !simple_chars(text) {
            return None;
        }
        // Byte by byte: `str::split('\n')` pays a search set-up per (short) line.
        let mut lines: Vec<&str> = Vec::new();
        let mut start = 0;
        for (at, &b) in text.as_bytes().iter().enumerate() {
            if b == b'\n' {
                lines.push(&text[start..at]);
                start = at + 1;
            }
        }
        lines.push(&text[start..]);
        let marker = |l: &&str| match l.as_bytes().first() {
            Some(b'-') => l.starts_with("---"),
            Some(b'.') => l.starts_with("..."),
            Some(b'%') => true,
            _ => false,
        };
        if lines.iter().any(marker) {
            return None;
        }
        let p = Parser {
            lines,
            build,
            max_depth,
        };
        let first = p.next_content(0)?;
        Some((p, first))
    }

    /// The entries of the text as one block sequence starting at line `first`.
    fn top(&self, first: usize) -> Option<Vec<B::Node>> {
        if !is_dash(&self.lines[first][self.indent(first)..]) {
            return None;
        }
        let (node, next) = self.seq(first, self.indent(first), 0)?;
        if self.next_content(next).is_some() {
            return None;
        }
        self.build.items(node)
    }

    fn indent(&self, i: usize) -> usize {
        let line = self.lines[i];
        line.len() - line.trim_start_matches(' ').len()
    }

    /// Blank or comment-only.
    fn skippable(&self, i: usize) -> bool {
        let body = self.lines[i].trim_start_matches(' ');
        body.is_empty() || body.starts_with('#')
    }

    /// The first line at or after `i` with content.
    fn next_content(&self, mut i: usize) -> Option<usize> {
        while i < self.lines.len() {
            if !self.skippable(i) {
                return Some(i);
            }
            i += 1;
        }
        None
    }

    /// The empty (null) scalar of `key:` or `-` with nothing after it on line `at`: the full
    /// parser places it at the next token, the next line with content or the end.
    fn empty(&self, at: usize) -> B::Node {
        let line = self
            .next_content(at + 1)
            .map_or(self.lines.len(), |k| k + 1);
        self.build.scalar(Cow::Borrowed(""), Style::Plain, line)
    }

    /// A block node whose first line is `i`, at that line's indentation.
    fn block(&self, i: usize, depth: usize) -> Option<(B::Node, usize)> {
        let indent = self.indent(i);
        if is_dash(&self.lines[i][indent..]) {
            self.seq(i, indent, depth)
        } else {
            self.map_from(i, indent, depth)
        }
    }

    /// A block sequence whose entries' dashes are at column `indent`, starting at line `i`.
    fn seq(&self, i: usize, indent: usize, depth: usize) -> Option<(B::Node, usize)> {
        if depth >= self.max_depth {
            return None;
        }
        let mut items = B::Seq::default();
        let mut at = i;
        loop {
            let line: &'a str = self.lines[at];
            let body = &line[indent..];
            let rest = &body[1..];
            let content = rest.trim_start_matches(' ');
            let (item, next) = if content.is_empty() || content.starts_with('#') {
                if !content.is_empty() && content.len() == rest.len() {
                    return None; // `-#...` is not a dash
                }
                // The entry's node is on the following lines, or it is empty.
                match self.next_content(at + 1) {
                    Some(k) if self.indent(k) > indent => self.block(k, depth + 1)?,
                    _ => (self.empty(at), at + 1),
                }
            } else {
                let col = indent + 1 + (rest.len() - content.len());
                if is_dash(content) {
                    return None; // `- - x`
                }
                if key_end(content).is_some() {
                    self.map_from(at, col, depth + 1)?
                } else {
                    self.inline_value(at, content, indent)?
                }
            };
            self.build.item(&mut items, item);
            match self.next_content(next) {
                Some(k) if self.indent(k) == indent && is_dash(&self.lines[k][indent..]) => at = k,
                // Deeper lines are not ours; a key at this column may continue a parent
                // mapping (`key:` then `- ` entries at the key's column), which checks it.
                Some(k) if self.indent(k) > indent => return None,
                _ => return Some((self.build.seq(items, i + 1), next)),
            }
        }
    }

    /// A block mapping whose first key starts at column `col` of line `i` (after a `- ` when
    /// the mapping is a sequence entry) and whose other keys start lines at that column.
    fn map_from(&self, i: usize, col: usize, depth: usize) -> Option<(B::Node, usize)> {
        if depth >= self.max_depth {
            return None;
        }
        let mut entries = B::Map::default();
        // A duplicate key is left to the full parser's readers, which refuse it.
        let mut seen: Vec<Cow<'a, str>> = Vec::new();
        let mut seen_set: std::collections::HashSet<Cow<'a, str>> = Default::default();
        let mut at = i;
        loop {
            let line: &'a str = self.lines[at];
            let body = &line[col..];
            let (key, rest) = parse_key(body)?;
            if seen.len() < 16 {
                if seen.contains(&key.0) {
                    return None;
                }
                seen.push(key.0.clone());
            } else {
                if seen_set.is_empty() {
                    seen_set.extend(seen.iter().cloned());
                }
                if !seen_set.insert(key.0.clone()) {
                    return None;
                }
            }
            let key = self.build.scalar(key.0, key.1, at + 1);
            let after = rest.trim_start_matches(' ');
            let (value, next) = if after.is_empty() || after.starts_with('#') {
                if !after.is_empty() && after.len() == rest.len() {
                    return None;
                }
                match self.next_content(at + 1) {
                    Some(k) if self.indent(k) > col => self.block(k, depth + 1)?,
                    Some(k) if self.indent(k) == col && is_dash(&self.lines[k][col..]) => {
                        self.seq(k, col, depth + 1)?
                    }
                    _ => (self.empty(at), at + 1),
                }
            } else {
                if after.len() == rest.len() {
                    return None; // `key:value` is not a key
                }
                self.inline_value(at, after, col)?
            };
            self.build.entry(&mut entries, key, value);
            match self.next_content(next) {
                Some(k) if self.indent(k) == col && !is_dash(&self.lines[k][col..]) => at = k,
                Some(k) if self.indent(k) >= col => return None,
                _ => return Some((self.build.map(entries, i + 1), next)),
            }
        }
    }

    /// A value that starts on line `i` with `text` (trimmed at the start), in a collection whose
    /// entries are at column `parent`. Returns the node and the next line.
    fn inline_value(&self, i: usize, text: &'a str, parent: usize) -> Option<(B::Node, usize)> {
        let line = i + 1;
        let first = text.as_bytes()[0];
        let scalar = |s, style| Some((self.build.scalar(s, style, line), i + 1));
        match first {
            b'"' => {
                let (s, rest) = double_quoted(text)?;
                end_of_value(rest)?;
                scalar(s, Style::Str)
            }
            b'\'' => {
                let (s, rest) = single_quoted(text)?;
                end_of_value(rest)?;
                scalar(s, Style::Str)
            }
            b'|' => self.literal(i, text, parent),
            b'{' | b'[' => {
                let empty = match text.as_bytes().get(1) {
                    Some(b'}') if first == b'{' => self.build.map(B::Map::default(), line),
                    Some(b']') if first == b'[' => self.build.seq(B::Seq::default(), line),
                    _ => return None,
                };
                end_of_value(&text[2..])?;
                Some((empty, i + 1))
            }
            _ => scalar(Cow::Borrowed(plain(text)?), Style::Plain),
        }
    }

    /// A literal block scalar (`|` or `|-`) whose header is `text` on line `i`, in a collection
    /// at column `parent`.
    fn literal(&self, i: usize, text: &str, parent: usize) -> Option<(B::Node, usize)> {
        let header = &text[1..];
        let (strip, comment) = match header.strip_prefix('-') {
            Some(c) => (true, c),
            None => (false, header),
        };
        if !comment.is_empty() && !comment.trim_start_matches(' ').is_empty() {
            let trimmed = comment.trim_start_matches(' ');
            if trimmed.len() == comment.len() || !trimmed.starts_with('#') {
                return None;
            }
        }
        // Content indentation: the first non-empty line's; leading empty lines must be empty.
        let mut at = i + 1;
        while at < self.lines.len() && self.lines[at].is_empty() {
            at += 1;
        }
        if at >= self.lines.len() || self.lines[at].trim_start_matches(' ').is_empty() {
            return None;
        }
        let indent = self.indent(at);
        if indent <= parent {
            return None;
        }
        let mut content: Vec<&str> = Vec::new();
        let mut trailing_empty = 0usize;
        let mut end = at;
        while end < self.lines.len() {
            let l = self.lines[end];
            let body = l.trim_start_matches(' ');
            if body.is_empty() {
                if l.len() > indent {
                    return None;
                }
                trailing_empty += 1;
            } else if l.len() - body.len() >= indent {
                content.extend(std::iter::repeat_n("", trailing_empty));
                trailing_empty = 0;
                content.push(&l[indent..]);
            } else {
                break;
            }
            end += 1;
        }
        // Lines between the content's and the parent's indentation are not YAML we read.
        if end < self.lines.len() && !self.skippable(end) && self.indent(end) > parent {
            return None;
        }
        // Leading empty lines are line breaks of the content.
        let mut s = "\n".repeat(at - (i + 1));
        s.push_str(&content.join("\n"));
        if !strip {
            s.push('\n');
        }
        Some((
            self.build.scalar(Cow::Owned(s), Style::Str, at + 1),
            end - trailing_empty,
        ))
    }
}

/// The end of a key's text if `body` starts with a mapping key (`key:` then space or end).
fn key_end(body: &str) -> Option<usize> {
    match body.as_bytes()[0] {
        b'"' => {
            let (_, rest) = double_quoted(body)?;
            colon_after(body, rest)
        }
        b'\'' => {
            let (_, rest) = single_quoted(body)?;
            colon_after(body, rest)
        }
        _ => {
            // The first `:` followed by a space or the end (a plain key may hold `a:b`).
            let b = body.as_bytes();
            (0..b.len()).find(|&at| b[at] == b':' && matches!(b.get(at + 1), None | Some(b' ')))
        }
    }
}

fn colon_after(body: &str, rest: &str) -> Option<usize> {
    let after = rest.strip_prefix(':')?;
    (after.is_empty() || after.starts_with(' ')).then_some(body.len() - rest.len())
}

/// A mapping key at the start of `body` (its text and style) and the text after its `:`.
fn parse_key(body: &str) -> Option<((Cow<'_, str>, Style), &str)> {
    let end = key_end(body)?;
    if end > MAX_KEY_BYTES {
        return None;
    }
    let text = &body[..end];
    let rest = &body[end + 1..];
    let key = match body.as_bytes()[0] {
        b'"' => (double_quoted(text)?.0, Style::Str),
        b'\'' => (single_quoted(text)?.0, Style::Str),
        _ if plain(text) == Some(text) => (Cow::Borrowed(text), Style::Plain),
        _ => return None,
    };
    Some((key, rest))
}

/// Nothing but spaces and a comment may follow a quoted or empty-collection value.
fn end_of_value(rest: &str) -> Option<()> {
    let trimmed = rest.trim_start_matches(' ');
    (trimmed.is_empty() || (trimmed.starts_with('#') && trimmed.len() < rest.len())).then_some(())
}

/// A plain scalar filling the rest of the line (a comment after ` #` cut off), or `None` when
/// YAML could read it as anything but that text.
fn plain(text: &str) -> Option<&str> {
    // One pass for ` #` (where a comment starts) and `: ` before it (hot: no substring search).
    let b = text.as_bytes();
    let mut cut = b.len();
    let mut colon_space = false;
    for (i, &c) in b.iter().enumerate() {
        let next = b.get(i + 1).copied();
        match c {
            b' ' if next == Some(b'#') => {
                cut = i;
                break;
            }
            b':' if next == Some(b' ') => colon_space = true,
            _ => {}
        }
    }
    let s = text[..cut].trim_end_matches(' ');
    let bytes = s.as_bytes();
    let first = *bytes.first()?;
    let indicator = matches!(
        first,
        b'&' | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
            | b'#'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
    );
    let needs_next = matches!(first, b'-' | b'?' | b':') && bytes.get(1).is_none_or(|b| *b == b' ');
    if indicator || needs_next || colon_space || s.ends_with(':') {
        return None;
    }
    Some(s)
}

/// A double-quoted scalar at the start of `text` that closes on the same line: its value and the
/// text after the closing quote. Unusual escapes are left to the full parser.
fn double_quoted(text: &str) -> Option<(Cow<'_, str>, &str)> {
    let body = &text[1..];
    let close = body.bytes().position(|b| b == b'"' || b == b'\\')?;
    if body.as_bytes()[close] == b'"' {
        return Some((Cow::Borrowed(&body[..close]), &body[close + 1..]));
    }
    let mut out = String::from(&body[..close]);
    let mut chars = body[close..].char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Some((Cow::Owned(out), &body[close + at + 1..])),
            '\\' => {
                let (_, e) = chars.next()?;
                let hex = |n: usize, chars: &mut std::str::CharIndices| -> Option<char> {
                    let mut v = 0u32;
                    for _ in 0..n {
                        v = v * 16 + chars.next()?.1.to_digit(16)?;
                    }
                    char::from_u32(v)
                };
                out.push(match e {
                    '\\' => '\\',
                    '"' => '"',
                    '/' => '/',
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    '0' => '\0',
                    'x' => hex(2, &mut chars)?,
                    'u' => hex(4, &mut chars)?,
                    'U' => hex(8, &mut chars)?,
                    _ => return None,
                });
            }
            c => out.push(c),
        }
    }
    None
}

/// A single-quoted scalar at the start of `text` that closes on the same line.
fn single_quoted(text: &str) -> Option<(Cow<'_, str>, &str)> {
    let body = &text[1..];
    let first = body.bytes().position(|b| b == b'\'')?;
    if !body[first + 1..].starts_with('\'') {
        return Some((Cow::Borrowed(&body[..first]), &body[first + 1..]));
    }
    let mut out = String::new();
    let mut from = 0;
    loop {
        let at = from + body[from..].find('\'')?;
        out.push_str(&body[from..at]);
        if body[at + 1..].starts_with('\'') {
            out.push('\'');
            from = at + 2;
        } else {
            return Some((Cow::Owned(out), &body[at + 1..]));
        }
    }
}

fn node(value: Value, line: usize) -> Node {
    Node {
        value,
        tag: None,
        line,
    }
}

/// The full parser's entries of `text` as one top-level block sequence.
fn full_parse(text: &str) -> Option<Vec<Node>> {
    let mut docs = super::parse_stream(text, &super::Limits::default()).ok()?;
    match (docs.len(), docs.pop()) {
        (
            1,
            Some(Node {
                value: Value::Seq(items),
                ..
            }),
        ) => Some(items),
        _ => None,
    }
}

/// The fast path's contract, for tests and fuzz targets: where [`parse_items`] or
/// [`parse_document`] or [`parse_nested_document`] answers, the full parser reads the same tree,
/// line numbers included.
#[doc(hidden)]
pub fn fast_path_agrees(text: &str) -> bool {
    let same_document =
        |fast: Node| super::parse_stream(text, &super::Limits::default()).ok() == Some(vec![fast]);
    parse_items(text).is_none_or(|fast| full_parse(text).as_ref() == Some(&fast))
        && parse_document(text).is_none_or(same_document)
        && parse_nested_document(text, SOPS_DEPTH).is_none_or(same_document)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::test_rng::Rng;

    fn dump(n: &Node, out: &mut String, depth: usize) {
        let pad = "  ".repeat(depth);
        match &n.value {
            Value::Scalar { text, style } => {
                out.push_str(&format!("{pad}{:?} {style:?} @{}\n", text, n.line))
            }
            Value::Seq(items) => {
                out.push_str(&format!("{pad}seq @{}\n", n.line));
                for i in items {
                    dump(i, out, depth + 1);
                }
            }
            Value::Map(entries) => {
                out.push_str(&format!("{pad}map @{}\n", n.line));
                for (k, v) in entries {
                    dump(k, out, depth + 1);
                    dump(v, out, depth + 2);
                }
            }
        }
    }

    fn show(items: &[Node]) -> String {
        let mut out = String::new();
        for i in items {
            dump(i, &mut out, 0);
        }
        out
    }

    /// [`fast_path_agrees`], showing both trees when they differ.
    fn agrees(text: &str) -> bool {
        match parse_items(text) {
            None => true,
            Some(fast) => {
                let slow = full_parse(text);
                let same = slow.as_ref() == Some(&fast);
                if !same {
                    eprintln!(
                        "text:\n{text}\nfast:\n{}\nslow:\n{}",
                        show(&fast),
                        slow.map(|s| show(&s)).unwrap_or("error".into())
                    );
                }
                same
            }
        }
    }

    #[test]
    fn table() {
        let cases: &[(&str, bool)] = &[
            ("- a\n- b\n", true),
            ("-", false),
            ("- a:", false),
            ("-\n", true),
            ("- a:\n  -\n", true),
            (
                "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: x\n    annotations:\n      config.kubernetes.io/index: '0'\n  data:\n    a: \"q\\\"x\\u00e9\"\n    s: |\n      line\n\n      two\n    t: |-\n      x\n    e: {}\n    l: []\n",
                true,
            ),
            ("- k:\n  - a\n  - b\n  j: x # c\n- k:\n    - 1\n", true),
            ("-\n  a: b\n- # c\n  x: y\n", true),
            ("- a: \n- b:\n", true),
            ("  - a: 1\n    b: 2\n  - c\n", true),
            ("- a: &x 1\n", false),
            ("- a: !t 1\n", false),
            ("- a: {b: c}\n", false),
            ("- a: >\n    x\n", false),
            ("- a: b\n   c\n", false),
            ("- - a\n", false),
            ("- 'it''s'\n- \"a\\tb\"\n", true),
            (
                "- a: |\n\n    x\n\n  b: |-\n    y\n    # z\n\n\n- c\n",
                true,
            ),
            ("- a: |\n    x\n   y\n", false),
            ("-  \"q k\": \n   - a ,b\n   - '0'\n", true),
            ("- x_y: # c\n  k:x: \n   # y\n", true),
            ("- a: 'x' #c\n  b: x#y\n  c: -1\n  d: http://x\n", true),
        ];
        for (text, fast) in cases {
            assert_eq!(parse_items(text).is_some(), *fast, "{text}");
            assert!(agrees(text), "{text}");
        }
    }

    /// Random documents from pieces that are inside and just outside the subset, with random
    /// indentation, comments and blank lines: the fast path either declines or agrees.
    #[test]
    fn random_documents_agree_with_the_full_parser() {
        let pieces = Pieces {
            keys: [
                &[
                    "a",
                    "b-c",
                    "app.kubernetes.io/name",
                    "x_y",
                    "$s",
                    "1",
                    "\"q k\"",
                    "'s'",
                    "on",
                    "null",
                    "a b",
                    "-k",
                    "é",
                    "k:x",
                    "\"esc\\n\"",
                ],
                &["? k", "&a k", "[k]", "k #c", "!t k", "'open", ""],
            ],
            values: [
                &[
                    "v",
                    "x y",
                    "1",
                    "'0'",
                    "\"s\"",
                    "|",
                    "|-",
                    "{}",
                    "[]",
                    "a/b",
                    "1.10",
                    "-1",
                    "x:y",
                    "'it''s'",
                    "\"a\\tb\"",
                    "\"\\u00e9\\x41\"",
                    "x #c",
                    "x#c",
                    "~",
                    "null",
                    "true",
                    "on",
                    "http://a:b/c",
                    "| #c",
                    "\"\"",
                    "''",
                    "a,b",
                    "a ,b",
                    "=",
                    "0o17",
                    "0x1F",
                    ".inf",
                    "é ü",
                    "x  ",
                    "\"a\" #c",
                    "\"\\/\"",
                    "\"\\U0001F600\"",
                ],
                &[
                    "- x",
                    "x: y",
                    "{a: b}",
                    "[1]",
                    "&a x",
                    "*a",
                    "!t x",
                    "? x",
                    ": x",
                    "'open",
                    "\"bad\\q\"",
                    "'a'x",
                    ">",
                    "|+",
                    "|2",
                    "%x",
                    "@x",
                    "`x",
                    "- ",
                    "#c",
                    "\"\\ud800\"",
                    "\"a\"#c",
                ],
            ],
        };
        let skimmer = Skimmer::new([&["a"], &["b-c", "a"], &["x_y", "é"], &["on", "null", "1"]]);
        let mut rng = Rng(7);
        let mut taken = 0;
        let runs = 5000;
        for _ in 0..runs {
            let mut text = String::new();
            let base = rng.pick(&["", "", "  "]).len();
            let items = 1 + rng.next() % 3;
            for _ in 0..items {
                gen_node(&mut rng, &mut text, base, true, 0, &pieces);
            }
            if rng.next().is_multiple_of(4) {
                text.push_str(rng.pick(&["# end\n", "\n", "  \n", "- tail\n", "x: 1\n"]));
            }
            if parse_items(&text).is_some() {
                taken += 1;
            }
            assert!(agrees(&text), "{text}");
            assert!(skims_as_parsed(&skimmer, &text), "{text}");
        }
        // Random maps often repeat a key, which the fast path leaves to the full parser.
        assert!(
            taken > runs / 5,
            "the fast path answered only {taken} of {runs}"
        );
        // Flat documents (secret files), now and then with a nested value the fast path declines.
        let mut taken = 0;
        for _ in 0..runs {
            let mut text = String::new();
            if rng.next().is_multiple_of(5) {
                text.push_str(rng.pick(&["# head\n", "\n", "---\n", "  \n"]));
            }
            let depth = if rng.next().is_multiple_of(4) { 4 } else { 5 };
            gen_map(&mut rng, &mut text, 0, depth, &pieces, true);
            if rng.next().is_multiple_of(6) {
                text.push_str(rng.pick(&["# end\n", "\n", "- x\n", "  y: 1\n", "...\n"]));
            }
            if parse_document(&text).is_some() {
                taken += 1;
            }
            assert!(fast_path_agrees(&text), "{text}");
        }
        assert!(
            taken > runs / 4,
            "the document fast path answered only {taken} of {runs}"
        );
    }

    #[test]
    fn a_sops_file_is_read_nested_as_the_full_parser_reads_it() {
        let text = "host: ENC[AES256_GCM,data:7yZ=,iv:Ow=,tag:Ch==,type:str]\n\
            # a comment\n\
            port: ENC[AES256_GCM,data:yN==,iv:Pc=,tag:ak==,type:str]\n\
            sops:\n    age:\n        - recipient: age12vf89\n          enc: |\n\
            \x20           -----BEGIN AGE ENCRYPTED FILE-----\n\
            \x20           YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+\n\
            \x20           -----END AGE ENCRYPTED FILE-----\n\
            \x20   lastmodified: \"2026-12-02T13:45:22Z\"\n\
            \x20   mac: ENC[AES256_GCM,data:wa=,iv:NT=,tag:cq==,type:str]\n\
            \x20   unencrypted_suffix: _unencrypted\n\
            \x20   version: 3.11.0\n";
        assert!(parse_document(text).is_none(), "not flat");
        let doc = parse_nested_document(text, SOPS_DEPTH).expect("in the subset");
        assert_eq!(
            doc.get("sops")
                .and_then(|s| s.get("version"))
                .and_then(Node::as_str),
            Some("3.11.0")
        );
        assert!(fast_path_agrees(text), "{text}");
        // Deeper than SOPS_DEPTH: the full parser's.
        assert!(parse_nested_document("a:\n b:\n  c:\n   d:\n    e: 1\n", SOPS_DEPTH).is_none());
    }

    /// The [`Skimmer`] answers exactly where [`parse_items`] reads one mapping, with the strings
    /// [`Node::str_at`] finds in it.
    fn skims_as_parsed(skimmer: &Skimmer<'_, 4>, text: &str) -> bool {
        let skimmed = skimmer.entry(text);
        let parsed = parse_items(text)
            .filter(|items| items.len() == 1 && items[0].as_map().is_some())
            .map(|items| {
                skimmer
                    .paths
                    .map(|p| items[0].str_at(p).map(str::to_string))
            });
        let skimmed = skimmed.map(|s| s.map(|v| v.map(|v| v.into_owned())));
        if skimmed != parsed {
            eprintln!("skimmed {skimmed:?}\nparsed {parsed:?}");
        }
        skimmed == parsed
    }

    /// Keys and values inside the subset (`[0]`) and just outside it (`[1]`, picked 1 in 12).
    struct Pieces {
        keys: [&'static [&'static str]; 2],
        values: [&'static [&'static str]; 2],
    }

    impl Pieces {
        fn key(&self, rng: &mut Rng) -> &'static str {
            let odd = rng.next().is_multiple_of(12);
            rng.pick(self.keys[usize::from(odd)])
        }
        fn value(&self, rng: &mut Rng) -> &'static str {
            let odd = rng.next().is_multiple_of(12);
            rng.pick(self.values[usize::from(odd)])
        }
    }

    /// Appends a random node at `indent`: a sequence entry (`seq`) holding a mapping, a
    /// scalar or a nested block.
    fn gen_node(
        rng: &mut Rng,
        out: &mut String,
        indent: usize,
        seq: bool,
        depth: usize,
        pieces: &Pieces,
    ) {
        let pad = " ".repeat(indent);
        if seq {
            out.push_str(&pad);
            out.push_str(rng.pick(&["- ", "- ", "-  ", "-\n"]));
            if out.ends_with('\n') {
                let inner = indent + rng.pick(&["  ", "  ", "    ", ""]).len();
                gen_map(rng, out, inner, depth + 1, pieces, true);
                return;
            }
            match rng.next() % 3 {
                0 => {
                    out.push_str(&scalar_line(rng, pieces, indent + 4));
                }
                _ => {
                    let col = out.len() - out.rfind('\n').map_or(0, |n| n + 1);
                    gen_map(rng, out, col, depth + 1, pieces, false);
                }
            }
        } else {
            gen_map(rng, out, indent, depth + 1, pieces, true);
        }
    }

    /// Appends a mapping whose keys are at column `col` (the first key already positioned when
    /// `pad_first` is false).
    fn gen_map(
        rng: &mut Rng,
        out: &mut String,
        col: usize,
        depth: usize,
        pieces: &Pieces,
        pad_first: bool,
    ) {
        let entries = 1 + rng.next() % 4;
        for e in 0..entries {
            if e > 0 || pad_first {
                out.push_str(&" ".repeat(col));
            }
            out.push_str(pieces.key(rng));
            out.push(':');
            let nested = depth < 5 && rng.next().is_multiple_of(3);
            if nested {
                out.push_str(rng.pick(&["", "", " ", " # c"]));
                out.push('\n');
                if rng.next().is_multiple_of(5) {
                    out.push_str(rng.pick(&["\n", "# x\n", "   # y\n", "  \n"]));
                }
                let inner = col + rng.pick(&["  ", "  ", "", "    ", " "]).len();
                if rng.next().is_multiple_of(2) {
                    let n = 1 + rng.next() % 3;
                    for _ in 0..n {
                        gen_node(rng, out, inner, true, depth, pieces);
                    }
                } else {
                    gen_map(rng, out, inner, depth, pieces, true);
                }
            } else {
                out.push(' ');
                out.push_str(&scalar_line(rng, pieces, col + 2));
            }
            if rng.next().is_multiple_of(8) {
                out.push_str(rng.pick(&["\n", "# x\n", "      # y\n", "  \n"]));
            }
        }
    }

    /// A scalar value and its line break; block scalars get content lines at `content`.
    fn scalar_line(rng: &mut Rng, pieces: &Pieces, content: usize) -> String {
        let v = pieces.value(rng);
        let mut s = format!("{v}\n");
        if v.starts_with('|') || v.starts_with('>') {
            let pad = " ".repeat(content - rng.pick(&["", "", "  "]).len());
            if rng.next().is_multiple_of(4) {
                s.push('\n');
            }
            for _ in 0..1 + rng.next() % 3 {
                s.push_str(&pad);
                s.push_str(rng.pick(&["line", "# not a comment", "  more", "x: y", "- z"]));
                s.push('\n');
                if rng.next().is_multiple_of(4) {
                    s.push_str(rng.pick(&["\n", "  \n", "      \n"]));
                }
            }
        }
        s
    }
}
