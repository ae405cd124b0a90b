//! SOPS's binary format.
//!
//! `sops encrypt -i` on a file whose name has no `.yaml`/`.yml`/`.json`/`.env`/`.ini` extension
//! uses sops' *binary* store: the whole plaintext file becomes the one string value `data` of a
//! JSON document next to the `sops` metadata. Such a file must render as the secret file it was
//! before encryption, so [`is_binary_format`] recognises it (by name and shape, as sops decides
//! by the name) and [`binary_text`] gives the decrypted text back.

use crate::yaml::{Node, Value};

/// Extensions for which sops picks a structured store, never the binary one.
const STRUCTURED: [&str; 5] = [".yaml", ".yml", ".json", ".env", ".ini"];

/// True when an encrypted secret file is in sops' binary format: a JSON document (sops writes
/// the binary store as JSON) holding exactly `data` and `sops`, in a file whose name sops would
/// not give a structured store.
pub fn is_binary_format(rel: &str, bytes: &[u8], doc: &Node) -> bool {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    if STRUCTURED.iter().any(|ext| name.ends_with(ext)) {
        return false;
    }
    let json = bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{');
    let Some(entries) = doc.as_map() else {
        return false;
    };
    json && entries.len() == 2
        && entries.iter().any(|(k, _)| k.as_str() == Some("data"))
        && entries.iter().any(|(k, _)| k.as_str() == Some("sops"))
}

/// The plaintext of a decrypted binary-format document: its `data` string.
pub fn binary_text(plain: &Node) -> Option<&str> {
    match &plain.get("data")?.value {
        Value::Scalar { text, .. } if plain.get("data")?.tag.is_none() => Some(text),
        _ => None,
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
    fn binary_format_is_told_by_name_and_shape() {
        let json = "{\n\t\"data\": \"ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\",\n\t\"sops\": {\"mac\": \"m\"}\n}\n";
        let table = [
            ("kvstore/shared/tls", json, true),
            ("kvstore/shared/tls.txt", json, true),
            ("kvstore/shared/tls.json", json, false),
            ("kvstore/shared/tls.yaml", json, false),
            ("kvstore/a", "data: ENC[x]\nsops:\n  mac: m\n", false),
            (
                "kvstore/a",
                "{\"data\": \"ENC[x]\", \"other\": \"ENC[y]\", \"sops\": {\"mac\": \"m\"}}",
                false,
            ),
        ];
        for (rel, text, want) in table {
            assert_eq!(
                is_binary_format(rel, text.as_bytes(), &doc(text)),
                want,
                "{rel} {text}"
            );
        }
    }
}
