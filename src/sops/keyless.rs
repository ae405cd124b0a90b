//! Reading an encrypted file without a key (SPEC §9: the private key is needed only to see or
//! change values). [`without_key`] checks what can be checked without one — the `sops` metadata
//! parses, its age entries are within bounds — and gives the document's clear-text structure:
//! every entry but `sops`, each encrypted value (`ENC[...]`) blanked (the model of `check` and
//! the questions) or kept as ciphertext (the review commands, which compare but never print it).

use super::SopsError;
use super::header;
use super::keys;
use super::metadata::Metadata;
use crate::yaml::{Node, Value};

/// What [`without_key`] makes of each encrypted value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keyless {
    /// An empty string: every check that does not depend on a value answers as on the
    /// decrypted tree.
    Blank,
    /// The `ENC[...]` text as stored: two versions of a value can be compared.
    Ciphertext,
}

/// The checks of an encrypted file that need no key: its `sops` metadata parses and its age
/// entries are within bounds.
pub fn check_without_key(doc: &Node) -> Result<(), SopsError> {
    let Some(sops) = doc.get("sops").filter(|sops| sops.as_map().is_some()) else {
        return Err(SopsError::NotEncrypted);
    };
    let metadata = Metadata::parse(sops)?;
    keys::check_bounds(&metadata.age, &mut header::Work::default())
}

/// An encrypted document read without a key, after [`check_without_key`]: every entry but
/// `sops`, encrypted values as `values` says. Key names, nesting, tags and values sops left in
/// clear stay as they are.
pub fn without_key(doc: &Node, values: Keyless) -> Result<Node, SopsError> {
    check_without_key(doc)?;
    Ok(keys_only(doc, values))
}

fn keys_only(doc: &Node, values: Keyless) -> Node {
    fn blank(node: &Node, values: Keyless) -> Node {
        let value = match &node.value {
            Value::Scalar { text, .. } if values == Keyless::Blank && text.starts_with("ENC[") => {
                Value::Scalar {
                    text: String::new(),
                    style: crate::yaml::Style::Str,
                }
            }
            Value::Scalar { .. } => node.value.clone(),
            Value::Seq(items) => Value::Seq(items.iter().map(|n| blank(n, values)).collect()),
            Value::Map(entries) => Value::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), blank(v, values)))
                    .collect(),
            ),
        };
        Node {
            value,
            tag: node.tag.clone(),
            line: node.line,
        }
    }
    let entries = doc
        .as_map()
        .map(|entries| {
            entries
                .iter()
                .filter(|(k, _)| k.as_str() != Some("sops"))
                .map(|(k, v)| (k.clone(), blank(v, values)))
                .collect()
        })
        .unwrap_or_default();
    Node {
        value: Value::Map(entries),
        tag: doc.tag.clone(),
        line: doc.line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{Limits, parse_stream};

    fn doc(text: &str) -> Node {
        parse_stream(text, &Limits::default()).unwrap().remove(0)
    }

    #[test]
    fn encrypted_values_blanked_or_kept_and_sops_dropped() {
        let d = doc(
            "a: ENC[AES256_GCM,data:x]\nb_unencrypted: clear\nc:\n  d: ENC[x]\nsops:\n  mac: m\n",
        );
        let blank = keys_only(&d, Keyless::Blank);
        let entries = blank.as_map().unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].1.as_str(), Some(""));
        assert_eq!(entries[1].1.as_str(), Some("clear"));
        assert_eq!(entries[2].1.get("d").unwrap().as_str(), Some(""));
        let kept = keys_only(&d, Keyless::Ciphertext);
        let entries = kept.as_map().unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].1.as_str(), Some("ENC[AES256_GCM,data:x]"));
        assert_eq!(entries[2].1.get("d").unwrap().as_str(), Some("ENC[x]"));
    }

    #[test]
    fn a_document_without_sops_metadata_is_refused() {
        for text in ["a: 1\n", "a: 1\nsops: x\n", "- a\n"] {
            assert!(matches!(
                without_key(&doc(text), Keyless::Blank),
                Err(SopsError::NotEncrypted)
            ));
        }
    }
}
