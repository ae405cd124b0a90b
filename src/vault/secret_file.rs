//! Secret files: one YAML mapping of keys to scalar values, each value its text as written.
//!
//! Pure: bytes in, keys and values (or every problem, naming line and key) out. Values are
//! secret; no message, `Debug` output or panic here ever contains one.

use std::fmt;

use base64::Engine as _;

use crate::yaml::{Node, Value, parse_stream};

use super::yaml_hints::{self, quote_key};
use crate::limits::{MAX_KEYS_PER_SECRET, MAX_SECRET_BYTES};

/// Largest file: 1 MiB ([`crate::limits::MAX_FILE_BYTES`]).
pub const MAX_BYTES: usize = crate::limits::MAX_FILE_BYTES;

/// A secret value: raw bytes that never show up in `Debug` output and are overwritten with
/// zeros when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(pub Vec<u8>);

impl Drop for SecretValue {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretValue(<{} bytes>)", self.0.len())
    }
}

pub use super::secret_data::SecretData;

/// A problem in a secret file, at a line and key where known. Never holds a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileProblem {
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// The message, naming the key where one applies.
    pub message: String,
}

fn problem(line: usize, message: impl Into<String>) -> FileProblem {
    FileProblem {
        line,
        message: message.into(),
    }
}

/// What a secret file holds once parsed.
pub enum Parsed {
    /// A plain secret file (possibly with no keys).
    Plain(SecretData),
    /// A SOPS-encrypted document (top-level `sops:` mapping), still encrypted.
    Encrypted(Node),
}

/// Parses a secret file's bytes.
pub fn parse(bytes: &[u8]) -> Result<Parsed, Vec<FileProblem>> {
    parse_with_warnings(bytes).map(|(parsed, _)| parsed)
}

/// Parses a secret file's bytes, with warnings about text YAML dropped where a value was
/// expected ([`yaml_hints::warnings`]; none for SOPS-encrypted files).
pub fn parse_with_warnings(bytes: &[u8]) -> Result<(Parsed, Vec<FileProblem>), Vec<FileProblem>> {
    let parsed = parse_bytes(bytes)?;
    let warnings = match (&parsed, std::str::from_utf8(bytes)) {
        (Parsed::Plain(_), Ok(text)) => yaml_hints::warnings(text),
        _ => Vec::new(),
    };
    Ok((parsed, warnings))
}

fn parse_bytes(bytes: &[u8]) -> Result<Parsed, Vec<FileProblem>> {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => return Err(vec![utf8_problem(bytes, e.valid_up_to())]),
    };
    // Flat `key: value` files, quoted values and literal blocks (`password: "..."`,
    // `certificate: |`): the fast YAML reader, which reads what the full parser reads (or
    // declines). (A second reader for flat files only was as fast: bench/RESULTS.md.)
    if let Some(doc) = crate::yaml::parse_document(text) {
        return from_document(doc);
    }
    // A SOPS-encrypted file (nested `sops:` metadata) read the same way; anything else nested
    // is left to the full parser, which also words the errors.
    if let Some(doc) = crate::yaml::parse_nested_document(text, crate::yaml::SOPS_DEPTH)
        && let Ok(Parsed::Encrypted(doc)) = from_document(doc)
    {
        return Ok(Parsed::Encrypted(doc));
    }
    parse_full(text)
}

/// Parses secret-file text with the full YAML parser (every file outside the flat fast path).
pub(crate) fn parse_full(text: &str) -> Result<Parsed, Vec<FileProblem>> {
    let docs = parse_stream(text, &yaml_hints::limits())
        .map_err(|e| vec![yaml_hints::syntax_problem(text, &e)])?;
    let mut docs = docs.into_iter().filter(|d| !d.is_null());
    let Some(doc) = docs.next() else {
        return Ok(Parsed::Plain(SecretData::new()));
    };
    if let Some(second) = docs.next() {
        return Err(vec![problem(
            second.line,
            "more than one YAML document; a secret file holds one mapping",
        )]);
    }
    from_document(doc)
}

