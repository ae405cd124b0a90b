//! ESO objects as JSON and checked against the `v1` `openAPIV3Schema` of the ESO CRDs in
//! `tests/fixtures/eso/`, each object schema closed (`additionalProperties: false`, as the API
//! server prunes unknown fields), so a misspelt field fails too. Also YAML output as JSON.

use std::path::Path;

use kubevault::yaml::{Limits, Node, Style, Value, parse_stream};
use serde_json::Value as Json;

const ESO_CRDS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/eso");

/// YAML tree → JSON, reading plain scalars as YAML 1.2 core types.
pub fn to_json(node: &Node) -> Json {
    match &node.value {
        Value::Scalar { text, style } => {
            if *style == Style::Str || node.tag.as_deref() == Some("!!str") {
                return Json::String(text.clone());
            }
            match text.as_str() {
                "" | "~" | "null" => Json::Null,
                "true" => Json::Bool(true),
                "false" => Json::Bool(false),
                t => t
                    .parse::<i64>()
                    .map(Json::from)
                    .or_else(|_| t.parse::<f64>().map(Json::from))
                    .unwrap_or_else(|_| Json::String(t.to_string())),
            }
        }
        Value::Seq(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => Json::Object(
            entries
                .iter()
                .map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), to_json(v)))
                .collect(),
        ),
    }
}

/// Every non-empty document of a YAML stream, as JSON.
pub fn docs(text: &str) -> Vec<Json> {
    parse_stream(text, &Limits::default())
        .unwrap()
        .iter()
        .filter(|d| !d.is_null())
        .map(to_json)
        .collect()
}

/// Structural-schema pruning as a JSON-schema rule: every object schema with `properties` (and
/// no `additionalProperties` or preserve-unknown-fields) rejects other fields.
fn close_objects(schema: &mut Json) {
    match schema {
        Json::Object(map) => {
            if map.contains_key("properties")
                && !map.contains_key("additionalProperties")
                && !map.contains_key("x-kubernetes-preserve-unknown-fields")
            {
                map.insert("additionalProperties".into(), Json::Bool(false));
            }
            map.values_mut().for_each(close_objects);
        }
        Json::Array(items) => items.iter_mut().for_each(close_objects),
        _ => {}
    }
}

/// The `v1` `openAPIV3Schema` of the CRD of `file` (in `tests/fixtures/eso`), whose kind is `kind`.
fn crd_schema(file: &str, kind: &str) -> Json {
    let text = std::fs::read_to_string(Path::new(ESO_CRDS).join(file)).unwrap();
    let crd = docs(&text).remove(0);
    assert_eq!(crd["spec"]["names"]["kind"], kind);
    let version = crd["spec"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "v1")
        .expect("a v1 version");
    assert_eq!(version["served"], true);
    version["schema"]["openAPIV3Schema"].clone()
}

fn external_secret_schema() -> Json {
    crd_schema("external-secrets.io_externalsecrets.yaml", "ExternalSecret")
}

/// The closed `v1` schema of an ESO kind.
pub fn schema(kind: &str) -> Json {
    let mut schema = match kind {
        "SecretStore" => crd_schema("external-secrets.io_secretstores.yaml", kind),
        "ClusterSecretStore" => crd_schema("external-secrets.io_clustersecretstores.yaml", kind),
        "ExternalSecret" => external_secret_schema(),
        "ClusterExternalSecret" => cluster_external_secret_schema(),
        other => panic!("no ESO schema for {other}"),
    };
    close_objects(&mut schema);
    schema
}

/// What the schema of `doc`'s kind finds wrong with it (empty when it is valid).
pub fn schema_errors(doc: &Json) -> Vec<String> {
    assert_eq!(doc["apiVersion"], "external-secrets.io/v1");
    let kind = doc["kind"].as_str().unwrap();
    jsonschema::validator_for(&schema(kind))
        .unwrap()
        .iter_errors(doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// The ClusterExternalSecret `v1` schema: ESO's `ClusterExternalSecretSpec` wraps the very
/// `ExternalSecretSpec` (`externalSecretSpec`); the fixtures hold only the ExternalSecret CRD, so
/// the wrapper's fields are written here as ESO's v1 CRD declares them.
fn cluster_external_secret_schema() -> Json {
    let spec = external_secret_schema()["properties"]["spec"].clone();
    let string_map =
        serde_json::json!({"type": "object", "additionalProperties": {"type": "string"}});
    let dns_subdomain = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";
    let selector = serde_json::json!({
        "type": "object",
        "properties": {
            "matchExpressions": {"type": "array", "items": {
                "type": "object",
                "required": ["key", "operator"],
                "properties": {
                    "key": {"type": "string"},
                    "operator": {"type": "string"},
                    "values": {"type": "array", "items": {"type": "string"}}
                }
            }},
            "matchLabels": string_map
        }
    });
    serde_json::json!({
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": {
                "type": "object",
                "required": ["externalSecretSpec"],
                "properties": {
                    "externalSecretMetadata": {"type": "object", "properties": {
                        "annotations": string_map, "labels": string_map
                    }},
                    "externalSecretName": {"type": "string", "minLength": 1, "maxLength": 253, "pattern": dns_subdomain},
                    "externalSecretSpec": spec,
                    "namespaceSelectors": {"type": "array", "items": selector},
                    "namespaces": {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 63, "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"}},
                    "refreshTime": {"type": "string"}
                }
            }
        }
    })
}
