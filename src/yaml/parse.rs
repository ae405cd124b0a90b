//! Builds [`Node`] trees from `yaml-rust2` events, with caps on depth and alias expansion.

use std::collections::HashMap;
use std::fmt;

use yaml_rust2::parser::{Event, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

use super::node::{Node, Style, Value};

/// What one node costs in the alias-expansion budget besides its text: roughly its size in
/// memory, so the budget bounds memory, not just text.
pub const NODE_COST: usize = 64;

/// Caps that keep hostile documents from eating the stack or memory.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Deepest nesting of sequences and mappings.
    pub max_depth: usize,
    /// Most bytes that aliases may add by expansion: scalar text plus [`NODE_COST`] per node.
    pub max_alias_expansion: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: crate::limits::DEFAULT_MAX_DEPTH,
            max_alias_expansion: crate::limits::RESOURCE_LIST_MAX_ALIAS_EXPANSION,
        }
    }
}

/// A syntax error or a broken cap, with the 1-based line. Never holds document content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YamlError {
    /// 1-based line of the problem.
    pub line: usize,
    /// What is wrong, without any text of the document.
    pub message: String,
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for YamlError {}

enum Frame {
    Seq {
        node: Node,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        node: Node,
        anchor: usize,
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
    },
}

/// What the parser saw besides the tree, for warnings about what YAML silently drops: each a
/// position (1-based line, 0-based column in characters), in document order. Holds no text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Notes {
    /// Where each comment starts (its `#`).
    pub comments: Vec<(usize, usize)>,
    /// Where each plain scalar starts that a comment (` #...`) ends on its own line, as in
    /// `password: hunter2 #42`.
    pub plain_before_comment: Vec<(usize, usize)>,
    /// Where each empty node with an anchor and no tag is, as in `a: &hunter2`.
    pub anchor_without_value: Vec<(usize, usize)>,
}

fn at(mark: &Marker) -> (usize, usize) {
    (mark.line(), mark.col())
}

/// Parses every document of a YAML stream. An empty stream gives no documents; a lone `---`
/// gives one document holding an empty plain scalar.
pub fn parse_stream(text: &str, limits: &Limits) -> Result<Vec<Node>, YamlError> {
    parse(text, limits, None)
}

/// [`parse_stream`], also reporting comments and anchors without a value ([`Notes`]).
pub fn parse_stream_noted(text: &str, limits: &Limits) -> Result<(Vec<Node>, Notes), YamlError> {
    let mut notes = Notes::default();
    let docs = parse(text, limits, Some(&mut notes))?;
    Ok((docs, notes))
}

