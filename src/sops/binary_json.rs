//! sops' binary format on the way out: the JSON document sops' binary store holds, turned into
//! the block YAML of the same tree (so the one writer, [`super::Opened`], seals and MACs it as it
//! does every YAML file) and back into JSON as sops writes it (tab-indented, fields in order,
//! `true`/`false` and integers untyped back to JSON booleans and numbers). The tree is the same
//! both ways, so the values' additional data (`data:`) and the MAC are the ones sops computes.

use crate::yaml::{Limits, Node, Style, Value, parse_stream};

use super::write::WriteError;

fn bad(message: impl Into<String>) -> WriteError {
    WriteError::Document {
        line: 0,
        message: message.into(),
    }
}

/// The block YAML of a binary-format document (`{"data": ..., "sops": {...}}`).
pub fn json_to_block(json: &str) -> Result<String, WriteError> {
    let value: serde_json::Value = serde_json::from_str(json)
        .map_err(|e| bad(format!("not the JSON of sops' binary format: {e}")))?;
    let map = value
        .as_object()
        .ok_or_else(|| bad("not the JSON of sops' binary format: not an object"))?;
    let mut out = String::new();
    emit_map(&mut out, 0, map);
    Ok(out)
}

fn key_text(key: &str) -> String {
    if !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        key.to_string()
    } else {
        serde_json::Value::from(key).to_string()
    }
}

fn scalar_text(value: &serde_json::Value) -> String {
    match value {
        // A JSON string literal is a YAML double-quoted scalar with the same escapes.
        serde_json::Value::String(_)
        | serde_json::Value::Number(_)
        | serde_json::Value::Bool(_) => value.to_string(),
        _ => "null".into(),
    }
}

fn emit_map(out: &mut String, indent: usize, map: &serde_json::Map<String, serde_json::Value>) {
    let pad = " ".repeat(indent);
    for (key, value) in map {
        let key = key_text(key);
        match value {
            serde_json::Value::Object(inner) if !inner.is_empty() => {
                out.push_str(&format!("{pad}{key}:\n"));
                emit_map(out, indent + 4, inner);
            }
            serde_json::Value::Array(items) if !items.is_empty() => {
                out.push_str(&format!("{pad}{key}:\n"));
                emit_items(out, indent + 4, items);
            }
            serde_json::Value::Object(_) => out.push_str(&format!("{pad}{key}: {{}}\n")),
            serde_json::Value::Array(_) => out.push_str(&format!("{pad}{key}: []\n")),
            scalar => out.push_str(&format!("{pad}{key}: {}\n", scalar_text(scalar))),
        }
    }
}

fn emit_items(out: &mut String, indent: usize, items: &[serde_json::Value]) {
    let pad = " ".repeat(indent);
    for item in items {
        match item {
            serde_json::Value::Object(map) if !map.is_empty() => {
                // The map at `indent + 2`, its first line starting with `- `.
                let mut inner = String::new();
                emit_map(&mut inner, indent + 2, map);
                out.push_str(&pad);
                out.push_str("- ");
                out.push_str(&inner[indent + 2..]);
            }
            serde_json::Value::Array(nested) if !nested.is_empty() => {
                out.push_str(&format!("{pad}-\n"));
                emit_items(out, indent + 4, nested);
            }
            serde_json::Value::Object(_) => out.push_str(&format!("{pad}- {{}}\n")),
            serde_json::Value::Array(_) => out.push_str(&format!("{pad}- []\n")),
            scalar => out.push_str(&format!("{pad}- {}\n", scalar_text(scalar))),
        }
    }
}

/// The JSON sops' binary store reads, from the block YAML the writer produced.
pub fn block_to_json(yaml: &str) -> Result<String, WriteError> {
    let doc = parse_stream(yaml, &Limits::default())
        .map_err(|e| bad(format!("cannot read back the written document: {e}")))?
        .into_iter()
        .next()
        .ok_or_else(|| bad("cannot read back the written document: empty"))?;
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    serde::Serialize::serialize(&to_json(&doc), &mut serializer)
        .map_err(|e| bad(format!("cannot write JSON: {e}")))?;
    let mut text = String::from_utf8(out).map_err(|_| bad("cannot write JSON: not UTF-8"))?;
    text.push('\n');
    Ok(text)
}

fn to_json(node: &Node) -> serde_json::Value {
    match &node.value {
        Value::Map(entries) => serde_json::Value::Object(
            entries
                .iter()
                .map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), to_json(v)))
                .collect(),
        ),
        Value::Seq(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
        Value::Scalar {
            text,
            style: Style::Plain,
        } => match text.as_str() {
            "true" => true.into(),
            "false" => false.into(),
            "" | "null" | "~" => serde_json::Value::Null,
            t if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) => t
                .parse::<u64>()
                .map_or_else(|_| t.into(), serde_json::Value::from),
            t => t.into(),
        },
        Value::Scalar { text, .. } => text.as_str().into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_block_yaml_carry_the_same_tree() {
        let json = "{\n\t\"data\": \"ENC[AES256_GCM,data:x,iv:y,tag:z,type:str]\",\n\t\"sops\": {\n\t\t\"age\": [\n\t\t\t{\n\t\t\t\t\"recipient\": \"age1abc\",\n\t\t\t\t\"enc\": \"-----BEGIN AGE ENCRYPTED FILE-----\\nYWdl\\n-----END AGE ENCRYPTED FILE-----\\n\"\n\t\t\t}\n\t\t],\n\t\t\"lastmodified\": \"2026-12-02T13:30:00Z\",\n\t\t\"mac\": \"ENC[AES256_GCM,data:m,iv:i,tag:t,type:str]\",\n\t\t\"mac_only_encrypted\": true,\n\t\t\"shamir_threshold\": 1,\n\t\t\"unencrypted_suffix\": \"_unencrypted\",\n\t\t\"version\": \"3.11.0\"\n\t}\n}\n";
        let block = json_to_block(json).unwrap();
        assert!(block.starts_with("data: \"ENC[AES256_GCM"), "{block}");
        assert!(
            block.contains(
                "\n    age:\n        - recipient: \"age1abc\"\n          enc: \"-----BEGIN"
            ),
            "{block}"
        );
        let back = block_to_json(&block).unwrap();
        let a: serde_json::Value = serde_json::from_str(json).unwrap();
        let b: serde_json::Value = serde_json::from_str(&back).unwrap();
        assert_eq!(a, b);
        assert_eq!(back, json);
    }

    #[test]
    fn odd_keys_and_nesting_survive() {
        let json = r#"{"a b": {"x": [1, "2", [true], {}], "y": []}, "z": null}"#;
        let back = block_to_json(&json_to_block(json).unwrap()).unwrap();
        let a: serde_json::Value = serde_json::from_str(json).unwrap();
        let b: serde_json::Value = serde_json::from_str(&back).unwrap();
        assert_eq!(a, b);
    }
}
