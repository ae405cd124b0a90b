//! Block-style YAML writer: plain scalars as written, other strings quoted when ambiguous.

use super::node::{Node, Style, Value};

/// Writes one document (no `---` marker), ending with a newline.
pub fn emit_document(node: &Node) -> String {
    let mut out = String::new();
    write_top(&mut out, node);
    out
}

/// Writes documents separated by `---` lines; an empty slice gives an empty string.
pub fn emit_stream(docs: &[Node]) -> String {
    let mut out = String::new();
    for (i, doc) in docs.iter().enumerate() {
        if i > 0 {
            out.push_str("---\n");
        }
        write_top(&mut out, doc);
    }
    out
}

/// Writes one document (no `---` marker) at the end of `out`; the same bytes as
/// [`emit_document`].
pub fn emit_document_into(out: &mut String, node: &Node) {
    write_top(out, node);
}

/// Writes `node` as one item of a block sequence whose dashes stand at column `col`, the same
/// bytes the item gets inside a sequence written by [`emit_document`].
pub fn emit_seq_item_into(out: &mut String, node: &Node, col: usize) {
    write_seq(out, std::slice::from_ref(node), col, false);
}

/// Writes block YAML straight into a buffer for objects whose shape is known up front, without
/// building a [`Node`] tree. Strings are quoted exactly as [`emit_document`] quotes string nodes
/// ([`Node::string`]), so both paths give the same bytes.
pub struct BlockWriter<'a> {
    out: &'a mut String,
    /// Added to every column: 2 writes the object as an item of a top-level sequence.
    base: usize,
    /// The cursor stands after `- `: the next key goes on this line.
    inline: bool,
}

