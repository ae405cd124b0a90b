//! What YAML did to a secret file that its author probably did not mean, said with the fix.
//!
//! Two jobs, both pure and both about secret files: turning a YAML syntax error into a message
//! that names the line and the key the broken value belongs to and says the likely fix
//! ([`syntax_problem`]), and warning where YAML silently dropped text that looks like part of a
//! value: a comment or an anchor where a value was expected, a `#` that cut a value short
//! ([`warnings`]). No message ever holds document text other than a key: keys are found by
//! re-reading only the part of the file that YAML reads as complete entries, so text inside a
//! value is never taken for a key.

use crate::yaml::{Limits, Node, Style, Value, YamlError, parse_stream, parse_stream_noted};

use super::secret_file::FileProblem;

/// How many possible entry starts [`locate`] tries before giving up (each costs a parse).
const MAX_LOCATE_TRIES: usize = 8;

/// The caps secret files are parsed with.
pub(crate) fn limits() -> Limits {
    Limits {
        max_depth: crate::limits::SECRET_FILE_MAX_DEPTH,
        max_alias_expansion: crate::limits::SECRET_FILE_MAX_ALIAS_EXPANSION,
    }
}

/// Key text for a message: keys are not secret, but may hold odd characters; shown escaped.
pub(crate) fn quote_key(key: &str) -> String {
    let short: String = key.chars().take(80).collect();
    format!("{short:?}")
}

/// A YAML syntax error in a secret file as a problem: the line, the key whose value is broken
/// (when one is certain), the parser's words and the likely fix.
pub fn syntax_problem(text: &str, err: &YamlError) -> FileProblem {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let m = err.message.as_str();
    let hint = hint(m);
    let mut line = err.line;
    if m.contains("tab") {
        line = tab_line(text, err.line).unwrap_or(err.line);
    }
    let located = locate(text, line);
    // A quoted value that never closes is reported where it ends; name the line it starts on.
    if m.contains("quoted scalar")
        && let Some((at, _)) = &located
    {
        line = *at;
    }
    let hint = hint.map(|h| format!("; {h}")).unwrap_or_default();
    let message = match located {
        Some((_, key)) => format!("key {}: invalid YAML: {m}{hint}", quote_key(&key)),
        None => format!("invalid YAML: {m}{hint}"),
    };
    FileProblem { line, message }
}

/// The likely fix for a parser message, where one is known.
fn hint(m: &str) -> Option<&'static str> {
    Some(
        if m.contains("quoted scalar")
            && (m.contains("end of stream")
                || m.contains("indentation")
                || m.contains("document indicator"))
        {
            "a quoted value is not closed: add the closing quote; a value that itself starts with a \
         quote character goes in the other kind of quotes ('\"...') or in a block scalar (`key: |`)"
        } else if m.contains("unknown escape character") {
            "in double quotes `\\` starts an escape: write `\\\\` for a backslash, or use single \
         quotes, where `\\` is an ordinary character"
        } else if m.contains("mapping values are not allowed") {
            "`: ` inside a value starts a nested mapping: put the whole value in quotes \
         (`key: 'a: b'`), or use a block scalar (`key: |`)"
        } else if m.contains("must be followed by a valid YAML whitespace") {
            "after a tab a list cannot start on the same line: put the value in quotes, or start \
         the list on the next line, indented"
        } else if m.contains("tab") {
            "a tab indents this line: YAML indents with spaces only"
        } else if m.contains("block sequence entries are not allowed") {
            "a value that starts with `- ` is read as a list: put the value in quotes"
        } else if m.contains("aliases expand") {
            "aliases (`*name`) may not make a secret file larger than 1 MiB"
        } else if m.contains("unknown anchor") || m.contains("an anchor") || m.contains("an alias")
        {
            "a value that starts with `&` or `*` is read as an anchor or alias: put the value in quotes"
        } else if m.contains("nested deeper") || m.contains("recursion limit") {
            "a secret file is one flat mapping of keys to text values"
        } else if m.contains("flow") {
            "a value that starts with `{` or `[` is read as a flow collection: put the value in quotes"
        } else if m.contains("tag") || m.contains("handle") {
            "a value that starts with `!` is read as a tag: put the value in quotes"
        } else if m.contains("unexpected character") {
            "a plain value cannot start with `@`, `%` or a backquote: put the value in quotes"
        } else if m.contains("block scalar") {
            "after `|` or `>` only `-`, `+`, an indentation digit and a comment may follow on that \
         line; the text goes on the indented lines below"
        } else if m.contains("comments must be separated") {
            "`#` starts a comment only after a space; for a value holding ` #`, put it in quotes"
        } else if m.contains("simple key")
            || m.contains("expected key")
            || m.contains("expected ':'")
            || m.contains("node content")
        {
            "every entry is `key: value` starting in the first column; the lines of a multi-line \
         value are indented (check the indentation, or quote the value)"
        } else {
            return None;
        },
    )
}

