//! Walks a SOPS document: decrypts the values sops encrypted and feeds the MAC.
//!
//! This mirrors sops' `Tree.Decrypt`: leaves are visited in document order; a leaf's path is the
//! list of mapping keys above it (sequence items add nothing); `null` leaves are neither decrypted
//! nor hashed; every other leaf is hashed (SHA-512) as sops' `ToBytes` renders its typed value,
//! unless `mac_only_encrypted` limits the MAC to encrypted leaves. Unencrypted leaves are typed the
//! way sops' YAML library (go-yaml v3) types them, since that is what sops hashed.

use std::sync::LazyLock;

use base64::Engine;
use regex::Regex;
use sha2::{Digest, Sha512};
use zeroize::Zeroizing;

use super::SopsError;
use super::format::{self, KEY_LEN, ValueType};
use super::metadata::{Rules, go_fraction, normalize_rfc3339_nano};
use crate::yaml::{Node, Style, Value};

/// sops' `MACOnlyEncryptedInitialization`: SHA-256 of `sops`, hashed first when
/// `mac_only_encrypted` is set so that the two kinds of MAC never coincide.
const MAC_ONLY_ENCRYPTED_INIT: [u8; 32] = [
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b,
    0x0b, 0x97, 0x5b, 0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
];

/// State of one walk. Holds the data key, so it has no `Debug`.
pub(crate) struct Walker<'a> {
    key: &'a [u8; KEY_LEN],
    rules: &'a Rules,
    mac_only_encrypted: bool,
    hash: Sha512,
    path: Vec<String>,
    shown: Vec<String>,
}

impl<'a> Walker<'a> {
    pub(crate) fn new(key: &'a [u8; KEY_LEN], rules: &'a Rules, mac_only_encrypted: bool) -> Self {
        let mut hash = Sha512::new();
        if mac_only_encrypted {
            hash.update(MAC_ONLY_ENCRYPTED_INIT);
        }
        Walker {
            key,
            rules,
            mac_only_encrypted,
            hash,
            path: Vec::new(),
            shown: Vec::new(),
        }
    }

    /// The MAC over everything walked so far, as sops prints it (upper-case hex).
    pub(crate) fn finish(self) -> Zeroizing<String> {
        let digest = self.hash.finalize();
        let mut hex = Zeroizing::new(String::with_capacity(digest.len() * 2));
        for byte in digest {
            hex.push(char::from(b"0123456789ABCDEF"[usize::from(byte >> 4)]));
            hex.push(char::from(b"0123456789ABCDEF"[usize::from(byte & 15)]));
        }
        hex
    }

    fn shown_path(&self) -> String {
        let mut out = String::new();
        for part in &self.shown {
            if !out.is_empty() && !part.starts_with('[') {
                out.push('.');
            }
            out.push_str(part);
        }
        out
    }

    fn malformed(&self, line: usize, reason: impl Into<String>) -> SopsError {
        SopsError::Malformed {
            key: self.shown_path(),
            line,
            reason: reason.into(),
        }
    }

