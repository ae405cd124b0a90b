//! `.sops.yaml` creation rules: which files are encrypted, for whom, and which of their values.
//!
//! As sops reads it: the nearest `.sops.yaml` at or above the file (kubevault walks up from the
//! file, where sops walks up from the working directory; inside a vault both find the same file
//! when it sits at the vault or repository root); its `creation_rules` are tried in order and the
//! first whose `path_regex` matches the file's path relative to the `.sops.yaml` directory wins
//! (a rule without `path_regex` matches every file). A rule names age recipients as a comma list
//! or a YAML list (or in one `key_groups` entry), at most one of `encrypted_regex`,
//! `unencrypted_regex`, `encrypted_suffix`, `unencrypted_suffix`, and `mac_only_encrypted`.
//! The file holds no secret; errors name the `.sops.yaml` line.

use std::path::{Path, PathBuf};

use regex::Regex;

use crate::yaml::{Limits, Node, parse_stream};

/// The config file names sops looks for, in order.
const NAMES: [&str; 2] = [".sops.yaml", ".sops.yml"];

/// Which values of a file are encrypted: sops' four mutually exclusive selectors.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Selector {
    /// Nothing set: sops' default, `unencrypted_suffix: _unencrypted`.
    #[default]
    Default,
    /// `encrypted_regex`.
    EncryptedRegex(String),
    /// `unencrypted_regex`.
    UnencryptedRegex(String),
    /// `encrypted_suffix`.
    EncryptedSuffix(String),
    /// `unencrypted_suffix`.
    UnencryptedSuffix(String),
}

impl Selector {
    /// The `sops:` metadata field and value this selector is stored as.
    pub fn field(&self) -> (&'static str, &str) {
        match self {
            Selector::Default => ("unencrypted_suffix", "_unencrypted"),
            Selector::EncryptedRegex(v) => ("encrypted_regex", v),
            Selector::UnencryptedRegex(v) => ("unencrypted_regex", v),
            Selector::EncryptedSuffix(v) => ("encrypted_suffix", v),
            Selector::UnencryptedSuffix(v) => ("unencrypted_suffix", v),
        }
    }
}

/// One creation rule.
#[derive(Clone, Debug)]
pub struct CreationRule {
    /// 0-based position in `creation_rules`.
    pub index: usize,
    /// 1-based line of the rule in `.sops.yaml`.
    pub line: usize,
    /// `path_regex` as written, if any.
    pub path_regex: Option<String>,
    regex: Option<Regex>,
    /// The age recipients, in order, without duplicates.
    pub age: Vec<String>,
    /// Which values are encrypted.
    pub selector: Selector,
    /// `mac_only_encrypted`.
    pub mac_only_encrypted: bool,
}

impl CreationRule {
    /// Whether this rule applies to `relative` (the path relative to the `.sops.yaml`
    /// directory, `/`-separated).
    pub fn matches(&self, relative: &str) -> bool {
        self.regex
            .as_ref()
            .is_none_or(|regex| regex.is_match(relative))
    }

    /// `creation rule 2 (path_regex "...")` for messages.
    pub fn describe(&self) -> String {
        match &self.path_regex {
            Some(regex) => format!("creation rule {} (path_regex {regex:?})", self.index + 1),
            None => format!("creation rule {} (every file)", self.index + 1),
        }
    }
}

/// A parsed `.sops.yaml`.
#[derive(Clone, Debug)]
pub struct SopsConfig {
    /// Where it was read from.
    pub path: PathBuf,
    /// Its directory: `path_regex` is matched against paths relative to it.
    pub dir: PathBuf,
    /// The creation rules, in order.
    pub rules: Vec<CreationRule>,
}

