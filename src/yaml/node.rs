//! The untyped YAML tree: scalars keep their text as written, maps keep their order.

use std::fmt;

/// How a scalar was written, which decides how it is written back.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Style {
    /// A plain scalar as written in a document; emitted as written when that is safe.
    Plain,
    /// A quoted or block scalar in a document, or a string we made: always a string.
    Str,
}

/// The content of a [`Node`].
#[derive(Clone, PartialEq)]
pub enum Value {
    /// A scalar: its text after YAML unescaping/folding, exactly as the document spelt it.
    Scalar {
        /// The scalar text.
        text: String,
        /// How it was written.
        style: Style,
    },
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order.
    Map(Vec<(Node, Node)>),
}

/// One YAML node with its tag and the line it started on (1-based; 0 for nodes we made).
#[derive(Clone, PartialEq)]
pub struct Node {
    /// The content.
    pub value: Value,
    /// The tag as written, shortened: `!!binary`, `!custom`; `None` without a tag.
    pub tag: Option<String>,
    /// The 1-based line where the node starts, 0 when unknown.
    pub line: usize,
}

impl fmt::Debug for Node {
    /// Prints the shape only: scalar text may be a secret value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Value::Scalar { text, .. } => write!(f, "Scalar(<{} bytes>)", text.len()),
            Value::Seq(items) => f.debug_list().entries(items).finish(),
            Value::Map(entries) => write!(f, "Map(<{} entries>)", entries.len()),
        }
    }
}

impl Node {
    /// A string scalar, emitted plain when that is unambiguous and quoted otherwise.
    pub fn string(text: impl Into<String>) -> Node {
        Node::new(Value::Scalar {
            text: text.into(),
            style: Style::Str,
        })
    }

    /// A plain scalar (numbers, booleans, null) emitted exactly as given.
    pub fn plain(text: impl Into<String>) -> Node {
        Node::new(Value::Scalar {
            text: text.into(),
            style: Style::Plain,
        })
    }

    /// A mapping from string keys.
    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Node)>) -> Node {
        Node::new(Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (Node::string(k), v))
                .collect(),
        ))
    }

    /// A sequence.
    pub fn seq(items: impl IntoIterator<Item = Node>) -> Node {
        Node::new(Value::Seq(items.into_iter().collect()))
    }

    fn new(value: Value) -> Node {
        Node {
            value,
            tag: None,
            line: 0,
        }
    }

    /// The scalar text, if this is a scalar.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The entries, if this is a mapping.
    pub fn as_map(&self) -> Option<&[(Node, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The entries for mutation, if this is a mapping.
    pub fn as_map_mut(&mut self) -> Option<&mut Vec<(Node, Node)>> {
        match &mut self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The items, if this is a sequence.
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// True for a null: an untagged plain `~`, `null`, `Null`, `NULL` or empty scalar.
    pub fn is_null(&self) -> bool {
        match &self.value {
            Value::Scalar {
                text,
                style: Style::Plain,
            } if self.tag.is_none() => {
                matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL")
            }
            _ => false,
        }
    }

    /// The value under a string key of a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// The value under a string key of a mapping, for mutation.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Node> {
        self.as_map_mut()?
            .iter_mut()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// Follows a path of string keys; `None` when any step is missing or not a mapping.
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |node, key| node.get(key))
    }

    /// The string at a path of keys, when it is a scalar.
    pub fn str_at(&self, keys: &[&str]) -> Option<&str> {
        self.path(keys)?.as_str()
    }

    /// Sets `key` in a mapping (replacing in place or appending). Does nothing on a non-mapping.
    pub fn set(&mut self, key: &str, value: Node) {
        if let Some(entries) = self.as_map_mut() {
            match entries.iter_mut().find(|(k, _)| k.as_str() == Some(key)) {
                Some((_, v)) => *v = value,
                None => entries.push((Node::string(key), value)),
            }
        }
    }

    /// Removes `key` from a mapping, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Node> {
        let entries = self.as_map_mut()?;
        let pos = entries.iter().position(|(k, _)| k.as_str() == Some(key))?;
        Some(entries.remove(pos).1)
    }

    /// Converts a JSON value (how serde-typed objects such as k8s-openapi types reach us).
    pub fn from_json(value: &serde_json::Value) -> Node {
        use serde_json::Value as J;
        match value {
            J::Null => Node::plain("null"),
            J::Bool(b) => Node::plain(b.to_string()),
            J::Number(n) => Node::plain(n.to_string()),
            J::String(s) => Node::string(s.clone()),
            J::Array(items) => Node::seq(items.iter().map(Node::from_json)),
            J::Object(map) => Node::map(map.iter().map(|(k, v)| (k.clone(), Node::from_json(v)))),
        }
    }
}