fn parse(
    text: &str,
    limits: &Limits,
    mut notes: Option<&mut Notes>,
) -> Result<Vec<Node>, YamlError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    check_printable(text)?;
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, (Node, usize)> = HashMap::new();
    let mut expanded = 0usize;
    loop {
        let (event, mark) = parser.next_token().map_err(|e| YamlError {
            line: within(text, e.marker().line()),
            message: scan_message(&e.to_string()),
        })?;
        let line = mark.line();
        let (node, anchor) = match event {
            Event::StreamEnd => {
                if let Some(notes) = notes.as_deref_mut() {
                    notes.comments = parser.comments().iter().map(at).collect();
                    notes.plain_before_comment =
                        parser.plain_before_comment().iter().map(at).collect();
                }
                return Ok(docs);
            }
            Event::DocumentStart => {
                anchors.clear();
                continue;
            }
            Event::Scalar(text, style, anchor, tag) => {
                let style = if style == TScalarStyle::Plain {
                    Style::Plain
                } else {
                    Style::Str
                };
                if anchor > 0
                    && tag.is_none()
                    && style == Style::Plain
                    && text.is_empty()
                    && let Some(notes) = notes.as_deref_mut()
                {
                    notes.anchor_without_value.push(at(&mark));
                }
                (leaf(Value::Scalar { text, style }, tag, line), anchor)
            }
            Event::Alias(id) => {
                let Some((node, weight)) = anchors.get(&id) else {
                    return Err(YamlError {
                        line,
                        message: "alias to an unknown anchor".into(),
                    });
                };
                expanded += weight;
                if expanded > limits.max_alias_expansion {
                    return Err(YamlError {
                        line,
                        message: format!(
                            "aliases expand to more than {} bytes",
                            limits.max_alias_expansion
                        ),
                    });
                }
                let mut node = node.clone();
                node.line = line;
                (node, 0)
            }
            Event::SequenceStart(anchor, tag) => {
                push(
                    &mut stack,
                    limits,
                    mark,
                    Frame::Seq {
                        node: leaf(Value::Seq(Vec::new()), tag, line),
                        anchor,
                        items: Vec::new(),
                    },
                )?;
                continue;
            }
            Event::MappingStart(anchor, tag) => {
                push(
                    &mut stack,
                    limits,
                    mark,
                    Frame::Map {
                        node: leaf(Value::Map(Vec::new()), tag, line),
                        anchor,
                        entries: Vec::new(),
                        key: None,
                    },
                )?;
                continue;
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(Frame::Seq {
                    mut node,
                    anchor,
                    items,
                }) => {
                    node.value = Value::Seq(items);
                    (node, anchor)
                }
                Some(Frame::Map {
                    mut node,
                    anchor,
                    entries,
                    ..
                }) => {
                    node.value = Value::Map(entries);
                    (node, anchor)
                }
                None => continue,
            },
            Event::Nothing | Event::StreamStart | Event::DocumentEnd => continue,
        };
        if anchor > 0 {
            let weight = weight(&node);
            anchors.insert(anchor, (node.clone(), weight));
        }
        match stack.last_mut() {
            None => docs.push(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { entries, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => entries.push((k, node)),
            },
        }
    }
}

/// An error the scanner places at the end of the stream, past the last line (an unclosed
/// flow collection, a key without `:`), is reported on the last line with content.
fn within(text: &str, line: usize) -> usize {
    let lines = text.lines().count();
    if line <= lines {
        return line;
    }
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .last()
        .map_or(line, |(i, _)| i + 1)
}

/// YAML 1.2 allows only printable characters in a stream (`c-printable`): no NUL or other
/// control characters but tab, LF and CR (and NEL), no U+FFFE/U+FFFF.
fn check_printable(text: &str) -> Result<(), YamlError> {
    let printable = |c: char| {
        matches!(c, '\t' | '\n' | '\r' | '\u{85}')
            || (' '..='~').contains(&c)
            || ('\u{a0}'..='\u{fffd}').contains(&c)
            || c >= '\u{10000}'
    };
    match text.char_indices().find(|&(_, c)| !printable(c)) {
        None => Ok(()),
        Some((at, c)) => Err(YamlError {
            line: 1 + text[..at].bytes().filter(|&b| b == b'\n').count(),
            message: format!(
                "control character U+{:04X} is not allowed in YAML (write binary values as `!!binary` base64)",
                c as u32
            ),
        }),
    }
}

fn push(
    stack: &mut Vec<Frame>,
    limits: &Limits,
    mark: Marker,
    frame: Frame,
) -> Result<(), YamlError> {
    if stack.len() >= limits.max_depth {
        return Err(YamlError {
            line: mark.line(),
            message: format!("nested deeper than {} levels", limits.max_depth),
        });
    }
    stack.push(frame);
    Ok(())
}

fn leaf(value: Value, tag: Option<Tag>, line: usize) -> Node {
    Node {
        value,
        tag: tag.map(short_tag),
        line,
    }
}

