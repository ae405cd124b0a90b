//! Integration tests of `kubevault::sops`: reference vectors made by the real sops, kvstore-style
//! fixtures made by sops 3.11 (`tests/fixtures/sops/make.sh`), tampering, and key lookup.

use std::path::{Path, PathBuf};

use kubevault::sops::{Identities, SopsError, decrypt, is_encrypted, load_identities};
use kubevault::yaml::{Limits, Node, Style, Value, parse_stream};

const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/testdata/sops");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sops");
const VECTOR_CASES: [&str; 7] = [
    "empty_value",
    "encrypted_regex",
    "encrypted_suffix",
    "example",
    "mac_only_encrypted",
    "unencrypted_regex",
    "unencrypted_suffix",
];

fn read(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parse(text: &str) -> Node {
    let mut docs = parse_stream(text, &Limits::default()).expect("valid YAML");
    assert_eq!(docs.len(), 1, "one document");
    docs.remove(0)
}

fn vector(case: &str) -> String {
    read(format!("{VECTORS}/age_{case}.yaml"))
}

fn vector_keys() -> Identities {
    Identities::parse(&read(format!("{VECTORS}/keys.txt")), "keys.txt").unwrap()
}

fn fixture_keys() -> Identities {
    Identities::parse(&read(format!("{FIXTURES}/keys.txt")), "keys.txt").unwrap()
}

/// The tree without lines: what a value comparison should look at.
fn shape(node: &Node) -> Node {
    let value = match &node.value {
        Value::Scalar { text, style } => Value::Scalar {
            text: text.clone(),
            style: *style,
        },
        Value::Seq(items) => Value::Seq(items.iter().map(shape).collect()),
        Value::Map(entries) => {
            Value::Map(entries.iter().map(|(k, v)| (shape(k), shape(v))).collect())
        }
    };
    Node {
        value,
        tag: node.tag.clone(),
        line: 0,
    }
}

/// Scalars compared by text and by whether YAML reads them as strings; sops' emitter quotes
/// differently from the source, so `''` vs `""` vs plain strings must not matter.
fn normalized(node: &Node) -> Node {
    let mut node = shape(node);
    fn fix(node: &mut Node) {
        match &mut node.value {
            Value::Scalar { text, style } => {
                let typed_plain = *style == Style::Plain
                    && node.tag.is_none()
                    && (text.is_empty()
                        || ["~", "null", "true", "false"].contains(&text.as_str())
                        || text.parse::<f64>().is_ok());
                *style = if typed_plain {
                    Style::Plain
                } else {
                    Style::Str
                };
            }
            Value::Seq(items) => items.iter_mut().for_each(fix),
            Value::Map(entries) => entries.iter_mut().for_each(|(k, v)| {
                fix(k);
                fix(v)
            }),
        }
    }
    fix(&mut node);
    node
}

fn decrypt_text(text: &str, keys: &Identities) -> Result<Node, SopsError> {
    decrypt(&parse(text), keys)
}

#[test]
fn every_reference_vector_decrypts_to_its_plaintext() {
    let keys = vector_keys();
    for case in VECTOR_CASES {
        let doc = parse(&vector(case));
        assert!(is_encrypted(&doc), "{case}");
        let plain = decrypt(&doc, &keys).unwrap_or_else(|e| panic!("{case}: {e}"));
        let expected = parse(&read(format!("{VECTORS}/age_{case}_plaintext.yaml")));
        assert!(!is_encrypted(&plain), "{case}: sops key removed");
        assert_eq!(normalized(&plain), normalized(&expected), "{case}");
    }
}