    /// Walks a node, returning its decrypted copy.
    pub(crate) fn walk(&mut self, node: &Node) -> Result<Node, SopsError> {
        match &node.value {
            Value::Map(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for (key, value) in entries {
                    let Some(name) = key.as_str() else {
                        return Err(self.malformed(key.line, "a mapping key is not a string"));
                    };
                    self.path.push(name.to_string());
                    self.shown.push(name.to_string());
                    let walked = self.walk(value);
                    self.path.pop();
                    self.shown.pop();
                    out.push((key.clone(), walked?));
                }
                Ok(Node {
                    value: Value::Map(out),
                    ..node.clone_shell()
                })
            }
            Value::Seq(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    self.shown.push(format!("[{index}]"));
                    let walked = self.walk(item);
                    self.shown.pop();
                    out.push(walked?);
                }
                Ok(Node {
                    value: Value::Seq(out),
                    ..node.clone_shell()
                })
            }
            Value::Scalar { .. } => self.leaf(node),
        }
    }

    fn leaf(&mut self, node: &Node) -> Result<Node, SopsError> {
        let resolved = resolve(node);
        if matches!(resolved, Resolved::Null) {
            if !is_real_null(node) {
                // sops reads the leaf as null, so it neither decrypts nor authenticates it: its
                // text would be rendered without the MAC covering it.
                return Err(self.malformed(node.line, NULL_WITH_TEXT));
            }
            return Ok(node.clone());
        }
        let path: Vec<&str> = self.path.iter().map(String::as_str).collect();
        if !self.rules.should_encrypt(&path) {
            if !self.mac_only_encrypted {
                let bytes = Zeroizing::new(resolved.mac_bytes());
                self.hash.update(&bytes);
            }
            return Ok(node.clone());
        }
        let Resolved::Str(text) = &resolved else {
            return Err(self.malformed(node.line, "expected an ENC[AES256_GCM,...] string"));
        };
        if text.is_empty() {
            // sops stores empty strings as they are.
            return Ok(Node {
                value: node.value.clone(),
                ..node.clone_shell()
            });
        }
        let text = std::str::from_utf8(text)
            .map_err(|_| self.malformed(node.line, "expected an ENC[AES256_GCM,...] string"))?;
        let value = format::parse(text).map_err(|reason| self.malformed(node.line, reason))?;
        let additional_data = Zeroizing::new(format!("{}:", self.path.join(":")));
        let plain = value
            .decrypt(self.key, additional_data.as_bytes())
            .map_err(|_| SopsError::Integrity {
                key: self.shown_path(),
                line: node.line,
            })?;
        let (out, mac) =
            typed(value.kind, &plain).map_err(|reason| self.malformed(node.line, reason))?;
        self.hash.update(&mac);
        Ok(Node {
            line: node.line,
            ..out
        })
    }
}

/// Why a leaf that sops reads as null but that holds text is refused.
const NULL_WITH_TEXT: &str = "sops reads this value as null (a standard tag that does not fit \
     its text, or invalid `!!binary`), so sops neither decrypts nor authenticates it; refusing a \
     value that `sops decrypt` would not give (was the file edited without sops?)";

/// A null as written: a plain `~`, `null`, `Null`, `NULL` or nothing, untagged or `!!null`.
/// Anything else that sops reads as null (`!!null text`, `!!int abc`, invalid `!!binary`) holds
/// text that sops never sees.
fn is_real_null(node: &Node) -> bool {
    let Value::Scalar { text, style } = &node.value else {
        return false;
    };
    *style == Style::Plain
        && matches!(node.tag.as_deref(), None | Some("!!null"))
        && matches!(text.as_str(), "" | "~" | "null" | "Null" | "NULL")
}

trait Shell {
    fn clone_shell(&self) -> Node;
}

impl Shell for Node {
    /// Tag and line without the (possibly large) content.
    fn clone_shell(&self) -> Node {
        Node {
            value: Value::Seq(Vec::new()),
            tag: self.tag.clone(),
            line: self.line,
        }
    }
}

/// A decrypted value as a node, and the bytes sops' `ToBytes` gives for it.
fn typed(kind: ValueType, plain: &[u8]) -> Result<(Node, Zeroizing<Vec<u8>>), String> {
    let text = || std::str::from_utf8(plain).map_err(|_| "decrypted value is not text".to_string());
    let bytes = |b: &[u8]| Zeroizing::new(b.to_vec());
    Ok(match kind {
        ValueType::Str => match std::str::from_utf8(plain) {
            Ok(text) => (Node::string(text), bytes(plain)),
            Err(_) => (binary(plain), bytes(plain)),
        },
        ValueType::Bytes => (binary(plain), bytes(plain)),
        ValueType::Int => {
            let text = text()?;
            let value = go_atoi(text).ok_or("decrypted int is not an integer")?;
            (Node::plain(text), bytes(value.to_string().as_bytes()))
        }
        ValueType::Float => {
            let text = text()?;
            let value = go_parse_float(text).ok_or("decrypted float is not a number")?;
            let shown = match value {
                v if v.is_nan() => ".nan".to_string(),
                v if v == f64::INFINITY => ".inf".to_string(),
                v if v == f64::NEG_INFINITY => "-.inf".to_string(),
                _ => text.to_string(),
            };
            (Node::plain(shown), bytes(go_format_float(value).as_bytes()))
        }
        ValueType::Bool => {
            let value = match text()? {
                "1" | "t" | "T" | "TRUE" | "true" | "True" => true,
                "0" | "f" | "F" | "FALSE" | "false" | "False" => false,
                _ => return Err("decrypted bool is not a boolean".into()),
            };
            (
                Node::plain(value.to_string()),
                bytes(go_bool(value).as_bytes()),
            )
        }
        ValueType::Time => {
            let text = text()?;
            let normal = normalize_rfc3339_nano(text).ok_or("decrypted time is not RFC 3339")?;
            (Node::plain(text), bytes(normal.as_bytes()))
        }
        ValueType::Comment => return Err("an encrypted comment where a value belongs".into()),
    })
}

