//! The only place that reads or writes YAML.
//!
//! kubevault keeps YAML as an untyped [`Node`] tree that remembers each scalar's text exactly as
//! written, its style and its tag, and the line it started on. That gives the secret-file rules of the
//! SPEC (`pin: 0123` is the text `0123`), error messages with line numbers, and pass-through of items
//! without rewriting their numbers (`1.10` stays `1.10`), which `serde_yaml::Value` cannot do.
//! Parsing is driven by `yaml-rust2` events (`parse.rs`); writing is our own block-style emitter
//! (`emit.rs`) that quotes every string YAML 1.1 or 1.2 could read as something else.
//!
//! Scalars may hold secret values, so nothing here implements `Debug` in a way that prints them.

mod emit;
mod fast;
mod node;
mod object;
mod parse;

pub use emit::{BlockWriter, emit_document, emit_document_into, emit_seq_item_into, emit_stream};
pub use fast::{
    SOPS_DEPTH, Skimmer, fast_path_agrees, parse_document, parse_items, parse_nested_document,
};
pub use node::{Node, Style, Value};
pub use parse::{Limits, NODE_COST, Notes, YamlError, parse_stream, parse_stream_noted};
