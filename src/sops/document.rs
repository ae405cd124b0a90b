//! A secret file as lines: top-level entries, full-line comments and everything else, so that a
//! rewrite changes only the entries it must and leaves every other byte where it was.
//!
//! The YAML parser reads the file first (it decides what is valid and where each top-level key
//! starts); the text is then cut at those key lines. An entry is its key line and the lines up to
//! the next key, minus trailing blank lines, column-0 comments and document markers, which become
//! pieces of their own. Writing the pieces back gives the file byte for byte. A file whose keys do
//! not each start a line at column 0 (flow style, JSON) is rebuilt in block style instead.
//!
//! Entry bodies hold plaintext for plaintext files and views; [`Document`] has no `Debug`.

use crate::yaml::{Limits, Node, emit_document, parse_stream};

/// One piece of a file.
#[derive(Clone)]
pub(crate) enum Piece {
    /// Lines kept as they are: blank lines, document markers.
    Other(String),
    /// One full-line comment: its indentation, the text after `#`, and the line ending.
    Comment {
        indent: String,
        text: String,
        eol: String,
    },
    /// A top-level `key: value` entry.
    Entry(Entry),
}

/// A top-level entry.
#[derive(Clone)]
pub(crate) struct Entry {
    /// The key.
    pub(crate) key: String,
    /// The key as written, through its `:`.
    pub(crate) head: String,
    /// Everything after the `:`: the value, its line ending and any continuation lines.
    pub(crate) body: String,
    /// The parsed value.
    pub(crate) value: Node,
    /// 1-based line of the key, 0 for new entries.
    pub(crate) line: usize,
}

impl Entry {
    /// A new entry `key: value`, written as the block emitter writes it.
    pub(crate) fn new(key: &str, value: Node) -> Entry {
        let text = emit_document(&Node::map([(key.to_string(), value.clone())]));
        let at = split_head(&text).unwrap_or(0);
        Entry {
            key: key.to_string(),
            head: text[..at].to_string(),
            body: text[at..].to_string(),
            value,
            line: 0,
        }
    }

    /// The entry with a new body.
    pub(crate) fn with_body(&self, body: String, value: Node) -> Entry {
        Entry {
            key: self.key.clone(),
            head: self.head.clone(),
            body,
            value,
            line: self.line,
        }
    }

    /// The body that [`Entry::new`] would write for `value` under this key.
    pub(crate) fn body_for(key: &str, value: &Node) -> String {
        Entry::new(key, value.clone()).body
    }
}

/// A file cut into pieces.
#[derive(Clone, Default)]
pub(crate) struct Document {
    pub(crate) pieces: Vec<Piece>,
}

/// Why a text is not a secret-file document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DocError {
    pub(crate) line: usize,
    pub(crate) message: String,
}

fn doc_error(line: usize, message: impl Into<String>) -> DocError {
    DocError {
        line,
        message: message.into(),
    }
}

/// The limits of secret files.
fn limits() -> Limits {
    Limits {
        max_depth: crate::limits::SECRET_FILE_MAX_DEPTH,
        max_alias_expansion: crate::limits::SECRET_FILE_MAX_ALIAS_EXPANSION,
    }
}

/// Parses YAML text into its one document (`None` when empty or only comments).
pub(crate) fn parse_tree(text: &str) -> Result<Option<Node>, DocError> {
    let docs = parse_stream(text, &limits())
        .map_err(|e| doc_error(e.line, format!("invalid YAML: {}", e.message)))?;
    let mut docs = docs.into_iter().filter(|d| !d.is_null());
    let first = docs.next();
    if let Some(second) = docs.next() {
        return Err(doc_error(
            second.line,
            "more than one YAML document; a secret file holds one mapping",
        ));
    }
    Ok(first)
}