fn binary(plain: &[u8]) -> Node {
    let mut node = Node::string(base64::engine::general_purpose::STANDARD.encode(plain));
    node.tag = Some("!!binary".to_string());
    node
}

fn go_bool(value: bool) -> &'static str {
    if value { "True" } else { "False" }
}

/// A scalar as go-yaml v3 decodes it into `interface{}` (what sops hashes).
enum Resolved {
    Null,
    Str(Vec<u8>),
    Int(i128),
    Float(f64),
    Bool(bool),
    /// A timestamp: sops 3.10+ types plain YAML timestamps as `time.Time`; holds its RFC 3339 form.
    Time(String),
}

impl Resolved {
    /// sops' `ToBytes`.
    fn mac_bytes(&self) -> Vec<u8> {
        match self {
            Resolved::Null => Vec::new(),
            Resolved::Str(bytes) => bytes.clone(),
            Resolved::Int(value) => value.to_string().into_bytes(),
            Resolved::Float(value) => go_format_float(*value).into_bytes(),
            Resolved::Bool(value) => go_bool(*value).as_bytes().to_vec(),
            Resolved::Time(text) => text.clone().into_bytes(),
        }
    }
}

fn resolve(node: &Node) -> Resolved {
    let Value::Scalar { text, style } = &node.value else {
        return Resolved::Null;
    };
    match node.tag.as_deref() {
        None if *style == Style::Str => Resolved::Str(text.as_bytes().to_vec()),
        None => resolve_plain(text, None),
        Some("!!str") => Resolved::Str(text.as_bytes().to_vec()),
        Some("!!binary") => {
            let compact: String = text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
            match base64::engine::general_purpose::STANDARD.decode(compact) {
                Ok(bytes) => Resolved::Str(bytes),
                // go-yaml fails to decode; sops then sees nil.
                Err(_) => Resolved::Null,
            }
        }
        Some(tag @ ("!!int" | "!!float" | "!!bool" | "!!null" | "!!timestamp")) => {
            resolve_plain(text, Some(tag))
        }
        Some(_) => Resolved::Str(text.as_bytes().to_vec()),
    }
}

static YAML_FLOAT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$").expect("valid regex")
});

/// go-yaml v3's `resolve` for a plain scalar, with an optional explicit standard tag.
fn resolve_plain(text: &str, tag: Option<&str>) -> Resolved {
    let resolved = resolve_untagged(text, tag == Some("!!timestamp") || tag.is_none());
    match (tag, resolved) {
        (None, resolved) => resolved,
        (Some("!!null"), Resolved::Null) => Resolved::Null,
        (Some("!!bool"), resolved @ Resolved::Bool(_)) => resolved,
        (Some("!!int"), resolved @ Resolved::Int(_)) => resolved,
        (Some("!!float"), resolved @ Resolved::Float(_)) => resolved,
        (Some("!!float"), Resolved::Int(value)) => Resolved::Float(value as f64),
        (Some("!!timestamp"), resolved @ Resolved::Time(_)) => resolved,
        // go-yaml refuses the document; sops ignores the error and sees nil.
        _ => Resolved::Null,
    }
}