impl<'a> BlockWriter<'a> {
    /// A writer appending to `out`; with `item` the object is a top-level sequence item (`- `
    /// before its first key, the rest indented by two).
    pub fn new(out: &'a mut String, item: bool) -> BlockWriter<'a> {
        if item {
            out.push_str("- ");
        }
        BlockWriter {
            out,
            base: if item { 2 } else { 0 },
            inline: item,
        }
    }

    fn key(&mut self, col: usize, key: &str) {
        if !std::mem::take(&mut self.inline) {
            indent(self.out, self.base + col);
        }
        write_str(self.out, key, 0, true);
        self.out.push(':');
    }

    /// `key: value` with the key at column `col`.
    pub fn entry(&mut self, col: usize, key: &str, value: &str) {
        self.key(col, key);
        self.out.push(' ');
        write_str(self.out, value, self.base + col + 2, false);
        self.out.push('\n');
    }

    /// `key: value` with a plain scalar written as given (`true`, `42`): never quoted.
    pub fn entry_plain(&mut self, col: usize, key: &str, value: &str) {
        self.key(col, key);
        self.out.push(' ');
        self.out.push_str(value);
        self.out.push('\n');
    }

    /// `key:` opening a block mapping (keys at `col + 2`) or sequence (dashes at `col`).
    pub fn open(&mut self, col: usize, key: &str) {
        self.key(col, key);
        self.out.push('\n');
    }

    /// `- value` with the dash at column `col`.
    pub fn item(&mut self, col: usize, value: &str) {
        indent(self.out, self.base + col);
        self.out.push_str("- ");
        write_str(self.out, value, self.base + col + 2, false);
        self.out.push('\n');
    }

    /// [`BlockWriter::item`] for a string whose quoting is already known: `plain` when
    /// `needs_quotes(value)` is false (a Role's names, tested once per secret, not per Role).
    pub fn item_known(&mut self, col: usize, value: &str, plain: bool) {
        debug_assert_eq!(plain, !needs_quotes(value), "{value:?}");
        indent(self.out, self.base + col);
        self.out.push_str("- ");
        if plain {
            self.out.push_str(value);
        } else {
            write_str(self.out, value, self.base + col + 2, false);
        }
        self.out.push('\n');
    }

    /// `- ` opening a mapping item at column `col`: its first key follows on this line, the
    /// others at `col + 2`.
    pub fn open_item(&mut self, col: usize) {
        indent(self.out, self.base + col);
        self.out.push_str("- ");
        self.inline = true;
    }
}

/// A string scalar as `write_scalar` writes a [`Style::Str`] node without a tag.
fn write_str(out: &mut String, text: &str, block_col: usize, is_key: bool) {
    if !needs_quotes(text) {
        out.push_str(text);
    } else if !is_key && literal_ok(text) {
        write_literal(out, text, block_col);
    } else {
        write_double_quoted(out, text);
    }
}

fn write_top(out: &mut String, node: &Node) {
    match &node.value {
        Value::Map(e) if !e.is_empty() => {
            if let Some(tag) = &node.tag {
                push_tag(out, tag);
                out.push('\n');
            }
            write_map(out, e, 0, false)
        }
        Value::Seq(i) if !i.is_empty() => {
            if let Some(tag) = &node.tag {
                push_tag(out, tag);
                out.push('\n');
            }
            write_seq(out, i, 0, false)
        }
        _ => {
            write_inline(out, node, 0);
            out.push('\n');
        }
    }
}

/// Writes a tag, %-encoding every character of its suffix that is not a plain URI character (the
/// parser decodes `%10` into a control character, which must not be written raw).
fn push_tag(out: &mut String, tag: &str) {
    let (prefix, suffix, close) =
        if let Some(inner) = tag.strip_prefix("!<").and_then(|t| t.strip_suffix('>')) {
            ("!<", inner, ">")
        } else if let Some(rest) = tag.strip_prefix("!!") {
            ("!!", rest, "")
        } else {
            ("!", tag.strip_prefix('!').unwrap_or(tag), "")
        };
    out.push_str(prefix);
    for c in suffix.chars() {
        if c.is_ascii_alphanumeric() || "-;/?:@&=+$_.~*'()".contains(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out.push_str(close);
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// Longest key written as an implicit `key: value` (YAML allows 1024 characters; this counts bytes).
const MAX_IMPLICIT_KEY: usize = 1000;

/// Entries at column `col`; with `inline_first` the cursor already stands where the first key goes.
fn write_map(out: &mut String, entries: &[(Node, Node)], col: usize, inline_first: bool) {
    for (i, (k, v)) in entries.iter().enumerate() {
        if i > 0 || !inline_first {
            indent(out, col);
        }
        let mut key = String::new();
        match &k.value {
            Value::Scalar { .. } => write_scalar(&mut key, k, col, true),
            _ => write_flow(&mut key, k),
        }
        if key.len() > MAX_IMPLICIT_KEY {
            // YAML caps implicit keys at 1024 characters; longer ones need `? key` then `: value`.
            out.push_str("? ");
            out.push_str(&key);
            out.push('\n');
            indent(out, col);
        } else {
            out.push_str(&key);
        }
        out.push(':');
        write_value(out, v, col, col + 2);
    }
}

fn write_seq(out: &mut String, items: &[Node], col: usize, inline_first: bool) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 || !inline_first {
            indent(out, col);
        }
        out.push('-');
        match &item.value {
            Value::Map(e) if !e.is_empty() && item.tag.is_none() => {
                out.push(' ');
                write_map(out, e, col + 2, true);
            }
            Value::Seq(s) if !s.is_empty() && item.tag.is_none() => {
                out.push(' ');
                write_seq(out, s, col + 2, true);
            }
            _ => write_value(out, item, col, col + 2),
        }
    }
}

/// Writes what follows `key:` or `-`: a space and an inline value, or a newline and a block.
/// `seq_col` is where a block sequence's dashes go, `map_col` where a block mapping's keys go.
fn write_value(out: &mut String, node: &Node, seq_col: usize, map_col: usize) {
    let tag = node.tag.as_deref();
    match &node.value {
        Value::Map(e) if !e.is_empty() => {
            push_tag_line(out, tag);
            write_map(out, e, map_col, false);
        }
        Value::Seq(s) if !s.is_empty() => {
            push_tag_line(out, tag);
            write_seq(out, s, seq_col, false);
        }
        Value::Scalar {
            text,
            style: Style::Plain,
        } if text.is_empty() && tag.is_none() => out.push('\n'),
        _ => {
            out.push(' ');
            write_inline(out, node, map_col);
            out.push('\n');
        }
    }
}

fn push_tag_line(out: &mut String, tag: Option<&str>) {
    if let Some(tag) = tag {
        out.push(' ');
        push_tag(out, tag);
    }
    out.push('\n');
}

/// A scalar or an empty collection on the current line (block scalars continue below it).
fn write_inline(out: &mut String, node: &Node, block_col: usize) {
    if let Some(tag) = &node.tag {
        push_tag(out, tag);
        out.push(' ');
    }
    match &node.value {
        Value::Scalar { .. } => write_scalar(out, node, block_col, false),
        _ => write_flow_untagged(out, node),
    }
}

fn write_scalar(out: &mut String, node: &Node, block_col: usize, is_key: bool) {
    let Value::Scalar { text, style } = &node.value else {
        return;
    };
    if *style == Style::Plain
        && ((!text.is_empty() && plain_is_safe(text, false))
            || (text.is_empty() && node.tag.is_some()))
    {
        out.push_str(text);
    } else if *style == Style::Plain && text.is_empty() {
        out.push_str("null");
    } else if !needs_quotes(text) {
        out.push_str(text);
    } else if !is_key && literal_ok(text) {
        write_literal(out, text, block_col);
    } else {
        write_double_quoted(out, text);
    }
}

fn write_flow(out: &mut String, node: &Node) {
    if let Some(tag) = &node.tag {
        push_tag(out, tag);
        out.push(' ');
    }
    write_flow_untagged(out, node);
}

fn write_flow_untagged(out: &mut String, node: &Node) {
    match &node.value {
        Value::Scalar { text, style } => {
            if *style == Style::Plain && plain_is_safe(text, true) {
                out.push_str(text)
            } else {
                write_double_quoted(out, text)
            }
        }
        Value::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_flow(out, item);
            }
            out.push(']');
        }
        Value::Map(entries) => {
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_flow(out, k);
                out.push_str(": ");
                write_flow(out, v);
            }
            out.push('}');
        }
    }
}