/// The tag as kubevault compares it: standard tags as `!!name` however they were spelt
/// (`!!str`, `!<tag:yaml.org,2002:str>`, a `%TAG` handle for `tag:yaml.org,2002:`), the
/// non-specific `!` as `!`, other verbatim tags as `!<uri>`, others expanded.
fn short_tag(tag: Tag) -> String {
    const STANDARD: &str = "tag:yaml.org,2002:";
    if tag.handle == STANDARD {
        format!("!!{}", tag.suffix)
    } else if tag.handle.is_empty() && tag.suffix.starts_with(STANDARD) {
        format!("!!{}", &tag.suffix[STANDARD.len()..])
    } else if tag.handle.is_empty() && tag.suffix == "!" {
        "!".to_string()
    } else if tag.handle.is_empty() {
        // A verbatim tag `!<uri>`: keep the brackets, or it would be written back as plain text.
        format!("!<{}>", tag.suffix)
    } else {
        format!("{}{}", tag.handle, tag.suffix)
    }
}

/// Scalar bytes plus [`NODE_COST`] per node: what cloning this node for an alias costs.
fn weight(node: &Node) -> usize {
    NODE_COST
        + match &node.value {
            Value::Scalar { text, .. } => text.len(),
            Value::Seq(items) => items.iter().map(weight).sum(),
            Value::Map(entries) => entries.iter().map(|(k, v)| weight(k) + weight(v)).sum(),
        }
}

/// The scanner's message without its position suffix (we report the line ourselves).
fn scan_message(full: &str) -> String {
    full.split(" at byte ").next().unwrap_or(full).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Node {
        let mut docs = parse_stream(text, &Limits::default()).unwrap();
        assert_eq!(docs.len(), 1);
        docs.remove(0)
    }

    #[test]
    fn scalars_keep_their_text() {
        let doc = one("port: 5432\nv: 1.10\npin: 0123\nbare:\nt: ~\nb: !!binary aGk=\n");
        let texts: Vec<_> = doc
            .as_map()
            .unwrap()
            .iter()
            .map(|(_, v)| v.as_str().unwrap())
            .collect();
        assert_eq!(texts, ["5432", "1.10", "0123", "", "~", "aGk="]);
        assert_eq!(doc.get("b").unwrap().tag.as_deref(), Some("!!binary"));
        assert_eq!(doc.get("v").unwrap().line, 2);
    }

    #[test]
    fn aliases_expand_within_budget() {
        let doc = one("a: &x hello\nb: *x\n");
        assert_eq!(doc.get("b").unwrap().as_str(), Some("hello"));
        let mut laughs = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        for (i, c) in ('b'..='j').enumerate() {
            let p = (b'a' + i as u8) as char;
            laughs.push_str(&format!(
                "{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
            ));
        }
        let err = parse_stream(&laughs, &Limits::default()).unwrap_err();
        assert!(err.message.contains("aliases expand"), "{err}");
    }

    #[test]
    fn verbatim_tags_keep_their_form() {
        // Found by the resource_list fuzz target: `!<a:b>` came back as the plain text `a:b`.
        let doc = one("k: !<tag:x,2024:a> {b: c}\n");
        assert_eq!(
            doc.get("k").unwrap().tag.as_deref(),
            Some("!<tag:x,2024:a>")
        );
        let out = crate::yaml::emit_document(&doc);
        assert_eq!(
            one(&out).get("k").unwrap().tag.as_deref(),
            Some("!<tag:x,2024:a>")
        );
    }

    #[test]
    fn depth_is_capped() {
        let deep = "[".repeat(200) + &"]".repeat(200);
        let err = parse_stream(&deep, &Limits::default()).unwrap_err();
        assert!(err.message.contains("nested deeper"), "{err}");
    }

    #[test]
    fn streams_and_errors() {
        assert!(parse_stream("", &Limits::default()).unwrap().is_empty());
        assert_eq!(
            parse_stream("a: 1\n---\nb: 2\n", &Limits::default())
                .unwrap()
                .len(),
            2
        );
        let err = parse_stream("a: 1\nb: [\n", &Limits::default()).unwrap_err();
        assert!(err.line >= 2, "{err}");
    }
}