fn resolve_untagged(text: &str, timestamps: bool) -> Resolved {
    let Some(first) = text.bytes().next() else {
        return Resolved::Null;
    };
    match text {
        "true" | "True" | "TRUE" => return Resolved::Bool(true),
        "false" | "False" | "FALSE" => return Resolved::Bool(false),
        "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        ".nan" | ".NaN" | ".NAN" => return Resolved::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Resolved::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float(f64::NEG_INFINITY),
        _ => {}
    }
    let string = || Resolved::Str(text.as_bytes().to_vec());
    match first {
        b'.' => text
            .parse::<f64>()
            .map_or_else(|_| string(), Resolved::Float),
        b'0'..=b'9' | b'+' | b'-' => {
            if timestamps && let Some(time) = yaml_timestamp(text) {
                return Resolved::Time(time);
            }
            let plain: String = text.chars().filter(|c| *c != '_').collect();
            if let Some(value) = go_parse_int(&plain) {
                return Resolved::Int(value);
            }
            if YAML_FLOAT.is_match(&plain)
                && let Ok(value) = plain.parse::<f64>()
            {
                return Resolved::Float(value);
            }
            string()
        }
        _ => string(),
    }
}

/// Go's `strconv.ParseInt(s, 0, 64)`, falling back to `ParseUint(s, 0, 64)`, plus go-yaml's
/// `0b`/`-0b`/`0o`/`-0o` forms (which `ParseInt` with base 0 also covers).
fn go_parse_int(s: &str) -> Option<i128> {
    let (negative, unsigned) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let lower = unsigned.to_ascii_lowercase();
    let (radix, digits) = if let Some(rest) = lower.strip_prefix("0x") {
        (16, rest)
    } else if let Some(rest) = lower.strip_prefix("0b") {
        (2, rest)
    } else if let Some(rest) = lower.strip_prefix("0o") {
        (8, rest)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, &lower[1..])
    } else {
        (10, lower.as_str())
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    let magnitude = u128::from_str_radix(digits, radix).ok()?;
    let value = if negative {
        -i128::try_from(magnitude).ok()?
    } else {
        i128::try_from(magnitude).ok()?
    };
    let fits_i64 = i64::try_from(value).is_ok();
    let fits_u64 = !negative && !s.starts_with('+') && u64::try_from(value).is_ok();
    (fits_i64 || fits_u64).then_some(value)
}

/// Go's `strconv.Atoi` on a 64-bit platform.
fn go_atoi(s: &str) -> Option<i64> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<i64>().ok()
}