/// True when a scalar that was plain in its document can be written back plain and read as the
/// same text: the parser accepts some plain scalars (in flow context, or folded from several
/// lines) that would not survive as plain in block context, e.g. one starting with `>`.
fn plain_is_safe(s: &str, flow: bool) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let second = chars.next();
    let indicator_start = match first {
        '-' | '?' | ':' => {
            second.is_none_or(|c| c.is_whitespace() || (flow && ",[]{}".contains(c)))
        }
        c => ",[]{}#&*!|>'\"%@`".contains(c),
    };
    let unsafe_anywhere = first.is_whitespace()
        || s.ends_with(|c: char| c.is_whitespace() || c == ':')
        || s.contains(": ")
        || s.contains(" #")
        // In flow context (complex keys only) stay strict: yaml-rust2 misreads `a -]`.
        || (flow && s.contains(|c: char| c.is_whitespace() || ",[]{}".contains(c)))
        || s.chars().any(|c| c.is_control() || !is_printable(c));
    !indicator_start && !unsafe_anywhere
}

/// True when a string written plain would not read back as the same string in YAML 1.1 or 1.2
/// (kustomize still reads `on`, `yes`, `y` as booleans).
pub(crate) fn needs_quotes(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return true;
    };
    // The longest special word has 5 bytes; compare without allocating a lowercase copy.
    let mut buf = [0u8; 5];
    let lower = if s.len() <= buf.len() {
        let buf = &mut buf[..s.len()];
        buf.copy_from_slice(s.as_bytes());
        buf.make_ascii_lowercase();
        buf
    } else {
        &mut buf[..0]
    };
    if !lower.is_empty()
        && matches!(
            &*lower,
            b"~" | b"null"
                | b"true"
                | b"false"
                | b"y"
                | b"n"
                | b"yes"
                | b"no"
                | b"on"
                | b"off"
                | b"<<"
                | b"="
                | b".inf"
                | b"-.inf"
                | b"+.inf"
                | b".nan"
        )
    {
        return true;
    }
    // Anything that starts like a number, date or time: quote (also catches 0123, 1e3, 0x1F, 12:30).
    if first.is_ascii_digit()
        || (matches!(first, '+' | '-' | '.')
            && s[1..].starts_with(|c: char| c.is_ascii_digit() || c == '.'))
    {
        return true;
    }
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) || first.is_whitespace() {
        return true;
    }
    if s.ends_with(|c: char| c.is_whitespace() || c == ':') {
        return true;
    }
    // One pass over the bytes for the usual ASCII string, without an early exit so that it
    // runs on vector registers (a Role lists hundreds of thousands of names: this test was a
    // fifth of `generate`'s time on a role-heavy vault); the full test for anything else.
    let (mut control, mut mark, mut wide) = (false, false, false);
    for &b in s.as_bytes() {
        control |= b < 0x20 || b == 0x7f;
        mark |= b == b':' || b == b'#';
        wide |= b >= 0x80;
    }
    if wide {
        return s.contains(": ")
            || s.contains(" #")
            || s.chars().any(|c| c.is_control() || !is_printable(c));
    }
    control || (mark && (s.contains(": ") || s.contains(" #")))
}

