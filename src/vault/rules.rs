//! Access-control files: one glob rule per line, `!` denies, the last matching rule wins.

use glob_match::glob_match;

use crate::limits::{MAX_RULE_BRACE_GROUPS, MAX_RULE_LINE_BYTES, MAX_RULES_PER_USER};

/// One rule of a user's access-control file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// True for an allow rule, false for `!pattern`.
    pub allow: bool,
    /// The glob, matched against secret identities.
    pub pattern: String,
    /// 1-based line in the user's file.
    pub line: usize,
}

impl Rule {
    /// True when the pattern matches the identity (case-sensitive glob).
    pub fn matches(&self, identity: &str) -> bool {
        glob_match(&self.pattern, identity)
    }
}

/// A problem on one line of an access-control file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Parses an access-control file: a leading byte-order mark dropped, trimmed lines, `#`
/// comments and blank lines skipped.
/// Returns every valid rule and every bad line (lines over
/// [`MAX_RULE_LINE_BYTES`], rules past [`MAX_RULES_PER_USER`] included).
pub fn parse_rules(text: &str) -> (Vec<Rule>, Vec<LineError>) {
    let mut rules = Vec::new();
    let mut errors = Vec::new();
    let mut count = 0usize;
    // A UTF-8 byte-order mark (some Windows editors write one) is not part of the first rule.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        count += 1;
        if count > MAX_RULES_PER_USER {
            errors.push(LineError {
                line,
                message: format!("more than {MAX_RULES_PER_USER} rules in one file"),
            });
            break;
        }
        if trimmed.len() > MAX_RULE_LINE_BYTES {
            errors.push(LineError {
                line,
                message: format!(
                    "rule is {} bytes long, more than the {MAX_RULE_LINE_BYTES}-byte limit",
                    trimmed.len()
                ),
            });
            continue;
        }
        let (allow, pattern) = match trimmed.strip_prefix('!') {
            Some(rest) => (false, rest),
            None => (true, trimmed),
        };
        match check_pattern(pattern) {
            Ok(()) => rules.push(Rule {
                allow,
                pattern: pattern.to_string(),
                line,
            }),
            Err(message) => errors.push(LineError { line, message }),
        }
    }
    (rules, errors)
}

/// Checks the syntax of one pattern (after a leading `!` was removed).
pub fn check_pattern(pattern: &str) -> Result<(), String> {
    if pattern.is_empty() {
        return Err("a bare `!` is not a rule: write `!pattern`".into());
    }
    if let Some(c) = pattern.chars().find(|c| c.is_control()) {
        return Err(format!(
            "rule contains the control character U+{:04X}",
            c as u32
        ));
    }
    if pattern.starts_with('!') {
        return Err(format!(
            "rule `!{pattern}` starts with `!!`: write one `!` to deny"
        ));
    }
    let mut braces = 0usize;
    let mut groups = 0usize;
    let mut in_class = false;
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '[' if !in_class => in_class = true,
            ']' if in_class => in_class = false,
            ']' => return Err(format!("pattern `{pattern}` has a `]` without `[`")),
            '{' if !in_class => {
                braces += 1;
                groups += 1;
            }
            '}' if !in_class => {
                if braces == 0 {
                    return Err(format!("pattern `{pattern}` has a `}}` without `{{`"));
                }
                braces -= 1;
            }
            _ => {}
        }
    }
    if in_class {
        return Err(format!("pattern `{pattern}` has an unclosed `[`"));
    }
    if braces > 0 {
        return Err(format!("pattern `{pattern}` has an unclosed `{{`"));
    }
    if groups > MAX_RULE_BRACE_GROUPS {
        return Err(format!(
            "pattern `{pattern}` has {groups} `{{...}}` groups, more than the {MAX_RULE_BRACE_GROUPS} allowed"
        ));
    }
    Ok(())
}

/// The rule that decides access to `identity`: the last one that matches, if any.
pub fn deciding_rule<'a>(rules: &'a [Rule], identity: &str) -> Option<&'a Rule> {
    rules.iter().rev().find(|r| r.matches(identity))
}

