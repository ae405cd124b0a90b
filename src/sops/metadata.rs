//! The `sops:` mapping: key stanzas, the stored MAC and the rules for which values are encrypted.

use regex::Regex;

use super::SopsError;
use super::keys::AgeStanza;
use crate::yaml::Node;

/// The key source types sops can write, besides `age`.
const OTHER_KEY_TYPES: [&str; 5] = ["pgp", "kms", "gcp_kms", "azure_kv", "hc_vault"];

/// What sops writes after `sops:`, as far as decryption needs it. Holds no secret.
pub(crate) struct Metadata {
    pub(crate) age: Vec<AgeStanza>,
    /// The `sops.lastmodified` text, normalised as Go's RFC 3339 round trip does; the MAC's
    /// additional data.
    pub(crate) last_modified: String,
    /// The encrypted MAC, `ENC[...]`.
    pub(crate) mac: String,
    /// The 1-based line of `sops.mac`.
    pub(crate) mac_line: usize,
    pub(crate) rules: Rules,
    pub(crate) mac_only_encrypted: bool,
}

/// Which leaves sops encrypted: its `shouldBeEncrypted`, minus comment rules.
pub(crate) struct Rules {
    unencrypted_suffix: Option<String>,
    encrypted_suffix: Option<String>,
    unencrypted_regex: Option<Regex>,
    encrypted_regex: Option<Regex>,
}

impl Rules {
    /// Whether the leaf at `path` (map keys only, as sops builds it) is encrypted. Mirrors sops:
    /// each configured rule in turn, the later ones overriding.
    pub(crate) fn should_encrypt(&self, path: &[&str]) -> bool {
        let mut encrypted = true;
        if let Some(suffix) = &self.unencrypted_suffix
            && path.iter().any(|key| key.ends_with(suffix.as_str()))
        {
            encrypted = false;
        }
        if let Some(suffix) = &self.encrypted_suffix {
            encrypted = path.iter().any(|key| key.ends_with(suffix.as_str()));
        }
        if let Some(regex) = &self.unencrypted_regex
            && path.iter().any(|key| regex.is_match(key))
        {
            encrypted = false;
        }
        if let Some(regex) = &self.encrypted_regex {
            encrypted = path.iter().any(|key| regex.is_match(key));
        }
        encrypted
    }
}

fn invalid(reason: impl Into<String>) -> SopsError {
    SopsError::Metadata {
        reason: reason.into(),
    }
}

/// A string field; `None` when absent, null or empty.
fn text<'a>(sops: &'a Node, field: &str) -> Result<Option<&'a str>, SopsError> {
    match sops.get(field) {
        None => Ok(None),
        Some(node) if node.is_null() => Ok(None),
        Some(node) => match node.as_str() {
            Some("") => Ok(None),
            Some(text) => Ok(Some(text)),
            None => Err(invalid(format!("`{field}` must be a string"))),
        },
    }
}

/// True when a key-type field holds at least one entry.
fn has_entries(node: Option<&Node>) -> bool {
    node.and_then(Node::as_seq)
        .is_some_and(|items| !items.is_empty())
}

fn age_stanzas(list: Option<&Node>, field: &str) -> Result<Vec<AgeStanza>, SopsError> {
    let Some(list) = list.filter(|node| !node.is_null()) else {
        return Ok(Vec::new());
    };
    let items = list
        .as_seq()
        .ok_or_else(|| invalid(format!("`{field}` must be a list")))?;
    items
        .iter()
        .map(|item| {
            let recipient = item.str_at(&["recipient"]).unwrap_or("").to_string();
            let enc = item
                .str_at(&["enc"])
                .filter(|enc| !enc.is_empty())
                .ok_or_else(|| invalid(format!("an entry of `{field}` has no `enc`")))?;
            Ok(AgeStanza {
                recipient,
                enc: enc.to_string(),
            })
        })
        .collect()
}