/// The first line at or after `from` (1-based) whose indentation holds a tab.
fn tab_line(text: &str, from: usize) -> Option<usize> {
    text.lines()
        .enumerate()
        .skip(from.saturating_sub(1))
        .find(|(_, l)| {
            l.chars()
                .take_while(|c| *c == ' ' || *c == '\t')
                .any(|c| c == '\t')
        })
        .map(|(i, _)| i + 1)
}

/// The top-level entry that line `line` (1-based) belongs to: its first line and key. Only a
/// line that starts in column 0 right after text YAML reads as complete entries can start an
/// entry, so what is returned is a key, never text from inside a value.
fn locate(text: &str, line: usize) -> Option<(usize, String)> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let last = line.min(lines.len());
    let limits = limits();
    let mut tries = 0;
    for start in (1..=last).rev() {
        let l = lines[start - 1];
        let first = l.chars().next()?;
        if matches!(
            first,
            ' ' | '\t' | '\r' | '\n' | '#' | '-' | '%' | '.' | ',' | ']' | '}' | '?' | ':'
        ) {
            continue;
        }
        tries += 1;
        if tries > MAX_LOCATE_TRIES {
            return None;
        }
        let prefix: String = lines[..start - 1].concat();
        if !complete_entries(&prefix, &limits) {
            continue;
        }
        // The key: the shortest text up to a `:` indicator that YAML reads as a new last key.
        let cuts = l
            .char_indices()
            .filter(|&(i, c)| {
                c == ':'
                    && l[i + 1..]
                        .chars()
                        .next()
                        .is_none_or(|n| matches!(n, ' ' | '\t' | '\r' | '\n'))
            })
            .take(4);
        for (i, _) in cuts {
            let candidate = format!("{prefix}{}\n", &l[..=i]);
            let Ok(docs) = parse_stream(&candidate, &limits) else {
                continue;
            };
            if let [doc] = docs.as_slice()
                && let Some((k, _)) = doc.as_map().and_then(<[(Node, Node)]>::last)
                && k.line == start
                && let Some(key) = k.as_str()
            {
                return Some((start, key.to_string()));
            }
        }
        return None;
    }
    None
}

/// True when `text` is nothing or one block mapping, read without error.
fn complete_entries(text: &str, limits: &Limits) -> bool {
    match parse_stream(text, limits) {
        Ok(docs) => match docs.as_slice() {
            [] => true,
            [doc] => doc.as_map().is_some() || doc.is_null(),
            _ => false,
        },
        Err(_) => false,
    }
}