/// True when the rules let the user read `identity` (last match wins, default deny).
pub fn can_read(rules: &[Rule], identity: &str) -> bool {
    deciding_rule(rules, identity).is_some_and(|r| r.allow)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> Vec<Rule> {
        let (rules, errors) = parse_rules(text);
        assert!(errors.is_empty(), "{errors:?}");
        rules
    }

    #[test]
    fn evaluation_table() {
        // (rules, identity, readable)
        let table: &[(&str, &str, bool)] = &[
            ("app/db", "app/db", true),
            ("app/db", "app/db2", false),
            ("", "app/db", false),
            ("app/*", "app/db", true),
            ("app/*", "app/x/db", false),
            ("app/**", "app/x/db", true),
            ("**", "a/b/c", true),
            ("app/**\n!app/secret", "app/secret", false),
            ("app/**\n!app/secret", "app/db", true),
            ("!app/secret\napp/**", "app/secret", true),
            (
                "prod/**\n!prod/*/admin\nprod/team/admin",
                "prod/team/admin",
                true,
            ),
            (
                "prod/**\n!prod/*/admin\nprod/team/admin",
                "prod/other/admin",
                false,
            ),
            ("app/db[0-9]", "app/db1", true),
            ("app/db[0-9]", "app/dbx", false),
            ("app/{db,cache}", "app/cache", true),
            ("app/{db,cache}", "app/queue", false),
            ("app/d?", "app/db", true),
            ("App/DB", "app/db", false),
            ("app/db", "App/DB", false),
            ("**/tls*", "shared/certs/tls-main", true),
            ("# app/db\n", "app/db", false),
            ("  app/db  ", "app/db", true),
            ("app/db # note", "app/db", false),
            ("!app/db", "app/db", false),
        ];
        for (text, identity, want) in table {
            assert_eq!(
                can_read(&rules(text), identity),
                *want,
                "rules {text:?} on {identity}"
            );
        }
    }

    #[test]
    fn deciding_rule_is_the_last_match() {
        let r = rules("a/**\n!a/b\n# c\na/b\n");
        assert_eq!(deciding_rule(&r, "a/b").map(|r| r.line), Some(4));
        assert_eq!(deciding_rule(&r, "a/c").map(|r| r.line), Some(1));
        assert_eq!(deciding_rule(&r, "z"), None);
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_rule() {
        for text in [
            "\u{feff}app/**\n",
            "\u{feff}app/**\r\n",
            "\u{feff}\tapp/**\n",
        ] {
            let (rules, errors) = parse_rules(text);
            assert!(errors.is_empty(), "{text:?}: {errors:?}");
            assert_eq!(rules.len(), 1, "{text:?}");
            assert!(rules[0].matches("app/db"), "{text:?}");
            assert_eq!(rules[0].line, 1);
        }
        let (rules, _) = parse_rules("\u{feff}!app/db\napp/**\n");
        assert!(!rules[0].allow && rules[0].matches("app/db"));
        let (rules, _) = parse_rules("\u{feff}# comment\napp/**\n");
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].line, 2);
    }

    #[test]
    fn syntax_errors_name_the_line() {
        let table: &[(&str, usize, &str)] = &[
            ("ok\n!\n", 2, "bare `!`"),
            ("!!x", 1, "`!!`"),
            ("a/[bc", 1, "unclosed `[`"),
            ("a/b]", 1, "`]` without `[`"),
            ("a/{b,c", 1, "unclosed `{`"),
            ("\n\na/b}", 3, "`}` without `{`"),
        ];
        for (text, line, needle) in table {
            let (_, errors) = parse_rules(text);
            assert_eq!(errors.len(), 1, "{text:?}");
            assert_eq!(errors[0].line, *line, "{text:?}");
            assert!(
                errors[0].message.contains(needle),
                "{text:?}: {}",
                errors[0].message
            );
        }
        for ok in ["a/\\[b", "a/\\{b", "a/[{]", "a/[}]x", "a/{[b],c}"] {
            assert!(check_pattern(ok).is_ok(), "{ok}");
        }
    }
}