impl Metadata {
    /// Reads the `sops:` mapping.
    pub(crate) fn parse(sops: &Node) -> Result<Metadata, SopsError> {
        if sops.as_map().is_none() {
            return Err(SopsError::NotEncrypted);
        }
        let mut age = age_stanzas(sops.get("age"), "age")?;
        let mut others: Vec<&str> = OTHER_KEY_TYPES
            .into_iter()
            .filter(|kind| has_entries(sops.get(kind)))
            .collect();
        if let Some(groups) = sops.get("key_groups").filter(|node| !node.is_null()) {
            let groups = groups
                .as_seq()
                .ok_or_else(|| invalid("`key_groups` must be a list"))?;
            if groups.len() > 1 {
                return Err(SopsError::Unsupported {
                    reason: format!(
                        "this file splits its data key over {} key groups (Shamir secret \
                         sharing); use a single key group",
                        groups.len()
                    ),
                });
            }
            for group in groups {
                age.extend(age_stanzas(group.get("age"), "key_groups[].age")?);
                others.extend(
                    OTHER_KEY_TYPES
                        .into_iter()
                        .filter(|kind| has_entries(group.get(kind))),
                );
            }
        }
        if age.is_empty() {
            others.dedup();
            let has = if others.is_empty() {
                "none".to_string()
            } else {
                others.join(", ")
            };
            return Err(SopsError::Unsupported {
                reason: format!("this file has no age recipients (it has: {has})"),
            });
        }
        for field in ["encrypted_comment_regex", "unencrypted_comment_regex"] {
            if text(sops, field)?.is_some() {
                return Err(SopsError::Unsupported {
                    reason: format!("`{field}` (comment-driven encryption) is not supported"),
                });
            }
        }
        let last_modified =
            text(sops, "lastmodified")?.ok_or_else(|| invalid("`lastmodified` is missing"))?;
        let last_modified = normalize_rfc3339(last_modified)
            .ok_or_else(|| invalid("`lastmodified` is not an RFC 3339 time"))?;
        let mac_node = sops.get("mac");
        let mac = text(sops, "mac")?
            .ok_or_else(|| invalid("`mac` is missing"))?
            .to_string();
        let regex = |field: &'static str| -> Result<Option<Regex>, SopsError> {
            text(sops, field)?
                .map(|pattern| {
                    Regex::new(pattern).map_err(|error| SopsError::Regex {
                        field,
                        reason: error.to_string(),
                    })
                })
                .transpose()
        };
        let mut rules = Rules {
            unencrypted_suffix: text(sops, "unencrypted_suffix")?.map(str::to_string),
            encrypted_suffix: text(sops, "encrypted_suffix")?.map(str::to_string),
            unencrypted_regex: regex("unencrypted_regex")?,
            encrypted_regex: regex("encrypted_regex")?,
        };
        let set = [
            rules.unencrypted_suffix.is_some(),
            rules.encrypted_suffix.is_some(),
            rules.unencrypted_regex.is_some(),
            rules.encrypted_regex.is_some(),
        ]
        .into_iter()
        .filter(|set| *set)
        .count();
        if set > 1 {
            return Err(invalid(
                "more than one of unencrypted_suffix, encrypted_suffix, unencrypted_regex and \
                 encrypted_regex is set",
            ));
        }
        if set == 0 {
            // sops' default when no rule is stored.
            rules.unencrypted_suffix = Some("_unencrypted".to_string());
        }
        let mac_only_encrypted = match sops.get("mac_only_encrypted") {
            None => false,
            Some(node) if node.is_null() => false,
            Some(node) => match node.as_str() {
                Some("true" | "True" | "TRUE") => true,
                Some("false" | "False" | "FALSE") => false,
                _ => return Err(invalid("`mac_only_encrypted` must be true or false")),
            },
        };
        Ok(Metadata {
            age,
            last_modified,
            mac,
            mac_line: mac_node.map_or(0, |node| node.line),
            rules,
            mac_only_encrypted,
        })
    }
}

/// Go's `time.Parse(time.RFC3339, s).Format(time.RFC3339)`: fractional seconds are dropped and a
/// zero offset is written `Z`. `None` when `s` is not an RFC 3339 date-time.
pub(crate) fn normalize_rfc3339(s: &str) -> Option<String> {
    normalize(s, false)
}

/// As [`normalize_rfc3339`] but formatting with `time.RFC3339Nano`: fractional seconds are kept
/// without trailing zeros.
pub(crate) fn normalize_rfc3339_nano(s: &str) -> Option<String> {
    normalize(s, true)
}

/// Go's `.999999999` fraction: trailing zeros trimmed, nothing when zero.
pub(crate) fn go_fraction(digits: &str) -> String {
    let trimmed = digits.trim_end_matches('0');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!(".{trimmed}")
    }
}