/// Warnings about a secret file that parsed: a comment or an anchor where a value was expected
/// (`b: #hunter2`, `a: &hunter2` give an empty value) and a value that a comment cut short
/// (`password: hunter2 #42` is `hunter2`). A `#` is taken for a cut-short value when a
/// non-blank character follows it; a comment written `# like this` after a value is not
/// warned about.
pub fn warnings(text: &str) -> Vec<FileProblem> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Most files have neither: skip the second parse.
    if !(text.contains('&') || text.contains(" #") || text.contains("\t#")) {
        return Vec::new();
    }
    let Ok((docs, notes)) = parse_stream_noted(text, &limits()) else {
        return Vec::new();
    };
    let Some(doc) = docs.iter().find(|d| !d.is_null()) else {
        return Vec::new();
    };
    let Some(entries) = doc.as_map() else {
        return Vec::new();
    };
    let lines: Vec<&str> = text.lines().collect();
    // The character after the `#` of a comment at (line, column).
    let after_hash = |(line, col): (usize, usize)| {
        lines
            .get(line.wrapping_sub(1))
            .and_then(|l| l.chars().nth(col + 1))
    };
    let mut out = Vec::new();
    for (k, v) in entries {
        let Some(key) = k.as_str() else { continue };
        let Value::Scalar { text, style } = &v.value else {
            continue;
        };
        if *style != Style::Plain || v.tag.is_some() {
            continue;
        }
        let key = quote_key(key);
        if text.is_empty() {
            if notes.anchor_without_value.iter().any(|a| a.0 == v.line) {
                out.push(FileProblem {
                    line: k.line,
                    message: format!(
                        "key {key}: the value is empty: `&` at the start of a value makes an anchor, \
                         not text; put the value in quotes if it starts with `&`"
                    ),
                });
            } else if notes.comments.iter().any(|c| c.0 == k.line) {
                out.push(FileProblem {
                    line: k.line,
                    message: format!(
                        "key {key}: the value is empty: `#` after a space starts a comment; \
                         put the value in quotes if it starts with `#`"
                    ),
                });
            }
            continue;
        }
        let Some(start) = notes
            .plain_before_comment
            .iter()
            .find(|p| p.0 == v.line)
            .copied()
        else {
            continue;
        };
        // The comment that ended the value: the first one after where the value starts.
        let comment = notes.comments.iter().copied().find(|c| *c > start);
        if comment.is_some_and(|c| after_hash(c).is_some_and(|ch| !ch.is_whitespace())) {
            out.push(FileProblem {
                line: comment.map_or(v.line, |c| c.0),
                message: format!(
                    "key {key}: `#` after a space starts a comment, so the value ends before it; \
                     put the whole value in quotes if `#` is part of it (or write the comment as `# ...`)"
                ),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::secret_file::{self, Parsed};

    /// Every value in the tables holds this; no message may.
    const SECRET: &str = "hunter2";

    fn problems(text: &str) -> Vec<FileProblem> {
        match secret_file::parse(text.as_bytes()) {
            Err(problems) => problems,
            Ok(_) => panic!("{text:?} parsed"),
        }
    }

    /// YAML mistakes in secret files: the line and key reported, and the hint.
    #[test]
    fn yaml_mistakes_and_their_hints() {
        let table: &[(&str, usize, &[&str])] = &[
            (
                "key: \"unterminated hunter2\n",
                1,
                &["key \"key\"", "not closed", "closing quote"],
            ),
            (
                "key: \"unterminated hunter2\nb: 1\n",
                1,
                &["key \"key\"", "not closed"],
            ),
            (
                "a: 1\nkey: 'hunter2\nb: 2\n",
                2,
                &["key \"key\"", "not closed"],
            ),
            (
                "a: 1\nkey: \"hunter2\n  more: x\n\n",
                2,
                &["key \"key\"", "not closed"],
            ),
            (
                "password: abc: hunter2\n",
                1,
                &["key \"password\"", "nested mapping", "in quotes"],
            ),
            (
                "a: 1\n\tb: hunter2\n",
                2,
                &["tab indents this line", "spaces only"],
            ),
            ("a: 1\nb: 2\n\t c: hunter2\n", 3, &["tab indents this line"]),
            (
                "a:\n  b: hunter2\n",
                1,
                &["key \"a\"", "value is a mapping", "flat keys", "`key: |`"],
            ),
            (
                "a:\n  - hunter2\n",
                1,
                &["key \"a\"", "value is a sequence", "block scalar"],
            ),
            (
                "pw: \"hunter2\\q\"\n",
                1,
                &["key \"pw\"", "`\\` starts an escape"],
            ),
            (
                "pw: @hunter2\n",
                1,
                &["key \"pw\"", "cannot start with `@`"],
            ),
            ("pw: `hunter2\n", 1, &["key \"pw\"", "in quotes"]),
            ("pw: *hunter2\n", 1, &["key \"pw\"", "anchor or alias"]),
            (
                "pw: !hunter2\n",
                1,
                &["key \"pw\"", "starts with `!`", "in quotes"],
            ),
            ("pw: !hunter2 x\n", 1, &["key \"pw\"", "starts with `!`"]),
            ("pw: !!hunter2 x\n", 1, &["key \"pw\"", "starts with `!`"]),
            ("pw: !<!hunter2> x\n", 1, &["key \"pw\"", "starts with `!`"]),
            (
                "pw: !<tag:hunter2> x\n",
                1,
                &["key \"pw\"", "starts with `!`"],
            ),
            (
                "%TAG !e! tag:hunter2:\n---\npw: !e!x y\n",
                3,
                &["key \"pw\"", "starts with `!`"],
            ),
            ("pw: !e!hunter2 y\n", 1, &["key \"pw\"", "starts with `!`"]),
            ("pw: - hunter2\n", 1, &["key \"pw\"", "read as a list"]),
            (
                "pw:\t- hunter2\n",
                1,
                &["key \"pw\"", "after a tab a list cannot start"],
            ),
            (
                "pw: |hunter2\n  x\n",
                1,
                &["key \"pw\"", "after `|` or `>`"],
            ),
            ("a: b\n c: hunter2\n", 2, &["key \"a\"", "in quotes"]),
            ("ok: 1\nhunter2\n", 2, &["invalid YAML"]),
        ];
        let mut failures = Vec::new();
        for (text, line, needles) in table {
            let found = problems(text);
            let p = &found[0];
            let ok = p.line == *line && needles.iter().all(|n| p.message.contains(n));
            if !ok || found.iter().any(|p| p.message.contains(SECRET)) {
                failures.push(format!("{text:?}: {found:?}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// Text that YAML drops where a value was expected: a warning naming line and key.
    #[test]
    fn dropped_text_is_warned_about() {
        let table: &[(&str, &[(usize, &str)])] = &[
            (
                "a: &hunter2\n",
                &[(1, "key \"a\": the value is empty: `&`")],
            ),
            (
                "a: &hunter2\nb: v\n",
                &[(1, "key \"a\": the value is empty: `&`")],
            ),
            (
                "b: #hunter2\n",
                &[(1, "key \"b\": the value is empty: `#`")],
            ),
            (
                "b:  # TODO hunter2\nc: 1\n",
                &[(1, "key \"b\": the value is empty")],
            ),
            (
                "password: hunter2 #42\n",
                &[(1, "key \"password\": `#` after a space")],
            ),
            (
                "x: 1\npassword: hunter2\t#42\n",
                &[(2, "key \"password\": `#` after a space")],
            ),
            (
                "password: hunter2\n  more #42\n",
                &[(2, "key \"password\": `#` after a space")],
            ),
            (
                "{a: hunter2 #42\n}\n",
                &[(1, "key \"a\": `#` after a space")],
            ),
            ("port: 5432 # the database port\n", &[]),
            ("port: 5432 #\n", &[]),
            ("a: \"hunter2\" #42\n", &[]),
            ("a: 'hunter2' #42\n", &[]),
            ("a: |\n  hunter2 #42\n", &[]),
            ("a: hunter2#42\n", &[]),
            ("a: hunter2\n# hunter2\n", &[]),
            ("a: &x hunter2\nb: *x\n", &[]),
            ("a: &x !!str\n", &[]),
            ("a:\n", &[]),
            ("# c\na: 1 # two\n", &[]),
        ];
        let mut failures = Vec::new();
        for (text, want) in table {
            let Ok((Parsed::Plain(_), got)) = secret_file::parse_with_warnings(text.as_bytes())
            else {
                failures.push(format!("{text:?} did not parse"));
                continue;
            };
            let ok = got.len() == want.len()
                && got
                    .iter()
                    .zip(want.iter())
                    .all(|(g, (line, needle))| g.line == *line && g.message.contains(needle));
            if !ok || got.iter().any(|p| p.message.contains(SECRET)) {
                failures.push(format!("{text:?}: {got:?}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}