/// A `.sops.yaml` problem: the file, the line and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The `.sops.yaml` path.
    pub path: PathBuf,
    /// 1-based line, 0 when unknown.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.path.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl SopsConfig {
    /// The `.sops.yaml` nearest to `file` (at or above its directory), if any.
    pub fn find(file: &Path) -> Result<Option<SopsConfig>, ConfigError> {
        let mut dir = file.parent();
        while let Some(here) = dir {
            for name in NAMES {
                let candidate = here.join(name);
                // Only a regular file counts; a symlink to one is followed, as sops does.
                if candidate.is_file() {
                    return SopsConfig::read(&candidate).map(Some);
                }
            }
            dir = here.parent();
        }
        Ok(None)
    }

    /// Reads and parses one `.sops.yaml`.
    pub fn read(path: &Path) -> Result<SopsConfig, ConfigError> {
        let error = |line: usize, message: String| ConfigError {
            path: path.to_path_buf(),
            line,
            message,
        };
        // A regular file only, never blocking (a FIFO committed as `.sops.yaml`), at most 1 MiB.
        let limit = crate::limits::MAX_FILE_BYTES as u64;
        let bytes = crate::safe_read::read_regular(path, limit).map_err(|why| {
            error(
                0,
                if why.starts_with("larger than") {
                    "larger than 1 MiB".into()
                } else {
                    why
                },
            )
        })?;
        let text = String::from_utf8(bytes.to_vec()).map_err(|_| error(0, "not UTF-8".into()))?;
        SopsConfig::parse(&text, path)
    }

    /// Parses `.sops.yaml` text read from `path`.
    pub fn parse(text: &str, path: &Path) -> Result<SopsConfig, ConfigError> {
        let error = |line: usize, message: String| ConfigError {
            path: path.to_path_buf(),
            line,
            message,
        };
        let docs = parse_stream(text, &Limits::default())
            .map_err(|e| error(e.line, format!("invalid YAML: {}", e.message)))?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut rules = Vec::new();
        let Some(doc) = docs.into_iter().find(|d| !d.is_null()) else {
            return Ok(SopsConfig {
                path: path.to_path_buf(),
                dir,
                rules,
            });
        };
        if doc.as_map().is_none() {
            return Err(error(doc.line, "not a mapping".into()));
        }
        if let Some(list) = doc.get("creation_rules").filter(|n| !n.is_null()) {
            let items = list
                .as_seq()
                .ok_or_else(|| error(list.line, "`creation_rules` must be a list".into()))?;
            for (index, item) in items.iter().enumerate() {
                rules.push(parse_rule(index, item).map_err(|(line, m)| error(line, m))?);
            }
        }
        Ok(SopsConfig {
            path: path.to_path_buf(),
            dir,
            rules,
        })
    }

    /// `file` relative to this config's directory, `/`-separated (`None` when outside it).
    pub fn relative(&self, file: &Path) -> Option<String> {
        let rel = file.strip_prefix(&self.dir).ok()?;
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        Some(parts.join("/"))
    }

    /// The first rule that applies to `file`.
    pub fn rule_for(&self, file: &Path) -> Option<&CreationRule> {
        let relative = self.relative(file)?;
        self.rules.iter().find(|rule| rule.matches(&relative))
    }
}

type RuleError = (usize, String);