fn is_printable(c: char) -> bool {
    !matches!(
        c,
        '\u{feff}' | '\u{fffe}' | '\u{ffff}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

fn literal_ok(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with([' ', '\n'])
        && s.chars()
            .all(|c| c == '\n' || (!c.is_control() && is_printable(c)))
        && s.split('\n').all(|line| !line.ends_with(' '))
}

fn write_literal(out: &mut String, s: &str, col: usize) {
    let chomp = if !s.ends_with('\n') {
        "-"
    } else if s.ends_with("\n\n") {
        "+"
    } else {
        ""
    };
    out.push('|');
    out.push_str(chomp);
    let body = s.strip_suffix('\n').unwrap_or(s);
    for line in body.split('\n') {
        out.push('\n');
        if !line.is_empty() {
            indent(out, col);
            out.push_str(line);
        }
    }
}

fn write_double_quoted(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() || !is_printable(c) => {
                let n = c as u32;
                if n <= 0xff {
                    out.push_str(&format!("\\x{n:02x}"));
                } else {
                    out.push_str(&format!("\\u{n:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Limits, parse_stream};

    fn roundtrip(text: &str) -> String {
        emit_stream(&parse_stream(text, &Limits::default()).unwrap())
    }

    #[test]
    fn plain_scalars_stay_as_written() {
        let text = "a: 0123\nb: 1.10\nc: 0o17\nd: on\ne:\nf: ~\n";
        assert_eq!(roundtrip(text), text);
    }

    #[test]
    fn ambiguous_strings_are_quoted() {
        for s in [
            "on",
            "yes",
            "Y",
            "0123",
            "1e3",
            "12:30",
            "2001-12-14",
            "true",
            "",
            "~",
            "-1",
            "a: b",
            " x",
            "x #y",
            "<<",
        ] {
            let out = emit_document(&Node::map([("k", Node::string(s))]));
            let back = parse_stream(&out, &Limits::default()).unwrap();
            let v = back[0].get("k").unwrap();
            assert_eq!(v.as_str(), Some(s), "{out}");
            assert!(needs_quotes(s), "{s}");
        }
        for s in [
            "hello",
            "kubevault-kvstore",
            "a/b",
            "kubevault:alice:read",
            "v1",
        ] {
            assert!(!needs_quotes(s), "{s}");
        }
    }

    #[test]
    fn the_one_pass_tail_agrees_with_the_three_searches() {
        // The test `needs_quotes` ends with, written the plain way.
        fn tail(s: &str) -> bool {
            s.contains(": ")
                || s.contains(" #")
                || s.chars().any(|c| c.is_control() || !is_printable(c))
        }
        let alphabet = [
            "a", "Z", "1", "-", ".", "/", " ", ":", "#", "\t", "\u{7f}", "\u{1b}", "é", "\u{85}",
            "\u{2028}", "\u{feff}", "日",
        ];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 7) as usize + 1;
            let s: String = (0..len)
                .map(|k| alphabet[((x >> (8 * k)) % alphabet.len() as u64) as usize])
                .collect();
            // Prefixed so that the first-character tests never decide: only the tail does.
            let s = format!("a{s}b");
            assert_eq!(needs_quotes(&s), tail(&s), "{s:?}");
        }
    }

    #[test]
    fn lenient_plain_scalars_are_quoted_when_unsafe() {
        // The parser takes `> %a` and `a,b` as plain scalars in flow context; written plain in
        // block context they would not read back (found by the resource_list fuzz target).
        let out = roundtrip("{name: a, >\r%a: x, k: [a b, -c, ?]}\n");
        assert_eq!(out, "name: a\n\"> %a\": x\nk:\n- a b\n- -c\n- \"?\"\n");
        assert_eq!(roundtrip(&out), out);
        // A sequence as a key is written in flow style; `a -` must be quoted there.
        let out = roundtrip("? - a -\n  - b\n: v\n");
        assert_eq!(out, "[\"a -\", b]: v\n");
        assert_eq!(roundtrip(&out), out);
    }

    #[test]
    fn long_keys_are_explicit() {
        // Found by the resource_list fuzz target: a 1,100-character key written implicitly.
        let long = "k".repeat(1100);
        let out = roundtrip(&format!("{{\"{long}\": {{a: 1}}, b: 2}}\n"));
        assert_eq!(out, format!("? {long}\n:\n  a: 1\nb: 2\n"));
        assert_eq!(roundtrip(&out), out);
    }

    #[test]
    fn tags_are_percent_encoded() {
        // Found by the resource_list fuzz target: `!a%10b` decodes to a control character.
        let out = roundtrip("k: !a%10b%25 {x: y}\n");
        assert_eq!(out, "k: !a%10b%25\n  x: y\n");
        assert_eq!(roundtrip(&out), out);
    }

    #[test]
    fn nested_blocks_roundtrip() {
        let text = "apiVersion: v1\nitems:\n- kind: A\n  list:\n  - 1\n  - - x\n    - y\n  empty: {}\n  none: []\n  s: |\n    line1\n    line2\nmeta:\n  annotations:\n    a: \"0123\"\n";
        assert_eq!(roundtrip(text), text);
    }

    #[test]
    fn strings_with_odd_characters_roundtrip() {
        for s in [
            "a\tb",
            "tail\n\n",
            "no newline\nend",
            " lead\nx",
            "bell\u{7}",
            "quote\"back\\slash",
            "uni ☃",
        ] {
            let out = emit_document(&Node::map([("k", Node::string(s))]));
            let back = parse_stream(&out, &Limits::default()).unwrap();
            assert_eq!(back[0].get("k").unwrap().as_str(), Some(s), "{out}");
        }
    }
}