/// A secret file's only document: still encrypted, or its data.
fn from_document(doc: Node) -> Result<Parsed, Vec<FileProblem>> {
    if doc.as_map().is_some_and(|m| {
        m.iter()
            .any(|(k, v)| k.as_str() == Some("sops") && v.as_map().is_some())
    }) {
        return Ok(Parsed::Encrypted(doc));
    }
    data_from_mapping(&doc).map(Parsed::Plain)
}

/// Turns a mapping of keys to scalars into secret data (used for decrypted documents too).
pub fn data_from_mapping(doc: &Node) -> Result<SecretData, Vec<FileProblem>> {
    let Some(entries) = doc.as_map() else {
        return Err(vec![problem(doc.line, "not a mapping of keys to values")]);
    };
    let mut data = SecretData::with_capacity(entries.len().min(MAX_KEYS_PER_SECRET));
    let mut problems = Vec::new();
    let mut total = 0usize;
    if entries.len() > MAX_KEYS_PER_SECRET {
        return Err(vec![problem(
            doc.line,
            format!(
                "{} keys, more than the {MAX_KEYS_PER_SECRET} a secret file may hold",
                entries.len()
            ),
        )]);
    }
    for (k, v) in entries {
        let Some(key) = k.as_str() else {
            problems.push(problem(
                k.line,
                "a key must be a string, not a mapping or sequence",
            ));
            continue;
        };
        let at = k.line;
        if let Err(why) = check_key(key) {
            problems.push(problem(at, format!("key {}: {why}", quote_key(key))));
            continue;
        }
        if data.contains_key(key) {
            problems.push(problem(
                at,
                format!("key {}: duplicate key", quote_key(key)),
            ));
            continue;
        }
        match value_bytes(v) {
            Ok(bytes) => {
                total += key.len() + bytes.len();
                data.insert(key.to_string(), SecretValue(bytes));
            }
            Err(why) => problems.push(problem(at, format!("key {}: {why}", quote_key(key)))),
        }
    }
    if total > MAX_SECRET_BYTES {
        problems.push(problem(
            0,
            format!(
                "keys and values total {total} bytes, more than the {MAX_SECRET_BYTES} bytes (1 MiB) a Secret may hold"
            ),
        ));
    }
    if problems.is_empty() {
        Ok(data)
    } else {
        Err(problems)
    }
}

/// Keys as Kubernetes accepts them in a Secret's `data`.
pub fn check_key(key: &str) -> Result<(), String> {
    if key == "<<" {
        return Err("merge keys (`<<`) are not supported; values must be scalars".into());
    }
    if key.is_empty() || key.len() > 253 {
        return Err("must be 1 to 253 characters".into());
    }
    if key == "." || key == ".." || key.starts_with("..") {
        return Err("must not be `.`, `..` or start with `..`".into());
    }
    if !key
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
    {
        return Err("may only contain letters, digits, `-`, `_` and `.`".into());
    }
    Ok(())
}

fn value_bytes(v: &Node) -> Result<Vec<u8>, String> {
    let text = match &v.value {
        Value::Scalar { text, .. } => text,
        Value::Seq(_) => {
            return Err(
                "value is a sequence; values must be scalars: write a list as one \
                 value (a block scalar, `key: |`, with one item per line) or as flat keys \
                 (`hosts.0`, `hosts.1`)"
                    .into(),
            );
        }
        Value::Map(_) => {
            return Err(
                "value is a mapping; values must be scalars (no nesting): use flat keys \
                 (`db.user`, `db.password`), or a block scalar (`key: |`) for text that spans \
                 lines; a value holding `: ` goes in quotes"
                    .into(),
            );
        }
    };
    match v.tag.as_deref() {
        None | Some("!") => Ok(text.as_bytes().to_vec()),
        Some("!!str" | "!!int" | "!!float" | "!!bool" | "!!null" | "!!timestamp") => {
            Ok(text.as_bytes().to_vec())
        }
        Some("!!binary") => {
            let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
            base64::engine::general_purpose::STANDARD
                .decode(compact)
                .map_err(|_| "`!!binary` value is not valid base64".to_string())
        }
        // The tag is text of the file, and `password: !Sup3rS3cret` makes a value one: never
        // show it.
        Some(_) => Err(
            "the value starts with `!`, which YAML reads as a tag (only the standard tags such \
             as `!!str` and `!!binary` are supported): put the whole value in quotes"
                .to_string(),
        ),
    }
}