fn parse_rule(index: usize, item: &Node) -> Result<CreationRule, RuleError> {
    let line = item.line;
    let at = |node: &Node, message: String| (node.line.max(line), message);
    if item.as_map().is_none() {
        return Err((
            line,
            format!("creation rule {} is not a mapping", index + 1),
        ));
    }
    let text = |field: &str| -> Result<Option<String>, RuleError> {
        match item.get(field) {
            None => Ok(None),
            Some(node) if node.is_null() => Ok(None),
            Some(node) => match node.as_str() {
                Some("") => Ok(None),
                Some(text) => Ok(Some(text.to_string())),
                None => Err(at(node, format!("`{field}` must be a string"))),
            },
        }
    };
    for field in ["encrypted_comment_regex", "unencrypted_comment_regex"] {
        if text(field)?.is_some() {
            return Err((
                line,
                format!("`{field}` (comment-driven encryption) is not supported by kubevault"),
            ));
        }
    }
    let path_regex = text("path_regex")?;
    let regex = path_regex
        .as_deref()
        .map(|pattern| {
            Regex::new(pattern).map_err(|e| (line, format!("`path_regex` does not compile: {e}")))
        })
        .transpose()?;
    if text("filename_regex")?.is_some() && path_regex.is_none() {
        return Err((
            line,
            "`filename_regex` is not supported; use `path_regex`".into(),
        ));
    }
    let mut age = Vec::new();
    let add = |node: &Node, age: &mut Vec<String>| -> Result<(), RuleError> {
        let mut push = |text: &str| -> Result<(), RuleError> {
            for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                let recipient = super::seal::check_recipient(part).map_err(|m| at(node, m))?;
                if !age.contains(&recipient) {
                    age.push(recipient);
                }
            }
            Ok(())
        };
        if node.is_null() {
            return Ok(());
        }
        if let Some(items) = node.as_seq() {
            for entry in items {
                match entry.as_str() {
                    Some(text) => push(text)?,
                    None => return Err(at(entry, "an `age` entry must be a string".into())),
                }
            }
            return Ok(());
        }
        match node.as_str() {
            Some(text) => push(text),
            None => Err(at(node, "`age` must be a string or a list".into())),
        }
    };
    if let Some(node) = item.get("age") {
        add(node, &mut age)?;
    }
    if let Some(groups) = item.get("key_groups").filter(|n| !n.is_null()) {
        let groups = groups
            .as_seq()
            .ok_or_else(|| at(groups, "`key_groups` must be a list".into()))?;
        if groups.len() > 1 {
            return Err((
                line,
                "several `key_groups` (Shamir secret sharing) are not supported; use one".into(),
            ));
        }
        for group in groups {
            if let Some(node) = group.get("age") {
                add(node, &mut age)?;
            }
        }
    }
    let mut selectors = Vec::new();
    for (field, make) in [
        (
            "encrypted_regex",
            Selector::EncryptedRegex as fn(String) -> Selector,
        ),
        ("unencrypted_regex", Selector::UnencryptedRegex),
        ("encrypted_suffix", Selector::EncryptedSuffix),
        ("unencrypted_suffix", Selector::UnencryptedSuffix),
    ] {
        if let Some(value) = text(field)? {
            if field.ends_with("regex") {
                Regex::new(&value)
                    .map_err(|e| (line, format!("`{field}` does not compile: {e}")))?;
            }
            selectors.push((field, make(value)));
        }
    }
    if selectors.len() > 1 {
        let names: Vec<&str> = selectors.iter().map(|(f, _)| *f).collect();
        return Err((
            line,
            format!(
                "only one of encrypted_regex, unencrypted_regex, encrypted_suffix and \
                 unencrypted_suffix may be set (this rule sets {})",
                names.join(", ")
            ),
        ));
    }
    let mac_only_encrypted = match item.get("mac_only_encrypted") {
        None => false,
        Some(node) if node.is_null() => false,
        Some(node) => match node.as_str() {
            Some("true" | "True" | "TRUE") => true,
            Some("false" | "False" | "FALSE") => false,
            _ => {
                return Err(at(
                    node,
                    "`mac_only_encrypted` must be true or false".into(),
                ));
            }
        },
    };
    Ok(CreationRule {
        index,
        line,
        path_regex,
        regex,
        age,
        selector: selectors.pop().map(|(_, s)| s).unwrap_or_default(),
        mac_only_encrypted,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "age107ncls0xg0d54fztfk62cjw9t9yxd50lfjwepfugu5vtzeeuyv0qyucyl8";
    const B: &str = "age1wclmxduph0q9kgqz29drhng4xta7dgequsw4jl9nu2ta209jafzspyh4d0";

    fn parse(text: &str) -> Result<SopsConfig, ConfigError> {
        SopsConfig::parse(text, Path::new("/repo/.sops.yaml"))
    }

    #[test]
    fn first_matching_rule_wins_relative_to_the_config() {
        let config = parse(&format!(
            "creation_rules:\n  - path_regex: ^vault/kvstore/prod/\n    age: {A}\n    \
             encrypted_regex: ^pass\n  - age: [{A}, {B}]\n    mac_only_encrypted: true\n"
        ))
        .unwrap();
        let prod = config
            .rule_for(Path::new("/repo/vault/kvstore/prod/db.yaml"))
            .unwrap();
        assert_eq!(prod.index, 0);
        assert_eq!(prod.selector, Selector::EncryptedRegex("^pass".into()));
        let other = config
            .rule_for(Path::new("/repo/vault/kvstore/dev/db.yaml"))
            .unwrap();
        assert_eq!(other.age, [A, B]);
        assert!(other.mac_only_encrypted);
        assert_eq!(other.selector, Selector::Default);
        assert!(config.rule_for(Path::new("/elsewhere/x.yaml")).is_none());
    }

    #[test]
    fn comma_lists_and_key_groups() {
        let config = parse(&format!(
            "creation_rules:\n  - age: \"{A}, {B},{A}\"\n  - key_groups:\n      - age:\n          - {B}\n"
        ))
        .unwrap();
        assert_eq!(config.rules[0].age, [A, B]);
        assert_eq!(config.rules[1].age, [B]);
    }

    #[test]
    fn errors_name_the_line() {
        let err = parse("creation_rules:\n  - age: age1nope\n").unwrap_err();
        assert_eq!(err.line, 2, "{err}");
        let err = parse(&format!(
            "creation_rules:\n  - age: {A}\n    encrypted_regex: a\n    unencrypted_suffix: b\n"
        ))
        .unwrap_err();
        assert!(err.message.contains("only one"), "{err}");
        assert!(parse("creation_rules:\n  - path_regex: '('\n").is_err());
    }
}
