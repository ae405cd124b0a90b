//! `vault/metadata.yaml` (`kubevault.dev/v1alpha1` `SecretMetadata`): the shape of the rendered
//! Secrets — `type`, `labels`, `annotations`, `immutable` — chosen by glob rules over secret
//! identities (the same glob engine as the access-control files), plus the vault-wide
//! `requireEncryption` switch (SPEC §11).
//!
//! Pure: bytes in, a model and every problem (`metadata.yaml:LINE`) out; a shape per identity
//! ([`SecretMetadata::shape`]: every matching rule contributes in order, labels and annotations
//! merge key by key with the later rule winning, `type` and `immutable` are last-wins), and the
//! checks of a secret against its shape ([`check_secret`]: the keys each built-in type requires,
//! and PEM / JSON checks of the values that can be read). The file is cleartext and never holds a
//! value; the checks read secret values but no message ever quotes one — only key names, rule
//! lines and fixed words.

use std::collections::BTreeMap;

use glob_match::glob_match;

use crate::diag::Severity;
use crate::yaml::{Limits, Node, Value, parse_stream};

use super::rule_hints::{Identities, edit_distance_within};
use super::rules::check_pattern;

/// The file's place, relative to the vault directory.
pub const FILE: &str = "metadata.yaml";
/// The `apiVersion` the file must have.
pub const API_VERSION: &str = "kubevault.dev/v1alpha1";
/// The `kind` the file must have.
pub const KIND: &str = "SecretMetadata";
/// The default Secret type.
pub const OPAQUE: &str = "Opaque";
/// Most bytes of annotations (keys plus values) on one object, as the API server counts them.
pub const MAX_ANNOTATION_BYTES: usize = 256 << 10;
/// Most rules in the file (a bound on the work per secret).
pub const MAX_RULES: usize = 1000;

/// Label and annotation keys kubevault owns: refused in the file.
const RESERVED_KEY: &str = "app.kubernetes.io/managed-by";
/// The prefix of every annotation kubevault owns: refused in the file.
const RESERVED_PREFIX: &str = "kubevault.dev/";

/// A value and the 1-based line it was written on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lined<T> {
    /// The value.
    pub value: T,
    /// 1-based line in `metadata.yaml`.
    pub line: usize,
}

/// One rule of `metadata.yaml`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetadataRule {
    /// The line of the rule's `- ` item.
    pub line: usize,
    /// Globs over identities (`secrets:`), any of which selects a secret.
    pub secrets: Vec<Lined<String>>,
    /// `type:`, when set.
    pub type_: Option<Lined<String>>,
    /// `labels:` in file order.
    pub labels: Vec<(Lined<String>, String)>,
    /// `annotations:` in file order.
    pub annotations: Vec<(Lined<String>, String)>,
    /// `immutable:`, when set.
    pub immutable: Option<Lined<bool>>,
}

impl MetadataRule {
    /// True when any of the rule's globs matches the identity.
    pub fn matches(&self, identity: &str) -> bool {
        self.secrets.iter().any(|p| glob_match(&p.value, identity))
    }
}

/// The whole file, as far as it is valid.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecretMetadata {
    /// The rules in file order (rules with errors are left out).
    pub rules: Vec<MetadataRule>,
    /// The top-level `requireEncryption` (SPEC §11), when set: a plaintext secret file is then an
    /// error.
    pub require_encryption: Option<Lined<bool>>,
    /// True when the vault has a `metadata.yaml`.
    pub present: bool,
}

/// A problem in `metadata.yaml`, at a line (0 when unknown). Never holds a secret value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// What is wrong, with the likely fix.
    pub message: String,
}

fn error(line: usize, message: impl Into<String>) -> Problem {
    Problem {
        severity: Severity::Error,
        line,
        message: message.into(),
    }
}

fn warning(line: usize, message: impl Into<String>) -> Problem {
    Problem {
        severity: Severity::Warning,
        line,
        message: message.into(),
    }
}

/// What a secret looks like once every matching rule contributed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Shape {
    /// The Secret `type` (`Opaque` unless a rule set one).
    pub type_: String,
    /// The line of the rule that set `type`, `None` for the default.
    pub type_line: Option<usize>,
    /// Labels from the rules (kubevault's own are added when rendering).
    pub labels: BTreeMap<String, String>,
    /// Annotations from the rules (kubevault's own are added when rendering).
    pub annotations: BTreeMap<String, String>,
    /// The last line that contributed an annotation (for the size error).
    pub annotations_line: Option<usize>,
    /// `immutable`, when a rule set it.
    pub immutable: Option<bool>,
    /// The lines of the rules that matched, in file order.
    pub rules: Vec<usize>,
}

impl Default for Shape {
    fn default() -> Self {
        Shape {
            type_: OPAQUE.into(),
            type_line: None,
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            annotations_line: None,
            immutable: None,
            rules: Vec::new(),
        }
    }
}

impl Shape {
    /// True for a plain `Opaque` Secret with nothing added.
    pub fn is_plain(&self) -> bool {
        self.type_ == OPAQUE
            && self.labels.is_empty()
            && self.annotations.is_empty()
            && self.immutable.is_none()
    }

