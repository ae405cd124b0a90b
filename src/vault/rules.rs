//! Access-control files: one glob rule per line, `!` denies, the last matching rule wins.
//! An allow rule matches the identity as written; a deny rule also matches every other
//! spelling of the same Secret name ([`super::spelling`]), since a Role grants names.

use glob_match::glob_match;

use super::names::secret_name;
use super::spelling::SpelledGlob;
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
    /// True when the pattern matches the identity (case-sensitive glob) or, for a deny rule,
    /// any other spelling of the identity's Secret name (`!prod/**` denies `Prod/db` and
    /// `prod_db`, which are Secret `prod-db` too).
    pub fn matches(&self, identity: &str) -> bool {
        glob_match(&self.pattern, identity)
            || (!self.allow && SpelledGlob::new(&self.pattern).matches(&secret_name(identity)))
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
        let checked = check_spelling(trimmed, allow, pattern).and_then(|()| check_pattern(pattern));
        match checked {
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

/// Characters that look like `!` but are not: a rule starting with one would silently allow.
const BANG_LOOKALIKES: [char; 5] = ['\u{FF01}', '\u{01C3}', '\u{FE57}', '\u{2757}', '\u{203C}'];

/// True for characters that show nothing (or move text) on screen: Unicode format characters
/// (zero-width spaces and joiners, bidi controls, the BOM, soft hyphen, ...) and whitespace other
/// than the ASCII space. A rule holding one reads differently from what it matches.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}'
        | '\u{FFF0}'..='\u{FFFB}' | '\u{E0000}'..='\u{E007F}')
        || (c.is_whitespace() && c != ' ')
}