/// Invalid UTF-8: name the line, and the key when the rest of the file still parses.
fn utf8_problem(bytes: &[u8], valid_up_to: usize) -> FileProblem {
    let line = 1 + bytes[..valid_up_to].iter().filter(|&&b| b == b'\n').count();
    let lossy = String::from_utf8_lossy(bytes);
    // The secret-file caps (1 MiB of alias expansion), not the ResourceList ones.
    let key = parse_stream(&lossy, &yaml_hints::limits())
        .ok()
        .and_then(|docs| docs.into_iter().find(|d| d.as_map().is_some()))
        .and_then(|doc| {
            doc.as_map()?
                .iter()
                .rfind(|(k, _)| k.line <= line)
                .and_then(|(k, _)| k.as_str().map(quote_key))
        });
    let message = match key {
        Some(key) => {
            format!("key {key}: value is not valid UTF-8; write binary values as `!!binary` base64")
        }
        None => "not valid UTF-8; write binary values as `!!binary` base64".to_string(),
    };
    problem(line, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> SecretData {
        match parse(text.as_bytes()) {
            Ok(Parsed::Plain(d)) => d,
            Ok(Parsed::Encrypted(_)) => panic!("unexpectedly encrypted"),
            Err(p) => panic!("{p:?}"),
        }
    }

    fn text_of(d: &SecretData, k: &str) -> String {
        String::from_utf8(d[k].0.clone()).unwrap()
    }

    #[test]
    fn values_are_the_text_as_written() {
        let d = plain(
            "port: 5432\non: true\nv: 1.10\npin: 0123\nbare:\ntilde: ~\nnull_word: null\n\
             str: !!str 5\nq: \"quoted\"\nlit: |\n  a\n  b\nfold: >\n  a\n  b\nstrip: |-\n  x\n\
             bin: !!binary aGVsbG8=\nalias: &a v\nalias2: *a\n",
        );
        let table = [
            ("port", "5432"),
            ("on", "true"),
            ("v", "1.10"),
            ("pin", "0123"),
            ("bare", ""),
            ("tilde", "~"),
            ("null_word", "null"),
            ("str", "5"),
            ("q", "quoted"),
            ("lit", "a\nb\n"),
            ("fold", "a b\n"),
            ("strip", "x"),
            ("bin", "hello"),
            ("alias", "v"),
            ("alias2", "v"),
        ];
        for (k, want) in table {
            assert_eq!(text_of(&d, k), want, "{k}");
        }
        assert_eq!(d.keys().next().map(String::as_str), Some("alias"), "sorted");
    }

    #[test]
    fn empty_files_have_no_keys() {
        for text in [
            "",
            "# only a comment\n",
            "---\n",
            "~\n",
            "---\n---\n",
            "--- ~\n",
        ] {
            assert!(plain(text).is_empty(), "{text:?}");
        }
        assert_eq!(plain("---\na: 1\n---\n").len(), 1);
    }

    #[test]
    fn errors_name_line_and_key() {
        let table: &[(&str, usize, &str)] = &[
            ("- a\n- b\n", 1, "not a mapping"),
            ("just text\n", 1, "not a mapping"),
            ("a: 1\nb:\n  c: d\n", 2, "key \"b\": value is a mapping"),
            ("a: 1\nb: [1]\n", 2, "key \"b\": value is a sequence"),
            ("a: 1\na: 2\n", 2, "key \"a\": duplicate key"),
            ("a: 1\n---\nb: 2\n", 3, "more than one YAML document"),
            ("bad key: 1\n", 1, "key \"bad key\": may only contain"),
            ("..x: 1\n", 1, "start with `..`"),
            (".: 1\n", 1, "must not be `.`"),
            ("x: !custom v\n", 1, "key \"x\": the value starts with `!`"),
            ("x: !!binary '%%%'\n", 1, "not valid base64"),
            (
                "base: &b {k: v}\nx:\n  <<: *b\n",
                1,
                "key \"base\": value is a mapping",
            ),
            ("<<: {k: v}\n", 1, "merge keys"),
            ("a: [\n", 1, "invalid YAML"),
        ];
        for (text, line, needle) in table {
            let problems = parse(text.as_bytes())
                .err()
                .unwrap_or_else(|| panic!("{text:?} parsed"));
            assert!(
                problems
                    .iter()
                    .any(|p| p.line == *line && p.message.contains(needle)),
                "{text:?}: {problems:?}"
            );
        }
        let long = format!("{}: 1\n", "k".repeat(254));
        assert!(parse(long.as_bytes()).is_err());
    }

    #[test]
    fn invalid_utf8_names_line_and_key() {
        let problems = parse(b"a: ok\nb: caf\xe9\n").err().unwrap();
        assert_eq!(problems[0].line, 2);
        assert!(problems[0].message.contains("key \"b\""), "{problems:?}");
    }

    #[test]
    fn invalid_utf8_is_located_within_the_secret_file_alias_budget() {
        // Aliases that expand to ~2 MiB: within the ResourceList budget (16 MiB), over the
        // secret-file one (1 MiB). Locating the key must not expand them: the message then
        // names the line only.
        let mut text = format!("a: &a [{}]\n", vec!["\"xxxxxxxxxxxxxxxx\""; 64].join(","));
        for (i, c) in ('b'..='d').enumerate() {
            let p = (b'a' + i as u8) as char;
            text.push_str(&format!(
                "{c}: &{c} [{}]\n",
                vec![format!("*{p}"); 8].join(",")
            ));
        }
        let mut bytes = text.into_bytes();
        bytes.extend_from_slice(b"bad: caf\xe9\n");
        let lossy = String::from_utf8_lossy(&bytes).into_owned();
        assert!(parse_stream(&lossy, &crate::yaml::Limits::default()).is_ok());
        assert!(parse_stream(&lossy, &yaml_hints::limits()).is_err());
        let problems = parse(&bytes).err().unwrap();
        assert_eq!(problems[0].line, 5);
        assert!(
            problems[0].message.starts_with("not valid UTF-8"),
            "{problems:?}"
        );
    }

    #[test]
    fn size_caps() {
        let exactly = format!("k: {}\n", "x".repeat(MAX_BYTES - 4));
        assert!(parse(exactly.as_bytes()).is_ok());
        let over = format!(
            "a: {}\nb: {}\n",
            "x".repeat(MAX_BYTES / 2),
            "y".repeat(MAX_BYTES / 2 + 1)
        );
        let problems = parse(over.as_bytes()).err().unwrap();
        assert!(problems[0].message.contains("1 MiB"), "{problems:?}");
    }

    #[test]
    fn sops_documents_are_recognised() {
        assert!(matches!(
            parse(b"a: ENC[x]\nsops:\n  mac: y\n"),
            Ok(Parsed::Encrypted(_))
        ));
        assert!(matches!(parse(b"sops: plain\n"), Ok(Parsed::Plain(_))));
    }

    #[test]
    fn debug_never_shows_values() {
        let d = plain("password: hunter2-sentinel\n");
        assert!(!format!("{d:?}").contains("hunter2"));
    }
}