    /// One line describing the shape: `kubernetes.io/tls; labels team=platform; immutable`.
    /// Annotation values longer than 60 characters are cut.
    pub fn describe(&self) -> String {
        let mut parts = vec![self.type_.clone()];
        let pairs = |map: &BTreeMap<String, String>| {
            map.iter()
                .map(|(k, v)| {
                    let shown: String = v.chars().take(60).collect();
                    let cut = if shown.len() < v.len() { "..." } else { "" };
                    format!("{k}={shown:?}{cut}")
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !self.labels.is_empty() {
            parts.push(format!("labels {}", pairs(&self.labels)));
        }
        if !self.annotations.is_empty() {
            parts.push(format!("annotations {}", pairs(&self.annotations)));
        }
        match self.immutable {
            Some(true) => parts.push("immutable".into()),
            Some(false) => parts.push("mutable".into()),
            None => {}
        }
        parts.join("; ")
    }

    /// The `metadata.yaml:LINE` places of the rules that gave the shape, or `defaults`.
    pub fn sources(&self) -> String {
        if self.rules.is_empty() {
            return "no metadata rule".into();
        }
        self.rules
            .iter()
            .map(|l| format!("{FILE}:{l}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl SecretMetadata {
    /// The shape of the secret with this identity: every matching rule contributes, in order.
    pub fn shape(&self, identity: &str) -> Shape {
        let mut shape = Shape::default();
        for rule in &self.rules {
            if !rule.matches(identity) {
                continue;
            }
            shape.rules.push(rule.line);
            if let Some(t) = &rule.type_ {
                shape.type_ = t.value.clone();
                shape.type_line = Some(t.line);
            }
            for (k, v) in &rule.labels {
                shape.labels.insert(k.value.clone(), v.clone());
            }
            for (k, v) in &rule.annotations {
                shape.annotations.insert(k.value.clone(), v.clone());
                shape.annotations_line = Some(k.line);
            }
            if let Some(i) = &rule.immutable {
                shape.immutable = Some(i.value);
            }
        }
        shape
    }

    /// A warning for every rule pattern that matches none of `identities` (likely a typo).
    /// `broken` are identities of files that failed to parse: a pattern matching one of them is
    /// not reported.
    pub fn unmatched(&self, identities: &[&str], broken: &[String]) -> Vec<Problem> {
        let mut out = Vec::new();
        let mut hints = None;
        for rule in &self.rules {
            for p in &rule.secrets {
                let hit = identities.iter().any(|id| glob_match(&p.value, id))
                    || broken.iter().any(|id| glob_match(&p.value, id));
                if !hit {
                    let hints =
                        hints.get_or_insert_with(|| Identities::new(identities.iter().copied()));
                    out.push(warning(
                        p.line,
                        format!(
                            "rule `{}` matches no secret{}",
                            p.value,
                            hints.unmatched_rule(&p.value, true)
                        ),
                    ));
                }
            }
        }
        out
    }
}

/// Parses `metadata.yaml`. Everything valid is kept; every problem is returned.
pub fn parse(bytes: &[u8]) -> (SecretMetadata, Vec<Problem>) {
    let mut meta = SecretMetadata {
        present: true,
        ..Default::default()
    };
    let mut problems = Vec::new();
    let Ok(text) = std::str::from_utf8(bytes) else {
        problems.push(error(0, "not UTF-8 text"));
        return (meta, problems);
    };
    let limits = Limits {
        max_depth: 16,
        max_alias_expansion: 1 << 20,
    };
    let docs = match parse_stream(text, &limits) {
        Ok(docs) => docs,
        Err(e) => {
            problems.push(error(e.line, format!("invalid YAML: {}", e.message)));
            return (meta, problems);
        }
    };
    let mut docs = docs.into_iter().filter(|d| !d.is_null());
    let Some(doc) = docs.next() else {
        problems.push(warning(
            0,
            "empty: no rules, every Secret is Opaque (delete the file or add rules)",
        ));
        return (meta, problems);
    };
    if let Some(second) = docs.next() {
        problems.push(error(
            second.line,
            "more than one YAML document; metadata.yaml holds one SecretMetadata",
        ));
    }
    let Some(entries) = doc.as_map() else {
        problems.push(error(
            doc.line,
            format!("must be a mapping (apiVersion: {API_VERSION}, kind: {KIND}, rules: [...])"),
        ));
        return (meta, problems);
    };
    let entries = unique_entries(entries, "", &mut problems);
    if let Some((k, _)) = entries.iter().find(|(k, _)| k.value == "sops") {
        problems.push(error(
            k.line,
            "has a `sops:` section: metadata.yaml is cleartext and is never encrypted (it holds \
             no values); decrypt it (`sops decrypt -i metadata.yaml`) and keep .sops.yaml's \
             creation rules to kvstore/",
        ));
        return (meta, problems);
    }
    let mut api = None;
    let mut kind = None;
    for (key, value) in &entries {
        match key.value.as_str() {
            "apiVersion" => api = Some((key.line, value.as_str())),
            "kind" => kind = Some((key.line, value.as_str())),
            "rules" => meta.rules = parse_rules(value, &mut problems),
            "requireEncryption" => match boolean(value) {
                Some(b) => {
                    meta.require_encryption = Some(Lined {
                        value: b,
                        line: key.line,
                    })
                }
                None => problems.push(error(key.line, "requireEncryption must be true or false")),
            },
            other => problems.push(error(
                key.line,
                format!(
                    "unknown field {}{}; the fields are apiVersion, kind, rules, requireEncryption",
                    quoted(other),
                    hint(other, &["apiVersion", "kind", "rules", "requireEncryption"])
                ),
            )),
        }
    }
    match api {
        None => problems.push(error(
            doc.line,
            format!("missing apiVersion: {API_VERSION}"),
        )),
        Some((_, Some(API_VERSION))) => {}
        Some((line, _)) => problems.push(error(line, format!("apiVersion must be {API_VERSION}"))),
    }
    match kind {
        None => problems.push(error(doc.line, format!("missing kind: {KIND}"))),
        Some((_, Some(KIND))) => {}
        Some((line, _)) => problems.push(error(line, format!("kind must be {KIND}"))),
    }
    (meta, problems)
}

/// The string keys of a mapping with their values; duplicate and non-string keys are errors.
fn unique_entries<'a>(
    entries: &'a [(Node, Node)],
    what: &str,
    problems: &mut Vec<Problem>,
) -> Vec<(Lined<String>, &'a Node)> {
    let mut out: Vec<(Lined<String>, &Node)> = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        let Some(key) = k.as_str() else {
            problems.push(error(k.line, format!("{what}a key must be a string")));
            continue;
        };
        if out.iter().any(|(seen, _)| seen.value == key) {
            problems.push(error(
                k.line,
                format!("{what}duplicate key {}", quoted(key)),
            ));
            continue;
        }
        out.push((
            Lined {
                value: key.to_string(),
                line: k.line,
            },
            v,
        ));
    }
    out
}

fn parse_rules(node: &Node, problems: &mut Vec<Problem>) -> Vec<MetadataRule> {
    if node.is_null() {
        return Vec::new();
    }
    let Some(items) = node.as_seq() else {
        problems.push(error(
            node.line,
            "rules must be a list: `rules:` then `- secrets: GLOB` items",
        ));
        return Vec::new();
    };
    if items.len() > MAX_RULES {
        problems.push(error(
            node.line,
            format!("{} rules, more than the {MAX_RULES} allowed", items.len()),
        ));
        return Vec::new();
    }
    items
        .iter()
        .filter_map(|item| parse_rule(item, problems))
        .collect()
}

const RULE_FIELDS: [&str; 5] = ["secrets", "type", "labels", "annotations", "immutable"];

fn parse_rule(item: &Node, problems: &mut Vec<Problem>) -> Option<MetadataRule> {
    let Some(entries) = item.as_map() else {
        problems.push(error(
            item.line,
            "a rule must be a mapping: `- secrets: GLOB` with type, labels, annotations or immutable",
        ));
        return None;
    };
    let before = problems.len();
    let mut rule = MetadataRule {
        line: item.line,
        ..Default::default()
    };
    let mut has_secrets = false;
    for (key, value) in unique_entries(entries, "rule: ", problems) {
        match key.value.as_str() {
            "secrets" => {
                has_secrets = true;
                rule.secrets = patterns(value, key.line, problems);
            }
            "type" => match value.as_str().filter(|_| !value.is_null()) {
                Some(t) => match check_type(t) {
                    Ok(()) => {
                        rule.type_ = Some(Lined {
                            value: t.to_string(),
                            line: key.line,
                        })
                    }
                    Err(why) => problems.push(error(value.line.max(key.line), why)),
                },
                None => problems.push(error(
                    key.line,
                    "type must be a string such as kubernetes.io/tls",
                )),
            },
            "labels" => rule.labels = pairs(value, key.line, true, problems),
            "annotations" => rule.annotations = pairs(value, key.line, false, problems),
            "immutable" => match boolean(value) {
                Some(b) => {
                    rule.immutable = Some(Lined {
                        value: b,
                        line: key.line,
                    })
                }
                None => problems.push(error(key.line, "immutable must be true or false")),
            },
            other => problems.push(error(
                key.line,
                format!(
                    "unknown field {} in a rule{}; a rule has secrets, type, labels, annotations, immutable",
                    quoted(other),
                    hint(other, &RULE_FIELDS)
                ),
            )),
        }
    }
    if !has_secrets {
        problems.push(error(
            item.line,
            "rule has no `secrets:` (a glob or a list of globs over secret identities)",
        ));
    }
    if problems.len() > before {
        return None;
    }
    if rule.type_.is_none()
        && rule.labels.is_empty()
        && rule.annotations.is_empty()
        && rule.immutable.is_none()
    {
        problems.push(warning(
            item.line,
            "rule sets nothing (no type, labels, annotations or immutable)",
        ));
    }
    Some(rule)
}

fn patterns(node: &Node, line: usize, problems: &mut Vec<Problem>) -> Vec<Lined<String>> {
    let one = |n: &Node, problems: &mut Vec<Problem>| -> Option<Lined<String>> {
        let line = if n.line > 0 { n.line } else { line };
        let Some(p) = n.as_str().filter(|_| !n.is_null()) else {
            problems.push(error(line, "secrets: each glob must be a string"));
            return None;
        };
        if let Some(p) = p.strip_prefix('!') {
            problems.push(error(
                line,
                format!(
                    "secrets: `!{p}`: metadata rules only select, they cannot deny; \
                     a later rule overrides what an earlier one set"
                ),
            ));
            return None;
        }
        match check_pattern(p) {
            Ok(()) => Some(Lined {
                value: p.to_string(),
                line,
            }),
            Err(why) => {
                problems.push(error(line, format!("secrets: {why}")));
                None
            }
        }
    };
    match &node.value {
        Value::Seq(items) if items.is_empty() => {
            problems.push(error(line, "secrets: the list is empty"));
            Vec::new()
        }
        Value::Seq(items) => items.iter().filter_map(|n| one(n, problems)).collect(),
        Value::Scalar { .. } => one(node, problems).into_iter().collect(),
        Value::Map(_) => {
            problems.push(error(
                line,
                "secrets must be a glob or a list of globs, not a mapping",
            ));
            Vec::new()
        }
    }
}

/// `labels:` or `annotations:`: a mapping of keys to strings, every key and value checked.
fn pairs(
    node: &Node,
    line: usize,
    labels: bool,
    problems: &mut Vec<Problem>,
) -> Vec<(Lined<String>, String)> {
    let what = if labels { "label" } else { "annotation" };
    if node.is_null() {
        return Vec::new();
    }
    let Some(entries) = node.as_map() else {
        problems.push(error(
            line,
            format!("{what}s must be a mapping of keys to strings"),
        ));
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, value) in unique_entries(entries, &format!("{what}s: "), problems) {
        let Some(text) = scalar_text(value) else {
            problems.push(error(
                key.line,
                format!(
                    "{what} {}: the value must be a string, not a mapping or sequence",
                    quoted(&key.value)
                ),
            ));
            continue;
        };
        if let Err(why) = check_qualified_name(&key.value) {
            problems.push(error(
                key.line,
                format!("{what} key {}: {why}", quoted(&key.value)),
            ));
            continue;
        }
        if key.value == RESERVED_KEY || key.value.starts_with(RESERVED_PREFIX) {
            problems.push(error(
                key.line,
                format!(
                    "{what} key {} is kubevault's own (app.kubernetes.io/managed-by and \
                     kubevault.dev/* are set by kubevault and cannot be overridden)",
                    quoted(&key.value)
                ),
            ));
            continue;
        }
        if labels && let Err(why) = check_label_value(&text) {
            problems.push(error(
                key.line,
                format!("label {}: the value {why}", quoted(&key.value)),
            ));
            continue;
        }
        out.push((key, text));
    }
    out
}

/// A scalar's text as written (`"true"` and `true` both give `true`; a bare `key:` gives "").
fn scalar_text(node: &Node) -> Option<String> {
    match &node.value {
        Value::Scalar { text, .. } => Some(text.clone()),
        _ => None,
    }
}

fn boolean(node: &Node) -> Option<bool> {
    if node.tag.as_deref().is_some_and(|t| t != "!!bool") {
        return None;
    }
    match &node.value {
        Value::Scalar {
            text,
            style: crate::yaml::Style::Plain,
        } => match text.as_str() {
            "true" | "True" | "TRUE" => Some(true),
            "false" | "False" | "FALSE" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// A key for a message: keys are not secret, but may be long or hold odd characters.
fn quoted(key: &str) -> String {
    let short: String = key.chars().take(80).collect();
    format!("{short:?}")
}

/// ` (did you mean X?)` for a field name one slip away from a known one.
fn hint(got: &str, known: &[&str]) -> String {
    let lower = got.to_ascii_lowercase();
    known
        .iter()
        .find(|k| {
            let k = k.to_ascii_lowercase();
            k == lower
                || k.trim_end_matches('s') == lower.trim_end_matches('s')
                || (k.len() > 3 && edit_distance_within(&k, &lower, 2).is_some())
        })
        .map(|k| format!(" (did you mean `{k}`?)"))
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Kubernetes name rules

/// `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`, at most 63 characters.
fn is_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// Checks a label or annotation key: `[prefix/]name`, the prefix a DNS-1123 subdomain.
pub fn check_qualified_name(key: &str) -> Result<(), String> {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix {
        if p.is_empty() {
            return Err("the prefix before `/` is empty".into());
        }
        if !super::names::is_dns1123_subdomain(p) {
            return Err(
                "the prefix before `/` must be a DNS subdomain (lowercase a-z, 0-9, `-`, `.`; at most 253)"
                    .into(),
            );
        }
    }
    if name.contains('/') {
        return Err("at most one `/` (prefix/name)".into());
    }
    if !is_name_part(name) {
        return Err(
            "the name must be 1 to 63 characters of a-z, A-Z, 0-9, `-`, `_`, `.`, starting and \
             ending with a letter or digit"
                .into(),
        );
    }
    Ok(())
}

/// Checks a label value: empty, or at most 63 characters as a name part.
pub fn check_label_value(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Ok(());
    }
    if value.len() > 63 {
        return Err(format!(
            "is {} characters, more than the 63 a label value may have",
            value.len()
        ));
    }
    if !is_name_part(value) {
        return Err(
            "must be empty or a-z, A-Z, 0-9, `-`, `_`, `.`, starting and ending with a letter or \
             digit (quote it: \"true\")"
                .into(),
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Secret types

/// The built-in Secret types kubevault knows, with the keys each requires: `all` must all be
/// present, else one of `any`.
struct BuiltIn {
    name: &'static str,
    all: &'static [&'static str],
    any: &'static [&'static str],
}

const BUILT_INS: &[BuiltIn] = &[
    BuiltIn {
        name: OPAQUE,
        all: &[],
        any: &[],
    },
    BuiltIn {
        name: "kubernetes.io/tls",
        all: &["tls.crt", "tls.key"],
        any: &[],
    },
    BuiltIn {
        name: "kubernetes.io/dockerconfigjson",
        all: &[".dockerconfigjson"],
        any: &[],
    },
    BuiltIn {
        name: "kubernetes.io/dockercfg",
        all: &[".dockercfg"],
        any: &[],
    },
    BuiltIn {
        name: "kubernetes.io/basic-auth",
        all: &[],
        any: &["username", "password"],
    },
    BuiltIn {
        name: "kubernetes.io/ssh-auth",
        all: &["ssh-privatekey"],
        any: &[],
    },
    BuiltIn {
        name: "bootstrap.kubernetes.io/token",
        all: &["token-id", "token-secret"],
        any: &[],
    },
];

const SA_TOKEN: &str = "kubernetes.io/service-account-token";

/// Checks a `type:` value: a built-in type (not the service-account token) or a custom
/// `example.com/name` type.
pub fn check_type(t: &str) -> Result<(), String> {
    if BUILT_INS.iter().any(|b| b.name == t) {
        return Ok(());
    }
    if t == SA_TOKEN {
        return Err(format!(
            "type {SA_TOKEN} is refused: the token controller fills such Secrets for a \
             ServiceAccount, and kubevault already renders one token Secret per user"
        ));
    }
    let known: Vec<&str> = BUILT_INS.iter().map(|b| b.name).collect();
    let lower = t.to_ascii_lowercase();
    let suggestion = known
        .iter()
        .find(|k| {
            let k = k.to_ascii_lowercase();
            k == lower
                || k.rsplit('/').next() == Some(lower.as_str())
                || k.rsplit('/').next() == lower.rsplit('/').next()
        })
        .map(|k| format!(" (did you mean {k}?)"))
        .unwrap_or_default();
    let prefix = t.split_once('/').map(|(p, _)| p);
    if prefix.is_some_and(|p| p == "kubernetes.io" || p.ends_with(".kubernetes.io")) {
        return Err(format!(
            "type {} is not a built-in Secret type{suggestion}; the built-in types are {}",
            quoted(t),
            known.join(", ")
        ));
    }
    let custom_ok = t.len() <= 253
        && check_qualified_name(t).is_ok()
        && prefix.is_some_and(|p| p.contains('.'));
    if custom_ok {
        return Ok(());
    }
    Err(format!(
        "type {} is neither a built-in Secret type{suggestion} nor a custom DOMAIN/NAME type \
         such as example.com/my-type; the built-in types are {}",
        quoted(t),
        known.join(", ")
    ))
}

// ---------------------------------------------------------------------------------------------
// A secret against its shape

/// A problem of one secret with its shape. The message names keys and `metadata.yaml:LINE`,
/// never a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecretProblem {
    /// The line in the secret file (a key's line), 0 when not about one key.
    pub line: usize,
    /// What is wrong, with the likely fix.
    pub message: String,
}

/// Looks up a key's value bytes and line in the secret file (`None` when it cannot be read).
pub type ValueOf<'a, 'f> = &'f dyn Fn(&str) -> Option<(&'a [u8], usize)>;

/// Checks a secret with `keys` against its shape. `value` gives a key's bytes and line when the
/// value can be read (`None`: only the key names are checked). `own_annotations` is how many
/// bytes kubevault's own annotations add to the object.
pub fn check_secret<'a>(
    shape: &Shape,
    keys: &[&str],
    value: ValueOf<'a, '_>,
    own_annotations: usize,
) -> Vec<SecretProblem> {
    let mut out = Vec::new();
    let from = shape
        .type_line
        .map(|l| format!(" (from {FILE}:{l})"))
        .unwrap_or_default();
    let size: usize = own_annotations
        + shape
            .annotations
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum::<usize>();
    if size > MAX_ANNOTATION_BYTES {
        let at = shape
            .annotations_line
            .map(|l| format!(" ({FILE}:{l} added the last)"))
            .unwrap_or_default();
        out.push(SecretProblem {
            line: 0,
            message: format!(
                "annotations total {size} bytes, more than the {MAX_ANNOTATION_BYTES} bytes \
                 (256 KiB) Kubernetes allows on one object{at}"
            ),
        });
    }
    let Some(builtin) = BUILT_INS.iter().find(|b| b.name == shape.type_) else {
        return out;
    };
    let t = builtin.name;
    let missing: Vec<&str> = builtin
        .all
        .iter()
        .copied()
        .filter(|k| !keys.contains(k))
        .collect();
    if !missing.is_empty() {
        let list = missing.join(" and ");
        out.push(SecretProblem {
            line: 0,
            message: format!(
                "type {t}{from} needs the key{} {list}; add {} to the secret file or change the rule",
                if missing.len() > 1 { "s" } else { "" },
                if missing.len() > 1 { "them" } else { "it" },
            ),
        });
    }
    if !builtin.any.is_empty() && !builtin.any.iter().any(|k| keys.contains(k)) {
        out.push(SecretProblem {
            line: 0,
            message: format!(
                "type {t}{from} needs the key {}; add one to the secret file or change the rule",
                builtin.any.join(" or ")
            ),
        });
    }
    for &key in builtin.all {
        if !keys.contains(&key) {
            continue;
        }
        let Some((bytes, line)) = value(key) else {
            continue;
        };
        let why = match key {
            "tls.crt" => check_certificates(bytes),
            "tls.key" => check_private_key(bytes),
            ".dockerconfigjson" => check_docker_json(bytes, true),
            ".dockercfg" => check_docker_json(bytes, false),
            _ => Ok(()),
        };
        if let Err(why) = why {
            out.push(SecretProblem {
                line,
                message: format!("key {key}: {why}, which type {t}{from} needs"),
            });
        }
    }
    out
}

/// The PEM blocks of a text: (label, body is valid base64), or `Err` when it is not PEM.
fn pem_blocks(bytes: &[u8]) -> Result<Vec<(String, bool)>, &'static str> {
    let text = std::str::from_utf8(bytes).map_err(|_| "is not PEM text (not UTF-8)")?;
    let mut blocks = Vec::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        let Some(label) = line
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        else {
            continue;
        };
        let end = format!("-----END {label}-----");
        let mut body = String::new();
        let mut closed = false;
        for inner in lines.by_ref() {
            if inner == end {
                closed = true;
                break;
            }
            // RFC 1421 headers (`Proc-Type: 4,ENCRYPTED`) come before the base64 body.
            if !inner.contains(':') {
                body.push_str(inner);
            }
        }
        if !closed {
            return Err("has a PEM block without its END line");
        }
        use base64::Engine as _;
        let ok = !body.is_empty()
            && base64::engine::general_purpose::STANDARD
                .decode(body.as_bytes())
                .is_ok();
        blocks.push((label.to_string(), ok));
    }
    if blocks.is_empty() {
        return Err("is not PEM (no -----BEGIN ...----- block)");
    }
    Ok(blocks)
}

fn is_private_key_label(label: &str) -> bool {
    label == "PRIVATE KEY" || label.ends_with(" PRIVATE KEY")
}

fn check_certificates(bytes: &[u8]) -> Result<(), String> {
    let blocks = pem_blocks(bytes)?;
    if blocks.iter().any(|(l, _)| is_private_key_label(l)) {
        return Err(
            "holds a private key (swapped with tls.key?); it must hold only certificates".into(),
        );
    }
    if !blocks.iter().any(|(l, _)| l == "CERTIFICATE") {
        return Err("has no CERTIFICATE PEM block".into());
    }
    if blocks.iter().any(|(_, ok)| !ok) {
        return Err("has a PEM block whose body is not valid base64".into());
    }
    Ok(())
}

fn check_private_key(bytes: &[u8]) -> Result<(), String> {
    let blocks = pem_blocks(bytes)?;
    let keys = blocks
        .iter()
        .filter(|(l, _)| is_private_key_label(l))
        .count();
    if keys == 0 {
        if blocks.iter().any(|(l, _)| l == "CERTIFICATE") {
            return Err("holds a certificate, not a private key (swapped with tls.crt?)".into());
        }
        return Err("has no PRIVATE KEY PEM block".into());
    }
    if keys > 1 {
        return Err(format!("holds {keys} private keys; it must hold one"));
    }
    if blocks.iter().any(|(_, ok)| !ok) {
        return Err("has a PEM block whose body is not valid base64".into());
    }
    Ok(())
}

fn check_docker_json(bytes: &[u8], auths: bool) -> Result<(), String> {
    let json: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        // Only the position: serde_json's own text could quote part of the value.
        let what = match e.classify() {
            serde_json::error::Category::Eof => "ends too early",
            _ => "has a syntax error",
        };
        format!(
            "is not valid JSON ({what} at line {}, column {})",
            e.line(),
            e.column()
        )
    })?;
    let Some(top) = json.as_object() else {
        return Err("is JSON but not an object".into());
    };
    let registries = if auths {
        match top.get("auths") {
            Some(serde_json::Value::Object(map)) => map,
            Some(_) => return Err("has an `auths` that is not an object".into()),
            None => {
                return Err(
                    "is JSON without `auths` (expected {\"auths\": {\"REGISTRY\": {...}}})".into(),
                );
            }
        }
    } else {
        top
    };
    if registries.values().any(|v| !v.is_object()) {
        return Err("has a registry entry that is not an object".into());
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::type_complexity)]
mod tests {
    use super::*;