/// Spellings that fail open: a space after `!`, invisible characters, a `!` look-alike.
fn check_spelling(line: &str, allow: bool, pattern: &str) -> Result<(), String> {
    if let Some(c) = line.chars().find(|c| is_invisible(*c)) {
        return Err(format!(
            "rule contains the invisible character U+{:04X}; retype the rule without it (as \
             written it matches something else than it shows, and a deny would not deny)",
            c as u32
        ));
    }
    if let Some(c) = line.chars().next().filter(|c| BANG_LOOKALIKES.contains(c)) {
        return Err(format!(
            "rule starts with U+{:04X}, which looks like `!` but is not: write the ASCII `!` to \
             deny",
            c as u32
        ));
    }
    if !allow && pattern.starts_with(char::is_whitespace) {
        return Err(format!(
            "`! {}` has a space after `!`, so it denies nothing: write `!{}`",
            pattern.trim_start(),
            pattern.trim_start()
        ));
    }
    Ok(())
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
    // Per open `{`: whether its current alternative is still empty, and where it started.
    let mut alternatives: Vec<(bool, usize)> = Vec::new();
    let mut chars = pattern.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if !in_class && !matches!(c, ',' | '}') {
            for alternative in alternatives.iter_mut() {
                alternative.0 = false;
            }
        }
        match c {
            '\\' => {
                chars.next();
            }
            '[' if !in_class => {
                in_class = true;
                if let Some((_, '!' | '^')) = chars.peek() {
                    return Err(format!(
                        "pattern `{pattern}` has a negated class `[{}...]`, which in glob-match \
                         also matches `/` and so crosses folders: list the characters it may \
                         match instead (e.g. `[b-z]` for `[!a]`)",
                        chars.peek().map_or('!', |(_, c)| *c)
                    ));
                }
            }
            ']' if in_class => in_class = false,
            '{' if !in_class => {
                alternatives.push((true, at));
                braces += 1;
                groups += 1;
            }
            ',' | '}' if !in_class && alternatives.last().is_some_and(|a| a.0) => {
                let start = alternatives.last().map_or(0, |a| a.1);
                return Err(empty_alternative(pattern, start));
            }
            ',' if !in_class => {
                if let Some(last) = alternatives.last_mut() {
                    last.0 = true;
                }
            }
            ']' => return Err(format!("pattern `{pattern}` has a `]` without `[`")),
            '}' if !in_class => {
                if braces == 0 {
                    return Err(format!("pattern `{pattern}` has a `}}` without `{{`"));
                }
                braces -= 1;
                alternatives.pop();
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

/// The message for a `{...}` group with an empty alternative (glob-match never matches it, so
/// `!prod/db{,/**}` does not deny `prod/db`): the rules to write instead, one per alternative.
fn empty_alternative(pattern: &str, start: usize) -> String {
    let mut depth = 0usize;
    let mut end = None;
    let mut escaped = false;
    for (at, c) in pattern[start..].char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    end = Some(start + at);
                    break;
                }
            }
            _ => {}
        }
    }
    let hint = end
        .map(|end| {
            // Top-level alternatives of the group (nested groups kept whole).
            let (mut parts, mut depth, mut from) = (Vec::new(), 0usize, start + 1);
            for (at, c) in pattern[start + 1..end].char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        parts.push(&pattern[from..start + 1 + at]);
                        from = start + 2 + at;
                    }
                    _ => {}
                }
            }
            parts.push(&pattern[from..end]);
            let rules: Vec<String> = parts
                .iter()
                .map(|part| format!("`{}{part}{}`", &pattern[..start], &pattern[end + 1..]))
                .collect();
            format!(
                ": write one rule per alternative instead ({}, each with the same `!` if \
                     it denies)",
                rules.join(" and ")
            )
        })
        .unwrap_or_default();
    format!(
        "pattern `{pattern}` has an empty alternative in `{{...}}`, which glob-match never \
         matches{hint}"
    )
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
            // A deny matches every spelling of the Secret name; an allow only what it says.
            ("**\n!prod/**", "Prod/db", false),
            ("**\n!prod/**", "PROD/DB", false),
            ("**\n!prod/**", "prod_db", false),
            ("**\n!prod/**", "prod.db", false),
            ("**\n!prod/**", "prod-db", false),
            ("**\n!prod/**", "prod/a_b/c", false),
            ("**\n!prod/**", "production/db", true),
            ("**\n!prod/**", "prod", true),
            ("**\n!prod/db", "prod-db2", true),
            ("**\n!Prod/DB", "prod/db", false),
            ("**\n!prod/**\nprod_db", "prod_db", true),
            ("**\n!prod/**\nprod_db", "Prod/db", false),
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

    /// The README's table of glob-match surprises, as glob-match matches them.
    #[test]
    fn glob_match_surprises_as_documented() {
        let table: &[(&str, &str, bool)] = &[
            ("caf?s", "cafés", false),
            ("caf??s", "cafés", true),
            ("caf*s", "cafés", true),
            ("caf[é]s", "cafés", false),
            ("{a,ab}b", "ab", false),
            ("{ab,abb}", "ab", true),
            ("a**b", "a/b", false),
            ("a/**/b", "a/b", true),
            ("a/**", "a", false),
            ("a/**", "a/b/c", true),
            ("**/db", "db", true),
            ("[a-z]*", "Ab", false),
        ];
        for (pattern, identity, want) in table {
            let rule = Rule {
                allow: true,
                pattern: pattern.to_string(),
                line: 1,
            };
            assert_eq!(rule.matches(identity), *want, "{pattern} ~ {identity}");
        }
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
        let traps: &[(&str, &str)] = &[
            ("! prod/**", "write `!prod/**`"),
            ("!\tprod/**", "invisible character U+0009"),
            ("\u{200B}!prod/**", "invisible character U+200B"),
            ("\u{202E}!prod/**", "invisible character U+202E"),
            ("!prod/\u{200D}db", "invisible character U+200D"),
            ("\u{FF01}prod/**", "looks like `!`"),
            ("\u{01C3}prod/**", "looks like `!`"),
            ("prod/\u{00A0}db", "invisible character U+00A0"),
            (
                "!prod/db{,/**}",
                "(`prod/db` and `prod/db/**`, each with the same `!` if it denies)",
            ),
            ("a/{b,}", "(`a/b` and `a/`"),
            ("a/{b,,c}", "empty alternative"),
            ("a/{{x,},c}", "empty alternative"),
            ("a/[!a]", "negated class `[!...]`"),
            ("a/[^a]x", "negated class `[^...]`"),
        ];
        for (text, needle) in traps {
            let (rules, errors) = parse_rules(text);
            assert!(rules.is_empty(), "{text:?}");
            assert!(
                errors.len() == 1 && errors[0].message.contains(needle),
                "{text:?}: {errors:?}"
            );
        }
        for ok in [
            "a/\\[b",
            "a/\\{b",
            "a/[{]",
            "a/[}]x",
            "a/{[b],c}",
            "a/{b,c}",
            "a/[a!]",
            "caf\u{e9}/x",
            "a/\\!x",
            "a/{b,{c,d}}",
        ] {
            assert!(check_pattern(ok).is_ok(), "{ok}");
        }
    }
}