fn normalize(s: &str, keep_fraction: bool) -> Option<String> {
    let b = s.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range.clone())
            .is_some_and(|part| part.iter().all(u8::is_ascii_digit))
    };
    let shape = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !shape {
        return None;
    }
    let mut rest = &s[19..];
    let mut kept = String::new();
    if let Some(fraction) = rest.strip_prefix('.') {
        let end = fraction
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(fraction.len());
        if end == 0 || end > 9 {
            return None;
        }
        if keep_fraction {
            kept = go_fraction(&fraction[..end]);
        }
        rest = &fraction[end..];
    }
    let zone = match rest {
        "Z" => "Z".to_string(),
        _ => {
            let z = rest.as_bytes();
            let ok = z.len() == 6
                && (z[0] == b'+' || z[0] == b'-')
                && z[1..3].iter().all(u8::is_ascii_digit)
                && z[3] == b':'
                && z[4..6].iter().all(u8::is_ascii_digit);
            if !ok {
                return None;
            }
            if &rest[1..] == "00:00" {
                "Z".to_string()
            } else {
                rest.to_string()
            }
        }
    };
    Some(format!("{}{kept}{zone}", &s[..19]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_like_go() {
        assert_eq!(
            normalize_rfc3339("2023-12-25T10:31:01Z").unwrap(),
            "2023-12-25T10:31:01Z"
        );
        assert_eq!(
            normalize_rfc3339("2023-12-25T10:31:01.123Z").unwrap(),
            "2023-12-25T10:31:01Z"
        );
        assert_eq!(
            normalize_rfc3339("2023-12-25T10:31:01+00:00").unwrap(),
            "2023-12-25T10:31:01Z"
        );
        assert_eq!(
            normalize_rfc3339("2023-12-25T10:31:01.5+02:00").unwrap(),
            "2023-12-25T10:31:01+02:00"
        );
        assert_eq!(
            normalize_rfc3339_nano("2023-12-25T10:31:01.120+02:00").unwrap(),
            "2023-12-25T10:31:01.12+02:00"
        );
        assert_eq!(
            normalize_rfc3339_nano("2023-12-25T10:31:01.000Z").unwrap(),
            "2023-12-25T10:31:01Z"
        );
        assert!(normalize_rfc3339("2023-12-25 10:31:01Z").is_none());
        assert!(normalize_rfc3339("yesterday").is_none());
    }

    fn rules(field: &str, value: &str) -> Rules {
        let mut doc = Node::map([
            (
                "age",
                Node::seq([Node::map([
                    ("recipient", Node::string("r")),
                    ("enc", Node::string("e")),
                ])]),
            ),
            ("lastmodified", Node::string("2023-12-25T10:31:01Z")),
            ("mac", Node::string("ENC[]")),
        ]);
        if !field.is_empty() {
            doc.set(field, Node::string(value));
        }
        Metadata::parse(&doc)
            .map(|m| m.rules)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn default_rule_is_unencrypted_suffix() {
        let r = rules("", "");
        assert!(r.should_encrypt(&["a", "b"]));
        assert!(!r.should_encrypt(&["a_unencrypted", "b"]));
    }

    #[test]
    fn rules_follow_sops() {
        let r = rules("encrypted_regex", "^enc");
        assert!(r.should_encrypt(&["x", "enc_1", "y"]));
        assert!(!r.should_encrypt(&["x", "y"]));
        let r = rules("unencrypted_regex", "^plain");
        assert!(!r.should_encrypt(&["plain_1", "y"]));
        assert!(r.should_encrypt(&["x"]));
        let r = rules("encrypted_suffix", "_enc");
        assert!(r.should_encrypt(&["a_enc", "b"]));
        assert!(!r.should_encrypt(&["a"]));
        let r = rules("unencrypted_suffix", "_pub");
        assert!(!r.should_encrypt(&["a", "b_pub"]));
        assert!(r.should_encrypt(&["a_unencrypted"]));
    }

    #[test]
    fn reports_other_key_types() {
        let doc = Node::map([
            ("pgp", Node::seq([Node::map([("fp", Node::string("x"))])])),
            ("kms", Node::seq([Node::map([("arn", Node::string("x"))])])),
            ("age", Node::plain("null")),
            ("lastmodified", Node::string("2023-12-25T10:31:01Z")),
            ("mac", Node::string("ENC[]")),
        ]);
        let err = Metadata::parse(&doc).err().unwrap();
        assert_eq!(
            err.to_string(),
            "unsupported: this file has no age recipients (it has: pgp, kms)"
        );
    }
}