    const HEAD: &str = "apiVersion: kubevault.dev/v1alpha1\nkind: SecretMetadata\n";

    fn parsed(rules: &str) -> (SecretMetadata, Vec<String>) {
        let (m, p) = parse(format!("{HEAD}{rules}").as_bytes());
        (m, p.iter().map(show).collect())
    }

    fn show(p: &Problem) -> String {
        format!(
            "{}:{}: {}: {}",
            FILE,
            p.line,
            p.severity.as_str(),
            p.message
        )
    }

    fn ok(rules: &str) -> SecretMetadata {
        let (m, p) = parsed(rules);
        assert!(p.is_empty(), "{p:?}");
        m
    }

    #[test]
    fn merging_order_key_by_key_and_last_wins() {
        let m = ok("rules:
  - secrets: \"**\"
    labels: {team: platform, tier: backend}
    annotations: {a: \"1\"}
    type: example.com/first
  - secrets: [shared/tls, \"*/ingress-tls\"]
    type: kubernetes.io/tls
    labels: {team: web}
  - secrets: production/**
    annotations: {reloader.stakater.com/match: \"true\", a: \"2\"}
    immutable: true
  - secrets: production/db
    immutable: false
");
        let table: &[(
            &str,
            &str,
            &[(&str, &str)],
            &[(&str, &str)],
            Option<bool>,
            &[usize],
        )] = &[
            (
                "other",
                "example.com/first",
                &[("team", "platform"), ("tier", "backend")],
                &[("a", "1")],
                None,
                &[4],
            ),
            (
                "shared/tls",
                "kubernetes.io/tls",
                &[("team", "web"), ("tier", "backend")],
                &[("a", "1")],
                None,
                &[4, 8],
            ),
            (
                "production/ingress-tls",
                "kubernetes.io/tls",
                &[("team", "web"), ("tier", "backend")],
                &[("a", "2"), ("reloader.stakater.com/match", "true")],
                Some(true),
                &[4, 8, 11],
            ),
            (
                "production/db",
                "example.com/first",
                &[("team", "platform"), ("tier", "backend")],
                &[("a", "2"), ("reloader.stakater.com/match", "true")],
                Some(false),
                &[4, 11, 14],
            ),
        ];
        for (id, t, labels, annotations, immutable, rules) in table {
            let s = m.shape(id);
            assert_eq!(s.type_, *t, "{id}");
            let l: Vec<(&str, &str)> = s
                .labels
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            assert_eq!(l, *labels, "{id}");
            let a: Vec<(&str, &str)> = s
                .annotations
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            assert_eq!(a, *annotations, "{id}");
            assert_eq!(s.immutable, *immutable, "{id}");
            assert_eq!(s.rules, *rules, "{id}");
        }
        assert_eq!(m.shape("production/db").type_line, Some(7));
        assert_eq!(m.shape("shared/tls").type_line, Some(9));
    }

    #[test]
    fn no_rule_gives_opaque_and_an_empty_file_warns() {
        let m = ok("rules: []\n");
        assert!(m.shape("x").is_plain());
        assert_eq!(m.shape("x").type_, "Opaque");
        let (_, p) = parse(b"# nothing yet\n");
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].severity, Severity::Warning);
        assert!(SecretMetadata::default().shape("x").is_plain());
    }

    #[test]
    fn require_encryption_is_parsed() {
        let m = ok("requireEncryption: true\n");
        assert_eq!(
            m.require_encryption,
            Some(Lined {
                value: true,
                line: 3
            })
        );
        assert_eq!(ok("").require_encryption, None);
        let (_, p) = parsed("requireEncryption: \"yes\"\n");
        assert_eq!(
            p,
            ["metadata.yaml:3: error: requireEncryption must be true or false"]
        );
    }

    #[test]
    fn every_validation_error() {
        let big = "x".repeat(64);
        let table: Vec<(String, &str)> = vec![
            (
                "rules:\n  - secrets: a\n    labels: {app.kubernetes.io/managed-by: me}\n".into(),
                "metadata.yaml:5: error: label key \"app.kubernetes.io/managed-by\" is kubevault's own",
            ),
            (
                "rules:\n  - secrets: a\n    annotations: {kubevault.dev/source: x}\n".into(),
                "metadata.yaml:5: error: annotation key \"kubevault.dev/source\" is kubevault's own",
            ),
            (
                "rules:\n  - secrets: a\n    labels: {kubevault.dev/anything: x}\n".into(),
                "is kubevault's own",
            ),
            (
                format!("rules:\n  - secrets: a\n    labels: {{team: {big}}}\n"),
                "metadata.yaml:5: error: label \"team\": the value is 64 characters, more than the 63",
            ),
            (
                "rules:\n  - secrets: a\n    labels: {team: \"-bad\"}\n".into(),
                "label \"team\": the value must be empty or a-z",
            ),
            (
                "rules:\n  - secrets: a\n    labels: {team: \"has space\"}\n".into(),
                "label \"team\": the value must be empty",
            ),
            (
                "rules:\n  - secrets: a\n    labels: {Bad_Prefix/x: y}\n".into(),
                "label key \"Bad_Prefix/x\": the prefix before `/` must be a DNS subdomain",
            ),
            (
                "rules:\n  - secrets: a\n    labels: {\"a/b/c\": y}\n".into(),
                "at most one `/`",
            ),
            (
                format!("rules:\n  - secrets: a\n    annotations: {{example.com/{big}: y}}\n"),
                "the name must be 1 to 63 characters",
            ),
            (
                "rules:\n  - secrets: a\n    annotations: {\"/x\": y}\n".into(),
                "the prefix before `/` is empty",
            ),
            (
                "rules:\n  - secrets: a\n    labels: {team: [a]}\n".into(),
                "label \"team\": the value must be a string",
            ),
            (
                "rules:\n  - secrets: a\n    type: kubernetes.io/service-account-token\n".into(),
                "metadata.yaml:5: error: type kubernetes.io/service-account-token is refused",
            ),
            (
                "rules:\n  - secrets: a\n    type: tls\n".into(),
                "(did you mean kubernetes.io/tls?)",
            ),
            (
                "rules:\n  - secrets: a\n    type: kubernetes.io/TLS\n".into(),
                "type \"kubernetes.io/TLS\" is not a built-in Secret type (did you mean kubernetes.io/tls?)",
            ),
            (
                "rules:\n  - secrets: a\n    type: kubernetes.io/magic\n".into(),
                "is not a built-in Secret type",
            ),
            (
                "rules:\n  - secrets: a\n    type: \"my type\"\n".into(),
                "nor a custom DOMAIN/NAME type",
            ),
            (
                "rules:\n  - secrets: a\n    immutable: yes\n".into(),
                "metadata.yaml:5: error: immutable must be true or false",
            ),
            (
                "rules:\n  - secrets: a\n    lables: {a: b}\n".into(),
                "metadata.yaml:5: error: unknown field \"lables\" in a rule (did you mean `labels`?)",
            ),
            (
                "rule:\n  - secrets: a\n".into(),
                "metadata.yaml:3: error: unknown field \"rule\" (did you mean `rules`?)",
            ),
            (
                "rules:\n  - type: kubernetes.io/tls\n".into(),
                "metadata.yaml:4: error: rule has no `secrets:`",
            ),
            (
                "rules:\n  - secrets: \"a/{b\"\n    type: Opaque\n".into(),
                "metadata.yaml:4: error: secrets: pattern `a/{b` has an unclosed `{`",
            ),
            (
                "rules:\n  - secrets: \"!a\"\n    type: Opaque\n".into(),
                "cannot deny",
            ),
            (
                "rules:\n  - secrets: []\n    type: Opaque\n".into(),
                "secrets: the list is empty",
            ),
            ("rules: {a: b}\n".into(), "rules must be a list"),
            ("rules:\n  - a\n".into(), "a rule must be a mapping"),
            (
                "rules:\n  - secrets: a\n    labels: {a: b, a: c}\n".into(),
                "metadata.yaml:5: error: labels: duplicate key \"a\"",
            ),
            (
                "sops:\n  mac: x\n".into(),
                "metadata.yaml:3: error: has a `sops:` section: metadata.yaml is cleartext",
            ),
        ];
        for (rules, needle) in &table {
            let (_, p) = parsed(rules);
            assert!(p.iter().any(|m| m.contains(needle)), "{needle}\n{p:#?}");
        }
        for (text, needle) in [
            (
                "kind: SecretMetadata\n",
                "metadata.yaml:1: error: missing apiVersion",
            ),
            (
                "apiVersion: v1\nkind: SecretMetadata\n",
                "metadata.yaml:1: error: apiVersion must be kubevault.dev/v1alpha1",
            ),
            (
                "apiVersion: kubevault.dev/v1alpha1\nkind: KubeVault\n",
                "metadata.yaml:2: error: kind must be SecretMetadata",
            ),
            ("- a\n", "must be a mapping"),
            ("a: [\n", "invalid YAML"),
            ("a: 1\n---\nb: 2\n", "more than one YAML document"),
        ] {
            let (_, p) = parse(text.as_bytes());
            let p: Vec<String> = p.iter().map(show).collect();
            assert!(p.iter().any(|m| m.contains(needle)), "{needle}\n{p:#?}");
        }
        let (_, p) = parse(b"\xff\xfe");
        assert_eq!(p[0].message, "not UTF-8 text");
    }

    #[test]
    fn allowed_types_and_keys() {
        for t in [
            "Opaque",
            "kubernetes.io/tls",
            "kubernetes.io/dockerconfigjson",
            "kubernetes.io/dockercfg",
            "kubernetes.io/basic-auth",
            "kubernetes.io/ssh-auth",
            "bootstrap.kubernetes.io/token",
            "example.com/name",
            "helm.sh/release.v1",
        ] {
            assert_eq!(check_type(t), Ok(()), "{t}");
        }
        for k in ["team", "app.kubernetes.io/name", "example.com/a_b.c-d", "A"] {
            assert_eq!(check_qualified_name(k), Ok(()), "{k}");
        }
        for v in ["", "true", "a.b_c-d", &"x".repeat(63)] {
            assert_eq!(check_label_value(v), Ok(()), "{v}");
        }
        let m = ok(
            "rules:\n  - secrets: a\n    labels: {team: \"\", n: 5, b: true}\n    annotations: {x: ''}\n",
        );
        let s = m.shape("a");
        assert_eq!(s.labels["n"], "5");
        assert_eq!(s.labels["b"], "true");
        assert_eq!(s.annotations["x"], "");
    }

    #[test]
    fn unmatched_rules_warn() {
        let m = ok(
            "rules:\n  - secrets: [a, typo/**]\n    type: Opaque\n  - secrets: broken\n    type: Opaque\n",
        );
        let w: Vec<String> = m
            .unmatched(&["a"], &["broken".to_string()])
            .iter()
            .map(show)
            .collect();
        assert_eq!(
            w,
            ["metadata.yaml:4: warning: rule `typo/**` matches no secret (a typo?)"]
        );
        let (_, p) = parsed("rules:\n  - secrets: a\n");
        assert_eq!(
            p,
            [
                "metadata.yaml:4: warning: rule sets nothing (no type, labels, annotations or immutable)"
            ]
        );
    }

    const CERT: &str = "-----BEGIN CERTIFICATE-----\nU0VOVElORUw=\n-----END CERTIFICATE-----\n";
    const KEY: &str = "-----BEGIN PRIVATE KEY-----\nU0VOVElORUw=\n-----END PRIVATE KEY-----\n";

    fn check(t: &str, data: &[(&str, &str)]) -> Vec<String> {
        let shape = Shape {
            type_: t.into(),
            type_line: Some(7),
            ..Default::default()
        };
        let keys: Vec<&str> = data.iter().map(|(k, _)| *k).collect();
        let value = |k: &str| {
            data.iter()
                .position(|(key, _)| *key == k)
                .map(|i| (data[i].1.as_bytes(), i + 1))
        };
        check_secret(&shape, &keys, &value, 0)
            .iter()
            .map(|p| format!("{}: {}", p.line, p.message))
            .collect()
    }

    #[test]
    fn required_keys_and_values_per_type() {
        let sentinel = "SENTINEL-7f3a9c";
        let bad_pem =
            format!("-----BEGIN CERTIFICATE-----\n{sentinel}!!\n-----END CERTIFICATE-----\n");
        let odd_label = format!("-----BEGIN {sentinel}-----\nAAAA\n-----END {sentinel}-----\n");
        let bad_json = format!("{{\"auths\": {{\"{sentinel}\": ");
        let no_auths = format!("{{\"{sentinel}\": {{}}}}");
        let table: &[(&str, &[(&str, &str)], &[&str])] = &[
            ("Opaque", &[], &[]),
            (
                "kubernetes.io/tls",
                &[("tls.crt", CERT), ("tls.key", KEY)],
                &[],
            ),
            (
                "kubernetes.io/tls",
                &[("tls.crt", CERT)],
                &[
                    "0: type kubernetes.io/tls (from metadata.yaml:7) needs the key tls.key; add it to the secret file or change the rule",
                ],
            ),
            (
                "kubernetes.io/tls",
                &[],
                &[
                    "0: type kubernetes.io/tls (from metadata.yaml:7) needs the keys tls.crt and tls.key; add them to the secret file or change the rule",
                ],
            ),
            (
                "kubernetes.io/tls",
                &[("tls.crt", KEY), ("tls.key", CERT)],
                &[
                    "1: key tls.crt: holds a private key (swapped with tls.key?); it must hold only certificates, which type kubernetes.io/tls (from metadata.yaml:7) needs",
                    "2: key tls.key: holds a certificate, not a private key (swapped with tls.crt?), which type kubernetes.io/tls (from metadata.yaml:7) needs",
                ],
            ),
            (
                "kubernetes.io/tls",
                &[("tls.crt", sentinel), ("tls.key", &bad_pem)],
                &[
                    "1: key tls.crt: is not PEM (no -----BEGIN ...----- block), which type kubernetes.io/tls (from metadata.yaml:7) needs",
                    "2: key tls.key: holds a certificate, not a private key (swapped with tls.crt?), which type kubernetes.io/tls (from metadata.yaml:7) needs",
                ],
            ),
            (
                "kubernetes.io/tls",
                &[("tls.crt", &bad_pem), ("tls.key", &odd_label)],
                &[
                    "1: key tls.crt: has a PEM block whose body is not valid base64, which type kubernetes.io/tls (from metadata.yaml:7) needs",
                    "2: key tls.key: has no PRIVATE KEY PEM block, which type kubernetes.io/tls (from metadata.yaml:7) needs",
                ],
            ),
            (
                "kubernetes.io/tls",
                &[
                    ("tls.crt", CERT),
                    ("tls.key", "-----BEGIN PRIVATE KEY-----\nAAAA\n"),
                ],
                &[
                    "2: key tls.key: has a PEM block without its END line, which type kubernetes.io/tls (from metadata.yaml:7) needs",
                ],
            ),
            (
                "kubernetes.io/dockerconfigjson",
                &[(
                    ".dockerconfigjson",
                    "{\"auths\": {\"r.example.com\": {\"auth\": \"eA==\"}}}",
                )],
                &[],
            ),
            (
                "kubernetes.io/dockerconfigjson",
                &[(".dockerconfigjson", &bad_json)],
                &[
                    "1: key .dockerconfigjson: is not valid JSON (ends too early at line 1, column 30), which type kubernetes.io/dockerconfigjson (from metadata.yaml:7) needs",
                ],
            ),
            (
                "kubernetes.io/dockerconfigjson",
                &[(".dockerconfigjson", &no_auths)],
                &[
                    "1: key .dockerconfigjson: is JSON without `auths` (expected {\"auths\": {\"REGISTRY\": {...}}}), which type kubernetes.io/dockerconfigjson (from metadata.yaml:7) needs",
                ],
            ),
            (
                "kubernetes.io/dockerconfigjson",
                &[("config.json", "{}")],
                &[
                    "0: type kubernetes.io/dockerconfigjson (from metadata.yaml:7) needs the key .dockerconfigjson; add it to the secret file or change the rule",
                ],
            ),
            (
                "kubernetes.io/dockercfg",
                &[(".dockercfg", "{\"r\": {}}")],
                &[],
            ),
            ("kubernetes.io/basic-auth", &[("username", "u")], &[]),
            ("kubernetes.io/basic-auth", &[("password", "p")], &[]),
            (
                "kubernetes.io/basic-auth",
                &[("user", "u")],
                &[
                    "0: type kubernetes.io/basic-auth (from metadata.yaml:7) needs the key username or password; add one to the secret file or change the rule",
                ],
            ),
            ("kubernetes.io/ssh-auth", &[("ssh-privatekey", "k")], &[]),
            (
                "kubernetes.io/ssh-auth",
                &[("id_rsa", "k")],
                &[
                    "0: type kubernetes.io/ssh-auth (from metadata.yaml:7) needs the key ssh-privatekey; add it to the secret file or change the rule",
                ],
            ),
            ("example.com/custom", &[("anything", "x")], &[]),
        ];
        for (t, data, want) in table {
            let got = check(t, data);
            assert_eq!(
                got,
                *want,
                "{t} {:?}",
                data.iter().map(|d| d.0).collect::<Vec<_>>()
            );
            assert!(got.iter().all(|m| !m.contains(sentinel)), "{got:?}");
        }
    }

    #[test]
    fn without_values_only_key_names_are_checked() {
        let shape = Shape {
            type_: "kubernetes.io/tls".into(),
            ..Default::default()
        };
        let got = check_secret(&shape, &["tls.crt", "tls.key"], &|_| None, 0);
        assert!(got.is_empty());
        let got = check_secret(&shape, &["tls.crt"], &|_| None, 0);
        assert_eq!(got.len(), 1);
        assert!(got[0].message.contains("needs the key tls.key"));
    }

    #[test]
    fn annotations_are_capped_per_object() {
        let big = "v".repeat(MAX_ANNOTATION_BYTES / 2);
        let m = ok(&format!(
            "rules:\n  - secrets: a\n    annotations: {{one: {big}}}\n  - secrets: a\n    annotations: {{two: {big}}}\n"
        ));
        let shape = m.shape("a");
        let got = check_secret(&shape, &[], &|_| None, 100);
        assert_eq!(got.len(), 1);
        assert!(
            got[0].message.starts_with(
                "annotations total 262250 bytes, more than the 262144 bytes (256 KiB)"
            ),
            "{got:?}"
        );
        assert!(got[0].message.ends_with("(metadata.yaml:7 added the last)"));
        assert!(check_secret(&m.shape("b"), &[], &|_| None, 100).is_empty());
    }
}