/// Go's `strconv.ParseFloat(s, 64)` for the forms sops writes and YAML allows.
fn go_parse_float(s: &str) -> Option<f64> {
    s.parse::<f64>().ok()
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`: shortest round-trip digits, never an exponent.
fn go_format_float(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_string()
    } else if value == f64::INFINITY {
        "+Inf".to_string()
    } else if value == f64::NEG_INFINITY {
        "-Inf".to_string()
    } else {
        format!("{value}")
    }
}

/// go-yaml v3's timestamp forms (`2006-1-2T15:4:5.999999999Z07:00`, the same with `t`, with a
/// space and no zone, and a bare date), rendered as Go's `Format(time.RFC3339Nano)`, which is what
/// sops hashes and encrypts for a `time.Time`.
fn yaml_timestamp(text: &str) -> Option<String> {
    // Quick check as go-yaml does: four digits and a dash.
    let b = text.as_bytes();
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    let number = |s: &str, min: usize, max: usize| -> Option<u32> {
        (s.len() >= min && s.len() <= max && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let (date, time) = match text.find(['T', 't', ' ']) {
        Some(at) => (&text[..at], Some((&text[at..at + 1], &text[at + 1..]))),
        None => (text, None),
    };
    let mut parts = date.split('-');
    let year = number(parts.next()?, 4, 4)?;
    let month = number(parts.next()?, 1, 2)?;
    let day = number(parts.next()?, 1, 2)?;
    if parts.next().is_some() || !(1..=12).contains(&month) || day < 1 || day > days_in(year, month)
    {
        return None;
    }
    let (hour, minute, second, fraction, zone) = match time {
        None => (0, 0, 0, String::new(), "Z".to_string()),
        Some((separator, rest)) => {
            let (clock, zone) = if separator == " " {
                (rest, "Z".to_string())
            } else if let Some(clock) = rest.strip_suffix('Z') {
                (clock, "Z".to_string())
            } else {
                let at = rest.rfind(['+', '-'])?;
                let zone = &rest[at..];
                let z = zone.as_bytes();
                let ok = z.len() == 6
                    && z[1..3].iter().all(u8::is_ascii_digit)
                    && z[3] == b':'
                    && z[4..].iter().all(u8::is_ascii_digit);
                if !ok {
                    return None;
                }
                let zone = if &zone[1..] == "00:00" {
                    "Z".to_string()
                } else {
                    zone.to_string()
                };
                (&rest[..at], zone)
            };
            let (clock, fraction) = match clock.split_once('.') {
                Some((clock, fraction)) => {
                    number(fraction, 1, 9)?;
                    (clock, go_fraction(fraction))
                }
                None => (clock, String::new()),
            };
            let mut fields = clock.split(':');
            let hour = number(fields.next()?, 1, 2)?;
            let minute = number(fields.next()?, 1, 2)?;
            let second = number(fields.next()?, 1, 2)?;
            if fields.next().is_some() || hour > 23 || minute > 59 || second > 59 {
                return None;
            }
            (hour, minute, second, fraction, zone)
        }
    };
    Some(format!(
        "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{fraction}{zone}"
    ))
}

fn days_in(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac_text(text: &str) -> Option<String> {
        match resolve_plain(text, None) {
            Resolved::Null => None,
            other => Some(String::from_utf8(other.mac_bytes()).unwrap()),
        }
    }

    #[test]
    fn plain_scalars_are_typed_like_go_yaml() {
        assert_eq!(mac_text("123").as_deref(), Some("123"));
        assert_eq!(mac_text("0123").as_deref(), Some("83"));
        assert_eq!(mac_text("08").as_deref(), Some("8"));
        assert_eq!(mac_text("0x1F").as_deref(), Some("31"));
        assert_eq!(mac_text("1_000").as_deref(), Some("1000"));
        assert_eq!(mac_text("1.10").as_deref(), Some("1.1"));
        assert_eq!(mac_text("1e3").as_deref(), Some("1000"));
        assert_eq!(mac_text("-.5").as_deref(), Some("-0.5"));
        assert_eq!(mac_text(".inf").as_deref(), Some("+Inf"));
        assert_eq!(mac_text("true").as_deref(), Some("True"));
        assert_eq!(mac_text("yes").as_deref(), Some("yes"));
        assert_eq!(mac_text("on").as_deref(), Some("on"));
        assert_eq!(mac_text("~"), None);
        assert_eq!(mac_text(""), None);
        assert_eq!(
            mac_text("2024-01-02").as_deref(),
            Some("2024-01-02T00:00:00Z")
        );
        assert_eq!(
            mac_text("2024-1-2 3:04:05").as_deref(),
            Some("2024-01-02T03:04:05Z")
        );
        assert_eq!(
            mac_text("2024-01-02T03:04:05.5+01:00").as_deref(),
            Some("2024-01-02T03:04:05.5+01:00")
        );
        assert_eq!(mac_text("2024-13-02").as_deref(), Some("2024-13-02"));
        assert_eq!(mac_text("1.2.3").as_deref(), Some("1.2.3"));
        assert_eq!(mac_text("+12").as_deref(), Some("12"));
    }

    #[test]
    fn decrypted_types_render_as_sops_does() {
        let (node, mac) = typed(ValueType::Bool, b"True").unwrap();
        assert_eq!(node.as_str(), Some("true"));
        assert_eq!(mac.as_slice(), b"True");
        let (node, mac) = typed(ValueType::Float, b"1234.56789").unwrap();
        assert_eq!(node.as_str(), Some("1234.56789"));
        assert_eq!(mac.as_slice(), b"1234.56789");
        let (node, _) = typed(ValueType::Str, &[0xff, 0x00]).unwrap();
        assert_eq!(node.tag.as_deref(), Some("!!binary"));
        assert!(typed(ValueType::Int, b"12a").is_err());
        assert!(typed(ValueType::Comment, b"x").is_err());
    }
}