/// Where the key of a `key: value` line ends: the byte after its `:`.
pub(crate) fn split_head(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let after_key = match bytes.first()? {
        b'"' => {
            let mut i = 1;
            loop {
                match bytes.get(i)? {
                    b'\\' => i += 2,
                    b'"' => break i + 1,
                    _ => i += 1,
                }
            }
        }
        b'\'' => {
            let mut i = 1;
            loop {
                match bytes.get(i)? {
                    b'\'' if bytes.get(i + 1) == Some(&b'\'') => i += 2,
                    b'\'' => break i + 1,
                    _ => i += 1,
                }
            }
        }
        b' ' | b'\t' | b'#' | b'{' | b'[' | b'?' | b'-' | b'\r' | b'\n' | b'&' | b'*' | b'!' => {
            return None;
        }
        _ => {
            let mut i = 0;
            loop {
                match bytes.get(i) {
                    None => return None,
                    Some(b':')
                        if matches!(
                            bytes.get(i + 1),
                            None | Some(b' ' | b'\t' | b'\r' | b'\n')
                        ) =>
                    {
                        break i;
                    }
                    Some(_) => i += 1,
                }
            }
        }
    };
    let mut i = after_key;
    while matches!(bytes.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    (bytes.get(i) == Some(&b':')).then_some(i + 1)
}

/// A line that may stand between entries: blank, a column-0 comment, a document marker.
fn is_between(line: &str) -> bool {
    let trimmed = line.trim_end_matches(['\n', '\r']);
    trimmed.trim().is_empty()
        || trimmed.starts_with('#')
        || trimmed.starts_with("---")
        || trimmed.starts_with("...")
}

fn between_piece(line: &str) -> Piece {
    let content = line.trim_end_matches(['\n', '\r']);
    let eol = &line[content.len()..];
    let stripped = content.trim_start_matches([' ', '\t']);
    match stripped.strip_prefix('#') {
        Some(text) => Piece::Comment {
            indent: content[..content.len() - stripped.len()].to_string(),
            text: text.to_string(),
            eol: eol.to_string(),
        },
        None => Piece::Other(line.to_string()),
    }
}

impl Document {
    /// Cuts `text` into pieces. Errors: invalid YAML, several documents, not a mapping, a key
    /// that is not a string.
    pub(crate) fn parse(text: &str) -> Result<Document, DocError> {
        let tree = parse_tree(text)?;
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        let Some(tree) = tree else {
            return Ok(Document {
                pieces: lines.iter().map(|l| between_piece(l)).collect(),
            });
        };
        let Some(entries) = tree.as_map() else {
            return Err(doc_error(tree.line, "not a mapping of keys to values"));
        };
        let mut starts = Vec::with_capacity(entries.len());
        let mut line_based = true;
        for (key, value) in entries {
            let Some(name) = key.as_str() else {
                return Err(doc_error(key.line, "a key must be a string"));
            };
            let index = key.line.wrapping_sub(1);
            let ok = key.line > 0
                && index < lines.len()
                && starts.last().is_none_or(|&(last, _, _)| last < index)
                && split_head(lines[index]).is_some();
            if !ok {
                line_based = false;
                break;
            }
            starts.push((index, name, value));
        }
        if !line_based {
            return Ok(Document {
                pieces: entries
                    .iter()
                    .filter_map(|(k, v)| Some(Piece::Entry(Entry::new(k.as_str()?, v.clone()))))
                    .collect(),
            });
        }
        let mut pieces = Vec::new();
        let first = starts.first().map_or(lines.len(), |s| s.0);
        pieces.extend(lines[..first].iter().map(|l| between_piece(l)));
        for (i, &(start, key, value)) in starts.iter().enumerate() {
            let next = starts.get(i + 1).map_or(lines.len(), |s| s.0);
            let mut end = next;
            while end > start + 1 && is_between(lines[end - 1]) {
                end -= 1;
            }
            let first_line = lines[start];
            let at = split_head(first_line).unwrap_or(0);
            let mut body = first_line[at..].to_string();
            for line in &lines[start + 1..end] {
                body.push_str(line);
            }
            pieces.push(Piece::Entry(Entry {
                key: key.to_string(),
                head: first_line[..at].to_string(),
                body,
                value: value.clone(),
                line: start + 1,
            }));
            pieces.extend(lines[end..next].iter().map(|l| between_piece(l)));
        }
        Ok(Document { pieces })
    }

    /// The text: every piece in order.
    pub(crate) fn render(&self) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Other(text) => out.push_str(text),
                Piece::Comment { indent, text, eol } => {
                    out.push_str(indent);
                    out.push('#');
                    out.push_str(text);
                    out.push_str(eol);
                }
                Piece::Entry(entry) => {
                    out.push_str(&entry.head);
                    out.push_str(&entry.body);
                    if !entry.body.ends_with('\n') {
                        out.push('\n');
                    }
                }
            }
        }
        out
    }

    /// The entry under `key`.
    pub(crate) fn entry(&self, key: &str) -> Option<&Entry> {
        self.pieces.iter().find_map(|p| match p {
            Piece::Entry(e) if e.key == key => Some(e),
            _ => None,
        })
    }

    /// The entries in order.
    pub(crate) fn entries(&self) -> impl Iterator<Item = &Entry> {
        self.pieces.iter().filter_map(|p| match p {
            Piece::Entry(e) => Some(e),
            _ => None,
        })
    }

    /// Sets `key` to `value`: in place when present, else as a new entry after the last entry
    /// before `sops` (or at the end).
    pub(crate) fn set(&mut self, key: &str, value: Node) {
        for piece in &mut self.pieces {
            if let Piece::Entry(entry) = piece
                && entry.key == key
            {
                *entry = entry.with_body(Entry::body_for(key, &value), value);
                return;
            }
        }
        let position = self
            .pieces
            .iter()
            .rposition(|p| matches!(p, Piece::Entry(e) if e.key != "sops"))
            .map(|i| i + 1)
            .or_else(|| {
                self.pieces
                    .iter()
                    .position(|p| matches!(p, Piece::Entry(e) if e.key == "sops"))
            })
            .unwrap_or(self.pieces.len());
        // Keep a last line without a newline from swallowing the new entry.
        if position > 0
            && let Some(Piece::Other(text)) = self.pieces.get_mut(position - 1)
            && !text.ends_with('\n')
        {
            text.push('\n');
        }
        if position > 0
            && let Some(Piece::Comment { eol, .. }) = self.pieces.get_mut(position - 1)
            && eol.is_empty()
        {
            eol.push('\n');
        }
        self.pieces
            .insert(position, Piece::Entry(Entry::new(key, value)));
    }

    /// Removes `key`; true when it was there.
    pub(crate) fn remove(&mut self, key: &str) -> bool {
        let before = self.pieces.len();
        self.pieces
            .retain(|p| !matches!(p, Piece::Entry(e) if e.key == key));
        self.pieces.len() != before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# head\n\nuser: app\n# about pass\npass: \"x y\"  \ncert: |\n  a\n\n  # c\n  b\n\n# tail\nempty:\n";

    #[test]
    fn renders_back_byte_for_byte() {
        let doc = Document::parse(TEXT).unwrap();
        assert_eq!(doc.render(), TEXT);
        let keys: Vec<&str> = doc.entries().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["user", "pass", "cert", "empty"]);
        assert_eq!(doc.entry("cert").unwrap().body, " |\n  a\n\n  # c\n  b\n");
        assert_eq!(doc.entry("pass").unwrap().head, "pass:");
    }

    #[test]
    fn set_and_remove_touch_one_entry() {
        let mut doc = Document::parse(TEXT).unwrap();
        doc.set("user", Node::string("0080"));
        doc.remove("cert");
        doc.set("new", Node::string("v"));
        assert_eq!(
            doc.render(),
            "# head\n\nuser: \"0080\"\n# about pass\npass: \"x y\"  \n\n# tail\nempty:\nnew: v\n"
        );
    }

    #[test]
    fn new_keys_go_before_sops() {
        let mut doc = Document::parse("a: 1\nsops:\n    mac: x\n").unwrap();
        doc.set("b", Node::string("2"));
        assert_eq!(doc.render(), "a: 1\nb: \"2\"\nsops:\n    mac: x\n");
    }

    #[test]
    fn flow_style_is_rebuilt() {
        let doc = Document::parse("{a: 1, 'b': two}").unwrap();
        assert_eq!(doc.render(), "a: 1\nb: two\n");
    }

    #[test]
    fn quoted_keys_and_missing_final_newline() {
        let mut doc = Document::parse("\"a:b\": 1\n'it''s': 2").unwrap();
        assert_eq!(doc.entry("it's").unwrap().head, "'it''s':");
        doc.set("c", Node::string("3"));
        assert_eq!(doc.render(), "\"a:b\": 1\n'it''s': 2\nc: \"3\"\n");
    }
}
